package export_test

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/claimdesk/claimdesk/internal/claims"
	"github.com/claimdesk/claimdesk/internal/export"
	"github.com/claimdesk/claimdesk/internal/messages"
	"github.com/claimdesk/claimdesk/internal/store"
	"github.com/claimdesk/claimdesk/internal/testdb"
	"github.com/claimdesk/claimdesk/internal/testdb/casedb"
	"github.com/claimdesk/claimdesk/internal/testdb/gen"
)

// BenchmarkExport exports 1,000,000 items (CLAIMDESK_BENCH_ITEMS to change) from PostgreSQL:
// the items CSV beside `psql \copy (SELECT ...) TO` of the same statement in the same run
// (target at most 2x), then XLSX, NDJSON, the plaintiff list and the PDF report, each with the
// peak RSS of this process while it ran (target at most 300 MB; /proc/self/status VmHWM,
// reset before each export). Run with `make bench-export`.
func BenchmarkExport(b *testing.B) {
	n := gen.BenchItems(1_000_000)
	ctx := context.Background()
	url := testdb.Postgres(b)
	st, cs := casedb.OpenURL(b, url)
	start := time.Now()
	if err := gen.Items(ctx, st, cs.ID, n); err != nil {
		b.Fatal(err)
	}
	if err := gen.Valued(ctx, st, cs.ID); err != nil {
		b.Fatal(err)
	}
	if err := st.Gorm().Exec("VACUUM ANALYZE").Error; err != nil {
		b.Fatal(err)
	}
	fmt.Printf("generated %d items in %s\n", n, time.Since(start).Round(time.Millisecond))
	psql, err := testdb.PsqlPath()
	if err != nil {
		b.Fatal(err)
	}
	dir := b.TempDir()
	f := store.ExportFilter{ClaimFilter: store.ClaimFilter{CaseID: cs.ID}}
	o := export.Options{BOM: true, Lang: messages.Ko, Now: time.Now()}
	svc := &claims.Service{Store: st, Now: time.Now}

	// toFile runs an export into a file, as a download to disk would, and reports its time,
	// size and the peak RSS while it ran.
	toFile := func(name string, fn func(w io.Writer) (int64, error)) (time.Duration, int64, float64) {
		resetPeakRSS(b)
		path := filepath.Join(dir, name)
		out, err := os.Create(path)
		if err != nil {
			b.Fatal(err)
		}
		t0 := time.Now()
		w := bufio.NewWriterSize(out, 256<<10)
		rows, err := fn(w)
		if err == nil {
			err = w.Flush()
		}
		if err == nil {
			err = out.Close()
		}
		d := time.Since(t0)
		if err != nil {
			b.Fatal(err)
		}
		fi, _ := os.Stat(path)
		os.Remove(path)
		fmt.Printf("  %-22s %9d rows  %8s  %7.1f MB  peak RSS %6.1f MB\n", name, rows, d.Round(time.Millisecond), float64(fi.Size())/1e6, peakRSS(b))
		return d, rows, peakRSS(b)
	}

	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		// The baseline: the same SELECT through psql's \copy, to a file. The pair runs
		// `repeat` times, alternating, and the best time of each counts: on a shared machine
		// that is the figure least disturbed by other work.
		q, args := store.ExportItemsQuery(f, store.Postgres)
		q = strings.Replace(q, "$1", strconv.FormatInt(args[0].(int64), 10), 1)
		q = strings.Join(strings.Fields(q), " ")
		copyFile := filepath.Join(dir, "psql.csv")
		items := func(format export.Format) func(io.Writer) (int64, error) {
			return func(w io.Writer) (int64, error) {
				oo := o
				oo.Format = format
				res, err := export.Items(ctx, st, cs, f, w, oo)
				return res.Rows, err
			}
		}
		repeat := 3
		if v, err := strconv.Atoi(os.Getenv("CLAIMDESK_BENCH_REPEAT")); err == nil && v > 0 {
			repeat = v
		}
		fmt.Printf("exports of %d items (PostgreSQL), CSV and psql best of %d:\n", n, repeat)
		var baseline, csvTime time.Duration
		var csvRSS float64
		for r := 0; r < repeat; r++ {
			t0 := time.Now()
			cmd := exec.Command(psql, "-X", "-q", "-v", "ON_ERROR_STOP=1", url, "-c", `\copy (`+q+`) TO '`+copyFile+`' WITH (FORMAT csv, HEADER)`)
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			if err := cmd.Run(); err != nil {
				b.Fatalf("psql: %v: %s", err, stderr.String())
			}
			d := time.Since(t0)
			fi, _ := os.Stat(copyFile)
			os.Remove(copyFile)
			fmt.Printf("  %-22s %9d rows  %8s  %7.1f MB\n", "psql \\copy (baseline)", n, d.Round(time.Millisecond), float64(fi.Size())/1e6)
			if baseline == 0 || d < baseline {
				baseline = d
			}
			d, _, rss := toFile("claims.csv", items(export.CSV))
			if csvTime == 0 || d < csvTime {
				csvTime = d
			}
			csvRSS = max(csvRSS, rss)
		}
		ratio := float64(csvTime) / float64(baseline)
		fmt.Printf("  CSV %s / psql \\copy %s = %.2fx (target <= 2x)\n", csvTime.Round(time.Millisecond), baseline.Round(time.Millisecond), ratio)
		b.ReportMetric(ratio, "csv/psql")
		b.ReportMetric(csvRSS, "csv-peak-RSS-MB")

		_, _, ndRSS := toFile("claims.ndjson", items(export.NDJSON))
		xlsxTime, _, xlsxRSS := toFile("claims.xlsx", items(export.XLSX))
		b.ReportMetric(xlsxTime.Seconds(), "xlsx-s")
		b.ReportMetric(xlsxRSS, "xlsx-peak-RSS-MB")
		_, _, plRSS := toFile("plaintiffs.csv", func(w io.Writer) (int64, error) {
			oo := o
			oo.Format = export.CSV
			res, err := export.Plaintiffs(ctx, st, cs, f, w, oo)
			return res.Rows, err
		})
		_, _, plxRSS := toFile("plaintiffs.xlsx", func(w io.Writer) (int64, error) {
			oo := o
			oo.Format = export.XLSX
			res, err := export.Plaintiffs(ctx, st, cs, f, w, oo)
			return res.Rows, err
		})
		_, _, pdfRSS := toFile("report.pdf", func(w io.Writer) (int64, error) {
			rep, err := export.BuildReport(ctx, st, svc, cs, time.Now(), messages.Ko)
			if err != nil {
				return 0, err
			}
			return 1, export.WritePDF(w, rep, time.Now(), "")
		})
		worst := max(csvRSS, ndRSS, xlsxRSS, plRSS, plxRSS, pdfRSS)
		b.ReportMetric(worst, "max-peak-RSS-MB")
		fmt.Printf("  largest peak RSS %.1f MB (target <= 300 MB)\n", worst)
	}
}

// resetPeakRSS resets VmHWM of this process (Linux: writing 5 to clear_refs).
func resetPeakRSS(b *testing.B) {
	// Return what earlier exports left in the heap, so each peak is this export's own.
	runtime.GC()
	debug.FreeOSMemory()
	if err := os.WriteFile("/proc/self/clear_refs", []byte("5"), 0); err != nil {
		b.Logf("cannot reset the peak RSS (%v): figures are peaks since the start", err)
	}
}

// peakRSS reads VmHWM, the peak resident set size, in MB.
func peakRSS(b *testing.B) float64 {
	s, err := os.ReadFile("/proc/self/status")
	if err != nil {
		b.Fatal(err)
	}
	for _, line := range strings.Split(string(s), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, _ := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 64)
			return kb / 1024
		}
	}
	b.Fatal("no VmHWM in /proc/self/status")
	return 0
}
