package api_test

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/claimdesk/claimdesk/api"
	"github.com/claimdesk/claimdesk/models"
)

// storedValuation is what a claim's decision and valuation leave in the database.
type storedValuation struct {
	RulesVersion                        *int
	ValuedAsOf                          *string
	PrincipalKRW, InterestKRW, Estimate *int64
	Items                               []storedItemValuation
}

type storedItemValuation struct {
	Position                  int
	Eligibility, Code         string
	WindowID                  *int64
	PrincipalKRW, InterestKRW *int64
}

func (e *env) storedValuation(ref string) storedValuation {
	e.t.Helper()
	var c models.Claim
	if err := e.st.Gorm().Preload("Items").Where("external_ref = ?", ref).Take(&c).Error; err != nil {
		e.t.Fatalf("claim %s: %v", ref, err)
	}
	v := storedValuation{RulesVersion: c.RulesVersion, ValuedAsOf: c.ValuedAsOf, PrincipalKRW: c.PrincipalKRW, InterestKRW: c.InterestKRW, Estimate: c.EstimateKRW}
	for _, it := range c.Items {
		v.Items = append(v.Items, storedItemValuation{Position: it.Position, Eligibility: it.Eligibility, Code: it.EligibilityCode,
			WindowID: it.WindowID, PrincipalKRW: it.PrincipalKRW, InterestKRW: it.InterestKRW})
	}
	return v
}

// TestBulkPathsValueAsSingleClaims: a claim imported from CSV, from NDJSON or sent in a batch
// is stored with exactly the decision and valuation of the same claim sent to POST /claims.
func TestBulkPathsValueAsSingleClaims(t *testing.T) {
	// One item of each kind and outcome: eligible (down), eligible_degraded, ineligible, with
	// and without evidence, with an end time, business and personal use.
	items := []map[string]any{
		taxi("2022-10-15 18:30"), // eligible, documented
		{"kind": "taxi_booking", "occurred_at": "2022-10-16T14:30:00+09:00", "failure": "no_driver", "expected_fare_krw": 9000, "alternative_cost_krw": 15000}, // after the taxi window
		payment("2022-10-15 19:00"),
		message("2022-10-15 16:00", "2022-10-15 20:00"),
		{"kind": "message", "occurred_at": "2022-10-16 03:00", "purpose": "personal", "loss_krw": 30000, "documented": true}, // degraded
		other("daum", "mail", "2022-10-19 09:00"), // degraded
	}
	csvRows := func(ref string) string {
		p := ref + ",홍길동,hong@example.com,010-1234-5678,"
		return p + "taxi_booking,kakao_t,taxi,2022-10-15 18:30,,booking_failed,,12000,31000,,,true,\n" +
			p + "taxi_booking,,,2022-10-16T14:30:00+09:00,,no_driver,,9000,15000,,,,\n" +
			p + "payment,kakao_pay,,2022-10-15 19:00,,double_charged,,,,50000,,,\n" +
			p + "message,kakaotalk,,2022-10-15 16:00,2022-10-15 20:00,,business,,,,400000,,\n" +
			p + "message,,,2022-10-16 03:00,,,personal,,,,30000,y,\n" +
			p + "other,daum,mail,2022-10-19 09:00,,,,,,,10000,,메일 수신 불가\n"
	}
	withRef := func(ref string) map[string]any {
		c := claim(items...)
		c["external_ref"] = ref
		return c
	}
	eachImportDB(t, func(t *testing.T, e *env) {
		wantStatus(t, e.do("POST", "/api/v1/cases/kakao-2022/claims", withRef("single")), 201)

		wantCounts(t, e.importCSV(e.importer, "", csvHeader+csvRows("csv")), "succeeded", 6, 1, 0, 0)

		line, _ := json.Marshal(withRef("ndjson"))
		r := e.raw("POST", "/api/v1/cases/kakao-2022/imports", "application/x-ndjson", append(line, '\n'), bearer(e.importer)...)
		wantStatus(t, r, 202)
		wantCounts(t, e.wait(e.importer, int64(r.json(t)["id"].(float64))), "succeeded", 1, 1, 0, 0)

		r = e.json("POST", "/api/v1/cases/kakao-2022/claims/batch", map[string]any{"claims": []any{withRef("batch")}}, bearer(e.importer)...)
		wantStatus(t, r, 200)
		if v := r.json(t); v["created"] != float64(1) {
			t.Fatalf("batch: %s", r.Body)
		}

		want := e.storedValuation("single")
		// The claim exercises what it should: a valuation, and items of every outcome.
		seen := map[string]bool{}
		for _, it := range want.Items {
			seen[it.Eligibility] = true
		}
		if want.RulesVersion == nil || want.ValuedAsOf == nil || want.Estimate == nil || *want.Estimate == 0 || want.InterestKRW == nil || *want.InterestKRW == 0 ||
			len(want.Items) != len(items) || !seen["eligible"] || !seen["eligible_degraded"] || !seen["ineligible"] {
			t.Fatalf("the single claim does not exercise the valuation: %+v", want)
		}
		for _, ref := range []string{"csv", "ndjson", "batch"} {
			if diff := cmp.Diff(want, e.storedValuation(ref)); diff != "" {
				t.Errorf("%s claim stored otherwise than POST /claims (-single +%s):\n%s", ref, ref, diff)
			}
		}
	})
}

// TestClaimBatchFollowsWindowChange: a batch decided on a snapshot of the case taken before
// another instance changed the windows is decided again under the new ones.
func TestClaimBatchFollowsWindowChange(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		taxiEnd := func(r resp) string {
			var c struct {
				Windows []map[string]any `json:"windows"`
			}
			json.Unmarshal(r.Body, &c)
			for _, w := range c.Windows {
				if w["service"] == "kakao_t" && w["feature"] == "taxi" {
					return w["end"].(string)
				}
			}
			return ""
		}
		// This instance's snapshot of the case (the test clock is fixed: it does not expire).
		wantStatus(t, e.do("GET", "/api/v1/cases/kakao-2022", nil), 200)
		// Another instance extends the taxi window to 15:00.
		other := api.New(api.Config{Store: e.st, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Now: func() time.Time { return testNow }})
		body, _ := json.Marshal(e.windowsOf(func(w map[string]any) {
			if w["service"] == "kakao_t" && w["feature"] == "taxi" {
				w["end"] = "2022-10-16T15:00:00+09:00"
			}
		}))
		req := httptest.NewRequest("PUT", "/api/v1/cases/kakao-2022/windows", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+e.lawyer)
		rec := httptest.NewRecorder()
		other.ServeHTTP(rec, req)
		if rec.Code != 200 {
			t.Fatalf("windows on the other instance: %d %s", rec.Code, rec.Body)
		}
		if end := taxiEnd(e.do("GET", "/api/v1/cases/kakao-2022", nil)); end != "2022-10-16T14:00:00+09:00" {
			t.Fatalf("this instance's snapshot already has the taxi window ending %s: the test would prove nothing", end)
		}

		c := claim(taxi("2022-10-16T14:30"))
		c["external_ref"] = "late-taxi"
		r := e.json("POST", "/api/v1/cases/kakao-2022/claims/batch", map[string]any{"claims": []any{c}}, bearer(e.importer)...)
		wantStatus(t, r, 200)
		var out api.BatchResponse
		json.Unmarshal(r.Body, &out)
		if out.Created != 1 {
			t.Fatalf("batch %s", r.Body)
		}
		got := e.do("GET", "/api/v1/claims/"+out.Results[0].Reference, nil, bearer(e.admin)...)
		its := items(t, got)
		if eligibility(its[0]) != "eligible" {
			t.Fatalf("batch stored under the old windows: %s", got.Body)
		}
		if w := its[0]["eligibility"].(map[string]any)["window"].(map[string]any); w["end"] != "2022-10-16T15:00:00+09:00" {
			t.Errorf("deciding window not the new one: %v", w)
		}
	})
}
