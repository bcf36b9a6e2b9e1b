package store_test

import (
	"context"
	"errors"
	"io"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/claimdesk/claimdesk/internal/apperr"
	"github.com/claimdesk/claimdesk/internal/seed"
	"github.com/claimdesk/claimdesk/internal/store"
	"github.com/claimdesk/claimdesk/internal/testdb"
	"github.com/claimdesk/claimdesk/internal/testdb/casedb"
	"github.com/claimdesk/claimdesk/models"
)

func newImport(t *testing.T, st *store.Store) (*models.Import, int64) {
	t.Helper()
	ctx := context.Background()
	cs := seededCase(t, st)
	imp := &models.Import{CaseID: cs.ID, Format: "csv", Attestation: "test"}
	if err := st.CreateImport(ctx, imp); err != nil {
		t.Fatal(err)
	}
	return imp, cs.ID
}

func TestImportUploadAndLifecycle(t *testing.T) {
	for _, d := range testdb.Dialects() {
		t.Run(d, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			st := casedb.Migrated(t, d)
			imp, _ := newImport(t, st)
			for i, part := range []string{"claim_ref,", "claimant_name\n", "A,홍길동\n"} {
				if err := st.AppendImportChunk(ctx, imp.ID, i, []byte(part)); err != nil {
					t.Fatal(err)
				}
			}
			if err := st.QueueImport(ctx, imp.ID, 27, time.Now()); err != nil {
				t.Fatal(err)
			}
			if err := st.QueueImport(ctx, imp.ID, 27, time.Now()); !apperr.Is(err, apperr.Conflict) {
				t.Errorf("queued twice: %v", err)
			}
			b, err := io.ReadAll(st.OpenUpload(ctx, imp.ID))
			if err != nil || string(b) != "claim_ref,claimant_name\nA,홍길동\n" {
				t.Fatalf("upload read back %q, %v", b, err)
			}
			got, err := st.StartImport(ctx, imp.ID, time.Now())
			if err != nil || got.Status != store.ImportRunning || got.Attempts != 1 || got.StartedAt == nil {
				t.Fatalf("start: %+v %v", got, err)
			}
			cancel, err := st.ImportHeartbeat(ctx, imp.ID, 5)
			if err != nil || cancel {
				t.Fatalf("heartbeat: %v %v", cancel, err)
			}
			c, err := st.CancelImport(ctx, imp.ID, time.Now())
			if err != nil || c.Status != store.ImportRunning || !c.CancelRequested {
				t.Fatalf("cancel of a running import: %+v %v", c, err)
			}
			if cancel, _ := st.ImportHeartbeat(ctx, imp.ID, 6); !cancel {
				t.Error("heartbeat does not see the cancel request")
			}
			now := time.Now()
			got.Status, got.FinishedAt = store.ImportCancelled, &now
			if err := st.EndImport(ctx, got); err != nil {
				t.Fatal(err)
			}
			if b, _ := io.ReadAll(st.OpenUpload(ctx, imp.ID)); len(b) != 0 {
				t.Error("the upload is kept after the import ended")
			}
			if _, err := st.CancelImport(ctx, imp.ID, time.Now()); !apperr.Is(err, apperr.Conflict) {
				t.Errorf("cancel of a finished import: %v", err)
			}
			if _, err := st.Import(ctx, 424242); !apperr.Is(err, apperr.NotFound) {
				t.Errorf("unknown import: %v", err)
			}
			// An upload a dead server left half received goes after a day.
			stale := &models.Import{CaseID: imp.CaseID, Format: "csv", Attestation: "test", CreatedAt: time.Now().Add(-48 * time.Hour)}
			if err := st.CreateImport(ctx, stale); err != nil {
				t.Fatal(err)
			}
			st.AppendImportChunk(ctx, stale.ID, 0, []byte("x"))
			if n, err := st.DeleteAbandonedUploads(ctx, time.Now().Add(-24*time.Hour)); err != nil || n != 1 {
				t.Errorf("abandoned uploads removed: %d, %v", n, err)
			}
			if err := st.DeleteImport(ctx, imp.ID); err != nil {
				t.Fatal(err)
			}
			if b, _ := io.ReadAll(st.OpenUpload(ctx, imp.ID)); len(b) != 0 {
				t.Error("upload left after delete")
			}
		})
	}
}

// revision returns the revision of the case's windows and rules.
func revision(t *testing.T, st *store.Store) int64 {
	t.Helper()
	cs, err := st.Case(context.Background(), seed.Kakao2022)
	if err != nil {
		t.Fatal(err)
	}
	return cs.Revision
}

// TestBulkRevision: a bulk transaction starts only at the case's current revision, and a
// change of the case's windows waits until a running one ends.
func TestBulkRevision(t *testing.T) {
	for _, d := range testdb.Dialects() {
		t.Run(d, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			st := casedb.Migrated(t, d)
			_, caseID := newImport(t, st)
			rev := revision(t, st)
			if _, err := st.BeginBulk(ctx, caseID, rev-1, nil); !errors.Is(err, store.ErrStale) {
				t.Fatalf("bulk at an old revision: %v, want ErrStale", err)
			}
			b, err := st.BeginBulk(ctx, caseID, rev, nil)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := b.Apply(ctx, []*models.Claim{bulkClaim(caseID, "W", "h", nil)}); err != nil {
				t.Fatal(err)
			}
			cs, err := st.Case(ctx, seed.Kakao2022)
			if err != nil {
				t.Fatal(err)
			}
			// A change of the windows (the same windows again) while the bulk transaction is open.
			var reevaluated atomic.Int64
			changed := make(chan error, 1)
			go func() {
				changed <- sameWindows(st, cs, func(c *models.Claim) { reevaluated.Add(int64(len(c.Items))) })
			}()
			select {
			case err := <-changed:
				b.Rollback()
				t.Fatalf("the change of windows did not wait for the bulk transaction: %v", err)
			case <-time.After(500 * time.Millisecond):
			}
			if err := b.Commit(ctx); err != nil {
				t.Fatal(err)
			}
			if err := <-changed; err != nil {
				t.Fatal(err)
			}
			// The change re-decided the claim the bulk transaction stored, and moved the revision.
			if reevaluated.Load() != 1 {
				t.Errorf("%d items re-evaluated by the change, want 1", reevaluated.Load())
			}
			if _, err := st.BeginBulk(ctx, caseID, rev, nil); !errors.Is(err, store.ErrStale) {
				t.Fatalf("bulk at the revision before the change: %v, want ErrStale", err)
			}
			b, err = st.BeginBulk(ctx, caseID, revision(t, st), nil)
			if err != nil {
				t.Fatal(err)
			}
			b.Rollback()
		})
	}
}

func bulkClaim(caseID int64, ref, hash string, importID *int64) *models.Claim {
	now := time.Now().UTC()
	return &models.Claim{CaseID: caseID, Reference: "CD-" + ref, AccessCodeHash: []byte{1}, ExternalRef: &ref, ContentHash: hash,
		Status: "received", Channel: "import", ClaimantName: "홍길동", ClaimantLocale: "ko", ConsentAt: now, ConsentVersion: "v",
		ImportID: importID, SubmittedAt: now, UpdatedAt: now,
		Items: []models.ClaimItem{{CaseID: caseID, Kind: "other", Service: "daum", Feature: "mail", OccurredAt: now,
			Eligibility: "ineligible", EligibilityCode: "no_outage_window"}}}
}

func TestBulkApply(t *testing.T) {
	for _, d := range testdb.Dialects() {
		t.Run(d, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			st := casedb.Migrated(t, d)
			imp, caseID := newImport(t, st)
			rev := revision(t, st)

			// Stored before: X (hash h1).
			commitBulk(t, st, caseID, rev, nil, bulkClaim(caseID, "X", "h1", nil))

			b, err := st.BeginBulk(ctx, caseID, rev, &imp.ID)
			if err != nil {
				t.Fatal(err)
			}
			defer b.Rollback()
			got, err := b.Apply(ctx, []*models.Claim{
				bulkClaim(caseID, "X", "h1", &imp.ID), // unchanged
				bulkClaim(caseID, "Y", "h2", &imp.ID), // created
				bulkClaim(caseID, "Y", "h2", &imp.ID), // repeated in the batch
			})
			if err != nil {
				t.Fatal(err)
			}
			got2, err := b.Apply(ctx, []*models.Claim{
				bulkClaim(caseID, "X", "other", &imp.ID), // conflict
				bulkClaim(caseID, "Y", "h2", &imp.ID),    // repeated: stored by this import
			})
			if err != nil {
				t.Fatal(err)
			}
			outs := []store.Outcome{got[0].Outcome, got[1].Outcome, got[2].Outcome, got2[0].Outcome, got2[1].Outcome}
			want := []store.Outcome{store.Unchanged, store.Created, store.Repeated, store.Conflict, store.Repeated}
			for i := range want {
				if outs[i] != want[i] {
					t.Errorf("claim %d: outcome %d, want %d", i, outs[i], want[i])
				}
			}
			if got[0].Reference != "CD-X" || got[1].Reference != "CD-Y" {
				t.Errorf("references %+v", got)
			}
			if err := b.AddErrors(ctx, []models.ImportError{{ImportID: imp.ID, ErrorRow: 3, ErrorCode: "conflict", Raw: "X,홍길동"}}); err != nil {
				t.Fatal(err)
			}
			// Discard the claims, keep the report.
			if err := b.DiscardClaims(ctx); err != nil {
				t.Fatal(err)
			}
			if err := b.AddErrors(ctx, []models.ImportError{{ImportID: imp.ID, ErrorRow: 2, ErrorCode: "required", Raw: "Z,"}}); err != nil {
				t.Fatal(err)
			}
			now := time.Now()
			imp.Status, imp.RowsRead, imp.FinishedAt = store.ImportFailed, 5, &now
			if err := b.FinishImport(ctx, imp); err != nil {
				t.Fatal(err)
			}
			if err := b.Commit(ctx); err != nil {
				t.Fatal(err)
			}
			var n int64
			st.Gorm().Model(&models.Claim{}).Count(&n)
			if n != 1 {
				t.Errorf("%d claims after discarding, want 1", n)
			}
			var rows []string
			st.EachImportError(ctx, imp.ID, func(e *models.ImportError) error { rows = append(rows, e.Raw); return nil })
			if strings.Join(rows, "|") != "Z," {
				t.Errorf("errors kept: %v", rows)
			}
			if got, _ := st.Import(ctx, imp.ID); got.Status != store.ImportFailed || got.RowsRead != 5 {
				t.Errorf("final state %+v", got)
			}
		})
	}
}

func TestJobQueue(t *testing.T) {
	for _, d := range testdb.Dialects() {
		t.Run(d, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			st := casedb.Migrated(t, d)
			now := time.Now()
			for i := range 20 {
				if err := st.InTx(ctx, func(tx *gorm.DB) error { _, err := store.EnqueueJob(tx, "test", int64(i), now); return err }); err != nil {
					t.Fatal(err)
				}
			}
			// Four workers claim at once: every job is taken exactly once.
			var mu sync.Mutex
			seen := map[int64]string{}
			var wg sync.WaitGroup
			for w := range 4 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					name := string(rune('a' + w))
					for {
						j, err := st.ClaimJob(ctx, name, time.Now(), time.Now().Add(time.Minute))
						if err != nil {
							t.Error(err)
							return
						}
						if j == nil {
							return
						}
						mu.Lock()
						if prev, dup := seen[j.RefID]; dup {
							t.Errorf("job %d claimed by %s and %s", j.RefID, prev, name)
						}
						seen[j.RefID] = name
						mu.Unlock()
					}
				}()
			}
			wg.Wait()
			if len(seen) != 20 {
				t.Fatalf("%d jobs claimed, want 20", len(seen))
			}
			if n, _ := st.PendingJobs(ctx); n != 20 {
				t.Errorf("pending %d", n)
			}

			// A job whose lease ran out is taken over; its old worker loses it. (The 20 are
			// claimed until a minute after now: job 99 is the one due.)
			if err := st.InTx(ctx, func(tx *gorm.DB) error { _, err := store.EnqueueJob(tx, "test", 99, now); return err }); err != nil {
				t.Fatal(err)
			}
			j, err := st.ClaimJob(ctx, "dead", now, now.Add(time.Second))
			if err != nil || j == nil || j.RefID != 99 || j.Attempts != 1 {
				t.Fatalf("claim of job 99: %+v %v", j, err)
			}
			if got, _ := st.ClaimJob(ctx, "alive", now, now.Add(time.Minute)); got != nil {
				t.Fatalf("a job under lease was claimed: %+v", got)
			}
			later := now.Add(2 * time.Second)
			got, err := st.ClaimJob(ctx, "alive", later, later.Add(time.Minute))
			if err != nil || got == nil || got.ID != j.ID || got.Attempts != 2 {
				t.Fatalf("expired lease not taken over: %+v %v", got, err)
			}
			if err := st.ExtendJobLease(ctx, j.ID, "dead", later.Add(time.Minute)); err != store.ErrLeaseLost {
				t.Errorf("old worker kept its lease: %v", err)
			}
			if err := st.FinishJob(ctx, j.ID, "alive", later, io.ErrUnexpectedEOF, later.Add(time.Hour)); err != nil {
				t.Fatal(err)
			}
			if got, _ := st.ClaimJob(ctx, "alive", later, later.Add(time.Minute)); got != nil {
				t.Errorf("a job was claimed before its retry time: %+v", got)
			}
			if err := st.ReleaseRunningJobs(ctx); err != nil {
				t.Fatal(err)
			}
			if got, _ := st.ClaimJob(ctx, "x", later, later.Add(time.Minute)); got == nil {
				t.Error("released jobs cannot be claimed")
			}
		})
	}
}

// On PostgreSQL a change of windows that would wait for a long import gives up after
// CaseLockWait with case_busy, and single claims queued behind it are stalled no longer than
// that. (SQLite has one writer at a time anyway: the change waits for the busy timeout.)
func TestWindowChangeGivesWayToImport(t *testing.T) {
	ctx := context.Background()
	st := casedb.Migrated(t, "postgres")
	_, caseID := newImport(t, st)
	rev := revision(t, st)
	b, err := st.BeginBulk(ctx, caseID, rev, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Rollback()
	if _, err := b.Apply(ctx, []*models.Claim{bulkClaim(caseID, "W", "h", nil)}); err != nil {
		t.Fatal(err)
	}
	cs, err := st.Case(ctx, seed.Kakao2022)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	changed := make(chan error, 1)
	go func() {
		changed <- sameWindows(st, cs, nil)
	}()
	time.Sleep(300 * time.Millisecond) // the change is waiting now; a claim queues behind it
	single := bulkClaim(caseID, "S", "s", nil)
	single.Channel = "api"
	if _, created, err := st.CreateClaim(ctx, single, rev, nil); err != nil || !created {
		t.Fatalf("single claim behind the waiting change: %v %v", created, err)
	}
	if waited := time.Since(start); waited > store.CaseLockWait+2*time.Second {
		t.Errorf("a single claim waited %v behind the change", waited)
	}
	err = <-changed
	var ae *apperr.Error
	if !errors.As(err, &ae) || ae.Code != apperr.Unavailable || ae.Message != "case_busy" {
		t.Fatalf("change during an import: %v, want unavailable case_busy", err)
	}
	if revision(t, st) != rev {
		t.Error("the refused change moved the revision")
	}
	// Once the import is done, the same change goes through.
	if err := b.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if err := sameWindows(st, cs, nil); err != nil {
		t.Fatal(err)
	}
}

// sameWindows replaces the windows of cs with the same windows (a change of revision that
// decides nothing differently); seen, when set, sees each claim the change re-decides.
func sameWindows(st *store.Store, cs *store.Case, seen func(*models.Claim)) error {
	_, _, err := st.ReplaceWindows(context.Background(), cs.ID, nil, append([]models.OutageWindow(nil), cs.Windows...),
		func([]models.OutageWindow) store.Reevaluate {
			return func(c *models.Claim) int {
				if seen != nil {
					seen(c)
				}
				return 0
			}
		},
		func(int, int) (*models.AuditEvent, error) {
			return &models.AuditEvent{At: time.Now().UTC(), ActorKind: "system", Action: "update", Entity: "windows", EntityID: "test"}, nil
		})
	return err
}

// Claims stored in bulk wait for their duplicate and fraud pass like single claims: marked in
// the same transaction, so a pass lost after the commit is found by the sweep.
func TestBulkMarksReviewsPending(t *testing.T) {
	for _, d := range testdb.Dialects() {
		t.Run(d, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			st := casedb.Migrated(t, d)
			imp, caseID := newImport(t, st)
			b, err := st.BeginBulk(ctx, caseID, revision(t, st), &imp.ID)
			if err != nil {
				t.Fatal(err)
			}
			cs := []*models.Claim{bulkClaim(caseID, "P1", "h1", &imp.ID), bulkClaim(caseID, "P2", "h2", &imp.ID)}
			if _, err := b.Apply(ctx, cs); err != nil {
				t.Fatal(err)
			}
			if err := b.Commit(ctx); err != nil {
				t.Fatal(err)
			}
			pending, err := st.PendingReviews(ctx, time.Time{}, 100)
			if err != nil || len(pending) != 2 || pending[0].ClaimID != cs[0].ID || pending[1].ClaimID != cs[1].ID || pending[0].CaseID != caseID {
				t.Fatalf("pending %+v (%v), want claims %d and %d", pending, err, cs[0].ID, cs[1].ID)
			}
			if err := st.ImportReviewsDone(ctx, imp.ID); err != nil {
				t.Fatal(err)
			}
			if pending, err := st.PendingReviews(ctx, time.Time{}, 100); err != nil || len(pending) != 0 {
				t.Errorf("after the import's pass: %+v (%v)", pending, err)
			}
		})
	}
}

// TestCancelQueuedImportDropsUpload: an import cancelled before it ran gives up its upload
// (personal data) at once; its job finds it cancelled and never reads it.
func TestCancelQueuedImportDropsUpload(t *testing.T) {
	for _, d := range testdb.Dialects() {
		t.Run(d, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			st := casedb.Migrated(t, d)
			imp, _ := newImport(t, st)
			if err := st.AppendImportChunk(ctx, imp.ID, 0, []byte("claim_ref,claimant_name\nA,홍길동\n")); err != nil {
				t.Fatal(err)
			}
			if err := st.QueueImport(ctx, imp.ID, 30, time.Now()); err != nil {
				t.Fatal(err)
			}
			got, err := st.CancelImport(ctx, imp.ID, time.Now())
			if err != nil || got.Status != store.ImportCancelled {
				t.Fatalf("cancel: %+v %v", got, err)
			}
			var chunks int64
			st.Gorm().Model(&models.ImportChunk{}).Where("import_id = ?", imp.ID).Count(&chunks)
			if chunks != 0 {
				t.Errorf("%d chunks of the upload kept after the cancel", chunks)
			}
		})
	}
}

// TestQueueImportClaimed: the CLI's import becomes queued exactly when its claimed job is
// stored, in one transaction; one cancelled while being received is not queued again.
func TestQueueImportClaimed(t *testing.T) {
	for _, d := range testdb.Dialects() {
		t.Run(d, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			st := casedb.Migrated(t, d)
			imp, _ := newImport(t, st)
			// The database refuses the job (as a process killed before storing it would).
			trigger := []string{"CREATE TRIGGER no_jobs BEFORE INSERT ON jobs BEGIN SELECT RAISE(ABORT, 'no jobs'); END"}
			drop := []string{"DROP TRIGGER no_jobs"}
			if d == "postgres" {
				trigger = []string{
					"CREATE FUNCTION no_jobs() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'no jobs'; END $$",
					"CREATE TRIGGER no_jobs BEFORE INSERT ON jobs FOR EACH ROW EXECUTE FUNCTION no_jobs()",
				}
				drop = []string{"DROP TRIGGER no_jobs ON jobs"}
			}
			exec := func(qs []string) {
				for _, q := range qs {
					if err := st.Gorm().Exec(q).Error; err != nil {
						t.Fatal(err)
					}
				}
			}
			exec(trigger)
			now := time.Now()
			if _, err := st.QueueImportClaimed(ctx, imp.ID, 10, "cli", now, now.Add(time.Minute)); err == nil {
				t.Fatal("queued without its job")
			}
			if got, _ := st.Import(ctx, imp.ID); got.Status != store.ImportReceiving {
				t.Errorf("import %s after its job failed to be stored", got.Status)
			}
			exec(drop)
			j, err := st.QueueImportClaimed(ctx, imp.ID, 10, "cli", now, now.Add(time.Minute))
			if err != nil {
				t.Fatal(err)
			}
			got, _ := st.Import(ctx, imp.ID)
			var jobs []models.Job
			st.Gorm().Find(&jobs)
			if got.Status != store.ImportQueued || got.SizeBytes != 10 || len(jobs) != 1 || jobs[0].ID != j.ID ||
				jobs[0].Status != store.JobRunning || jobs[0].LockedBy != "cli" || jobs[0].Attempts != 1 {
				t.Errorf("import %+v, jobs %+v", got, jobs)
			}

			other, _ := newImport(t, st)
			if _, err := st.CancelImport(ctx, other.ID, now); err != nil {
				t.Fatal(err)
			}
			if _, err := st.QueueImportClaimed(ctx, other.ID, 10, "cli", now, now.Add(time.Minute)); !apperr.Is(err, apperr.Conflict) {
				t.Errorf("queue of an import cancelled while received: %v", err)
			}
			if err := st.QueueImport(ctx, other.ID, 10, now); !apperr.Is(err, apperr.Conflict) {
				t.Errorf("queue of an import cancelled while received: %v", err)
			}
		})
	}
}

// commitBulk stores cs in a bulk transaction of its own (an import's, importID, or a batch's).
func commitBulk(t *testing.T, st *store.Store, caseID, rev int64, importID *int64, cs ...*models.Claim) {
	t.Helper()
	ctx := context.Background()
	b, err := st.BeginBulk(ctx, caseID, rev, importID)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Rollback()
	if _, err := b.Apply(ctx, cs); err != nil {
		t.Fatal(err)
	}
	if err := b.Commit(ctx); err != nil {
		t.Fatal(err)
	}
}

// TestBatchWaitsForCaseChange: on PostgreSQL a batch waits for a change of the case's windows or
// rules as long as the change holds the case's lock (it re-values every item of the case in its
// transaction), then finds the case moved on (ErrStale) and is decided again. Only its waits for
// rows and index entries are bounded (5 s, as a single claim's). The bound used to be set
// before the case's lock, and a batch behind a change of more than 5 s failed with 503.
func TestBatchWaitsForCaseChange(t *testing.T) {
	ctx := context.Background()
	st := casedb.Migrated(t, "postgres")
	_, caseID := newImport(t, st)
	rev := revision(t, st)
	cs, err := st.Case(ctx, seed.Kakao2022)
	if err != nil {
		t.Fatal(err)
	}
	holding, release := make(chan struct{}), make(chan struct{})
	changed := make(chan error, 1)
	go func() {
		_, _, err := st.ReplaceWindows(ctx, cs.ID, nil, append([]models.OutageWindow(nil), cs.Windows...),
			func([]models.OutageWindow) store.Reevaluate { return func(*models.Claim) int { return 0 } },
			func(int, int) (*models.AuditEvent, error) {
				close(holding) // the change holds the case's lock until it commits
				<-release
				return &models.AuditEvent{At: time.Now().UTC(), ActorKind: "system", Action: "update", Entity: "windows", EntityID: "test"}, nil
			})
		changed <- err
	}()
	select {
	case <-holding:
	case err := <-changed:
		t.Fatalf("change: %v", err)
	}
	begun := make(chan error, 1)
	go func() {
		b, err := st.BeginBulk(ctx, caseID, rev, nil)
		if err == nil {
			b.Rollback()
		}
		begun <- err
	}()
	select {
	case err := <-begun:
		close(release)
		t.Fatalf("a batch behind a change of the windows answered before the change ended: %v", err)
	case <-time.After(6 * time.Second): // past the bound of a batch's waits for rows
	}
	close(release)
	if err := <-changed; err != nil {
		t.Fatal(err)
	}
	if err := <-begun; !errors.Is(err, store.ErrStale) {
		t.Fatalf("batch after the change: %v, want ErrStale", err)
	}
}

// TestBulkConcurrentWrite: on PostgreSQL a bulk write that loses the race for an external_ref to
// a concurrent writer fails with ErrConcurrentWrite, unavailable to a client (503), and finds
// the claim stored when it is run again.
func TestBulkConcurrentWrite(t *testing.T) {
	ctx := context.Background()
	st := casedb.Migrated(t, "postgres")
	_, caseID := newImport(t, st)
	rev := revision(t, st)
	first, err := st.BeginBulk(ctx, caseID, rev, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer first.Rollback()
	if _, err := first.Apply(ctx, []*models.Claim{bulkClaim(caseID, "R", "h", nil)}); err != nil {
		t.Fatal(err)
	}
	second, err := st.BeginBulk(ctx, caseID, rev, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer second.Rollback()
	applied := make(chan error, 1)
	go func() {
		_, err := second.Apply(ctx, []*models.Claim{bulkClaim(caseID, "R", "h", nil)})
		applied <- err
	}()
	// The second writer did not find R (not committed) and waits on its index entry.
	for deadline := time.Now().Add(4 * time.Second); ; {
		var waiting int64
		if err := st.Gorm().Raw("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'").Scan(&waiting).Error; err != nil {
			t.Fatal(err)
		}
		if waiting > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the second writer does not wait for the first")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err := first.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	err = <-applied
	if !errors.Is(err, store.ErrConcurrentWrite) || !apperr.Is(err, apperr.Unavailable) {
		t.Fatalf("write that lost the race: %v, want ErrConcurrentWrite, unavailable", err)
	}
	second.Rollback()
	again, err := st.BeginBulk(ctx, caseID, rev, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer again.Rollback()
	if out, err := again.Apply(ctx, []*models.Claim{bulkClaim(caseID, "R", "h", nil)}); err != nil || out[0].Outcome != store.Unchanged {
		t.Fatalf("run again: %+v %v, want unchanged", out, err)
	}
}
