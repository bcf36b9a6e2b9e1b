package store

import (
	"context"
	"errors"
	"strings"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/claimdesk/claimdesk/internal/apperr"
	"github.com/claimdesk/claimdesk/models"
)

// JobExport is the job kind that runs a background export.
const JobExport = "export"

// Export statuses.
const (
	ExportQueued    = "queued"
	ExportRunning   = "running"
	ExportSucceeded = "succeeded"
	ExportFailed    = "failed"
)

// CreateExport stores an export request and enqueues its job, in one transaction.
func (s *Store) CreateExport(ctx context.Context, e *models.Export) error {
	return s.InTx(ctx, func(tx *gorm.DB) error {
		e.Status = ExportQueued
		if err := tx.Create(e).Error; err != nil {
			return err
		}
		_, err := EnqueueJob(tx, JobExport, e.ID, e.CreatedAt)
		return err
	})
}

// Export loads an export.
func (s *Store) Export(ctx context.Context, id int64) (*models.Export, error) {
	var e models.Export
	err := translate(s.db.WithContext(ctx).Where("id = ?", id).Take(&e).Error)
	if apperr.Is(err, apperr.NotFound) {
		return nil, &apperr.Error{Code: apperr.NotFound, Message: "export_not_found", Err: err}
	}
	return &e, err
}

// ErrExportTakenOver means a run of a background export is no longer the export's: another
// run started after it (its job was claimed again while it still ran), or it is finished.
var ErrExportTakenOver = errors.New("export taken over by another run")

// ExportRun is one run of a background export, as StartExport began it. What it writes (the
// chunks of the file, progress, the outcome) is stored only while it is still the export's
// latest run: a worker presumed dead but still alive must neither add to nor finish the file
// that the worker which took its job over is writing. Each write checks, in the same
// statement, the export's started_at, which StartExport sets to a value of its own for every
// run (the exports table has no other room for a run token).
type ExportRun struct {
	s     *Store
	ID    int64
	token time.Time
}

// StartExport begins a run of an export: marks it running and drops what an earlier,
// interrupted run wrote, so running a job again starts from a clean file. A succeeded export
// is left as it is (ErrExportTakenOver).
func (s *Store) StartExport(ctx context.Context, id int64, now time.Time) (*ExportRun, error) {
	run := &ExportRun{s: s, ID: id}
	err := s.InTx(ctx, func(tx *gorm.DB) error {
		q := tx.Model(&models.Export{}).Select("id", "status", "started_at")
		if s.dialect == Postgres {
			q = q.Clauses(clause.Locking{Strength: "UPDATE"}) // one run starts at a time
		}
		var e models.Export
		if err := q.Take(&e, id).Error; err != nil {
			return err
		}
		if e.Status == ExportSucceeded {
			return ErrExportTakenOver
		}
		// Microseconds: what PostgreSQL keeps. Later than the run before, even on a clock
		// that stands still or went back, so that no two runs share a token.
		run.token = now.UTC().Truncate(time.Microsecond)
		if e.StartedAt != nil && !run.token.After(*e.StartedAt) {
			run.token = e.StartedAt.UTC().Truncate(time.Microsecond).Add(time.Microsecond)
		}
		// The export row first: on PostgreSQL a chunk of the run before that is being written
		// holds it (FOR SHARE, see AddChunk), so once this update has it that chunk is
		// committed and the delete below sees it; a chunk written after finds the new token.
		res := tx.Model(&models.Export{}).Where("id = ?", id).
			Updates(map[string]any{"status": ExportRunning, "started_at": run.token, "rows_done": 0, "size_bytes": 0, "error": ""})
		if res.Error != nil {
			return res.Error
		}
		return tx.Where("export_id = ?", id).Delete(&models.ExportChunk{}).Error
	})
	if err != nil {
		return nil, err
	}
	return run, nil
}

// exportRunOwns is the condition that an export is still a run's (its id and token).
const exportRunOwns = "id = ? AND started_at = ? AND status = '" + ExportRunning + "'"

// AddChunk appends piece seq of the run's file, or fails with ErrExportTakenOver.
func (r *ExportRun) AddChunk(ctx context.Context, seq int, data []byte) error {
	q := "INSERT INTO export_chunks (export_id, seq, data) SELECT id, ?, ? FROM exports WHERE " + exportRunOwns
	if r.s.dialect == Postgres {
		// Holds the export row until the chunk is committed: a run starting meanwhile (which
		// updates the row first) waits for it, then deletes it with the others. SQLite has
		// one writer at a time anyway.
		q += " FOR SHARE"
	}
	return r.owned(r.s.db.WithContext(ctx).Exec(q, seq, data, r.ID, r.token))
}

// Progress records how many rows the run has written.
func (r *ExportRun) Progress(ctx context.Context, rows int64) error {
	return r.owned(r.s.db.WithContext(ctx).Model(&models.Export{}).Where(exportRunOwns, r.ID, r.token).Update("rows_done", rows))
}

// Finish marks the export succeeded with the run's file of rows rows, or fails with
// ErrExportTakenOver. Its total becomes the rows written: the count taken when it was asked for
// is of claims for the plaintiff list (a person's claims make one row), and claims may have
// come or gone since.
func (r *ExportRun) Finish(ctx context.Context, rows, size int64, now time.Time) error {
	return r.owned(r.s.db.WithContext(ctx).Model(&models.Export{}).Where(exportRunOwns, r.ID, r.token).
		Updates(map[string]any{"status": ExportSucceeded, "finished_at": now.UTC(), "rows_done": rows, "rows_total": rows, "size_bytes": size}))
}

func (r *ExportRun) owned(res *gorm.DB) error {
	if res.Error != nil {
		return translate(res.Error)
	}
	if res.RowsAffected == 0 {
		return ErrExportTakenOver
	}
	return nil
}

// FailExport marks an export failed with jobErr, once the queue gave up on its job. A failure
// never replaces a success: the queue may give up on a job whose other run finished it. A
// background export succeeds through its own run (ExportRun.Finish).
func (s *Store) FailExport(ctx context.Context, id int64, now time.Time, jobErr error) error {
	return translate(s.db.WithContext(ctx).Model(&models.Export{}).Where("id = ? AND status <> ?", id, ExportSucceeded).
		Updates(map[string]any{"status": ExportFailed, "finished_at": now.UTC(), "error": truncate(jobErr.Error(), 500)}).Error)
}

// StreamExportChunks calls fn with each chunk of an export's file in order, one chunk in
// memory at a time.
func (s *Store) StreamExportChunks(ctx context.Context, id int64, fn func([]byte) error) error {
	for seq := 0; ; seq++ {
		var c models.ExportChunk
		err := s.db.WithContext(ctx).Where("export_id = ? AND seq = ?", id, seq).Take(&c).Error
		if errors.Is(err, gorm.ErrRecordNotFound) {
			return nil
		}
		if err != nil {
			return translate(err)
		}
		if err := fn(c.Data); err != nil {
			return err
		}
	}
}

// DeleteExpiredExports removes exports (and their files) past their expiry.
func (s *Store) DeleteExpiredExports(ctx context.Context, now time.Time) (int64, error) {
	var n int64
	err := s.InTx(ctx, func(tx *gorm.DB) error {
		sub := tx.Model(&models.Export{}).Select("id").Where("expires_at < ?", now.UTC())
		if err := tx.Where("export_id IN (?)", sub).Delete(&models.ExportChunk{}).Error; err != nil {
			return err
		}
		res := tx.Where("expires_at < ?", now.UTC()).Delete(&models.Export{})
		n = res.RowsAffected
		return res.Error
	})
	return n, err
}

// CountExportItems counts the rows an items export of f would write (to choose between
// streaming and a background job, and to show progress).
func (s *Store) CountExportItems(ctx context.Context, f ExportFilter) (int64, error) {
	q, args := ExportItemsQuery(f, s.dialect)
	// Same FROM and WHERE as the export; the ORDER BY is not needed to count.
	from := q[strings.Index(q, "FROM claims c"):strings.Index(q, "\nORDER BY")]
	var n int64
	err := s.sqlDB.QueryRowContext(ctx, s.rebind("SELECT COUNT(*) "+from), args...).Scan(&n)
	return n, translate(err)
}
