package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3filter"

	"github.com/claimdesk/claimdesk/api"
	"github.com/claimdesk/claimdesk/internal/auth"
	"github.com/claimdesk/claimdesk/internal/seed"
	"github.com/claimdesk/claimdesk/internal/store"
	"github.com/claimdesk/claimdesk/internal/testdb"
	"github.com/claimdesk/claimdesk/internal/testdb/casedb"
)

// TestOpenAPIExchanges walks the core of the API once over SQLite (cases, windows, claims,
// rules, tokens), the error answers included, and checks that every response
// api/openapi.yaml documents for these operations really happens (500 and the 503 of endpoints
// other than /readyz cannot be provoked here) and matches the document. Requests the
// service accepts (2xx) must be valid for the document too, so the request schemas do not
// reject what the service takes.
func TestOpenAPIExchanges(t *testing.T) {
	if _, _, err := oaLoad(); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	st, err := store.Open(ctx, testdb.SQLite(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if err := st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := seed.Ensure(ctx, st, seed.Kakao2022); err != nil {
		t.Fatal(err)
	}
	tokens := map[auth.Role]string{}
	for _, role := range auth.Roles {
		tokens[role] = casedb.Token(t, st, role, string(role))
	}
	now := time.Date(2022, 11, 2, 10, 14, 7, 0, time.FixedZone("KST", 9*3600))
	oa := &oaClient{t: t, seen: map[string]bool{}, walked: map[string]bool{}, targets: map[string]string{},
		h: api.New(api.Config{Store: st, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Now: func() time.Time { return now }})}
	admin := []string{"Authorization", "Bearer " + tokens[auth.Admin]}
	lawyer := []string{"Authorization", "Bearer " + tokens[auth.Lawyer]}
	importer := []string{"Authorization", "Bearer " + tokens[auth.Importer]}
	bad := []string{"Authorization", "Bearer cdk_unknown"}
	huge := `{"claimant": {"name": "` + strings.Repeat("가", api.MaxBodyBytes/3+1) + `"}}`

	oa.want(200, "GET", "/healthz", "")
	oa.want(200, "GET", "/readyz", "")
	oa.want(200, "GET", "/openapi.yaml", "")

	oa.want(200, "GET", "/api/v1/cases", "")
	oa.want(401, "GET", "/api/v1/cases", "", bad...)
	oa.want(200, "GET", "/api/v1/cases/kakao-2022", "", "Accept-Language", "en")
	oa.want(404, "GET", "/api/v1/cases/kakao-2023", "")
	oa.want(401, "GET", "/api/v1/cases/kakao-2022", "", "Authorization", "Basic eDp5")

	claim := `{
		"claimant": {"name": "김민지", "email": "Minji.Kim@example.com", "phone": "010-1234-5678", "locale": "ko"},
		"consent": true,
		"external_ref": "partner-2022-000123",
		"items": [
			{"kind": "taxi_booking", "occurred_at": "2022-10-15 18:30", "failure": "no_driver",
			 "expected_fare_krw": 15000, "alternative_cost_krw": 32000, "documented": true},
			{"kind": "message", "feature": "channel", "occurred_at": "2022-10-20T09:00:00+09:00",
			 "ended_at": "2022-10-20T18:00:00+09:00", "purpose": "business", "loss_krw": 450000,
			 "description": "알림톡 예약 안내 발송 실패"},
			{"kind": "payment", "occurred_at": "2022-10-16T09:00:00+09:00", "failure": "payment_failed",
			 "amount_krw": 48500, "loss_krw": null},
			{"kind": "other", "service": "daum", "feature": "mail", "occurred_at": "2022-10-18 12:00"}
		]}`
	const claims = "/api/v1/cases/kakao-2022/claims"
	created := oa.want(201, "POST", claims, claim, "X-Request-Id", "partner-batch-17-0042")
	var c struct{ Reference, AccessCode string }
	c.Reference, _ = created["reference"].(string)
	c.AccessCode, _ = created["access_code"].(string)
	oa.want(200, "POST", claims, claim)
	oa.want(409, "POST", claims, strings.Replace(claim, "18:30", "18:31", 1))
	oa.want(201, "POST", claims, `{"claimant": {"name": "이서준", "phone": "+82 10-9876-5432"}, "consent": true,
		"items": [{"kind": "message", "occurred_at": "2022-10-19 09:00", "purpose": "personal"}]}`, lawyer...)
	oa.want(401, "POST", claims, claim, bad...)
	oa.want(404, "POST", "/api/v1/cases/kakao-2023/claims", claim)
	oa.want(422, "POST", claims, `{"claimant": {"name": ""}, "bogus": 1, "items": [{"kind": "payment", "occurred_at": "2030-01-01 00:00", "amount_krw": "x"}]}`, "Accept-Language", "en")
	oa.want(422, "POST", claims, `[]`)
	oa.want(400, "POST", claims, `{"claimant": `)
	oa.want(413, "POST", claims, huge)
	oa.want(415, "POST", claims, claim, "Content-Type", "text/plain")

	const validate = claims + "/validate"
	oa.want(200, "POST", validate, claim)
	oa.want(401, "POST", validate, claim, bad...)
	oa.want(404, "POST", "/api/v1/cases/kakao-2023/claims/validate", claim)
	oa.want(422, "POST", validate, `{"consent": false, "items": []}`)
	oa.want(400, "POST", validate, `{} {}`)
	oa.want(413, "POST", validate, huge)
	oa.want(415, "POST", validate, claim, "Content-Type", "application/x-www-form-urlencoded")

	ref := "/api/v1/claims/" + c.Reference
	oa.want(200, "GET", ref, "", "X-Access-Code", strings.ToLower(c.AccessCode))
	oa.want(200, "GET", ref, "", lawyer...)
	oa.want(200, "GET", "/api/v1/claims/"+strings.ReplaceAll(c.Reference, "-", ""), "", admin...)
	oa.want(401, "GET", ref, "")
	oa.want(401, "GET", ref, "", bad...)
	oa.want(403, "GET", ref, "", importer...)
	oa.want(404, "GET", ref, "", "X-Access-Code", "0000-0000-0000-0000")
	oa.want(404, "GET", "/api/v1/claims/CD-0000-0000-0000", "", lawyer...)

	page := oa.want(200, "GET", claims+"?limit=1", "", lawyer...)
	next, _ := page["next_cursor"].(string)
	oa.want(200, "GET", claims+"?limit=1&cursor="+next, "", lawyer...)
	oa.want(200, "GET", claims+"?status=received&service=kakao_t&eligibility=eligible&submitted_after=2022-10-15+00:00", "", admin...)
	oa.want(200, "GET", claims+"?status=received,under_review,cured", "", lawyer...)
	oa.want(400, "GET", claims+"?cursor=%25", "", lawyer...)
	oa.want(401, "GET", claims, "")
	oa.want(403, "GET", claims, "", importer...)
	oa.want(404, "GET", "/api/v1/cases/kakao-2023/claims", "", lawyer...)
	oa.want(422, "GET", claims+"?status=lost&service=melon&eligibility=maybe&submitted_after=yesterday&limit=501", "", lawyer...)

	const windows = "/api/v1/cases/kakao-2022/windows"
	w := func(extra string) string {
		return `{"windows": [{"service": "kakao_t", "feature": "taxi", "severity": "down", "start": "2022-10-15 15:30",
			"end": "2022-10-16T14:00:00+09:00", "source": "카카오모빌리티 공지", "confidence": "medium"}` + extra + `]}`
	}
	oa.want(200, "PUT", windows, w(`, {"service": "kakao_t", "feature": "taxi", "severity": "degraded", "start": "2022-10-16 14:00", "end": "2022-10-16 18:00"}`), lawyer...)
	oa.want(200, "GET", "/api/v1/cases/kakao-2022", "")
	oa.want(200, "GET", ref, "", lawyer...) // decided against the new windows: no_outage_window
	oa.want(422, "PUT", windows, w(`, {"service": "kakao_t", "feature": "taxi", "severity": "down", "start": "2022-10-16 10:00", "end": "2022-10-16 11:00", "extra": 1}`), admin...)
	oa.want(400, "PUT", windows, `{"windows": [}`, admin...)
	oa.want(401, "PUT", windows, w(""))
	oa.want(403, "PUT", windows, w(""), importer...)
	oa.want(404, "PUT", "/api/v1/cases/kakao-2023/windows", w(""), admin...)
	oa.want(413, "PUT", windows, huge, admin...)
	oa.want(415, "PUT", windows, w(""), append([]string{"Content-Type", ""}, admin...)...)

	const rules = "/api/v1/cases/kakao-2022/rules"
	active := oa.want(200, "GET", rules, "", lawyer...)
	shipped, _ := json.Marshal(active["rules"])
	cheaper := strings.Replace(string(shipped), `"degraded_factor_bps":5000`, `"degraded_factor_bps":2500`, 1)
	oa.want(200, "POST", rules+"/simulate", cheaper, lawyer...)
	oa.want(200, "PUT", rules, cheaper, lawyer...)
	oa.want(200, "PUT", rules, `{"window_policy": "whole_incident", "as_of": null, "evidence_factor_bps": {"documented": 10000, "undocumented": 10000},
		"degraded_factor_bps": 10000, "interest": {"civil_rate_bps": 500, "litigation_rate_bps": 1200, "complaint_served_on": null}, "benchmark": null}`, admin...)
	oa.want(200, "GET", rules+"/versions", "", lawyer...)
	oa.want(200, "GET", "/api/v1/cases/kakao-2022/summary", "", admin...)
	oa.want(200, "GET", ref+"/damages", "", "X-Access-Code", c.AccessCode, "Accept-Language", "en")
	oa.want(200, "GET", ref+"/damages", "", lawyer...)
	for _, path := range []string{rules, rules + "/versions", "/api/v1/cases/kakao-2022/summary", ref + "/damages"} {
		oa.want(401, "GET", path, "", bad...)
		oa.want(404, "GET", strings.Replace(strings.Replace(path, "kakao-2022", "kakao-2023", 1), c.Reference, "CD-0000-0000-0000", 1), "", lawyer...)
		oa.want(403, "GET", path, "", importer...)
	}
	for _, path := range []string{rules, rules + "/simulate"} {
		method := map[string]string{rules: "PUT", rules + "/simulate": "POST"}[path]
		oa.want(400, method, path, `{"window_policy": `, lawyer...)
		oa.want(401, method, path, cheaper)
		oa.want(403, method, path, cheaper, importer...)
		oa.want(404, method, strings.Replace(path, "kakao-2022", "kakao-2023", 1), cheaper, lawyer...)
		oa.want(413, method, path, huge, lawyer...)
		oa.want(415, method, path, cheaper, append([]string{"Content-Type", "text/plain"}, lawyer...)...)
		oa.want(422, method, path, `{"window_policy": "per_day", "evidence_factor_bps": {"documented": -1}, "consolation": {"melon": {}}, "extra": true}`, lawyer...)
	}

	token := oa.want(201, "POST", "/api/v1/tokens", `{"role": "lawyer", "name": "법무법인 한빛 김도윤 변호사"}`, admin...)
	oa.want(400, "POST", "/api/v1/tokens", `nope`, admin...)
	oa.want(401, "POST", "/api/v1/tokens", `{"role": "lawyer", "name": "x"}`)
	oa.want(403, "POST", "/api/v1/tokens", `{"role": "lawyer", "name": "x"}`, lawyer...)
	oa.want(413, "POST", "/api/v1/tokens", huge, admin...)
	oa.want(415, "POST", "/api/v1/tokens", `{"role": "lawyer", "name": "x"}`, append([]string{"Content-Type", "text/json"}, admin...)...)
	oa.want(422, "POST", "/api/v1/tokens", `{"role": "owner", "name": " "}`, admin...)

	id, _ := token["id"].(json.Number)
	oa.want(204, "DELETE", "/api/v1/tokens/"+id.String(), "", admin...)
	oa.want(404, "DELETE", "/api/v1/tokens/"+id.String(), "", admin...)
	oa.want(404, "DELETE", "/api/v1/tokens/first", "", admin...)
	oa.want(401, "DELETE", "/api/v1/tokens/1", "")
	oa.want(403, "DELETE", "/api/v1/tokens/1", "", lawyer...)

	// Wrong access codes are limited; the limit then holds for the right code too.
	for i := 0; i < 100 && oa.send("GET", ref, "", "X-Access-Code", "0000-0000-0000-0000") == http.StatusNotFound; i++ {
	}
	oa.want(429, "GET", ref, "", "X-Access-Code", c.AccessCode)
	oa.want(429, "GET", ref+"/damages", "", "X-Access-Code", c.AccessCode)

	oa.want(404, "GET", "/api/v2/cases", "")
	oa.want(405, "PATCH", "/api/v1/tokens/1", "", admin...)

	// Batch intake (api/imports.go). Without a job runner an import stays queued.
	batch := "/api/v1/cases/kakao-2022/claims/batch"
	bclaim := `{"external_ref": "B-1", "claimant": {"name": "김민준", "email": "minjun@example.com"},
		"items": [{"kind": "other", "service": "daum", "feature": "mail", "occurred_at": "2022-10-16 09:00", "loss_krw": 5000}]}`
	oa.want(200, "POST", batch, `{"claims": [`+bclaim+`, {"items": []}]}`, importer...)
	oa.want(400, "POST", batch, `{"claims": [`, importer...)
	oa.want(401, "POST", batch, `{"claims": [`+bclaim+`]}`)
	oa.want(404, "POST", "/api/v1/cases/kakao-2023/claims/batch", `{"claims": [`+bclaim+`]}`, importer...)
	oa.want(415, "POST", batch, bclaim, append([]string{"Content-Type", "text/plain"}, importer...)...)
	oa.want(422, "POST", batch, `{"claims": []}`, lawyer...)
	imports := "/api/v1/cases/kakao-2022/imports"
	csvFile := "claim_ref,claimant_name,email,kind,service,feature,occurred_at,loss_krw\nI-1,박서연,seoyeon@example.com,other,daum,mail,2022-10-16 09:00,5000\n"
	csvType := append([]string{"Content-Type", "text/csv"}, importer...)
	up := oa.want(202, "POST", imports+"?dry_run=false&max_error_rate=0.5", csvFile, csvType...)
	oa.want(400, "POST", imports, "--x--", append([]string{"Content-Type", "multipart/form-data"}, importer...)...)
	oa.want(401, "POST", imports, csvFile, "Content-Type", "text/csv")
	oa.want(404, "POST", "/api/v1/cases/kakao-2023/imports", csvFile, csvType...)
	oa.want(415, "POST", imports, csvFile, importer...)
	oa.want(422, "POST", imports+"?max_error_rate=2", csvFile, csvType...)
	if id, ok := up["id"].(json.Number); ok {
		imp := "/api/v1/imports/" + id.String()
		oa.want(200, "GET", imp, "", importer...)
		oa.want(200, "GET", imp+"/errors.csv", "", lawyer...)
		oa.want(401, "GET", imp, "")
		oa.want(401, "GET", imp+"/errors.csv", "")
		oa.want(404, "GET", "/api/v1/imports/999999", "", admin...)
		oa.want(404, "GET", "/api/v1/imports/999999/errors.csv", "", admin...)
		oa.want(202, "DELETE", imp, "", importer...)
		oa.want(409, "DELETE", imp, "", importer...)
		oa.want(401, "DELETE", imp, "")
		oa.want(404, "DELETE", "/api/v1/imports/999999", "", admin...)
	}

	// A query parameter that is not text is refused on every operation of the API, before
	// anything else is looked at (textOnly): tried once on each operation walked that
	// documents 422 and has not answered it yet.
	doc, _, _ := oaLoad()
	for _, op := range oaSorted(oa.walked) {
		method, path, _ := strings.Cut(op, " ")
		if oa.seen[op+" 422"] || doc.Paths.Find(path).GetOperation(method).Responses.Value("422") == nil {
			continue
		}
		target, sep := oa.targets[op], "?"
		if strings.Contains(target, "?") {
			sep = "&"
		}
		oa.want(422, method, target+sep+"utm=%ff", "")
	}

	st.Close()
	oa.want(503, "GET", "/readyz", "")

	// Every documented answer of the operations walked here has been seen. (Operations this
	// test does not walk are checked by the tests of their own resource.)
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			if !oa.walked[method+" "+path] {
				continue
			}
			for status := range op.Responses.Map() {
				key := method + " " + path + " " + status
				if status == "500" || status == "503" && path != "/readyz" || oaUnprovoked[key] {
					continue
				}
				if !oa.seen[key] {
					t.Errorf("no exchange gives %s: add one to TestOpenAPIExchanges (or drop the answer from api/openapi.yaml)", key)
				}
			}
		}
	}
}

// oaUnprovoked are documented answers this test cannot bring about.
var oaUnprovoked = map[string]bool{
	"POST /api/v1/cases/{case}/claims/batch 413": true, // needs a body over 32 MiB
	"POST /api/v1/cases/{case}/imports 413":      true, // needs a file over the upload limit (2 GiB here)
	"PUT /api/v1/cases/{case}/rules 409":         true, // only after several writers race for the same version
}

// oaClient sends requests through the real router and records which documented answers it saw.
type oaClient struct {
	t      *testing.T
	h      http.Handler
	seen   map[string]bool // "METHOD /path/{param} status"
	walked map[string]bool // "METHOD /path/{param}"
	// targets holds the first target sent to each operation walked.
	targets map[string]string
}

// want sends one request (a JSON body when body is not empty; headers are name, value pairs),
// checks the exchange against the document, expects status and returns the JSON object answered
// (nil for other bodies).
func (c *oaClient) want(status int, method, target, body string, headers ...string) map[string]any {
	c.t.Helper()
	got, v := c.exchange(method, target, body, headers...)
	if got != status {
		c.t.Errorf("%s %s: status %d, want %d: %v", method, target, got, status, v)
	}
	return v
}

// send is want without an expected status; it returns the status.
func (c *oaClient) send(method, target, body string, headers ...string) int {
	c.t.Helper()
	got, _ := c.exchange(method, target, body, headers...)
	return got
}

func (c *oaClient) exchange(method, target, body string, headers ...string) (int, map[string]any) {
	c.t.Helper()
	newReq := func() *http.Request {
		r := httptest.NewRequest(method, target, strings.NewReader(body))
		if body != "" {
			r.Header.Set("Content-Type", "application/json")
		}
		for i := 0; i+1 < len(headers); i += 2 {
			r.Header.Set(headers[i], headers[i+1])
		}
		return r
	}
	req := newReq()
	rec := httptest.NewRecorder()
	c.h.ServeHTTP(rec, req)
	checkOpenAPI(c.t, req, []byte(body), rec.Code, rec.Header(), rec.Body.Bytes())

	_, router, _ := oaLoad()
	if route, params, err := router.FindRoute(req); err == nil {
		op := route.Method + " " + route.Path
		c.walked[op] = true
		if _, ok := c.targets[op]; !ok {
			c.targets[op] = target
		}
		c.seen[route.Method+" "+route.Path+" "+strconv.Itoa(rec.Code)] = true
		if rec.Code < 300 {
			in := &openapi3filter.RequestValidationInput{Request: newReq(), PathParams: params, Route: route, Options: oaOptions}
			if err := openapi3filter.ValidateRequest(context.Background(), in); err != nil {
				c.t.Errorf("%s %s: the service accepted the request (%d) but api/openapi.yaml rejects it:\n%v", method, target, rec.Code, err)
			}
		}
	}

	var v map[string]any
	dec := json.NewDecoder(bytes.NewReader(rec.Body.Bytes()))
	dec.UseNumber()
	if dec.Decode(&v) != nil {
		return rec.Code, nil
	}
	return rec.Code, v
}
