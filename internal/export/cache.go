package export

import (
	"context"
	"sync"
	"time"

	"github.com/claimdesk/claimdesk/internal/claims"
	"github.com/claimdesk/claimdesk/internal/messages"
	"github.com/claimdesk/claimdesk/internal/store"
)

// ReportCache keeps the report of each case and language for pages that show it often (the
// lawyers' dashboard): building it values every item of the case, about two seconds at a
// million items (BenchmarkDashboard). A change of the case's windows or rules (its revision) builds a new
// one before it is shown, so no page shows figures of replaced windows or rules. Within a
// revision, a report older than TTL is still shown while one rebuild runs in the background
// (new claims show within TTL plus one build). Concurrent requests for a report not built yet
// wait for that one build.
type ReportCache struct {
	TTL     time.Duration
	mu      sync.Mutex
	entries map[reportKey]*reportEntry
}

type reportKey struct {
	caseID, revision int64
	lang             messages.Lang
}

type reportEntry struct {
	done       chan struct{} // closed when the first build ended
	r          *Report
	err        error
	at         time.Time // when r was built
	refreshing bool
}

// DefaultReportTTL is how long a cached report is shown before it is rebuilt.
const DefaultReportTTL = 30 * time.Second

// Get returns the case's report in lang (BuildReport).
func (rc *ReportCache) Get(ctx context.Context, st *store.Store, svc *claims.Service, cs *store.Case, now time.Time, lang messages.Lang) (*Report, error) {
	ttl := rc.TTL
	if ttl <= 0 {
		ttl = DefaultReportTTL
	}
	key := reportKey{cs.ID, cs.Revision, lang}
	// Builds do not use the request's context: others may be waiting for them.
	build := func() (*Report, error) { return BuildReport(context.WithoutCancel(ctx), st, svc, cs, now, lang) }
	rc.mu.Lock()
	if rc.entries == nil {
		rc.entries = map[reportKey]*reportEntry{}
	}
	e, ok := rc.entries[key]
	if ok {
		select {
		case <-e.done:
			if e.err != nil {
				ok = false // build again
			}
		default:
			rc.mu.Unlock()
			select {
			case <-e.done:
				return e.r, e.err
			case <-ctx.Done():
				return nil, ctx.Err()
			}
		}
	}
	if !ok {
		for k := range rc.entries {
			if k.caseID == cs.ID && k.lang == lang && k.revision != cs.Revision {
				delete(rc.entries, k) // of replaced windows or rules
			}
		}
		e = &reportEntry{done: make(chan struct{}), at: now}
		rc.entries[key] = e
		rc.mu.Unlock()
		r, err := build()
		rc.mu.Lock()
		e.r, e.err = r, err
		rc.mu.Unlock()
		close(e.done)
		return r, err
	}
	r := e.r
	if now.Sub(e.at) >= ttl && !e.refreshing {
		e.refreshing = true
		go func() {
			fresh, err := build()
			rc.mu.Lock()
			defer rc.mu.Unlock()
			e.refreshing = false
			if err == nil {
				e.r, e.at = fresh, now
			}
		}()
	}
	rc.mu.Unlock()
	return r, nil
}
