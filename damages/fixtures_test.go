package damages

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
	_ "time/tzdata" // tests do not depend on the machine's zone database
)

var kst = mustLoad("Asia/Seoul")

func mustLoad(name string) *time.Location {
	loc, err := time.LoadLocation(name)
	if err != nil {
		panic(err)
	}
	return loc
}

// at parses a KST instant "2022-10-15 15:30" or "2022-10-15 15:30:05".
func at(s string) time.Time {
	layout := "2006-01-02 15:04"
	if strings.Count(s, ":") == 2 {
		layout = "2006-01-02 15:04:05"
	}
	t, err := time.ParseInLocation(layout, s, kst)
	if err != nil {
		panic(err)
	}
	return t
}

func date(s string) Date {
	d, err := ParseDate(s)
	if err != nil {
		panic(err)
	}
	return d
}

func ptr[T any](v T) *T { return &v }

// kakaoWindows are the windows of /work/shared/kakao-2022-outage.md that the tests use.
func kakaoWindows() []Window {
	return []Window{
		{ID: 1, Service: "kakaotalk", Feature: "text", Severity: Down, Start: at("2022-10-15 15:30"), End: at("2022-10-16 01:31")},
		{ID: 2, Service: "kakaotalk", Feature: "text", Severity: Degraded, Start: at("2022-10-16 01:31"), End: at("2022-10-17 09:00")},
		{ID: 3, Service: "kakaotalk", Feature: "media", Severity: Down, Start: at("2022-10-15 15:30"), End: at("2022-10-16 21:30")},
		{ID: 4, Service: "kakao_t", Feature: "taxi", Severity: Down, Start: at("2022-10-15 15:30"), End: at("2022-10-16 14:00")},
		{ID: 5, Service: "kakao_t", Feature: "designated_driver", Severity: Down, Start: at("2022-10-15 15:30"), End: at("2022-10-16 08:00")},
		{ID: 6, Service: "kakao_pay", Feature: "payments", Severity: Down, Start: at("2022-10-15 15:30"), End: at("2022-10-16 08:00")},
		{ID: 7, Service: "kakao_pay", Feature: "payments", Severity: Degraded, Start: at("2022-10-16 08:00"), End: at("2022-10-16 10:30")},
		{ID: 8, Service: "daum", Feature: "mail", Severity: Down, Start: at("2022-10-15 15:30"), End: at("2022-10-19 06:00")},
		{ID: 9, Service: "daum", Feature: "mail", Severity: Degraded, Start: at("2022-10-19 06:00"), End: at("2022-10-20 23:00")},
	}
}

// catalog is a Catalog from service to features.
type catalog map[string][]string

func (c catalog) HasService(s string) bool { _, ok := c[s]; return ok }

func (c catalog) HasFeature(s, f string) bool {
	for _, x := range c[s] {
		if x == f {
			return true
		}
	}
	return false
}

var kakaoCatalog = catalog{
	"kakaotalk": {"text", "media", "pc", "channel"},
	"kakao_t":   {"taxi", "designated_driver"},
	"kakao_pay": {"payments", "transfers"},
	"daum":      {"mail", "cafe"},
	"kakao_map": {"map"},
}

// defaultRulesJSON is the default rule set of the brief.
const defaultRulesJSON = `{
  "window_policy": "per_feature",
  "as_of": "2023-10-15",
  "evidence_factor_bps": {"documented": 10000, "undocumented": 5000},
  "degraded_factor_bps": 5000,
  "item_cap_krw": {"taxi_booking": 300000, "payment": 2000000, "message": 5000000, "other": 1000000},
  "consolation": {
    "kakaotalk": {"base_krw": 20000, "per_hour_krw": 500, "cap_krw": 100000},
    "kakao_t": {"base_krw": 10000, "per_hour_krw": 0, "cap_krw": 10000},
    "kakao_pay": {"base_krw": 10000, "per_hour_krw": 0, "cap_krw": 10000}
  },
  "interest": {"civil_rate_bps": 500, "litigation_rate_bps": 1200, "complaint_served_on": "2023-03-02"},
  "benchmark": {"label": "Kakao small-business scheme", "kind": "message", "purpose": "business",
                "tiers": [{"up_to_krw": 300000, "pay_krw": 30000}, {"up_to_krw": 500000, "pay_krw": 50000}]}
}`

func decodeRules(t testing.TB, s string) Rules {
	t.Helper()
	dec := json.NewDecoder(strings.NewReader(s))
	dec.DisallowUnknownFields()
	var r Rules
	if err := dec.Decode(&r); err != nil {
		t.Fatalf("decode rules: %v", err)
	}
	return r
}

func defaultRules(t testing.TB) Rules { return decodeRules(t, defaultRulesJSON) }

func defaultValuer(t testing.TB) *Valuer {
	r := defaultRules(t)
	return NewValuer(kst, kakaoWindows(), r, r.ValuationDate(Date{}))
}

// The items of the brief's worked examples.
var (
	taxiItem = Item{ID: 1, Kind: KindTaxiBooking, Service: "kakao_t", Feature: "taxi",
		Period: Period{Start: at("2022-10-15 18:30")}, ExpectedFareKRW: 12000, AlternativeCostKRW: 31000, Documented: true}
	messageItem = Item{ID: 2, Kind: KindMessage, Service: "kakaotalk", Feature: "text", Purpose: "business",
		Period: Period{Start: at("2022-10-15 20:00"), End: at("2022-10-16 03:00")}, LossKRW: 400000}
	doubleChargeItem = Item{ID: 3, Kind: KindPayment, Service: "kakao_pay", Feature: "payments", Failure: FailureDoubleCharged,
		Period: Period{Start: at("2022-10-16 09:00")}, AmountKRW: 50000, Documented: true}
	lateTaxiItem = Item{ID: 4, Kind: KindTaxiBooking, Service: "kakao_t", Feature: "taxi",
		Period: Period{Start: at("2022-10-16 14:00:00")}, ExpectedFareKRW: 12000, AlternativeCostKRW: 31000, Documented: true}
)
