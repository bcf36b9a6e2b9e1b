package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"math/bits"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"gorm.io/gorm"

	"github.com/claimdesk/claimdesk/internal/apperr"
	"github.com/claimdesk/claimdesk/models"
)

// Import statuses. Receiving is internal: the upload is being stored and no job exists yet.
const (
	ImportReceiving = "receiving"
	ImportQueued    = "queued"
	ImportRunning   = "running"
	ImportSucceeded = "succeeded"
	ImportFailed    = "failed"
	ImportCancelled = "cancelled"
)

// JobImport is the job kind that runs an import.
const JobImport = "import"

// ImportChunkSize is the size of the pieces an upload is stored in.
const ImportChunkSize = 1 << 20

// CreateImport stores a new import in status receiving; its upload follows in chunks.
func (s *Store) CreateImport(ctx context.Context, imp *models.Import) error {
	imp.Status = ImportReceiving
	if imp.CreatedAt.IsZero() {
		imp.CreatedAt = time.Now().UTC()
	}
	return translate(s.db.WithContext(ctx).Create(imp).Error)
}

// AppendImportChunk stores piece seq of an upload.
func (s *Store) AppendImportChunk(ctx context.Context, importID int64, seq int, data []byte) error {
	return translate(s.db.WithContext(ctx).Create(&models.ImportChunk{ImportID: importID, Seq: seq, Data: data}).Error)
}

// QueueImport marks a fully stored upload queued and puts its job on the queue, in one
// transaction: an import is queued exactly when its job exists.
func (s *Store) QueueImport(ctx context.Context, importID, size int64, now time.Time) error {
	return s.InTx(ctx, func(tx *gorm.DB) error {
		if err := markQueued(tx, importID, size); err != nil {
			return err
		}
		_, err := EnqueueJob(tx, JobImport, importID, now)
		return err
	})
}

// QueueImportClaimed marks a fully stored upload queued and puts its job on the queue already
// claimed by worker until leaseEnd (the CLI runs it at once), in one transaction: were the
// process killed between the two, the import would stay queued with no job to run it.
func (s *Store) QueueImportClaimed(ctx context.Context, importID, size int64, worker string, now, leaseEnd time.Time) (*models.Job, error) {
	var j *models.Job
	err := s.InTx(ctx, func(tx *gorm.DB) error {
		if err := markQueued(tx, importID, size); err != nil {
			return err
		}
		j = claimedJob(JobImport, importID, worker, now, leaseEnd)
		return tx.Create(j).Error
	})
	if err != nil {
		return nil, err
	}
	return j, nil
}

func markQueued(tx *gorm.DB, importID, size int64) error {
	res := tx.Model(&models.Import{}).Where("id = ? AND status = ?", importID, ImportReceiving).
		Updates(map[string]any{"status": ImportQueued, "size_bytes": size})
	if res.Error != nil {
		return res.Error
	}
	if res.RowsAffected != 1 {
		return apperr.New(apperr.Conflict, "")
	}
	return nil
}

// DeleteImport removes an import and its upload (an upload that did not complete).
func (s *Store) DeleteImport(ctx context.Context, importID int64) error {
	return s.InTx(ctx, func(tx *gorm.DB) error {
		if err := tx.Where("import_id = ?", importID).Delete(&models.ImportChunk{}).Error; err != nil {
			return err
		}
		return tx.Delete(&models.Import{}, importID).Error
	})
}

// Import returns an import, or not_found.
func (s *Store) Import(ctx context.Context, id int64) (*models.Import, error) {
	var imp models.Import
	if err := s.db.WithContext(ctx).Take(&imp, id).Error; err != nil {
		err = translate(err)
		if apperr.Is(err, apperr.NotFound) {
			return nil, &apperr.Error{Code: apperr.NotFound, Message: "import_not_found", Err: err}
		}
		return nil, err
	}
	return &imp, nil
}

// StartImport marks an import running (one more attempt) and returns it. An import that is
// already finished is returned as it is: the caller has nothing to do.
func (s *Store) StartImport(ctx context.Context, id int64, now time.Time) (*models.Import, error) {
	err := s.db.WithContext(ctx).Model(&models.Import{}).Where("id = ? AND status IN ?", id, []string{ImportQueued, ImportRunning}).
		Updates(map[string]any{"status": ImportRunning, "attempts": gorm.Expr("attempts + 1"),
			"started_at": gorm.Expr("COALESCE(started_at, ?)", now.UTC())}).Error
	if err != nil {
		return nil, translate(err)
	}
	return s.Import(ctx, id)
}

// ImportHeartbeat publishes the rows read so far by a running import and reports whether a
// cancel was requested.
func (s *Store) ImportHeartbeat(ctx context.Context, id, rowsRead int64) (cancel bool, err error) {
	db := s.db.WithContext(ctx)
	if err := db.Model(&models.Import{}).Where("id = ? AND status = ?", id, ImportRunning).Update("rows_read", rowsRead).Error; err != nil {
		return false, translate(err)
	}
	var imp models.Import
	if err := db.Select("cancel_requested").Take(&imp, id).Error; err != nil {
		return false, translate(err)
	}
	return imp.CancelRequested, nil
}

// ErrCancelRequested is FinishImport's answer for an import asked to stop (CancelImport
// answered that it will): its transaction must be rolled back and the import ended cancelled.
var ErrCancelRequested = errors.New("import asked to stop")

// EndImport records the final state of an import that wrote nothing (failed before its
// transaction, cancelled) and drops its stored upload. Counters and status come from imp,
// except that an import asked to stop ends cancelled, without a reason, whatever else ended it
// (a file it could not read, a job given up): CancelImport answered that it would, and the
// import's row orders the two as it does for FinishImport. An import that has ended already
// (another worker, on a job presumed dead, committed it) keeps its end. imp is set to what is
// recorded.
func (s *Store) EndImport(ctx context.Context, imp *models.Import) error {
	cols := finalColumns(imp)
	for col, cancelled := range map[string]string{"status": ImportCancelled, "reason": "", "reason_params": ""} {
		cols[col] = gorm.Expr("CASE WHEN cancel_requested THEN ? ELSE ? END", cancelled, cols[col])
	}
	return s.InTx(ctx, func(tx *gorm.DB) error {
		if err := tx.Where("import_id = ?", imp.ID).Delete(&models.ImportChunk{}).Error; err != nil {
			return err
		}
		err := tx.Model(&models.Import{}).Where("id = ? AND status IN ?", imp.ID, []string{ImportQueued, ImportRunning}).Updates(cols).Error
		if err != nil {
			return err
		}
		return tx.Take(imp, imp.ID).Error
	})
}

// DeleteAbandonedUploads removes uploads that never completed (the server died while
// receiving them) and were started before before.
func (s *Store) DeleteAbandonedUploads(ctx context.Context, before time.Time) (int64, error) {
	var n int64
	err := s.InTx(ctx, func(tx *gorm.DB) error {
		old := tx.Model(&models.Import{}).Select("id").Where("status = ? AND created_at < ?", ImportReceiving, before.UTC())
		if err := tx.Where("import_id IN (?)", old).Delete(&models.ImportChunk{}).Error; err != nil {
			return err
		}
		res := tx.Where("status = ? AND created_at < ?", ImportReceiving, before.UTC()).Delete(&models.Import{})
		n = res.RowsAffected
		return res.Error
	})
	return n, err
}

func finalColumns(imp *models.Import) map[string]any {
	return map[string]any{
		"status": imp.Status, "reason": imp.Reason, "reason_params": imp.ReasonParams, "header": imp.Header,
		"rows_read": imp.RowsRead, "claims_created": imp.ClaimsCreated, "claims_unchanged": imp.ClaimsUnchanged,
		"claims_rejected": imp.ClaimsRejected, "rows_rejected": imp.RowsRejected, "finished_at": imp.FinishedAt,
	}
}

// CancelImport cancels a queued import at once, or asks a running one to stop (its worker
// rolls back and records it cancelled). A finished import is a conflict. Asking a running
// import to stop is an UPDATE of its row while it runs, so it is ordered with the worker's
// commit of the outcome (FinishImport, EndImport): either the worker finds the request and
// stores nothing, or the request waits for the commit and finds the import finished.
func (s *Store) CancelImport(ctx context.Context, id int64, now time.Time) (*models.Import, error) {
	var out *models.Import
	err := s.InTx(ctx, func(tx *gorm.DB) error {
		// Statuses only move forward (receiving, queued, running, an end), so this looks again
		// at most a few times.
		for {
			var imp models.Import
			if err := tx.Take(&imp, id).Error; err != nil {
				if errors.Is(err, gorm.ErrRecordNotFound) {
					return &apperr.Error{Code: apperr.NotFound, Message: "import_not_found", Err: err}
				}
				return err
			}
			switch imp.Status {
			case ImportQueued, ImportReceiving:
				t := now.UTC()
				// Only in the status read: a worker may have started it meanwhile (PostgreSQL),
				// and must then be asked to stop rather than lose its upload under its feet.
				res := tx.Model(&models.Import{}).Where("id = ? AND status = ?", id, imp.Status).
					Updates(map[string]any{"status": ImportCancelled, "finished_at": t, "cancel_requested": true})
				if res.Error != nil {
					return res.Error
				}
				if res.RowsAffected == 0 {
					continue
				}
				imp.Status, imp.FinishedAt, imp.CancelRequested = ImportCancelled, &t, true
				// The job finds the import cancelled and ends at once, without reading the
				// upload: it goes now (personal data is not kept past its use), as EndImport
				// drops it for an import cancelled while running. Chunks of an upload still
				// being received may follow; its receiver then finds the import cancelled
				// and deletes it all.
				if err := tx.Where("import_id = ?", id).Delete(&models.ImportChunk{}).Error; err != nil {
					return err
				}
			case ImportRunning:
				imp.CancelRequested = true
				// Only while it still runs: it may commit its outcome under our feet.
				res := tx.Model(&models.Import{}).Where("id = ? AND status = ?", id, ImportRunning).Update("cancel_requested", true)
				if res.Error != nil {
					return res.Error
				}
				if res.RowsAffected == 0 {
					return &apperr.Error{Code: apperr.Conflict, Message: "import_finished"}
				}
			default:
				return &apperr.Error{Code: apperr.Conflict, Message: "import_finished"}
			}
			out = &imp
			return nil
		}
	})
	return out, err
}

// OpenUpload returns the stored upload of an import as one stream, read chunk by chunk.
func (s *Store) OpenUpload(ctx context.Context, importID int64) io.Reader {
	return &uploadReader{ctx: ctx, s: s, id: importID}
}

type uploadReader struct {
	ctx  context.Context
	s    *Store
	id   int64
	seq  int
	buf  []byte
	done bool
}

func (r *uploadReader) Read(p []byte) (int, error) {
	for len(r.buf) == 0 {
		if r.done {
			return 0, io.EOF
		}
		var chunks []models.ImportChunk
		err := r.s.db.WithContext(r.ctx).Where("import_id = ? AND seq = ?", r.id, r.seq).Limit(1).Find(&chunks).Error
		if err != nil {
			return 0, translate(err)
		}
		if len(chunks) == 0 {
			r.done = true
			continue
		}
		r.buf = chunks[0].Data
		r.seq++
	}
	n := copy(p, r.buf)
	r.buf = r.buf[n:]
	return n, nil
}

// EachImportError calls fn for every rejected-row record of an import, in order.
func (s *Store) EachImportError(ctx context.Context, importID int64, fn func(*models.ImportError) error) error {
	rows, err := s.db.WithContext(ctx).Model(&models.ImportError{}).Where("import_id = ?", importID).Order("id").Rows()
	if err != nil {
		return translate(err)
	}
	defer rows.Close()
	for rows.Next() {
		var e models.ImportError
		if err := s.db.ScanRows(rows, &e); err != nil {
			return translate(err)
		}
		if err := fn(&e); err != nil {
			return err
		}
	}
	return translate(rows.Err())
}

// Outcome is what a bulk write did with one claim.
type Outcome int

const (
	// Created: the claim was new and is stored.
	Created Outcome = iota
	// Unchanged: a claim with the same external_ref and content is already stored.
	Unchanged
	// Conflict: a claim with the same external_ref and other content is already stored.
	Conflict
	// Repeated: the same external_ref came earlier in this very import (or batch).
	Repeated
)

// Bulk is one transaction writing many claims at database speed: on PostgreSQL by COPY on a
// pgx transaction, on SQLite by prepared statements. Claims are keyed by (case, external_ref);
// Apply classifies each claim against what is stored with one set-based query per batch.
// A savepoint taken at the start lets DiscardClaims undo every claim while keeping what the
// transaction writes after it (the error report and the final status of an import).
type Bulk struct {
	s        *Store
	caseID   int64
	importID *int64
	pg       pgx.Tx
	sq       *sql.Tx
	ins      *sqliteInserter
}

// BeginBulk starts a bulk transaction for claims of a case decided under revision of the
// case's windows and rules (claims.Builder's Case.Revision), made by an import (importID) or by
// the batch endpoint (nil). It returns ErrStale when the case has moved past revision: the
// caller decides its claims again with a fresh Builder and starts over.
//
// The revision cannot move while the transaction is open, so claims judged under old windows
// are never stored after a change of them: on PostgreSQL the transaction holds the case's
// advisory lock shared (as insertClaimsPG does for a group of single claims) until it ends, so a change of the
// windows or rules (bumpRevision, exclusive) waits for a running import or batch to commit,
// then re-decides its claims with the others, or gives up with case_busy after CaseLockWait;
// on SQLite the transaction holds the database's
// write lock from its start (BEGIN IMMEDIATE), which the change needs too (it waits up to the
// busy timeout, then fails with 503 and can be sent again).
//
// On PostgreSQL a batch waits for the case's lock as long as a change holds it, as a single
// claim does, and then at most claimLockWait for each row or index entry it meets.
//
// For an import, the transaction also holds a lock on the import so two workers can never run
// it at once (a worker presumed dead that is still alive waits, then finds the import
// finished). That lock is taken first: a worker waiting for it holds no lock on the case.
func (s *Store) BeginBulk(ctx context.Context, caseID, revision int64, importID *int64) (*Bulk, error) {
	b := &Bulk{s: s, caseID: caseID, importID: importID}
	if s.dialect == Postgres {
		tx, err := s.pool.Begin(ctx)
		if err != nil {
			return nil, translate(err)
		}
		b.pg = tx
		fail := func(err error) (*Bulk, error) { tx.Rollback(context.Background()); return nil, translate(err) }
		if importID != nil {
			if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock($1)", *importID); err != nil {
				return fail(err)
			}
		}
		// Under the shared lock no change of the case can commit; the revision read after it
		// (a later statement: read committed takes a new snapshot) is the one the claims of
		// this transaction are stored under.
		if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock_shared($1, $2)", caseLockSpace, int32(caseID)); err != nil {
			return fail(err)
		}
		var current int64
		if err := tx.QueryRow(ctx, "SELECT revision FROM cases WHERE id = $1", caseID).Scan(&current); err != nil {
			return fail(err)
		}
		if current != revision {
			tx.Rollback(context.Background())
			return nil, ErrStale
		}
		// The claims this transaction writes are not in the planner's statistics (they are not
		// committed), so a lookup by external_ref would soon scan a table it believes small:
		// quadratic over a big import. Index lookups stay right whatever the size.
		setup := "SET LOCAL enable_seqscan = off; "
		if importID == nil {
			// A batch, answered while its client waits, waits for a row or index lock as a
			// single claim does (claimLockWait): on a claim with its external_ref that a
			// running import has written and not committed, it would wait for the import to
			// end. Set only past the case's lock: a change of the windows or rules holds that
			// lock while it re-values every item of the case, and a batch behind it is then
			// told ErrStale and decided again, not refused.
			setup += lockTimeout(claimLockWait, true) + "; "
		}
		// One round trip: a statement without parameters goes by the simple protocol, which
		// takes several statements in one string.
		if _, err := tx.Exec(ctx, setup+"SAVEPOINT bulk_claims"); err != nil {
			return fail(err)
		}
		return b, nil
	}
	tx, err := s.sqlDB.BeginTx(ctx, nil)
	if err != nil {
		return nil, translate(err)
	}
	b.sq = tx
	fail := func(err error) (*Bulk, error) { tx.Rollback(); return nil, translate(err) }
	if err := checkRevisionSQLite(ctx, tx, caseID, revision); err != nil {
		tx.Rollback()
		return nil, err
	}
	if _, err := tx.ExecContext(ctx, "SAVEPOINT bulk_claims"); err != nil {
		return fail(err)
	}
	b.ins = &sqliteInserter{tx: tx}
	return b, nil
}

// sqliteInserter writes claims with their items, pending-review marks and audit records in a
// SQLite transaction (bulk paths and grouped submissions), many rows per statement: a claims
// INSERT maintains a dozen indexes and is costly to compile, so the statements come in few
// shapes that each connection keeps compiled (sqliteConn), and one execution stores many rows.
type sqliteInserter struct{ tx *sql.Tx }

// sqliteParamsPerInsert bounds the bound parameters of one INSERT. It was chosen when the
// driver (glebarez/go-sqlite) bound in time quadratic in the parameters and compiled every
// statement at each execution (a 100,000-row import, BenchmarkImport/sqlite: a row per INSERT
// 6.5 s, 500 rows 17 s, 400 parameters 4.7 s). With modernc's linear binding and the
// statements kept, 4,000 parameters imported 100,000 rows with about 9% less CPU than 400
// (6 runs each, alternated, on a busy machine), but 1,000,000 rows no faster (56.7 s against
// 55.4 s) and with a peak RSS 13 MiB higher (each connection keeps its statements compiled,
// of ten times as many rows). 400 stays.
const sqliteParamsPerInsert = 400

// rows inserts n rows of cols into table, row(i) giving the values of row i.
func (in sqliteInserter) rows(ctx context.Context, table string, cols []string, n int, row func(i int) []any) error {
	return sqliteValues(ctx, in.tx, "INSERT INTO "+table+" ("+strings.Join(cols, ", ")+") VALUES ", "", nil, len(cols), n,
		func(args []any, i int) []any { return append(args, row(i)...) })
}

// sqliteValues runs head + rows of (VALUES) + tail over n rows of cols values each, in
// statements of at most sqliteParamsPerInsert parameters; fixed are the parameters of head,
// bound first. A statement holds as many rows as fit, or, for the rows left over, the largest
// power of two of them: the statement texts come in a handful of shapes per table, each
// compiled once per connection (sqliteConn), whatever the row counts, for at most a few
// statements more per call.
func sqliteValues(ctx context.Context, db gorm.ConnPool, head, tail string, fixed []any, cols, n int, row func(args []any, i int) []any) error {
	one := "(" + placeholders(cols) + ")"
	per := max(1, (sqliteParamsPerInsert-len(fixed))/cols)
	var sb strings.Builder
	args := make([]any, 0, len(fixed)+per*cols)
	for start := 0; start < n; {
		k := min(per, n-start)
		if k < per {
			k = 1 << (bits.Len(uint(k)) - 1)
		}
		end := start + k
		sb.Reset()
		sb.WriteString(head)
		args = append(args[:0], fixed...)
		for i := start; i < end; i++ {
			if i > start {
				sb.WriteString(", ")
			}
			sb.WriteString(one)
			args = row(args, i)
		}
		sb.WriteString(tail)
		if _, err := db.ExecContext(ctx, sb.String(), args...); err != nil {
			return err
		}
		start = end
	}
	return nil
}

// insert writes claims, their items and their pending marks; claims get their ids and items
// their claim's.
// The claims' ids are given, not left to SQLite, so the items can name their claim: the
// transaction holds the write lock, and AUTOINCREMENT would have given the same ones (past
// the largest id ever used).
func (in sqliteInserter) insert(ctx context.Context, cs []*models.Claim) error {
	var last int64
	if err := in.tx.QueryRowContext(ctx, `SELECT MAX(COALESCE((SELECT seq FROM sqlite_sequence WHERE name = 'claims'), 0),
	COALESCE((SELECT MAX(id) FROM claims), 0))`).Scan(&last); err != nil {
		return err
	}
	var items []*models.ClaimItem
	for i, c := range cs {
		c.ID = last + int64(i) + 1
		for j := range c.Items {
			c.Items[j].ClaimID = c.ID
			items = append(items, &c.Items[j])
		}
	}
	if err := in.rows(ctx, "claims", claimColumns, len(cs), func(i int) []any { return claimValues(cs[i]) }); err != nil {
		return err
	}
	if err := in.rows(ctx, "claim_items", itemColumns, len(items), func(i int) []any { return itemValues(items[i]) }); err != nil {
		return err
	}
	return in.rows(ctx, "claim_review_pending", pendingColumns, len(cs), func(i int) []any { return pendingValues(cs[i]) })
}

// record writes audit records.
func (in sqliteInserter) record(ctx context.Context, evs []*models.AuditEvent) error {
	return in.rows(ctx, "audit_events", auditColumns, len(evs), func(i int) []any { return auditValues(evs[i]) })
}

var (
	claimColumns = []string{"id", "case_id", "reference", "access_code_hash", "external_ref", "content_hash", "status", "channel",
		"claimant_name", "claimant_email", "claimant_phone", "claimant_locale", "consent_at", "consent_version", "consent_ip",
		"import_id", "rules_version", "valued_as_of", "principal_krw", "interest_krw", "estimate_krw", "submitted_at", "updated_at"}
	itemColumns = []string{"claim_id", "case_id", "position", "kind", "service", "feature", "occurred_at", "ended_at", "failure",
		"purpose", "expected_fare_krw", "alternative_cost_krw", "amount_krw", "loss_krw", "documented", "description",
		"eligibility", "eligibility_code", "window_id", "principal_krw", "interest_krw"}
	// Every stored claim waits for its duplicate and fraud pass in claim_review_pending, in the
	// transaction that stores it (as a single claim does), so a pass lost to a crash is run later.
	pendingColumns = []string{"claim_id", "case_id", "created_at"}
)

// pendingValues is the claim_review_pending row (pendingColumns) of a stored claim.
func pendingValues(c *models.Claim) []any { return []any{c.ID, c.CaseID, c.SubmittedAt.UTC()} }

func placeholders(n int) string { return strings.TrimSuffix(strings.Repeat("?, ", n), ", ") }

func claimValues(c *models.Claim) []any {
	return []any{c.ID, c.CaseID, c.Reference, c.AccessCodeHash, c.ExternalRef, c.ContentHash, c.Status, c.Channel,
		c.ClaimantName, c.ClaimantEmail, c.ClaimantPhone, c.ClaimantLocale, c.ConsentAt.UTC(), c.ConsentVersion, c.ConsentIP,
		c.ImportID, c.RulesVersion, c.ValuedAsOf, c.PrincipalKRW, c.InterestKRW, c.EstimateKRW, c.SubmittedAt.UTC(), c.UpdatedAt.UTC()}
}

func itemValues(it *models.ClaimItem) []any {
	var ended *time.Time
	if it.EndedAt != nil {
		e := it.EndedAt.UTC()
		ended = &e
	}
	return []any{it.ClaimID, it.CaseID, it.Position, it.Kind, it.Service, it.Feature, it.OccurredAt.UTC(), ended, it.Failure,
		it.Purpose, it.ExpectedFareKRW, it.AlternativeCostKRW, it.AmountKRW, it.LossKRW, it.Documented, it.Description,
		it.Eligibility, it.EligibilityCode, it.WindowID, it.PrincipalKRW, it.InterestKRW}
}

type storedRef struct {
	id        int64
	reference string
	hash      string
	importID  *int64
}

// Applied is what a bulk write did with one claim. Reference is the claim's reference when
// it was created or is stored unchanged.
type Applied struct {
	Outcome   Outcome
	Reference string
}

// Apply stores the claims that are new and says, claim by claim, what became of each. Every
// claim must have an external_ref and belong to the case of the Bulk. Stored claims get their
// ID (and their items' ClaimID).
func (b *Bulk) Apply(ctx context.Context, cs []*models.Claim) ([]Applied, error) {
	out := make([]Applied, len(cs))
	if len(cs) == 0 {
		return out, nil
	}
	refs := make([]string, len(cs))
	for i, c := range cs {
		refs[i] = *c.ExternalRef
	}
	stored, err := b.lookup(ctx, refs)
	if err != nil {
		return nil, err
	}
	inBatch := make(map[string]bool, len(cs))
	var fresh []*models.Claim
	for i, c := range cs {
		ref := refs[i]
		prev, ok := stored[ref]
		switch {
		case inBatch[ref]:
			out[i].Outcome = Repeated
		case ok && b.importID != nil && prev.importID != nil && *prev.importID == *b.importID:
			out[i].Outcome = Repeated
		case ok && prev.hash == c.ContentHash:
			out[i] = Applied{Outcome: Unchanged, Reference: prev.reference}
		case ok:
			out[i].Outcome = Conflict
		default:
			out[i] = Applied{Outcome: Created, Reference: c.Reference}
			fresh = append(fresh, c)
		}
		inBatch[ref] = true
	}
	if len(fresh) == 0 {
		return out, nil
	}
	if b.pg != nil {
		err = b.insertPG(ctx, fresh)
	} else {
		err = b.insertSQLite(ctx, fresh)
	}
	return out, err
}

func (b *Bulk) lookup(ctx context.Context, refs []string) (map[string]storedRef, error) {
	out := make(map[string]storedRef, len(refs))
	add := func(scan func(...any) error) error {
		var ref string
		var r storedRef
		if err := scan(&r.id, &r.reference, &ref, &r.hash, &r.importID); err != nil {
			return err
		}
		out[ref] = r
		return nil
	}
	const q = "SELECT id, reference, external_ref, content_hash, import_id FROM claims WHERE case_id = ? AND external_ref "
	if b.pg != nil {
		return out, b.query(ctx, q+"= ANY(?)", []any{b.caseID, refs}, add)
	}
	const max = 500 // well under SQLite's limit of bound parameters
	for len(refs) > 0 {
		part := refs[:min(max, len(refs))]
		refs = refs[len(part):]
		args := make([]any, 0, len(part)+1)
		args = append(args, b.caseID)
		for _, r := range part {
			args = append(args, r)
		}
		if err := b.query(ctx, q+"IN ("+placeholders(len(part))+")", args, add); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// Unstore takes out again the claims this import stored in its transaction under refs, with
// their items and review marks, and returns the number of items each had, by ref (one per
// CSV row). The importer found more rows of their claim_ref further down the file: what it
// stored was not the whole claim. Never committed, they are deleted (a stored claim is only
// ever anonymised). Claims stored by anything else are left alone.
//
// The statements name the claims by id with one parameter whatever their number (inIDs), so
// each has one text: PostgreSQL prepares it once per connection, and SQLite's connection keeps
// it compiled among the bulk's other statements (sqliteConn) rather than one per count.
func (b *Bulk) Unstore(ctx context.Context, refs []string) (map[string]int, error) {
	out := map[string]int{}
	if len(refs) == 0 || b.importID == nil {
		return out, nil
	}
	stored, err := b.lookup(ctx, refs)
	if err != nil {
		return nil, err
	}
	var ids []int64
	refOf := make(map[int64]string, len(stored))
	for ref, r := range stored {
		if r.importID != nil && *r.importID == *b.importID {
			ids = append(ids, r.id)
			refOf[r.id] = ref
			out[ref] = 0
		}
	}
	if len(ids) == 0 {
		return out, nil
	}
	list := b.s.ids(ids)
	err = b.query(ctx, "SELECT claim_id, COUNT(*) FROM claim_items WHERE "+b.s.inIDs("claim_id")+" GROUP BY claim_id", []any{list},
		func(scan func(...any) error) error {
			var id int64
			var n int
			if err := scan(&id, &n); err != nil {
				return err
			}
			out[refOf[id]] = n
			return nil
		})
	if err != nil {
		return nil, err
	}
	for _, q := range []string{
		"DELETE FROM claim_items WHERE " + b.s.inIDs("claim_id"),
		"DELETE FROM claim_review_pending WHERE " + b.s.inIDs("claim_id"),
		"DELETE FROM claims WHERE " + b.s.inIDs("id"),
	} {
		if err := b.exec(ctx, q, list); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func (b *Bulk) insertPG(ctx context.Context, cs []*models.Claim) error {
	rows, err := b.pg.Query(ctx, "SELECT nextval('claims_id_seq') FROM generate_series(1, $1)", len(cs))
	if err != nil {
		return translate(err)
	}
	i := 0
	for rows.Next() {
		if err := rows.Scan(&cs[i].ID); err != nil {
			rows.Close()
			return translate(err)
		}
		i++
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return translate(err)
	}
	n := 0
	for _, c := range cs {
		n += len(c.Items)
	}
	if _, err := b.pg.CopyFrom(ctx, pgx.Identifier{"claims"}, claimColumns, pgx.CopyFromSlice(len(cs), func(i int) ([]any, error) {
		return claimValues(cs[i]), nil
	})); err != nil {
		return bulkError(err)
	}
	ci, ii := 0, 0
	_, err = b.pg.CopyFrom(ctx, pgx.Identifier{"claim_items"}, itemColumns, pgx.CopyFromFunc(func() ([]any, error) {
		for ci < len(cs) && ii >= len(cs[ci].Items) {
			ci, ii = ci+1, 0
		}
		if ci == len(cs) {
			return nil, nil
		}
		it := &cs[ci].Items[ii]
		it.ClaimID = cs[ci].ID
		ii++
		return itemValues(it), nil
	}))
	if err != nil {
		return bulkError(err)
	}
	_, err = b.pg.CopyFrom(ctx, pgx.Identifier{"claim_review_pending"}, pendingColumns, pgx.CopyFromSlice(len(cs), func(i int) ([]any, error) {
		return pendingValues(cs[i]), nil
	}))
	return bulkError(err)
}

func (b *Bulk) insertSQLite(ctx context.Context, cs []*models.Claim) error {
	return bulkError(b.ins.insert(ctx, cs))
}

// ErrConcurrentWrite is a bulk write's answer when a concurrent writer stored one of its
// claims first (a claim with the same external_ref, committed while this transaction looked
// for it): the whole transaction must be run again, and will find the claim stored. It comes
// wrapped as unavailable (503: a client may send the request again); errors.Is finds it.
var ErrConcurrentWrite = errors.New("a concurrent writer stored one of the claims first")

// bulkError translates a failed bulk insert: a unique violation is ErrConcurrentWrite.
func bulkError(err error) error {
	if err != nil && isUniqueViolation(err) {
		return apperr.Wrap(apperr.Unavailable, "", fmt.Errorf("%w: %w", ErrConcurrentWrite, err))
	}
	return translate(err)
}

// DiscardClaims undoes every claim written so far (dry run, too many errors).
func (b *Bulk) DiscardClaims(ctx context.Context) error {
	return b.exec(ctx, "ROLLBACK TO SAVEPOINT bulk_claims")
}

// AddErrors writes rejected-row records of the import.
func (b *Bulk) AddErrors(ctx context.Context, errs []models.ImportError) error {
	if len(errs) == 0 {
		return nil
	}
	if b.pg != nil {
		_, err := b.pg.CopyFrom(ctx, pgx.Identifier{"import_errors"},
			[]string{"import_id", "error_row", "error_column", "error_code", "message_key", "params", "raw"},
			pgx.CopyFromSlice(len(errs), func(i int) ([]any, error) {
				e := &errs[i]
				return []any{e.ImportID, e.ErrorRow, e.ErrorColumn, e.ErrorCode, e.MessageKey, e.Params, e.Raw}, nil
			}))
		return translate(err)
	}
	for i := range errs {
		e := &errs[i]
		if _, err := b.sq.ExecContext(ctx, "INSERT INTO import_errors (import_id, error_row, error_column, error_code, message_key, params, raw) VALUES (?, ?, ?, ?, ?, ?, ?)",
			e.ImportID, e.ErrorRow, e.ErrorColumn, e.ErrorCode, e.MessageKey, e.Params, e.Raw); err != nil {
			return translate(err)
		}
	}
	return nil
}

// FinishImport records the final status and counters of the import in the transaction, so
// they commit together with its claims, and drops the stored upload. It returns
// ErrCancelRequested, writing nothing, when the import was asked to stop: then nothing of it
// may be stored.
//
// The import's row orders this with CancelImport, so that a cancel answered "stopping" and an
// outcome committed never both happen. On PostgreSQL the UPDATE below holds the row until
// the commit: a cancel request committed first makes it match nothing; one that comes later
// waits for the commit, then finds the import no longer running (409). On SQLite the
// transaction holds the write lock from its start, so a cancel request is wholly before or
// after it.
func (b *Bulk) FinishImport(ctx context.Context, imp *models.Import) error {
	cols := finalColumns(imp)
	var fin any
	if imp.FinishedAt != nil {
		fin = imp.FinishedAt.UTC()
	}
	args := []any{cols["status"], cols["reason"], cols["reason_params"], cols["header"], cols["rows_read"], cols["claims_created"],
		cols["claims_unchanged"], cols["claims_rejected"], cols["rows_rejected"], fin, imp.ID}
	const q = `UPDATE imports SET status = ?, reason = ?, reason_params = ?, header = ?, rows_read = ?, claims_created = ?,
		claims_unchanged = ?, claims_rejected = ?, rows_rejected = ?, finished_at = ? WHERE id = ? AND NOT cancel_requested`
	n, err := b.execCount(ctx, q, args...)
	if err != nil {
		return err
	}
	if n == 0 {
		return ErrCancelRequested
	}
	// The upload is not needed any more (rejected rows are kept in import_errors): personal
	// data is not kept longer than its use.
	return b.exec(ctx, "DELETE FROM import_chunks WHERE import_id = ?", imp.ID)
}

// query runs q (with ? placeholders) and calls fn with the scanner of each row it returns.
func (b *Bulk) query(ctx context.Context, q string, args []any, fn func(scan func(...any) error) error) error {
	var rows interface {
		Next() bool
		Scan(...any) error
		Err() error
	}
	if b.pg != nil {
		r, err := b.pg.Query(ctx, dollarParams(q), args...)
		if err != nil {
			return translate(err)
		}
		defer r.Close()
		rows = r
	} else {
		r, err := b.sq.QueryContext(ctx, q, args...)
		if err != nil {
			return translate(err)
		}
		defer r.Close()
		rows = r
	}
	for rows.Next() {
		if err := fn(rows.Scan); err != nil {
			return translate(err)
		}
	}
	return translate(rows.Err())
}

func (b *Bulk) exec(ctx context.Context, q string, args ...any) error {
	_, err := b.execCount(ctx, q, args...)
	return err
}

// execCount runs q and returns the number of rows it changed.
func (b *Bulk) execCount(ctx context.Context, q string, args ...any) (int64, error) {
	if b.pg != nil {
		tag, err := b.pg.Exec(ctx, dollarParams(q), args...)
		return tag.RowsAffected(), translate(err)
	}
	res, err := b.sq.ExecContext(ctx, q, args...)
	if err != nil {
		return 0, translate(err)
	}
	n, err := res.RowsAffected()
	return n, translate(err)
}

// dollarParams turns ? placeholders into $1, $2... for pgx.
func dollarParams(q string) string {
	var sb strings.Builder
	n := 0
	for i := 0; i < len(q); i++ {
		if q[i] == '?' {
			n++
			sb.WriteString("$")
			sb.WriteString(strconv.Itoa(n))
			continue
		}
		sb.WriteByte(q[i])
	}
	return sb.String()
}

// Commit ends the transaction, keeping what it wrote.
func (b *Bulk) Commit(ctx context.Context) error {
	if b.pg != nil {
		return translate(b.pg.Commit(ctx))
	}
	return translate(b.sq.Commit())
}

// Rollback ends the transaction, undoing everything. Safe after Commit.
func (b *Bulk) Rollback() {
	if b.pg != nil {
		b.pg.Rollback(context.Background())
		return
	}
	b.sq.Rollback()
}

// AnalyzeClaims refreshes the planner's statistics of the claim tables on PostgreSQL, after a
// bulk write that changed their size a lot: queries planned right after it (duplicate and
// fraud detection over the new claims) would otherwise be planned for tables the planner
// believes small, and run for minutes instead of seconds. Autovacuum would do it too, later.
// SQLite keeps no statistics unless asked (ANALYZE was never run), so there is nothing to do.
// Unlike RefreshStats it does not look at pg_stat_user_tables first: the import's own writes
// reach those counters only when its backend flushes them (up to a second or more after the
// commit), so right after an import they would say nothing changed.
func (s *Store) AnalyzeClaims(ctx context.Context) error {
	if s.dialect != Postgres {
		return nil
	}
	return s.analyze(ctx, "claims", "claim_items")
}

// quickStatsTarget is the statistics target of the analyses claimdesk asks for itself: a sample
// of 3,000 rows instead of PostgreSQL's 30,000. They are there so that a table which grew fast
// is not planned as the small table it was; row counts and rough distributions are all that
// takes, and the full sample costs ten times as much (about 320 ms against 30 ms on 150,000
// items, each time, in the middle of intake). Autovacuum's own analyses, with the full sample,
// follow as usual.
const quickStatsTarget = 10

// analyze runs ANALYZE on tables with the quick statistics target (PostgreSQL only).
func (s *Store) analyze(ctx context.Context, tables ...string) error {
	b := &pgx.Batch{}
	b.Queue("SET default_statistics_target = " + strconv.Itoa(quickStatsTarget))
	b.Queue("ANALYZE " + strings.Join(tables, ", "))
	b.Queue("RESET default_statistics_target")
	return translate(s.pool.SendBatch(ctx, b).Close())
}
