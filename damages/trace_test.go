package damages

import (
	"encoding/json"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestTraceSteps(t *testing.T) {
	v := defaultValuer(t)
	cv := v.ValueWithTrace([]Item{taxiItem, lateTaxiItem})
	type ref struct {
		Code   string
		Scope  string
		ID     int64
		Svc    string
		Rule   int
		Result int64
	}
	var got []ref
	for _, s := range cv.Trace {
		got = append(got, ref{s.Code, s.Scope, s.ItemID, s.Service, s.Rule, s.Result})
	}
	want := []ref{
		{StepEligibility, "item", 1, "", 0, 0},
		{StepRawLoss, "item", 1, "", 1, 19000},
		{StepEvidenceFactor, "item", 1, "", 2, 19000},
		{StepCap, "item", 1, "", 2, 19000},
		{StepInterestCivil, "item", 1, "", 4, 361},
		{StepInterestLitigation, "item", 1, "", 4, 1417},
		{StepEligibility, "item", 4, "", 0, 0},
		{StepConsolation, "consolation", 0, "kakao_t", 3, 10000},
		{StepInterestCivil, "consolation", 0, "kakao_t", 4, 190},
		{StepInterestLitigation, "consolation", 0, "kakao_t", 4, 746},
		{StepTotal, "claim", 0, "", 5, 31714},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("steps (-want +got):\n%s", diff)
	}
	// The trace does not change the numbers, and Value carries none.
	plain := v.Value([]Item{taxiItem, lateTaxiItem})
	if plain.Trace != nil {
		t.Error("Value recorded a trace")
	}
	cv.Trace = nil
	if diff := cmp.Diff(plain, cv); diff != "" {
		t.Errorf("ValueWithTrace differs from Value (-want +got):\n%s", diff)
	}
}

func TestTraceText(t *testing.T) {
	v := defaultValuer(t)
	trace := v.ValueWithTrace([]Item{taxiItem, messageItem, doubleChargeItem, lateTaxiItem}).Trace
	find := func(code string, id int64, service string) Step {
		for _, s := range trace {
			if s.Code == code && s.ItemID == id && s.Service == service {
				return s
			}
		}
		t.Fatalf("no step %s %d %s", code, id, service)
		return Step{}
	}
	tests := []struct {
		step   Step
		ko, en string
	}{
		{find(StepEligibility, 1, ""),
			"항목 #1 — 발생: 2022-10-15 18:30:00 KST / 장애 구간: kakao_t/taxi 전면 장애 2022-10-15 15:30:00 KST부터 2022-10-16 14:00:00 KST 전까지 / 판정: 배상 대상 (전면 장애 구간), 정책: 기능별 구간 [규칙 0]",
			"item #1 — at 2022-10-15 18:30:00 KST / outage window: kakao_t/taxi down from 2022-10-15 15:30:00 KST until (not including) 2022-10-16 14:00:00 KST / decision: eligible (down window), policy: per feature [rule 0]"},
		{find(StepEligibility, 4, ""),
			"항목 #4 — 발생: 2022-10-16 14:00:00 KST / 판정: 배상 대상 아님 (장애 구간 밖; 가장 가까운 구간: kakao_t/taxi 전면 장애 2022-10-15 15:30:00 KST부터 2022-10-16 14:00:00 KST 전까지), 정책: 기능별 구간 [규칙 0]",
			"item #4 — at 2022-10-16 14:00:00 KST / decision: ineligible (outside the outage windows; nearest: kakao_t/taxi down from 2022-10-15 15:30:00 KST until (not including) 2022-10-16 14:00:00 KST), policy: per feature [rule 0]"},
		{find(StepRawLoss, 1, ""),
			"항목 #1 — 실손해: max(0, 대체 교통비 31,000원 − 예상 요금 12,000원) + 기타 손해 0원 = 19,000원 [규칙 1]",
			"item #1 — raw loss: max(0, alternative cost 31,000 won - expected fare 12,000 won) + other loss 0 won = 19,000 won [rule 1]"},
		{find(StepEvidenceFactor, 2, ""),
			"항목 #2 — 증빙 반영: 400,000원 × 50% (증빙 없음) = 200,000원 [규칙 2]",
			"item #2 — evidence: 400,000 won x 50% (undocumented) = 200,000 won [rule 2]"},
		{find(StepDegradedFactor, 3, ""),
			"항목 #3 — 부분 장애 구간에만 해당: 50,000원 × 50% = 25,000원 [규칙 2]",
			"item #3 — only in a degraded window: 50,000 won x 50% = 25,000 won [rule 2]"},
		{find(StepInterestCivil, 1, ""),
			"항목 #1 — 지연손해금(민법 연 이율): 원금 19,000원 × 연 5% × 139일(2022-10-15 ~ 2023-03-02) / 365 = 361원 (원 미만 버림) [규칙 4]",
			"item #1 — interest at the civil rate: principal 19,000 won x 5%/yr x 139 days (2022-10-15 to 2023-03-02) / 365 = 361 won (fractions of a won dropped) [rule 4]"},
		{find(StepInterestLitigation, 1, ""),
			"항목 #1 — 지연손해금(소송촉진법 이율, 소장 송달 다음 날부터): 원금 19,000원 × 연 12% × 227일(2023-03-03 ~ 2023-10-15) / 365 = 1,417원 (원 미만 버림) [규칙 4]",
			"item #1 — interest at the litigation rate (from the day after service): principal 19,000 won x 12%/yr x 227 days (2023-03-03 to 2023-10-15) / 365 = 1,417 won (fractions of a won dropped) [rule 4]"},
		{find(StepBenchmark, 2, ""),
			"항목 #2 — 비교 기준 'Kakao small-business scheme': 실손해 400,000원 ≤ 구간 상한 500,000원 → 50,000원 지급 [규칙 5]",
			"item #2 — benchmark 'Kakao small-business scheme': raw loss 400,000 won <= tier limit 500,000 won -> pays 50,000 won [rule 5]"},
		{find(StepConsolation, 0, "kakaotalk"),
			"위자료(kakaotalk) — 기본 20,000원 + 시간당 500원 × (전면 장애 19,860초 + 부분 장애 5,340초 × 50%) / 3,600초 = 23,129원 (원 미만 버림) (상한 100,000원 이내) [규칙 3]",
			"consolation (kakaotalk) — base 20,000 won + 500 won per hour x (down 19,860 s + degraded 5,340 s x 50%) / 3,600 s = 23,129 won (fractions of a won dropped) (within the cap of 100,000 won) [rule 3]"},
		{find(StepConsolation, 0, "kakao_t"),
			"위자료(kakao_t) — 기본 10,000원 (시간당 가산 없음) = 10,000원 (상한 10,000원 이내) [규칙 3]",
			"consolation (kakao_t) — base 10,000 won (no hourly amount) = 10,000 won (within the cap of 10,000 won) [rule 3]"},
		{find(StepTotal, 0, ""),
			"청구 합계 — 원금 합계 287,129원 + 지연손해금 합계 26,886원 = 314,015원 [규칙 5]",
			"claim total — principal 287,129 won + interest 26,886 won = 314,015 won [rule 5]"},
	}
	for _, tt := range tests {
		if got := tt.step.Text("ko"); got != tt.ko {
			t.Errorf("ko:\n got %s\nwant %s", got, tt.ko)
		}
		if got := tt.step.Text(""); got != tt.ko {
			t.Errorf("default language is not Korean: %s", got)
		}
		if got := tt.step.Text("en"); got != tt.en {
			t.Errorf("en:\n got %s\nwant %s", got, tt.en)
		}
	}
	if lines := strings.Split(trace.Text("en"), "\n"); len(lines) != len(trace) {
		t.Errorf("Trace.Text has %d lines for %d steps", len(lines), len(trace))
	}
}

func TestTraceTextEdgeCases(t *testing.T) {
	r := defaultRules(t)
	r.Consolation["kakaotalk"] = ConsolationRule{BaseKRW: 20000, PerHourKRW: 5000, CapKRW: ptr[int64](50000)}
	v := NewValuer(kst, kakaoWindows(), r, date("2022-10-14"))
	msg := Item{ID: 7, Kind: KindMessage, Service: "kakaotalk", Feature: "text", Purpose: "business", LossKRW: 600000, Documented: true,
		Period: Period{Start: at("2022-10-15 16:00"), End: at("2022-10-16 00:00")}}
	taxi := Item{ID: 8, Kind: KindTaxiBooking, Service: "kakao_t", Feature: "taxi", AlternativeCostKRW: 400000, Documented: true,
		Period: Period{Start: at("2022-10-15 16:00")}}
	nowhere := Item{ID: 9, Kind: KindOther, Service: "kakao_map", Feature: "map", Period: Period{Start: at("2022-10-15 16:00")}}
	trace := v.ValueWithTrace([]Item{msg, taxi, nowhere}).Trace
	want := map[string]string{
		"benchmark 7":         "항목 #7 — 비교 기준 'Kakao small-business scheme': 실손해 600,000원 > 최고 구간 상한 500,000원 → 개별 심사 (금액 없음) [규칙 5]",
		"cap 8":               "항목 #8 — 상한(택시 호출 300,000원) 적용: 400,000원 → 300,000원 [규칙 2]",
		"consolation":         "위자료(kakaotalk) — 기본 20,000원 + 시간당 5,000원 × (전면 장애 28,800초 + 부분 장애 0초 × 50%) / 3,600초 = 60,000원 → 상한 50,000원 적용: 50,000원 [규칙 3]",
		"interest_civil 7":    "항목 #7 — 지연손해금 없음: 평가 기준일(2022-10-14)이 기산일(2022-10-15)보다 앞섬 [규칙 4]",
		"eligibility 9":       "항목 #9 — 발생: 2022-10-15 16:00:00 KST / 판정: 배상 대상 아님 (적용되는 장애 구간 없음), 정책: 기능별 구간 [규칙 0]",
		"eligibility 9 en":    "item #9 — at 2022-10-15 16:00:00 KST / decision: ineligible (no outage window applies), policy: per feature [rule 0]",
		"interest_civil 8 en": "item #8 — no interest: it would start on 2022-10-15, after the valuation date 2022-10-14 [rule 4]",
	}
	got := map[string]string{}
	for _, s := range trace {
		key := s.Code
		if s.ItemID != 0 {
			key += " " + strconv.FormatInt(s.ItemID, 10)
		}
		got[key] = s.Text("ko")
		got[key+" en"] = s.Text("en")
	}
	for k, w := range want {
		if got[k] != w {
			t.Errorf("%s:\n got %s\nwant %s", k, got[k], w)
		}
	}
}

func TestStepJSON(t *testing.T) {
	v := defaultValuer(t)
	tr := v.ValueWithTrace([]Item{taxiItem}).Trace
	b, err := json.Marshal(tr[4])
	if err != nil {
		t.Fatal(err)
	}
	want := `{"code":"interest_civil","rule":4,"scope":"item","item_id":1,"ints":{"days":139,"principal":19000,"rate_bps":500},"strings":{"from":"2022-10-15","to":"2023-03-02"},"result":361}`
	if string(b) != want {
		t.Errorf("json:\n got %s\nwant %s", b, want)
	}
}
