package store_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/claimdesk/claimdesk/internal/apperr"
	"github.com/claimdesk/claimdesk/internal/store"
	"github.com/claimdesk/claimdesk/internal/testdb"
	"github.com/claimdesk/claimdesk/internal/testdb/casedb"
	"github.com/claimdesk/claimdesk/models"
)

// runningImport returns an import of a new case that a worker has started.
func runningImport(t *testing.T, st *store.Store) (*models.Import, int64) {
	t.Helper()
	ctx := context.Background()
	imp, caseID := newImport(t, st)
	if err := st.QueueImport(ctx, imp.ID, 0, time.Now()); err != nil {
		t.Fatal(err)
	}
	got, err := st.StartImport(ctx, imp.ID, time.Now())
	if err != nil || got.Status != store.ImportRunning {
		t.Fatalf("start: %+v %v", got, err)
	}
	return got, caseID
}

func countClaims(t *testing.T, st *store.Store) int64 {
	t.Helper()
	var n int64
	if err := st.Gorm().Model(&models.Claim{}).Count(&n).Error; err != nil {
		t.Fatal(err)
	}
	return n
}

// TestImportEndsAfterCancel: a cancel answered "stopping" (202) means the import stores
// nothing. Its transaction's last step, FinishImport, finds the request and refuses
// (ErrCancelRequested: the worker rolls back), and an import ending without its transaction
// (a file that cannot be read, a job given up) ends cancelled rather than failed. The import
// used to commit its claims when the request came after the last look of its heartbeat.
func TestImportEndsAfterCancel(t *testing.T) {
	for _, d := range testdb.Dialects() {
		t.Run(d, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			st := casedb.Migrated(t, d)
			imp, caseID := runningImport(t, st)
			if c, err := st.CancelImport(ctx, imp.ID, time.Now()); err != nil || !c.CancelRequested {
				t.Fatalf("cancel: %+v %v", c, err)
			}
			b, err := st.BeginBulk(ctx, caseID, revision(t, st), &imp.ID)
			if err != nil {
				t.Fatal(err)
			}
			defer b.Rollback()
			if _, err := b.Apply(ctx, []*models.Claim{bulkClaim(caseID, "C-1", "h1", &imp.ID)}); err != nil {
				t.Fatal(err)
			}
			now := time.Now()
			imp.Status, imp.ClaimsCreated, imp.FinishedAt = store.ImportSucceeded, 1, &now
			if err := b.FinishImport(ctx, imp); !errors.Is(err, store.ErrCancelRequested) {
				t.Fatalf("FinishImport after a cancel request: %v, want ErrCancelRequested", err)
			}
			b.Rollback()
			if n := countClaims(t, st); n != 0 {
				t.Errorf("%d claims stored", n)
			}

			// Ended outside its transaction: cancelled, whatever the worker had to say.
			imp.Status, imp.Reason, imp.ClaimsCreated = store.ImportFailed, "file_csv_syntax", 0
			if err := st.EndImport(ctx, imp); err != nil {
				t.Fatal(err)
			}
			got, err := st.Import(ctx, imp.ID)
			if err != nil || got.Status != store.ImportCancelled || got.Reason != "" || got.FinishedAt == nil {
				t.Errorf("ended after a cancel request: %+v %v", got, err)
			}
			if imp.Status != store.ImportCancelled {
				t.Errorf("the worker is told %q", imp.Status)
			}
		})
	}
}

// TestCancelWaitsForFinish: a cancel that comes while the import's transaction is committing
// its outcome waits for it and then answers 409: the outcome is stored, so the answer may not
// say it will not be. Nor may a later end recorded outside the transaction undo it.
func TestCancelWaitsForFinish(t *testing.T) {
	for _, d := range testdb.Dialects() {
		t.Run(d, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			st := casedb.Migrated(t, d)
			imp, caseID := runningImport(t, st)
			b, err := st.BeginBulk(ctx, caseID, revision(t, st), &imp.ID)
			if err != nil {
				t.Fatal(err)
			}
			defer b.Rollback()
			if _, err := b.Apply(ctx, []*models.Claim{bulkClaim(caseID, "C-1", "h1", &imp.ID)}); err != nil {
				t.Fatal(err)
			}
			now := time.Now()
			imp.Status, imp.ClaimsCreated, imp.FinishedAt = store.ImportSucceeded, 1, &now
			if err := b.FinishImport(ctx, imp); err != nil {
				t.Fatal(err)
			}
			answer := make(chan error, 1)
			go func() {
				_, err := st.CancelImport(ctx, imp.ID, time.Now())
				answer <- err
			}()
			select {
			case err := <-answer:
				t.Fatalf("cancel answered before the import committed: %v", err)
			case <-time.After(100 * time.Millisecond):
			}
			if err := b.Commit(ctx); err != nil {
				t.Fatal(err)
			}
			if err := <-answer; !apperr.Is(err, apperr.Conflict) {
				t.Errorf("cancel of an import committing: %v, want conflict", err)
			}
			if got, _ := st.Import(ctx, imp.ID); got.Status != store.ImportSucceeded || got.CancelRequested || countClaims(t, st) != 1 {
				t.Errorf("import %+v, %d claims", got, countClaims(t, st))
			}

			// A worker that took the import for dead and was stopped waiting for its lock ends
			// it cancelled: the import keeps the end it committed.
			imp.Status, imp.ClaimsCreated = store.ImportCancelled, 0
			if err := st.EndImport(ctx, imp); err != nil {
				t.Fatal(err)
			}
			if got, _ := st.Import(ctx, imp.ID); got.Status != store.ImportSucceeded || got.ClaimsCreated != 1 || imp.Status != store.ImportSucceeded {
				t.Errorf("ended again: %+v; the worker is told %q", got, imp.Status)
			}
		})
	}
}

// TestBulkUnstore: Unstore takes out the claims the import stored under some references, with
// their items and review marks, and says how many items each had; claims stored by anything
// else are left alone.
func TestBulkUnstore(t *testing.T) {
	for _, d := range testdb.Dialects() {
		t.Run(d, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			st := casedb.Migrated(t, d)
			imp, caseID := runningImport(t, st)
			rev := revision(t, st)
			commitBulk(t, st, caseID, rev, nil, bulkClaim(caseID, "W", "h0", nil))

			b, err := st.BeginBulk(ctx, caseID, rev, &imp.ID)
			if err != nil {
				t.Fatal(err)
			}
			defer b.Rollback()
			x := bulkClaim(caseID, "X", "h1", &imp.ID)
			x.Items = append(x.Items, x.Items[0])
			x.Items[1].Position = 1
			if _, err := b.Apply(ctx, []*models.Claim{x, bulkClaim(caseID, "Y", "h2", &imp.ID)}); err != nil {
				t.Fatal(err)
			}
			gone, err := b.Unstore(ctx, []string{"X", "W", "Z"})
			if err != nil {
				t.Fatal(err)
			}
			if len(gone) != 1 || gone["X"] != 2 {
				t.Errorf("unstored %v, want X with 2 items", gone)
			}
			// X can be stored again in the same transaction, whole.
			if out, err := b.Apply(ctx, []*models.Claim{bulkClaim(caseID, "X", "h3", &imp.ID)}); err != nil || out[0].Outcome != store.Created {
				t.Fatalf("X stored again: %+v %v", out, err)
			}
			if err := b.Commit(ctx); err != nil {
				t.Fatal(err)
			}
			var items, pending int64
			st.Gorm().Model(&models.ClaimItem{}).Count(&items)
			st.Gorm().Model(&models.ClaimReviewPending{}).Count(&pending)
			if n := countClaims(t, st); n != 3 || items != 3 || pending != 3 {
				t.Errorf("%d claims, %d items, %d pending marks; want 3 of each", n, items, pending)
			}
		})
	}
}
