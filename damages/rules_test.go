package damages

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestRulesDecodeAndValidate(t *testing.T) {
	r := defaultRules(t)
	if p := r.Validate(kakaoCatalog); len(p) != 0 {
		t.Fatalf("default rules: %+v", p)
	}
	want := Rules{
		WindowPolicy:      PerFeature,
		AsOf:              ptr(date("2023-10-15")),
		EvidenceFactorBPS: EvidenceFactors{Documented: ptr[int64](10000), Undocumented: ptr[int64](5000)},
		DegradedFactorBPS: ptr[int64](5000),
		ItemCapKRW: map[string]*int64{"taxi_booking": ptr[int64](300000), "payment": ptr[int64](2000000), "message": ptr[int64](5000000),
			"other": ptr[int64](1000000)},
		Consolation: map[string]ConsolationRule{
			"kakaotalk": {BaseKRW: 20000, PerHourKRW: 500, CapKRW: ptr[int64](100000)},
			"kakao_t":   {BaseKRW: 10000, CapKRW: ptr[int64](10000)},
			"kakao_pay": {BaseKRW: 10000, CapKRW: ptr[int64](10000)},
		},
		Interest: InterestRules{CivilRateBPS: ptr[int64](500), LitigationRateBPS: ptr[int64](1200), ComplaintServedOn: ptr(date("2023-03-02"))},
		Benchmark: &Benchmark{Label: "Kakao small-business scheme", Kind: KindMessage, Purpose: "business",
			Tiers: []BenchmarkTier{{UpToKRW: 300000, PayKRW: 30000}, {UpToKRW: 500000, PayKRW: 50000}}},
	}
	if diff := cmp.Diff(want, r); diff != "" {
		t.Errorf("decoded (-want +got):\n%s", diff)
	}
	// It survives a round trip.
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(r, decodeRules(t, string(b))); diff != "" {
		t.Errorf("round trip (-want +got):\n%s", diff)
	}
	// as_of null: the caller's today.
	r.AsOf = nil
	if got := r.ValuationDate(date("2024-01-02")); got != date("2024-01-02") {
		t.Errorf("ValuationDate = %v", got)
	}
}

func TestRulesValidate(t *testing.T) {
	tests := []struct {
		name   string
		change func(r *Rules)
		want   []Problem
	}{
		{"policy required", func(r *Rules) { r.WindowPolicy = "" },
			[]Problem{{Path: "window_policy", Code: "required"}}},
		{"policy unknown", func(r *Rules) { r.WindowPolicy = "per_day" },
			[]Problem{{Path: "window_policy", Code: "invalid_value", Params: map[string]string{"value": "per_day", "allowed": "per_feature, per_service, whole_incident"}}}},
		{"factors required", func(r *Rules) {
			r.EvidenceFactorBPS = EvidenceFactors{}
			r.DegradedFactorBPS = nil
		}, []Problem{
			{Path: "evidence_factor_bps.documented", Code: "required"},
			{Path: "evidence_factor_bps.undocumented", Code: "required"},
			{Path: "degraded_factor_bps", Code: "required"},
		}},
		{"factors out of range", func(r *Rules) {
			r.EvidenceFactorBPS.Documented = ptr[int64](-1)
			r.DegradedFactorBPS = ptr[int64](100001)
		}, []Problem{
			{Path: "evidence_factor_bps.documented", Code: "out_of_range", Params: map[string]string{"min": "0", "max": "100000"}},
			{Path: "degraded_factor_bps", Code: "out_of_range", Params: map[string]string{"min": "0", "max": "100000"}},
		}},
		{"factor bounds allowed", func(r *Rules) {
			r.EvidenceFactorBPS.Undocumented = ptr[int64](0)
			r.DegradedFactorBPS = ptr[int64](100000)
		}, nil},
		{"unknown kind and negative cap", func(r *Rules) {
			r.ItemCapKRW["bike"] = ptr[int64](1)
			r.ItemCapKRW["taxi_booking"] = ptr[int64](-1)
		}, []Problem{
			{Path: "item_cap_krw.bike", Code: "invalid_value", Params: map[string]string{"value": "bike", "allowed": "taxi_booking, payment, message, other"}},
			{Path: "item_cap_krw.taxi_booking", Code: "out_of_range", Params: map[string]string{"min": "0", "max": "1000000000"}},
		}},
		{"consolation", func(r *Rules) {
			r.Consolation["line"] = ConsolationRule{}
			r.Consolation["kakaotalk"] = ConsolationRule{BaseKRW: 20000, PerHourKRW: -500, CapKRW: ptr[int64](10000)}
		}, []Problem{
			{Path: "consolation.kakaotalk.per_hour_krw", Code: "out_of_range", Params: map[string]string{"min": "0", "max": "1000000000"}},
			{Path: "consolation.kakaotalk.cap_krw", Code: "out_of_range", Params: map[string]string{"min": "20000"}},
			{Path: "consolation.line", Code: "unknown_service", Params: map[string]string{"value": "line"}},
		}},
		{"consolation cap equal to base", func(r *Rules) { r.Consolation["kakaotalk"] = ConsolationRule{BaseKRW: 1, CapKRW: ptr[int64](1)} }, nil},
		{"amount above the maximum", func(r *Rules) { r.Consolation["kakaotalk"] = ConsolationRule{CapKRW: ptr[int64](MaxAmountKRW + 1)} },
			[]Problem{{Path: "consolation.kakaotalk.cap_krw", Code: "out_of_range", Params: map[string]string{"min": "0", "max": "1000000000"}}}},
		{"interest", func(r *Rules) {
			r.Interest = InterestRules{LitigationRateBPS: ptr[int64](-5), ComplaintServedOn: &Date{2023, 2, 29}}
			r.AsOf = &Date{2023, 13, 1}
		}, []Problem{
			{Path: "as_of", Code: "invalid_value", Params: map[string]string{"format": "YYYY-MM-DD"}},
			{Path: "interest.civil_rate_bps", Code: "required"},
			{Path: "interest.litigation_rate_bps", Code: "out_of_range", Params: map[string]string{"min": "0", "max": "100000"}},
			{Path: "interest.complaint_served_on", Code: "invalid_value", Params: map[string]string{"format": "YYYY-MM-DD"}},
		}},
		{"not served and no as_of are fine", func(r *Rules) { r.Interest.ComplaintServedOn, r.AsOf = nil, nil }, nil},
		{"benchmark", func(r *Rules) {
			r.Benchmark = &Benchmark{Kind: "sms", Tiers: []BenchmarkTier{{UpToKRW: 500, PayKRW: 1}, {UpToKRW: 500, PayKRW: -1}, {UpToKRW: 400}}}
		}, []Problem{
			{Path: "benchmark.kind", Code: "invalid_value", Params: map[string]string{"value": "sms", "allowed": "taxi_booking, payment, message, other"}},
			{Path: "benchmark.tiers[1].pay_krw", Code: "out_of_range", Params: map[string]string{"min": "0", "max": "1000000000"}},
			{Path: "benchmark.tiers[1].up_to_krw", Code: "invalid_value", Params: map[string]string{"reason": "tiers must be in strictly ascending up_to_krw", "min": "501"}},
			{Path: "benchmark.tiers[2].up_to_krw", Code: "invalid_value", Params: map[string]string{"reason": "tiers must be in strictly ascending up_to_krw", "min": "501"}},
		}},
		{"benchmark empty", func(r *Rules) { r.Benchmark = &Benchmark{} }, []Problem{
			{Path: "benchmark.kind", Code: "required"},
			{Path: "benchmark.tiers", Code: "required"},
		}},
		{"no benchmark", func(r *Rules) { r.Benchmark = nil }, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := defaultRules(t)
			tt.change(&r)
			if diff := cmp.Diff(tt.want, r.Validate(kakaoCatalog)); diff != "" {
				t.Errorf("Validate (-want +got):\n%s", diff)
			}
		})
	}
}

func TestRulesUnknownKeysRejectedByStrictDecoder(t *testing.T) {
	var r Rules
	dec := json.NewDecoder(strings.NewReader(`{"window_policy": "per_feature", "interest": {"civil_rate": 500}}`))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&r); err == nil {
		t.Error("unknown key accepted")
	}
}

// TestRulesNullOrMissingCaps: a cap given as null or left out of a consolation rule would read
// as 0 (every taxi principal 0, every consolation 0); Validate refuses both with their paths,
// while ValidateStored lets a rule set stored before these checks be read, valued as it was.
func TestRulesNullOrMissingCaps(t *testing.T) {
	tests := []struct {
		name, old, new string
		want           []Problem
	}{
		{"item cap null", `"taxi_booking": 300000`, `"taxi_booking": null`, []Problem{{Path: "item_cap_krw.taxi_booking", Code: "invalid_value",
			Params: map[string]string{"value": "null", "reason": "leave the kind out for no cap"}}}},
		{"consolation cap missing", `"per_hour_krw": 0, "cap_krw": 10000}`, `"per_hour_krw": 500}`,
			[]Problem{{Path: "consolation.kakao_t.cap_krw", Code: "required"}}},
		{"consolation cap null", `"base_krw": 20000, "per_hour_krw": 500, "cap_krw": 100000`, `"base_krw": 20000, "per_hour_krw": 500, "cap_krw": null`,
			[]Problem{{Path: "consolation.kakaotalk.cap_krw", Code: "required"}}},
		{"item cap left out: no cap", `"taxi_booking": 300000, `, ``, nil},
		{"consolation per hour left out: 0", `"base_krw": 10000, "per_hour_krw": 0, "cap_krw": 10000}`, `"base_krw": 10000, "cap_krw": 10000}`, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc := strings.Replace(defaultRulesJSON, tt.old, tt.new, 1)
			if doc == defaultRulesJSON {
				t.Fatalf("%q not in the default rules", tt.old)
			}
			r := decodeRules(t, doc)
			if diff := cmp.Diff(tt.want, r.Validate(kakaoCatalog)); diff != "" {
				t.Errorf("Validate (-want +got):\n%s", diff)
			}
			if p := r.ValidateStored(kakaoCatalog); len(p) != 0 {
				t.Errorf("ValidateStored: %+v", p)
			}
		})
	}

	// Stored before the checks: read as 0, as when they were stored.
	r := decodeRules(t, strings.Replace(defaultRulesJSON, `"taxi_booking": 300000`, `"taxi_booking": null`, 1))
	if got := NewValuer(kst, kakaoWindows(), r, date("2023-10-15")).Value([]Item{taxiItem}).Items[0].PrincipalKRW; got != 0 {
		t.Errorf("stored null taxi cap: principal %d, want 0 (as stored)", got)
	}
}

// TestRulesFieldBounds: every integer parameter of a rule set (a map of them included) declares
// its range, so the decoder reports a number too large for int64 out of it and not out of
// int64's; a field that is not an integer declares none.
func TestRulesFieldBounds(t *testing.T) {
	type bounder interface {
		FieldBounds(name string) (lo, hi int64, ok bool)
	}
	for _, v := range []bounder{Rules{}, EvidenceFactors{}, ConsolationRule{}, InterestRules{}, BenchmarkTier{}} {
		rt := reflect.TypeOf(v)
		for i := range rt.NumField() {
			f := rt.Field(i)
			name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			ft := f.Type
			if ft.Kind() == reflect.Map {
				ft = ft.Elem()
			}
			if ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			integer := ft.Kind() == reflect.Int64
			lo, hi, ok := v.FieldBounds(name)
			if ok != integer || ok && lo > hi {
				t.Errorf("%s.%s: FieldBounds = %d, %d, %v", rt.Name(), name, lo, hi, ok)
			}
		}
	}
}
