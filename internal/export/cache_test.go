package export_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

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

// TestReportCacheLanguages: the Korean and the English report of a case come from one
// gathering, each equal to the report built from scratch in its language, and concurrent
// first requests in both languages wait for that one gathering.
func TestReportCacheLanguages(t *testing.T) {
	eachDB(t, func(t *testing.T, fx *fixture) {
		ctx := context.Background()
		want := map[messages.Lang]*export.Report{}
		for _, lang := range []messages.Lang{messages.Ko, messages.En} {
			r, err := export.BuildReport(ctx, fx.st, fx.svc, fx.cs, testNow, lang)
			if err != nil {
				t.Fatal(err)
			}
			want[lang] = r
		}

		rc := &export.ReportCache{TTL: time.Minute}
		gathers := export.CountGathers(rc)
		ko, err := rc.Get(ctx, fx.st, fx.svc, fx.cs, testNow, messages.Ko)
		if err != nil {
			t.Fatal(err)
		}
		en, err := rc.Get(ctx, fx.st, fx.svc, fx.cs, testNow.Add(time.Second), messages.En)
		if err != nil {
			t.Fatal(err)
		}
		if n := gathers.Load(); n != 1 {
			t.Errorf("%d gatherings for ko then en, want 1", n)
		}
		if diff := cmp.Diff(want[messages.Ko], ko); diff != "" {
			t.Errorf("cached ko report differs from BuildReport (-want +got):\n%s", diff)
		}
		if diff := cmp.Diff(want[messages.En], en); diff != "" {
			t.Errorf("cached en report differs from BuildReport (-want +got):\n%s", diff)
		}
		if again, _ := rc.Get(ctx, fx.st, fx.svc, fx.cs, testNow.Add(2*time.Second), messages.En); again != en {
			t.Error("en rendered again from the same figures")
		}

		// First requests in both languages at once: one gathering, one report per language.
		rc = &export.ReportCache{TTL: time.Minute}
		gathers = export.CountGathers(rc)
		got := make([]*export.Report, 16)
		var wg sync.WaitGroup
		for i := range got {
			wg.Add(1)
			go func() {
				defer wg.Done()
				lang := []messages.Lang{messages.Ko, messages.En}[i%2]
				r, err := rc.Get(ctx, fx.st, fx.svc, fx.cs, testNow, lang)
				if err != nil {
					t.Error(err)
				}
				got[i] = r
			}()
		}
		wg.Wait()
		if n := gathers.Load(); n != 1 {
			t.Errorf("%d gatherings for concurrent first requests, want 1", n)
		}
		for i, r := range got {
			if r != got[i%2] {
				t.Errorf("request %d got another %s report than request %d", i, r.Lang, i%2)
			}
		}
		if diff := cmp.Diff(want[messages.En], got[1]); diff != "" {
			t.Errorf("concurrent en report differs from BuildReport (-want +got):\n%s", diff)
		}
	})
}

// TestReportDataRender: one gathering rendered in both languages at once (as the cache does
// for concurrent requests) gives the reports BuildReport gives, again and again: Render changes
// nothing in the figures (the race detector checks the "at once").
func TestReportDataRender(t *testing.T) {
	fx := newFixture(t, "sqlite")
	ctx := context.Background()
	d, err := export.GatherReport(ctx, fx.st, fx.svc, fx.cs, testNow)
	if err != nil {
		t.Fatal(err)
	}
	langs := []messages.Lang{messages.Ko, messages.En}
	want := map[messages.Lang]*export.Report{}
	for _, lang := range langs {
		if want[lang], err = export.BuildReport(ctx, fx.st, fx.svc, fx.cs, testNow, lang); err != nil {
			t.Fatal(err)
		}
	}
	got := make([]*export.Report, 8)
	var wg sync.WaitGroup
	for i := range got {
		wg.Add(1)
		go func() {
			defer wg.Done()
			got[i] = d.Render(langs[i%2])
		}()
	}
	wg.Wait()
	for i, r := range got {
		if diff := cmp.Diff(want[langs[i%2]], r); diff != "" {
			t.Errorf("render %d (%s) differs from BuildReport (-want +got):\n%s", i, langs[i%2], diff)
		}
	}
	// A report is the reader's own: changing it changes no other report of the same figures.
	got[0].ByStatus["received"] = -1
	if r := d.Render(messages.Ko); r.ByStatus["received"] != want[messages.Ko].ByStatus["received"] {
		t.Errorf("a report's counts are shared with the figures: %d", r.ByStatus["received"])
	}
}
