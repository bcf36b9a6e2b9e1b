package damages

import (
	"time"
)

// Item is one claimed incident of a claim, as the valuation needs it. Amounts are won; a
// negative amount counts as 0. Kind is one of the Kind constants; Failure and Purpose are
// free codes of which rule 1 reads "double_charged" and the benchmark reads Purpose.
type Item struct {
	// ID names the item in the trace (0 is a step of no item); claimdesk numbers a claim's
	// items from 1 in their order (models.ItemNumber).
	ID                 int64
	Kind               string
	Service            string
	Feature            string
	Failure            string
	Purpose            string
	Period             Period
	ExpectedFareKRW    int64
	AlternativeCostKRW int64
	AmountKRW          int64
	LossKRW            int64
	Documented         bool
}

// ItemValuation is the value of one item under the rules.
type ItemValuation struct {
	ItemID  int64
	Service string
	Kind    string
	// Decision is the eligibility under the rules' window policy. Its Window and Nearest point
	// into the Valuer's windows: read them, never modify them.
	Decision Decision
	// RawLossKRW is the rule 1 raw loss, computed for every item (also ineligible ones, so a
	// lawyer sees what was claimed).
	RawLossKRW int64
	// PrincipalKRW is the rule 2 economic principal; 0 for an ineligible item.
	PrincipalKRW int64
	Interest     Interest
	// InterestKRW is Interest.CivilKRW + Interest.LitigationKRW.
	InterestKRW int64
	// TotalKRW is PrincipalKRW + InterestKRW.
	TotalKRW  int64
	Benchmark BenchmarkResult
}

// Eligible reports whether the item is eligible or eligible_degraded.
func (iv ItemValuation) Eligible() bool { return iv.Decision.Status != Ineligible }

// BenchmarkResult is what the benchmark scheme would pay for an item (rule 5). Matched is
// false for items the scheme does not cover (other kind or purpose, ineligible, or no
// benchmark in the rules). Review means the raw loss is above the last tier: the scheme
// reviews it individually and no amount is known.
type BenchmarkResult struct {
	Matched bool
	PayKRW  int64
	Review  bool
}

// Interest is the rule 4 delay interest on one principal: the civil part runs over
// [CivilFrom, CivilTo], the litigation part over [LitigationFrom, LitigationTo], both
// inclusive. A part with no days has zero dates.
type Interest struct {
	// StartDate is the day interest starts: the item's local date, or for consolation the
	// earliest local date of the service's eligible items.
	StartDate      Date
	CivilFrom      Date
	CivilTo        Date
	CivilDays      int64
	CivilKRW       int64
	LitigationFrom Date
	LitigationTo   Date
	LitigationDays int64
	LitigationKRW  int64
}

// TotalKRW is the civil plus the litigation part.
func (in Interest) TotalKRW() int64 { return addKRW(in.CivilKRW, in.LitigationKRW) }

// ConsolationValuation is the consolation money of one service in one claim (rule 3) with
// its interest (rule 4).
type ConsolationValuation struct {
	Service         string
	DownSeconds     int64
	DegradedSeconds int64
	PrincipalKRW    int64
	Interest        Interest
	InterestKRW     int64
	TotalKRW        int64
}

// ClaimValuation is the value of one claim (rule 5): its items, one consolation per service
// that has an eligible item and a consolation rule (sorted by service), and the sums.
type ClaimValuation struct {
	// AsOf is the valuation date the claim was valued as of (the valuer's).
	AsOf         Date
	Items        []ItemValuation
	Consolations []ConsolationValuation
	PrincipalKRW int64
	InterestKRW  int64
	TotalKRW     int64
	// Trace explains every step; nil unless the claim was valued with ValueWithTrace.
	Trace Trace
}

type svcFeat struct{ service, feature string }

// Valuer values claims of one case under one rule set at one valuation date. Everything that
// depends only on the case (windows per policy, caps, factors) is prepared once by NewValuer,
// so valuing a claim costs a few map lookups and no per-item allocation. A Valuer is
// immutable and safe for concurrent use.
type Valuer struct {
	loc    *time.Location
	policy Policy
	all    []Window
	// byPair holds the applicable windows of every (service, feature) that has a window,
	// byService those of every service (per_service).
	byPair    map[svcFeat][]Window
	byService map[string][]Window
	asOf      Date

	evDocumented, evUndocumented, degraded int64
	caps                                   map[string]int64
	consolation                            map[string]consolationRule
	civilBPS, litigationBPS                int64
	// The interest dates, prepared once: asOfN and servedN are day numbers; servedBy says
	// the complaint was served on or before the valuation date.
	asOfN, servedN     int64
	served, servedNext Date
	servedBy           bool
	bench              *Benchmark
}

// NewValuer prepares the valuation of a case: its zone (UTC when nil), its outage windows,
// the rules (which should have passed Rules.Validate; a nil factor, rate or cap counts as 0 and
// an unknown policy as per_feature) and the valuation date, already resolved by the caller with
// Rules.ValuationDate (it must be a valid date: the zero Date precedes every item, so nothing
// would earn interest). The windows and rules are copied.
func NewValuer(loc *time.Location, windows []Window, rules Rules, asOf Date) *Valuer {
	if loc == nil {
		loc = time.UTC
	}
	policy := rules.WindowPolicy
	if !policy.Valid() {
		policy = PerFeature
	}
	v := &Valuer{
		loc:            loc,
		policy:         policy,
		all:            append([]Window(nil), windows...),
		byPair:         make(map[svcFeat][]Window),
		byService:      make(map[string][]Window),
		asOf:           asOf,
		evDocumented:   deref(rules.EvidenceFactorBPS.Documented),
		evUndocumented: deref(rules.EvidenceFactorBPS.Undocumented),
		degraded:       deref(rules.DegradedFactorBPS),
		caps:           make(map[string]int64, len(rules.ItemCapKRW)),
		consolation:    make(map[string]consolationRule, len(rules.Consolation)),
		civilBPS:       deref(rules.Interest.CivilRateBPS),
		litigationBPS:  deref(rules.Interest.LitigationRateBPS),
	}
	for _, w := range v.all {
		k := svcFeat{w.Service, w.Feature}
		if _, ok := v.byPair[k]; !ok {
			v.byPair[k] = Applicable(policy, w.Service, w.Feature, v.all)
		}
		if _, ok := v.byService[w.Service]; !ok {
			v.byService[w.Service] = Applicable(PerService, w.Service, "", v.all)
		}
	}
	for k := range rules.ItemCapKRW {
		v.caps[k], _ = rules.ItemCap(k)
	}
	for s, c := range rules.Consolation {
		v.consolation[s] = consolationRule{base: c.BaseKRW, perHour: c.PerHourKRW, cap: c.Cap()}
	}
	v.asOfN = asOf.days()
	if d := rules.Interest.ComplaintServedOn; d != nil && !d.After(asOf) {
		v.served, v.servedNext, v.servedN, v.servedBy = *d, d.AddDays(1), d.days(), true
	}
	if b := rules.Benchmark; b != nil {
		cp := *b
		cp.Tiers = append([]BenchmarkTier(nil), b.Tiers...)
		v.bench = &cp
	}
	return v
}

func deref(p *int64) int64 {
	if p == nil {
		return 0
	}
	return *p
}

// AsOf returns the valuation date.
func (v *Valuer) AsOf() Date { return v.asOf }

// Location returns the case zone.
func (v *Valuer) Location() *time.Location { return v.loc }

// Policy returns the window policy in force.
func (v *Valuer) Policy() Policy { return v.policy }

// windowsFor returns the windows that apply to an item under the policy, as Applicable would.
func (v *Valuer) windowsFor(service, feature string) []Window {
	switch v.policy {
	case PerService:
		return v.byService[service]
	case WholeIncident:
		if ws, ok := v.byPair[svcFeat{service, feature}]; ok {
			return ws
		}
		// A feature without windows of its own still falls in the whole incident; rare
		// enough to build its synthetic window on demand.
		return Applicable(WholeIncident, service, feature, v.all)
	default:
		return v.byPair[svcFeat{service, feature}]
	}
}

// Decide returns the eligibility of an item under the valuer's policy: rule 0, with the
// windows Applicable selects and Decide.
func (v *Valuer) Decide(it Item) Decision {
	return Decide(it.Period, v.windowsFor(it.Service, it.Feature))
}

// Value values one claim's items (rules 0-5) without a trace. The result's slices are newly
// allocated; use ValueInto to reuse them across claims.
func (v *Valuer) Value(items []Item) ClaimValuation {
	var cv ClaimValuation
	v.value(&cv, items, false)
	return cv
}

// ValueWithTrace values one claim like Value (rules 0-5) and records every step in cv.Trace.
// The trace costs far more than the valuation (maps per step; BenchmarkValue measures it):
// use it for a claim on screen or in a report, not for bulk revaluation.
func (v *Valuer) ValueWithTrace(items []Item) ClaimValuation {
	var cv ClaimValuation
	v.value(&cv, items, true)
	return cv
}

// ValueInto values one claim into cv (rules 0-5), reusing cv's slices: the bulk path (a store
// streaming claims valued one after the other allocates nothing per claim once the slices
// have grown). The previous contents of cv are overwritten, so copy what must outlive the
// next call. cv.Trace is cleared.
func (v *Valuer) ValueInto(cv *ClaimValuation, items []Item) {
	v.value(cv, items, false)
}

func (v *Valuer) value(cv *ClaimValuation, items []Item, trace bool) {
	var tr *Trace
	if trace {
		tr = new(Trace)
	}
	if cap(cv.Items) < len(items) {
		cv.Items = make([]ItemValuation, 0, len(items))
	}
	cv.Items = cv.Items[:0]
	cv.Consolations = cv.Consolations[:0]
	cv.AsOf, cv.PrincipalKRW, cv.InterestKRW, cv.TotalKRW, cv.Trace = v.asOf, 0, 0, 0, nil

	for i := range items {
		iv := v.valueItem(&items[i], tr)
		cv.Items = append(cv.Items, iv)
		cv.PrincipalKRW = addKRW(cv.PrincipalKRW, iv.PrincipalKRW)
		cv.InterestKRW = addKRW(cv.InterestKRW, iv.InterestKRW)
	}

	// Rule 3: one consolation per service with an eligible item and a consolation rule.
	for i := range cv.Items {
		iv := &cv.Items[i]
		if !iv.Eligible() || hasConsolation(cv.Consolations, iv.Service) {
			continue
		}
		rule, ok := v.consolation[iv.Service]
		if !ok {
			continue
		}
		if cv.Consolations == nil {
			cv.Consolations = make([]ConsolationValuation, 0, len(items)-i)
		}
		cv.Consolations = append(cv.Consolations, v.consolationFor(iv.Service, rule, items, cv.Items))
	}
	sortConsolations(cv.Consolations)
	for i := range cv.Consolations {
		c := &cv.Consolations[i]
		if tr != nil {
			tr.consolation(v, c)
		}
		cv.PrincipalKRW = addKRW(cv.PrincipalKRW, c.PrincipalKRW)
		cv.InterestKRW = addKRW(cv.InterestKRW, c.InterestKRW)
	}
	cv.TotalKRW = addKRW(cv.PrincipalKRW, cv.InterestKRW)
	if tr != nil {
		tr.total(cv)
		cv.Trace = *tr
	}
}

func (v *Valuer) valueItem(it *Item, tr *Trace) ItemValuation {
	iv := ItemValuation{ItemID: it.ID, Service: it.Service, Kind: it.Kind}
	iv.Decision = Decide(it.Period, v.windowsFor(it.Service, it.Feature))
	iv.RawLossKRW = RawLoss(*it)
	if tr != nil {
		tr.eligibility(v, it, iv.Decision)
	}
	if !iv.Eligible() {
		return iv
	}
	if tr != nil {
		tr.rawLoss(it, iv.RawLossKRW)
	}
	iv.PrincipalKRW = v.principal(it, iv.RawLossKRW, iv.Decision.Status, tr)
	iv.Interest = v.interest(iv.PrincipalKRW, DateOf(it.Period.Start, v.loc))
	iv.InterestKRW = iv.Interest.TotalKRW()
	iv.TotalKRW = addKRW(iv.PrincipalKRW, iv.InterestKRW)
	if tr != nil {
		tr.interest(scopeItem, it.ID, "", iv.PrincipalKRW, iv.Interest, v)
	}
	iv.Benchmark = v.benchmark(it, iv.RawLossKRW)
	if tr != nil && iv.Benchmark.Matched {
		tr.benchmark(it.ID, v.bench, iv.RawLossKRW, iv.Benchmark)
	}
	return iv
}

// RawLoss is rule 1, the raw loss of an item in won: for a taxi booking the extra cost of the
// alternative over the expected fare (never negative) plus any other loss; for a payment the
// loss, plus the amount when it was charged twice; for a message or anything else the loss.
func RawLoss(it Item) int64 {
	loss := nonNeg(it.LossKRW)
	switch it.Kind {
	case KindTaxiBooking:
		extra := nonNeg(it.AlternativeCostKRW) - nonNeg(it.ExpectedFareKRW)
		return addKRW(nonNeg(extra), loss)
	case KindPayment:
		if it.Failure == FailureDoubleCharged {
			return addKRW(loss, nonNeg(it.AmountKRW))
		}
	}
	return loss
}

// principal is rule 2: the raw loss weighed by the evidence factor, then by the degraded
// factor for an eligible_degraded item, each floored to the won, then capped by kind.
func (v *Valuer) principal(it *Item, raw int64, status Status, tr *Trace) int64 {
	factor := v.evUndocumented
	if it.Documented {
		factor = v.evDocumented
	}
	x := mulDiv(raw, factor, bpsOne)
	if tr != nil {
		tr.evidence(it, raw, factor, x)
	}
	if status == EligibleDegraded {
		y := mulDiv(x, v.degraded, bpsOne)
		if tr != nil {
			tr.degradedFactor(it.ID, x, v.degraded, y)
		}
		x = y
	}
	if c, ok := v.caps[it.Kind]; ok {
		y := min(x, nonNeg(c))
		if tr != nil {
			tr.cap(it, x, c, y)
		}
		x = y
	}
	return x
}

// interest is rule 4: simple interest on principal from start, days counted inclusive, at the
// civil rate through the day the complaint was served and at the litigation rate from the day
// after through the valuation date; all at the civil rate when the complaint is not served by
// the valuation date; nothing when the valuation date is before start. Each part is
// floor(principal x rate_bps x days / 3,650,000) (a 365-day year, also in leap years, as
// Korean courts compute it). When the complaint was served before start, the whole period
// runs at the litigation rate.
func (v *Valuer) interest(principal int64, start Date) Interest {
	in := Interest{StartDate: start}
	startN := start.days()
	if v.asOfN < startN {
		return in
	}
	civilTo, civilToN := v.asOf, v.asOfN
	if v.servedBy {
		civilTo, civilToN = v.served, v.servedN
	}
	if days := civilToN - startN + 1; days > 0 {
		in.CivilFrom, in.CivilTo, in.CivilDays = start, civilTo, days
		in.CivilKRW = mulDiv3(principal, v.civilBPS, days, 365*bpsOne)
	}
	if v.servedBy {
		from, fromN := v.servedNext, v.servedN+1
		if fromN < startN {
			from, fromN = start, startN
		}
		if days := v.asOfN - fromN + 1; days > 0 {
			in.LitigationFrom, in.LitigationTo, in.LitigationDays = from, v.asOf, days
			in.LitigationKRW = mulDiv3(principal, v.litigationBPS, days, 365*bpsOne)
		}
	}
	return in
}

// benchmark is the benchmark half of rule 5: for an eligible item of the benchmark's kind
// (and purpose, when set), the pay of the first tier whose up_to_krw is at least the raw
// loss, or individual review above the last tier.
func (v *Valuer) benchmark(it *Item, raw int64) BenchmarkResult {
	b := v.bench
	if b == nil || it.Kind != b.Kind || (b.Purpose != "" && it.Purpose != b.Purpose) {
		return BenchmarkResult{}
	}
	for _, t := range b.Tiers {
		if t.UpToKRW >= raw {
			return BenchmarkResult{Matched: true, PayKRW: t.PayKRW}
		}
	}
	return BenchmarkResult{Matched: true, Review: true}
}

func hasConsolation(cs []ConsolationValuation, service string) bool {
	for i := range cs {
		if cs[i].Service == service {
			return true
		}
	}
	return false
}

// sortConsolations orders by service; an insertion sort, as a claim has a handful at most.
func sortConsolations(cs []ConsolationValuation) {
	for i := 1; i < len(cs); i++ {
		for j := i; j > 0 && cs[j].Service < cs[j-1].Service; j-- {
			cs[j], cs[j-1] = cs[j-1], cs[j]
		}
	}
}
