package damages

import (
	"fmt"
	"math/bits"
	"strconv"
	"strings"
	"time"
)

// Step codes of a trace, stable: exports and clients rely on them. Each names the rule of
// docs/methodology.md it applies (rule 0 is eligibility).
const (
	StepEligibility        = "eligibility"         // rule 0
	StepRawLoss            = "raw_loss"            // rule 1
	StepEvidenceFactor     = "evidence_factor"     // rule 2
	StepDegradedFactor     = "degraded_factor"     // rule 2
	StepCap                = "cap"                 // rule 2
	StepConsolation        = "consolation"         // rule 3
	StepInterestCivil      = "interest_civil"      // rule 4
	StepInterestLitigation = "interest_litigation" // rule 4
	StepBenchmark          = "benchmark"           // rule 5
	StepTotal              = "total"               // rule 5
)

// Step scopes: what a step is about.
const (
	scopeItem        = "item"
	scopeConsolation = "consolation"
	scopeClaim       = "claim"
)

// Step is one explained computation of a valuation: its code, what it concerns (an item by
// ID, a service's consolation, or the whole claim), its named inputs and its result in won
// (0 for eligibility, whose outcome is Strings["status"]). Text renders it as a sentence.
type Step struct {
	Code    string            `json:"code"`
	Rule    int               `json:"rule"`
	Scope   string            `json:"scope"`
	ItemID  int64             `json:"item_id,omitempty"`
	Service string            `json:"service,omitempty"`
	Ints    map[string]int64  `json:"ints,omitempty"`
	Strings map[string]string `json:"strings,omitempty"`
	Result  int64             `json:"result"`
}

// Trace is the ordered explanation of one claim's valuation: per item, eligibility then the
// amounts; then each consolation; then the total.
type Trace []Step

// Text renders the trace one step per line, in Korean ("ko", the default) or English ("en").
func (t Trace) Text(lang string) string {
	var b strings.Builder
	for i, s := range t {
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(s.Text(lang))
	}
	return b.String()
}

// Text renders the step as a sentence a lawyer can check by hand, in Korean ("ko", the
// default) or English ("en"). Amounts are won with thousands separators; rates are yearly
// percentages; every floor is said.
func (s Step) Text(lang string) string {
	en := lang == "en"
	var body string
	switch s.Code {
	case StepEligibility:
		body = s.eligibilityText(en)
	case StepRawLoss:
		body = s.rawLossText(en)
	case StepEvidenceFactor:
		ev := pick(en, "증빙 있음", "documented")
		if s.Strings["evidence"] != "documented" {
			ev = pick(en, "증빙 없음", "undocumented")
		}
		note := floorNote(en, s.Ints["raw"], s.Ints["factor_bps"], bpsOne)
		body = pick(en,
			fmt.Sprintf("증빙 반영: %s × %s%% (%s) = %s%s", won(false, s.Ints["raw"]), formatBPS(s.Ints["factor_bps"]), ev, won(false, s.Result), note),
			fmt.Sprintf("evidence: %s x %s%% (%s) = %s%s", won(true, s.Ints["raw"]), formatBPS(s.Ints["factor_bps"]), ev, won(true, s.Result), note))
	case StepDegradedFactor:
		note := floorNote(en, s.Ints["amount"], s.Ints["factor_bps"], bpsOne)
		body = pick(en,
			fmt.Sprintf("부분 장애 구간에만 해당: %s × %s%% = %s%s", won(false, s.Ints["amount"]), formatBPS(s.Ints["factor_bps"]), won(false, s.Result), note),
			fmt.Sprintf("only in a degraded window: %s x %s%% = %s%s", won(true, s.Ints["amount"]), formatBPS(s.Ints["factor_bps"]), won(true, s.Result), note))
	case StepCap:
		kind := kindName(en, s.Strings["kind"])
		a, c := s.Ints["amount"], s.Ints["cap"]
		if a > c {
			body = pick(en,
				fmt.Sprintf("상한(%s %s) 적용: %s → %s", kind, won(false, c), won(false, a), won(false, s.Result)),
				fmt.Sprintf("cap (%s %s) applied: %s -> %s", kind, won(true, c), won(true, a), won(true, s.Result)))
		} else {
			body = pick(en,
				fmt.Sprintf("상한(%s %s) 이내: %s", kind, won(false, c), won(false, s.Result)),
				fmt.Sprintf("within the cap (%s %s): %s", kind, won(true, c), won(true, s.Result)))
		}
	case StepConsolation:
		body = s.consolationText(en)
	case StepInterestCivil, StepInterestLitigation:
		body = s.interestText(en)
	case StepBenchmark:
		label := s.Strings["label"]
		if s.Strings["review"] == "true" {
			body = pick(en,
				fmt.Sprintf("비교 기준 '%s': 실손해 %s > 최고 구간 상한 %s → 개별 심사 (금액 없음)", label, won(false, s.Ints["raw"]), won(false, s.Ints["last_up_to"])),
				fmt.Sprintf("benchmark '%s': raw loss %s is above the last tier %s -> individual review (no amount)", label, won(true, s.Ints["raw"]), won(true, s.Ints["last_up_to"])))
		} else {
			body = pick(en,
				fmt.Sprintf("비교 기준 '%s': 실손해 %s ≤ 구간 상한 %s → %s 지급", label, won(false, s.Ints["raw"]), won(false, s.Ints["up_to"]), won(false, s.Result)),
				fmt.Sprintf("benchmark '%s': raw loss %s <= tier limit %s -> pays %s", label, won(true, s.Ints["raw"]), won(true, s.Ints["up_to"]), won(true, s.Result)))
		}
	case StepTotal:
		body = pick(en,
			fmt.Sprintf("원금 합계 %s + 지연손해금 합계 %s = %s", won(false, s.Ints["principal"]), won(false, s.Ints["interest"]), won(false, s.Result)),
			fmt.Sprintf("principal %s + interest %s = %s", won(true, s.Ints["principal"]), won(true, s.Ints["interest"]), won(true, s.Result)))
	default:
		body = fmt.Sprintf("%s = %s", s.Code, won(en, s.Result))
	}
	return s.subject(en) + body + pick(en, fmt.Sprintf(" [규칙 %d]", s.Rule), fmt.Sprintf(" [rule %d]", s.Rule))
}

func (s Step) subject(en bool) string {
	switch s.Scope {
	case scopeItem:
		return pick(en, fmt.Sprintf("항목 #%d — ", s.ItemID), fmt.Sprintf("item #%d — ", s.ItemID))
	case scopeConsolation:
		return pick(en, fmt.Sprintf("위자료(%s) — ", s.Service), fmt.Sprintf("consolation (%s) — ", s.Service))
	case scopeClaim:
		return pick(en, "청구 합계 — ", "claim total — ")
	}
	return ""
}

func (s Step) eligibilityText(en bool) string {
	st := s.Strings
	at := pick(en, "발생: "+st["period"], "at "+st["period"])
	policy := pick(en, "정책: "+policyName(false, st["policy"]), "policy: "+policyName(true, st["policy"]))
	switch st["status"] {
	case string(Eligible), string(EligibleDegraded):
		w := windowText(en, st["window"], st["severity"], st["window_start"], st["window_end"])
		verdict := pick(en, "판정: 배상 대상 (전면 장애 구간)", "decision: eligible (down window)")
		if st["status"] == string(EligibleDegraded) {
			verdict = pick(en, "판정: 배상 대상 (부분 장애 구간만 해당)", "decision: eligible_degraded (only degraded windows)")
		}
		return fmt.Sprintf("%s / %s / %s, %s", at, pick(en, "장애 구간: ", "outage window: ")+w, verdict, policy)
	}
	if st["code"] == CodeNoWindows {
		return fmt.Sprintf("%s / %s, %s", at, pick(en, "판정: 배상 대상 아님 (적용되는 장애 구간 없음)", "decision: ineligible (no outage window applies)"), policy)
	}
	reason := pick(en, "판정: 배상 대상 아님 (장애 구간 밖", "decision: ineligible (outside the outage windows")
	if st["nearest_window"] != "" {
		reason += pick(en, "; 가장 가까운 구간: ", "; nearest: ") +
			windowText(en, st["nearest_window"], st["nearest_severity"], st["nearest_start"], st["nearest_end"])
	}
	return fmt.Sprintf("%s / %s), %s", at, reason, policy)
}

func windowText(en bool, name, severity, start, end string) string {
	sev := pick(en, "전면 장애", "down")
	if severity == string(Degraded) {
		sev = pick(en, "부분 장애", "degraded")
	}
	return pick(en,
		fmt.Sprintf("%s %s %s부터 %s 전까지", name, sev, start, end),
		fmt.Sprintf("%s %s from %s until (not including) %s", name, sev, start, end))
}

func (s Step) rawLossText(en bool) string {
	in := s.Ints
	switch s.Strings["kind"] {
	case KindTaxiBooking:
		return pick(en,
			fmt.Sprintf("실손해: max(0, 대체 교통비 %s − 예상 요금 %s) + 기타 손해 %s = %s", won(false, in["alternative_cost"]), won(false, in["expected_fare"]), won(false, in["loss"]), won(false, s.Result)),
			fmt.Sprintf("raw loss: max(0, alternative cost %s - expected fare %s) + other loss %s = %s", won(true, in["alternative_cost"]), won(true, in["expected_fare"]), won(true, in["loss"]), won(true, s.Result)))
	case KindPayment:
		if s.Strings["failure"] == FailureDoubleCharged {
			return pick(en,
				fmt.Sprintf("실손해: 손해 %s + 이중 결제 금액 %s = %s", won(false, in["loss"]), won(false, in["amount"]), won(false, s.Result)),
				fmt.Sprintf("raw loss: loss %s + double-charged amount %s = %s", won(true, in["loss"]), won(true, in["amount"]), won(true, s.Result)))
		}
	}
	return pick(en,
		fmt.Sprintf("실손해: 신고 손해 %s", won(false, s.Result)),
		fmt.Sprintf("raw loss: stated loss %s", won(true, s.Result)))
}

func (s Step) consolationText(en bool) string {
	in := s.Ints
	var formula string
	if in["per_hour"] == 0 {
		formula = pick(en, fmt.Sprintf("기본 %s (시간당 가산 없음)", won(false, in["base"])),
			fmt.Sprintf("base %s (no hourly amount)", won(true, in["base"])))
	} else {
		weighted := addKRW(mulDiv(in["down_seconds"], bpsOne, 1), mulDiv(in["degraded_seconds"], in["degraded_factor_bps"], 1))
		formula = pick(en,
			fmt.Sprintf("기본 %s + 시간당 %s × (전면 장애 %s초 + 부분 장애 %s초 × %s%%) / 3,600초 = %s%s",
				won(false, in["base"]), won(false, in["per_hour"]), FormatWon(in["down_seconds"]), FormatWon(in["degraded_seconds"]),
				formatBPS(in["degraded_factor_bps"]), won(false, in["uncapped"]), floorNote(false, in["per_hour"], weighted, 3600*bpsOne)),
			fmt.Sprintf("base %s + %s per hour x (down %s s + degraded %s s x %s%%) / 3,600 s = %s%s",
				won(true, in["base"]), won(true, in["per_hour"]), FormatWon(in["down_seconds"]), FormatWon(in["degraded_seconds"]),
				formatBPS(in["degraded_factor_bps"]), won(true, in["uncapped"]), floorNote(true, in["per_hour"], weighted, 3600*bpsOne)))
	}
	if in["uncapped"] > in["cap"] {
		return formula + pick(en, fmt.Sprintf(" → 상한 %s 적용: %s", won(false, in["cap"]), won(false, s.Result)),
			fmt.Sprintf(" -> capped at %s: %s", won(true, in["cap"]), won(true, s.Result)))
	}
	if in["per_hour"] == 0 {
		formula += pick(en, " = "+won(false, s.Result), " = "+won(true, s.Result))
	}
	return formula + pick(en, fmt.Sprintf(" (상한 %s 이내)", won(false, in["cap"])), fmt.Sprintf(" (within the cap of %s)", won(true, in["cap"])))
}

func (s Step) interestText(en bool) string {
	in, st := s.Ints, s.Strings
	if in["days"] == 0 {
		return pick(en,
			fmt.Sprintf("지연손해금 없음: 평가 기준일(%s)이 기산일(%s)보다 앞섬", st["as_of"], st["start"]),
			fmt.Sprintf("no interest: it would start on %s, after the valuation date %s", st["start"], st["as_of"]))
	}
	note := floorNote(en, mulDiv(in["principal"], in["rate_bps"], 1), in["days"], 365*bpsOne)
	name := pick(en, "지연손해금(민법 연 이율)", "interest at the civil rate")
	if s.Code == StepInterestLitigation {
		name = pick(en, "지연손해금(소송촉진법 이율, 소장 송달 다음 날부터)", "interest at the litigation rate (from the day after service)")
	}
	return pick(en,
		fmt.Sprintf("%s: 원금 %s × 연 %s%% × %s일(%s ~ %s) / 365 = %s%s", name, won(false, in["principal"]), formatBPS(in["rate_bps"]),
			FormatWon(in["days"]), st["from"], st["to"], won(false, s.Result), note),
		fmt.Sprintf("%s: principal %s x %s%%/yr x %s days (%s to %s) / 365 = %s%s", name, won(true, in["principal"]), formatBPS(in["rate_bps"]),
			FormatWon(in["days"]), st["from"], st["to"], won(true, s.Result), note))
}

func pick(en bool, ko, eng string) string {
	if en {
		return eng
	}
	return ko
}

func won(en bool, krw int64) string {
	if en {
		return FormatWon(krw) + " won"
	}
	return FormatWon(krw) + "원"
}

// floorNote says that fractions of a won were dropped when a x b / d leaves a remainder.
func floorNote(en bool, a, b, d int64) string {
	if a <= 0 || b <= 0 || d <= 0 {
		return ""
	}
	hi, lo := bits.Mul64(uint64(a), uint64(b))
	if hi < uint64(d) {
		if _, rem := bits.Div64(hi, lo, uint64(d)); rem == 0 {
			return ""
		}
	}
	return pick(en, " (원 미만 버림)", " (fractions of a won dropped)")
}

func kindName(en bool, kind string) string {
	if en {
		return strings.ReplaceAll(kind, "_", " ")
	}
	switch kind {
	case KindTaxiBooking:
		return "택시 호출"
	case KindPayment:
		return "결제"
	case KindMessage:
		return "메시지"
	case KindOther:
		return "기타"
	}
	return kind
}

func policyName(en bool, p string) string {
	if en {
		return strings.ReplaceAll(p, "_", " ")
	}
	switch Policy(p) {
	case PerFeature:
		return "기능별 구간"
	case PerService:
		return "서비스별 구간"
	case WholeIncident:
		return "전체 장애 기간"
	}
	return p
}

// The builders below record steps while a claim is valued with a trace.

const traceTimeLayout = "2006-01-02 15:04:05 MST"

func (t *Trace) add(s Step) { *t = append(*t, s) }

func (t *Trace) eligibility(v *Valuer, it *Item, d Decision) {
	st := map[string]string{
		"status": string(d.Status),
		"code":   d.Code,
		"policy": string(v.policy),
		"period": periodText(it.Period, v.loc),
	}
	ints := map[string]int64{}
	if w := d.Window; w != nil {
		st["window"], st["severity"] = w.Service+"/"+w.Feature, string(w.Severity)
		st["window_start"], st["window_end"] = w.Start.In(v.loc).Format(traceTimeLayout), w.End.In(v.loc).Format(traceTimeLayout)
		ints["window_id"] = w.ID
	}
	if w := d.Nearest; w != nil {
		st["nearest_window"], st["nearest_severity"] = w.Service+"/"+w.Feature, string(w.Severity)
		st["nearest_start"], st["nearest_end"] = w.Start.In(v.loc).Format(traceTimeLayout), w.End.In(v.loc).Format(traceTimeLayout)
		ints["nearest_id"] = w.ID
	}
	t.add(Step{Code: StepEligibility, Rule: 0, Scope: scopeItem, ItemID: it.ID, Ints: ints, Strings: st})
}

func periodText(p Period, loc *time.Location) string {
	if p.IsInstant() {
		return p.Start.In(loc).Format(traceTimeLayout)
	}
	return p.Start.In(loc).Format(traceTimeLayout) + " ~ " + p.End.In(loc).Format(traceTimeLayout)
}

func (t *Trace) rawLoss(it *Item, raw int64) {
	t.add(Step{Code: StepRawLoss, Rule: 1, Scope: scopeItem, ItemID: it.ID, Result: raw,
		Ints: map[string]int64{
			"expected_fare": it.ExpectedFareKRW, "alternative_cost": it.AlternativeCostKRW,
			"amount": it.AmountKRW, "loss": it.LossKRW,
		},
		Strings: map[string]string{"kind": it.Kind, "failure": it.Failure}})
}

func (t *Trace) evidence(it *Item, raw, factor, result int64) {
	ev := "undocumented"
	if it.Documented {
		ev = "documented"
	}
	t.add(Step{Code: StepEvidenceFactor, Rule: 2, Scope: scopeItem, ItemID: it.ID, Result: result,
		Ints: map[string]int64{"raw": raw, "factor_bps": factor}, Strings: map[string]string{"evidence": ev}})
}

func (t *Trace) degradedFactor(id, amount, factor, result int64) {
	t.add(Step{Code: StepDegradedFactor, Rule: 2, Scope: scopeItem, ItemID: id, Result: result,
		Ints: map[string]int64{"amount": amount, "factor_bps": factor}})
}

func (t *Trace) cap(it *Item, amount, capKRW, result int64) {
	t.add(Step{Code: StepCap, Rule: 2, Scope: scopeItem, ItemID: it.ID, Result: result,
		Ints: map[string]int64{"amount": amount, "cap": capKRW}, Strings: map[string]string{"kind": it.Kind}})
}

func (t *Trace) interest(scope string, id int64, service string, principal int64, in Interest, v *Valuer) {
	if in.CivilDays == 0 && in.LitigationDays == 0 {
		t.add(Step{Code: StepInterestCivil, Rule: 4, Scope: scope, ItemID: id, Service: service,
			Ints:    map[string]int64{"principal": principal, "rate_bps": v.civilBPS, "days": 0},
			Strings: map[string]string{"start": in.StartDate.String(), "as_of": v.asOf.String()}})
		return
	}
	if in.CivilDays > 0 {
		t.add(Step{Code: StepInterestCivil, Rule: 4, Scope: scope, ItemID: id, Service: service, Result: in.CivilKRW,
			Ints:    map[string]int64{"principal": principal, "rate_bps": v.civilBPS, "days": in.CivilDays},
			Strings: map[string]string{"from": in.CivilFrom.String(), "to": in.CivilTo.String()}})
	}
	if in.LitigationDays > 0 {
		t.add(Step{Code: StepInterestLitigation, Rule: 4, Scope: scope, ItemID: id, Service: service, Result: in.LitigationKRW,
			Ints:    map[string]int64{"principal": principal, "rate_bps": v.litigationBPS, "days": in.LitigationDays},
			Strings: map[string]string{"from": in.LitigationFrom.String(), "to": in.LitigationTo.String()}})
	}
}

func (t *Trace) benchmark(id int64, b *Benchmark, raw int64, r BenchmarkResult) {
	ints := map[string]int64{"raw": raw}
	for _, tier := range b.Tiers {
		if tier.UpToKRW >= raw {
			ints["up_to"] = tier.UpToKRW
			break
		}
	}
	if n := len(b.Tiers); n > 0 {
		ints["last_up_to"] = b.Tiers[n-1].UpToKRW
	}
	t.add(Step{Code: StepBenchmark, Rule: 5, Scope: scopeItem, ItemID: id, Result: r.PayKRW, Ints: ints,
		Strings: map[string]string{"label": b.Label, "kind": b.Kind, "purpose": b.Purpose, "review": strconv.FormatBool(r.Review)}})
}

func (t *Trace) consolation(v *Valuer, c *ConsolationValuation) {
	rule := v.consolation[c.Service]
	uncapped := consolationAmount(consolationRule{base: rule.base, perHour: rule.perHour, cap: 1<<63 - 1},
		c.DownSeconds, c.DegradedSeconds, v.degraded)
	t.add(Step{Code: StepConsolation, Rule: 3, Scope: scopeConsolation, Service: c.Service, Result: c.PrincipalKRW,
		Ints: map[string]int64{
			"base": rule.base, "per_hour": rule.perHour, "cap": rule.cap, "uncapped": uncapped,
			"down_seconds": c.DownSeconds, "degraded_seconds": c.DegradedSeconds, "degraded_factor_bps": v.degraded,
		},
		Strings: map[string]string{"start_date": c.Interest.StartDate.String()}})
	t.interest(scopeConsolation, 0, c.Service, c.PrincipalKRW, c.Interest, v)
}

func (t *Trace) total(cv *ClaimValuation) {
	t.add(Step{Code: StepTotal, Rule: 5, Scope: scopeClaim, Result: cv.TotalKRW,
		Ints: map[string]int64{"principal": cv.PrincipalKRW, "interest": cv.InterestKRW}})
}
