package store

import (
	"context"
	"errors"
	"strings"
	"time"

	"gorm.io/gorm"

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

// StartExport marks an export running and drops what an earlier, interrupted run wrote, so
// running a job again starts from a clean file.
func (s *Store) StartExport(ctx context.Context, id int64, now time.Time) error {
	return s.InTx(ctx, func(tx *gorm.DB) error {
		if err := tx.Where("export_id = ?", id).Delete(&models.ExportChunk{}).Error; err != nil {
			return err
		}
		return tx.Model(&models.Export{}).Where("id = ?", id).
			Updates(map[string]any{"status": ExportRunning, "started_at": now.UTC(), "rows_done": 0, "size_bytes": 0, "error": ""}).Error
	})
}

// ExportProgress records how many rows an export has written.
func (s *Store) ExportProgress(ctx context.Context, id, rows int64) error {
	return translate(s.db.WithContext(ctx).Model(&models.Export{}).Where("id = ?", id).Update("rows_done", rows).Error)
}

// AddExportChunk appends a piece of an export's file.
func (s *Store) AddExportChunk(ctx context.Context, id int64, seq int, data []byte) error {
	return translate(s.db.WithContext(ctx).Create(&models.ExportChunk{ExportID: id, Seq: seq, Data: data}).Error)
}

// FinishExport marks an export done (jobErr nil) or failed.
func (s *Store) FinishExport(ctx context.Context, id, rows, size int64, now time.Time, jobErr error) error {
	u := map[string]any{"status": ExportSucceeded, "finished_at": now.UTC(), "rows_done": rows, "size_bytes": size}
	if jobErr != nil {
		u = map[string]any{"status": ExportFailed, "finished_at": now.UTC(), "error": truncate(jobErr.Error(), 500)}
	}
	return translate(s.db.WithContext(ctx).Model(&models.Export{}).Where("id = ?", id).Updates(u).Error)
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
