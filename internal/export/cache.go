package export

import (
	"context"
	"sync"
	"time"

	"github.com/claimdesk/claimdesk/internal/claims"
	"github.com/claimdesk/claimdesk/internal/messages"
	"github.com/claimdesk/claimdesk/internal/store"
)

// ReportCache keeps the report of each case for pages that show it often (the lawyers'
// dashboard). What it keeps is the gathered figures (GatherReport), one per case and revision,
// and the reports rendered from them in each language asked for: gathering values every item of
// the case, about two seconds at a million items (BenchmarkDashboard), while rendering in
// another language costs no database work, so the Korean and the English dashboards share one
// gathering. A change of the case's windows or rules (its revision) gathers again before
// anything is shown, so no page shows figures of replaced windows or rules. Within a revision,
// figures older than TTL are still shown while one gathering runs in the background (new
// claims show within TTL plus one gathering). Concurrent requests, in any language, for
// figures not gathered yet wait for that one gathering.
type ReportCache struct {
	TTL     time.Duration
	mu      sync.Mutex
	entries map[reportKey]*reportEntry
	// gather is GatherReport when nil; tests count the gatherings through it.
	gather func(ctx context.Context, st *store.Store, svc *claims.Service, cs *store.Case, now time.Time) (*ReportData, error)
}

type reportKey struct{ caseID, revision int64 }

type reportEntry struct {
	done       chan struct{} // closed when the first gathering ended
	cur        *reportVersion
	err        error
	at         time.Time // when cur was gathered
	refreshing bool
}

// reportVersion is one gathering and the reports rendered from it, by language (guarded by
// ReportCache.mu). A page shown twice from the same figures gets the same *Report.
type reportVersion struct {
	data    *ReportData
	reports map[messages.Lang]*Report
}

// DefaultReportTTL is how long cached figures are shown before they are gathered again.
const DefaultReportTTL = 30 * time.Second

// Get returns the case's report in lang (BuildReport), rendered from cached figures.
func (rc *ReportCache) Get(ctx context.Context, st *store.Store, svc *claims.Service, cs *store.Case, now time.Time, lang messages.Lang) (*Report, error) {
	v, err := rc.version(ctx, st, svc, cs, now)
	if err != nil {
		return nil, err
	}
	rc.mu.Lock()
	r := v.reports[lang]
	rc.mu.Unlock()
	if r != nil {
		return r, nil
	}
	// Rendered outside the lock: it reads v.data only, and other cases need not wait for it.
	r = v.data.Render(lang)
	rc.mu.Lock()
	defer rc.mu.Unlock()
	if prev := v.reports[lang]; prev != nil {
		return prev, nil // another request rendered it meanwhile: show one report, not two
	}
	v.reports[lang] = r
	return r, nil
}

// version returns the case's current figures, gathering them first when there are none of its
// revision, and starting a gathering in the background when they are older than the TTL.
func (rc *ReportCache) version(ctx context.Context, st *store.Store, svc *claims.Service, cs *store.Case, now time.Time) (*reportVersion, error) {
	ttl := rc.TTL
	if ttl <= 0 {
		ttl = DefaultReportTTL
	}
	gather := rc.gather
	if gather == nil {
		gather = GatherReport
	}
	key := reportKey{cs.ID, cs.Revision}
	// Gatherings do not use the request's context: others may be waiting for them.
	build := func(ctx context.Context) (*reportVersion, error) {
		d, err := gather(ctx, st, svc, cs, now)
		if err != nil {
			return nil, err
		}
		return &reportVersion{data: d, reports: map[messages.Lang]*Report{}}, nil
	}
	rc.mu.Lock()
	if rc.entries == nil {
		rc.entries = map[reportKey]*reportEntry{}
	}
	e, ok := rc.entries[key]
	if ok {
		select {
		case <-e.done:
			if e.err != nil {
				ok = false // gather again
			}
		default:
			rc.mu.Unlock()
			select {
			case <-e.done:
			case <-ctx.Done():
				return nil, ctx.Err()
			}
			rc.mu.Lock()
			defer rc.mu.Unlock()
			return e.cur, e.err
		}
	}
	if !ok {
		for k := range rc.entries {
			if k.caseID == cs.ID && k.revision != cs.Revision {
				delete(rc.entries, k) // of replaced windows or rules
			}
		}
		e = &reportEntry{done: make(chan struct{}), at: now}
		rc.entries[key] = e
		rc.mu.Unlock()
		v, err := build(context.WithoutCancel(ctx))
		rc.mu.Lock()
		e.cur, e.err = v, err
		rc.mu.Unlock()
		close(e.done)
		return v, err
	}
	v := e.cur
	if now.Sub(e.at) >= ttl && !e.refreshing {
		e.refreshing = true
		// The service's background runner, when it has one, so a shutdown waits for the
		// refresh (or cancels it) instead of closing the store under it.
		background := func(f func(context.Context)) { go f(context.WithoutCancel(ctx)) }
		if svc.Background != nil {
			background = svc.Background
		}
		background(func(ctx context.Context) {
			fresh, err := build(ctx)
			rc.mu.Lock()
			defer rc.mu.Unlock()
			e.refreshing = false
			if err == nil {
				e.cur, e.at = fresh, now
			}
		})
	}
	rc.mu.Unlock()
	return v, nil
}
