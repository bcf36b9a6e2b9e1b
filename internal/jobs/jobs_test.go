package jobs_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/claimdesk/claimdesk/internal/jobs"
	"github.com/claimdesk/claimdesk/internal/store"
	"github.com/claimdesk/claimdesk/internal/testdb"
	"github.com/claimdesk/claimdesk/internal/testdb/casedb"
	"github.com/claimdesk/claimdesk/models"
)

func TestMain(m *testing.M) { testdb.Main(m) }

// handler records runs; ref 13 fails every time, ref 7 fails once, ref 9 panics once.
type handler struct {
	mu     sync.Mutex
	runs   map[int64]int
	failed []int64
}

func (h *handler) Run(ctx context.Context, ref int64) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.runs[ref]++
	if ref == 13 || ref == 7 && h.runs[ref] == 1 {
		return errors.New("boom")
	}
	if ref == 9 && h.runs[ref] == 1 {
		panic("bug")
	}
	return nil
}

func (h *handler) Failed(ctx context.Context, ref int64, err error) {
	h.mu.Lock()
	h.failed = append(h.failed, ref)
	h.mu.Unlock()
}

func TestRunner(t *testing.T) {
	for _, d := range testdb.Dialects() {
		t.Run(d, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			st := casedb.Migrated(t, d)
			// A job left running by a dead worker (its lease is over): queued and claimed first,
			// so that it is the one the claim takes.
			claimed(t, st, "test", 21, "dead", time.Now(), time.Now().Add(-time.Second))
			for _, ref := range []int64{1, 7, 9, 13} {
				st.InTx(ctx, func(tx *gorm.DB) error { _, err := store.EnqueueJob(tx, "test", ref, time.Now()); return err })
			}
			h := &handler{runs: map[int64]int{}}
			// The clock runs a minute per reading, so backoffs pass at once.
			var mu sync.Mutex
			clock := time.Now()
			now := func() time.Time { mu.Lock(); defer mu.Unlock(); clock = clock.Add(time.Minute); return clock }
			r := &jobs.Runner{Store: st, Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Poll: 5 * time.Millisecond,
				Lease: time.Hour, MaxAttempts: 3, Workers: 2, Now: now}
			r.Handle("test", h)
			rctx, cancel := context.WithCancel(ctx)
			done := make(chan struct{})
			go func() { r.Run(rctx); close(done) }()
			deadline := time.Now().Add(20 * time.Second)
			for {
				var n int64
				st.Gorm().Model(&models.Job{}).Where("status IN ?", []string{"queued", "running"}).Count(&n)
				if n == 0 {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("jobs still pending: %d", n)
				}
				time.Sleep(10 * time.Millisecond)
			}
			cancel()
			<-done
			h.mu.Lock()
			defer h.mu.Unlock()
			// The panic failed one attempt of job 9 like an error, and neither the worker nor the
			// process: every job ran.
			if h.runs[1] != 1 || h.runs[7] != 2 || h.runs[9] != 2 || h.runs[13] != 3 || h.runs[21] != 1 {
				t.Errorf("runs %v", h.runs)
			}
			if len(h.failed) != 1 || h.failed[0] != 13 {
				t.Errorf("failed %v", h.failed)
			}
			var statuses []string
			st.Gorm().Model(&models.Job{}).Order("ref_id").Pluck("status", &statuses)
			if !slices.Equal(statuses, []string{"done", "done", "done", "failed", "done"}) {
				t.Errorf("statuses %v", statuses)
			}
		})
	}
}

// claimed queues a job and claims it for worker until leaseEnd, as a worker does: the only
// job due at now, it is the one taken (one attempt counted).
func claimed(t *testing.T, st *store.Store, kind string, ref int64, worker string, now, leaseEnd time.Time) *models.Job {
	t.Helper()
	ctx := context.Background()
	if err := st.InTx(ctx, func(tx *gorm.DB) error { _, err := store.EnqueueJob(tx, kind, ref, now); return err }); err != nil {
		t.Fatal(err)
	}
	j, err := st.ClaimJob(ctx, worker, now, leaseEnd)
	if err != nil || j == nil || j.RefID != ref || j.Attempts != 1 {
		t.Fatalf("claim of job %d: %+v %v", ref, j, err)
	}
	return j
}

// recorder records runs and failures; Run blocks until its context ends when block is set.
type recorder struct {
	mu      sync.Mutex
	runs    int
	failed  []error
	started chan struct{}
	block   bool
}

func (h *recorder) Run(ctx context.Context, ref int64) error {
	h.mu.Lock()
	h.runs++
	h.mu.Unlock()
	if h.block {
		close(h.started)
		<-ctx.Done()
		return ctx.Err()
	}
	return nil
}

func (h *recorder) Failed(ctx context.Context, ref int64, err error) {
	h.mu.Lock()
	h.failed = append(h.failed, err)
	h.mu.Unlock()
}

// TestCrashingJobGivesUp: a job whose runs kill their process (its lease runs out each time)
// counts those runs as attempts, and once they are used up it is failed, not run again by
// every instance in turn for ever.
func TestCrashingJobGivesUp(t *testing.T) {
	for _, d := range testdb.Dialects() {
		t.Run(d, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			st := casedb.Migrated(t, d)
			t0 := time.Now()
			// Run 1: the CLI claimed it and died. Run 2: a server took it over and died too.
			claimed(t, st, "test", 5, "cli", t0, t0.Add(time.Second))
			j, err := st.ClaimJob(ctx, "server-1", t0.Add(2*time.Second), t0.Add(3*time.Second))
			if err != nil || j == nil || j.Attempts != 2 {
				t.Fatalf("claim after the first crash: %+v %v", j, err)
			}
			h := &recorder{}
			r := &jobs.Runner{Store: st, Log: slog.New(slog.NewTextHandler(io.Discard, nil)), MaxAttempts: 2, Lease: time.Minute,
				Now: func() time.Time { return t0.Add(time.Hour) }}
			r.Handle("test", h)
			j, err = st.ClaimJob(ctx, r.ID(), t0.Add(time.Hour), t0.Add(time.Hour+time.Minute))
			if err != nil || j == nil || j.Attempts != 3 {
				t.Fatalf("claim after the second crash: %+v %v", j, err)
			}
			if err := r.RunClaimed(ctx, j); err != nil {
				t.Fatal(err)
			}
			var got models.Job
			st.Gorm().Take(&got, j.ID)
			if h.runs != 0 || len(h.failed) != 1 || got.Status != store.JobFailed || !strings.Contains(got.LastError, "gave up after 2 attempts") {
				t.Errorf("runs %d, failed %v, job %+v", h.runs, h.failed, got)
			}
		})
	}
}

// TestShutdownReleasesJob: a job given back at shutdown is due again at once and its attempt
// is not counted, so deploys during a long import do not use up its attempts.
func TestShutdownReleasesJob(t *testing.T) {
	for _, d := range testdb.Dialects() {
		t.Run(d, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			st := casedb.Migrated(t, d)
			if err := st.InTx(ctx, func(tx *gorm.DB) error { _, err := store.EnqueueJob(tx, "test", 6, time.Now()); return err }); err != nil {
				t.Fatal(err)
			}
			h := &recorder{block: true, started: make(chan struct{})}
			r := &jobs.Runner{Store: st, Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Poll: 5 * time.Millisecond, MaxAttempts: 1}
			r.Handle("test", h)
			rctx, cancel := context.WithCancel(ctx)
			done := make(chan struct{})
			go func() { r.Run(rctx); close(done) }()
			<-h.started
			cancel()
			<-done
			var got models.Job
			st.Gorm().Take(&got, "ref_id = ?", 6)
			if got.Status != store.JobQueued || got.Attempts != 0 || got.LockedBy != "" {
				t.Fatalf("job given back at shutdown: %+v", got)
			}
			// Claimed again, it runs (it has not used its one attempt).
			h2 := &recorder{}
			r2 := &jobs.Runner{Store: st, Log: slog.New(slog.NewTextHandler(io.Discard, nil)), MaxAttempts: 1}
			r2.Handle("test", h2)
			now := time.Now()
			j, err := st.ClaimJob(ctx, r2.ID(), now, now.Add(time.Minute))
			if err != nil || j == nil {
				t.Fatalf("claim: %+v %v", j, err)
			}
			if err := r2.RunClaimed(ctx, j); err != nil || h2.runs != 1 {
				t.Errorf("run after the release: %v, %d runs", err, h2.runs)
			}
		})
	}
}
