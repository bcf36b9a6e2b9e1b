package claims_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/claimdesk/claimdesk/internal/audit"
	"github.com/claimdesk/claimdesk/internal/claims"
	"github.com/claimdesk/claimdesk/internal/intake"
	"github.com/claimdesk/claimdesk/internal/lifecycle"
	"github.com/claimdesk/claimdesk/internal/store"
	"github.com/claimdesk/claimdesk/internal/testdb"
	"github.com/claimdesk/claimdesk/internal/testdb/casedb"
	"github.com/claimdesk/claimdesk/models"
)

// TestRetentionErasesClosedClaims: once the retention period has run out after a claim was
// closed, its personal data goes; open claims and recently closed ones keep theirs.
func TestRetentionErasesClosedClaims(t *testing.T) {
	for _, d := range testdb.Dialects() {
		t.Run(d, func(t *testing.T) {
			ctx := context.Background()
			st, _ := casedb.Open(t, d)
			now := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
			svc := &claims.Service{Store: st, Now: func() time.Time { return now }}
			refs := map[string]string{}
			for _, name := range []string{"old-rejected", "old-open", "new-rejected"} {
				res := submitClaim(t, svc, taxiClaim(intake.ClaimantInput{Name: name, Email: name + "@example.com"}, "secret "+name), claims.Meta{Channel: claims.ChannelAPI})
				refs[name] = res.Claim.Reference
			}
			age := func(ref, status string, updated time.Time) {
				if err := st.Gorm().Model(&models.Claim{}).Where("reference = ?", ref).Updates(map[string]any{"status": status, "updated_at": updated}).Error; err != nil {
					t.Fatal(err)
				}
			}
			age(refs["old-rejected"], "rejected", now.AddDate(0, 0, -400))
			age(refs["old-open"], "under_review", now.AddDate(0, 0, -400))
			age(refs["new-rejected"], "rejected", now.AddDate(0, 0, -10))

			n, err := svc.EraseExpired(ctx, 365*24*time.Hour)
			if err != nil || n != 1 {
				t.Fatalf("erased %d, %v", n, err)
			}
			for name, wantErased := range map[string]bool{"old-rejected": true, "old-open": false, "new-rejected": false} {
				cl, err := st.ClaimByReference(ctx, refs[name])
				if err != nil {
					t.Fatal(err)
				}
				erased := cl.ErasedAt != nil && cl.ClaimantName == "" && cl.ClaimantEmail == "" && cl.Items[0].Description == ""
				if erased != wantErased || (!wantErased && cl.ClaimantName != name) {
					t.Errorf("%s: erased %v (%+v)", name, erased, cl)
				}
			}
			if n, _ := svc.EraseExpired(ctx, 365*24*time.Hour); n != 0 {
				t.Errorf("second sweep erased %d", n)
			}
		})
	}
}

// TestErasureClearsClaimantFromTrail: erasing a claim, at the claimant's request or by its
// withdrawal, keeps every audit event of the claim but blanks the claimant's IP on the
// claimant's own events and the masked contact details of contact changes; staff's IPs, other
// claims' events and the trail's protection against any other change stay.
func TestErasureClearsClaimantFromTrail(t *testing.T) {
	const claimantIP, otherIP, staffIP, adminIP = "198.51.100.23", "198.51.100.99", "192.0.2.50", "192.0.2.60"
	staffID, adminID := int64(7), int64(8)
	staff := audit.Actor{Kind: audit.ActorUser, ID: &staffID, Name: "lawyer@example.org", Role: "lawyer", IP: staffIP}
	claimant := audit.Actor{Kind: audit.ActorClaimant, IP: claimantIP}
	for _, d := range testdb.Dialects() {
		for _, how := range []string{claims.EraseRequested, claims.EraseWithdrawal} {
			t.Run(d+"/"+how, func(t *testing.T) {
				ctx := context.Background()
				st, _ := casedb.Open(t, d)
				now := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
				svc := &claims.Service{Store: st, Now: func() time.Time { return now }}
				submit := func(name, ip string) *models.Claim {
					res := submitClaim(t, svc, taxiClaim(intake.ClaimantInput{Name: name, Email: name + "@example.com", Phone: "010-2345-6789"}, ""), claims.Meta{Channel: claims.ChannelWeb, IP: ip})
					return res.Claim
				}
				cl, other := submit("hong", claimantIP), submit("kim", otherIP)
				if err := svc.UpdateContact(ctx, cl, "hong gildong", "gildong@example.com", "010-9876-5432", claimant); err != nil {
					t.Fatal(err)
				}
				ev := &models.Evidence{ClaimID: cl.ID, CaseID: cl.CaseID, FileName: "receipt.png", ContentType: "image/png", UploadedIP: claimantIP, CreatedAt: now}
				err := st.AddEvidenceAudited(ctx, ev, []byte("\x89PNG"), st.DatabaseBlobs(), 10, func(e *models.Evidence) (*models.AuditEvent, error) {
					return audit.Event{Actor: claimant, CaseID: &cl.CaseID, Action: "add_evidence", Entity: audit.EntityClaim, EntityID: cl.Reference,
						Details: map[string]any{"evidence_id": e.ID}}.Model(now)
				})
				if err != nil {
					t.Fatal(err)
				}
				if _, err := svc.Transition(ctx, cl, lifecycle.Request{To: lifecycle.UnderReview}, staff); err != nil {
					t.Fatal(err)
				}
				want := "submit,update_contact,add_evidence,transition,erase"
				if how == claims.EraseRequested {
					admin := audit.Actor{Kind: audit.ActorToken, ID: &adminID, Name: "admin", Role: "admin", IP: adminIP}
					if erased, err := svc.Erase(ctx, cl, admin, claims.EraseRequested); err != nil || !erased {
						t.Fatalf("erase: %v %v", erased, err)
					}
				} else {
					if err := svc.Withdraw(ctx, cl, claimant); err != nil {
						t.Fatal(err)
					}
					want = "submit,update_contact,add_evidence,transition,withdraw,erase"
				}

				trail := func(ref string) []models.AuditEvent {
					var evs []models.AuditEvent
					if err := st.Gorm().Where("entity = 'claim' AND entity_id = ?", ref).Order("id").Find(&evs).Error; err != nil {
						t.Fatal(err)
					}
					return evs
				}
				var actions []string
				for _, e := range trail(cl.Reference) {
					actions = append(actions, e.Action)
					wantIP := ""
					switch e.ActorKind {
					case audit.ActorUser:
						wantIP = staffIP
					case audit.ActorToken:
						wantIP = adminIP
					}
					if e.IP != wantIP {
						t.Errorf("%s by %s: ip %q, want %q", e.Action, e.ActorKind, e.IP, wantIP)
					}
					text := fmt.Sprint(deref(e.Before), deref(e.After), e.Details, e.IP)
					for _, personal := range []string{claimantIP, "example.com", "5432", "6789", "h***", "hong"} {
						if strings.Contains(text, personal) {
							t.Errorf("%s keeps %q: %s", e.Action, personal, text)
						}
					}
					if e.Action == audit.ActionContact && (deref(e.Before) != `{"erased":true}` || deref(e.After) != `{"erased":true}`) {
						t.Errorf("contact change after erasure: %s -> %s", deref(e.Before), deref(e.After))
					}
				}
				if got := strings.Join(actions, ","); got != want {
					t.Errorf("events %s, want %s (the events themselves stay)", got, want)
				}
				if evs := trail(other.Reference); len(evs) != 1 || evs[0].IP != otherIP {
					t.Errorf("another claim's trail changed: %+v", evs)
				}

				// The trail stays append-only for everything else.
				db := st.Gorm()
				for name, q := range map[string]string{
					"an IP of a claim not erased": "UPDATE audit_events SET ip = '' WHERE entity_id = '" + other.Reference + "'",
					"staff's IP":                  "UPDATE audit_events SET ip = '' WHERE ip = '" + staffIP + "'",
					"an actor":                    "UPDATE audit_events SET actor_name = 'x' WHERE entity_id = '" + cl.Reference + "'",
					"a transition's after":        "UPDATE audit_events SET after = '{}' WHERE action = 'transition'",
					"a delete":                    "DELETE FROM audit_events WHERE entity_id = '" + cl.Reference + "'",
				} {
					if err := db.Exec(q).Error; err == nil {
						t.Errorf("the trail accepted %s", name)
					}
				}
			})
		}
	}
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// TestWithdrawalAfterErasureKeepsNoIP: a claimant still signed in after an admin erased the
// claim withdraws it: the withdrawal is recorded, without the IP the erasure removed.
func TestWithdrawalAfterErasureKeepsNoIP(t *testing.T) {
	const claimantIP = "198.51.100.23"
	for _, d := range testdb.Dialects() {
		t.Run(d, func(t *testing.T) {
			ctx := context.Background()
			st, _ := casedb.Open(t, d)
			now := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
			svc := &claims.Service{Store: st, Now: func() time.Time { return now }}
			res := submitClaim(t, svc, taxiClaim(intake.ClaimantInput{Name: "hong", Email: "hong@example.com"}, ""), claims.Meta{Channel: claims.ChannelWeb, IP: claimantIP})
			if erased, err := svc.Erase(ctx, res.Claim, audit.Actor{Kind: audit.ActorSystem, Name: "admin"}, claims.EraseRequested); err != nil || !erased {
				t.Fatalf("erase: %v %v", erased, err)
			}
			if err := svc.Withdraw(ctx, res.Claim, audit.Actor{Kind: audit.ActorClaimant, IP: claimantIP}); err != nil {
				t.Fatal(err)
			}
			var evs []models.AuditEvent
			if err := st.Gorm().Where("entity = 'claim' AND entity_id = ?", res.Claim.Reference).Order("id").Find(&evs).Error; err != nil {
				t.Fatal(err)
			}
			var actions []string
			for _, e := range evs {
				actions = append(actions, e.Action)
				if e.IP == claimantIP {
					t.Errorf("%s keeps the claimant's IP", e.Action)
				}
			}
			if !slices.Contains(actions, "withdraw") {
				t.Errorf("trail %v has no withdrawal", actions)
			}
		})
	}
}

// TestErasureExpiresExportFiles: finished background exports of the case made before an
// erasure may hold the erased data: they become expired (answered as any expired export) and
// their files go. An export still being made, and one made after the erasure, are not touched:
// expiring those broke every export of the case at each withdrawal.
func TestErasureExpiresExportFiles(t *testing.T) {
	for _, d := range testdb.Dialects() {
		t.Run(d, func(t *testing.T) {
			ctx := context.Background()
			st, cs := casedb.Open(t, d)
			now := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
			svc := &claims.Service{Store: st, Now: func() time.Time { return now }}
			res := submitClaim(t, svc, taxiClaim(intake.ClaimantInput{Name: "hong", Email: "hong@example.com"}, ""), claims.Meta{Channel: claims.ChannelAPI})
			export := func(created time.Time, finish bool) *models.Export {
				e := &models.Export{CaseID: cs.ID, CreatedBy: "lawyer", Entity: "plaintiffs", Format: "csv", CreatedAt: created, ExpiresAt: created.Add(24 * time.Hour)}
				if err := st.CreateExport(ctx, e); err != nil {
					t.Fatal(err)
				}
				run, err := st.StartExport(ctx, e.ID, created)
				if err != nil {
					t.Fatal(err)
				}
				if err := run.AddChunk(ctx, 0, []byte("hong,hong@example.com\n")); err != nil {
					t.Fatal(err)
				}
				if finish {
					if err := run.Finish(ctx, 1, 22, created); err != nil {
						t.Fatal(err)
					}
				}
				return e
			}
			done := export(now.Add(-time.Hour), true)       // finished before the erasure
			running := export(now.Add(-time.Minute), false) // still being written
			later := export(now.Add(time.Minute), true)     // asked for after the erasure

			if erased, err := svc.Erase(ctx, res.Claim, audit.Actor{Kind: audit.ActorSystem, Name: "test"}, claims.EraseRequested); err != nil || !erased {
				t.Fatalf("erase: %v %v", erased, err)
			}
			chunks := func(id int64) int64 {
				var n int64
				if err := st.Gorm().Model(&models.ExportChunk{}).Where("export_id = ?", id).Count(&n).Error; err != nil {
					t.Fatal(err)
				}
				return n
			}
			got, err := st.Export(ctx, done.ID)
			if err != nil {
				t.Fatal(err)
			}
			// The API's test of expiry (loadExport): expires_at not after now.
			if got.ExpiresAt.After(now) || chunks(done.ID) != 0 {
				t.Errorf("finished export made before the erasure: expires %v, %d chunks left", got.ExpiresAt, chunks(done.ID))
			}
			for name, e := range map[string]*models.Export{"running": running, "later": later} {
				got, err := st.Export(ctx, e.ID)
				if err != nil || !got.ExpiresAt.Equal(e.ExpiresAt) || chunks(e.ID) != 1 {
					t.Errorf("%s export: %+v, %d chunks, %v", name, got, chunks(e.ID), err)
				}
			}
			// And the cleanup of expired exports removes it as any other.
			if n, err := st.DeleteExpiredExports(ctx, now.Add(time.Second)); err != nil || n != 1 {
				t.Errorf("expired exports removed: %d, %v", n, err)
			}
		})
	}
}

// TestRetentionClearsRejectedRows: the rows an import rejected are kept as sent (name, email,
// phone) for the import's report, until the retention period has run out after the import
// ended; then the row as sent goes, where and why it was rejected stays.
func TestRetentionClearsRejectedRows(t *testing.T) {
	for _, d := range testdb.Dialects() {
		t.Run(d, func(t *testing.T) {
			ctx := context.Background()
			st, cs := casedb.Open(t, d)
			now := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
			svc := &claims.Service{Store: st, Now: func() time.Time { return now }}
			const raw = "홍길동,hong@example.com,010-2345-6789"
			rejected := func(finished time.Time) int64 {
				imp := &models.Import{CaseID: cs.ID, Format: "csv", Attestation: "test", CreatedAt: finished.Add(-time.Minute)}
				if err := st.CreateImport(ctx, imp); err != nil {
					t.Fatal(err)
				}
				if err := st.Gorm().Model(imp).Updates(map[string]any{"status": store.ImportSucceeded, "finished_at": finished}).Error; err != nil {
					t.Fatal(err)
				}
				if err := st.Gorm().Create(&models.ImportError{ImportID: imp.ID, ErrorRow: 2, ErrorColumn: "email", ErrorCode: "invalid_format", MessageKey: "email_invalid", Raw: raw}).Error; err != nil {
					t.Fatal(err)
				}
				return imp.ID
			}
			old, recent := rejected(now.AddDate(0, 0, -400)), rejected(now.AddDate(0, 0, -10))
			if _, err := svc.EraseExpired(ctx, 365*24*time.Hour); err != nil {
				t.Fatal(err)
			}
			rows := func(id int64) []models.ImportError {
				var out []models.ImportError
				if err := st.EachImportError(ctx, id, func(e *models.ImportError) error { out = append(out, *e); return nil }); err != nil {
					t.Fatal(err)
				}
				return out
			}
			if got := rows(old); len(got) != 1 || got[0].Raw != "" || got[0].ErrorRow != 2 || got[0].ErrorColumn != "email" || got[0].ErrorCode != "invalid_format" {
				t.Errorf("rejected row of an import past retention: %+v", got)
			}
			if got := rows(recent); len(got) != 1 || got[0].Raw != raw {
				t.Errorf("rejected row of a recent import: %+v", got)
			}
		})
	}
}
