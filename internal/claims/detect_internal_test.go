package claims

import (
	"context"
	"strings"
	"testing"

	"github.com/claimdesk/claimdesk/internal/store"
)

// TestDetectionPassPanic: a pass that panics (here, on a service without a store) fails with an
// error the worker reports, instead of ending the worker's goroutine and the process.
func TestDetectionPassPanic(t *testing.T) {
	s := &Service{}
	err := s.detectPending(context.Background(), []store.PendingReview{{ClaimID: 1, CaseID: 1}})
	if err == nil || !strings.Contains(err.Error(), "detection pass: panic") {
		t.Fatalf("err = %v", err)
	}
}
