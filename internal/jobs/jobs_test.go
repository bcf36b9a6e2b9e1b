package jobs_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"slices"
	"sync"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/claimdesk/claimdesk/internal/jobs"
	"github.com/claimdesk/claimdesk/internal/store"
	"github.com/claimdesk/claimdesk/internal/testdb"
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
			st, err := store.Open(ctx, testdb.URL(t, d))
			if err != nil {
				t.Fatal(err)
			}
			defer st.Close()
			if err := st.Migrate(ctx); err != nil {
				t.Fatal(err)
			}
			for _, ref := range []int64{1, 7, 9, 13} {
				st.InTx(ctx, func(tx *gorm.DB) error { _, err := store.EnqueueJob(tx, "test", ref, time.Now()); return err })
			}
			// A job left running by a dead worker (its lease is over).
			if _, err := st.EnqueueClaimedJob(ctx, "test", 21, "dead", time.Now(), time.Now().Add(-time.Second)); err != nil {
				t.Fatal(err)
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
