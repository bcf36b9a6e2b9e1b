package admin_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/claimdesk/claimdesk/api"
	"github.com/claimdesk/claimdesk/internal/auth"
	"github.com/claimdesk/claimdesk/internal/testdb"
	"github.com/claimdesk/claimdesk/internal/testdb/casedb"
	"github.com/claimdesk/claimdesk/internal/testdb/gen"
)

// BenchmarkDashboard measures the case dashboard (/admin/cases/{case}: figures, the three
// charts, windows and rules; the whole request) on PostgreSQL with 1,000,000 stored items
// (CLAIMDESK_BENCH_ITEMS), cold (a new server: the report is built) and warm (the report is
// cached for its TTL), beside a baseline measured in the same run: the API's case summary
// (GET /api/v1/cases/{case}/summary), the other whole-case pass.
//
//	go test -run '^$' -bench Dashboard -benchtime 20x ./api/admin
func BenchmarkDashboard(b *testing.B) {
	n := 1_000_000
	if v, err := strconv.Atoi(os.Getenv("CLAIMDESK_BENCH_ITEMS")); err == nil && v > 0 {
		n = v
	}
	ctx := context.Background()
	st, cs := casedb.OpenURL(b, testdb.Postgres(b))
	began := time.Now()
	if err := gen.Items(ctx, st, cs.ID, n); err != nil {
		b.Fatal(err)
	}
	if err := gen.Valued(ctx, st, cs.ID); err != nil {
		b.Fatal(err)
	}
	db := st.Gorm().WithContext(ctx)
	// Spread the generator's alike claims over statuses, channels, days and claimants.
	if err := db.Exec(`UPDATE claims SET
			status = (ARRAY['received','received','received','under_review','under_review','deficient','cured','approved','rejected','duplicate'])[id % 10 + 1],
			cure_deadline = CASE WHEN id % 10 = 5 THEN now() + (id % 20) * interval '1 day' END,
			channel = (ARRAY['web','api','import'])[id % 3 + 1],
			submitted_at = timestamptz '2022-10-16 00:00:00+09' + (id % 60) * interval '1 day' + (id % 86400) * interval '1 second',
			claimant_email = 'user' || (id / 2) || '@example.com'
		WHERE case_id = ?`, cs.ID).Error; err != nil {
		b.Fatal(err)
	}
	if err := db.Exec("VACUUM ANALYZE").Error; err != nil {
		b.Fatal(err)
	}
	b.Logf("generated %d items in %s", n, time.Since(began).Round(time.Millisecond))
	token := casedb.Token(b, st, auth.Lawyer, "bench")
	newServer := func() *httptest.Server {
		srv := httptest.NewServer(api.New(api.Config{Store: st, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}))
		b.Cleanup(srv.Close)
		return srv
	}
	get := func(b *testing.B, srv *httptest.Server, path string) {
		req, _ := http.NewRequest(http.MethodGet, srv.URL+path, nil)
		req.Header.Set("Authorization", "Bearer "+token)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		io.Copy(io.Discard, res.Body)
		res.Body.Close()
		if res.StatusCode != http.StatusOK {
			b.Fatalf("%s: %d", path, res.StatusCode)
		}
	}
	const page = "/admin/cases/kakao-2022"
	var baseline, cold, warm time.Duration
	b.Run("baseline: API summary", func(b *testing.B) {
		srv := newServer()
		for range b.N {
			get(b, srv, "/api/v1/cases/kakao-2022/summary")
		}
		baseline = b.Elapsed() / time.Duration(b.N)
	})
	b.Run("dashboard cold", func(b *testing.B) {
		var d time.Duration
		for range b.N {
			b.StopTimer()
			srv := newServer() // an empty cache
			b.StartTimer()
			t0 := time.Now()
			get(b, srv, page)
			d += time.Since(t0)
		}
		cold = d / time.Duration(b.N)
		b.ReportMetric(float64(cold)/float64(baseline), "x-baseline")
	})
	b.Run("dashboard warm", func(b *testing.B) {
		srv := newServer()
		get(b, srv, page)
		b.ResetTimer()
		for range b.N {
			get(b, srv, page)
		}
		warm = b.Elapsed() / time.Duration(b.N)
		b.ReportMetric(float64(warm)/float64(baseline), "x-baseline")
	})
	fmt.Printf("\ndashboard on PostgreSQL, %d items: baseline (API summary) %s; cold %s (%.2fx); warm %s (%.3fx)\n",
		n, baseline.Round(time.Millisecond), cold.Round(time.Millisecond), float64(cold)/float64(baseline),
		warm.Round(100*time.Microsecond), float64(warm)/float64(baseline))
}
