package admin_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/claimdesk/claimdesk/api"
	"github.com/claimdesk/claimdesk/internal/auth"
	"github.com/claimdesk/claimdesk/internal/testdb/casedb"
)

// TestWarmReport: with WarmReports (serve), the default case's report is built in the
// background at start, so the first dashboard is served from the cache: a claim filed after
// the warm-up is not in it yet (within the TTL), while a server that did not warm up builds
// the report then and counts it.
func TestWarmReport(t *testing.T) {
	ctx := context.Background()
	st, _ := casedb.Open(t, "sqlite")
	token := casedb.Token(t, st, auth.Lawyer, "lawyer")
	server := func(warm bool) (*httptest.Server, []func(context.Context)) {
		var started []func(context.Context)
		h := api.New(api.Config{Store: st, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Now: func() time.Time { return testNow },
			Background: func(fn func(context.Context)) { started = append(started, fn) }, WarmReports: warm})
		srv := httptest.NewServer(h)
		t.Cleanup(srv.Close)
		return srv, started
	}
	dashboard := func(srv *httptest.Server) string {
		req, _ := http.NewRequest(http.MethodGet, srv.URL+"/admin/cases/kakao-2022", nil)
		req.Header.Set("Authorization", "Bearer "+token)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		if res.StatusCode != http.StatusOK {
			t.Fatalf("dashboard: %d", res.StatusCode)
		}
		return string(b)
	}
	warmed, started := server(true)
	if _, others := server(false); len(started) != len(others)+1 {
		t.Fatalf("%d background jobs at start with WarmReports, %d without: want one more (the report)", len(started), len(others))
	}
	for _, fn := range started {
		fn(ctx)
	}
	ref, _ := server(false)
	before := dashboard(ref) // built now, before the claim

	res, err := http.Post(warmed.URL+"/api/v1/cases/kakao-2022/claims", "application/json", strings.NewReader(taxiClaim("홍길동", "hong@example.com")))
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusCreated {
		t.Fatalf("submit: %d", res.StatusCode)
	}
	if got := dashboard(warmed); got != before {
		t.Error("the warmed server's first dashboard shows the claim filed after the warm-up: it did not come from the warmed report")
	}
	cold, _ := server(false)
	if got := dashboard(cold); got == before {
		t.Error("a cold dashboard does not show the new claim either: the test shows nothing")
	}
}
