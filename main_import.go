package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/claimdesk/claimdesk/internal/claims"
	"github.com/claimdesk/claimdesk/internal/config"
	"github.com/claimdesk/claimdesk/internal/export"
	"github.com/claimdesk/claimdesk/internal/importer"
	"github.com/claimdesk/claimdesk/internal/jobs"
	"github.com/claimdesk/claimdesk/internal/seed"
	"github.com/claimdesk/claimdesk/internal/store"
)

// newJobs builds the importer and the job runner of the shared queue, which runs imports and
// background exports (the import command only runs the job it claimed itself).
func newJobs(st *store.Store, log *slog.Logger, cfg config.Config) (*importer.Importer, *jobs.Runner) {
	im := &importer.Importer{Store: st, Claims: &claims.Service{Store: st, Now: time.Now, Review: &cfg.Review}, Log: log, Live: importer.NewLive()}
	r := &jobs.Runner{Store: st, Log: log, Lease: cfg.JobLease, Poll: cfg.JobPoll}
	r.Handle(store.JobImport, im)
	r.Handle(store.JobExport, &export.Jobs{Store: st, Log: log})
	return im, r
}

// runImports runs the job runner until ctx ends (uploads a dead process left half received are
// removed by the erasures' sweep).
func runImports(ctx context.Context, runner *jobs.Runner, log *slog.Logger) {
	if err := runner.Run(ctx); err != nil && ctx.Err() == nil {
		log.Error("job runner stopped", "err", err)
	}
}

// importCmd is `claimdesk import --case kakao-2022 FILE`: the upload is stored and run by the
// same code as POST /imports, in this process, with a progress bar on a terminal.
func importCmd(ctx context.Context, cfg config.Config, log *slog.Logger, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("import", flag.ContinueOnError)
	caseSlug := fs.String("case", seed.Kakao2022, "the case the claims belong to")
	format := fs.String("format", "", "csv or ndjson (default: from the file name, else csv)")
	dryRun := fs.Bool("dry-run", false, "only validate: store nothing")
	maxRate := fs.Float64("max-error-rate", -1, "reject the whole file when more than this share of rows is bad (0..1)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return errors.New("usage: claimdesk import [--case SLUG] [--format csv|ndjson] [--dry-run] [--max-error-rate R] FILE")
	}
	path := fs.Arg(0)
	if *format == "" {
		*format = importer.FormatCSV
		if ext := strings.ToLower(filepath.Ext(path)); ext == ".ndjson" || ext == ".jsonl" {
			*format = importer.FormatNDJSON
		}
	}
	if *format != importer.FormatCSV && *format != importer.FormatNDJSON {
		return fmt.Errorf("--format must be csv or ndjson, not %q", *format)
	}
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()

	st, err := openStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer st.Close()
	cs, err := st.Case(ctx, *caseSlug)
	if err != nil {
		return fmt.Errorf("case %s: %w", *caseSlug, err)
	}
	im, runner := newJobs(st, log, cfg)
	n := importer.NewImport{CaseID: cs.ID, CreatedBy: "cli", Format: *format, DryRun: *dryRun}
	if *maxRate >= 0 {
		if *maxRate > 1 {
			return errors.New("--max-error-rate must be between 0 and 1")
		}
		n.MaxErrorRate = maxRate
	}
	start := time.Now()
	imp, job, err := im.ReceiveClaimed(ctx, n, f, cfg.ImportMaxBytes, runner.ID(), cfg.JobLease)
	if err != nil {
		return err
	}
	stored := time.Since(start)
	bar := newProgressBar(os.Stderr, imp.SizeBytes)
	stop := make(chan struct{})
	barDone := make(chan struct{})
	go func() {
		defer close(barDone)
		t := time.NewTicker(200 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
				if p := im.Live.Get(imp.ID); p != nil {
					bar.update(p.Rows.Load(), p.Bytes.Load())
				}
			}
		}
	}()
	runErr := runner.RunClaimed(ctx, job)
	close(stop)
	<-barDone
	bar.finish()
	if ctx.Err() != nil {
		return fmt.Errorf("interrupted: import %d is queued again; a running server will finish it (or cancel it with DELETE /api/v1/imports/%d)", imp.ID, imp.ID)
	}
	if runErr != nil {
		return runErr
	}
	done, err := st.Import(ctx, imp.ID)
	if err != nil {
		return err
	}
	took := time.Since(start)
	// The import ends at its commit; the duplicate and fraud review of the new claims runs
	// after it, in this process, and is timed on its own.
	imported, review := took, time.Duration(0)
	if done.FinishedAt != nil && done.FinishedAt.After(start) && done.FinishedAt.Before(start.Add(took)) {
		imported, review = done.FinishedAt.Sub(start), start.Add(took).Sub(*done.FinishedAt)
	}
	fmt.Fprintf(stdout, "import %d: %s", done.ID, done.Status)
	if done.DryRun {
		fmt.Fprint(stdout, " (dry run: nothing stored)")
	}
	fmt.Fprintln(stdout)
	if done.Reason != "" {
		fmt.Fprintf(stdout, "  reason: %s %s\n", done.Reason, done.ReasonParams)
	}
	fmt.Fprintf(stdout, "  rows read %d, claims created %d, unchanged %d, rejected %d (%d rows)\n",
		done.RowsRead, done.ClaimsCreated, done.ClaimsUnchanged, done.ClaimsRejected, done.RowsRejected)
	fmt.Fprintf(stdout, "  %s in %.2fs (upload stored in %.2fs), %.0f rows/s; review of the new claims (duplicates, fraud signals) %.2fs\n",
		humanSize(done.SizeBytes), imported.Seconds(), stored.Seconds(), float64(done.RowsRead)/imported.Seconds(), review.Seconds())
	if done.RowsRejected > 0 {
		fmt.Fprintf(stdout, "  rejected rows: GET /api/v1/imports/%d/errors.csv\n", done.ID)
	}
	if done.Status == store.ImportFailed {
		return fmt.Errorf("import %d failed", done.ID)
	}
	return nil
}

func humanSize(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	}
	return fmt.Sprintf("%d bytes", n)
}

// progressBar draws rows, rows/s and ETA on one terminal line, or prints a plain line every
// few seconds when stderr is not a terminal (logs, CI).
type progressBar struct {
	w        io.Writer
	tty      bool
	total    int64
	start    time.Time
	last     time.Time
	rows     int64
	bytes    int64
	drawn    bool
	interval time.Duration
}

func newProgressBar(f *os.File, total int64) *progressBar {
	fi, err := f.Stat()
	tty := err == nil && fi.Mode()&os.ModeCharDevice != 0
	interval := 5 * time.Second
	if tty {
		interval = 0
	}
	return &progressBar{w: f, tty: tty, total: total, start: time.Now(), interval: interval}
}

func (b *progressBar) update(rows, bytes int64) {
	b.rows, b.bytes = rows, bytes
	if time.Since(b.last) < b.interval {
		return
	}
	b.last = time.Now()
	b.draw()
}

func (b *progressBar) draw() {
	el := time.Since(b.start).Seconds()
	rate := float64(b.rows) / max(el, 0.001)
	frac := 0.0
	if b.total > 0 {
		frac = min(1, float64(b.bytes)/float64(b.total))
	}
	eta := "?"
	if frac > 0.01 {
		eta = (time.Duration(el/frac*(1-frac)) * time.Second).Round(time.Second).String()
	}
	if !b.tty {
		fmt.Fprintf(b.w, "import: %d rows, %.0f rows/s, %.0f%%, ETA %s\n", b.rows, rate, frac*100, eta)
		return
	}
	const width = 30
	filled := int(frac * width)
	fmt.Fprintf(b.w, "\r[%s%s] %3.0f%% %d rows %.0f rows/s ETA %s   ", strings.Repeat("=", filled), strings.Repeat(" ", width-filled), frac*100, b.rows, rate, eta)
	b.drawn = true
}

func (b *progressBar) finish() {
	if b.drawn {
		fmt.Fprintln(b.w)
	}
}

// genCmd is `claimdesk gen --rows N`: a synthetic CSV on stdout (or --out FILE).
func genCmd(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("gen", flag.ContinueOnError)
	rows := fs.Int("rows", 1000, "item rows to write")
	invalid := fs.Float64("invalid", 0.02, "share of claims with a broken row (0 for none)")
	seedN := fs.Uint64("seed", 1, "random seed (the same seed writes the same file)")
	out := fs.String("out", "", "file to write (default stdout)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *rows < 0 {
		return errors.New("--rows must not be negative")
	}
	w := stdout
	if *out != "" {
		f, err := os.Create(*out)
		if err != nil {
			return err
		}
		defer f.Close()
		w = f
	}
	share := *invalid
	if share == 0 {
		share = -1
	}
	stats, err := importer.Generate(w, importer.GenOptions{Rows: *rows, InvalidShare: share, Seed: *seedN})
	if err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "gen: %d rows, %d claims (%d with an error)\n", stats.Rows, stats.Claims, stats.InvalidClaims)
	return nil
}
