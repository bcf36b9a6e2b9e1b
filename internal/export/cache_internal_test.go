package export

import (
	"context"
	"sync/atomic"
	"time"

	"github.com/claimdesk/claimdesk/internal/claims"
	"github.com/claimdesk/claimdesk/internal/store"
)

// CountGathers makes rc count the gatherings (GatherReport) it runs, for the tests of package
// export_test.
func CountGathers(rc *ReportCache) *atomic.Int64 {
	n := new(atomic.Int64)
	rc.gather = func(ctx context.Context, st *store.Store, svc *claims.Service, cs *store.Case, now time.Time) (*ReportData, error) {
		n.Add(1)
		return GatherReport(ctx, st, svc, cs, now)
	}
	return n
}
