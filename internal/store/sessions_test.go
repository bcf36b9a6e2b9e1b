package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/claimdesk/claimdesk/internal/store"
	"github.com/claimdesk/claimdesk/internal/testdb"
	"github.com/claimdesk/claimdesk/internal/testdb/casedb"
	"github.com/claimdesk/claimdesk/models"
)

// TestEndClaimSessions: a sign-out, an erasure and a withdrawal record when the claim's
// status-page sessions ended, to the microsecond (instants within one second stay apart), never
// moving the instant back, and without counting as a change of the claim (updated_at).
func TestEndClaimSessions(t *testing.T) {
	for _, d := range testdb.Dialects() {
		t.Run(d, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			st := casedb.Migrated(t, d)
			base := time.Date(2026, 11, 2, 0, 0, 0, 0, time.UTC)
			at := func(us int) time.Time { return base.Add(time.Duration(us) * time.Microsecond) }
			ended := func(c *models.Claim) *time.Time {
				t.Helper()
				got, err := st.ClaimByReference(ctx, c.Reference)
				if err != nil {
					t.Fatal(err)
				}
				return got.SessionsEndedAt
			}
			wantEnded := func(c *models.Claim, want time.Time) {
				t.Helper()
				if got := ended(c); got == nil || !got.Equal(want) {
					t.Errorf("%s: sessions ended at %v, want %v", c.Reference, got, want)
				}
			}
			event := func(action string) func(*models.Claim) (*models.AuditEvent, error) {
				return func(before *models.Claim) (*models.AuditEvent, error) {
					return &models.AuditEvent{At: base, ActorKind: "token", Action: action, Entity: "claim", EntityID: before.Reference, Details: "{}"}, nil
				}
			}

			// A sign-out: kept to the microsecond (the nanoseconds dropped as PostgreSQL would),
			// later ones move it on, an earlier one (another clock a little behind) does not.
			c := newClaim(t, st, "CD-AAAA-BBBB-CCCC")
			if got := ended(c); got != nil {
				t.Fatalf("new claim: sessions ended at %v", got)
			}
			if err := st.EndClaimSessions(ctx, c.ID, at(250_000).Add(999)); err != nil {
				t.Fatal(err)
			}
			wantEnded(c, at(250_000))
			if err := st.EndClaimSessions(ctx, c.ID, at(250_001)); err != nil {
				t.Fatal(err)
			}
			wantEnded(c, at(250_001))
			if err := st.EndClaimSessions(ctx, c.ID, at(100)); err != nil {
				t.Fatal(err)
			}
			wantEnded(c, at(250_001))
			if got, _ := st.ClaimByReference(ctx, c.Reference); !got.UpdatedAt.Equal(c.UpdatedAt) {
				t.Errorf("updated_at %v, want %v: ending sessions changes nothing of the claim", got.UpdatedAt, c.UpdatedAt)
			}

			// An erasure ends them in its transaction.
			erased := newClaim(t, st, "CD-DDDD-EEEE-FFFF")
			if ok, err := st.EraseClaim(ctx, erased.ID, at(300_000), st.DatabaseBlobs(), event("erase")); err != nil || !ok {
				t.Fatalf("erase: %v %v", ok, err)
			}
			wantEnded(erased, at(300_000))
			// Only moving forward there too: after a sign-out stamped earlier, an erasure moves
			// the instant on; after one stamped later (another clock), it leaves it.
			for _, tc := range []struct {
				ref           string
				signOut, want int
			}{{"CD-KKKK-LLLL-MMMM", 290_000, 300_000}, {"CD-NNNN-PPPP-QQQQ", 310_000, 310_000}} {
				c := newClaim(t, st, tc.ref)
				if err := st.EndClaimSessions(ctx, c.ID, at(tc.signOut)); err != nil {
					t.Fatal(err)
				}
				if ok, err := st.EraseClaim(ctx, c.ID, at(300_000), st.DatabaseBlobs(), event("erase")); err != nil || !ok {
					t.Fatalf("erase: %v %v", ok, err)
				}
				wantEnded(c, at(tc.want))
			}

			// A withdrawal too, erasing the claim; and so does the withdrawal of a claim an
			// admin erased before, whose erasure is not done again.
			withdraw := func(c *models.Claim, when time.Time) bool {
				t.Helper()
				tr := &models.ClaimTransition{ClaimID: c.ID, CaseID: c.CaseID, FromStatus: "received", ToStatus: store.StatusWithdrawn, ActorKind: "claimant", At: when}
				ok, err := st.TransitionAndErase(ctx, store.Transition{Record: tr}, st.DatabaseBlobs(), event("erase"))
				if err != nil {
					t.Fatal(err)
				}
				return ok
			}
			withdrawn := newClaim(t, st, "CD-GGGG-HHHH-JJJJ")
			if !withdraw(withdrawn, at(400_000)) {
				t.Error("withdrawal did not erase")
			}
			wantEnded(withdrawn, at(400_000))
			if withdraw(erased, at(500_000)) {
				t.Error("withdrawal erased an erased claim again")
			}
			wantEnded(erased, at(500_000))
		})
	}
}
