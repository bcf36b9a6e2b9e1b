package claims_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/claimdesk/claimdesk/internal/apperr"
	"github.com/claimdesk/claimdesk/internal/audit"
	"github.com/claimdesk/claimdesk/internal/claims"
	"github.com/claimdesk/claimdesk/internal/intake"
	"github.com/claimdesk/claimdesk/internal/lifecycle"
	"github.com/claimdesk/claimdesk/internal/store"
	"github.com/claimdesk/claimdesk/internal/testdb"
	"github.com/claimdesk/claimdesk/internal/testdb/casedb"
	"github.com/claimdesk/claimdesk/models"
)

// TestClaimantChangesAreAudited: the claimant's own changes (filing, contact correction,
// withdrawal) go through the service and each leaves one audit record, with the contact
// details before and after; a withdrawal of a closed claim is refused and leaves none.
func TestClaimantChangesAreAudited(t *testing.T) {
	for _, d := range testdb.Dialects() {
		t.Run(d, func(t *testing.T) {
			ctx := context.Background()
			st, _ := casedb.Open(t, d)
			now := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
			svc := &claims.Service{Store: st, Now: func() time.Time { return now }}
			res := submitClaim(t, svc, taxiClaim(intake.ClaimantInput{Name: "홍길동", Email: "hong@example.com"}, ""), claims.Meta{Channel: claims.ChannelWeb, IP: "203.0.113.9"})
			cl := res.Claim
			who := audit.Actor{Kind: audit.ActorClaimant, IP: "203.0.113.9"}
			if err := svc.UpdateContact(ctx, cl, "홍길동", "new@example.com", "", who); err != nil {
				t.Fatal(err)
			}
			// The trail shows what changed, masked, while the claim keeps its data.
			var contact models.AuditEvent
			st.Gorm().Where("action = ?", audit.ActionContact).Take(&contact)
			if contact.Before == nil || contact.After == nil || !strings.Contains(*contact.Before, "h***@example.com") || !strings.Contains(*contact.After, "n***@example.com") ||
				strings.Contains(*contact.Before+*contact.After, "hong@") || strings.Contains(*contact.Before+*contact.After, "홍길동") {
				t.Fatalf("contact before/after %v %v", contact.Before, contact.After)
			}
			if err := svc.Withdraw(ctx, cl, who); err != nil {
				t.Fatal(err)
			}
			if err := svc.Withdraw(ctx, cl, who); !apperr.Is(err, apperr.InvalidTransition) {
				t.Fatalf("second withdrawal: %v", err)
			}
			var evs []models.AuditEvent
			st.Gorm().Order("id").Find(&evs)
			var got []string
			for _, e := range evs {
				got = append(got, e.Action)
				// The events stay, the claimant's IP goes with the rest of the data.
				if e.EntityID != cl.Reference || e.ActorKind != audit.ActorClaimant || e.IP != "" {
					t.Errorf("event %+v", e)
				}
			}
			// A withdrawal erases the claimant's personal data, as its own audited act.
			if strings.Join(got, ",") != "submit,update_contact,withdraw,erase" {
				t.Fatalf("actions %v", got)
			}
			if *evs[1].Before != `{"erased":true}` || *evs[1].After != `{"erased":true}` {
				t.Fatalf("contact before/after after the withdrawal: %v %v", *evs[1].Before, *evs[1].After)
			}
			stored, _ := st.ClaimByReference(ctx, cl.Reference)
			ts, _ := st.ClaimTransitions(ctx, cl.ID)
			if stored.Status != "withdrawn" || len(ts) != 1 || ts[0].Reasons != "claimant_request" {
				t.Fatalf("%s %+v", stored.Status, ts)
			}
		})
	}
}

// TestWithdrawalErasesAtomically: a withdrawal and the erasure of the claim's personal data
// happen together or not at all, whatever cuts the withdrawal short (here the request's context,
// cancelled at the service's first or second reading of the clock); a retry then leaves the
// claim withdrawn and erased. A claim an earlier version left withdrawn but not erased is
// refused the retry and erased by the sweep the service runs at start (EraseWithdrawn), which
// finds nothing else to erase.
func TestWithdrawalErasesAtomically(t *testing.T) {
	for _, d := range testdb.Dialects() {
		for _, tc := range []struct {
			name     string
			cancelAt int // the reading of the clock that cancels the request (0: none)
			leftover bool
		}{
			{name: "cancelled-at-first-clock", cancelAt: 1},
			// Where the two transactions of the earlier version parted: the withdrawal now
			// reads the clock once, so nothing is cancelled and the claim must end withdrawn
			// and erased, as a whole.
			{name: "cancelled-at-second-clock", cancelAt: 2},
			{name: "left-by-earlier-version", leftover: true},
		} {
			t.Run(d+"/"+tc.name, func(t *testing.T) {
				st, _ := casedb.Open(t, d)
				now := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
				clock := func() time.Time { return now }
				svc := &claims.Service{Store: st, Now: clock}
				bg := context.Background()
				res := submitClaim(t, svc, taxiClaim(intake.ClaimantInput{Name: "홍길동", Email: "hong@example.com", Phone: "010-2345-6789"}, "비밀 사정"), claims.Meta{Channel: claims.ChannelWeb, IP: "203.0.113.9"})
				cl := res.Claim
				if err := st.AddEvidence(bg, &models.Evidence{ClaimID: cl.ID, CaseID: cl.CaseID, FileName: "r.png", ContentType: "image/png", CreatedAt: now},
					[]byte("\x89PNG"), st.DatabaseBlobs(), 10); err != nil {
					t.Fatal(err)
				}
				who := audit.Actor{Kind: audit.ActorClaimant, IP: "203.0.113.9"}

				// state is the claim as stored: its status, whether it is erased, and whether
				// any of its personal data (contact, description, evidence and its file) is left.
				state := func() (string, bool, bool) {
					t.Helper()
					got, err := st.ClaimByReference(bg, cl.Reference)
					if err != nil {
						t.Fatal(err)
					}
					var files, blobs int64
					st.Gorm().Model(&models.Evidence{}).Where("claim_id = ?", cl.ID).Count(&files)
					st.Gorm().Model(&models.EvidenceBlob{}).Count(&blobs)
					kept := got.ClaimantName != "" || got.ClaimantEmail != "" || got.ClaimantPhone != "" || got.ConsentIP != "" ||
						got.Items[0].Description != "" || files != 0 || blobs != 0
					return got.Status, got.ErasedAt != nil, kept
				}

				if tc.leftover {
					// What the two transactions of an earlier version left when the second failed.
					stored, _ := st.ClaimByReference(bg, cl.Reference)
					if err := st.TransitionClaim(bg, store.Transition{Record: &models.ClaimTransition{ClaimID: cl.ID, CaseID: cl.CaseID, FromStatus: stored.Status,
						ToStatus: lifecycle.Withdrawn, Reasons: lifecycle.ReasonClaimantRequest, ActorKind: audit.ActorClaimant, At: now}}); err != nil {
						t.Fatal(err)
					}
				} else {
					ctx, cancel := context.WithCancel(bg)
					defer cancel()
					calls := 0
					cut := &claims.Service{Store: st, Now: func() time.Time {
						if calls++; calls == tc.cancelAt {
							cancel() // the claimant's connection drops
						}
						return now
					}}
					err := cut.Withdraw(ctx, cl, who)
					status, erased, kept := state()
					switch {
					case status == lifecycle.Withdrawn && (!erased || kept):
						t.Fatalf("withdrawn but not erased (erased_at set %v, personal data left %v), err %v", erased, kept, err)
					case status != lifecycle.Withdrawn && (erased || !kept):
						t.Fatalf("%s, erased %v, data left %v: erased without the withdrawal", status, erased, kept)
					}
				}

				// The claimant tries again (the status page takes a refusal as done).
				cl, err := st.ClaimByReference(bg, cl.Reference)
				if err != nil {
					t.Fatal(err)
				}
				if err := svc.Withdraw(bg, cl, who); err != nil && !apperr.Is(err, apperr.InvalidTransition) {
					t.Fatal(err)
				}
				if status, erased, kept := state(); status != lifecycle.Withdrawn || erased == tc.leftover || kept == !tc.leftover {
					t.Fatalf("after the retry: %s, erased %v, personal data left %v", status, erased, kept)
				}
				n, err := svc.EraseWithdrawn(bg)
				if want := map[bool]int{true: 1}[tc.leftover]; err != nil || n != want {
					t.Fatalf("the sweep at start erased %d claims (%v), want %d", n, err, want)
				}
				if status, erased, kept := state(); status != lifecycle.Withdrawn || !erased || kept {
					t.Fatalf("after the sweep: %s, erased %v, personal data left %v", status, erased, kept)
				}
				var erasures int64
				st.Gorm().Model(&models.AuditEvent{}).Where("entity_id = ? AND action = ?", cl.Reference, claims.ActionErase).Count(&erasures)
				if erasures != 1 {
					t.Errorf("%d erase events, want 1", erasures)
				}
			})
		}
	}
}

// TestExpiryKeepsNewDeadline: the expiry job rejects a deficient claim whose cure deadline has
// passed, and not one that was cured, reviewed and found deficient again, with a new deadline,
// between the job's reading of its list and its rejection.
func TestExpiryKeepsNewDeadline(t *testing.T) {
	for _, d := range testdb.Dialects() {
		t.Run(d, func(t *testing.T) {
			ctx := context.Background()
			st, _ := casedb.Open(t, d)
			now := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
			svc := &claims.Service{Store: st, Now: func() time.Time { return now }}
			submit := func() *models.Claim {
				res := submitClaim(t, svc, taxiClaim(intake.ClaimantInput{Name: "홍길동", Email: "hong@example.com"}, ""), claims.Meta{Channel: claims.ChannelAPI})
				return res.Claim
			}
			lawyer := audit.Actor{Kind: audit.ActorCLI, Name: "test"}
			move := func(cl *models.Claim, req lifecycle.Request) {
				t.Helper()
				if _, err := svc.Transition(ctx, cl, req, lawyer); err != nil {
					t.Fatalf("to %s: %v", req.To, err)
				}
			}
			deficient := lifecycle.Request{To: lifecycle.Deficient, Reasons: []string{lifecycle.ReasonMissingEvidence}}
			cl, expired := submit(), submit()
			for _, c := range []*models.Claim{cl, expired} {
				move(c, lifecycle.Request{To: lifecycle.UnderReview})
				move(c, deficient)
			}
			now = now.AddDate(0, 0, lifecycle.DefaultCureDays+1) // both deadlines have passed

			calls := 0
			job := &claims.Service{Store: st, Now: func() time.Time {
				// Once the job has read its list (its first reading of the clock), cl is cured,
				// reviewed and found deficient again.
				if calls++; calls == 2 {
					move(cl, lifecycle.Request{To: lifecycle.Cured, Reasons: []string{lifecycle.ReasonDocumentsReceived}})
					move(cl, lifecycle.Request{To: lifecycle.UnderReview})
					move(cl, deficient)
				}
				return now
			}}
			n, err := job.ExpireDeficiencies(ctx)
			if err != nil {
				t.Fatal(err)
			}
			got, _ := st.ClaimByReference(ctx, cl.Reference)
			if got.Status != lifecycle.Deficient || got.CureDeadline == nil || !got.CureDeadline.After(now) {
				t.Errorf("claim with a new deadline: %s, deadline %v (now %v)", got.Status, got.CureDeadline, now)
			}
			other, _ := st.ClaimByReference(ctx, expired.Reference)
			if other.Status != lifecycle.Rejected || n != 1 {
				t.Errorf("claim past its deadline: %s; %d rejected, want 1", other.Status, n)
			}
		})
	}
}

// TestTransitionOnStaleDeadline: a change decided on a deficient claim as read is refused
// (status_changed) when the claim was cured, reviewed and found deficient again meanwhile:
// same status, a new deficiency notice. Decided on the claim as it now is, it goes through.
func TestTransitionOnStaleDeadline(t *testing.T) {
	for _, d := range testdb.Dialects() {
		t.Run(d, func(t *testing.T) {
			ctx := context.Background()
			st, _ := casedb.Open(t, d)
			now := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
			svc := &claims.Service{Store: st, Now: func() time.Time { return now }}
			res := submitClaim(t, svc, taxiClaim(intake.ClaimantInput{Name: "홍길동", Email: "hong@example.com"}, ""), claims.Meta{Channel: claims.ChannelAPI})
			lawyer := audit.Actor{Kind: audit.ActorCLI, Name: "test"}
			move := func(cl *models.Claim, req lifecycle.Request) error {
				_, err := svc.Transition(ctx, cl, req, lawyer)
				return err
			}
			deficient := lifecycle.Request{To: lifecycle.Deficient, Reasons: []string{lifecycle.ReasonMissingEvidence}}
			cured := lifecycle.Request{To: lifecycle.Cured, Reasons: []string{lifecycle.ReasonDocumentsReceived}}
			cl := res.Claim
			for _, req := range []lifecycle.Request{{To: lifecycle.UnderReview}, deficient} {
				if err := move(cl, req); err != nil {
					t.Fatal(err)
				}
			}
			stale := *cl // one lawyer's page, read now
			now = now.Add(time.Hour)
			for _, req := range []lifecycle.Request{cured, {To: lifecycle.UnderReview}, deficient} {
				if err := move(cl, req); err != nil {
					t.Fatal(err)
				}
			}
			err := move(&stale, cured)
			var e *apperr.Error
			if !errors.As(err, &e) || e.Code != apperr.InvalidTransition || e.Message != "status_changed" {
				t.Fatalf("cured on the old notice: %v, want invalid_transition status_changed", err)
			}
			fresh, err := st.ClaimByReference(ctx, cl.Reference)
			if err != nil {
				t.Fatal(err)
			}
			if fresh.Status != lifecycle.Deficient || !fresh.CureDeadline.Equal(*cl.CureDeadline) {
				t.Fatalf("after the refusal: %s, deadline %v, want deficient, %v", fresh.Status, fresh.CureDeadline, cl.CureDeadline)
			}
			if err := move(fresh, cured); err != nil {
				t.Fatalf("cured on the claim as it is: %v", err)
			}
		})
	}
}

// TestDuplicateOfExcluded: a claim is made a duplicate only of a claim that counts in the
// totals; a duplicate or withdrawn original would take both losses out of them. Two claims made
// duplicates of each other at the same moment: one of the two changes is refused.
func TestDuplicateOfExcluded(t *testing.T) {
	for _, d := range testdb.Dialects() {
		t.Run(d, func(t *testing.T) {
			ctx := context.Background()
			st, _ := casedb.Open(t, d)
			now := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
			svc := &claims.Service{Store: st, Now: func() time.Time { return now }}
			n := 0
			submitAs := func(email string) *models.Claim {
				res := submitClaim(t, svc, taxiClaim(intake.ClaimantInput{Name: "홍길동", Email: email}, ""), claims.Meta{Channel: claims.ChannelAPI})
				return res.Claim
			}
			submit := func() *models.Claim {
				n++
				return submitAs(fmt.Sprintf("hong%d@example.com", n))
			}
			lawyer := audit.Actor{Kind: audit.ActorCLI, Name: "test"}
			dupOf := func(cl, orig *models.Claim) error {
				fresh, err := st.ClaimByReference(ctx, cl.Reference)
				if err != nil {
					t.Fatal(err)
				}
				_, err = svc.Transition(ctx, fresh, lifecycle.Request{To: lifecycle.Duplicate, Reasons: []string{lifecycle.ReasonDuplicateSubmission},
					DuplicateOf: orig.Reference}, lawyer)
				return err
			}
			refused := func(err error, path string) bool {
				var e *apperr.Error
				return errors.As(err, &e) && e.Code == apperr.Invalid && len(e.Fields) == 1 && e.Fields[0].Path == path &&
					e.Fields[0].Message == "duplicate_of_excluded"
			}

			a, b := submit(), submit()
			if err := dupOf(b, a); err != nil {
				t.Fatal(err)
			}
			if err := dupOf(a, b); !refused(err, "duplicate_of") {
				t.Errorf("a duplicate of its own duplicate: %v, want duplicate_of_excluded", err)
			}
			c, dd := submitAs("same@example.com"), submitAs("same@example.com")
			if err := svc.Detect(ctx, store.Scope{CaseID: c.CaseID, ClaimIDs: []int64{c.ID, dd.ID}}); err != nil {
				t.Fatal(err)
			}
			if err := svc.Withdraw(ctx, c, audit.Actor{Kind: audit.ActorClaimant}); err != nil {
				t.Fatal(err)
			}
			if err := dupOf(dd, c); !refused(err, "duplicate_of") {
				t.Errorf("a duplicate of a withdrawn claim: %v, want duplicate_of_excluded", err)
			}
			// The pair decision keeping the withdrawn claim: the same refusal, on "keep".
			if err := svc.DecideDuplicate(ctx, dd, c, claims.DuplicateConfirmed, c.Reference, "", lawyer); !refused(err, "keep") {
				t.Errorf("a pair decided keeping a withdrawn claim: %v, want duplicate_of_excluded on keep", err)
			}

			for round := 0; round < 10; round++ {
				e, f := submit(), submit()
				errs := make(chan error, 2)
				go func() { errs <- dupOf(e, f) }()
				go func() { errs <- dupOf(f, e) }()
				e1, e2 := <-errs, <-errs
				if e1 == nil && e2 == nil {
					t.Fatalf("round %d: both made duplicates of each other", round)
				}
				for _, err := range []error{e1, e2} {
					if err != nil && !refused(err, "duplicate_of") && !apperr.Is(err, apperr.InvalidTransition) {
						t.Fatalf("round %d: %v", round, err)
					}
				}
			}
		})
	}
}
