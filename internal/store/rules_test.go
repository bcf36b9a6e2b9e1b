package store_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/claimdesk/claimdesk/internal/store"
	"github.com/claimdesk/claimdesk/internal/testdb"
	"github.com/claimdesk/claimdesk/internal/testdb/casedb"
	"github.com/claimdesk/claimdesk/models"
)

// decideAs is decide stamping version (the rules version the caller values under).
func decideAs(ws []models.OutageWindow, version int) store.Reevaluate {
	return func(c *models.Claim) int {
		changed := decide(ws)(c)
		c.RulesVersion = &version
		return changed
	}
}

// windowChange is a case with one never-valued claim whose only item lies in the last half
// hour of the kakao_t taxi window, and the windows of a change that ends that window an hour
// earlier (the item becomes ineligible: no estimate).
type windowChange struct {
	st    *store.Store
	cs    *store.Case
	claim *models.Claim
	ws    []models.OutageWindow
}

func newWindowChange(t *testing.T, dialect string) *windowChange {
	t.Helper()
	st := casedb.Migrated(t, dialect)
	cs := seededCase(t, st)
	ti := slices.IndexFunc(cs.Windows, func(w models.OutageWindow) bool { return w.Service == "kakao_t" && w.Feature == "taxi" })
	if ti < 0 {
		t.Fatalf("no kakao_t taxi window in %+v", cs.Windows)
	}
	T := cs.Windows[ti]
	ws := slices.Clone(cs.Windows)
	ws[ti].EndAt = T.EndAt.Add(-time.Hour)
	past := time.Date(2023, 1, 2, 3, 4, 5, 0, time.UTC)
	c := newValuedClaim(cs.ID, "late", past, models.ClaimItem{CaseID: cs.ID, Kind: "other", Service: T.Service, Feature: T.Feature,
		OccurredAt: T.EndAt.Add(-30 * time.Minute), AmountKRW: 8000, Eligibility: "ineligible"})
	if err := st.CreateClaims(context.Background(), cs.Revision, []store.NewClaim{{Claim: c}}); err != nil {
		t.Fatal(err)
	}
	return &windowChange{st: st, cs: cs, claim: c, ws: ws}
}

// replace replaces the windows with w.ws, re-valuing every claim under them as version.
func (w *windowChange) replace(ctx context.Context, version int) error {
	_, _, err := w.st.ReplaceWindows(ctx, w.cs.ID, nil, slices.Clone(w.ws), func(stored []models.OutageWindow) store.Reevaluate {
		return decideAs(stored, version)
	}, func(int, int) (*models.AuditEvent, error) {
		return &models.AuditEvent{At: time.Now().UTC(), ActorKind: "system", Action: "update", Entity: "windows", EntityID: "test"}, nil
	})
	return err
}

// check wants the claim valued under the new windows as version, and nothing stale.
func (w *windowChange) check(t *testing.T, version int) {
	t.Helper()
	got, err := w.st.ClaimByReference(context.Background(), w.claim.Reference)
	if err != nil {
		t.Fatal(err)
	}
	if it := got.Items[0]; it.Eligibility != "ineligible" || got.EstimateKRW != nil || got.RulesVersion == nil || *got.RulesVersion != version {
		t.Errorf("after the window change: item %s, estimate %v, version %v; want ineligible, no estimate, version %d",
			it.Eligibility, deref(got.EstimateKRW), deref(got.RulesVersion), version)
	}
	var n int64
	err = w.st.Gorm().Model(&models.Claim{}).Where("case_id = ? AND (rules_version IS NULL OR rules_version <> ?)", w.cs.ID, version).Count(&n).Error
	if err != nil || n != 0 {
		t.Errorf("%d claims (%v) not valued under version %d", n, err, version)
	}
}

func deref[T any](p *T) any {
	if p == nil {
		return nil
	}
	return *p
}

// TestRevalueStaleAfterWindowChange: a revaluation whose valuer was made from windows a change
// has since replaced writes nothing (ErrStale) instead of the old windows' values, which
// would carry the current version and so never be stale again; made again from the case as it
// now is, it values under the new windows. Here the change stamped the claims with an older
// rules version (it read the rules just before a rule change committed), so they are stale
// when the batch reads them after the change: on SQLite too.
func TestRevalueStaleAfterWindowChange(t *testing.T) {
	for _, d := range testdb.Dialects() {
		t.Run(d, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			w := newWindowChange(t, d)
			old := decideAs(w.cs.Windows, 2) // made before the change, at w.cs.Revision
			if err := w.replace(ctx, 1); err != nil {
				t.Fatal(err)
			}
			n, err := w.st.RevalueStale(ctx, w.cs.ID, w.cs.Revision, store.Valuation{Version: 2}, old)
			if !errors.Is(err, store.ErrStale) || n != 0 {
				t.Fatalf("RevalueStale under the replaced windows: %d claims, %v; want 0, ErrStale", n, err)
			}
			after, err := w.st.Case(ctx, w.cs.Slug)
			if err != nil {
				t.Fatal(err)
			}
			if n, err := w.st.RevalueStale(ctx, after.ID, after.Revision, store.Valuation{Version: 2}, decideAs(after.Windows, 2)); err != nil || n != 1 {
				t.Fatalf("RevalueStale made again: %d claims, %v; want 1", n, err)
			}
			w.check(t, 2)
		})
	}
}

// TestRevalueStaleRacingWindowChange is the reviewer's interleaving on PostgreSQL: a batch is
// read and being valued under the old windows when a window change runs. The change waits
// for the batch (which holds the case's lock shared, as a claim insert does), then re-values
// the claim under the new windows; without the lock it committed first and the batch wrote the
// old windows' values over its own, stamped with the current version. (On SQLite the batch's
// write transaction keeps the change waiting anyway: TestRevalueStaleAfterWindowChange is the
// interleaving that reaches it.)
func TestRevalueStaleRacingWindowChange(t *testing.T) {
	ctx := context.Background()
	w := newWindowChange(t, "postgres")
	paused, release := make(chan struct{}), make(chan struct{})
	old := decideAs(w.cs.Windows, 2)
	revalued := make(chan error, 1)
	go func() {
		_, err := w.st.RevalueStale(ctx, w.cs.ID, w.cs.Revision, store.Valuation{Version: 2}, func(c *models.Claim) int {
			close(paused)
			<-release
			return old(c)
		})
		revalued <- err
	}()
	<-paused
	replaced := make(chan error, 1)
	go func() { replaced <- w.replace(ctx, 2) }()
	// Release the batch once the change has committed or is waiting for the case's lock (well
	// within CaseLockWait).
	var replaceErr error
	done, replaceDone := false, false
	for deadline := time.Now().Add(store.CaseLockWait / 2); !done && time.Now().Before(deadline); {
		select {
		case replaceErr = <-replaced:
			done, replaceDone = true, true
		case <-time.After(10 * time.Millisecond):
			var waiting int64
			if err := w.st.Gorm().Raw("SELECT COUNT(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted").Scan(&waiting).Error; err != nil {
				t.Fatal(err)
			}
			if waiting > 0 {
				done = true
			}
		}
	}
	close(release)
	if err := <-revalued; err != nil {
		t.Fatalf("RevalueStale: %v", err)
	}
	if !replaceDone {
		replaceErr = <-replaced
	}
	if replaceErr != nil {
		t.Fatalf("ReplaceWindows: %v", replaceErr)
	}
	w.check(t, 2)
}
