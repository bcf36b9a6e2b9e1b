package claims_test

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"testing"
	"time"

	"github.com/claimdesk/claimdesk/internal/claims"
	"github.com/claimdesk/claimdesk/internal/seed"
	"github.com/claimdesk/claimdesk/internal/store"
	"github.com/claimdesk/claimdesk/internal/testdb"
)

// BenchmarkValueCase values every stored item of a case on PostgreSQL (1,000,000 by default;
// CLAIMDESK_BENCH_ITEMS to change) and, in the same run, scans the same rows with a plain
// SELECT through the same driver: the figure that matters is the ratio (target at most 1.5x)
// and that memory stays flat. Run with `make bench-valuation`.
func BenchmarkValueCase(b *testing.B) {
	n := 1_000_000
	if v, err := strconv.Atoi(os.Getenv("CLAIMDESK_BENCH_ITEMS")); err == nil && v > 0 {
		n = v
	}
	ctx := context.Background()
	st, err := store.Open(ctx, testdb.Postgres(b))
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	if err := st.Migrate(ctx); err != nil {
		b.Fatal(err)
	}
	if _, err := seed.Ensure(ctx, st, seed.Kakao2022); err != nil {
		b.Fatal(err)
	}
	c, err := st.Case(ctx, seed.Kakao2022)
	if err != nil {
		b.Fatal(err)
	}
	start := time.Now()
	if err := generate(ctx, st, c.ID, n); err != nil {
		b.Fatal(err)
	}
	b.Logf("generated %d items in %s", n, time.Since(start).Round(time.Millisecond))
	svc := &claims.Service{Store: st, Now: time.Now}
	rs, err := svc.ActiveRules(ctx, c)
	if err != nil {
		b.Fatal(err)
	}
	db, err := st.Gorm().DB()
	if err != nil {
		b.Fatal(err)
	}

	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		plain, rows := timed(func() (int64, error) { return plainScan(ctx, db, c.ID) })
		var peak uint64
		valued, _ := timed(func() (int64, error) {
			stop := sampleHeap(&peak)
			defer stop()
			t, err := svc.Simulate(ctx, c, rs.Rules)
			return t.Items, err
		})
		b.ReportMetric(float64(valued)/float64(plain), "ratio")
		b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MiB")
		fmt.Printf("valuation of %d items: plain SELECT %s, valuation %s, ratio %.2fx (target <= 1.5x), peak heap %.1f MiB\n",
			rows, plain.Round(time.Millisecond), valued.Round(time.Millisecond), float64(valued)/float64(plain), float64(peak)/(1<<20))
	}
}

func timed(fn func() (int64, error)) (time.Duration, int64) {
	start := time.Now()
	n, err := fn()
	if err != nil {
		panic(err)
	}
	return time.Since(start), n
}

// sampleHeap records the largest heap in use until stopped.
func sampleHeap(peak *uint64) (stop func()) {
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		var ms runtime.MemStats
		for {
			runtime.ReadMemStats(&ms)
			if ms.HeapInuse > *peak {
				*peak = ms.HeapInuse
			}
			select {
			case <-done:
				return
			case <-time.After(20 * time.Millisecond):
			}
		}
	}()
	return func() { close(done); <-finished }
}

// plainScan reads the same columns as the valuation, in the same order, and does nothing with
// them: the floor any valuation of stored items can reach.
func plainScan(ctx context.Context, db *sql.DB, caseID int64) (int64, error) {
	rows, err := db.QueryContext(ctx, `SELECT c.id, c.status, i.id, i.kind, i.service, i.feature, i.failure, i.purpose, i.occurred_at, i.ended_at,
	i.expected_fare_krw, i.alternative_cost_krw, i.amount_krw, i.loss_krw, i.documented
FROM claims c JOIN claim_items i ON i.claim_id = c.id WHERE c.case_id = $1 ORDER BY c.id, i.position`, caseID)
	if err != nil {
		return 0, err
	}
	defer rows.Close()
	var (
		n                                        int64
		claimID, itemID, fare, alt, amount, loss int64
		status, kind, service, feature, failure  string
		purpose                                  string
		occurred                                 time.Time
		ended                                    sql.NullTime
		documented                               bool
	)
	for rows.Next() {
		if err := rows.Scan(&claimID, &status, &itemID, &kind, &service, &feature, &failure, &purpose, &occurred, &ended, &fare, &alt, &amount, &loss, &documented); err != nil {
			return n, err
		}
		n++
	}
	return n, rows.Err()
}

// generate writes n items in claims of three (taxi, payment, message) spread over the outage
// and the days around it, set-based in SQL.
func generate(ctx context.Context, st *store.Store, caseID int64, n int) error {
	db := st.Gorm().WithContext(ctx)
	claimsN := (n + 2) / 3
	if err := db.Exec(`INSERT INTO claims (case_id, reference, access_code_hash, content_hash, status, channel, claimant_name, claimant_phone,
		consent_at, consent_version, submitted_at, updated_at)
	SELECT ?, 'CD-B' || g, '\x00'::bytea, md5(g::text), 'received', 'import', '홍길동' || g, '+8210' || lpad(g::text, 8, '0'), now(), 'bench', now(), now()
	FROM generate_series(1, ?) g`, caseID, claimsN).Error; err != nil {
		return err
	}
	return db.Exec(`INSERT INTO claim_items (claim_id, case_id, position, kind, service, feature, occurred_at, ended_at, failure, purpose,
		expected_fare_krw, alternative_cost_krw, amount_krw, loss_krw, documented, description, eligibility, eligibility_code)
	SELECT c.id, c.case_id, p,
		(ARRAY['taxi_booking','payment','message'])[p+1],
		(ARRAY['kakao_t','kakao_pay','kakaotalk'])[p+1],
		(ARRAY['taxi','payments','text'])[p+1],
		timestamptz '2022-10-15 03:00:00+00' + (c.id % 97) * interval '1 hour' + (c.id % 3600) * interval '1 second',
		CASE WHEN p = 2 THEN timestamptz '2022-10-15 03:00:00+00' + (c.id % 97 + c.id % 7) * interval '1 hour' + (c.id % 3600) * interval '1 second' END,
		(ARRAY['booking_failed','double_charged',''])[p+1],
		CASE WHEN p = 2 THEN (ARRAY['personal','business'])[c.id % 2 + 1] ELSE '' END,
		CASE WHEN p = 0 THEN 8000 + c.id % 20000 ELSE 0 END,
		CASE WHEN p = 0 THEN 15000 + c.id % 40000 ELSE 0 END,
		CASE WHEN p = 1 THEN 1000 + c.id % 200000 ELSE 0 END,
		(c.id * 7919) % 700000,
		c.id % 3 = 0, '', 'eligible', 'in_down_window'
	FROM claims c CROSS JOIN generate_series(0, 2) p
	WHERE c.case_id = ? AND (c.id - 1) * 3 + p < ?`, caseID, n).Error
}
