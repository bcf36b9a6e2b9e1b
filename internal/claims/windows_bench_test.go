package claims_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/claimdesk/claimdesk/internal/audit"
	"github.com/claimdesk/claimdesk/internal/claims"
	"github.com/claimdesk/claimdesk/internal/seed"
	"github.com/claimdesk/claimdesk/internal/testdb"
	"github.com/claimdesk/claimdesk/internal/testdb/casedb"
	"github.com/claimdesk/claimdesk/internal/testdb/gen"
	"github.com/claimdesk/claimdesk/models"
)

// BenchmarkReplaceWindows changes one window of a case holding CLAIMDESK_BENCH_ITEMS stored
// items (3,000 by default; the README's figures are at 100,000), on each engine: the taxi
// window's end moves by half an hour and back (two changes an op, timed apart), which
// re-decides a few percent of the items.
// Every claim is read and re-valued either way; the figure that matters is the ratio to the
// floor of that work, the same claims and items read in the same batches without writing
// anything. The first valuation of the generated items (every row changes) is logged too.
// Run with `go test -run '^$' -bench BenchmarkReplaceWindows -benchtime 1x ./internal/claims`.
func BenchmarkReplaceWindows(b *testing.B) {
	n := gen.BenchItems(3000)
	for _, d := range testdb.Dialects() {
		b.Run(d, func(b *testing.B) {
			ctx := context.Background()
			st, c := casedb.Open(b, d)
			if err := gen.Items(ctx, st, c.ID, n); err != nil {
				b.Fatal(err)
			}
			svc := &claims.Service{Store: st, Now: time.Now}
			actor := audit.Actor{Kind: audit.ActorCLI, Name: "bench"}
			original := claims.WindowInputs(c.Windows, c.Location)
			moved := claims.WindowInputs(c.Windows, c.Location)
			taxi := -1
			for i, w := range moved {
				if w.Service == "kakao_t" && w.Feature == "taxi" {
					taxi = i
				}
			}
			if taxi < 0 {
				b.Fatal("no kakao_t taxi window")
			}
			end, err := time.Parse(time.RFC3339, moved[taxi].End)
			if err != nil {
				b.Fatal(err)
			}
			moved[taxi].End = end.Add(30 * time.Minute).In(c.Location).Format(time.RFC3339)

			start := time.Now()
			items, changed, err := svc.ReplaceWindows(ctx, seed.Kakao2022, original, actor)
			if err != nil {
				b.Fatal(err)
			}
			b.Logf("%s: first valuation of %d items (%d changed eligibility) in %s", d, items, changed, time.Since(start).Round(time.Millisecond))

			read := readFloor(b, st.Gorm().WithContext(ctx), c.ID)
			b.ResetTimer()
			var total time.Duration
			for i := 0; i < b.N; i++ {
				for _, in := range [][]claims.WindowInput{moved, original} {
					start := time.Now()
					items, changed, err = svc.ReplaceWindows(ctx, seed.Kakao2022, in, actor)
					if err != nil {
						b.Fatal(err)
					}
					total += time.Since(start)
				}
			}
			b.StopTimer()
			per := total / time.Duration(2*b.N)
			b.ReportMetric(float64(per)/float64(read), "ratio")
			fmt.Printf("%s: window change over %d items (%d changed eligibility): %s, reading alone %s, ratio %.2fx\n",
				d, items, changed, per.Round(time.Millisecond), read.Round(time.Millisecond), float64(per)/float64(read))
		})
	}
}

// readFloor reads every claim of the case with its items the way the store's revaluation
// does (batches of 500 claims, items preloaded in position order), and writes nothing.
func readFloor(b *testing.B, db *gorm.DB, caseID int64) time.Duration {
	b.Helper()
	start := time.Now()
	var batch []models.Claim
	err := db.Preload("Items", func(db *gorm.DB) *gorm.DB { return db.Order("position") }).
		Where("case_id = ?", caseID).FindInBatches(&batch, 500, func(*gorm.DB, int) error { return nil }).Error
	if err != nil {
		b.Fatal(err)
	}
	return time.Since(start)
}
