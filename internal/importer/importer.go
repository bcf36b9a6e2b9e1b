// Package importer runs batch imports of claims: a CSV file (one row per item, adjacent rows
// with the same claim_ref form one claim) or NDJSON (one claim per line, the JSON of
// POST /claims). Each claim goes through the same claims.Builder as a single submission, so
// it is validated and its eligibility decided exactly as in the API; the result is written
// in bulk (store.Bulk: COPY on PostgreSQL) and every rejected row is reported with its line,
// column and error code.
//
// An import is one database transaction: it is never half-applied. Killed mid-way, the
// transaction is rolled back by the database and the job is run again from the start (the
// upload is stored in the database), which gives exactly the result of an uninterrupted run.
// A dry run, and a file over its max_error_rate, roll the claims back to a savepoint and keep
// the error report.
//
// Rows of one claim must be adjacent in a CSV file (a file sorted or grouped by claim_ref, as
// every export is). This keeps the reader streaming with flat memory whatever the file size.
// A claim_ref that comes back later in the file makes no claim: its later rows are rejected
// with the conflict code and a message saying why, and the claim stored from its first rows is
// taken out again in the import's transaction and its rows reported with it, so that the file
// sent again sorted stores the whole claim (were it kept, the whole claim would conflict with
// it for ever). That is for a claim the import stores. Under a claim_ref stored before it,
// nothing is stored either way; its rows are rejected whole when they fall in one batch, and
// judged group by group against the stored claim when they do not (the run does not remember
// the claims it counted unchanged: a file sent again counts every claim so, and the memory of
// a run stays flat).
//
// A cancel (DELETE /imports/{id}) answered "stopping" means the import stores nothing: it
// stops the run in this process at once, and the import's row in the database settles a
// cancel from anywhere against the commit of the outcome (store.Bulk.FinishImport).
package importer

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/claimdesk/claimdesk/internal/apperr"
	"github.com/claimdesk/claimdesk/internal/auth"
	"github.com/claimdesk/claimdesk/internal/claims"
	"github.com/claimdesk/claimdesk/internal/store"
	"github.com/claimdesk/claimdesk/models"
)

// Formats of an upload.
const (
	FormatCSV    = "csv"
	FormatNDJSON = "ndjson"
)

// Attestation is recorded on every import: the sender attests that each claimant consented.
const Attestation = "sender attests that every claimant in this file consented to the processing of their data (consent " + claims.ConsentVersion + ")"

// Importer runs imports. One Importer serves any number of imports at once.
type Importer struct {
	Store  *store.Store
	Claims *claims.Service
	Log    *slog.Logger
	// BatchSize is the number of claims written per round trip (default 2000).
	BatchSize int
	// Heartbeat is how often a running import publishes its progress and looks for a
	// cancel request (default 1 s).
	Heartbeat time.Duration
	// Live holds the progress of imports running in this process.
	Live *Live
	// Clock stamps and times imports (started, finished, cancelled); nil is the wall clock.
	// Imports are timed by it whatever the claims' clock is: their duration and speed are
	// real.
	Clock func() time.Time

	rows rowCounters
}

// Now is the time by Clock.
func (im *Importer) Now() time.Time {
	if im.Clock != nil {
		return im.Clock()
	}
	return time.Now()
}

// rowCounters count the rows processed by this Importer since it was made, by the outcome of
// their claim, for /metrics.
type rowCounters struct{ created, unchanged, rejected atomic.Int64 }

// RowCounts are rows processed by an Importer, by the outcome of their claim.
type RowCounts struct{ Created, Unchanged, Rejected int64 }

// RowsProcessed returns the rows processed so far by every import run by im, counted batch by
// batch as they are decided (so a rate over them is the import speed in rows/s): rows of
// claims created, of claims already stored unchanged, and rejected rows. Rows of a dry run, and
// of an import that is cancelled, rolled back or run again after a crash, are counted too: they
// were processed.
func (im *Importer) RowsProcessed() RowCounts {
	return RowCounts{Created: im.rows.created.Load(), Unchanged: im.rows.unchanged.Load(), Rejected: im.rows.rejected.Load()}
}

// Live is the progress of the imports running in this process, for status answers, the CLI's
// progress bar and for cancelling without a database round trip.
type Live struct {
	mu   sync.Mutex
	runs map[int64]*Progress
}

// Progress is how far a running import is.
type Progress struct {
	Rows   atomic.Int64 // records read
	Bytes  atomic.Int64 // bytes of the upload read
	cancel context.CancelCauseFunc
	// state is running until the run is cancelled or starts to commit its outcome, whichever
	// comes first: a cancel from this process never interrupts a commit it did not prevent.
	state atomic.Int32
}

// States of a run (Progress.state).
const (
	runRunning int32 = iota
	runCancelled
	runCommitting
)

// stop cancels the run unless it is committing its outcome, and reports whether it is
// cancelled.
func (p *Progress) stop() bool {
	p.state.CompareAndSwap(runRunning, runCancelled)
	if p.state.Load() != runCancelled {
		return false
	}
	p.cancel(errCancelled)
	return true
}

// NewLive returns an empty registry.
func NewLive() *Live { return &Live{runs: map[int64]*Progress{}} }

// Get returns the progress of a running import, nil when it does not run here.
func (l *Live) Get(id int64) *Progress {
	if l == nil {
		return nil
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.runs[id]
}

// Cancel stops an import running here; it reports whether there was one it stopped (one
// committing its outcome cannot be stopped any more).
func (l *Live) Cancel(id int64) bool {
	p := l.Get(id)
	return p != nil && p.stop()
}

func (l *Live) add(id int64, p *Progress) {
	l.mu.Lock()
	l.runs[id] = p
	l.mu.Unlock()
}

func (l *Live) remove(id int64) {
	l.mu.Lock()
	delete(l.runs, id)
	l.mu.Unlock()
}

var errCancelled = errors.New("import cancelled")

// outcome is one built claim or the problems that reject it.
type outcome struct {
	g     *group
	claim *models.Claim // nil once rejected
	probs []problem
	// stored is what became of claim (store.Created or store.Unchanged) while it is not nil.
	stored store.Outcome
	// back marks further rows of a claim_ref read before, apart from them (CSV): they are
	// rejected for it, and not counted as a claim of their own.
	back bool
	// backAt is the line where more rows of this group's claim_ref come after other rows
	// (CSV): its claim is rejected whole, these rows with it.
	backAt int64
}

// refRepeated rejects a row for its claim_ref, read before apart from this row.
var refRepeated = apperr.FieldError{Code: apperr.FieldConflict, Message: "import_ref_repeated"}

// comeBack rejects o as further rows of a claim_ref read before, apart from them: each row for
// that (and for what else is wrong with it).
func (o *outcome) comeBack(src source) {
	if o.back {
		return
	}
	o.claim, o.back, o.backAt = nil, true, 0
	for i := range o.g.rows {
		o.probs = append(o.probs, problem{row: i, column: src.columnOfRef(), fe: refRepeated})
	}
}

// withClaimBackAt rejects every row of g with its claim, whose claim_ref comes back on line.
func withClaimBackAt(g *group, line int64) []problem {
	ps := make([]problem, len(g.rows))
	for i := range ps {
		ps[i] = problem{row: i, fe: apperr.FieldError{Code: apperr.FieldConflict, Message: "import_ref_not_consecutive",
			Params: map[string]string{"line": strconv.FormatInt(line, 10)}}}
	}
	return ps
}

// counters are the figures of a run.
type counters struct {
	created, unchanged, rejectedClaims, rejectedRows int64
	// oneClaimPerRef: every row of a reference is of one claim (CSV), so rows of it that come
	// back after other rows make the claim rejected whole. In NDJSON a line is a claim, and a
	// reference sent again is that line's claim refused.
	oneClaimPerRef bool
	// rejectedRefs are the references of claims rejected so far, so that rows of the same
	// claim_ref further down the file are rejected too instead of making a smaller claim.
	// (Refs of stored claims are found in the database.) Bounded to keep memory flat.
	rejectedRefs map[string]struct{}
	// unstored are the references whose claim an earlier batch stored and a later one took
	// out again, with the line where they came back: the rows of the claim are reported at the
	// end of the run (reportUnstored). Bounded as rejectedRefs (past it, they are counted but
	// not reported).
	unstored map[string]int64
}

const maxRejectedRefs = 1 << 20

// Run runs import id to its end. It returns an error only when the work should be retried
// (database unavailable, a concurrent writer won a race): a bad file, a cancel or too many
// errors are recorded on the import and are not errors of the job.
func (im *Importer) Run(ctx context.Context, id int64) error {
	// The run is registered before it starts, so that a cancel in this process stops it from
	// then on; one that finds no run here only sets cancel_requested, which the import reads
	// when it starts, once it holds its lock, and when it commits.
	runCtx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	prog := &Progress{cancel: cancel}
	live := im.Live
	if live == nil {
		live = NewLive()
	}
	live.add(id, prog)
	defer live.remove(id)

	imp, err := im.Store.StartImport(ctx, id, im.Now().UTC())
	if err != nil {
		return err
	}
	if imp.Status != store.ImportRunning {
		return nil // finished, or cancelled while queued
	}
	if imp.CancelRequested || errors.Is(context.Cause(runCtx), errCancelled) {
		return im.end(ctx, imp, store.ImportCancelled, "", nil)
	}
	ctx = runCtx
	stopBeat := im.heartbeat(ctx, id, prog)

	// The claims are decided with one Builder for the whole file and stored only if the case
	// is still at its revision; when the windows or rules changed in between, the import is
	// decided again with fresh ones (it has read nothing yet: see store.BeginBulk).
	var res runResult
	cs, runErr := im.Store.CaseByID(ctx, imp.CaseID)
	if runErr == nil {
		runErr = im.Claims.WithBuilder(ctx, cs.Slug, func(b *claims.Builder) error {
			var err error
			res, err = im.run(ctx, imp, b, prog)
			return err
		})
	}
	stopBeat()
	if runErr == nil {
		return nil
	}
	if errors.Is(runErr, errCancelled) || errors.Is(context.Cause(ctx), errCancelled) {
		imp.RowsRead = prog.Rows.Load()
		return im.end(context.WithoutCancel(ctx), imp, store.ImportCancelled, "", nil)
	}
	var fe *FileError
	if errors.As(runErr, &fe) {
		imp.RowsRead = res.rows
		return im.end(context.WithoutCancel(ctx), imp, store.ImportFailed, fe.Reason, fe.Params)
	}
	return runErr
}

// heartbeat publishes progress and watches for a cancel request, on PostgreSQL where other
// instances need to see it. On SQLite the import's transaction holds the only write lock, so
// status answers read the Live registry and cancels go through it.
func (im *Importer) heartbeat(ctx context.Context, id int64, prog *Progress) func() {
	if im.Store.Dialect() != store.Postgres {
		return func() {}
	}
	every := im.Heartbeat
	if every == 0 {
		every = time.Second
	}
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-ctx.Done():
				return
			case <-t.C:
				stop, err := im.Store.ImportHeartbeat(ctx, id, prog.Rows.Load())
				if err == nil && stop {
					prog.stop()
					return
				}
			}
		}
	}()
	return func() { close(done); wg.Wait() }
}

func (im *Importer) end(ctx context.Context, imp *models.Import, status, reason string, params map[string]string) error {
	t := im.Now().UTC()
	imp.Status, imp.Reason, imp.FinishedAt = status, reason, &t
	imp.ReasonParams = ""
	if len(params) > 0 {
		b, _ := json.Marshal(params)
		imp.ReasonParams = string(b)
	}
	if status == store.ImportCancelled || status == store.ImportFailed {
		imp.ClaimsCreated, imp.ClaimsUnchanged, imp.ClaimsRejected, imp.RowsRejected = 0, 0, 0, 0
	}
	err := im.Store.EndImport(ctx, imp)
	im.logEnd(imp)
	return err
}

// logEnd logs the figures of an import: ids and counts only, never a row (rows hold personal data).
func (im *Importer) logEnd(imp *models.Import) {
	if im.Log == nil {
		return
	}
	im.Log.Info("import finished", "import_id", imp.ID, "status", imp.Status, "reason", imp.Reason,
		"rows_read", imp.RowsRead, "claims_created", imp.ClaimsCreated, "claims_unchanged", imp.ClaimsUnchanged,
		"rows_rejected", imp.RowsRejected, "dry_run", imp.DryRun)
}

type runResult struct{ rows int64 }

// countingReader counts the bytes read through it.
type countingReader struct {
	r io.Reader
	n *atomic.Int64
}

func (c countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n.Add(int64(n))
	return n, err
}

func newSource(format string, r io.Reader) source {
	if format == FormatNDJSON {
		return newNDJSONSource(r)
	}
	return newCSVSource(r)
}

// run reads, builds and writes the whole import in one transaction.
func (im *Importer) run(ctx context.Context, imp *models.Import, b *claims.Builder, prog *Progress) (runResult, error) {
	var res runResult
	src := newSource(imp.Format, bufio.NewReaderSize(countingReader{im.Store.OpenUpload(ctx, imp.ID), &prog.Bytes}, 1<<20))
	spool, err := newSpool()
	if err != nil {
		return res, err
	}
	defer spool.close()

	bulk, err := im.Store.BeginBulk(ctx, imp.CaseID, b.Case.Revision, &imp.ID)
	if err != nil {
		return res, err
	}
	defer bulk.Rollback()

	// The import stopped while this worker waited for the lock (another worker finished it,
	// or it was cancelled): nothing to do. Asked to stop since it started, by a cancel that
	// found no run to stop in this process: it stops now rather than at its commit.
	cur, err := im.Store.Import(ctx, imp.ID)
	if err != nil || cur.Status != store.ImportRunning {
		return res, err
	}
	if cur.CancelRequested {
		return res, errCancelled
	}

	batches := make(chan []outcome, 2)
	prodErr := make(chan error, 1)
	go func() {
		defer close(batches)
		prodErr <- im.produce(ctx, src, b, imp, batches, prog)
	}()
	c := counters{oneClaimPerRef: imp.Format != FormatNDJSON, rejectedRefs: map[string]struct{}{}, unstored: map[string]int64{}}
	var writeErr error
	for batch := range batches {
		if writeErr != nil {
			continue // drain so the producer ends
		}
		writeErr = im.write(ctx, bulk, imp, src, batch, spool, &c)
	}
	perr := <-prodErr
	res.rows = src.rowsRead()
	if writeErr != nil {
		return res, writeErr
	}
	if perr != nil {
		return res, perr
	}
	if err := context.Cause(ctx); err != nil {
		return res, err
	}
	if len(c.unstored) > 0 {
		if err := im.reportUnstored(ctx, imp, spool, c.unstored); err != nil {
			return res, err
		}
	}

	imp.RowsRead = src.rowsRead()
	imp.Header = src.header()
	imp.ClaimsCreated, imp.ClaimsUnchanged, imp.ClaimsRejected, imp.RowsRejected = c.created, c.unchanged, c.rejectedClaims, c.rejectedRows
	imp.Status = store.ImportSucceeded
	imp.Reason, imp.ReasonParams = "", ""
	tooMany := imp.MaxErrorRate != nil && imp.RowsRead > 0 && float64(imp.RowsRejected) > *imp.MaxErrorRate*float64(imp.RowsRead)
	if tooMany || imp.DryRun {
		if err := bulk.DiscardClaims(ctx); err != nil {
			return res, err
		}
	}
	if tooMany {
		// The claims were just rolled back: the import (and its audit record) must not say
		// they were created. The rejected rows stay counted, as their report is kept.
		imp.ClaimsCreated, imp.ClaimsUnchanged = 0, 0
		imp.Status, imp.Reason = store.ImportFailed, "max_error_rate_exceeded"
		p, _ := json.Marshal(map[string]string{"max": strconv.FormatFloat(*imp.MaxErrorRate, 'f', -1, 64),
			"rate": strconv.FormatFloat(float64(imp.RowsRejected)/float64(imp.RowsRead), 'f', 4, 64)})
		imp.ReasonParams = string(p)
	}
	if err := spool.each(func(errs []models.ImportError) error { return bulk.AddErrors(ctx, errs) }); err != nil {
		return res, err
	}
	t := im.Now().UTC()
	imp.FinishedAt = &t
	// From here the outcome is settled: a cancel in this process can no longer stop the run,
	// and one from anywhere is settled by FinishImport (it refuses after a cancel request, and
	// holds the import's row against a later one until the commit).
	if !prog.state.CompareAndSwap(runRunning, runCommitting) {
		return res, errCancelled
	}
	if err := bulk.FinishImport(ctx, imp); err != nil {
		if errors.Is(err, store.ErrCancelRequested) {
			return res, errCancelled
		}
		return res, err
	}
	if err := im.recordImport(ctx, bulk, imp); err != nil {
		return res, err
	}
	if err := bulk.Commit(ctx); err != nil {
		return res, err
	}
	im.logEnd(imp)
	im.detect(ctx, imp)
	return res, nil
}

// produce reads groups, builds claims and sends them in batches.
func (im *Importer) produce(ctx context.Context, src source, b *claims.Builder, imp *models.Import, out chan<- []outcome, prog *Progress) error {
	size := im.BatchSize
	if size <= 0 {
		size = 2000
	}
	batch := make([]outcome, 0, size)
	meta := claims.Meta{Channel: claims.ChannelImport, ImportID: &imp.ID}
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		g, err := src.next()
		prog.Rows.Store(src.rowsRead())
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
		batch = append(batch, buildGroup(b, src, g, meta))
		if len(batch) == size {
			select {
			case out <- batch:
			case <-ctx.Done():
				return ctx.Err()
			}
			batch = make([]outcome, 0, size)
		}
	}
	if len(batch) > 0 {
		select {
		case out <- batch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}

// buildGroup validates a group with the builder, merging the problems found while decoding
// with those of validation (one per row and column).
func buildGroup(b *claims.Builder, src source, g *group, meta claims.Meta) outcome {
	o := outcome{g: g, probs: g.problems}
	if g.malformed || g.claimFirst != nil {
		// Further rows of a claim refused for its number of rows: intake refuses such a claim
		// for that alone, so only what decoding found in each row is reported.
		return o
	}
	m, err := b.Build(g.in, meta)
	if err != nil {
		var ae *apperr.Error
		if !errors.As(err, &ae) || ae.Code != apperr.Invalid {
			o.probs = append(o.probs, problem{fe: apperr.FieldError{Code: apperr.FieldInvalidValue}})
			return o
		}
		seen := make(map[[2]string]bool, len(o.probs))
		for _, p := range o.probs {
			seen[[2]string{strconv.Itoa(p.row), p.column}] = true
		}
		for _, f := range ae.Fields {
			i, col := src.locate(g, f.Path)
			k := [2]string{strconv.Itoa(i), col}
			if seen[k] {
				continue
			}
			seen[k] = true
			o.probs = append(o.probs, problem{row: i, column: col, fe: f})
		}
		return o
	}
	if len(o.probs) > 0 {
		return o
	}
	m.Reference = auth.NewReference()
	// The access code of an imported claim is not shown to anyone: the claimant gets one
	// when they are contacted (a new code replaces this one).
	m.AccessCodeHash = auth.HashAccessCode(auth.NewAccessCode())
	o.claim = m
	return o
}

// write stores the valid claims of a batch and records the rejected ones.
//
// In a CSV file, a claim_ref whose rows come back after other rows is rejected whole: the
// rows that come back (known from rejectedRefs, from the groups before them in the batch, or
// from the database when an earlier batch stored the claim) and the claim's first rows. First
// rows in the same batch are kept from the store; a claim an earlier batch stored is taken out
// of the transaction again (Bulk.Unstore), and its rows, no longer held, are reported at the
// end of the run (reportUnstored). Under a claim_ref stored before the import, rows that
// come back in a later batch are judged against the stored claim on their own, and the first
// rows keep their outcome (unchanged, say): the run keeps no memory of the claims it counted
// unchanged.
func (im *Importer) write(ctx context.Context, bulk *store.Bulk, imp *models.Import, src source, batch []outcome, spool *spool, c *counters) error {
	var first map[string]int // CSV: claim_ref -> its first group in the batch
	if c.oneClaimPerRef {
		first = make(map[string]int, len(batch))
	}
	for i := range batch {
		o := &batch[i]
		ref := o.g.ref
		if ref == "" || o.g.claimFirst != nil {
			continue
		}
		_, rejected := c.rejectedRefs[ref]
		if !c.oneClaimPerRef {
			if rejected && o.claim != nil {
				o.claim, o.probs = nil, []problem{{column: src.columnOfRef(), fe: refRepeated}}
			}
			if o.claim == nil && len(c.rejectedRefs) < maxRejectedRefs {
				c.rejectedRefs[ref] = struct{}{}
			}
			continue
		}
		j, inBatch := first[ref]
		switch {
		case inBatch:
			if f := &batch[j]; f.claim != nil {
				f.claim, f.backAt = nil, o.g.rows[0].line
			}
			o.comeBack(src)
		case rejected:
			o.comeBack(src)
		default:
			first[ref] = i
		}
	}

	var valid []*models.Claim
	var idx []int
	for i := range batch {
		if batch[i].claim != nil {
			valid = append(valid, batch[i].claim)
			idx = append(idx, i)
		}
	}
	outs, err := bulk.Apply(ctx, valid)
	if err != nil {
		return err
	}
	for k, a := range outs {
		o := &batch[idx[k]]
		o.stored = a.Outcome
		switch a.Outcome {
		case store.Conflict:
			o.claim, o.probs = nil, []problem{{column: src.columnOfRef(), fe: apperr.FieldError{Code: apperr.FieldConflict, Message: "external_ref_conflict"}}}
		case store.Repeated:
			if c.oneClaimPerRef {
				o.comeBack(src) // stored by an earlier batch: taken out below
			} else {
				o.claim, o.probs = nil, []problem{{column: src.columnOfRef(), fe: refRepeated}}
			}
		}
	}

	if c.oneClaimPerRef {
		// A claim_ref rejected in this batch may be one an earlier batch stored: then this
		// batch's rows of it came back after others, and the claim goes.
		var check []string
		for ref, j := range first {
			if batch[j].claim == nil {
				check = append(check, ref)
			}
		}
		gone, err := bulk.Unstore(ctx, check)
		if err != nil {
			return err
		}
		for ref, items := range gone {
			o := &batch[first[ref]]
			o.comeBack(src)
			c.created--
			c.rejectedClaims++
			c.rejectedRows += int64(items)
			if len(c.unstored) < maxRejectedRefs {
				c.unstored[ref] = o.g.rows[0].line
			}
		}
	}

	var createdRows, unchangedRows, rejectedRows int64
	for i := range batch {
		o := &batch[i]
		if o.claim != nil {
			if o.stored == store.Created {
				c.created++
				createdRows += int64(len(o.g.rows))
			} else {
				c.unchanged++
				unchangedRows += int64(len(o.g.rows))
			}
			continue
		}
		if o.backAt != 0 {
			o.probs = withClaimBackAt(o.g, o.backAt)
		}
		if c.oneClaimPerRef && o.g.ref != "" && len(c.rejectedRefs) < maxRejectedRefs {
			c.rejectedRefs[o.g.ref] = struct{}{}
		}
		if !o.back && o.g.claimFirst == nil { // further rows of a claim already counted
			c.rejectedClaims++
		}
		c.rejectedRows += int64(len(o.g.rows))
		rejectedRows += int64(len(o.g.rows))
		if err := spool.add(imp.ID, src, o); err != nil {
			return err
		}
	}
	im.rows.created.Add(createdRows)
	im.rows.unchanged.Add(unchangedRows)
	im.rows.rejected.Add(rejectedRows)
	return nil
}

// reportUnstored reports the rows of the claims stored by an earlier batch and taken out by a
// later one, whose claim_ref came back on the line unstored gives. The run does not keep rows
// past their batch, so it reads the upload again for them, only when there are any, up to the
// last of them; the first rows of each such claim_ref are the claim that was stored.
func (im *Importer) reportUnstored(ctx context.Context, imp *models.Import, spool *spool, unstored map[string]int64) error {
	src := newSource(imp.Format, bufio.NewReaderSize(im.Store.OpenUpload(ctx, imp.ID), 1<<20))
	for len(unstored) > 0 {
		g, err := src.next()
		if err == io.EOF {
			return nil // not reached: the file reads as it did
		}
		if err != nil {
			return err
		}
		line, ok := unstored[g.ref]
		if !ok || g.claimFirst != nil {
			continue
		}
		delete(unstored, g.ref)
		if err := spool.add(imp.ID, src, &outcome{g: g, probs: withClaimBackAt(g, line)}); err != nil {
			return err
		}
	}
	return nil
}

// spool keeps the error records of a run on disk until the end of the run: they are written
// after the claims, possibly after the claims were rolled back, and may be many.
type spool struct {
	f   *os.File
	w   *bufio.Writer
	enc *json.Encoder
	n   int
}

func newSpool() (*spool, error) {
	f, err := os.CreateTemp("", "claimdesk-import-errors-*.jsonl")
	if err != nil {
		return nil, fmt.Errorf("error spool: %w", err)
	}
	os.Remove(f.Name()) // gone with the process, whatever happens
	w := bufio.NewWriter(f)
	return &spool{f: f, w: w, enc: json.NewEncoder(w)}, nil
}

func (s *spool) close() { s.f.Close() }

// add records every row of a rejected claim: one record per problem, and rows without a
// problem of their own once, as rejected with their claim (whose line is that of its first
// problem).
func (s *spool) add(importID int64, src source, o *outcome) error {
	byRow := make(map[int][]problem, len(o.g.rows))
	for _, p := range o.probs {
		byRow[p.row] = append(byRow[p.row], p)
	}
	var claimLine int64
	if o.g.claimFirst != nil {
		// Further rows of a claim refused for too many rows: its problem is on its first row.
		claimLine = o.g.claimFirst.line
	} else {
		claimLine = o.g.rows[firstProblemRow(o.probs)].line
	}
	for i, r := range o.g.rows {
		raw := src.rawRow(r)
		ps := byRow[i]
		if len(ps) == 0 {
			ps = []problem{{row: i, fe: apperr.FieldError{Message: "import_rejected_with_claim",
				Params: map[string]string{"line": strconv.FormatInt(claimLine, 10)}}}}
		}
		for _, p := range ps {
			var params string
			if len(p.fe.Params) > 0 {
				b, _ := json.Marshal(p.fe.Params)
				params = string(b)
			}
			e := models.ImportError{ImportID: importID, ErrorRow: r.line, ErrorColumn: p.column, ErrorCode: p.fe.Code,
				MessageKey: p.fe.Message, Params: params, Raw: raw}
			if err := s.enc.Encode(&e); err != nil {
				return err
			}
			s.n++
		}
	}
	return nil
}

func firstProblemRow(ps []problem) int {
	if len(ps) == 0 {
		return 0
	}
	m := ps[0].row
	for _, p := range ps {
		m = min(m, p.row)
	}
	return m
}

// each reads the records back in batches.
func (s *spool) each(fn func([]models.ImportError) error) error {
	if s.n == 0 {
		return nil
	}
	if err := s.w.Flush(); err != nil {
		return err
	}
	if _, err := s.f.Seek(0, io.SeekStart); err != nil {
		return err
	}
	dec := json.NewDecoder(bufio.NewReader(s.f))
	batch := make([]models.ImportError, 0, 5000)
	for {
		var e models.ImportError
		err := dec.Decode(&e)
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
		batch = append(batch, e)
		if len(batch) == cap(batch) {
			if err := fn(batch); err != nil {
				return err
			}
			batch = batch[:0]
		}
	}
	if len(batch) > 0 {
		return fn(batch)
	}
	return nil
}
