package store

import (
	"context"
	"errors"
	"time"

	"gorm.io/gorm"

	"github.com/claimdesk/claimdesk/models"
)

// Job statuses.
const (
	JobQueued  = "queued"
	JobRunning = "running"
	JobDone    = "done"
	JobFailed  = "failed"
)

func unixMilli(t time.Time) int64 { return t.UnixMilli() }

// EnqueueJob adds a job in tx (so the job exists exactly when the work it refers to does).
func EnqueueJob(tx *gorm.DB, kind string, refID int64, now time.Time) (*models.Job, error) {
	j := &models.Job{Kind: kind, RefID: refID, Status: JobQueued, CreatedAt: now.UTC()}
	return j, tx.Create(j).Error
}

// claimedJob is a job running from the start (the CLI's import job, claimed in the transaction
// that queues the import: QueueImportClaimed): its first attempt is counted as a claim's is.
func claimedJob(kind string, refID int64, worker string, now, leaseEnd time.Time) *models.Job {
	return &models.Job{Kind: kind, RefID: refID, Status: JobRunning, Attempts: 1, LockedBy: worker,
		LockedUntil: unixMilli(leaseEnd), CreatedAt: now.UTC()}
}

// ClaimJob takes the oldest job that is queued (and due), or running under an expired lease
// (its worker died), for worker until leaseEnd. It returns nil when there is none. Every claim
// counts an attempt, so a run that takes its process down counts as one that failed (the
// Runner gives up a job past its attempts instead of running it). On PostgreSQL concurrent
// claimers skip each other's rows (FOR UPDATE SKIP LOCKED); SQLite serialises writers anyway.
func (s *Store) ClaimJob(ctx context.Context, worker string, now, leaseEnd time.Time) (*models.Job, error) {
	lock := ""
	if s.dialect == Postgres {
		lock = " FOR UPDATE SKIP LOCKED"
	}
	var jobs []models.Job
	err := s.db.WithContext(ctx).Raw(`UPDATE jobs SET status = 'running', locked_by = ?, locked_until = ?, attempts = attempts + 1
		WHERE id = (SELECT id FROM jobs
			WHERE (status = 'queued' AND run_after <= ?) OR (status = 'running' AND locked_until < ?)
			ORDER BY id LIMIT 1`+lock+`)
		RETURNING *`, worker, unixMilli(leaseEnd), unixMilli(now), unixMilli(now)).Scan(&jobs).Error
	if err != nil {
		return nil, translate(err)
	}
	if len(jobs) == 0 {
		return nil, nil
	}
	return &jobs[0], nil
}

// ErrLeaseLost means another worker took the job over (this one was presumed dead).
var ErrLeaseLost = errors.New("job lease lost")

// ExtendJobLease keeps a running job claimed by worker.
func (s *Store) ExtendJobLease(ctx context.Context, id int64, worker string, leaseEnd time.Time) error {
	res := s.db.WithContext(ctx).Model(&models.Job{}).Where("id = ? AND locked_by = ? AND status = ?", id, worker, JobRunning).
		Update("locked_until", unixMilli(leaseEnd))
	if res.Error != nil {
		return translate(res.Error)
	}
	if res.RowsAffected == 0 {
		return ErrLeaseLost
	}
	return nil
}

// FinishJob marks a job done (err nil) or, after an error, queued again at retryAt, or
// failed when retryAt is zero.
func (s *Store) FinishJob(ctx context.Context, id int64, worker string, now time.Time, jobErr error, retryAt time.Time) error {
	up := map[string]any{"locked_by": "", "locked_until": 0}
	switch {
	case jobErr == nil:
		up["status"], up["finished_at"] = JobDone, now.UTC()
	case !retryAt.IsZero():
		up["status"], up["run_after"], up["last_error"] = JobQueued, unixMilli(retryAt), truncate(jobErr.Error(), 500)
	default:
		up["status"], up["finished_at"], up["last_error"] = JobFailed, now.UTC(), truncate(jobErr.Error(), 500)
	}
	return translate(s.db.WithContext(ctx).Model(&models.Job{}).Where("id = ? AND locked_by = ?", id, worker).Updates(up).Error)
}

// ReleaseJob gives a job back to the queue, due at once, without counting the attempt its
// worker made: the worker is shutting down, the job did not fail.
func (s *Store) ReleaseJob(ctx context.Context, id int64, worker string) error {
	return translate(s.db.WithContext(ctx).Model(&models.Job{}).Where("id = ? AND locked_by = ? AND status = ?", id, worker, JobRunning).
		Updates(map[string]any{"status": JobQueued, "locked_by": "", "locked_until": 0, "run_after": 0,
			"attempts": gorm.Expr("CASE WHEN attempts > 0 THEN attempts - 1 ELSE 0 END")}).Error)
}

// ReleaseRunningJobs puts every running job back in the queue. Only for SQLite, where one
// process owns the database: at start, whatever is running was left by a dead process.
func (s *Store) ReleaseRunningJobs(ctx context.Context) error {
	return translate(s.db.WithContext(ctx).Model(&models.Job{}).Where("status = ?", JobRunning).
		Updates(map[string]any{"status": JobQueued, "locked_by": "", "locked_until": 0}).Error)
}

// PendingJobs counts jobs queued or running (queue depth).
func (s *Store) PendingJobs(ctx context.Context) (int64, error) {
	var n int64
	err := s.db.WithContext(ctx).Model(&models.Job{}).Where("status IN ?", []string{JobQueued, JobRunning}).Count(&n).Error
	return n, translate(err)
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}

// JobCount is how many jobs of a kind are in a status.
type JobCount struct {
	Kind   string
	Status string
	N      int64
}

// ActiveJobCounts counts the jobs queued and running, by kind and status: the depth of the
// queue every instance shares.
func (s *Store) ActiveJobCounts(ctx context.Context) ([]JobCount, error) {
	var out []JobCount
	err := s.db.WithContext(ctx).Model(&models.Job{}).Select("kind, status, COUNT(*) AS n").
		Where("status IN ?", []string{JobQueued, JobRunning}).Group("kind, status").Scan(&out).Error
	return out, translate(err)
}
