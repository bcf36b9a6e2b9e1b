package damages

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// Item kinds: what a claimed item is, which decides its raw loss (rule 1) and its cap (rule 2).
const (
	KindTaxiBooking = "taxi_booking"
	KindPayment     = "payment"
	KindMessage     = "message"
	KindOther       = "other"
)

// FailureDoubleCharged is the payment failure whose charged amount is itself a loss (rule 1).
const FailureDoubleCharged = "double_charged"

// Kinds lists the item kinds in a stable order.
func Kinds() []string { return []string{KindTaxiBooking, KindPayment, KindMessage, KindOther} }

func validKind(k string) bool {
	return k == KindTaxiBooking || k == KindPayment || k == KindMessage || k == KindOther
}

// Rules is a rule set: the parameters of the methodology (docs/methodology.md) that a lawyer
// may change per case. The JSON key names are part of the API and of stored case data.
//
// The parameters whose silent zero would change the result (factors, rates, item caps and
// consolation caps) are pointers so that Validate can tell "missing" or null from 0; NewValuer
// reads a nil one as 0, which is what a rule set stored before Validate checked them meant.
type Rules struct {
	// WindowPolicy selects the windows an item is checked against (eligibility).
	WindowPolicy Policy `json:"window_policy"`
	// AsOf is the valuation date; nil means "today in the case zone", which the caller
	// decides (see ValuationDate) because this package has no clock.
	AsOf *Date `json:"as_of"`
	// EvidenceFactorBPS weighs a raw loss by its evidence (rule 2).
	EvidenceFactorBPS EvidenceFactors `json:"evidence_factor_bps"`
	// DegradedFactorBPS weighs an eligible_degraded item (rule 2) and degraded seconds
	// (rule 3).
	DegradedFactorBPS *int64 `json:"degraded_factor_bps"`
	// ItemCapKRW caps the economic principal per item kind (rule 2); a kind absent has no cap.
	// A kind given as null is not "no cap" (it would read as a cap of 0): Validate refuses it.
	ItemCapKRW map[string]*int64 `json:"item_cap_krw"`
	// Consolation is the consolation money (위자료) per service (rule 3); a service absent
	// gets none.
	Consolation map[string]ConsolationRule `json:"consolation"`
	// Interest is the delay interest (지연손해금) (rule 4).
	Interest InterestRules `json:"interest"`
	// Benchmark is an outside compensation scheme to compare the claims with (rule 5); nil
	// when there is none.
	Benchmark *Benchmark `json:"benchmark,omitempty"`
}

// EvidenceFactors are the rule 2 factors in basis points for items with and without evidence.
type EvidenceFactors struct {
	Documented   *int64 `json:"documented"`
	Undocumented *int64 `json:"undocumented"`
}

// ConsolationRule is the consolation money of one service (rule 3): base + per hour of outage,
// at most the cap. A missing base or per-hour amount is 0 (no base, nothing per hour: stored
// rule sets leave per_hour_krw out); a missing cap would make every consolation 0, so it is a
// pointer and required.
type ConsolationRule struct {
	BaseKRW    int64  `json:"base_krw"`
	PerHourKRW int64  `json:"per_hour_krw"`
	CapKRW     *int64 `json:"cap_krw"`
}

// Cap is the cap as the valuation reads it: a null cap (only in a rule set stored before
// Validate refused it) is 0.
func (c ConsolationRule) Cap() int64 { return deref(c.CapKRW) }

// ItemCap is kind's item cap as the valuation reads it (a null one, stored before Validate
// refused it, is 0), and whether the kind has one.
func (r Rules) ItemCap(kind string) (int64, bool) {
	c, ok := r.ItemCapKRW[kind]
	return deref(c), ok
}

// InterestRules are the rule 4 parameters: the civil rate (민법 제379조, 5%) runs from the
// day of the loss through the day the complaint is served, the litigation rate (소송촉진 등에
// 관한 특례법 제3조, 12%) from the day after. ComplaintServedOn nil: not served yet.
type InterestRules struct {
	CivilRateBPS      *int64 `json:"civil_rate_bps"`
	LitigationRateBPS *int64 `json:"litigation_rate_bps"`
	ComplaintServedOn *Date  `json:"complaint_served_on"`
}

// Benchmark is a tiered flat compensation scheme, such as Kakao's for small businesses
// (loss up to 300,000 won: 30,000; up to 500,000: 50,000; above: individual review). It
// applies to items of Kind and, when Purpose is set, of that purpose.
type Benchmark struct {
	Label   string          `json:"label"`
	Kind    string          `json:"kind"`
	Purpose string          `json:"purpose,omitempty"`
	Tiers   []BenchmarkTier `json:"tiers"`
}

// BenchmarkTier pays PayKRW for a raw loss of at most UpToKRW.
type BenchmarkTier struct {
	UpToKRW int64 `json:"up_to_krw"`
	PayKRW  int64 `json:"pay_krw"`
}

// ValuationDate returns the rules' as-of date, or today (the caller's date in the case zone)
// when the rules leave it open.
func (r Rules) ValuationDate(today Date) Date {
	if r.AsOf != nil {
		return *r.AsOf
	}
	return today
}

// Validate checks the rules semantically against the case's catalog of services. Paths are
// relative to the rules object ("consolation.kakaotalk.cap_krw", "benchmark.tiers[1].up_to_krw").
// Codes: required, invalid_value, out_of_range, unknown_service. Unknown JSON keys are the
// decoder's business, not this function's. Problems come in a stable order.
func (r Rules) Validate(cat Catalog) []Problem { return r.validate(cat, true) }

// ValidateStored is Validate for a rule set already stored, which must stay readable: it leaves
// out the checks of null item caps and missing consolation caps, which rule sets stored before
// them may fail. NewValuer reads those as 0, as they were read (and valued) when stored.
func (r Rules) ValidateStored(cat Catalog) []Problem { return r.validate(cat, false) }

func (r Rules) validate(cat Catalog, caps bool) []Problem {
	var out []Problem
	add := func(path, code string, params map[string]string) {
		out = append(out, Problem{Path: path, Code: code, Params: params})
	}
	// inRange checks the parameter of JSON name name, at path, against the range its type
	// declares in rs.
	inRange := func(path string, rs paramRanges, name string, v int64) {
		if r := rs.of(name); v < r.lo || v > r.hi {
			add(path, "out_of_range", rangeParams(r.lo, r.hi))
		}
	}
	// required is inRange for a rate or factor, whose silent zero would change the result.
	required := func(path string, rs paramRanges, name string, v *int64) {
		if v == nil {
			add(path, "required", nil)
			return
		}
		inRange(path, rs, name, *v)
	}
	date := func(path string, d *Date) {
		if d != nil && !d.Valid() {
			add(path, "invalid_value", map[string]string{"format": "YYYY-MM-DD"})
		}
	}

	switch {
	case r.WindowPolicy == "":
		add("window_policy", "required", nil)
	case !r.WindowPolicy.Valid():
		add("window_policy", "invalid_value", map[string]string{
			"value": string(r.WindowPolicy), "allowed": "per_feature, per_service, whole_incident"})
	}
	date("as_of", r.AsOf)
	required("evidence_factor_bps.documented", evidenceRanges, "documented", r.EvidenceFactorBPS.Documented)
	required("evidence_factor_bps.undocumented", evidenceRanges, "undocumented", r.EvidenceFactorBPS.Undocumented)
	required("degraded_factor_bps", rulesRanges, "degraded_factor_bps", r.DegradedFactorBPS)

	for _, k := range sortedKeys(r.ItemCapKRW) {
		path := "item_cap_krw." + k
		switch c := r.ItemCapKRW[k]; {
		case !validKind(k):
			add(path, "invalid_value", map[string]string{"value": k, "allowed": strings.Join(Kinds(), ", ")})
		case c == nil:
			// null read as a cap of 0 would pay nothing for the kind; "no cap" is the kind
			// left out.
			if caps {
				add(path, "invalid_value", map[string]string{"value": "null", "reason": "leave the kind out for no cap"})
			}
		default:
			inRange(path, rulesRanges, "item_cap_krw", *c)
		}
	}

	for _, s := range sortedKeys(r.Consolation) {
		path := "consolation." + s
		if cat == nil || !cat.HasService(s) {
			add(path, "unknown_service", map[string]string{"value": s})
			continue
		}
		c := r.Consolation[s]
		inRange(path+".base_krw", consolationRanges, "base_krw", c.BaseKRW)
		inRange(path+".per_hour_krw", consolationRanges, "per_hour_krw", c.PerHourKRW)
		if c.CapKRW == nil {
			// Missing or null: a cap of 0 would make the service's consolation always 0.
			if caps {
				add(path+".cap_krw", "required", nil)
			}
			continue
		}
		inRange(path+".cap_krw", consolationRanges, "cap_krw", *c.CapKRW)
		if *c.CapKRW >= 0 && c.BaseKRW >= 0 && *c.CapKRW < c.BaseKRW {
			add(path+".cap_krw", "out_of_range", map[string]string{"min": strconv.FormatInt(c.BaseKRW, 10)})
		}
	}

	required("interest.civil_rate_bps", interestRanges, "civil_rate_bps", r.Interest.CivilRateBPS)
	required("interest.litigation_rate_bps", interestRanges, "litigation_rate_bps", r.Interest.LitigationRateBPS)
	date("interest.complaint_served_on", r.Interest.ComplaintServedOn)

	if b := r.Benchmark; b != nil {
		switch {
		case b.Kind == "":
			add("benchmark.kind", "required", nil)
		case !validKind(b.Kind):
			add("benchmark.kind", "invalid_value", map[string]string{"value": b.Kind, "allowed": strings.Join(Kinds(), ", ")})
		}
		if len(b.Tiers) == 0 {
			add("benchmark.tiers", "required", nil)
		}
		for i, t := range b.Tiers {
			path := fmt.Sprintf("benchmark.tiers[%d]", i)
			inRange(path+".up_to_krw", tierRanges, "up_to_krw", t.UpToKRW)
			inRange(path+".pay_krw", tierRanges, "pay_krw", t.PayKRW)
			if i > 0 && t.UpToKRW <= b.Tiers[i-1].UpToKRW {
				add(path+".up_to_krw", "invalid_value", map[string]string{
					"reason": "tiers must be in strictly ascending up_to_krw",
					"min":    strconv.FormatInt(b.Tiers[i-1].UpToKRW+1, 10)})
			}
		}
	}
	return out
}

// paramRange is the range an integer parameter of a rule set may take.
type paramRange struct{ lo, hi int64 }

var (
	amountRange = paramRange{0, MaxAmountKRW} // an amount in won
	bpsRange    = paramRange{0, MaxBPS}       // a rate or factor in basis points
)

// paramRanges maps the JSON names of a type's integer parameters to their ranges.
type paramRanges map[string]paramRange

// The ranges of the integer parameters of a rule set, one table per type (item_cap_krw: the
// range of each kind's cap). Validate checks each parameter against its range here, and the
// types' FieldBounds give the same range to the decoder (jsonshape.FieldBounder), so a number
// too large for int64 is out of the range one just over the limit is out of, in the same words.
var (
	rulesRanges       = paramRanges{"degraded_factor_bps": bpsRange, "item_cap_krw": amountRange}
	evidenceRanges    = paramRanges{"documented": bpsRange, "undocumented": bpsRange}
	consolationRanges = paramRanges{"base_krw": amountRange, "per_hour_krw": amountRange, "cap_krw": amountRange}
	interestRanges    = paramRanges{"civil_rate_bps": bpsRange, "litigation_rate_bps": bpsRange}
	tierRanges        = paramRanges{"up_to_krw": amountRange, "pay_krw": amountRange}
)

// of returns the range of the parameter name; Validate asking for one not declared is a bug of
// this file, which every validation would hit.
func (rs paramRanges) of(name string) paramRange {
	r, ok := rs[name]
	if !ok {
		panic("damages: no range declared for " + name)
	}
	return r
}

func (rs paramRanges) bounds(name string) (lo, hi int64, ok bool) {
	r, ok := rs[name]
	return r.lo, r.hi, ok
}

// FieldBounds returns the range of the rules' parameter of JSON name name (for item_cap_krw,
// the range of each kind's cap), and false for a name without one.
func (Rules) FieldBounds(name string) (lo, hi int64, ok bool) { return rulesRanges.bounds(name) }

// FieldBounds returns the range of the factor of JSON name name.
func (EvidenceFactors) FieldBounds(name string) (lo, hi int64, ok bool) {
	return evidenceRanges.bounds(name)
}

// FieldBounds returns the range of the amount of JSON name name.
func (ConsolationRule) FieldBounds(name string) (lo, hi int64, ok bool) {
	return consolationRanges.bounds(name)
}

// FieldBounds returns the range of the rate of JSON name name.
func (InterestRules) FieldBounds(name string) (lo, hi int64, ok bool) {
	return interestRanges.bounds(name)
}

// FieldBounds returns the range of the amount of JSON name name.
func (BenchmarkTier) FieldBounds(name string) (lo, hi int64, ok bool) { return tierRanges.bounds(name) }

func rangeParams(lo, hi int64) map[string]string {
	return map[string]string{"min": strconv.FormatInt(lo, 10), "max": strconv.FormatInt(hi, 10)}
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
