package store_test

import (
	"bytes"
	"context"
	"sync"
	"testing"
	"time"

	"github.com/claimdesk/claimdesk/internal/apperr"
	"github.com/claimdesk/claimdesk/internal/store"
	"github.com/claimdesk/claimdesk/internal/testdb"
	"github.com/claimdesk/claimdesk/internal/testdb/casedb"
	"github.com/claimdesk/claimdesk/models"
)

// newClaim stores a bare claim of the seeded case.
func newClaim(t *testing.T, st *store.Store, ref string) *models.Claim {
	t.Helper()
	cs := seededCase(t, st)
	now := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	c := &models.Claim{CaseID: cs.ID, Reference: ref, AccessCodeHash: []byte{1}, ContentHash: ref, Status: "received", Channel: "web",
		ClaimantName: "김", ClaimantLocale: "ko", ConsentAt: now, ConsentVersion: "v", SubmittedAt: now, UpdatedAt: now}
	if err := st.Gorm().Create(c).Error; err != nil {
		t.Fatal(err)
	}
	return c
}

func TestEvidence(t *testing.T) {
	for _, d := range testdb.Dialects() {
		t.Run(d, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			st := casedb.Migrated(t, d)
			c := newClaim(t, st, "CD-AAAA-BBBB-CCCC")
			for name, blobs := range map[string]store.Blobs{"database": st.DatabaseBlobs(), "disk": store.DiskBlobs{Dir: t.TempDir()}} {
				t.Run(name, func(t *testing.T) {
					content := []byte("%PDF-1.4 receipt " + name)
					e := &models.Evidence{ClaimID: c.ID, CaseID: c.CaseID, FileName: "r.pdf", ContentType: "application/pdf", SHA256: "x"}
					if err := st.AddEvidence(ctx, e, content, blobs, 100); err != nil {
						t.Fatal(err)
					}
					got, err := st.Evidence(ctx, c.ID, e.ID)
					if err != nil || got.SizeBytes != int64(len(content)) || got.StorageKey != e.StorageKey {
						t.Fatalf("%+v %v", got, err)
					}
					b, err := blobs.Get(ctx, e.StorageKey)
					if err != nil || !bytes.Equal(b, content) {
						t.Fatalf("blob %q %v", b, err)
					}
					if _, err := st.Evidence(ctx, c.ID+1, e.ID); !apperr.Is(err, apperr.NotFound) {
						t.Fatalf("another claim's file: %v", err)
					}
				})
			}

			// The limit holds when uploads race: exactly max succeed.
			c2 := newClaim(t, st, "CD-DDDD-EEEE-FFFF")
			const max = 3
			var wg sync.WaitGroup
			errs := make(chan error, 8)
			for range 8 {
				wg.Go(func() {
					errs <- st.AddEvidence(ctx, &models.Evidence{ClaimID: c2.ID, CaseID: c2.CaseID, ContentType: "image/png", SHA256: "x"}, []byte("\x89PNG"), st.DatabaseBlobs(), max)
				})
			}
			wg.Wait()
			close(errs)
			ok := 0
			for err := range errs {
				switch {
				case err == nil:
					ok++
				case !apperr.Is(err, apperr.Conflict):
					t.Errorf("unexpected error %v", err)
				}
			}
			list, _ := st.ListEvidence(ctx, c2.ID)
			if ok != max || len(list) != max {
				t.Fatalf("%d uploads passed, %d stored, want %d", ok, len(list), max)
			}
			var blobsLeft int64
			st.Gorm().Model(&models.EvidenceBlob{}).Count(&blobsLeft)
			if blobsLeft != 1+max { // one from the database subtest, max here: refused uploads leave nothing
				t.Fatalf("%d blobs stored", blobsLeft)
			}
		})
	}
}

func TestWithdrawAndContact(t *testing.T) {
	for _, d := range testdb.Dialects() {
		t.Run(d, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			st := casedb.Migrated(t, d)
			now := time.Date(2026, 11, 2, 0, 0, 0, 0, time.UTC)
			ev := func(*models.Claim) (*models.AuditEvent, error) {
				return &models.AuditEvent{At: now, ActorKind: "claimant", Action: "update_contact", Entity: "claim", Details: "{}"}, nil
			}
			withdraw := func(c *models.Claim, from string) error {
				return st.TransitionClaim(ctx, store.Transition{Record: &models.ClaimTransition{ClaimID: c.ID, CaseID: c.CaseID, FromStatus: from, ToStatus: "withdrawn", ActorKind: "claimant", At: now},
					Event: &models.AuditEvent{At: now, ActorKind: "claimant", Action: "withdraw", Entity: "claim", Details: "{}"}})
			}
			c := newClaim(t, st, "CD-AAAA-BBBB-CCCC")
			if err := st.UpdateClaimContact(ctx, c.ID, "이름", "a@example.com", "+821012345678", now, ev); err != nil {
				t.Fatal(err)
			}
			if err := withdraw(c, "received"); err != nil {
				t.Fatal(err)
			}
			got, _ := st.ClaimByReference(ctx, c.Reference)
			if got.Status != "withdrawn" || got.ClaimantEmail != "a@example.com" || !got.UpdatedAt.Equal(now) {
				t.Fatalf("%+v", got)
			}
			// The guard on the status the caller saw: a second withdrawal changes nothing.
			if err := withdraw(c, "received"); !apperr.Is(err, apperr.InvalidTransition) {
				t.Fatalf("second withdrawal: %v", err)
			}
			if err := st.UpdateClaimContact(ctx, c.ID, "x", "", "", now, ev); !apperr.Is(err, apperr.Conflict) {
				t.Fatalf("contact of a withdrawn claim: %v", err)
			}
			var n int64
			st.Gorm().Model(&models.AuditEvent{}).Count(&n)
			if n != 2 {
				t.Fatalf("%d audit events, want 2 (contact, withdrawal)", n)
			}
		})
	}
}

// TestNothingAddedAfterErasure: once a claim's personal data is erased (an admin's erasure,
// the claimant's page still open), neither new contact details nor a new evidence file are
// stored on it: nothing would ever erase them. A closed claim takes no evidence either, on the
// locked row whatever the caller read before; its contact details may still be corrected.
func TestNothingAddedAfterErasure(t *testing.T) {
	for _, d := range testdb.Dialects() {
		t.Run(d, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			st := casedb.Migrated(t, d)
			now := time.Date(2026, 11, 2, 0, 0, 0, 0, time.UTC)
			blobs := st.DatabaseBlobs()
			contactEv := func(*models.Claim) (*models.AuditEvent, error) {
				return &models.AuditEvent{At: now, ActorKind: "claimant", Action: "update_contact", Entity: "claim", Details: "{}"}, nil
			}
			addFile := func(c *models.Claim) error {
				return st.AddEvidenceAudited(ctx, &models.Evidence{ClaimID: c.ID, CaseID: c.CaseID, ContentType: "image/png", SHA256: "x", CreatedAt: now},
					[]byte("\x89PNG"), blobs, 10, func(e *models.Evidence) (*models.AuditEvent, error) {
						return &models.AuditEvent{At: now, ActorKind: "claimant", Action: "add_evidence", Entity: "claim", EntityID: c.Reference, Details: "{}"}, nil
					})
			}
			stored := func(c *models.Claim) (*models.Claim, int64, int64) {
				t.Helper()
				got, err := st.ClaimByReference(ctx, c.Reference)
				if err != nil {
					t.Fatal(err)
				}
				var files, blobRows int64
				st.Gorm().Model(&models.Evidence{}).Where("claim_id = ?", c.ID).Count(&files)
				st.Gorm().Model(&models.EvidenceBlob{}).Count(&blobRows)
				return got, files, blobRows
			}

			// An open claim, erased.
			erased := newClaim(t, st, "CD-AAAA-BBBB-CCCC")
			if ok, err := st.EraseClaim(ctx, erased.ID, now, blobs, func(before *models.Claim) (*models.AuditEvent, error) {
				return &models.AuditEvent{At: now, ActorKind: "token", Action: "erase", Entity: "claim", EntityID: before.Reference, Details: "{}"}, nil
			}); err != nil || !ok {
				t.Fatalf("erase: %v %v", ok, err)
			}
			if err := st.UpdateClaimContact(ctx, erased.ID, "새 이름", "new@example.com", "+821012345678", now, contactEv); !apperr.Is(err, apperr.Conflict) {
				t.Errorf("contact of an erased claim: %v, want conflict", err)
			}
			if err := addFile(erased); !apperr.Is(err, apperr.Conflict) {
				t.Errorf("evidence for an erased claim: %v, want conflict", err)
			}
			if got, files, blobRows := stored(erased); got.ClaimantName != "" || got.ClaimantEmail != "" || got.ClaimantPhone != "" || files != 0 || blobRows != 0 {
				t.Errorf("erased claim holds %q %q %q, %d files, %d blobs", got.ClaimantName, got.ClaimantEmail, got.ClaimantPhone, files, blobRows)
			}

			// A claim rejected after the caller read it as open.
			closed := newClaim(t, st, "CD-DDDD-EEEE-FFFF")
			if err := st.TransitionClaim(ctx, store.Transition{Record: &models.ClaimTransition{ClaimID: closed.ID, CaseID: closed.CaseID, FromStatus: "received", ToStatus: "rejected",
				ActorKind: "user", At: now}}); err != nil {
				t.Fatal(err)
			}
			if err := addFile(closed); !apperr.Is(err, apperr.Conflict) {
				t.Errorf("evidence for a rejected claim: %v, want conflict", err)
			}
			if err := st.UpdateClaimContact(ctx, closed.ID, "이름", "a@example.com", "", now, contactEv); err != nil {
				t.Errorf("contact of a rejected claim: %v", err)
			}
			if got, files, blobRows := stored(closed); got.ClaimantEmail != "a@example.com" || files != 0 || blobRows != 0 {
				t.Errorf("rejected claim: email %q, %d files, %d blobs", got.ClaimantEmail, files, blobRows)
			}

			// An open claim still takes both.
			live := newClaim(t, st, "CD-GGGG-HHHH-JJJJ")
			if err := addFile(live); err != nil {
				t.Errorf("evidence for an open claim: %v", err)
			}
			if err := st.UpdateClaimContact(ctx, live.ID, "이름", "b@example.com", "", now, contactEv); err != nil {
				t.Errorf("contact of an open claim: %v", err)
			}
		})
	}
}
