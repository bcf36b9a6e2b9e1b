package export_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"gorm.io/gorm"

	"github.com/claimdesk/claimdesk/damages"
	"github.com/claimdesk/claimdesk/internal/claims"
	"github.com/claimdesk/claimdesk/internal/export"
	"github.com/claimdesk/claimdesk/internal/messages"
	"github.com/claimdesk/claimdesk/internal/store"
	"github.com/claimdesk/claimdesk/internal/testdb"
	"github.com/claimdesk/claimdesk/internal/testdb/casedb"
	"github.com/claimdesk/claimdesk/internal/testdb/gen"
	"github.com/claimdesk/claimdesk/models"
)

// TestReportPassMatchesClaimByClaim checks the whole-case pass of the report and the summary
// (items read by pgx in batches, submissions per day grouped in SQL) against the plain way on
// generated claims: every claim loaded with its items by gorm and valued one by one, and every
// submission read and grouped by its day in the case zone here.
func TestReportPassMatchesClaimByClaim(t *testing.T) {
	ctx := context.Background()
	st, cs := casedb.OpenURL(t, testdb.Postgres(t))
	const n = 6001 // more than one batch of the reader, and a last claim of one item
	if err := gen.Items(ctx, st, cs.ID, n); err != nil {
		t.Fatal(err)
	}
	// Spread the alike claims over statuses, channels and days (across local midnights).
	if err := st.Gorm().Exec(`UPDATE claims SET
			status = (ARRAY['received','under_review','deficient','approved','duplicate'])[id % 5 + 1],
			channel = (ARRAY['web','api','import'])[id % 3 + 1],
			submitted_at = timestamptz '2022-10-16 00:00:00+09' + (id % 40) * interval '1 day' + (id * 3607 % 86400) * interval '1 second'
		WHERE case_id = ?`, cs.ID).Error; err != nil {
		t.Fatal(err)
	}
	svc := &claims.Service{Store: st, Now: func() time.Time { return testNow }}
	rs, err := svc.ActiveRules(ctx, cs)
	if err != nil {
		t.Fatal(err)
	}
	v := svc.Valuer(cs, cs.DomainWindows(), rs.Rules)
	// Other rules, for a simulation beside the active ones: a year more of interest.
	alt := rs.Rules
	later := damages.DateOf(testNow.AddDate(1, 0, 0), cs.Location)
	alt.AsOf = &later
	vAlt := svc.Valuer(cs, cs.DomainWindows(), alt)

	// The plain way: claim by claim.
	var all []models.Claim
	if err := st.Gorm().Preload("Items", func(db *gorm.DB) *gorm.DB { return db.Order("position") }).
		Where("case_id = ?", cs.ID).Order("id").Find(&all).Error; err != nil {
		t.Fatal(err)
	}
	var want, wantAlt damages.Totals
	var wantItems [][]damages.Item
	wantPerDay := map[string]int64{}
	generated := 0
	for _, c := range all {
		wantPerDay[c.SubmittedAt.In(cs.Location).Format(time.DateOnly)+" "+c.Channel]++
		generated += len(c.Items)
		if slices.Contains(store.ExcludedFromTotals, c.Status) {
			continue // duplicates count in no total
		}
		items := claims.DomainItems(c.Items)
		wantItems = append(wantItems, items)
		want.Add(v.Value(items))
		wantAlt.Add(vAlt.Value(items))
	}
	if generated != n || want.Items == int64(n) {
		t.Fatalf("generated %d items, %d of them counting, want %d and fewer", generated, want.Items, n)
	}

	// The pass.
	var gotItems [][]damages.Item
	got, err := svc.ValueCase(ctx, cs, v, func(items []damages.Item, _ *damages.ClaimValuation) {
		gotItems = append(gotItems, slices.Clone(items))
	})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(wantItems, gotItems); diff != "" {
		t.Errorf("streamed items differ (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("totals differ (-want +got):\n%s", diff)
	}
	// The active rules and others in one pass.
	sims, err := svc.Simulate(ctx, cs, rs.Rules, alt)
	if err != nil {
		t.Fatal(err)
	}
	if len(sims) != 2 || sims[0].AsOf != v.AsOf() || sims[1].AsOf != later {
		t.Fatalf("simulations %d, as of %v, want 2, as of %s and %s", len(sims), sims, v.AsOf(), later)
	}
	if wantAlt.TotalKRW <= want.TotalKRW {
		t.Fatalf("a year more of interest: total %d, against %d", wantAlt.TotalKRW, want.TotalKRW)
	}
	for i, w := range []damages.Totals{want, wantAlt} {
		if diff := cmp.Diff(w, sims[i].Totals); diff != "" {
			t.Errorf("simulated totals %d differ (-want +got):\n%s", i, diff)
		}
	}
	subs, err := st.Submissions(ctx, cs.ID, cs.Location)
	if err != nil {
		t.Fatal(err)
	}
	gotPerDay, gotByStatus := map[string]int64{}, map[string]int64{}
	for _, d := range subs {
		gotPerDay[d.Day+" "+d.Channel] += d.N
		gotByStatus[d.Status] += d.N
	}
	if len(wantPerDay) < 100 {
		t.Fatalf("only %d days and channels: the data does not exercise the grouping", len(wantPerDay))
	}
	if diff := cmp.Diff(wantPerDay, gotPerDay); diff != "" {
		t.Errorf("submissions per day differ (-want +got):\n%s", diff)
	}
	wantByStatus, _, err := st.CaseCounts(ctx, cs.ID)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(wantByStatus, gotByStatus); diff != "" {
		t.Errorf("claims per status differ (-want +got):\n%s", diff)
	}
	rep, err := export.BuildReport(ctx, st, svc, cs, testNow, messages.Ko)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(wantByStatus, rep.ByStatus); diff != "" {
		t.Errorf("report's claims per status differ (-want +got):\n%s", diff)
	}

	// A pass that stops early returns the caller's error (and the reader stops).
	stop := errors.New("stop")
	seen := 0
	err = st.StreamClaims(ctx, cs.ID, func(int64, []damages.Item) error {
		if seen++; seen == 1500 {
			return stop
		}
		return nil
	})
	if !errors.Is(err, stop) || seen != 1500 {
		t.Errorf("stopped pass: err %v after %d claims, want %v after 1500", err, seen, stop)
	}
}
