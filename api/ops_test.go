package api_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/claimdesk/claimdesk/api"
)

// plain sends a request without the OpenAPI check, for the operational endpoints that are not
// part of the API document (/metrics, /debug/pprof).
func (e *env) plain(method, path string, headers ...string) resp {
	e.t.Helper()
	req := httptest.NewRequest(method, path, nil)
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	rec := httptest.NewRecorder()
	e.h.ServeHTTP(rec, req)
	return resp{Status: rec.Code, Header: rec.Header(), Body: rec.Body.Bytes()}
}

func TestMetricsAndProfiling(t *testing.T) {
	e := newEnv(t, "sqlite")
	e.submit(claim(taxi("2022-10-15T18:30")))
	wantStatus(t, e.plain("GET", "/metrics"), 401)
	wantStatus(t, e.plain("GET", "/metrics", bearer(e.lawyer)...), 403)
	m := e.plain("GET", "/metrics", bearer(e.admin)...)
	wantStatus(t, m, 200)
	for _, want := range []string{
		`claimdesk_http_requests_total{method="POST",route="/api/v1/cases/:case/claims",status="201"} 1`,
		`claimdesk_claims_created_total{channel="api"} 1`,
		`claimdesk_claim_group_size_bucket{le="1"} 1`,
		`claimdesk_http_request_duration_seconds_bucket`,
		`go_sql_max_open_connections{db_name="claimdesk"}`,
	} {
		if !strings.Contains(string(m.Body), want) {
			t.Errorf("metrics lack %s", want)
		}
	}
	if t.Failed() {
		t.Logf("metrics:\n%s", m.Body)
	}
	wantStatus(t, e.plain("GET", "/debug/pprof/", bearer(e.lawyer)...), 403)
	wantStatus(t, e.plain("GET", "/debug/pprof/", bearer(e.admin)...), 200)
	if r := e.plain("GET", "/debug/pprof/heap?debug=1", bearer(e.admin)...); r.Status != 200 || !bytes.Contains(r.Body, []byte("heap profile")) {
		t.Errorf("heap profile: %d", r.Status)
	}
}

// metric returns the line of a sample in the /metrics answer, or "" when there is none.
func (e *env) metric(name string) string {
	e.t.Helper()
	m := e.plain("GET", "/metrics", bearer(e.admin)...)
	wantStatus(e.t, m, 200)
	for _, l := range strings.Split(string(m.Body), "\n") {
		if strings.HasPrefix(l, name+" ") {
			return l
		}
	}
	return ""
}

// TestMetricsOfImports: import rows processed by outcome, and the depth of the job queue
// (shared with exports), on both databases.
func TestMetricsOfImports(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		want := func(name string, v int) {
			t.Helper()
			if got, want := e.metric(name), fmt.Sprintf("%s %d", name, v); got != want {
				t.Errorf("metric %q, want %q", got, want)
			}
		}
		// No job runner yet: the upload waits in the queue.
		id := e.upload(e.importer, "", goodCSV)
		want(`claimdesk_job_queue_depth{kind="import",state="queued"}`, 1)
		want(`claimdesk_job_queue_depth{kind="import",state="running"}`, 0)
		want(`claimdesk_job_queue_depth{kind="export",state="queued"}`, 0)
		want(`claimdesk_import_rows_total{outcome="created"}`, 0)

		// A runner takes it; then the same file again, and a file with a bad row.
		e.withRunner(0)
		wantCounts(t, e.wait(e.importer, id), "succeeded", 4, 3, 0, 0)
		wantCounts(t, e.importCSV(e.importer, "", goodCSV), "succeeded", 4, 0, 3, 0)
		bad := csvHeader + "B-1,박민수,park@example.com,,taxi_booking,kakao_t,taxi,2022-10-15 18:30,,booking_failed,,12000,31000,,,y,\n" +
			"B-1,박민수,park@example.com,,payment,kakao_pay,,not a time,,double_charged,,,,50000,,,\n" +
			"B-2,최지우,choi@example.com,,message,kakaotalk,,2022-10-15 16:00,,,personal,,,,1000,,\n"
		wantCounts(t, e.importCSV(e.importer, "", bad), "succeeded", 3, 1, 0, 2)
		want(`claimdesk_import_rows_total{outcome="created"}`, 5)
		want(`claimdesk_import_rows_total{outcome="unchanged"}`, 4)
		want(`claimdesk_import_rows_total{outcome="rejected"}`, 2)
		want(`claimdesk_job_queue_depth{kind="import",state="queued"}`, 0)
		// The job is marked done just after the import commits.
		for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
			if strings.HasSuffix(e.metric(`claimdesk_job_queue_depth{kind="import",state="running"}`), " 0") {
				break
			}
		}
		want(`claimdesk_job_queue_depth{kind="import",state="running"}`, 0)
	})
}

func TestSecurityHeaders(t *testing.T) {
	e := newEnv(t, "sqlite")
	r := e.do("GET", "/api/v1/cases/kakao-2022", nil)
	for k, v := range map[string]string{"X-Content-Type-Options": "nosniff", "X-Frame-Options": "DENY", "Referrer-Policy": "no-referrer",
		"Cache-Control": "no-store", "Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'"} {
		if got := r.Header.Get(k); got != v {
			t.Errorf("%s: %q, want %q", k, got, v)
		}
	}
	if r.Header.Get("Strict-Transport-Security") != "" {
		t.Error("HSTS over plain HTTP")
	}
	if r := e.do("GET", "/healthz", nil, "X-Forwarded-Proto", "https"); r.Header.Get("Strict-Transport-Security") == "" {
		t.Error("no HSTS behind a TLS proxy")
	}
}

func TestWrongAccessCodesAreLimited(t *testing.T) {
	e := newEnv(t, "sqlite")
	created := e.submit(claim(taxi("2022-10-15T18:30")))
	ref, code := created["reference"].(string), created["access_code"].(string)
	for i := 0; i < 10; i++ {
		wantStatus(t, e.do("GET", "/api/v1/claims/"+ref, nil, "X-Access-Code", "0000-0000-0000-0000"), 404)
	}
	r := e.do("GET", "/api/v1/claims/"+ref, nil, "X-Access-Code", "0000-0000-0000-0000")
	wantStatus(t, r, 429)
	if r.Header.Get("Retry-After") == "" {
		t.Error("429 without Retry-After")
	}
	// The reference is locked for a while, even for the right code; staff are not limited.
	wantStatus(t, e.do("GET", "/api/v1/claims/"+ref, nil, "X-Access-Code", code), 429)
	wantStatus(t, e.do("GET", "/api/v1/claims/"+ref, nil, bearer(e.lawyer)...), 200)
}

// syncBuffer is a log destination safe for concurrent handlers.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}
func (s *syncBuffer) String() string { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

// TestNoPersonalDataInLogs runs requests full of personal data, good and bad, through a server
// logging at debug level, and looks for that data in the log.
func TestNoPersonalDataInLogs(t *testing.T) {
	e := newEnv(t, "postgres")
	var logs syncBuffer
	e.h = api.New(api.Config{Store: e.st, Logger: slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		Now: func() time.Time { return testNow }, Background: func(fn func(context.Context)) { fn(context.Background()) }})
	slog.SetDefault(slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug})))
	defer slog.SetDefault(slog.New(slog.NewTextHandler(io.Discard, nil)))

	pii := []string{"김비밀", "secret.person@example.com", "1098765432", "9876-5432", "partner-secret-ref"}
	body := claim(taxi("2022-10-15T18:30"))
	body["claimant"] = map[string]any{"name": "김비밀", "email": "secret.person@example.com", "phone": "010-9876-5432"}
	body["external_ref"] = "partner-secret-ref"
	created := e.submit(body)
	ref := created["reference"].(string)
	e.do("POST", "/api/v1/cases/kakao-2022/claims", body)
	body["items"] = []any{taxi("2022-10-15T19:30")}
	e.do("POST", "/api/v1/cases/kakao-2022/claims", body) // conflict
	bad := claim(map[string]any{"kind": "taxi_booking", "occurred_at": "2030-01-01T00:00", "description": "김비밀"})
	bad["claimant"] = map[string]any{"name": "김비밀", "email": "secret.person@example", "phone": "010-9876-5432"}
	e.do("POST", "/api/v1/cases/kakao-2022/claims", bad)
	e.do("POST", "/api/v1/cases/kakao-2022/claims", `{"claimant":{"name":"김비밀"`)
	e.do("GET", "/api/v1/claims/"+ref, nil, "X-Access-Code", "wrong")
	e.do("GET", "/api/v1/claims/"+ref+"?email=secret.person@example.com", nil, bearer(e.lawyer)...)
	e.do("GET", "/api/v1/cases/kakao-2022/claims?submitted_after=secret.person@example.com", nil, bearer(e.lawyer)...)
	e.st.Close() // and a database failure, whose error is logged
	e.do("POST", "/api/v1/cases/kakao-2022/claims", body)

	out := logs.String()
	if !strings.Contains(out, `"route"`) {
		t.Fatalf("nothing logged: %s", out)
	}
	for _, p := range pii {
		if strings.Contains(out, p) {
			t.Errorf("log contains %q:\n%s", p, out)
		}
	}
}

// TestForwardedForIsNotTrustedByDefault: without configured proxies the client address is
// the peer's, so X-Forwarded-For cannot dodge the per-IP limit on wrong access codes.
func TestForwardedForIsNotTrustedByDefault(t *testing.T) {
	e := newEnv(t, "sqlite")
	created := e.submit(claim(taxi("2022-10-15T18:30")))
	ref := created["reference"].(string)
	other := e.submit(claim(taxi("2022-10-15T18:30")))["reference"].(string)
	for i := 0; i < 10; i++ {
		// A different forged address each time, and alternating references.
		target := ref
		if i%2 == 1 {
			target = other
		}
		e.do("GET", "/api/v1/claims/"+target, nil, "X-Access-Code", "0000-0000-0000-0000", "X-Forwarded-For", fmt.Sprintf("10.0.0.%d", i))
	}
	r := e.do("GET", "/api/v1/claims/"+ref, nil, "X-Access-Code", "0000-0000-0000-0000", "X-Forwarded-For", "10.0.1.1")
	wantStatus(t, r, 429)
}
