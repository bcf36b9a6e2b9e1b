package claims

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/claimdesk/claimdesk/internal/intake"
	"github.com/claimdesk/claimdesk/internal/seed"
	"github.com/claimdesk/claimdesk/internal/testdb"
	"github.com/claimdesk/claimdesk/internal/testdb/casedb"
)

// TestIdleWorkerSweeps: claims left pending while the worker is idle, which nobody queued (here
// stored by another process that stopped before their passes), are detected one sweep period
// later without a new claim to wake the worker, and the worker stops again once they are done.
func TestIdleWorkerSweeps(t *testing.T) {
	for _, d := range testdb.Dialects() {
		t.Run(d, func(t *testing.T) {
			st, _ := casedb.Open(t, d)
			ctx, cancel := context.WithCancel(context.Background())
			var mu sync.Mutex
			var wg sync.WaitGroup
			var reported []error
			bg := func(fn func(context.Context)) {
				mu.Lock()
				defer mu.Unlock()
				if ctx.Err() == nil { // nothing starts once the test ends
					wg.Go(func() { fn(ctx) })
				}
			}
			defer func() {
				mu.Lock()
				cancel()
				mu.Unlock()
				wg.Wait()
				mu.Lock()
				defer mu.Unlock()
				if err := errors.Join(reported...); err != nil {
					t.Error(err)
				}
			}()
			svc := &Service{Store: st, Now: time.Now, Background: bg, ReviewError: func(err error) {
				mu.Lock()
				defer mu.Unlock()
				reported = append(reported, err)
			}}
			svc.detector.every = 50 * time.Millisecond
			svc.ResumeReviews() // nothing pending yet: the worker sweeps and stops
			idle := func() bool {
				svc.detector.mu.Lock()
				defer svc.detector.mu.Unlock()
				return !svc.detector.running && len(svc.detector.queue) == 0
			}
			deadline := time.Now().Add(10 * time.Second)
			for !idle() && time.Now().Before(deadline) {
				time.Sleep(5 * time.Millisecond)
			}
			if !idle() {
				t.Fatal("the worker did not stop with nothing to do")
			}

			lost := &Service{Store: st, Now: time.Now, Background: func(func(context.Context)) {}}
			yes := true
			for i := range 3 {
				if _, err := lost.Submit(context.Background(), seed.Kakao2022, intake.ClaimInput{
					Claimant: intake.ClaimantInput{Name: fmt.Sprintf("청구인%d", i), Email: fmt.Sprintf("p%d@example.com", i)}, Consent: &yes,
					Items: []intake.ItemInput{{Kind: "taxi_booking", OccurredAt: "2022-10-15 18:00", Failure: "no_driver"}}},
					Meta{Channel: ChannelAPI, IP: "198.51.100.9"}); err != nil {
					t.Fatal(err)
				}
			}
			for {
				p, err := st.PendingReviews(context.Background(), time.Time{}, 10)
				if err != nil {
					t.Fatal(err)
				}
				if len(p) == 0 && idle() {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("%d claims still pending (worker idle: %v)", len(p), idle())
				}
				time.Sleep(10 * time.Millisecond)
			}
		})
	}
}
