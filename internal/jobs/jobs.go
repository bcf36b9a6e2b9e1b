// Package jobs runs background work (imports, exports) from a queue kept in the database, so
// that several instances share it and a restarted process resumes what was left unfinished.
// QueueCollector reports the queue's depth to Prometheus.
//
// The queue is the jobs table, not River. River is PostgreSQL-only (its SQLite drivers on our
// module proxy are too old for current River), so SQLite would need a second runner anyway,
// and River's insert wants a pgx.Tx where our writes go through gorm. One table serves both
// databases behind one Runner:
//
//   - a job is enqueued in the same transaction as the work it refers to (an import becomes
//     queued exactly when its job exists);
//   - a worker claims the oldest due job with UPDATE ... WHERE id = (SELECT ... FOR UPDATE
//     SKIP LOCKED) on PostgreSQL, so concurrent instances never take the same job, and holds it
//     under a lease it extends while it works;
//   - a job whose lease ran out (its process was killed) is claimed again by any instance;
//     handlers must therefore be safe to run again, which imports are (one transaction each,
//     guarded by an advisory lock on the import). Every claim counts an attempt, so a job
//     that kills its process (out of memory, a crash in C code) fails for good once claimed
//     past MaxAttempts instead of taking down every instance in turn, for ever;
//   - on SQLite one process owns the file: at start it puts back the jobs a dead process left
//     running, and the lease only matters inside the process.
//
// A failing handler is retried with backoff up to MaxAttempts; Failed is then called so the
// work can be marked failed for its users. A job given back at shutdown is not counted.
package jobs

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"time"

	"github.com/claimdesk/claimdesk/internal/apperr"
	"github.com/claimdesk/claimdesk/internal/store"
	"github.com/claimdesk/claimdesk/models"
)

// Handler does the work of one job. It must be safe to run again after a crash.
type Handler interface {
	Run(ctx context.Context, refID int64) error
	// Failed is called when the job gave up after MaxAttempts.
	Failed(ctx context.Context, refID int64, err error)
}

// Runner claims and runs jobs.
type Runner struct {
	Store *store.Store
	Log   *slog.Logger
	// Lease is how long a claimed job stays claimed without a heartbeat (default 30 s).
	Lease time.Duration
	// Poll is how often an idle worker looks for work (default 1 s).
	Poll time.Duration
	// Workers is the number of jobs run at once by this process (default 1).
	Workers int
	// MaxAttempts bounds retries of a failing job (default 5).
	MaxAttempts int
	// Now is the clock (default time.Now).
	Now func() time.Time

	id       string
	handlers map[string]Handler
	wake     chan struct{}
	once     sync.Once
}

func (r *Runner) init() {
	r.once.Do(func() {
		if r.Lease <= 0 {
			r.Lease = 30 * time.Second
		}
		if r.Poll <= 0 {
			r.Poll = time.Second
		}
		if r.Workers <= 0 {
			r.Workers = 1
		}
		if r.MaxAttempts <= 0 {
			r.MaxAttempts = 5
		}
		if r.Now == nil {
			r.Now = time.Now
		}
		if r.Log == nil {
			r.Log = slog.Default()
		}
		host, _ := os.Hostname()
		b := make([]byte, 4)
		rand.Read(b)
		r.id = fmt.Sprintf("%s-%d-%s", host, os.Getpid(), hex.EncodeToString(b))
		r.wake = make(chan struct{}, 1)
		if r.handlers == nil {
			r.handlers = map[string]Handler{}
		}
	})
}

// Handle registers the handler of a job kind. Call it before Run.
func (r *Runner) Handle(kind string, h Handler) {
	r.init()
	r.handlers[kind] = h
}

// ID names this runner in the jobs it claims.
func (r *Runner) ID() string { r.init(); return r.id }

// Notify tells the runner that a job was just enqueued, so it need not wait for its poll.
func (r *Runner) Notify() {
	if r == nil {
		return
	}
	r.init()
	select {
	case r.wake <- struct{}{}:
	default:
	}
}

// Run works until ctx is cancelled. Jobs running then are released for another instance.
func (r *Runner) Run(ctx context.Context) error {
	r.init()
	if r.Store.Dialect() == store.SQLite {
		if err := r.Store.ReleaseRunningJobs(ctx); err != nil {
			return err
		}
	}
	var wg sync.WaitGroup
	for range r.Workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r.work(ctx)
		}()
	}
	wg.Wait()
	return nil
}

func (r *Runner) work(ctx context.Context) {
	t := time.NewTimer(0)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-r.wake:
		}
		for ctx.Err() == nil {
			now := r.Now()
			j, err := r.Store.ClaimJob(ctx, r.id, now, now.Add(r.Lease))
			if err != nil {
				if ctx.Err() == nil {
					r.Log.Warn("job queue unavailable", "err", err)
				}
				break
			}
			if j == nil {
				break
			}
			r.execute(ctx, j)
		}
		t.Reset(r.Poll)
	}
}

// RunClaimed runs a job this runner already holds, in the caller's goroutine: the CLI runs its
// import this way, the job claimed with the import's queueing (importer.ReceiveClaimed).
func (r *Runner) RunClaimed(ctx context.Context, j *models.Job) error {
	r.init()
	return r.execute(ctx, j)
}

// execute runs one claimed job, extending its lease while it runs.
func (r *Runner) execute(ctx context.Context, j *models.Job) error {
	h := r.handlers[j.Kind]
	if h == nil {
		err := fmt.Errorf("no handler for job kind %q", j.Kind)
		r.Store.FinishJob(context.WithoutCancel(ctx), j.ID, r.id, r.Now(), err, time.Time{})
		return err
	}
	bg := context.WithoutCancel(ctx)
	// giveUp fails the job for good after its attempt-th attempt.
	giveUp := func(attempt int, err error) error {
		r.Log.Error("job failed", "job_id", j.ID, "kind", j.Kind, "attempt", attempt, "err", err)
		h.Failed(bg, j.RefID, err)
		return r.Store.FinishJob(bg, j.ID, r.id, r.Now(), err, time.Time{})
	}
	if j.Attempts > r.MaxAttempts {
		// Claimed again with every attempt used: only a run that ended without a word does
		// that (its process died, and the lease ran out), so running it again would most
		// likely kill this process too. Failed runs under this claim, so if this process dies
		// before the job is marked failed, the next claim gives up again.
		return giveUp(j.Attempts-1, fmt.Errorf("gave up after %d attempts: the last ended without finishing (its process died)", j.Attempts-1))
	}
	jctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(r.Lease / 3)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				err := r.Store.ExtendJobLease(jctx, j.ID, r.id, r.Now().Add(r.Lease))
				if errors.Is(err, store.ErrLeaseLost) {
					cancel(err) // someone else runs it now
					return
				}
			}
		}
	}()
	err := run(jctx, h, j)
	close(done)
	wg.Wait()

	switch {
	case errors.Is(context.Cause(jctx), store.ErrLeaseLost):
		r.Log.Warn("job taken over by another worker", "job_id", j.ID, "kind", j.Kind)
		return err
	case err != nil && ctx.Err() != nil:
		// Shutting down: give the job back at once rather than after the lease, and without
		// counting this attempt (a deploy is not a failure).
		r.Store.ReleaseJob(bg, j.ID, r.id)
		return err
	case err != nil && j.Attempts < r.MaxAttempts:
		backoff := time.Duration(1<<min(j.Attempts, 6)) * time.Second
		r.Log.Warn("job failed, will retry", "job_id", j.ID, "kind", j.Kind, "attempt", j.Attempts, "err", err)
		return r.Store.FinishJob(bg, j.ID, r.id, r.Now(), err, r.Now().Add(backoff))
	case err != nil:
		return giveUp(j.Attempts, err)
	}
	return r.Store.FinishJob(bg, j.ID, r.id, r.Now(), nil, time.Time{})
}

// run runs a job's handler; a panic fails that attempt like an error (retried, then failed for
// good), instead of taking the process down and the job with it at every restart.
func run(ctx context.Context, h Handler, j *models.Job) (err error) {
	defer apperr.Catch("job "+j.Kind, &err)
	return h.Run(ctx, j.RefID)
}
