package claims

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/claimdesk/claimdesk/internal/apperr"
	"github.com/claimdesk/claimdesk/internal/intake"
	"github.com/claimdesk/claimdesk/internal/seed"
	"github.com/claimdesk/claimdesk/internal/store"
	"github.com/claimdesk/claimdesk/internal/testdb"
	"github.com/claimdesk/claimdesk/internal/testdb/casedb"
)

// TestDetectionPassPanic: a pass that panics (here, on a service without a store) fails with an
// error the worker reports, instead of ending the worker's goroutine and the process.
func TestDetectionPassPanic(t *testing.T) {
	s := &Service{}
	err := s.detectPending(context.Background(), []store.PendingReview{{ClaimID: 1, CaseID: 1}})
	if !errors.Is(err, apperr.ErrPanic) || !strings.Contains(err.Error(), "detection pass: panic") {
		t.Fatalf("err = %v", err)
	}
}

// TestDetectionPassPanicAlone: when the pass over a batch panics, its claims are looked at one
// by one, so the batch does not stay pending (and the panic is still reported).
func TestDetectionPassPanicAlone(t *testing.T) {
	for _, d := range testdb.Dialects() {
		t.Run(d, func(t *testing.T) {
			ctx := context.Background()
			st, cs := casedb.Open(t, d)
			now := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
			intakeSvc := &Service{Store: st, Now: func() time.Time { return now }, Background: func(func(context.Context)) {}}
			yes := true
			var batch []store.PendingReview
			for i := range 3 {
				res, err := intakeSvc.Submit(ctx, seed.Kakao2022, intake.ClaimInput{
					Claimant: intake.ClaimantInput{Name: fmt.Sprintf("청구인%d", i), Email: fmt.Sprintf("p%d@example.com", i)}, Consent: &yes,
					Items: []intake.ItemInput{{Kind: "taxi_booking", OccurredAt: "2022-10-15 18:00", Failure: "no_driver"}}},
					Meta{Channel: ChannelAPI, IP: "198.51.100.9"})
				if err != nil {
					t.Fatal(err)
				}
				batch = append(batch, store.PendingReview{ClaimID: res.Claim.ID, CaseID: cs.ID})
			}
			// The first pass (the whole batch) panics; the passes after it do not.
			var calls atomic.Int32
			det := &Service{Store: st, Now: func() time.Time {
				if calls.Add(1) == 1 {
					panic("detection bug")
				}
				return now
			}}
			err := det.detectPending(ctx, batch)
			if !errors.Is(err, apperr.ErrPanic) || !strings.Contains(err.Error(), "detection bug") {
				t.Errorf("err = %v, want the panic reported", err)
			}
			if p, err := st.PendingReviews(ctx, time.Time{}, 100); err != nil || len(p) != 0 {
				t.Errorf("still pending: %v %v", p, err)
			}
		})
	}
}

// TestDetectionPassPanicOtherCases: a pass that panics on the one claim of its case does not
// stop the passes of the other cases of the batch.
func TestDetectionPassPanicOtherCases(t *testing.T) {
	s := &Service{} // every pass panics
	err := s.detectPending(context.Background(), []store.PendingReview{{ClaimID: 1, CaseID: 1}, {ClaimID: 2, CaseID: 2}})
	var joined interface{ Unwrap() []error }
	if !errors.As(err, &joined) || len(joined.Unwrap()) != 2 {
		t.Fatalf("err = %v, want the panics of both cases' passes", err)
	}
}
