package damages

import (
	"math"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// summary is the part of a valuation the worked examples pin down.
type summary struct {
	Status          Status
	Principal       int64
	Interest        int64
	Service         string
	DownSeconds     int64
	DegradedSeconds int64
	Consolation     int64
	ConsInterest    int64
	Total           int64
}

func summarize(cv ClaimValuation) summary {
	var s summary
	if len(cv.Items) > 0 {
		s.Status = cv.Items[0].Decision.Status
		s.Principal, s.Interest = cv.Items[0].PrincipalKRW, cv.Items[0].InterestKRW
	}
	if len(cv.Consolations) > 0 {
		c := cv.Consolations[0]
		s.Service, s.DownSeconds, s.DegradedSeconds = c.Service, c.DownSeconds, c.DegradedSeconds
		s.Consolation, s.ConsInterest = c.PrincipalKRW, c.InterestKRW
	}
	s.Total = cv.TotalKRW
	return s
}

// TestWorkedExamples are the examples of the issue, with exact numbers.
func TestWorkedExamples(t *testing.T) {
	v := defaultValuer(t)
	tests := []struct {
		name string
		item Item
		want summary
	}{
		{"documented taxi booking", taxiItem, summary{Status: Eligible, Principal: 19000, Interest: 1778,
			Service: "kakao_t", Consolation: 10000, ConsInterest: 936, Total: 31714}},
		{"undocumented business message period", messageItem, summary{Status: Eligible, Principal: 200000, Interest: 18734,
			Service: "kakaotalk", DownSeconds: 19860, DegradedSeconds: 5340, Consolation: 23129, ConsInterest: 2166, Total: 244029}},
		{"documented double charge in degraded window", doubleChargeItem, summary{Status: EligibleDegraded, Principal: 25000, Interest: 2337,
			Service: "kakao_pay", Consolation: 10000, ConsInterest: 935, Total: 38272}},
		{"taxi booking at the window end", lateTaxiItem, summary{Status: Ineligible}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cv := v.Value([]Item{tt.item})
			if diff := cmp.Diff(tt.want, summarize(cv)); diff != "" {
				t.Errorf("valuation (-want +got):\n%s", diff)
			}
			if got := cv.PrincipalKRW + cv.InterestKRW; got != cv.TotalKRW {
				t.Errorf("principal + interest = %d, total %d", got, cv.TotalKRW)
			}
		})
	}
	t.Run("all four in one claim", func(t *testing.T) {
		cv := v.Value([]Item{taxiItem, messageItem, doubleChargeItem, lateTaxiItem})
		if cv.TotalKRW != 31714+244029+38272 {
			t.Errorf("total = %d, want %d", cv.TotalKRW, 31714+244029+38272)
		}
		var services []string
		for _, c := range cv.Consolations {
			services = append(services, c.Service)
		}
		if diff := cmp.Diff([]string{"kakao_pay", "kakao_t", "kakaotalk"}, services); diff != "" {
			t.Errorf("consolations (-want +got):\n%s", diff)
		}
	})
}

func TestWorkedExampleInterestParts(t *testing.T) {
	v := defaultValuer(t)
	cv := v.Value([]Item{taxiItem})
	want := Interest{
		StartDate: date("2022-10-15"),
		CivilFrom: date("2022-10-15"), CivilTo: date("2023-03-02"), CivilDays: 139, CivilKRW: 361,
		LitigationFrom: date("2023-03-03"), LitigationTo: date("2023-10-15"), LitigationDays: 227, LitigationKRW: 1417,
	}
	if diff := cmp.Diff(want, cv.Items[0].Interest); diff != "" {
		t.Errorf("interest (-want +got):\n%s", diff)
	}
	if got := cv.Consolations[0].Interest.StartDate; got != date("2022-10-15") {
		t.Errorf("consolation interest starts %v", got)
	}
}

func TestRawLoss(t *testing.T) {
	tests := []struct {
		name string
		item Item
		want int64
	}{
		{"taxi extra cost", Item{Kind: KindTaxiBooking, ExpectedFareKRW: 12000, AlternativeCostKRW: 31000}, 19000},
		{"taxi extra cost plus loss", Item{Kind: KindTaxiBooking, ExpectedFareKRW: 12000, AlternativeCostKRW: 31000, LossKRW: 5000}, 24000},
		{"taxi cheaper alternative", Item{Kind: KindTaxiBooking, ExpectedFareKRW: 31000, AlternativeCostKRW: 12000, LossKRW: 700}, 700},
		{"taxi amount ignored", Item{Kind: KindTaxiBooking, AmountKRW: 9999}, 0},
		{"payment double charged", Item{Kind: KindPayment, Failure: FailureDoubleCharged, AmountKRW: 50000, LossKRW: 3000}, 53000},
		{"payment failed", Item{Kind: KindPayment, Failure: "failed", AmountKRW: 50000, LossKRW: 3000}, 3000},
		{"message", Item{Kind: KindMessage, LossKRW: 400000, AmountKRW: 1}, 400000},
		{"other", Item{Kind: KindOther, LossKRW: 7, ExpectedFareKRW: 1, AlternativeCostKRW: 100}, 7},
		{"zero loss", Item{Kind: KindMessage}, 0},
		{"negative amounts count as zero", Item{Kind: KindPayment, Failure: FailureDoubleCharged, AmountKRW: -5, LossKRW: -9}, 0},
		{"negative fare", Item{Kind: KindTaxiBooking, ExpectedFareKRW: -100, AlternativeCostKRW: 50}, 50},
		{"extremes", Item{Kind: KindTaxiBooking, AlternativeCostKRW: MaxAmountKRW, LossKRW: MaxAmountKRW}, 2 * MaxAmountKRW},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := RawLoss(tt.item); got != tt.want {
				t.Errorf("RawLoss = %d, want %d", got, tt.want)
			}
		})
	}
}

func TestPrincipal(t *testing.T) {
	msg := func(loss int64, documented bool, start string) Item {
		return Item{ID: 9, Kind: KindMessage, Service: "kakaotalk", Feature: "text", LossKRW: loss, Documented: documented,
			Period: Period{Start: at(start)}}
	}
	taxi := func(alt int64) Item {
		return Item{ID: 9, Kind: KindTaxiBooking, Service: "kakao_t", Feature: "taxi", AlternativeCostKRW: alt, Documented: true,
			Period: Period{Start: at("2022-10-15 16:00")}}
	}
	tests := []struct {
		name string
		item Item
		want int64
	}{
		{"documented", msg(1001, true, "2022-10-15 16:00"), 1001},
		{"undocumented floors", msg(1001, false, "2022-10-15 16:00"), 500},
		{"degraded documented", msg(1001, true, "2022-10-16 12:00"), 500},
		{"degraded undocumented floors twice", msg(1003, false, "2022-10-16 12:00"), 250},
		{"zero loss", msg(0, true, "2022-10-15 16:00"), 0},
		{"below cap", taxi(299999), 299999},
		{"cap exactly reached", taxi(300000), 300000},
		{"above cap", taxi(300001), 300000},
		{"far above cap", taxi(MaxAmountKRW), 300000},
		{"ineligible", msg(1000, true, "2022-10-18 12:00"), 0},
	}
	v := defaultValuer(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cv := v.Value([]Item{tt.item})
			if got := cv.Items[0].PrincipalKRW; got != tt.want {
				t.Errorf("principal = %d, want %d", got, tt.want)
			}
		})
	}

	t.Run("no cap for a kind absent from the rules", func(t *testing.T) {
		r := defaultRules(t)
		delete(r.ItemCapKRW, KindTaxiBooking)
		v := NewValuer(kst, kakaoWindows(), r, date("2023-10-15"))
		if got := v.Value([]Item{taxi(MaxAmountKRW)}).Items[0].PrincipalKRW; got != MaxAmountKRW {
			t.Errorf("principal = %d, want %d", got, MaxAmountKRW)
		}
	})
	t.Run("zero loss still earns consolation", func(t *testing.T) {
		cv := v.Value([]Item{msg(0, true, "2022-10-15 16:00")})
		if len(cv.Consolations) != 1 || cv.Consolations[0].PrincipalKRW != 20000 {
			t.Errorf("consolations = %+v, want kakaotalk base 20,000", cv.Consolations)
		}
	})
}

func TestInterest(t *testing.T) {
	rules := func(served *Date) Rules {
		r := defaultRules(t)
		r.Interest.ComplaintServedOn = served
		return r
	}
	tests := []struct {
		name   string
		rules  Rules
		asOf   string
		start  string // local date-time of the item (KST)
		prin   int64
		want   Interest
		wantIn int64
	}{
		{
			name: "served before as_of", rules: rules(ptr(date("2023-03-02"))), asOf: "2023-10-15", start: "2022-10-15 18:30", prin: 19000,
			want: Interest{StartDate: date("2022-10-15"), CivilFrom: date("2022-10-15"), CivilTo: date("2023-03-02"), CivilDays: 139, CivilKRW: 361,
				LitigationFrom: date("2023-03-03"), LitigationTo: date("2023-10-15"), LitigationDays: 227, LitigationKRW: 1417},
		},
		{
			name: "not served: all civil", rules: rules(nil), asOf: "2023-10-15", start: "2022-10-15 18:30", prin: 19000,
			// 366 days: 19,000 x 500 x 366 / 3,650,000 = 952.6
			want: Interest{StartDate: date("2022-10-15"), CivilFrom: date("2022-10-15"), CivilTo: date("2023-10-15"), CivilDays: 366, CivilKRW: 952},
		},
		{
			name: "served after as_of: all civil", rules: rules(ptr(date("2023-10-16"))), asOf: "2023-10-15", start: "2022-10-15 18:30", prin: 19000,
			want: Interest{StartDate: date("2022-10-15"), CivilFrom: date("2022-10-15"), CivilTo: date("2023-10-15"), CivilDays: 366, CivilKRW: 952},
		},
		{
			name: "served on as_of: no litigation day yet", rules: rules(ptr(date("2023-10-15"))), asOf: "2023-10-15", start: "2022-10-15 18:30", prin: 19000,
			want: Interest{StartDate: date("2022-10-15"), CivilFrom: date("2022-10-15"), CivilTo: date("2023-10-15"), CivilDays: 366, CivilKRW: 952},
		},
		{
			name: "as_of before start: nothing", rules: rules(ptr(date("2023-03-02"))), asOf: "2022-10-14", start: "2022-10-15 18:30", prin: 19000,
			want: Interest{StartDate: date("2022-10-15")},
		},
		{
			name: "as_of on start: one civil day", rules: rules(nil), asOf: "2022-10-15", start: "2022-10-15 18:30", prin: 3650000,
			want: Interest{StartDate: date("2022-10-15"), CivilFrom: date("2022-10-15"), CivilTo: date("2022-10-15"), CivilDays: 1, CivilKRW: 500},
		},
		{
			name: "served before start: all litigation", rules: rules(ptr(date("2022-10-01"))), asOf: "2022-10-24", start: "2022-10-15 18:30", prin: 3650000,
			want: Interest{StartDate: date("2022-10-15"), LitigationFrom: date("2022-10-15"), LitigationTo: date("2022-10-24"), LitigationDays: 10, LitigationKRW: 12000},
		},
		{
			name: "served the day before start", rules: rules(ptr(date("2022-10-14"))), asOf: "2022-10-15", start: "2022-10-15 18:30", prin: 3650000,
			want: Interest{StartDate: date("2022-10-15"), LitigationFrom: date("2022-10-15"), LitigationTo: date("2022-10-15"), LitigationDays: 1, LitigationKRW: 1200},
		},
		{
			name: "start is the local date, not the UTC one", rules: rules(nil), asOf: "2022-10-16", start: "2022-10-16 08:59", prin: 3650000,
			// 2022-10-16 08:59 KST is 2022-10-15 23:59 UTC: the KST date counts.
			want: Interest{StartDate: date("2022-10-16"), CivilFrom: date("2022-10-16"), CivilTo: date("2022-10-16"), CivilDays: 1, CivilKRW: 500},
		},
		{
			name: "leap day counted, year still 365", rules: rules(nil), asOf: "2024-03-01", start: "2024-02-28 12:00", prin: 3650000,
			want: Interest{StartDate: date("2024-02-28"), CivilFrom: date("2024-02-28"), CivilTo: date("2024-03-01"), CivilDays: 3, CivilKRW: 1500},
		},
		{
			name: "litigation part crosses 2024-02-29", rules: rules(ptr(date("2023-03-02"))), asOf: "2024-03-01", start: "2022-10-15 18:30", prin: 19000,
			// litigation 2023-03-03..2024-03-01 = 365 days: 19,000 x 1,200 x 365 / 3,650,000 = 2,280
			want: Interest{StartDate: date("2022-10-15"), CivilFrom: date("2022-10-15"), CivilTo: date("2023-03-02"), CivilDays: 139, CivilKRW: 361,
				LitigationFrom: date("2023-03-03"), LitigationTo: date("2024-03-01"), LitigationDays: 365, LitigationKRW: 2280},
		},
		{
			name: "zero principal", rules: rules(nil), asOf: "2023-10-15", start: "2022-10-15 18:30", prin: 0,
			want: Interest{StartDate: date("2022-10-15"), CivilFrom: date("2022-10-15"), CivilTo: date("2023-10-15"), CivilDays: 366},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := NewValuer(kst, nil, tt.rules, date(tt.asOf))
			got := v.interest(tt.prin, DateOf(at(tt.start), kst))
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("interest (-want +got):\n%s", diff)
			}
		})
	}
}

func TestInterestExtremes(t *testing.T) {
	// principal 2e9 won (a taxi item with both fields at the maximum), 1000% a year,
	// 100 years: the product 2e9 x 1e5 x 36,525 = 7.3e18 is close to math.MaxInt64.
	r := defaultRules(t)
	r.Interest.CivilRateBPS = ptr(MaxBPS)
	r.Interest.ComplaintServedOn = nil
	delete(r.ItemCapKRW, KindTaxiBooking)
	it := Item{ID: 1, Kind: KindTaxiBooking, Service: "kakao_t", Feature: "taxi", Documented: true,
		Period: Period{Start: at("2022-10-15 16:00")}, AlternativeCostKRW: MaxAmountKRW, LossKRW: MaxAmountKRW}
	asOf := date("2022-10-15").AddDays(36525 - 1)
	v := NewValuer(kst, kakaoWindows(), r, asOf)
	iv := v.Value([]Item{it}).Items[0]
	if iv.Interest.CivilDays != 36525 {
		t.Fatalf("days = %d", iv.Interest.CivilDays)
	}
	// 2e9 x 100,000 x 36,525 / 3,650,000 = 2,001,369,863,013.698...
	if want := int64(2_001_369_863_013); iv.InterestKRW != want {
		t.Errorf("interest = %d, want %d", iv.InterestKRW, want)
	}

	// A whole claim of 50 such items stays far from overflow.
	items := make([]Item, MaxItemsPerClaim)
	for i := range items {
		items[i] = it
		items[i].ID = int64(i + 1)
	}
	cv := v.Value(items)
	if want := int64(50) * (2*MaxAmountKRW + 2_001_369_863_013); cv.TotalKRW != want+cv.Consolations[0].TotalKRW {
		t.Errorf("total = %d, want %d + consolation", cv.TotalKRW, want)
	}
}

func TestMulDiv(t *testing.T) {
	tests := []struct {
		a, b, c, d int64
		want       int64
	}{
		{19000, 500, 139, 3650000, 361},
		{0, 500, 139, 3650000, 0},
		{-5, 500, 139, 3650000, 0},
		{math.MaxInt64, 1, 1, 1, math.MaxInt64},
		{math.MaxInt64, 100000, 1, 3650000, 252695124297391118}, // a x b needs 128 bits: math/big path
		{math.MaxInt64, 3, 1, 4, 6917529027641081855},           // math/big path
		{math.MaxInt64, 100000, 10000, 3650000, math.MaxInt64},  // quotient does not fit: saturates
		{1e9, 1e5, 1e4, 3650000, 273972602739},                  // 1e18: the brief's extreme
		{4e12, 1e5, 1e5, 3650000, 10958904109589041},            // 128-bit fast path with a high word
	}
	for _, tt := range tests {
		if got := mulDiv3(tt.a, tt.b, tt.c, tt.d); got != tt.want {
			t.Errorf("mulDiv3(%d, %d, %d, %d) = %d, want %d", tt.a, tt.b, tt.c, tt.d, got, tt.want)
		}
	}
	if got := mulDiv(math.MaxInt64, 3, 2); got != math.MaxInt64 {
		t.Errorf("mulDiv saturation = %d", got)
	}
	if got := mulDiv(math.MaxInt64, 2, 4); got != math.MaxInt64/2 {
		t.Errorf("mulDiv(max, 2, 4) = %d", got)
	}
	if got := addKRW(math.MaxInt64, 1); got != math.MaxInt64 {
		t.Errorf("addKRW saturation = %d", got)
	}
}

func TestConsolation(t *testing.T) {
	text := func(id int64, from, to string) Item {
		it := Item{ID: id, Kind: KindMessage, Service: "kakaotalk", Feature: "text", Period: Period{Start: at(from)}}
		if to != "" {
			it.Period.End = at(to)
		}
		return it
	}
	media := func(id int64, from, to string) Item {
		it := text(id, from, to)
		it.Feature = "media"
		return it
	}
	type cons struct {
		Down, Degraded, Principal int64
		Start                     Date
	}
	tests := []struct {
		name   string
		policy Policy
		items  []Item
		want   []cons
	}{
		{"instant item: base only", PerFeature, []Item{text(1, "2022-10-15 20:00", "")},
			[]cons{{0, 0, 20000, date("2022-10-15")}}},
		{"down only", PerFeature, []Item{text(1, "2022-10-15 20:00", "2022-10-15 22:00")},
			[]cons{{7200, 0, 21000, date("2022-10-15")}}},
		{"period reaching before the window counts from the window", PerFeature, []Item{text(1, "2022-10-15 14:30", "2022-10-15 16:30")},
			[]cons{{3600, 0, 20500, date("2022-10-15")}}},
		{"degraded only", PerFeature, []Item{text(1, "2022-10-16 02:00", "2022-10-16 06:00")},
			// 500 x (14,400 x 5,000) / 36,000,000 = 1,000
			[]cons{{0, 14400, 21000, date("2022-10-16")}}},
		{"overlapping items never count twice", PerFeature, []Item{
			text(1, "2022-10-15 20:00", "2022-10-16 03:00"),
			text(2, "2022-10-15 21:00", "2022-10-16 02:00"),
			text(3, "2022-10-15 20:00", "2022-10-16 03:00"),
		}, []cons{{19860, 5340, 23129, date("2022-10-15")}}},
		{"disjoint items add up", PerFeature, []Item{
			text(1, "2022-10-15 16:00", "2022-10-15 17:00"),
			text(2, "2022-10-16 05:00", "2022-10-16 07:00"),
		}, []cons{{3600, 7200, 21000, date("2022-10-15")}}},
		{"earliest start date among eligible items", PerFeature, []Item{
			text(1, "2022-10-16 05:00", ""),
			text(2, "2022-10-15 16:00", ""),
			text(3, "2022-10-14 16:00", ""), // ineligible: does not move the start date
		}, []cons{{0, 0, 20000, date("2022-10-15")}}},
		{"long period over down and degraded", PerFeature, []Item{text(1, "2022-10-15 15:00", "2022-10-17 12:00")},
			// down 10h01m = 36,060 s; degraded 31h29m = 113,340 s: 20,000 + 500 x (360,600,000 + 566,700,000) / 36,000,000 = 32,879
			[]cons{{36060, 113340, 32879, date("2022-10-15")}}},
		{"per_service: degraded text under down media counts as down", PerService, []Item{text(1, "2022-10-16 01:00", "2022-10-16 03:00")},
			[]cons{{7200, 0, 21000, date("2022-10-16")}}},
		{"per_service: union across features", PerService, []Item{
			text(1, "2022-10-16 20:00", "2022-10-16 23:00"), // media down until 21:30, text degraded
			media(2, "2022-10-16 21:00", "2022-10-16 22:00"),
		}, []cons{{5400, 5400, 21125, date("2022-10-16")}}},
		{"whole incident: all down", WholeIncident, []Item{text(1, "2022-10-18 00:00", "2022-10-18 02:00")},
			[]cons{{7200, 0, 21000, date("2022-10-18")}}},
		{"ineligible only: no consolation", PerFeature, []Item{text(1, "2022-10-18 00:00", "2022-10-18 02:00")}, nil},
		{"service without a consolation rule", PerFeature, []Item{{ID: 1, Kind: KindOther, Service: "daum", Feature: "mail", Period: Period{Start: at("2022-10-16 12:00")}}}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := defaultRules(t)
			r.WindowPolicy = tt.policy
			v := NewValuer(kst, kakaoWindows(), r, date("2023-10-15"))
			cv := v.Value(tt.items)
			var got []cons
			for _, c := range cv.Consolations {
				got = append(got, cons{c.DownSeconds, c.DegradedSeconds, c.PrincipalKRW, c.Interest.StartDate})
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("consolations (-want +got):\n%s", diff)
			}
		})
	}

	t.Run("cap", func(t *testing.T) {
		rule := consolationRule{base: 20000, perHour: 500, cap: 100000}
		if got := consolationAmount(rule, 160*3600, 0, 5000); got != 100000 {
			t.Errorf("exactly at the cap: %d", got)
		}
		if got := consolationAmount(rule, 161*3600, 0, 5000); got != 100000 {
			t.Errorf("above the cap: %d", got)
		}
		if got := consolationAmount(rule, 159*3600, 0, 5000); got != 99500 {
			t.Errorf("below the cap: %d", got)
		}
	})
}

func TestPolicies(t *testing.T) {
	// A media item late on 10-16: the text feature is only degraded, media is down until 21:30.
	media := Item{ID: 1, Kind: KindMessage, Service: "kakaotalk", Feature: "media", LossKRW: 1000, Documented: true,
		Period: Period{Start: at("2022-10-16 22:00")}}
	text := Item{ID: 2, Kind: KindMessage, Service: "kakaotalk", Feature: "text", LossKRW: 1000, Documented: true,
		Period: Period{Start: at("2022-10-16 12:00")}}
	late := Item{ID: 3, Kind: KindOther, Service: "kakao_map", Feature: "map", LossKRW: 1000, Documented: true,
		Period: Period{Start: at("2022-10-20 22:59:59")}}
	tests := []struct {
		policy Policy
		want   []Status
	}{
		{PerFeature, []Status{Ineligible, EligibleDegraded, Ineligible}},
		{PerService, []Status{EligibleDegraded, Eligible, Ineligible}},
		{WholeIncident, []Status{Eligible, Eligible, Eligible}},
	}
	for _, tt := range tests {
		t.Run(string(tt.policy), func(t *testing.T) {
			r := defaultRules(t)
			r.WindowPolicy = tt.policy
			v := NewValuer(kst, kakaoWindows(), r, date("2023-10-15"))
			cv := v.Value([]Item{media, text, late})
			var got []Status
			for _, iv := range cv.Items {
				got = append(got, iv.Decision.Status)
				if d := v.Decide(media); iv.ItemID == 1 && d.Status != iv.Decision.Status {
					t.Errorf("Valuer.Decide = %v, Value says %v", d.Status, iv.Decision.Status)
				}
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("statuses (-want +got):\n%s", diff)
			}
		})
	}
}

func TestBenchmark(t *testing.T) {
	msg := func(id, loss int64, purpose, start string) Item {
		return Item{ID: id, Kind: KindMessage, Service: "kakaotalk", Feature: "text", Purpose: purpose, LossKRW: loss,
			Documented: true, Period: Period{Start: at(start)}}
	}
	tests := []struct {
		name string
		item Item
		want BenchmarkResult
	}{
		{"zero loss: first tier", msg(1, 0, "business", "2022-10-15 16:00"), BenchmarkResult{Matched: true, PayKRW: 30000}},
		{"first tier limit", msg(1, 300000, "business", "2022-10-15 16:00"), BenchmarkResult{Matched: true, PayKRW: 30000}},
		{"second tier", msg(1, 300001, "business", "2022-10-15 16:00"), BenchmarkResult{Matched: true, PayKRW: 50000}},
		{"last tier limit", msg(1, 500000, "business", "2022-10-15 16:00"), BenchmarkResult{Matched: true, PayKRW: 50000}},
		{"above: individual review", msg(1, 500001, "business", "2022-10-15 16:00"), BenchmarkResult{Matched: true, Review: true}},
		{"other purpose", msg(1, 1000, "personal", "2022-10-15 16:00"), BenchmarkResult{}},
		{"other kind", Item{ID: 1, Kind: KindTaxiBooking, Service: "kakao_t", Feature: "taxi", Purpose: "business", Period: Period{Start: at("2022-10-15 16:00")}}, BenchmarkResult{}},
		{"ineligible", msg(1, 1000, "business", "2022-10-18 16:00"), BenchmarkResult{}},
	}
	v := defaultValuer(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, v.Value([]Item{tt.item}).Items[0].Benchmark); diff != "" {
				t.Errorf("benchmark (-want +got):\n%s", diff)
			}
		})
	}
	t.Run("any purpose when unset", func(t *testing.T) {
		r := defaultRules(t)
		r.Benchmark.Purpose = ""
		v := NewValuer(kst, kakaoWindows(), r, date("2023-10-15"))
		got := v.Value([]Item{msg(1, 1000, "personal", "2022-10-15 16:00")}).Items[0].Benchmark
		if !got.Matched || got.PayKRW != 30000 {
			t.Errorf("benchmark = %+v", got)
		}
	})
	t.Run("no benchmark", func(t *testing.T) {
		r := defaultRules(t)
		r.Benchmark = nil
		v := NewValuer(kst, kakaoWindows(), r, date("2023-10-15"))
		if got := v.Value([]Item{msg(1, 1000, "business", "2022-10-15 16:00")}).Items[0].Benchmark; got.Matched {
			t.Errorf("benchmark = %+v", got)
		}
	})
}

func TestValueIntoReuses(t *testing.T) {
	v := defaultValuer(t)
	var cv ClaimValuation
	v.ValueInto(&cv, []Item{taxiItem, messageItem, doubleChargeItem})
	first := cv.TotalKRW
	v.ValueInto(&cv, []Item{lateTaxiItem})
	if len(cv.Items) != 1 || len(cv.Consolations) != 0 || cv.TotalKRW != 0 {
		t.Fatalf("second claim kept state of the first: %+v", cv)
	}
	v.ValueInto(&cv, []Item{taxiItem, messageItem, doubleChargeItem})
	if cv.TotalKRW != first {
		t.Errorf("total = %d, want %d", cv.TotalKRW, first)
	}
	if allocs := testing.AllocsPerRun(100, func() {
		v.ValueInto(&cv, []Item{taxiItem, messageItem, doubleChargeItem})
	}); allocs != 0 {
		t.Errorf("ValueInto allocates %v times per claim, want 0", allocs)
	}
}

func TestValuerIsolatedFromInputs(t *testing.T) {
	r := defaultRules(t)
	ws := kakaoWindows()
	v := NewValuer(kst, ws, r, date("2023-10-15"))
	want := v.Value([]Item{taxiItem}).TotalKRW
	ws[3].End = ws[3].Start.Add(1)     // the caller changes its slices afterwards
	*r.ItemCapKRW[KindTaxiBooking] = 1 // through the pointer the valuer was given
	*r.Consolation["kakao_t"].CapKRW = 0
	if got := v.Value([]Item{taxiItem}).TotalKRW; got != want {
		t.Errorf("total changed with the caller's data: %d, want %d", got, want)
	}
}

func TestValueConcurrent(t *testing.T) {
	v := defaultValuer(t)
	want := v.Value([]Item{taxiItem, messageItem, doubleChargeItem}).TotalKRW
	done := make(chan int64)
	for range 8 {
		go func() {
			var cv ClaimValuation
			for range 100 {
				v.ValueInto(&cv, []Item{taxiItem, messageItem, doubleChargeItem})
			}
			done <- cv.TotalKRW
		}()
	}
	for range 8 {
		if got := <-done; got != want {
			t.Errorf("total = %d, want %d", got, want)
		}
	}
}

func TestNilLocationIsUTC(t *testing.T) {
	r := defaultRules(t)
	v := NewValuer(nil, kakaoWindows(), r, date("2023-10-15"))
	// 2022-10-16 08:59 KST is still 10-15 in UTC.
	it := doubleChargeItem
	it.Period.Start = at("2022-10-16 08:59")
	if got := v.Value([]Item{it}).Items[0].Interest.StartDate; got != date("2022-10-15") {
		t.Errorf("start date = %v", got)
	}
}
