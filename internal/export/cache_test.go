package export_test

import (
	"context"
	"testing"
	"time"

	"github.com/claimdesk/claimdesk/internal/audit"
	"github.com/claimdesk/claimdesk/internal/claims"
	"github.com/claimdesk/claimdesk/internal/export"
	"github.com/claimdesk/claimdesk/internal/intake"
	"github.com/claimdesk/claimdesk/internal/messages"
	"github.com/claimdesk/claimdesk/internal/seed"
)

// TestReportCache: a report is reused within its TTL, shown stale while one rebuild runs after
// it, and built again before it is shown when the case's windows change (a new revision).
func TestReportCache(t *testing.T) {
	fx := newFixture(t, "sqlite")
	ctx := context.Background()
	rc := &export.ReportCache{TTL: 30 * time.Second}
	t0 := testNow
	first, err := rc.Get(ctx, fx.st, fx.svc, fx.cs, t0, messages.En)
	if err != nil {
		t.Fatal(err)
	}
	if first.Claimants != 8 || first.ByStatus["received"] != 4 {
		t.Fatalf("claimants %d, statuses %v", first.Claimants, first.ByStatus)
	}
	amount := int64(1000)
	yes := true
	if _, err := fx.svc.Submit(ctx, seed.Kakao2022, intake.ClaimInput{Claimant: intake.ClaimantInput{Name: "새 청구인", Email: "new@example.com"}, Consent: &yes,
		Items: []intake.ItemInput{{Kind: "payment", OccurredAt: "2022-10-15T18:00", Failure: "payment_failed", AmountKRW: &amount}}}, claims.Meta{Channel: claims.ChannelWeb}); err != nil {
		t.Fatal(err)
	}
	if r, _ := rc.Get(ctx, fx.st, fx.svc, fx.cs, t0.Add(10*time.Second), messages.En); r != first {
		t.Fatal("rebuilt within the TTL")
	}
	if r, _ := rc.Get(ctx, fx.st, fx.svc, fx.cs, t0.Add(31*time.Second), messages.En); r != first {
		t.Fatal("after the TTL, the stale report is not shown while it is rebuilt")
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		r, _ := rc.Get(ctx, fx.st, fx.svc, fx.cs, t0.Add(31*time.Second), messages.En)
		if r != first {
			if r.Claimants != 9 {
				t.Fatalf("rebuilt report has %d claimants", r.Claimants)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("never rebuilt")
		}
		time.Sleep(20 * time.Millisecond)
	}
	// New windows: the next Get builds before it answers.
	if _, _, err := fx.svc.ReplaceWindows(ctx, seed.Kakao2022, claims.WindowInputs(fx.cs.Windows[:1], fx.cs.Location), audit.Actor{Kind: audit.ActorCLI}); err != nil {
		t.Fatal(err)
	}
	cs, err := fx.st.Case(ctx, seed.Kakao2022)
	if err != nil {
		t.Fatal(err)
	}
	r, err := rc.Get(ctx, fx.st, fx.svc, cs, t0.Add(32*time.Second), messages.En)
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Windows) != 1 {
		t.Fatalf("report of the replaced windows shown: %d windows", len(r.Windows))
	}
}
