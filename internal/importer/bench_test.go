package importer_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/claimdesk/claimdesk/internal/importer"
	"github.com/claimdesk/claimdesk/internal/store"
	"github.com/claimdesk/claimdesk/internal/testdb"
)

// BenchmarkImport imports CLAIMDESK_BENCH_ROWS item rows (default 1,000,000) written by
// `claimdesk gen` with the real binary (`claimdesk import`, a child process whose peak RSS is
// measured), and in the same run loads the same file with psql \copy into a plain table with
// the CSV's columns and as many indexes as claim_items, then prints the ratio. On SQLite it
// prints rows/s. Run it with `make bench-import`.
func BenchmarkImport(b *testing.B) {
	rows := 1_000_000
	if v := os.Getenv("CLAIMDESK_BENCH_ROWS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			b.Fatal(err)
		}
		rows = n
	}
	dir := b.TempDir()
	bin := buildBinary(b, dir)
	file := filepath.Join(dir, "claims.csv")
	f, err := os.Create(file)
	if err != nil {
		b.Fatal(err)
	}
	// Valid rows only, so \copy (which stops at the first bad value) loads the very same rows.
	st, err := importer.Generate(f, importer.GenOptions{Rows: rows, InvalidShare: -1, Seed: 1})
	f.Close()
	if err != nil {
		b.Fatal(err)
	}
	fi, _ := os.Stat(file)
	fmt.Printf("file: %d rows, %d claims, %.1f MiB\n", st.Rows, st.Claims, float64(fi.Size())/(1<<20))

	for i := 0; i < b.N; i++ {
		b.Run("postgres", func(b *testing.B) {
			url := testdb.Postgres(b)
			migrate(b, url)
			// \copy before and after the import, into two tables: the machine may be shared,
			// and the mean of the two is fairer than one reading against a drifting load.
			load := loadavg()
			copy1 := psqlCopy(b, url, file, "plain_before")
			took, rss, out := runImport(b, bin, url, file)
			copy2 := psqlCopy(b, url, file, "plain_after")
			copyTime := (copy1 + copy2) / 2
			// The process goes on after the import commits (duplicate detection and fraud signals
			// over the new claims); the import itself is upload to commit, read from its row.
			wall := took
			took = importTime(b, url)
			fmt.Printf("postgres: claimdesk import process %.2fs in all (import and the review pass after it)\n", wall.Seconds())
			fmt.Printf("postgres: load average before %s, after %s; \\copy %.2fs then %.2fs\n", load, loadavg(), copy1.Seconds(), copy2.Seconds())
			fmt.Printf("postgres: psql \\copy %.2fs (%.0f rows/s)\n", copyTime.Seconds(), float64(rows)/copyTime.Seconds())
			fmt.Printf("postgres: claimdesk import (upload to commit) %.2fs (%.0f rows/s), peak RSS %d MiB\n%s", took.Seconds(), float64(rows)/took.Seconds(), rss>>10, summary(out))
			fmt.Printf("postgres: ratio import / \\copy %.2fx (target <= 2x); peak RSS target <= 200 MiB\n", took.Seconds()/copyTime.Seconds())
			// Where the time goes: the import writes the rows normalised into claims and
			// claim_items, whose indexes (for the lawyers' lists, search and duplicate detection)
			// are many more than the plain table's. The same stored rows loaded by \copy into
			// tables with exactly those indexes are the floor of any import into this schema.
			storedCopy, what := psqlCopyStored(b, url, filepath.Dir(file))
			fmt.Printf("postgres: psql \\copy of the stored rows (%s) %.2fs; ratio import / that %.2fx\n", what, storedCopy.Seconds(), took.Seconds()/storedCopy.Seconds())
			b.ReportMetric(took.Seconds()/copyTime.Seconds(), "x_copy")
			b.ReportMetric(float64(rss>>10), "MiB_rss")
		})
		b.Run("sqlite", func(b *testing.B) {
			url := testdb.SQLite(b)
			load := loadavg()
			wall, rss, out := runImport(b, bin, url, file)
			took := importTime(b, url)
			fmt.Printf("sqlite: load average before %s, after %s; process %.2fs in all (import and the review pass after it)\n", load, loadavg(), wall.Seconds())
			fmt.Printf("sqlite: claimdesk import (upload to commit) %.2fs, %.0f rows/s, peak RSS %d MiB\n%s", took.Seconds(), float64(rows)/took.Seconds(), rss>>10, summary(out))
			b.ReportMetric(float64(rows)/took.Seconds(), "rows/s")
		})
	}
}

func buildBinary(tb testing.TB, dir string) string {
	tb.Helper()
	bin := filepath.Join(dir, "claimdesk")
	root, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		tb.Fatal(err)
	}
	cmd := exec.Command("go", "build", "-o", bin, ".")
	cmd.Dir = filepath.Dir(strings.TrimSpace(string(root)))
	if out, err := cmd.CombinedOutput(); err != nil {
		tb.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// migrate prepares the database before anything is timed.
func migrate(tb testing.TB, url string) {
	tb.Helper()
	s, err := store.Open(context.Background(), url)
	if err != nil {
		tb.Fatal(err)
	}
	defer s.Close()
	if err := s.Migrate(context.Background()); err != nil {
		tb.Fatal(err)
	}
}

// psqlCopy loads file into a plain table shaped like the CSV, with as many indexes as
// claim_items (four, one of them unique and led by the claim), and returns the time.
func psqlCopy(tb testing.TB, url, file, table string) time.Duration {
	tb.Helper()
	psql, err := testdb.PsqlPath()
	if err != nil {
		tb.Fatalf("the \\copy baseline needs psql (make deps installs it): %v", err)
	}
	ddl := strings.ReplaceAll(`CREATE TABLE plain_items (id BIGSERIAL PRIMARY KEY, claim_ref TEXT NOT NULL, claimant_name TEXT, email TEXT,
		phone TEXT, locale TEXT, kind TEXT, service TEXT, feature TEXT, occurred_at TIMESTAMPTZ, ended_at TIMESTAMPTZ,
		failure TEXT, purpose TEXT, expected_fare_krw BIGINT, alternative_cost_krw BIGINT, amount_krw BIGINT, loss_krw BIGINT,
		documented BOOLEAN, description TEXT);
		CREATE UNIQUE INDEX plain_items_ref ON plain_items (claim_ref, id);
		CREATE INDEX plain_items_service ON plain_items (service, kind);
		CREATE INDEX plain_items_feature ON plain_items (feature);`, "plain_items", table)
	if out, err := exec.Command(psql, url, "-v", "ON_ERROR_STOP=1", "-c", ddl).CombinedOutput(); err != nil {
		tb.Fatalf("psql: %v\n%s", err, out)
	}
	cols := strings.Join(importer.Columns, ", ")
	start := time.Now()
	cmd := exec.Command(psql, url, "-v", "ON_ERROR_STOP=1", "-c",
		fmt.Sprintf(`\copy %s (%s) FROM '%s' WITH (FORMAT csv, HEADER true)`, table, cols, file))
	cmd.Env = append(os.Environ(), "PGTZ=Asia/Seoul") // local times in the file are KST, as the import reads them
	if out, err := cmd.CombinedOutput(); err != nil {
		tb.Fatalf("psql \\copy: %v\n%s", err, out)
	}
	return time.Since(start)
}

// psqlCopyStored dumps the claims and items the import stored, then loads them with psql
// \copy into tables made LIKE claims and claim_items INCLUDING ALL (the same columns, checks and
// indexes; like claim_items since migration 00018, the items have no foreign key to the
// claims), and returns the time of the load and what it loaded.
func psqlCopyStored(tb testing.TB, url, dir string) (time.Duration, string) {
	tb.Helper()
	psql, err := testdb.PsqlPath()
	if err != nil {
		tb.Fatal(err)
	}
	run := func(args ...string) string {
		out, err := exec.Command(psql, append([]string{url, "-v", "ON_ERROR_STOP=1", "-qAt"}, args...)...).CombinedOutput()
		if err != nil {
			tb.Fatalf("psql: %v\n%s", err, out)
		}
		return strings.TrimSpace(string(out))
	}
	claimsFile, itemsFile := filepath.Join(dir, "stored_claims.copy"), filepath.Join(dir, "stored_items.copy")
	run("-c", `\copy claims TO '`+claimsFile+`'`, "-c", `\copy claim_items TO '`+itemsFile+`'`,
		"-c", `CREATE TABLE stored_claims (LIKE claims INCLUDING ALL)`,
		"-c", `CREATE TABLE stored_items (LIKE claim_items INCLUDING ALL)`)
	counts := run("-F", " ", "-c", `SELECT (SELECT count(*) FROM claims), (SELECT count(*) FROM claim_items),
		(SELECT count(*) FROM pg_indexes WHERE tablename = 'stored_claims'), (SELECT count(*) FROM pg_indexes WHERE tablename = 'stored_items')`)
	var nc, ni, xc, xi int
	fmt.Sscan(counts, &nc, &ni, &xc, &xi)
	start := time.Now()
	run("-c", `\copy stored_claims FROM '`+claimsFile+`'`, "-c", `\copy stored_items FROM '`+itemsFile+`'`)
	return time.Since(start), fmt.Sprintf("%d claims into %d indexes, %d items into %d indexes", nc, xc, ni, xi)
}

// runImport runs `claimdesk import` and returns its wall time, peak RSS (KiB) and output.
// After the import commits, the process runs the duplicate and fraud review of the new claims;
// that pass is given CLAIMDESK_BENCH_REVIEW_MAX (default 5m) and then the process is killed,
// so a slow review cannot hold the benchmark forever (its time is printed either way; the
// import's own time is read from its row).
func runImport(tb testing.TB, bin, url, file string) (time.Duration, int64, string) {
	tb.Helper()
	reviewMax := 5 * time.Minute
	if v := os.Getenv("CLAIMDESK_BENCH_REVIEW_MAX"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil {
			tb.Fatal(err)
		}
		reviewMax = d
	}
	cmd := exec.Command(bin, "import", "--case", "kakao-2022", file)
	cmd.Env = append(os.Environ(), "CLAIMDESK_DATABASE_URL="+url, "CLAIMDESK_LOG_LEVEL=warn")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	start := time.Now()
	if err := cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	st, err := store.Open(context.Background(), url)
	if err != nil {
		tb.Fatal(err)
	}
	defer st.Close()
	var committed time.Time
	var waitErr error
	killed := false
wait:
	for {
		select {
		case waitErr = <-exited:
			break wait
		case <-time.After(500 * time.Millisecond):
		}
		if committed.IsZero() {
			if imp, err := st.Import(context.Background(), 1); err == nil && imp.FinishedAt != nil {
				committed = time.Now()
			}
		} else if !killed && time.Since(committed) > reviewMax {
			cmd.Process.Kill()
			killed = true
		}
	}
	took := time.Since(start)
	if killed {
		fmt.Printf("    review of the new claims (duplicates, fraud signals) NOT FINISHED after %s: process killed\n", reviewMax)
	} else if waitErr != nil {
		tb.Fatalf("claimdesk import: %v\n%s", waitErr, out.String())
	}
	ru, _ := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	var rss int64
	if ru != nil {
		rss = ru.Maxrss
	}
	return took, rss, out.String()
}

// importTime reads how long the import took from upload to commit.
func importTime(tb testing.TB, url string) time.Duration {
	tb.Helper()
	st, err := store.Open(context.Background(), url)
	if err != nil {
		tb.Fatal(err)
	}
	defer st.Close()
	imp, err := st.Import(context.Background(), 1)
	if err != nil || imp.FinishedAt == nil || imp.StartedAt == nil {
		tb.Fatalf("import 1: %+v %v", imp, err)
	}
	fmt.Printf("import: upload stored and queued %.2fs, import %.2fs\n", imp.StartedAt.Sub(imp.CreatedAt).Seconds(), imp.FinishedAt.Sub(*imp.StartedAt).Seconds())
	return imp.FinishedAt.Sub(imp.CreatedAt)
}

// summary keeps the closing lines of `claimdesk import` (not its progress lines).
func summary(out string) string {
	var b strings.Builder
	for _, l := range strings.Split(out, "\n") {
		if l != "" && !strings.HasPrefix(l, "import: ") {
			b.WriteString("    " + strings.TrimSpace(l) + "\n")
		}
	}
	return b.String()
}

// loadavg reads the 1-minute load average: on a shared machine, figures need it beside them.
func loadavg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	return strings.Fields(string(b))[0]
}
