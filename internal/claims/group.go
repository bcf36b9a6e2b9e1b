package claims

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/claimdesk/claimdesk/internal/apperr"
	"github.com/claimdesk/claimdesk/internal/store"
)

// Group commit. Claims without an external_ref submitted at the same moment (a spike of
// claims on the API) are stored together: one transaction, one statement, one commit for all
// of them. A claim with one (the web form sends one) is looked up by it first and stored in its
// own transaction; imports have their own bulk path. Each claim still gets its own answer, and
// only after the transaction that holds it has committed, so a 201 always means stored.
//
// A transaction per claim made the database the bottleneck of intake: many writers at once
// wait on each other for the same index pages, for extending the same files and for the lock
// manager (a claim touches some 25 indexes), and each pays a statement and a commit. With
// claims grouped there are only a few writers, and the more claims wait, the bigger and
// cheaper the groups get. Nothing waits for a group to fill: a claim that arrives when a
// writer is free is written at once, alone.
const (
	// pgGroupMax and sqliteGroupMax are the most claims in one transaction (see groupMax).
	pgGroupMax     = 64
	sqliteGroupMax = 256
	// groupTimeout bounds one group's transaction: its claims are answered with the error.
	groupTimeout = 30 * time.Second
)

// group gathers claims waiting to be written and runs up to groupWriters transactions at once
// (see storeGrouped).
type group struct {
	mu      sync.Mutex
	queue   []*groupWrite
	running int
}

type groupWrite struct {
	claim    store.NewClaim
	revision int64
	err      error
	done     chan struct{}
}

// pgGroupWriters is how many groups are written at once on PostgreSQL (see groupWriters): one
// while the waiting claims fit in one group, a second only when a full group waits besides the
// one being written.
//
// A second writer started whenever a claim waited halved the groups at moderate load: a stored
// claim cost PostgreSQL 131 to 141 µs of CPU with one writer against 161 to 169 µs with two (64
// connections). But at saturation one writer left a core idle 5 to 11% of the time:
// while PostgreSQL ran the group's statement the service had parsed every waiting request and
// had nothing to do. Started only for a full group, the second writer's groups are full too.
const pgGroupWriters = 2

// storeGrouped writes one claim without an external_ref (CreateClaims) together with the claims
// submitted at the same time, and returns when it is committed or refused: store.ErrStale when
// the case moved past revision, as CreateClaims. A client that goes away does not take its
// claim out of a group being written: its fate is known (within groupTimeout) before the
// handler returns, stored or not, never half.
func (s *Service) storeGrouped(nc store.NewClaim, revision int64) error {
	w := &groupWrite{claim: nc, revision: revision, done: make(chan struct{})}
	g := &s.group
	g.mu.Lock()
	g.queue = append(g.queue, w)
	s.startWritersLocked()
	g.mu.Unlock()
	<-w.done
	return w.err
}

// startWritersLocked starts a writer when claims wait and none runs, and another (up to
// groupWriters) when a full group waits besides the ones being written: running writers have
// taken their groups out of the queue. s.group.mu is held.
func (s *Service) startWritersLocked() {
	g := &s.group
	if len(g.queue) > 0 && (g.running == 0 || g.running < s.groupWriters() && len(g.queue) >= s.groupMax()) {
		g.running++
		go s.writeGroups()
	}
}

// writeGroups writes groups while claims wait, then ends.
func (s *Service) writeGroups() {
	g := &s.group
	for {
		g.mu.Lock()
		// A writer besides the last one stops when less than a full group waits.
		limit := s.groupMax()
		if len(g.queue) == 0 || g.running > 1 && len(g.queue) < limit {
			g.running--
			g.mu.Unlock()
			return
		}
		// One group is claims of one case decided under one revision: the first waiting
		// claim's, and every other waiting claim that shares them, oldest first.
		first := g.queue[0]
		batch := make([]*groupWrite, 0, min(len(g.queue), limit))
		rest := g.queue[:0]
		for _, w := range g.queue {
			if len(batch) < limit && w.revision == first.revision && w.claim.Claim.CaseID == first.claim.Claim.CaseID {
				batch = append(batch, w)
			} else {
				rest = append(rest, w)
			}
		}
		clear(g.queue[len(rest):])
		g.queue = rest
		s.startWritersLocked()
		g.mu.Unlock()
		s.writeGroup(batch)
	}
}

func (s *Service) writeGroup(batch []*groupWrite) {
	ctx, cancel := context.WithTimeout(context.Background(), groupTimeout)
	defer cancel()
	cs := make([]store.NewClaim, len(batch))
	for i, w := range batch {
		cs[i] = w.claim
	}
	if s.Grouped != nil {
		s.Grouped(len(batch))
	}
	err := s.createClaims(ctx, batch[0].revision, cs)
	if err != nil && len(batch) > 1 && !errors.Is(err, store.ErrStale) && !apperr.Is(err, apperr.Unavailable) {
		// One claim the database refuses must not cost the others theirs: each alone, then.
		for _, w := range batch {
			w.err = s.createClaims(ctx, w.revision, []store.NewClaim{w.claim})
			close(w.done)
		}
		return
	}
	for _, w := range batch {
		w.err = err
		close(w.done)
	}
}

// createClaims is Store.CreateClaims on the writer's goroutine, where no handler's recovery
// reaches: a panic fails the claims of the group (each request answers 500) instead of the
// process.
func (s *Service) createClaims(ctx context.Context, revision int64, cs []store.NewClaim) (err error) {
	defer apperr.Catch("storing claims", &err)
	return s.Store.CreateClaims(ctx, revision, cs)
}

// groupMax is the most claims in one group: sqliteGroupMax on SQLite, pgGroupMax on PostgreSQL.
//
// SQLite's one writer takes every claim waiting, up to sqliteGroupMax: its commit writes each
// page the group dirtied to the log (two system calls and a checksum a page), and a bigger group
// dirties fewer pages per claim, as its claims share the indexes' last pages. At 256 connections,
// 256 against 64 (three alternated 10 s runs each, fresh file): 7,904 / 7,842 / 7,489 against
// 7,554 / 7,401 / 7,080 claims/s, 185-196 against 191-204 µs of CPU per claim. PostgreSQL's two
// writers keep 64 (see pgGroupWriters): 128 won three alternated pairs on a scratch cluster but
// did worse in two full benchmark runs (9,204 and 9,160 claims/s against 9,745 for 64).
func (s *Service) groupMax() int {
	if s.Store.Dialect() == store.SQLite {
		return sqliteGroupMax
	}
	return pgGroupMax
}

// groupWriters is how many groups may be written at once: pgGroupWriters on PostgreSQL, one on
// SQLite, whose writes take the process's write lock in turn anyway.
func (s *Service) groupWriters() int {
	if s.Store.Dialect() == store.SQLite {
		return 1
	}
	return pgGroupWriters
}
