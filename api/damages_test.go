package api_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"io"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/claimdesk/claimdesk/api"
	"github.com/claimdesk/claimdesk/damages"
	"github.com/claimdesk/claimdesk/internal/claims"
	"github.com/claimdesk/claimdesk/internal/export"
	"github.com/claimdesk/claimdesk/internal/messages"
)

func (e *env) damages(ref string, headers ...string) api.DamagesResponse {
	e.t.Helper()
	r := e.do("GET", "/api/v1/claims/"+ref+"/damages", nil, append(bearer(e.lawyer), headers...)...)
	wantStatus(e.t, r, 200)
	var d api.DamagesResponse
	if err := json.Unmarshal(r.Body, &d); err != nil {
		e.t.Fatal(err)
	}
	return d
}

func (e *env) submit(body map[string]any) map[string]any {
	e.t.Helper()
	r := e.do("POST", "/api/v1/cases/kakao-2022/claims", body)
	wantStatus(e.t, r, 201)
	return r.json(e.t)
}

// TestWorkedExamples runs the worked examples of the methodology (docs/methodology.md) through
// the API with the shipped rules: the numbers must be exact to the won.
func TestWorkedExamples(t *testing.T) {
	doc := payment("2022-10-16T09:00")
	doc["documented"] = true
	undocumented := message("2022-10-15T20:00", "2022-10-16T03:00")
	cases := []struct {
		name                      string
		item                      map[string]any
		principal, interest, tot  int64
		consolation, consInterest int64
	}{
		{"taxi", taxi("2022-10-15T18:30"), 19000 + 10000, 1778 + 936, 31714, 10000, 936},
		{"business message", undocumented, 200000 + 23129, 18734 + 2166, 244029, 23129, 2166},
		{"double charge", doc, 25000 + 10000, 2337 + 935, 38272, 10000, 935},
		{"taxi at the window's end", taxi("2022-10-16T14:00:00"), 0, 0, 0, -1, -1},
	}
	eachDB(t, func(t *testing.T, e *env) {
		for _, c := range cases {
			created := e.submit(claim(c.item))
			ref := created["reference"].(string)
			if est, _ := created["estimate_krw"].(float64); int64(est) != c.tot {
				t.Errorf("%s: estimate_krw %v, want %d", c.name, created["estimate_krw"], c.tot)
			}
			d := e.damages(ref)
			if d.PrincipalKRW != c.principal || d.InterestKRW != c.interest || d.TotalKRW != c.tot {
				t.Errorf("%s: principal %d interest %d total %d, want %d %d %d", c.name, d.PrincipalKRW, d.InterestKRW, d.TotalKRW, c.principal, c.interest, c.tot)
			}
			if d.RulesVersion != 1 || d.AsOf != "2023-10-15" {
				t.Errorf("%s: version %d as of %s", c.name, d.RulesVersion, d.AsOf)
			}
			if c.consolation < 0 {
				if len(d.Consolation) != 0 {
					t.Errorf("%s: consolation for an ineligible item: %+v", c.name, d.Consolation)
				}
				continue
			}
			if len(d.Consolation) != 1 || d.Consolation[0].PrincipalKRW != c.consolation || d.Consolation[0].InterestKRW != c.consInterest {
				t.Errorf("%s: consolation %+v", c.name, d.Consolation)
			}
			if len(d.Trace) == 0 || d.Trace[len(d.Trace)-1].Step != "total" {
				t.Errorf("%s: trace does not end with the total", c.name)
			}
		}
		// The message example: 19,860 down seconds and 5,340 degraded.
		created := e.submit(claim(undocumented))
		d := e.damages(created["reference"].(string))
		if c := d.Consolation[0]; c.DownSeconds != 19860 || c.DegradedSeconds != 5340 {
			t.Errorf("seconds: %+v", c)
		}
	})
}

func TestDamagesTraceIsReadable(t *testing.T) {
	e := newEnv(t, "sqlite")
	created := e.submit(claim(taxi("2022-10-15T18:30")))
	ref, code := created["reference"].(string), created["access_code"].(string)
	ko := e.do("GET", "/api/v1/claims/"+ref+"/damages", nil, "X-Access-Code", code)
	en := e.do("GET", "/api/v1/claims/"+ref+"/damages", nil, "X-Access-Code", code, "Accept-Language", "en")
	wantStatus(t, ko, 200)
	wantStatus(t, en, 200)
	var dk, de api.DamagesResponse
	json.Unmarshal(ko.Body, &dk)
	json.Unmarshal(en.Body, &de)
	joined := func(d api.DamagesResponse) string {
		var b strings.Builder
		for _, s := range d.Trace {
			b.WriteString(s.Text + "\n")
		}
		return b.String()
	}
	if !strings.Contains(joined(dk), "31,714원") || !strings.Contains(joined(de), "31,714 won") {
		t.Errorf("traces:\n%s\n%s", joined(dk), joined(de))
	}
	wantStatus(t, e.do("GET", "/api/v1/claims/"+ref+"/damages", nil), 401)
	wantStatus(t, e.do("GET", "/api/v1/claims/"+ref+"/damages", nil, "X-Access-Code", "AAAA-AAAA-AAAA-AAAA"), 404)
	wantStatus(t, e.do("GET", "/api/v1/claims/"+ref+"/damages", nil, bearer(e.importer)...), 403)
}

// rules returns the active rule set as a generic map.
func (e *env) rules() (int, map[string]any) {
	e.t.Helper()
	r := e.do("GET", "/api/v1/cases/kakao-2022/rules", nil, bearer(e.lawyer)...)
	wantStatus(e.t, r, 200)
	var got struct {
		Version int            `json:"version"`
		Rules   map[string]any `json:"rules"`
	}
	if err := json.Unmarshal(r.Body, &got); err != nil {
		e.t.Fatal(err)
	}
	return got.Version, got.Rules
}

func TestRuleChanges(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		created := e.submit(claim(taxi("2022-10-15T18:30")))
		ref := created["reference"].(string)
		version, rules := e.rules()
		if version != 1 || rules["window_policy"] != "per_feature" {
			t.Fatalf("version %d rules %v", version, rules)
		}

		bad := map[string]any{}
		for k, v := range rules {
			bad[k] = v
		}
		bad["surprise"] = true
		bad["degraded_factor_bps"] = 100001
		bad["item_cap_krw"] = map[string]any{"taxi_booking": -1, "boat": 5}
		bad["consolation"] = map[string]any{"naver": map[string]any{"base_krw": 1, "per_hour_krw": 0, "cap_krw": 1}}
		bad["window_policy"] = "sometimes"
		r := e.do("PUT", "/api/v1/cases/kakao-2022/rules", bad, bearer(e.lawyer)...)
		wantStatus(t, r, 422)
		got := fields(t, r)
		for _, want := range []string{"surprise unknown_field", "degraded_factor_bps out_of_range", "item_cap_krw.taxi_booking out_of_range",
			"consolation.naver unknown_service", "window_policy invalid_value"} {
			if !contains(got, want) {
				t.Errorf("missing %q in %q", want, got)
			}
		}
		if v, _ := e.rules(); v != 1 {
			t.Fatalf("a rejected rule set became version %d", v)
		}
		wantStatus(t, e.do("PUT", "/api/v1/cases/kakao-2022/rules", rules, bearer(e.importer)...), 403)

		// Undocumented and documented items alike at 100%, and a bigger kakao_t consolation.
		rules["consolation"].(map[string]any)["kakao_t"] = map[string]any{"base_krw": 20000, "per_hour_krw": 0, "cap_krw": 20000}
		sim := e.do("POST", "/api/v1/cases/kakao-2022/rules/simulate", rules, bearer(e.lawyer)...)
		wantStatus(t, sim, 200)
		var s api.SimulationResponse
		json.Unmarshal(sim.Body, &s)
		if s.Active.TotalKRW != 31714 || s.DifferenceKRW <= 10000 || s.Simulated.RulesVersion != nil || s.Active.Claims != 1 {
			t.Errorf("simulation %s", sim.Body)
		}
		if v, _ := e.rules(); v != 1 {
			t.Fatal("simulation changed the rules")
		}

		r = e.do("PUT", "/api/v1/cases/kakao-2022/rules", rules, bearer(e.lawyer)...)
		wantStatus(t, r, 200)
		if v, _ := e.rules(); v != 2 {
			t.Fatalf("version %d after a change", v)
		}
		after := e.do("GET", "/api/v1/claims/"+ref, nil, bearer(e.admin)...)
		if est := after.json(t)["estimate_krw"].(float64); int64(est) != s.Simulated.TotalKRW {
			t.Errorf("stored estimate %v after the change, simulated %d", est, s.Simulated.TotalKRW)
		}
		if d := e.damages(ref); d.RulesVersion != 2 || d.TotalKRW != s.Simulated.TotalKRW {
			t.Errorf("damages under version %d: %d", d.RulesVersion, d.TotalKRW)
		}
		vr := e.do("GET", "/api/v1/cases/kakao-2022/rules/versions", nil, bearer(e.lawyer)...)
		var versions api.RuleVersionsResponse
		json.Unmarshal(vr.Body, &versions)
		if len(versions.Versions) != 2 || versions.Versions[0].Version != 2 || versions.Versions[0].CreatedBy != "lawyer" {
			t.Errorf("versions %s", vr.Body)
		}
	})
}

func TestWindowChangeRevalues(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		created := e.submit(claim(taxi("2022-10-16T14:30")))
		if created["estimate_krw"].(float64) != 0 {
			t.Fatalf("estimate before %v", created["estimate_krw"])
		}
		body := e.windowsOf(func(w map[string]any) {
			if w["service"] == "kakao_t" && w["feature"] == "taxi" {
				w["end"] = "2022-10-16T15:00:00+09:00"
			}
		})
		wantStatus(t, e.do("PUT", "/api/v1/cases/kakao-2022/windows", body, bearer(e.lawyer)...), 200)
		after := e.do("GET", "/api/v1/claims/"+created["reference"].(string), nil, bearer(e.lawyer)...)
		if est := after.json(t)["estimate_krw"].(float64); est <= 0 {
			t.Errorf("estimate after the window change: %v", est)
		}
	})
}

func TestSummary(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		e.submit(claim(taxi("2022-10-15T18:30")))
		biz := message("2022-10-15T20:00", "2022-10-16T03:00")
		e.submit(claim(biz, taxi("2022-10-16T14:00")))
		big := message("2022-10-15T20:00", "")
		big["loss_krw"] = 900000
		e.submit(claim(big))
		r := e.do("GET", "/api/v1/cases/kakao-2022/summary", nil, bearer(e.lawyer)...)
		wantStatus(t, r, 200)
		var s api.SummaryResponse
		if err := json.Unmarshal(r.Body, &s); err != nil {
			t.Fatal(err)
		}
		if s.ByStatus["received"] != 3 || s.ByEligibility["eligible"] != 3 || s.ByEligibility["ineligible"] != 1 {
			t.Errorf("counts %+v %+v", s.ByStatus, s.ByEligibility)
		}
		tot := s.Totals
		if tot.Claims != 3 || tot.Items != 4 || tot.TotalKRW < 31714+244029 {
			t.Errorf("totals %+v", tot)
		}
		if tot.ByService["kakao_t"].TotalKRW != 31714 {
			t.Errorf("kakao_t %+v", tot.ByService["kakao_t"])
		}
		// Kakao's scheme: 400,000 won of business loss pays 50,000; 900,000 is individual review.
		if b := tot.Benchmark; b.Items != 2 || b.SchemeKRW != 50000 || b.IndividualReview != 1 {
			t.Errorf("benchmark %+v", b)
		}
		wantStatus(t, e.do("GET", "/api/v1/cases/kakao-2022/summary", nil, bearer(e.importer)...), 403)
	})
}

// summaryTotals returns the case summary's totals.
func (e *env) summaryTotals() api.TotalsResponse {
	e.t.Helper()
	r := e.do("GET", "/api/v1/cases/kakao-2022/summary", nil, bearer(e.lawyer)...)
	wantStatus(e.t, r, 200)
	var s api.SummaryResponse
	if err := json.Unmarshal(r.Body, &s); err != nil {
		e.t.Fatal(err)
	}
	return s.Totals
}

// plaintiffsTotal returns the total row's total of the plaintiff list.
func (e *env) plaintiffsTotal() int64 {
	e.t.Helper()
	r := e.do("GET", "/api/v1/cases/kakao-2022/exports/plaintiffs.csv", nil, bearer(e.lawyer)...)
	wantStatus(e.t, r, 200)
	rows, err := csv.NewReader(bytes.NewReader(r.Body)).ReadAll()
	if err != nil {
		e.t.Fatal(err)
	}
	last := rows[len(rows)-1]
	n, err := strconv.ParseInt(last[8], 10, 64)
	if err != nil {
		e.t.Fatalf("plaintiff list's total row %q: %v", last, err)
	}
	return n
}

// TestTotalsLeaveOutDuplicatesAndWithdrawn: a claim marked duplicate (its loss is another
// claim's) and a withdrawn claim change neither the summary's nor the simulation's nor the
// report's total, which equal the plaintiff list's total: the same claims count in all.
func TestTotalsLeaveOutDuplicatesAndWithdrawn(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		first := e.file(person("홍길동", "hong@example.com", "010-1111-2222", taxi("2022-10-15T18:30")))
		e.file(person("김철수", "kim@example.com", "010-3333-4444", message("2022-10-15T20:00", "2022-10-16T03:00")))
		want := e.summaryTotals()
		if want.TotalKRW <= 0 || want.Claims != 2 {
			t.Fatalf("set-up: totals %+v", want)
		}
		dup := e.file(person("홍길동", "hong@example.com", "010-1111-2222", taxi("2022-10-15T18:30")))
		wantStatus(t, e.move(dup, map[string]any{"to": "duplicate", "duplicate_of": first, "reasons": []string{"duplicate_submission"}}, e.lawyer), 200)
		gone := e.file(person("이영희", "lee@example.com", "010-5555-6666", payment("2022-10-16T09:00")))
		wantStatus(t, e.move(gone, map[string]any{"to": "withdrawn", "reasons": []string{"claimant_request"}}, e.lawyer), 200)

		got := e.summaryTotals()
		if got.TotalKRW != want.TotalKRW || got.Claims != want.Claims || got.Items != want.Items {
			t.Errorf("summary with a duplicate and a withdrawn claim: %d claims, %d items, total %d; want %d, %d, %d",
				got.Claims, got.Items, got.TotalKRW, want.Claims, want.Items, want.TotalKRW)
		}
		if p := e.plaintiffsTotal(); p != got.TotalKRW {
			t.Errorf("plaintiffs' total %d, case total %d", p, got.TotalKRW)
		}
		rules := e.do("GET", "/api/v1/cases/kakao-2022/rules", nil, bearer(e.lawyer)...)
		sim := e.do("POST", "/api/v1/cases/kakao-2022/rules/simulate", mustJSON(rules.json(t)["rules"]), bearer(e.lawyer)...)
		wantStatus(t, sim, 200)
		var s api.SimulationResponse
		if err := json.Unmarshal(sim.Body, &s); err != nil {
			t.Fatal(err)
		}
		if s.Simulated.TotalKRW != want.TotalKRW || s.Active.TotalKRW != want.TotalKRW {
			t.Errorf("simulation: active %d, simulated %d; want %d", s.Active.TotalKRW, s.Simulated.TotalKRW, want.TotalKRW)
		}

		ctx := context.Background()
		cs, err := e.st.Case(ctx, "kakao-2022")
		if err != nil {
			t.Fatal(err)
		}
		rep, err := export.BuildReport(ctx, e.st, &claims.Service{Store: e.st, Now: func() time.Time { return testNow }}, cs, testNow, messages.En)
		if err != nil {
			t.Fatal(err)
		}
		label, value := messages.Text(messages.En, "report_total", nil), damages.FormatWon(want.TotalKRW)+messages.Text(messages.En, "report_won", nil)
		if i := slices.IndexFunc(rep.Headline, func(f export.Figure) bool { return f.Label == label }); i < 0 || rep.Headline[i].Value != value {
			t.Errorf("report headline %+v, want %s %s", rep.Headline, label, value)
		}
	})
}

// TestAsOfIsTheValuationDate: under rules with as_of null, the totals (summary, simulation)
// and a claim's damages name the day they were valued as of, not the clock read again: here
// the clock moves a day at every reading, so a second reading names another day than the
// one the amounts are of.
func TestAsOfIsTheValuationDate(t *testing.T) {
	e := newEnv(t, "sqlite")
	var readings atomic.Int64
	now := func() time.Time { return testNow.AddDate(0, 0, int(readings.Add(1))) }
	// Background work (detection, revaluation) is not run: it reads the clock in loops.
	e.h = api.New(api.Config{Store: e.st, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Now: now,
		Background: func(func(context.Context)) {}})
	rules := e.do("GET", "/api/v1/cases/kakao-2022/rules", nil, bearer(e.lawyer)...).json(t)["rules"].(map[string]any)
	rules["as_of"] = nil
	wantStatus(t, e.do("PUT", "/api/v1/cases/kakao-2022/rules", rules, bearer(e.lawyer)...), 200)
	ref := e.file(claim(taxi("2022-10-15T18:30")))

	ctx := context.Background()
	cs, err := e.st.Case(ctx, "kakao-2022")
	if err != nil {
		t.Fatal(err)
	}
	cl, err := e.st.ClaimByReference(ctx, ref)
	if err != nil {
		t.Fatal(err)
	}
	// What the claim is worth as of day (a service whose clock stays there).
	worth := func(day string) int64 {
		t.Helper()
		d, err := damages.ParseDate(day)
		if err != nil {
			t.Fatalf("as_of %q: %v", day, err)
		}
		at := time.Date(d.Year, d.Month, d.Day, 12, 0, 0, 0, cs.Location)
		_, cv, err := (&claims.Service{Store: e.st, Now: func() time.Time { return at }}).ClaimDamages(ctx, cs, cl)
		if err != nil {
			t.Fatal(err)
		}
		return cv.TotalKRW
	}
	if worth("2030-01-01") == worth("2030-01-02") {
		t.Fatal("set-up: the claim is worth the same on two days")
	}

	if tot := e.summaryTotals(); worth(tot.AsOf) != tot.TotalKRW {
		t.Errorf("summary: total %d as of %s, but worth %d then", tot.TotalKRW, tot.AsOf, worth(tot.AsOf))
	}
	sim := e.do("POST", "/api/v1/cases/kakao-2022/rules/simulate", rules, bearer(e.lawyer)...)
	wantStatus(t, sim, 200)
	var s api.SimulationResponse
	if err := json.Unmarshal(sim.Body, &s); err != nil {
		t.Fatal(err)
	}
	for name, tot := range map[string]api.TotalsResponse{"active": s.Active, "simulated": s.Simulated} {
		if worth(tot.AsOf) != tot.TotalKRW {
			t.Errorf("simulation %s: total %d as of %s, but worth %d then", name, tot.TotalKRW, tot.AsOf, worth(tot.AsOf))
		}
	}
	if d := e.damages(ref); worth(d.AsOf) != d.TotalKRW {
		t.Errorf("damages: total %d as of %s, but worth %d then", d.TotalKRW, d.AsOf, worth(d.AsOf))
	}
}
