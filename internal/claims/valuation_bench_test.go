package claims_test

import (
	"context"
	"database/sql"
	"fmt"
	"runtime"
	"testing"
	"time"

	"github.com/claimdesk/claimdesk/internal/claims"
	"github.com/claimdesk/claimdesk/internal/testdb/casedb"
	"github.com/claimdesk/claimdesk/internal/testdb/gen"
)

// BenchmarkValueCase values every stored item of a case on PostgreSQL (1,000,000 by default;
// CLAIMDESK_BENCH_ITEMS to change) and, in the same run, scans the same rows with a plain
// SELECT through the same driver: the figure that matters is the ratio (target at most 1.5x)
// and that memory stays flat. Run with `make bench-valuation`.
func BenchmarkValueCase(b *testing.B) {
	n := gen.BenchItems(1_000_000)
	ctx := context.Background()
	st, c := casedb.Open(b, "postgres")
	start := time.Now()
	if err := gen.Items(ctx, st, c.ID, n); err != nil {
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
			sims, err := svc.Simulate(ctx, c, rs.Rules)
			return sims[0].Totals.Items, err
		})
		// A simulation values the case under the active rules and the proposed ones, in one
		// pass over the items.
		both, _ := timed(func() (int64, error) {
			sims, err := svc.Simulate(ctx, c, rs.Rules, rs.Rules)
			return sims[1].Totals.Items, err
		})
		b.ReportMetric(float64(valued)/float64(plain), "ratio")
		b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MiB")
		fmt.Printf("valuation of %d items: plain SELECT %s, valuation %s, ratio %.2fx (target <= 1.5x), peak heap %.1f MiB\n",
			rows, plain.Round(time.Millisecond), valued.Round(time.Millisecond), float64(valued)/float64(plain), float64(peak)/(1<<20))
		fmt.Printf("simulation (two sets of rules, one pass): %s, %.2fx one valuation\n", both.Round(time.Millisecond), float64(both)/float64(valued))
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
	rows, err := db.QueryContext(ctx, `SELECT c.id, c.status, i.position + 1, i.kind, i.service, i.feature, i.failure, i.purpose, i.occurred_at, i.ended_at,
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
