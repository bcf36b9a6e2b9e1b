package claims_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/claimdesk/claimdesk/internal/apperr"
	"github.com/claimdesk/claimdesk/internal/audit"
	"github.com/claimdesk/claimdesk/internal/claims"
	"github.com/claimdesk/claimdesk/internal/intake"
	"github.com/claimdesk/claimdesk/internal/seed"
	"github.com/claimdesk/claimdesk/internal/store"
	"github.com/claimdesk/claimdesk/internal/testdb"
	"github.com/claimdesk/claimdesk/models"
)

// TestClaimantChangesAreAudited: the claimant's own changes (filing, contact correction,
// withdrawal) go through the service and each leaves one audit record, with the contact
// details before and after; a withdrawal of a closed claim is refused and leaves none.
func TestClaimantChangesAreAudited(t *testing.T) {
	for _, d := range testdb.Dialects() {
		t.Run(d, func(t *testing.T) {
			ctx := context.Background()
			st, err := store.Open(ctx, testdb.URL(t, d))
			if err != nil {
				t.Fatal(err)
			}
			defer st.Close()
			if err := st.Migrate(ctx); err != nil {
				t.Fatal(err)
			}
			if _, err := seed.Ensure(ctx, st, seed.Kakao2022); err != nil {
				t.Fatal(err)
			}
			now := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
			svc := &claims.Service{Store: st, Now: func() time.Time { return now }}
			yes := true
			res, err := svc.Submit(ctx, seed.Kakao2022, intake.ClaimInput{
				Claimant: intake.ClaimantInput{Name: "홍길동", Email: "hong@example.com"}, Consent: &yes,
				Items: []intake.ItemInput{{Kind: "taxi_booking", OccurredAt: "2022-10-15 18:30", Failure: "no_driver"}},
			}, claims.Meta{Channel: claims.ChannelWeb, IP: "203.0.113.9"})
			if err != nil {
				t.Fatal(err)
			}
			cl := res.Claim
			who := audit.Actor{Kind: audit.ActorClaimant, IP: "203.0.113.9"}
			if err := svc.UpdateContact(ctx, cl, "홍길동", "new@example.com", "", who); err != nil {
				t.Fatal(err)
			}
			// The trail shows what changed, masked, while the claim keeps its data.
			var contact models.AuditEvent
			st.Gorm().Where("action = ?", claims.ActionContact).Take(&contact)
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
