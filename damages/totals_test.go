package damages

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestTotals(t *testing.T) {
	v := defaultValuer(t)
	smallBusiness := messageItem
	smallBusiness.ID, smallBusiness.LossKRW = 5, 100000 // undocumented: principal 50,000
	bigBusiness := messageItem
	bigBusiness.ID, bigBusiness.LossKRW = 6, 900000 // above the last tier: individual review

	var a, b Totals
	a.Add(v.Value([]Item{taxiItem, lateTaxiItem}))     // 31,714
	a.Add(v.Value([]Item{messageItem, smallBusiness})) // two messages in one claim: one consolation
	b.Add(v.Value([]Item{doubleChargeItem}))           // 38,272
	b.Add(v.Value([]Item{bigBusiness}))
	var all Totals
	all.Merge(a)
	all.Merge(b)

	// Recompute the expected sums from the claims themselves.
	claims := [][]Item{{taxiItem, lateTaxiItem}, {messageItem, smallBusiness}, {doubleChargeItem}, {bigBusiness}}
	var principal, interest, total int64
	for _, c := range claims {
		cv := v.Value(c)
		principal += cv.PrincipalKRW
		interest += cv.InterestKRW
		total += cv.TotalKRW
	}
	if all.PrincipalKRW != principal || all.InterestKRW != interest || all.TotalKRW != total || principal+interest != total {
		t.Errorf("totals %d + %d = %d, want %d + %d = %d", all.PrincipalKRW, all.InterestKRW, all.TotalKRW, principal, interest, total)
	}
	if diff := cmp.Diff([5]int64{4, 6, 5, 1, 4}, [5]int64{all.Claims, all.Items, all.EligibleItems, all.DegradedItems, all.Consolations}); diff != "" {
		t.Errorf("claims, items, eligible, degraded, consolations (-want +got):\n%s", diff)
	}

	kt := all.ByService["kakao_t"]
	if diff := cmp.Diff(Subtotal{Items: 2, EligibleItems: 1, Consolations: 1, ConsolationPrincipalKRW: 10000,
		PrincipalKRW: 29000, InterestKRW: 1778 + 936, TotalKRW: 31714}, kt); diff != "" {
		t.Errorf("kakao_t (-want +got):\n%s", diff)
	}
	pay := all.ByKind[KindPayment]
	if diff := cmp.Diff(Subtotal{Items: 1, EligibleItems: 1, PrincipalKRW: 25000, InterestKRW: 2337, TotalKRW: 27337}, pay); diff != "" {
		t.Errorf("payment kind (-want +got):\n%s", diff)
	}
	var perService, perKind int64
	for _, s := range all.ByService {
		perService += s.TotalKRW
	}
	for _, s := range all.ByKind {
		perKind += s.TotalKRW
	}
	if perService != all.TotalKRW {
		t.Errorf("services sum to %d, total %d", perService, all.TotalKRW)
	}
	var consolations int64
	for _, s := range all.ByService {
		consolations += s.ConsolationPrincipalKRW
	}
	if perKind+consolations > all.TotalKRW || perKind >= all.TotalKRW {
		t.Errorf("kinds sum to %d (consolation principal %d), total %d", perKind, consolations, all.TotalKRW)
	}

	// Benchmark: the three business messages are covered; 400,000 -> 50,000; 100,000 -> 30,000;
	// 900,000 -> review.
	bigIV := v.Value([]Item{bigBusiness}).Items[0]
	msgIV := v.Value([]Item{messageItem}).Items[0]
	smallIV := v.Value([]Item{smallBusiness}).Items[0]
	want := BenchmarkTotals{Items: 3, Priced: 2, Review: 1, SchemeKRW: 80000,
		ClaimedKRW: msgIV.TotalKRW + smallIV.TotalKRW, ReviewClaimedKRW: bigIV.TotalKRW}
	if diff := cmp.Diff(want, all.Benchmark); diff != "" {
		t.Errorf("benchmark (-want +got):\n%s", diff)
	}

	// Merging equals adding everything into one.
	var one Totals
	for _, c := range claims {
		one.Add(v.Value(c))
	}
	if diff := cmp.Diff(one, all); diff != "" {
		t.Errorf("merge differs from add (-add +merge):\n%s", diff)
	}
	var empty Totals
	empty.Merge(Totals{})
	if diff := cmp.Diff(Totals{}, empty); diff != "" {
		t.Errorf("merging nothing (-want +got):\n%s", diff)
	}
}
