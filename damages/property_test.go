package damages

import (
	"math/rand"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// pairs are the service/feature pairs items are drawn from: all with windows but one.
var pairs = [][2]string{
	{"kakaotalk", "text"}, {"kakaotalk", "media"}, {"kakaotalk", "pc"}, {"kakao_t", "taxi"},
	{"kakao_t", "designated_driver"}, {"kakao_pay", "payments"}, {"daum", "mail"},
}

// randomItem draws an item around the outage (10-15 00:00 to 10-22 00:00 KST), half of them
// periods, with amounts up to 2,000,000 won.
func randomItem(rng *rand.Rand, id int64) Item {
	p := pairs[rng.Intn(len(pairs))]
	kinds := Kinds()
	start := at("2022-10-15 00:00").Add(time.Duration(rng.Int63n(int64(7 * 24 * time.Hour))))
	it := Item{
		ID: id, Kind: kinds[rng.Intn(len(kinds))], Service: p[0], Feature: p[1],
		Period:             Period{Start: start.Truncate(time.Second)},
		ExpectedFareKRW:    rng.Int63n(2_000_000),
		AlternativeCostKRW: rng.Int63n(2_000_000),
		AmountKRW:          rng.Int63n(2_000_000),
		LossKRW:            rng.Int63n(2_000_000),
		Documented:         rng.Intn(2) == 0,
		Purpose:            []string{"business", "personal", ""}[rng.Intn(3)],
	}
	if rng.Intn(2) == 0 {
		it.Failure = FailureDoubleCharged
	}
	if rng.Intn(2) == 0 {
		it.Period.End = it.Period.Start.Add(time.Duration(rng.Int63n(int64(30 * time.Hour)))).Truncate(time.Second)
	}
	return it
}

func randomClaim(rng *rand.Rand) []Item {
	items := make([]Item, 1+rng.Intn(5))
	for i := range items {
		items[i] = randomItem(rng, int64(i+1))
	}
	return items
}

// randomValuer draws a policy, the interest dates and some factors.
func randomValuer(t *testing.T, rng *rand.Rand) *Valuer {
	r := defaultRules(t)
	r.WindowPolicy = []Policy{PerFeature, PerService, WholeIncident}[rng.Intn(3)]
	r.EvidenceFactorBPS.Undocumented = ptr(rng.Int63n(10001))
	r.DegradedFactorBPS = ptr(rng.Int63n(10001))
	if rng.Intn(3) == 0 {
		r.Interest.ComplaintServedOn = nil
	}
	asOf := date("2022-10-10").AddDays(rng.Int63n(800))
	return NewValuer(kst, kakaoWindows(), r, asOf)
}

const propertyRuns = 2000

func TestPropertyTotalGrowsWithLoss(t *testing.T) {
	rng := rand.New(rand.NewSource(20221015))
	for run := range propertyRuns {
		v := randomValuer(t, rng)
		items := randomClaim(rng)
		before := v.Value(items)
		grown := append([]Item(nil), items...)
		i := rng.Intn(len(grown))
		delta := rng.Int63n(1_000_000)
		switch rng.Intn(3) {
		case 0:
			grown[i].LossKRW += delta
		case 1:
			grown[i].AlternativeCostKRW += delta
		case 2:
			grown[i].AmountKRW += delta
		}
		after := v.Value(grown)
		if after.TotalKRW < before.TotalKRW {
			t.Fatalf("run %d: total fell from %d to %d when item %+v grew by %d", run, before.TotalKRW, after.TotalKRW, grown[i], delta)
		}
		if after.Items[i].PrincipalKRW < before.Items[i].PrincipalKRW {
			t.Fatalf("run %d: principal fell", run)
		}
	}
}

func TestPropertyIneligibleItemChangesNothing(t *testing.T) {
	rng := rand.New(rand.NewSource(7))
	for run := range propertyRuns {
		v := randomValuer(t, rng)
		items := randomClaim(rng)
		extra := randomItem(rng, 99)
		// Before the fire or after every window of the case.
		if rng.Intn(2) == 0 {
			extra.Period = Period{Start: at("2022-10-15 15:29:59").Add(-time.Duration(rng.Int63n(int64(48 * time.Hour))))}
		} else {
			extra.Period = Period{Start: at("2022-10-20 23:00").Add(time.Duration(rng.Int63n(int64(48 * time.Hour))))}
		}
		if rng.Intn(2) == 0 {
			extra.Period.End = extra.Period.Start.Add(time.Second)
		}
		if v.Decide(extra).Status != Ineligible {
			t.Fatalf("run %d: test item not ineligible: %+v", run, extra)
		}
		before := v.Value(items)
		after := v.Value(append(append([]Item(nil), items...), extra))
		if after.Items[len(items)].TotalKRW != 0 || after.Items[len(items)].Benchmark.Matched {
			t.Fatalf("run %d: ineligible item valued: %+v", run, after.Items[len(items)])
		}
		after.Items = after.Items[:len(items)]
		if diff := cmp.Diff(before, after); diff != "" {
			t.Fatalf("run %d: adding an ineligible item changed the claim (-before +after):\n%s", run, diff)
		}
	}
}

func TestPropertySplitPeriodKeepsConsolation(t *testing.T) {
	rng := rand.New(rand.NewSource(42))
	for run := range propertyRuns {
		v := randomValuer(t, rng)
		whole := randomItem(rng, 1)
		whole.Service, whole.Feature = "kakaotalk", []string{"text", "media"}[rng.Intn(2)]
		length := time.Duration(2+rng.Int63n(int64(40*time.Hour)/int64(time.Second))) * time.Second
		whole.Period.End = whole.Period.Start.Add(length)
		// Two pieces [start, b) and [a, end) with start < a <= b < end: they overlap or touch.
		a := whole.Period.Start.Add(time.Duration(1+rng.Int63n(int64(length/time.Second)-1)) * time.Second)
		b := a.Add(time.Duration(rng.Int63n(int64(whole.Period.End.Sub(a)/time.Second))) * time.Second)
		first, second := whole, whole
		first.Period.End = b
		second.ID, second.Period.Start = 2, a
		if !first.Period.Start.Before(first.Period.End) {
			continue
		}

		one := v.Value([]Item{whole})
		split := v.Value([]Item{first, second})
		consOf := func(cv ClaimValuation) (c ConsolationValuation) {
			if len(cv.Consolations) > 0 {
				c = cv.Consolations[0]
			}
			return c
		}
		c1, c2 := consOf(one), consOf(split)
		if c1.DownSeconds != c2.DownSeconds || c1.DegradedSeconds != c2.DegradedSeconds || c1.PrincipalKRW != c2.PrincipalKRW {
			t.Fatalf("run %d: consolation of %v differs when split at %v/%v: %+v vs %+v", run, whole.Period, a, b, c1, c2)
		}
		// Interest starts on the same day unless the first piece is outside the windows.
		if split.Items[0].Eligible() && c1.Interest != c2.Interest {
			t.Fatalf("run %d: consolation interest differs: %+v vs %+v", run, c1.Interest, c2.Interest)
		}
	}
}

func TestPropertyValueIntoMatchesValue(t *testing.T) {
	rng := rand.New(rand.NewSource(3))
	var reused ClaimValuation
	for run := range propertyRuns {
		v := randomValuer(t, rng)
		items := randomClaim(rng)
		fresh := v.Value(items)
		v.ValueInto(&reused, items)
		if diff := cmp.Diff(fresh, reused, cmpopts.EquateEmpty()); diff != "" {
			t.Fatalf("run %d: ValueInto differs (-Value +ValueInto):\n%s", run, diff)
		}
		traced := v.ValueWithTrace(items)
		if last := traced.Trace[len(traced.Trace)-1]; last.Code != StepTotal || last.Result != fresh.TotalKRW {
			t.Fatalf("run %d: trace ends with %+v, total %d", run, last, fresh.TotalKRW)
		}
		for _, s := range traced.Trace {
			if s.Text("ko") == "" || s.Text("en") == "" {
				t.Fatalf("run %d: empty text for %+v", run, s)
			}
		}
	}
}
