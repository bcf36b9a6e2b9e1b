package claims

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/claimdesk/claimdesk/internal/apperr"
	"github.com/claimdesk/claimdesk/internal/auth"
	"github.com/claimdesk/claimdesk/internal/intake"
	"github.com/claimdesk/claimdesk/internal/seed"
	"github.com/claimdesk/claimdesk/internal/store"
	"github.com/claimdesk/claimdesk/internal/testdb"
	"github.com/claimdesk/claimdesk/internal/testdb/casedb"
	"github.com/claimdesk/claimdesk/models"
)

// groupInput is claim i of a group test: i%3+1 items, each described "claim i item j", so
// every stored item tells which claim it was sent with.
func groupInput(i int) intake.ClaimInput { return groupInputN(i, i%3+1) }

// groupInputN is groupInput with n items.
func groupInputN(i, n int) intake.ClaimInput {
	yes := true
	in := intake.ClaimInput{Claimant: intake.ClaimantInput{Name: fmt.Sprintf("그룹청구인%02d", i), Email: fmt.Sprintf("group%02d@example.com", i)}, Consent: &yes}
	for j := 0; j < n; j++ {
		in.Items = append(in.Items, intake.ItemInput{Kind: "taxi_booking", OccurredAt: fmt.Sprintf("2022-10-15 18:%02d", i%60), Failure: "no_driver",
			Description: fmt.Sprintf("claim %d item %d", i, j)})
	}
	return in
}

// groupWrites builds n claims ready to store as Submit does, at the case's revision.
func groupWrites(t testing.TB, s *Service, n int) []*groupWrite {
	return groupWritesOf(t, s, n, groupInput)
}

// groupWritesOf is groupWrites of the claims input makes.
func groupWritesOf(t testing.TB, s *Service, n int, input func(i int) intake.ClaimInput) []*groupWrite {
	t.Helper()
	b, err := s.Builder(context.Background(), seed.Kakao2022)
	if err != nil {
		t.Fatal(err)
	}
	var ws []*groupWrite
	for i := 0; i < n; i++ {
		meta := Meta{Channel: ChannelWeb, IP: "198.51.100.9"}
		m, err := b.Build(input(i), meta)
		if err != nil {
			t.Fatal(err)
		}
		m.Reference, m.AccessCodeHash = auth.NewReference(), auth.HashAccessCode(auth.NewAccessCode())
		ev, err := s.submitEvent(m, meta)
		if err != nil {
			t.Fatal(err)
		}
		ws = append(ws, &groupWrite{claim: store.NewClaim{Claim: m, Event: ev}, revision: b.Case.Revision, done: make(chan struct{})})
	}
	return ws
}

// stored reads back, by reference, each stored claim's item descriptions in position order,
// whether it is pending review, and its audit records of submission.
func stored(t *testing.T, st *store.Store) map[string]string {
	t.Helper()
	var cs []models.Claim
	if err := st.Gorm().Preload("Items").Find(&cs).Error; err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, c := range cs {
		items := make([]string, len(c.Items))
		for _, it := range c.Items {
			items[it.Position] = it.Description
		}
		var pending, audits int64
		st.Gorm().Model(&models.ClaimReviewPending{}).Where("claim_id = ?", c.ID).Count(&pending)
		st.Gorm().Model(&models.AuditEvent{}).Where("entity = 'claim' AND action = ? AND entity_id = ?", ActionSubmit, c.Reference).Count(&audits)
		out[c.Reference] = fmt.Sprintf("%s %q pending=%d audits=%d", c.ClaimantName, items, pending, audits)
	}
	// No key holds an item to its claim on PostgreSQL (migration 00018): the writers must.
	var orphans int64
	if err := st.Gorm().Raw(`SELECT COUNT(*) FROM claim_items i WHERE NOT EXISTS (SELECT 1 FROM claims c WHERE c.id = i.claim_id)`).
		Scan(&orphans).Error; err != nil {
		t.Fatal(err)
	}
	if orphans != 0 {
		t.Fatalf("%d items without their claim", orphans)
	}
	return out
}

func want(ws []*groupWrite) map[string]string {
	out := map[string]string{}
	for _, w := range ws {
		c := w.claim.Claim
		var items []string
		for _, it := range c.Items {
			items = append(items, it.Description)
		}
		out[c.Reference] = fmt.Sprintf("%s %q pending=1 audits=1", c.ClaimantName, items)
	}
	return out
}

// TestGroupCommit: claims stored in one group transaction each get their own items, pending
// mark and audit record; a group decided under an old revision stores nothing; a claim the
// database refuses costs only itself its place, the others of its group are stored.
func TestGroupCommit(t *testing.T) {
	for _, d := range testdb.Dialects() {
		t.Run(d, func(t *testing.T) {
			st, _ := casedb.Open(t, d)
			s := &Service{Store: st, Now: func() time.Time { return time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC) }}

			ws := groupWrites(t, s, 7)
			s.writeGroup(ws)
			for _, w := range ws {
				if w.err != nil {
					t.Fatal(w.err)
				}
				if w.claim.Claim.ID == 0 {
					t.Fatal("stored claim without id")
				}
			}
			got := stored(t, st)
			if fmt.Sprint(got) != fmt.Sprint(want(ws)) {
				t.Fatalf("stored:\n%v\nwant:\n%v", got, want(ws))
			}

			// A group of more rows than one INSERT takes (SQLite: 500): 12 claims of 50 items.
			big := groupWritesOf(t, s, 12, func(i int) intake.ClaimInput { return groupInputN(100+i, 50) })
			s.writeGroup(big)
			for _, w := range big {
				if w.err != nil {
					t.Fatal(w.err)
				}
			}
			ws = append(ws, big...)
			if got := stored(t, st); fmt.Sprint(got) != fmt.Sprint(want(ws)) {
				t.Fatalf("stored (big group):\n%v\nwant:\n%v", got, want(ws))
			}

			// Stale: the case moved on since the claims were decided.
			stale := groupWrites(t, s, 3)
			for _, w := range stale {
				w.revision--
			}
			s.writeGroup(stale)
			for _, w := range stale {
				if !errors.Is(w.err, store.ErrStale) {
					t.Fatalf("stale group: %v", w.err)
				}
			}
			if n := len(stored(t, st)); n != len(ws) {
				t.Fatalf("a stale group stored claims: %d claims, want %d", n, len(ws))
			}

			// One claim refused (its reference is taken): the others are stored.
			mixed := groupWrites(t, s, 4)
			mixed[2].claim.Claim.Reference = ws[0].claim.Claim.Reference
			mixed[2].claim.Event.EntityID = ws[0].claim.Claim.Reference
			s.writeGroup(mixed)
			if !apperr.Is(mixed[2].err, apperr.Conflict) {
				t.Fatalf("refused claim: %v, want a conflict", mixed[2].err)
			}
			all := want(ws)
			for i, w := range mixed {
				if i != 2 {
					if w.err != nil {
						t.Fatalf("claim %d of the group: %v", i, w.err)
					}
					for k, v := range want([]*groupWrite{w}) {
						all[k] = v
					}
				}
			}
			if got := stored(t, st); fmt.Sprint(got) != fmt.Sprint(all) {
				t.Fatalf("after a refused claim:\n%v\nwant:\n%v", got, all)
			}
		})
	}
}

// TestGroupPanic: a panic while storing a group (here: no store at all) answers the group's
// claims with an error; the writer goroutine, which no handler's recovery covers, does not
// take the process down with it.
func TestGroupPanic(t *testing.T) {
	st, _ := casedb.Open(t, "sqlite")
	ws := groupWrites(t, &Service{Store: st, Now: time.Now}, 3)
	(&Service{}).writeGroup(ws)
	for _, w := range ws {
		if w.err == nil || !strings.Contains(w.err.Error(), "panic") {
			t.Fatalf("claim of a group that panicked: %v", w.err)
		}
	}
}

// TestExternalRefRace: a claim whose external_ref was stored by another request between its
// lookup and its insert (the unique index refuses it) is a conflict, which CreateClaim answers
// as the second of the two; before, PostgreSQL's refusal was an unknown error (500).
func TestExternalRefRace(t *testing.T) {
	for _, d := range testdb.Dialects() {
		t.Run(d, func(t *testing.T) {
			st, _ := casedb.Open(t, d)
			s := &Service{Store: st, Now: time.Now}
			withRef := func(i int) intake.ClaimInput {
				in := groupInput(i)
				ref := "partner-7"
				in.ExternalRef = &ref
				return in
			}
			first := groupWritesOf(t, s, 1, withRef)[0]
			if err := st.CreateClaims(context.Background(), first.revision, []store.NewClaim{first.claim}); err != nil {
				t.Fatal(err)
			}
			second := groupWritesOf(t, s, 1, withRef)[0]
			err := st.CreateClaims(context.Background(), second.revision, []store.NewClaim{second.claim})
			if !apperr.Is(err, apperr.Conflict) {
				t.Fatalf("insert of a taken external_ref: %v, want a conflict", err)
			}
		})
	}
}

// TestConcurrentSubmissions: claims submitted at once are each stored once, with their own
// reference and audit record, and answered only when stored; some of them shared a transaction.
func TestConcurrentSubmissions(t *testing.T) {
	for _, d := range testdb.Dialects() {
		t.Run(d, func(t *testing.T) {
			st, _ := casedb.Open(t, d)
			s := &Service{Store: st, Now: time.Now}
			const n = 48
			var wg sync.WaitGroup
			res := make([]*Result, n)
			errs := make([]error, n)
			start := make(chan struct{})
			for i := 0; i < n; i++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					<-start
					res[i], errs[i] = s.Submit(context.Background(), seed.Kakao2022, groupInput(i), Meta{Channel: ChannelAPI})
				}()
			}
			close(start)
			wg.Wait()
			got := stored(t, st)
			var refs []string
			for i := range res {
				if errs[i] != nil {
					t.Fatal(errs[i])
				}
				if !res[i].Created || res[i].AccessCode == "" {
					t.Fatalf("claim %d: created %v", i, res[i].Created)
				}
				refs = append(refs, res[i].Claim.Reference)
				items := []string{}
				for j := 0; j <= i%3; j++ {
					items = append(items, fmt.Sprintf("claim %d item %d", i, j))
				}
				// Without a background runner detection ran in the request: nothing pending.
				if w := fmt.Sprintf("그룹청구인%02d %q pending=0 audits=1", i, items); got[res[i].Claim.Reference] != w {
					t.Fatalf("claim %d stored as %q, want %q", i, got[res[i].Claim.Reference], w)
				}
			}
			if len(slices.Compact(slices.Sorted(slices.Values(refs)))) != n || len(got) != n {
				t.Fatalf("%d claims stored under %d references, want %d", len(got), len(slices.Compact(slices.Sorted(slices.Values(refs)))), n)
			}
			var txs int64
			if d == "postgres" {
				// Claims of one group were written by one transaction: the same xmin.
				if err := st.Gorm().Raw("SELECT COUNT(DISTINCT xmin::text) FROM claims").Scan(&txs).Error; err != nil {
					t.Fatal(err)
				}
				if txs >= n {
					t.Errorf("%d submissions at once took %d transactions: no group formed", n, txs)
				}
				t.Logf("%d claims in %d transactions", n, txs)
			}
		})
	}
}

// BenchmarkGroupCommit stores claims (one to three items) in groups of several sizes: the cost
// of a claim alone, and how much of it a group shares. Reports µs per claim.
func BenchmarkGroupCommit(b *testing.B) {
	for _, d := range testdb.Dialects() {
		for _, size := range []int{1, 4, 16, 64} {
			b.Run(fmt.Sprintf("%s/group=%d", d, size), func(b *testing.B) {
				st, _ := casedb.Open(b, d)
				s := &Service{Store: st, Now: time.Now}
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					b.StopTimer()
					ws := groupWrites(b, s, size)
					b.StartTimer()
					s.writeGroup(ws)
					if ws[0].err != nil {
						b.Fatal(ws[0].err)
					}
				}
				b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N*size), "us/claim")
			})
		}
	}
}

// TestGroupWriters: on PostgreSQL a second group is written while the first one is, once a full
// group waits besides it, and both are full; SQLite writes one group at a time. Every claim is
// stored once either way.
func TestGroupWriters(t *testing.T) {
	for _, d := range testdb.Dialects() {
		t.Run(d, func(t *testing.T) {
			st, _ := casedb.Open(t, d)
			s := &Service{Store: st, Now: time.Now}
			limit := s.groupMax()
			ws := groupWrites(t, s, 2*limit+1)
			// The first group to be written waits in the Grouped hook until a second one
			// starts: on PostgreSQL it does at once; on SQLite it must not (the wait ends
			// after overlapWait).
			overlapWait := 10 * time.Second
			if d == "sqlite" {
				overlapWait = 300 * time.Millisecond
			}
			second := make(chan struct{})
			var mu sync.Mutex
			var sizes []int
			overlapped := false
			s.Grouped = func(n int) {
				mu.Lock()
				sizes = append(sizes, n)
				first := len(sizes) == 1
				if len(sizes) == 2 {
					close(second)
				}
				mu.Unlock()
				if first {
					select {
					case <-second:
						overlapped = true
					case <-time.After(overlapWait):
					}
				}
			}
			g := &s.group
			g.mu.Lock()
			g.queue = append(g.queue, ws...)
			s.startWritersLocked()
			g.mu.Unlock()
			for _, w := range ws {
				<-w.done
				if w.err != nil {
					t.Fatal(w.err)
				}
			}
			mu.Lock()
			defer mu.Unlock()
			if wantOverlap := d == "postgres"; overlapped != wantOverlap {
				t.Fatalf("two groups written at once: %v, want %v (group sizes %v)", overlapped, wantOverlap, sizes)
			}
			if len(sizes) != 3 || sizes[0] != limit || sizes[1] != limit || sizes[2] != 1 {
				t.Fatalf("group sizes %v, want two full groups of %d and one of 1", sizes, limit)
			}
			if got := stored(t, st); fmt.Sprint(got) != fmt.Sprint(want(ws)) {
				t.Fatalf("stored:\n%v\nwant:\n%v", got, want(ws))
			}
			// The writers end once they find nothing waiting, just after answering.
			for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(time.Millisecond) {
				g.mu.Lock()
				running, waiting := g.running, len(g.queue)
				g.mu.Unlock()
				if running == 0 && waiting == 0 {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("after the groups: %d writers running, %d claims waiting", running, waiting)
				}
			}
		})
	}
}
