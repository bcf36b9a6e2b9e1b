package export

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"sync/atomic"
	"time"

	"github.com/claimdesk/claimdesk/internal/claims"
	"github.com/claimdesk/claimdesk/internal/messages"
	"github.com/claimdesk/claimdesk/internal/store"
)

// JobParams is what a background export was asked for, stored as JSON with the export.
type JobParams struct {
	// Query are the claims list's filter parameters as sent (claims.ListFilterParams), read
	// again by the job with claims.ListFilter: one reading of filters everywhere.
	Query   map[string]string `json:"query,omitempty"`
	Redact  bool              `json:"redact"`
	BOM     bool              `json:"bom"`
	Lang    string            `json:"lang"`
	Filters map[string]string `json:"filters,omitempty"`
}

// ChunkSize is the size of the pieces a background export's file is stored in.
const ChunkSize = 4 << 20

// Jobs runs background exports from the jobs queue (kind store.JobExport): the same writers as
// a direct download, into chunks in the database, with progress. Running an export again
// after a crash starts its file over; a run whose job another worker took over stops at its
// next write (store.ExportRun).
type Jobs struct {
	Store *store.Store
	Log   *slog.Logger
	Now   func() time.Time
}

func (j *Jobs) now() time.Time {
	if j.Now == nil {
		return time.Now()
	}
	return j.Now()
}

// Run does the export with id refID.
func (j *Jobs) Run(ctx context.Context, refID int64) error {
	// Files past their expiry go first: each export cleans up after the earlier ones.
	if _, err := j.Store.DeleteExpiredExports(ctx, j.now()); err != nil {
		return err
	}
	e, err := j.Store.Export(ctx, refID)
	if err != nil {
		return err
	}
	if e.Status == store.ExportSucceeded {
		return nil
	}
	var p JobParams
	if err := json.Unmarshal([]byte(e.Params), &p); err != nil {
		return fmt.Errorf("export %d: params: %w", e.ID, err)
	}
	cs, err := j.Store.CaseByID(ctx, e.CaseID)
	if err != nil {
		return err
	}
	run, err := j.Store.StartExport(ctx, e.ID, j.now())
	if errors.Is(err, store.ErrExportTakenOver) {
		return nil // succeeded meanwhile
	}
	if err != nil {
		return err
	}
	query := p.Query
	if query == nil {
		// Queued before Query existed: Filters then held the same parameters as sent.
		query = p.Filters
	}
	q := url.Values{}
	for k, v := range query {
		q.Set(k, v)
	}
	lf, err := claims.ListFilter(cs, q)
	if err != nil {
		return fmt.Errorf("export %d: filters: %w", e.ID, err)
	}
	f := store.ExportFilterOf(lf)
	var rows atomic.Int64
	opts := Options{Format: Format(e.Format), BOM: p.BOM, Redact: p.Redact, Lang: messages.Parse(p.Lang), Now: e.CreatedAt, Filters: p.Filters,
		Progress: func(n int64) {
			rows.Store(n)
			// Progress is best effort: a failed update must not fail the export (a run taken
			// over learns it at its next chunk).
			if err := run.Progress(ctx, n); err != nil && !errors.Is(err, store.ErrExportTakenOver) && ctx.Err() == nil && j.Log != nil {
				j.Log.Warn("export progress not saved", "export", e.ID, "err", err)
			}
		}}
	cw := &chunkWriter{ctx: ctx, run: run, buf: make([]byte, 0, ChunkSize)}
	write := Items
	if e.Entity == "plaintiffs" {
		write = Plaintiffs
	}
	res, err := write(ctx, j.Store, cs, f, cw, opts)
	if err == nil {
		err = cw.flush()
	}
	if err == nil {
		err = run.Finish(ctx, res.Rows, cw.size, j.now())
	}
	if errors.Is(err, store.ErrExportTakenOver) {
		// Another worker claimed the job while this one still ran (it was presumed dead), and
		// writes the file: this run stops, having changed nothing of the other's.
		if j.Log != nil {
			j.Log.Warn("export taken over by another run", "export", e.ID)
		}
		return nil
	}
	return err
}

// Failed marks the export failed once the queue gave up on it.
func (j *Jobs) Failed(ctx context.Context, refID int64, err error) {
	if ferr := j.Store.FailExport(context.WithoutCancel(ctx), refID, j.now(), err); ferr != nil && j.Log != nil {
		j.Log.Error("export failure not saved", "export", refID, "err", ferr)
	}
}

// chunkWriter stores what is written in ChunkSize pieces.
type chunkWriter struct {
	ctx  context.Context
	run  *store.ExportRun
	seq  int
	buf  []byte
	size int64
}

func (w *chunkWriter) Write(p []byte) (int, error) {
	n := len(p)
	for len(p) > 0 {
		k := min(len(p), ChunkSize-len(w.buf))
		w.buf = append(w.buf, p[:k]...)
		p = p[k:]
		if len(w.buf) == ChunkSize {
			if err := w.flush(); err != nil {
				return 0, err
			}
		}
	}
	return n, nil
}

func (w *chunkWriter) flush() error {
	if len(w.buf) == 0 {
		return nil
	}
	if err := w.run.AddChunk(w.ctx, w.seq, w.buf); err != nil {
		return err
	}
	w.seq++
	w.size += int64(len(w.buf))
	w.buf = w.buf[:0]
	return nil
}
