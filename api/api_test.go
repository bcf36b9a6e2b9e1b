package api_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/claimdesk/claimdesk/api"
	"github.com/claimdesk/claimdesk/internal/auth"
	"github.com/claimdesk/claimdesk/internal/store"
	"github.com/claimdesk/claimdesk/internal/testdb"
	"github.com/claimdesk/claimdesk/internal/testdb/casedb"
	"github.com/claimdesk/claimdesk/models"
)

func TestMain(m *testing.M) { testdb.Main(m) }

// testNow is the clock of every API test: after the outage, so its times are in the past.
var testNow = time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)

// env is one service over one fresh database, with a token of each role.
type env struct {
	t        *testing.T
	st       *store.Store
	h        http.Handler
	admin    string
	lawyer   string
	importer string
}

// eachDB runs fn against PostgreSQL and SQLite, in parallel.
func eachDB(t *testing.T, fn func(t *testing.T, e *env)) {
	t.Helper()
	for _, d := range testdb.Dialects() {
		t.Run(d, func(t *testing.T) {
			t.Parallel()
			fn(t, newEnv(t, d))
		})
	}
}

func newEnv(t *testing.T, dialect string) *env {
	t.Helper()
	st, _ := casedb.Open(t, dialect)
	e := &env{t: t, st: st}
	e.admin, e.lawyer, e.importer = casedb.Token(t, st, auth.Admin, "admin"), casedb.Token(t, st, auth.Lawyer, "lawyer"), casedb.Token(t, st, auth.Importer, "importer")
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	// Background work runs at once, so tests see its effect when the request returns.
	e.h = api.New(api.Config{Store: st, Logger: log, Now: func() time.Time { return testNow },
		Background: func(fn func(context.Context)) { fn(context.Background()) }})
	return e
}

// resp is a recorded response.
type resp struct {
	Status int
	Header http.Header
	Body   []byte
}

// decode reads the body as JSON into a generic value.
func (r resp) json(t *testing.T) map[string]any {
	t.Helper()
	var v map[string]any
	if err := json.Unmarshal(r.Body, &v); err != nil {
		t.Fatalf("body is not JSON: %v: %s", err, r.Body)
	}
	return v
}

// do sends a request through the real router. body may be nil, a string (sent as is) or a
// value (sent as JSON). headers are pairs: "Authorization", "Bearer x", ...
// Every response is checked against the OpenAPI document.
func (e *env) do(method, path string, body any, headers ...string) resp {
	e.t.Helper()
	return e.doWith(true, method, path, body, headers...)
}

func (e *env) doWith(checked bool, method, path string, body any, headers ...string) resp {
	e.t.Helper()
	var raw []byte
	switch b := body.(type) {
	case nil:
	case string:
		raw = []byte(b)
	case []byte:
		raw = b
	default:
		var err error
		if raw, err = json.Marshal(b); err != nil {
			e.t.Fatal(err)
		}
	}
	req := httptest.NewRequest(method, path, bytes.NewReader(raw))
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	rec := httptest.NewRecorder()
	e.h.ServeHTTP(rec, req)
	r := resp{Status: rec.Code, Header: rec.Header(), Body: rec.Body.Bytes()}
	if checked {
		checkOpenAPI(e.t, req, raw, r.Status, r.Header, r.Body)
	}
	return r
}

func bearer(token string) []string { return []string{"Authorization", "Bearer " + token} }

func (e *env) countClaims() int64 {
	e.t.Helper()
	var n int64
	if err := e.st.Gorm().Model(&models.Claim{}).Count(&n).Error; err != nil {
		e.t.Fatal(err)
	}
	return n
}

func wantStatus(t *testing.T, r resp, want int) {
	t.Helper()
	if r.Status != want {
		t.Fatalf("status %d, want %d: %s", r.Status, want, r.Body)
	}
}

// claim builds a valid claim body with the given items.
func claim(items ...map[string]any) map[string]any {
	return map[string]any{
		"claimant": map[string]any{"name": "홍길동", "email": "hong@example.com", "phone": "010-1234-5678"},
		"consent":  true,
		"items":    toAny(items),
	}
}

func toAny(items []map[string]any) []any {
	out := make([]any, len(items))
	for i, it := range items {
		out[i] = it
	}
	return out
}

func taxi(at string) map[string]any {
	return map[string]any{"kind": "taxi_booking", "service": "kakao_t", "feature": "taxi", "occurred_at": at,
		"failure": "booking_failed", "expected_fare_krw": 12000, "alternative_cost_krw": 31000, "documented": true}
}

func payment(at string) map[string]any {
	return map[string]any{"kind": "payment", "service": "kakao_pay", "occurred_at": at, "failure": "double_charged", "amount_krw": 50000}
}

func message(from, to string) map[string]any {
	return map[string]any{"kind": "message", "service": "kakaotalk", "occurred_at": from, "ended_at": to, "purpose": "business", "loss_krw": 400000}
}

func other(service, feature, at string) map[string]any {
	return map[string]any{"kind": "other", "service": service, "feature": feature, "occurred_at": at, "loss_krw": 10000, "description": "메일 수신 불가"}
}

// items returns the items array of a claim response.
func items(t *testing.T, r resp) []map[string]any {
	t.Helper()
	raw, _ := r.json(t)["items"].([]any)
	out := make([]map[string]any, len(raw))
	for i, x := range raw {
		out[i] = x.(map[string]any)
	}
	return out
}

func eligibility(it map[string]any) string {
	return it["eligibility"].(map[string]any)["status"].(string)
}

// fields returns "path code" of each field error of a 422 answer.
func fields(t *testing.T, r resp) []string {
	t.Helper()
	errObj, ok := r.json(t)["error"].(map[string]any)
	if !ok {
		t.Fatalf("no error object: %s", r.Body)
	}
	raw, _ := errObj["fields"].([]any)
	out := make([]string, len(raw))
	for i, x := range raw {
		f := x.(map[string]any)
		out[i] = f["path"].(string) + " " + f["code"].(string)
		if f["message"].(string) == "" {
			t.Errorf("field %s has no message", out[i])
		}
	}
	return out
}

func errorCode(t *testing.T, r resp) string {
	t.Helper()
	errObj, ok := r.json(t)["error"].(map[string]any)
	if !ok {
		t.Fatalf("no error object: %s", r.Body)
	}
	return errObj["code"].(string)
}

func contains(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}

func TestHealth(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		wantStatus(t, e.do("GET", "/healthz", nil), 200)
		wantStatus(t, e.do("GET", "/readyz", nil), 200)
		r := e.do("GET", "/openapi.yaml", nil)
		wantStatus(t, r, 200)
		if !strings.HasPrefix(string(r.Body), "openapi: 3") {
			t.Errorf("openapi.yaml does not start with the version: %.40s", r.Body)
		}
	})
}

func TestReadyzWhenDatabaseIsGone(t *testing.T) {
	e := newEnv(t, "postgres")
	e.st.Close()
	r := e.do("GET", "/readyz", nil)
	wantStatus(t, r, 503)
	if r.Header.Get("Retry-After") == "" {
		t.Error("503 without Retry-After")
	}
	wantStatus(t, e.do("GET", "/healthz", nil), 200)
}

func TestCases(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		r := e.do("GET", "/api/v1/cases", nil)
		wantStatus(t, r, 200)
		if !strings.Contains(string(r.Body), `"slug":"kakao-2022"`) {
			t.Errorf("case list lacks kakao-2022: %s", r.Body)
		}
		r = e.do("GET", "/api/v1/cases/kakao-2022", nil)
		wantStatus(t, r, 200)
		var c api.CaseResponse
		if err := json.Unmarshal(r.Body, &c); err != nil {
			t.Fatal(err)
		}
		if c.TimeZone != "Asia/Seoul" || len(c.Services) != 5 || len(c.Windows) < 11 {
			t.Errorf("case: zone %s, %d services, %d windows", c.TimeZone, len(c.Services), len(c.Windows))
		}
		var taxiWindow *api.WindowResponse
		for i, w := range c.Windows {
			if w.Service == "kakao_t" && w.Feature == "taxi" {
				taxiWindow = &c.Windows[i]
			}
		}
		if taxiWindow == nil || taxiWindow.Start != "2022-10-15T15:30:00+09:00" || taxiWindow.End != "2022-10-16T14:00:00+09:00" || taxiWindow.Source == "" {
			t.Errorf("taxi window: %+v", taxiWindow)
		}
		wantStatus(t, e.do("GET", "/api/v1/cases/nope", nil), 404)
	})
}

func TestCreateClaimEveryKind(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		body := claim(
			taxi("2022-10-15T18:30:00+09:00"),
			payment("2022-10-16 09:00"),
			message("2022-10-15T20:00", "2022-10-16T03:00"),
			other("daum", "mail", "2022-10-18 12:00"),
			map[string]any{"kind": "message", "occurred_at": "2022-10-17T09:00:00+09:00", "purpose": "personal"}, // default service and feature; at the end: outside
		)
		r := e.do("POST", "/api/v1/cases/kakao-2022/claims", body)
		wantStatus(t, r, 201)
		got := r.json(t)
		ref, _ := got["reference"].(string)
		code, _ := got["access_code"].(string)
		if auth.CanonicalReference(ref) != ref || len(code) != 19 {
			t.Fatalf("reference %q, access code %q", ref, code)
		}
		if got["status"] != "received" || got["channel"] != "api" || got["estimate_krw"] != nil && got["estimate_krw"] == float64(-1) {
			t.Errorf("claim: %s", r.Body)
		}
		if cl := got["claimant"].(map[string]any); cl["phone"] != "+821012345678" || cl["locale"] != "ko" {
			t.Errorf("claimant not normalized: %v", cl)
		}
		its := items(t, r)
		want := []struct{ status, code, service, feature string }{
			{"eligible", "in_down_window", "kakao_t", "taxi"},
			{"eligible_degraded", "in_degraded_window", "kakao_pay", "payments"},
			{"eligible", "in_down_window", "kakaotalk", "text"},
			{"eligible", "in_down_window", "daum", "mail"},
			{"ineligible", "outside_outage_window", "kakaotalk", "text"},
		}
		for i, w := range want {
			el := its[i]["eligibility"].(map[string]any)
			if el["status"] != w.status || el["code"] != w.code || its[i]["service"] != w.service || its[i]["feature"] != w.feature {
				t.Errorf("item %d: %v %v/%v, want %+v", i, el, its[i]["service"], its[i]["feature"], w)
			}
			if w.status != "ineligible" && el["window"] == nil {
				t.Errorf("item %d: no deciding window", i)
			}
		}
		// The message item overlaps the down window most (20:00-01:31) over the degraded one.
		if w := its[2]["eligibility"].(map[string]any)["window"].(map[string]any); w["severity"] != "down" {
			t.Errorf("deciding window of the message: %v", w)
		}
		inel := its[4]["eligibility"].(map[string]any)
		if inel["nearest_window"] == nil || !strings.Contains(inel["message"].(string), "kakaotalk/text") {
			t.Errorf("ineligible item does not name the nearest window: %v", inel)
		}
		if its[2]["ended_at"] != "2022-10-16T03:00:00+09:00" {
			t.Errorf("ended_at %v", its[2]["ended_at"])
		}

		// The claimant reads it back with the access code; staff with a token.
		r2 := e.do("GET", "/api/v1/claims/"+ref, nil, "X-Access-Code", strings.ToLower(strings.ReplaceAll(code, "-", "")))
		wantStatus(t, r2, 200)
		if _, ok := r2.json(t)["access_code"]; ok {
			t.Error("access code shown again")
		}
		r3 := e.do("GET", "/api/v1/claims/"+ref, nil, bearer(e.lawyer)...)
		wantStatus(t, r3, 200)
		if len(items(t, r3)) != 5 {
			t.Errorf("items read back: %d", len(items(t, r3)))
		}
	})
}

func TestWindowBoundaries(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		cases := []struct {
			name string
			item map[string]any
			want string
		}{
			{"taxi one second before start", taxi("2022-10-15T15:29:59+09:00"), "ineligible"},
			{"taxi at start", taxi("2022-10-15T15:30:00+09:00"), "eligible"},
			{"taxi one second before end", taxi("2022-10-16T13:59:59+09:00"), "eligible"},
			{"taxi at end", taxi("2022-10-16T14:00:00+09:00"), "ineligible"},
			{"text one second before degraded", message("2022-10-16T01:30:59+09:00", ""), "eligible"},
			{"text at degraded start", message("2022-10-16T01:31:00+09:00", ""), "eligible_degraded"},
			{"text one second before end", message("2022-10-17T08:59:59+09:00", ""), "eligible_degraded"},
			{"text at end", message("2022-10-17T09:00:00+09:00", ""), "ineligible"},
			{"period ending at window start", message("2022-10-15T14:00:00+09:00", "2022-10-15T15:30:00+09:00"), "ineligible"},
			{"period ending one second into the window", message("2022-10-15T14:00:00+09:00", "2022-10-15T15:30:01+09:00"), "eligible"},
			{"UTC offset", taxi("2022-10-15T06:30:00Z"), "eligible"},
			{"UTC offset one second early", taxi("2022-10-15T06:29:59Z"), "ineligible"},
		}
		for _, c := range cases {
			if c.item["ended_at"] == "" {
				delete(c.item, "ended_at")
			}
			r := e.do("POST", "/api/v1/cases/kakao-2022/claims/validate", claim(c.item))
			wantStatus(t, r, 200)
			if got := eligibility(items(t, r)[0]); got != c.want {
				t.Errorf("%s: %s, want %s", c.name, got, c.want)
			}
		}
		if n := e.countClaims(); n != 0 {
			t.Errorf("validate stored %d claims", n)
		}
	})
}

func TestLocalTimesAreReadInSeoul(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		for _, in := range []string{"2022-10-15T18:30", "2022-10-15T18:30:00", "2022-10-15 18:30", "2022-10-15 18:30:00",
			"2022-10-15T18:30:00+09:00", "2022-10-15T09:30:00Z", "2022-10-15 09:30:00Z", "2022-10-15T10:30:00+01:00"} {
			r := e.do("POST", "/api/v1/cases/kakao-2022/claims/validate", claim(taxi(in)))
			wantStatus(t, r, 200)
			if got := items(t, r)[0]["occurred_at"]; got != "2022-10-15T18:30:00+09:00" {
				t.Errorf("%q read as %v", in, got)
			}
		}
	})
}

func TestValidationErrors(t *testing.T) {
	long := strings.Repeat("가", 2001)
	many := make([]map[string]any, 51)
	for i := range many {
		many[i] = taxi("2022-10-15T18:30")
	}
	type m = map[string]any
	cases := []struct {
		name string
		body any
		want []string
	}{
		{"no items", m{"claimant": m{"name": "a", "email": "a@b.co"}, "consent": true, "items": []any{}}, []string{"items required"}},
		{"missing items", m{"claimant": m{"name": "a", "email": "a@b.co"}, "consent": true}, []string{"items required"}},
		{"too many items", claim(many...), []string{"items too_many"}},
		{"consent false", m{"claimant": m{"name": "a", "email": "a@b.co"}, "consent": false, "items": []any{taxi("2022-10-15T18:30")}}, []string{"consent consent_required"}},
		{"consent missing", m{"claimant": m{"name": "a", "email": "a@b.co"}, "items": []any{taxi("2022-10-15T18:30")}}, []string{"consent consent_required"}},
		{"no contact", m{"claimant": m{"name": "a"}, "consent": true, "items": []any{taxi("2022-10-15T18:30")}}, []string{"claimant.email required"}},
		{"bad email and phone", m{"claimant": m{"name": "a", "email": "nope", "phone": "12-34"}, "consent": true, "items": []any{taxi("2022-10-15T18:30")}},
			[]string{"claimant.email invalid_format", "claimant.phone invalid_format"}},
		{"name missing and too long", m{"claimant": m{"name": strings.Repeat("a", 101), "email": "a@b.co", "locale": "fr"}, "consent": true, "items": []any{taxi("2022-10-15T18:30")}},
			[]string{"claimant.locale invalid_value", "claimant.name too_long"}},
		{"control character in name", m{"claimant": m{"name": "a\nb", "email": "a@b.co"}, "consent": true, "items": []any{taxi("2022-10-15T18:30")}}, []string{"claimant.name invalid_format"}},
		{"unknown fields", m{"claimant": m{"name": "a", "email": "a@b.co", "age": 3}, "consent": true, "extra": 1, "items": []any{m{"kind": "other", "service": "daum", "feature": "mail", "occurred_at": "2022-10-15T18:30", "color": "red"}}},
			[]string{"claimant.age unknown_field", "extra unknown_field", "items[0].color unknown_field"}},
		{"wrong types", claim(m{"kind": "taxi_booking", "service": "kakao_t", "occurred_at": 5, "failure": "no_driver", "expected_fare_krw": "12000", "documented": "yes"}),
			[]string{"items[0].documented invalid_format", "items[0].expected_fare_krw invalid_format", "items[0].occurred_at invalid_format"}},
		{"fractional and huge amounts", claim(m{"kind": "taxi_booking", "occurred_at": "2022-10-15T18:30", "failure": "no_driver", "expected_fare_krw": 1.5, "loss_krw": 1e30}),
			[]string{"items[0].expected_fare_krw invalid_format", "items[0].loss_krw invalid_format"}},
		{"amount out of range", claim(m{"kind": "taxi_booking", "occurred_at": "2022-10-15T18:30", "failure": "no_driver", "expected_fare_krw": -1, "loss_krw": 1000000001}),
			[]string{"items[0].expected_fare_krw out_of_range", "items[0].loss_krw out_of_range"}},
		{"bad times", claim(m{"kind": "message", "occurred_at": "15 Oct 2022", "purpose": "personal"}, m{"kind": "message", "occurred_at": "2030-01-01T00:00", "purpose": "personal"},
			m{"kind": "message", "occurred_at": "1999-12-31T23:59", "purpose": "personal"}, message("2022-10-16T03:00", "2022-10-15T20:00")),
			[]string{"items[0].occurred_at invalid_format", "items[1].occurred_at in_future", "items[2].occurred_at out_of_range", "items[3].ended_at end_before_start"}},
		{"unknown service and feature", claim(m{"kind": "other", "service": "naver", "feature": "x", "occurred_at": "2022-10-15T18:30"}, m{"kind": "other", "service": "daum", "feature": "blog", "occurred_at": "2022-10-15T18:30"}),
			[]string{"items[0].service unknown_service", "items[1].feature unknown_feature"}},
		{"kind not allowed", claim(m{"kind": "taxi_booking", "service": "daum", "occurred_at": "2022-10-15T18:30", "failure": "no_driver"}), []string{"items[0].kind kind_not_allowed"}},
		{"other needs a feature", claim(m{"kind": "other", "service": "daum", "occurred_at": "2022-10-15T18:30"}), []string{"items[0].feature required"}},
		{"kind unknown, occurred_at missing", claim(m{"kind": "taxi"}), []string{"items[0].kind invalid_value", "items[0].occurred_at required"}},
		{"kind rules", claim(m{"kind": "payment", "occurred_at": "2022-10-15T18:30", "failure": "stolen"}, m{"kind": "payment", "occurred_at": "2022-10-15T18:30", "failure": "payment_failed", "amount_krw": 0},
			m{"kind": "message", "occurred_at": "2022-10-15T18:30", "purpose": "fun", "failure": "no_driver"}, m{"kind": "taxi_booking", "occurred_at": "2022-10-15T18:30", "ended_at": "2022-10-15T19:30"}),
			[]string{"items[0].amount_krw required", "items[0].failure invalid_value", "items[1].amount_krw out_of_range", "items[2].failure not_applicable", "items[2].purpose invalid_value",
				"items[3].ended_at not_applicable", "items[3].failure required"}},
		{"description too long", claim(m{"kind": "other", "service": "daum", "feature": "mail", "occurred_at": "2022-10-15T18:30", "description": long}), []string{"items[0].description too_long"}},
	}
	eachDB(t, func(t *testing.T, e *env) {
		for _, c := range cases {
			r := e.do("POST", "/api/v1/cases/kakao-2022/claims", c.body)
			if r.Status != 422 {
				t.Errorf("%s: status %d: %s", c.name, r.Status, r.Body)
				continue
			}
			if code := errorCode(t, r); code != "validation_failed" {
				t.Errorf("%s: code %s", c.name, code)
			}
			got := fields(t, r)
			for _, w := range c.want {
				if !contains(got, w) {
					t.Errorf("%s: missing %q in %q", c.name, w, got)
				}
			}
			if len(got) != len(c.want) {
				t.Errorf("%s: got %q, want exactly %q", c.name, got, c.want)
			}
		}
		if n := e.countClaims(); n != 0 {
			t.Errorf("rejected requests stored %d claims", n)
		}
	})
}

func TestErrorMessagesFollowAcceptLanguage(t *testing.T) {
	e := newEnv(t, "sqlite")
	body := claim(map[string]any{"kind": "taxi_booking", "occurred_at": "2030-01-01T00:00", "failure": "no_driver"})
	ko := e.do("POST", "/api/v1/cases/kakao-2022/claims", body)
	en := e.do("POST", "/api/v1/cases/kakao-2022/claims", body, "Accept-Language", "en-US,en;q=0.9")
	fr := e.do("POST", "/api/v1/cases/kakao-2022/claims", body, "Accept-Language", "fr")
	msg := func(r resp) string {
		return r.json(t)["error"].(map[string]any)["fields"].([]any)[0].(map[string]any)["message"].(string)
	}
	if msg(ko) != "미래 시각은 입력할 수 없습니다." || msg(en) != "Must not be in the future." || msg(fr) != msg(ko) {
		t.Errorf("messages: ko %q, en %q, fr %q", msg(ko), msg(en), msg(fr))
	}
}

func TestBadRequests(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		path := "/api/v1/cases/kakao-2022/claims"
		cases := []struct {
			name   string
			body   string
			ctype  string
			status int
			code   string
		}{
			{"malformed", `{"claimant":`, "application/json", 400, "malformed_request"},
			{"two documents", `{} {}`, "application/json", 400, "malformed_request"},
			{"not an object", `[1,2]`, "application/json", 422, "validation_failed"},
			{"wrong content type", `{}`, "text/plain", 415, "unsupported_media_type"},
			{"no content type", `{}`, "", 415, "unsupported_media_type"},
			{"too large", `{"claimant":{"name":"` + strings.Repeat("a", 1<<20) + `"}}`, "application/json", 413, "too_large"},
			{"json with charset", `{`, "application/json; charset=utf-8", 400, "malformed_request"},
			{"text after the document", `{"claimant":{}} x`, "application/json", 400, "malformed_request"},
			{"not UTF-8", "{\"claimant\":{\"name\":\"\xff\"}}", "application/json", 400, "malformed_request"},
		}
		for _, c := range cases {
			req := httptest.NewRequest("POST", path, strings.NewReader(c.body))
			if c.ctype != "" {
				req.Header.Set("Content-Type", c.ctype)
			}
			rec := httptest.NewRecorder()
			e.h.ServeHTTP(rec, req)
			r := resp{Status: rec.Code, Header: rec.Header(), Body: rec.Body.Bytes()}
			checkOpenAPI(t, req, []byte(c.body), r.Status, r.Header, r.Body)
			if r.Status != c.status || errorCode(t, r) != c.code {
				t.Errorf("%s: %d %s, want %d %s", c.name, r.Status, r.Body, c.status, c.code)
			}
		}
		wantStatus(t, e.do("POST", "/api/v1/cases/nope/claims", claim(taxi("2022-10-15T18:30"))), 404)
		wantStatus(t, e.do("GET", "/api/v1/nothing", nil), 404)
		if n := e.countClaims(); n != 0 {
			t.Errorf("bad requests stored %d claims", n)
		}
	})
}

// Text PostgreSQL cannot store (NUL, bytes that are not UTF-8) in a path, a query or a body is
// the client's mistake on either database: 404 or a field error, never a 500, nothing stored.
func TestUnstorableText(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		for _, path := range []string{"/api/v1/cases/%ff", "/api/v1/cases/a%00b"} {
			if r := e.do("GET", path, nil); r.Status != 404 {
				t.Errorf("GET %s: %d %s", path, r.Status, r.Body)
			}
		}
		if r := e.do("POST", "/api/v1/cases/%ff/claims", claim(taxi("2022-10-15T18:30"))); r.Status != 404 {
			t.Errorf("POST to a case named \\xff: %d %s", r.Status, r.Body)
		}
		r := e.do("GET", "/api/v1/cases/kakao-2022/claims?q=a%00b&status=%ff", nil, bearer(e.lawyer)...)
		if got := fields(t, r); r.Status != 422 || !cmp.Equal(got, []string{"q invalid_format", "status invalid_format"}) {
			t.Errorf("query with NUL and \\xff: %d %v", r.Status, got)
		}
		body := claim(map[string]any{"kind": "message", "occurred_at": "2022-10-15 20:00", "purpose": "personal", "description": "a\x00b"})
		r = e.do("POST", "/api/v1/cases/kakao-2022/claims", body)
		if got := fields(t, r); r.Status != 422 || !cmp.Equal(got, []string{"items[0].description invalid_format"}) {
			t.Errorf("description with NUL: %d %v", r.Status, got)
		}
		r = e.do("POST", "/api/v1/session", map[string]any{"email": "a\x00@example.com", "password": "x"})
		if got := fields(t, r); r.Status != 422 || !cmp.Equal(got, []string{"email invalid_format"}) {
			t.Errorf("sign-in with NUL: %d %v", r.Status, got)
		}
		if n := e.countClaims(); n != 0 {
			t.Errorf("stored %d claims", n)
		}
	})
}

// A query value that is not text (not UTF-8, or NUL) gets the answer of its route: under /api/
// a field error under its name (documented for every operation), on a page the page itself,
// the value dropped, as if it had not been sent (it was a JSON 422, whatever the page). Never a
// 500: PostgreSQL refuses such text.
func TestQueryNotText(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		created := e.do("POST", "/api/v1/cases/kakao-2022/claims", claim(taxi("2022-10-15T18:30")))
		wantStatus(t, created, 201)
		ref, code := created.json(t)["reference"].(string), created.json(t)["access_code"].(string)
		for _, path := range []string{"/api/v1/claims/" + ref + "?utm=%ff", "/api/v1/claims/" + ref + "/damages?utm=a%00b"} {
			r := e.do("GET", path, nil, "X-Access-Code", code)
			if got := fields(t, r); r.Status != 422 || !cmp.Equal(got, []string{"utm invalid_format"}) {
				t.Errorf("GET %s: %d %v", path, r.Status, got)
			}
		}
		for _, path := range []string{"/api/v1/cases?x=%ff", "/api/v1/users?%ff=1", "/api/v1/imports/1?x=%00"} {
			if r := e.do("GET", path, nil, bearer(e.admin)...); r.Status != 422 {
				t.Errorf("GET %s: %d %s", path, r.Status, r.Body)
			}
		}
		// Pages: the page, as without the value.
		for _, tc := range []struct {
			path    string
			status  int
			headers []string
		}{
			{"/status?reference=%ff", 200, nil},
			{"/status?reference=CD-%00&done=%ff", 200, nil},
			{"/claim?draft=%ff", 200, nil},
			{"/admin/login?next=%ff", 200, nil},
			{"/admin/cases/kakao-2022/claims?q=a%00b&status=%ff&%ff=1", 200, bearer(e.lawyer)},
			{"/admin/audit?entity_id=%ff", 200, bearer(e.lawyer)},
			{"/admin/claims/" + ref + "?back=%ff", 200, bearer(e.lawyer)},
		} {
			r := e.plain("GET", tc.path, tc.headers...)
			if r.Status != tc.status || !strings.HasPrefix(r.Header.Get("Content-Type"), "text/html") {
				t.Errorf("GET %s: %d %s, want %d text/html: %.200s", tc.path, r.Status, r.Header.Get("Content-Type"), tc.status, r.Body)
			}
		}
		// A path that is not text names nothing, on a page as in the API.
		if r := e.plain("GET", "/admin/claims/%ff"); r.Status != 404 {
			t.Errorf("GET /admin/claims/%%ff: %d", r.Status)
		}
	})
}

// A member named twice is refused with its path: encoding/json kept the last, so "consent"
// false then true was a consenting claim.
func TestDuplicateMembers(t *testing.T) {
	e := newEnv(t, "sqlite")
	good, _ := json.Marshal(claim(taxi("2022-10-15T18:30")))
	body := strings.Replace(string(good), `"consent":true`, `"consent":false,"consent":true`, 1)
	r := e.do("POST", "/api/v1/cases/kakao-2022/claims", body)
	if got := fields(t, r); r.Status != 422 || !cmp.Equal(got, []string{"consent duplicate_field"}) {
		t.Errorf("%d %v", r.Status, got)
	}
}

// A body the server cannot read as HTTP (a chunk size that is not hex) is answered 400. It was
// taken for a client gone away and left unanswered, so gin sent 200 with no body: on
// POST /claims, the answer to a claim already stored.
func TestBrokenChunkedBody(t *testing.T) {
	e := newEnv(t, "sqlite")
	srv := httptest.NewServer(e.h)
	defer srv.Close()
	conn, err := net.Dial("tcp", srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprint(conn, "POST /api/v1/cases/kakao-2022/claims HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"+
		"Transfer-Encoding: chunked\r\n\r\n5\r\n{\"cla\r\nZZ\r\n")
	res, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if res.StatusCode != 400 || !strings.Contains(string(b), "malformed_request") {
		t.Fatalf("%d %s", res.StatusCode, b)
	}
}

// A body that ends before its end, from a client that only closed its sending side and still
// reads, is answered 400 malformed_request in the one error shape, and counted so. It was taken
// for a client gone away and left unanswered, so gin sent an empty 200: on POST /claims, the
// answer to a claim stored.
func TestCutBody(t *testing.T) {
	e := newEnv(t, "sqlite")
	srv := httptest.NewServer(e.h)
	defer srv.Close()
	good, _ := json.Marshal(claim(taxi("2022-10-15T18:30")))
	half := good[:len(good)/2]
	bodies := []struct{ name, head, body string }{
		{"shorter than Content-Length", fmt.Sprintf("Content-Length: %d\r\n", len(good)), string(half)},
		{"chunked without its last chunk", "Transfer-Encoding: chunked\r\n", fmt.Sprintf("%x\r\n%s\r\n", len(half), half)},
	}
	csvHalf := goodCSV[:len(goodCSV)/2]
	uploads := []struct{ name, head, body string }{
		{"shorter than Content-Length", fmt.Sprintf("Content-Length: %d\r\n", len(goodCSV)), csvHalf},
		{"chunked without its last chunk", "Transfer-Encoding: chunked\r\n", fmt.Sprintf("%x\r\n%s\r\n", len(csvHalf), csvHalf)},
	}
	for _, r := range []struct {
		path, head string
		bodies     []struct{ name, head, body string }
	}{
		{"/api/v1/cases/kakao-2022/claims", "Content-Type: application/json\r\n", bodies},
		{"/api/v1/cases/kakao-2022/claims/validate", "Content-Type: application/json\r\n", bodies},
		// An upload read in chunks as it comes: the same answer, nothing imported.
		{"/api/v1/cases/kakao-2022/imports", "Content-Type: text/csv\r\nAuthorization: Bearer " + e.importer + "\r\n", uploads},
	} {
		path := r.path
		for _, b := range r.bodies {
			conn, err := net.Dial("tcp", srv.Listener.Addr().String())
			if err != nil {
				t.Fatal(err)
			}
			fmt.Fprintf(conn, "POST %s HTTP/1.1\r\nHost: x\r\n%s%s\r\n%s", path, r.head, b.head, b.body)
			conn.(*net.TCPConn).CloseWrite()
			res, err := http.ReadResponse(bufio.NewReader(conn), nil)
			if err != nil {
				t.Fatalf("%s, %s: %v", path, b.name, err)
			}
			body, _ := io.ReadAll(res.Body)
			res.Body.Close()
			conn.Close()
			var eb api.ErrorBody
			if res.StatusCode != 400 || json.Unmarshal(body, &eb) != nil || eb.Error.Code != "malformed_request" {
				t.Errorf("%s, %s: %d %s, want 400 malformed_request", path, b.name, res.StatusCode, body)
			}
		}
	}
	var imports int64
	e.st.Gorm().Model(&models.Import{}).Count(&imports)
	if n := e.countClaims(); n != 0 || imports != 0 {
		t.Errorf("cut bodies stored %d claims, %d imports", n, imports)
	}
	// The metrics (and the access log, which reads the same status) count them as refused.
	for _, route := range []string{"/api/v1/cases/:case/claims", "/api/v1/cases/:case/claims/validate"} {
		want := fmt.Sprintf(`claimdesk_http_requests_total{method="POST",route=%q,status="400"} 2`, route)
		if got := e.metric(fmt.Sprintf(`claimdesk_http_requests_total{method="POST",route=%q,status="400"}`, route)); got != want {
			t.Errorf("metrics: %q, want %q", got, want)
		}
	}
}

// TestHalfClosedAfterBody: a client that sends a whole claim and then closes its sending side
// (Go's server cancels the request's context then) gets its answer, and its claim is stored:
// with an external_ref (stored alone) as without (stored in a group).
func TestHalfClosedAfterBody(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		srv := httptest.NewServer(e.h)
		defer srv.Close()
		for i, ref := range []string{"", "partner-0001"} {
			c := claim(taxi("2022-10-15T18:30"))
			c["claimant"].(map[string]any)["phone"] = fmt.Sprintf("010-2222-000%d", i)
			if ref != "" {
				c["external_ref"] = ref
			}
			body, _ := json.Marshal(c)
			conn, err := net.Dial("tcp", srv.Listener.Addr().String())
			if err != nil {
				t.Fatal(err)
			}
			fmt.Fprintf(conn, "POST /api/v1/cases/kakao-2022/claims HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s", len(body), body)
			conn.(*net.TCPConn).CloseWrite()
			res, err := http.ReadResponse(bufio.NewReader(conn), nil)
			if err != nil {
				t.Fatalf("external_ref %q: %v", ref, err)
			}
			got, _ := io.ReadAll(res.Body)
			res.Body.Close()
			conn.Close()
			var out api.ClaimResponse
			if res.StatusCode != 201 || json.Unmarshal(got, &out) != nil {
				t.Fatalf("external_ref %q: %d %s, want 201", ref, res.StatusCode, got)
			}
			if _, err := e.st.ClaimByReference(context.Background(), out.Reference); err != nil {
				t.Errorf("external_ref %q: answered 201, stored: %v", ref, err)
			}
		}
	})
}

// Work cancelled because the client went away is not answered as a success: gin's default
// 200 would read as done. It is counted apart (499), neither a success nor a client's mistake.
func TestClientGone(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		req := httptest.NewRequest("GET", "/api/v1/cases", nil).WithContext(ctx)
		rec := httptest.NewRecorder()
		e.h.ServeHTTP(rec, req)
		if rec.Code != 499 {
			t.Errorf("%d %s, want 499", rec.Code, rec.Body)
		}
		want := `claimdesk_http_requests_total{method="GET",route="/api/v1/cases",status="499"} 1`
		if got := e.metric(`claimdesk_http_requests_total{method="GET",route="/api/v1/cases",status="499"}`); got != want {
			t.Errorf("metrics: %q, want %q", got, want)
		}
	})
}

func TestIdempotentReplay(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		body := claim(taxi("2022-10-15T18:30"))
		body["external_ref"] = "partner-42"
		first := e.do("POST", "/api/v1/cases/kakao-2022/claims", body)
		wantStatus(t, first, 201)
		again := e.do("POST", "/api/v1/cases/kakao-2022/claims", body)
		wantStatus(t, again, 200)
		if again.json(t)["reference"] != first.json(t)["reference"] {
			t.Error("replay answered a different claim")
		}
		if _, ok := again.json(t)["access_code"]; ok {
			t.Error("replay showed the access code again")
		}
		// The same content spelled differently is the same claim.
		body["items"] = []any{taxi("2022-10-15T09:30:00Z")}
		wantStatus(t, e.do("POST", "/api/v1/cases/kakao-2022/claims", body), 200)

		changed := claim(taxi("2022-10-15T18:31"))
		changed["external_ref"] = "partner-42"
		r := e.do("POST", "/api/v1/cases/kakao-2022/claims", changed)
		wantStatus(t, r, 409)
		if errorCode(t, r) != "conflict" {
			t.Errorf("code %s", errorCode(t, r))
		}
		if n := e.countClaims(); n != 1 {
			t.Errorf("%d claims stored, want 1", n)
		}
		// Without external_ref every submission is a new claim.
		wantStatus(t, e.do("POST", "/api/v1/cases/kakao-2022/claims", claim(taxi("2022-10-15T18:30"))), 201)
		wantStatus(t, e.do("POST", "/api/v1/cases/kakao-2022/claims", claim(taxi("2022-10-15T18:30"))), 201)
		if n := e.countClaims(); n != 3 {
			t.Errorf("%d claims stored, want 3", n)
		}
	})
}

// windowsOf returns the case's windows as a PUT body, with fn applied to each.
func (e *env) windowsOf(fn func(w map[string]any)) map[string]any {
	e.t.Helper()
	r := e.do("GET", "/api/v1/cases/kakao-2022", nil)
	var c struct {
		Windows []map[string]any `json:"windows"`
	}
	if err := json.Unmarshal(r.Body, &c); err != nil {
		e.t.Fatal(err)
	}
	ws := make([]any, len(c.Windows))
	for i, w := range c.Windows {
		delete(w, "id")
		fn(w)
		ws[i] = w
	}
	return map[string]any{"windows": ws}
}

func TestReplaceWindowsReevaluates(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		// 15:00 is before the official start; 14:30 on 10-16 after the taxi window's end.
		created := e.do("POST", "/api/v1/cases/kakao-2022/claims", claim(taxi("2022-10-16T14:30"), taxi("2022-10-15T18:30"), message("2022-10-16T02:00", "")))
		wantStatus(t, created, 201)
		ref := created.json(t)["reference"].(string)

		body := e.windowsOf(func(w map[string]any) {
			if w["service"] == "kakao_t" && w["feature"] == "taxi" {
				w["end"] = "2022-10-16T15:00:00+09:00" // later evidence: taxis back at 15:00
			}
		})
		r := e.do("PUT", "/api/v1/cases/kakao-2022/windows", body, bearer(e.lawyer)...)
		wantStatus(t, r, 200)
		got := r.json(t)
		if got["items_reevaluated"] != float64(3) || got["eligibility_changed"] != float64(1) {
			t.Errorf("re-evaluation: %s", r.Body)
		}
		after := e.do("GET", "/api/v1/claims/"+ref, nil, bearer(e.admin)...)
		its := items(t, after)
		if eligibility(its[0]) != "eligible" || eligibility(its[1]) != "eligible" || eligibility(its[2]) != "eligible_degraded" {
			t.Errorf("after the change: %s", after.Body)
		}
		if w := its[0]["eligibility"].(map[string]any)["window"].(map[string]any); w["end"] != "2022-10-16T15:00:00+09:00" {
			t.Errorf("deciding window not the new one: %v", w)
		}

		// Invalid windows change nothing.
		before := e.do("GET", "/api/v1/cases/kakao-2022", nil)
		bad := e.windowsOf(func(w map[string]any) {
			if w["service"] == "kakao_t" && w["feature"] == "taxi" {
				w["end"] = "2022-10-15T10:00:00+09:00"
			}
			if w["service"] == "daum" && w["feature"] == "cafe" && w["severity"] == "degraded" {
				w["start"] = "2022-10-16T14:00:00+09:00" // overlaps the down window ending 14:30
			}
		})
		bad["windows"] = append(bad["windows"].([]any), map[string]any{"service": "naver", "feature": "x", "severity": "gone", "start": "yesterday", "end": "2022-10-16T14:00:00+09:00"})
		r = e.do("PUT", "/api/v1/cases/kakao-2022/windows", bad, bearer(e.admin)...)
		wantStatus(t, r, 422)
		// Every problem at once, in input order.
		want := []string{"windows[1].start window_overlap", "windows[11].end end_before_start", "windows[19].service unknown_service",
			"windows[19].severity invalid_value", "windows[19].start invalid_format"}
		if got := fields(t, r); strings.Join(got, ",") != strings.Join(want, ",") {
			t.Errorf("fields: %q, want %q", got, want)
		}
		wantStatus(t, e.do("PUT", "/api/v1/cases/kakao-2022/windows", map[string]any{}, bearer(e.admin)...), 422)
		if now := e.do("GET", "/api/v1/cases/kakao-2022", nil); !bytes.Equal(now.Body, before.Body) {
			t.Error("a rejected replacement changed the windows")
		}
	})
}

func TestAuthorization(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		created := e.do("POST", "/api/v1/cases/kakao-2022/claims", claim(taxi("2022-10-15T18:30")))
		wantStatus(t, created, 201)
		ref := created.json(t)["reference"].(string)
		code := created.json(t)["access_code"].(string)
		windows := e.windowsOf(func(map[string]any) {})

		cases := []struct {
			name    string
			method  string
			path    string
			body    any
			headers []string
			want    int
		}{
			{"list without token", "GET", "/api/v1/cases/kakao-2022/claims", nil, nil, 401},
			{"list as importer", "GET", "/api/v1/cases/kakao-2022/claims", nil, bearer(e.importer), 403},
			{"list as lawyer", "GET", "/api/v1/cases/kakao-2022/claims", nil, bearer(e.lawyer), 200},
			{"list with a bad token", "GET", "/api/v1/cases/kakao-2022/claims", nil, bearer("cdk_nope"), 401},
			{"list with a malformed header", "GET", "/api/v1/cases/kakao-2022/claims", nil, []string{"Authorization", "Basic abc"}, 401},
			{"windows without token", "PUT", "/api/v1/cases/kakao-2022/windows", windows, nil, 401},
			{"windows as importer", "PUT", "/api/v1/cases/kakao-2022/windows", windows, bearer(e.importer), 403},
			{"windows as admin", "PUT", "/api/v1/cases/kakao-2022/windows", windows, bearer(e.admin), 200},
			{"claim without anything", "GET", "/api/v1/claims/" + ref, nil, nil, 401},
			{"claim with a wrong code", "GET", "/api/v1/claims/" + ref, nil, []string{"X-Access-Code", "0000-0000-0000-0000"}, 404},
			{"unknown claim with a code", "GET", "/api/v1/claims/CD-0000-0000-0000", nil, []string{"X-Access-Code", code}, 404},
			{"claim with its code", "GET", "/api/v1/claims/" + ref, nil, []string{"X-Access-Code", code}, 200},
			{"claim as importer", "GET", "/api/v1/claims/" + ref, nil, bearer(e.importer), 403},
			{"claim as lawyer", "GET", "/api/v1/claims/" + ref, nil, bearer(e.lawyer), 200},
			{"token as lawyer", "POST", "/api/v1/tokens", map[string]any{"role": "lawyer", "name": "x"}, bearer(e.lawyer), 403},
			{"token without auth", "POST", "/api/v1/tokens", map[string]any{"role": "lawyer", "name": "x"}, nil, 401},
			{"revoke as lawyer", "DELETE", "/api/v1/tokens/1", nil, bearer(e.lawyer), 403},
		}
		for _, c := range cases {
			if r := e.do(c.method, c.path, c.body, c.headers...); r.Status != c.want {
				t.Errorf("%s: %d, want %d: %s", c.name, r.Status, c.want, r.Body)
			}
		}
	})
}

func TestTokens(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		r := e.do("POST", "/api/v1/tokens", map[string]any{"role": "lawyer", "name": "김변호사"}, bearer(e.admin)...)
		wantStatus(t, r, 201)
		var tok api.TokenResponse
		if err := json.Unmarshal(r.Body, &tok); err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(tok.Token, "cdk_") || tok.Role != "lawyer" {
			t.Fatalf("token: %+v", tok)
		}
		wantStatus(t, e.do("GET", "/api/v1/cases/kakao-2022/claims", nil, bearer(tok.Token)...), 200)
		// Only the hash is stored.
		var stored models.APIToken
		if err := e.st.Gorm().Where("id = ?", tok.ID).Take(&stored).Error; err != nil {
			t.Fatal(err)
		}
		if bytes.Contains(stored.TokenHash, []byte(tok.Token)) || len(stored.TokenHash) != 32 {
			t.Error("token not stored as a hash")
		}
		wantStatus(t, e.do("DELETE", "/api/v1/tokens/"+itoa(tok.ID), nil, bearer(e.admin)...), 204)
		wantStatus(t, e.do("GET", "/api/v1/cases/kakao-2022/claims", nil, bearer(tok.Token)...), 401)
		wantStatus(t, e.do("DELETE", "/api/v1/tokens/"+itoa(tok.ID), nil, bearer(e.admin)...), 404)
		wantStatus(t, e.do("DELETE", "/api/v1/tokens/abc", nil, bearer(e.admin)...), 404)

		r = e.do("POST", "/api/v1/tokens", map[string]any{"role": "root", "name": ""}, bearer(e.admin)...)
		wantStatus(t, r, 422)
		if got := fields(t, r); !contains(got, "role invalid_value") || !contains(got, "name required") {
			t.Errorf("fields %q", got)
		}
	})
}

func itoa(n int64) string { b, _ := json.Marshal(n); return string(b) }

func TestListClaims(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		var refs []string
		for i := 0; i < 5; i++ {
			body := claim(taxi("2022-10-15T18:30"))
			if i%2 == 1 {
				body = claim(other("daum", "mail", "2022-10-25T10:00")) // after every window: ineligible
			}
			r := e.do("POST", "/api/v1/cases/kakao-2022/claims", body)
			wantStatus(t, r, 201)
			refs = append(refs, r.json(t)["reference"].(string))
		}
		list := func(query string) (got []string, next string) {
			r := e.do("GET", "/api/v1/cases/kakao-2022/claims"+query, nil, bearer(e.lawyer)...)
			wantStatus(t, r, 200)
			var page api.ClaimListResponse
			if err := json.Unmarshal(r.Body, &page); err != nil {
				t.Fatal(err)
			}
			for _, c := range page.Claims {
				got = append(got, c.Reference)
			}
			return got, page.NextCursor
		}
		// Newest first, two per page, every claim once.
		var all []string
		cursor := ""
		for page := 0; page < 5; page++ {
			got, next := list("?limit=2&cursor=" + cursor)
			all = append(all, got...)
			if next == "" {
				break
			}
			cursor = next
		}
		want := []string{refs[4], refs[3], refs[2], refs[1], refs[0]}
		if strings.Join(all, ",") != strings.Join(want, ",") {
			t.Errorf("pages %v, want %v", all, want)
		}
		if got, _ := list("?service=daum"); len(got) != 2 {
			t.Errorf("service filter: %v", got)
		}
		if got, _ := list("?eligibility=ineligible"); len(got) != 2 {
			t.Errorf("eligibility filter: %v", got)
		}
		if got, _ := list("?eligibility=eligible&service=kakao_t&status=received"); len(got) != 3 {
			t.Errorf("combined filter: %v", got)
		}
		if got, _ := list("?submitted_after=2026-11-23T20:59:59%2B09:00"); len(got) != 5 {
			t.Errorf("submitted_after before now: %v", got)
		}
		if got, _ := list("?submitted_after=2026-11-23%2021:00"); len(got) != 0 {
			t.Errorf("submitted_after now (local time): %v", got)
		}
		r := e.do("GET", "/api/v1/cases/kakao-2022/claims?limit=501&status=lost&service=naver&eligibility=maybe&submitted_after=soon", nil, bearer(e.lawyer)...)
		wantStatus(t, r, 422)
		if got := fields(t, r); len(got) != 5 {
			t.Errorf("fields %q", got)
		}
		wantStatus(t, e.do("GET", "/api/v1/cases/kakao-2022/claims?cursor=bm9wZQ", nil, bearer(e.lawyer)...), 400)
	})
}
