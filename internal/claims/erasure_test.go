package claims_test

import (
	"context"
	"testing"
	"time"

	"github.com/claimdesk/claimdesk/internal/claims"
	"github.com/claimdesk/claimdesk/internal/intake"
	"github.com/claimdesk/claimdesk/internal/seed"
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
			yes := true
			refs := map[string]string{}
			for _, name := range []string{"old-rejected", "old-open", "new-rejected"} {
				res, err := svc.Submit(ctx, seed.Kakao2022, intake.ClaimInput{
					Claimant: intake.ClaimantInput{Name: name, Email: name + "@example.com"}, Consent: &yes,
					Items: []intake.ItemInput{{Kind: "taxi_booking", OccurredAt: "2022-10-15 18:30", Failure: "no_driver", Description: "secret " + name}},
				}, claims.Meta{Channel: claims.ChannelAPI})
				if err != nil {
					t.Fatal(err)
				}
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
