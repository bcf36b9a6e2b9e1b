package store

import (
	"context"
	"database/sql"
	"errors"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
	"gorm.io/gorm"

	"github.com/claimdesk/claimdesk/internal/apperr"
	"github.com/claimdesk/claimdesk/models"
)

// ErrStale says a claim was decided under a revision of its case's windows and rules that is no
// longer current: decide it again and retry.
var ErrStale = errors.New("case changed since the claim was decided")

// NewClaim is a claim to store with the audit record of its submission (nil: none).
type NewClaim struct {
	Claim *models.Claim
	Event *models.AuditEvent
}

// CreateClaim stores a claim and its items atomically, if the case is still at revision (the
// windows and rules the claim was decided under); ErrStale otherwise. When the claim has an
// external_ref already used in its case, nothing is written: the stored claim is returned with
// created false if its content hash is the same, and a conflict error otherwise.
//
// ev, when not nil, is the audit event of the submission: it is written in the same
// transaction as the claim, and only when the claim is.
func (s *Store) CreateClaim(ctx context.Context, c *models.Claim, revision int64, ev *models.AuditEvent) (stored *models.Claim, created bool, err error) {
	if c.ExternalRef != nil {
		if prev, err := s.claimByExternalRef(ctx, c.CaseID, *c.ExternalRef); err != nil || prev != nil {
			return sameOrConflict(prev, c, err)
		}
	}
	err = s.CreateClaims(ctx, revision, []NewClaim{{Claim: c, Event: ev}})
	if apperr.Is(err, apperr.Conflict) && c.ExternalRef != nil {
		// Another request with the same external_ref won the race: answer as if we came second.
		prev, err := s.claimByExternalRef(ctx, c.CaseID, *c.ExternalRef)
		if prev == nil && err == nil {
			err = apperr.New(apperr.Conflict, "")
		}
		return sameOrConflict(prev, c, err)
	}
	if err != nil {
		return nil, false, err
	}
	return c, true, nil
}

// CreateClaims stores new claims of one case, each with its items, its pending-review mark
// (see claim_review_pending) and its audit record, in one transaction, if the case is still at
// revision; ErrStale otherwise. All or nothing: one claim refused (a unique external_ref
// taken, say) refuses them all. Stored claims get their ID, and their items their ClaimID.
//
// Many claims in one transaction cost the database far less than one transaction each: one
// statement, one lock of the case, one commit, and one writer where many would contend for the
// same index pages (see claims.Service, which groups concurrent submissions).
func (s *Store) CreateClaims(ctx context.Context, revision int64, cs []NewClaim) error {
	if len(cs) == 0 {
		return nil
	}
	for _, c := range cs[1:] {
		if c.Claim.CaseID != cs[0].Claim.CaseID {
			return errors.New("store: CreateClaims: claims of several cases")
		}
	}
	if s.dialect == Postgres {
		return s.insertClaimsPG(ctx, revision, cs)
	}
	return s.insertClaimsSQLite(ctx, revision, cs)
}

// groupInsertPG stores a group of claims (insertClaimsPG) from arrays, one per column; its
// column lists are those of claimColumns, itemColumns, pendingColumns and auditColumns, which
// the other writers use (TestGroupInsertColumns). Ids come from the sequence first (ids,
// materialized: evaluated once), so items, pending marks and the answer can name each claim by
// its position in the arrays. Nothing is inserted when the case has moved past revision (k is
// empty).
const groupInsertPG = `WITH k AS (
	SELECT id FROM cases WHERE id = $1 AND revision = $2
), ids AS MATERIALIZED (
	SELECT nextval('claims_id_seq') AS id, g AS n FROM k, generate_series(1, $3::bigint) AS g
), c AS (
	INSERT INTO claims (id, case_id, reference, access_code_hash, external_ref, content_hash, status, channel,
		claimant_name, claimant_email, claimant_phone, claimant_locale, consent_at, consent_version, consent_ip, import_id,
		rules_version, valued_as_of, principal_krw, interest_krw, estimate_krw, submitted_at, updated_at)
	SELECT ids.id, $1, x.reference, x.access_code_hash, x.external_ref, x.content_hash, x.status, x.channel,
		x.claimant_name, x.claimant_email, x.claimant_phone, x.claimant_locale, x.consent_at, x.consent_version, x.consent_ip, x.import_id,
		x.rules_version, x.valued_as_of, x.principal_krw, x.interest_krw, x.estimate_krw, x.submitted_at, x.submitted_at
	FROM unnest($4::text[], $5::bytea[], $6::text[], $7::text[], $8::text[], $9::text[], $10::text[], $11::text[], $12::text[],
		$13::text[], $14::timestamptz[], $15::text[], $16::text[], $17::bigint[], $18::int[], $19::text[], $20::bigint[], $21::bigint[],
		$22::bigint[], $23::timestamptz[]) WITH ORDINALITY AS x(reference, access_code_hash, external_ref, content_hash, status, channel,
		claimant_name, claimant_email, claimant_phone, claimant_locale, consent_at, consent_version, consent_ip, import_id,
		rules_version, valued_as_of, principal_krw, interest_krw, estimate_krw, submitted_at, n)
	JOIN ids USING (n)
), i AS (
	INSERT INTO claim_items (claim_id, case_id, position, kind, service, feature, occurred_at, ended_at, failure, purpose,
		expected_fare_krw, alternative_cost_krw, amount_krw, loss_krw, documented, description, eligibility, eligibility_code,
		window_id, principal_krw, interest_krw)
	SELECT ids.id, $1, x.position, x.kind, x.service, x.feature, x.occurred_at, x.ended_at, x.failure, x.purpose,
		x.expected_fare_krw, x.alternative_cost_krw, x.amount_krw, x.loss_krw, x.documented, x.description, x.eligibility,
		x.eligibility_code, x.window_id, x.principal_krw, x.interest_krw
	FROM unnest($24::bigint[], $25::int[], $26::text[], $27::text[], $28::text[], $29::timestamptz[], $30::timestamptz[], $31::text[],
		$32::text[], $33::bigint[], $34::bigint[], $35::bigint[], $36::bigint[], $37::bool[], $38::text[], $39::text[], $40::text[],
		$41::bigint[], $42::bigint[], $43::bigint[]) AS x(n, position, kind, service, feature, occurred_at, ended_at, failure, purpose,
		expected_fare_krw, alternative_cost_krw, amount_krw, loss_krw, documented, description, eligibility, eligibility_code,
		window_id, principal_krw, interest_krw)
	JOIN ids USING (n)
), p AS (
	INSERT INTO claim_review_pending (claim_id, case_id, created_at)
	SELECT ids.id, $1, x.at FROM unnest($23::timestamptz[]) WITH ORDINALITY AS x(at, n) JOIN ids USING (n)
), a AS (
	INSERT INTO audit_events (at, actor_kind, actor_id, actor_name, actor_role, ip, request_id, case_id, action, entity, entity_id, before, after, details)
	SELECT x.* FROM k, unnest($44::timestamptz[], $45::text[], $46::bigint[], $47::text[], $48::text[], $49::text[], $50::text[],
		$51::bigint[], $52::text[], $53::text[], $54::text[], $55::text[], $56::text[], $57::text[]) AS x
)
SELECT id FROM ids ORDER BY n`

// claimLockWait bounds how long the insert of a claim with an external_ref waits for a row or
// index lock on PostgreSQL; past it the insert is refused as unavailable (503, database_busy;
// the client retries). Such a claim waits on the unique index for a claim with its external_ref
// that a running import has written and not committed: minutes. The wait for the case's lock
// (a change of its windows or rules, which may re-value every item) is not bounded.
const claimLockWait = 5 * time.Second

// lockTimeout is the statement that bounds lock waits to d for the rest of the session (or,
// with local, of the transaction).
func lockTimeout(d time.Duration, local bool) string {
	scope := ""
	if local {
		scope = "LOCAL "
	}
	return "SET " + scope + "lock_timeout = " + strconv.FormatInt(d.Milliseconds(), 10)
}

// insertClaimsPG writes claims, their items, pending marks and audit records in one statement,
// in one round trip, and only if the case is still at revision.
func (s *Store) insertClaimsPG(ctx context.Context, revision int64, cs []NewClaim) error {
	var cl claimArrays
	var it itemArrays
	var ev auditArrays
	// Each column's bytes are reserved for the whole group before it is filled: grown from
	// nil, each of the ~54 columns was copied again and again as it filled, for every group.
	items, events := 0, 0
	for _, nc := range cs {
		items += len(nc.Claim.Items)
		if nc.Event != nil {
			events++
		}
	}
	clArgs, itArgs, evArgs := cl.args(), it.args(), ev.args()
	reserve(clArgs, len(cs))
	reserve(itArgs, items)
	reserve(evArgs, events)
	for n, nc := range cs {
		cl.add(nc.Claim)
		for i := range nc.Claim.Items {
			it.add(int64(n+1), &nc.Claim.Items[i])
		}
		if nc.Event != nil {
			ev.add(nc.Event)
		}
	}
	batch := &pgx.Batch{}
	caseID := cs[0].Claim.CaseID
	// The shared advisory lock waits for a change of the case in progress (it holds the
	// exclusive one, see bumpRevision); the insert, a later statement of the same implicit
	// transaction, then reads the revision in a snapshot taken after the lock, so it sees that
	// change and refuses to store stale claims.
	//
	// A custom plan of the statement (PostgreSQL's choice, as the arrays' sizes change its
	// estimates) costs more to make than the insert of a few claims: the generic plan is
	// made once per connection. SET is undone with the transaction if it fails.
	//
	// A claim with an external_ref (stored alone) waits at most claimLockWait for the rows it
	// meets, once it holds the case's lock; a group (none has one) meets none.
	bounded := len(cs) == 1 && cs[0].Claim.ExternalRef != nil
	batch.Queue("SET plan_cache_mode = force_generic_plan")
	batch.Queue("SELECT pg_advisory_xact_lock_shared($1, $2)", caseLockSpace, int32(caseID))
	if bounded {
		batch.Queue(lockTimeout(claimLockWait, false))
	}
	args := append([]any{caseID, revision, len(cs)}, clArgs...)
	args = append(append(args, itArgs...), evArgs...)
	batch.Queue(groupInsertPG, args...)
	batch.Queue("RESET plan_cache_mode")
	if bounded {
		batch.Queue("RESET lock_timeout")
	}
	br := s.pool.SendBatch(ctx, batch)
	before, after := 2, 1 // the statements before the insert and after it
	if bounded {
		before, after = 3, 2
	}
	err := execN(br, before, nil)
	ids := make([]int64, 0, len(cs))
	if err == nil {
		var rows pgx.Rows
		rows, err = br.Query()
		if err == nil {
			ids, err = pgx.AppendRows(ids, rows, pgx.RowTo[int64])
		}
	}
	err = execN(br, after, err)
	if cerr := br.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return translate(err)
	}
	if len(ids) != len(cs) {
		return ErrStale
	}
	for n, nc := range cs {
		nc.Claim.ID = ids[n]
		for i := range nc.Claim.Items {
			nc.Claim.Items[i].ClaimID = ids[n]
		}
	}
	return nil
}

// execN reads the results of the next n statements of br that return no rows, unless err is
// already set; it returns the first error.
func execN(br pgx.BatchResults, n int, err error) error {
	for ; n > 0 && err == nil; n-- {
		_, err = br.Exec()
	}
	return err
}

// claimArrays, itemArrays and auditArrays are rows by column, for unnest, each column an array
// in PostgreSQL's binary format (pgArray).
type claimArrays struct {
	reference, codeHash, externalRef, contentHash, status, channel, name, email, phone, locale,
	consentAt, consentVer, ip, importID, rulesVersion, valuedAsOf, principal, interest, estimate, submittedAt pgArray
}

func (a *claimArrays) add(c *models.Claim) {
	a.reference.text(c.Reference)
	a.codeHash.bytea(c.AccessCodeHash)
	a.externalRef.textPtr(c.ExternalRef)
	a.contentHash.text(c.ContentHash)
	a.status.text(c.Status)
	a.channel.text(c.Channel)
	a.name.text(c.ClaimantName)
	a.email.text(c.ClaimantEmail)
	a.phone.text(c.ClaimantPhone)
	a.locale.text(c.ClaimantLocale)
	a.consentAt.timestamptz(c.ConsentAt)
	a.consentVer.text(c.ConsentVersion)
	a.ip.text(c.ConsentIP)
	a.importID.int8Ptr(c.ImportID)
	a.rulesVersion.int4Ptr(c.RulesVersion)
	a.valuedAsOf.textPtr(c.ValuedAsOf)
	a.principal.int8Ptr(c.PrincipalKRW)
	a.interest.int8Ptr(c.InterestKRW)
	a.estimate.int8Ptr(c.EstimateKRW)
	a.submittedAt.timestamptz(c.SubmittedAt)
}

func (a *claimArrays) args() []any {
	return []any{&a.reference, &a.codeHash, &a.externalRef, &a.contentHash, &a.status, &a.channel, &a.name, &a.email, &a.phone,
		&a.locale, &a.consentAt, &a.consentVer, &a.ip, &a.importID, &a.rulesVersion, &a.valuedAsOf, &a.principal, &a.interest,
		&a.estimate, &a.submittedAt}
}

type itemArrays struct {
	claim, position, kind, service, feature, occurred, ended, failure, purpose, fare, alt, amount, loss, documented,
	description, eligibility, eligCode, windowID, principal, interest pgArray
}

func (a *itemArrays) add(claim int64, it *models.ClaimItem) {
	a.claim.int8(claim)
	a.position.int4(int32(it.Position))
	a.kind.text(it.Kind)
	a.service.text(it.Service)
	a.feature.text(it.Feature)
	a.occurred.timestamptz(it.OccurredAt)
	a.ended.timestamptzPtr(it.EndedAt)
	a.failure.text(it.Failure)
	a.purpose.text(it.Purpose)
	a.fare.int8(it.ExpectedFareKRW)
	a.alt.int8(it.AlternativeCostKRW)
	a.amount.int8(it.AmountKRW)
	a.loss.int8(it.LossKRW)
	a.documented.bool(it.Documented)
	a.description.text(it.Description)
	a.eligibility.text(it.Eligibility)
	a.eligCode.text(it.EligibilityCode)
	a.windowID.int8Ptr(it.WindowID)
	a.principal.int8Ptr(it.PrincipalKRW)
	a.interest.int8Ptr(it.InterestKRW)
}

func (a *itemArrays) args() []any {
	return []any{&a.claim, &a.position, &a.kind, &a.service, &a.feature, &a.occurred, &a.ended, &a.failure, &a.purpose, &a.fare,
		&a.alt, &a.amount, &a.loss, &a.documented, &a.description, &a.eligibility, &a.eligCode, &a.windowID, &a.principal, &a.interest}
}

type auditArrays struct {
	at, kind, actorID, name, role, ip, requestID, caseID, action, entity, entityID, before, after, details pgArray
}

func (a *auditArrays) add(e *models.AuditEvent) {
	a.at.timestamptz(e.At)
	a.kind.text(e.ActorKind)
	a.actorID.int8Ptr(e.ActorID)
	a.name.text(e.ActorName)
	a.role.text(e.ActorRole)
	a.ip.text(e.IP)
	a.requestID.text(e.RequestID)
	a.caseID.int8Ptr(e.CaseID)
	a.action.text(e.Action)
	a.entity.text(e.Entity)
	a.entityID.text(e.EntityID)
	a.before.textPtr(e.Before)
	a.after.textPtr(e.After)
	a.details.text(e.Details)
}

func (a *auditArrays) args() []any {
	return []any{&a.at, &a.kind, &a.actorID, &a.name, &a.role, &a.ip, &a.requestID, &a.caseID, &a.action, &a.entity,
		&a.entityID, &a.before, &a.after, &a.details}
}

// insertClaimsSQLite writes claims, their items, pending marks and audit records in one
// transaction, and only if the case is still at revision.
func (s *Store) insertClaimsSQLite(ctx context.Context, revision int64, cs []NewClaim) error {
	defer s.writeLock()()
	tx, err := s.sqlDB.BeginTx(ctx, nil)
	if err != nil {
		return translate(err)
	}
	defer tx.Rollback()
	if err := checkRevisionSQLite(ctx, tx, cs[0].Claim.CaseID, revision); err != nil {
		return err
	}
	in := sqliteInserter{tx: tx}
	claims := make([]*models.Claim, len(cs))
	var evs []*models.AuditEvent
	for i, nc := range cs {
		claims[i] = nc.Claim
		if nc.Event != nil {
			evs = append(evs, nc.Event)
		}
	}
	if err := in.insert(ctx, claims); err != nil {
		return translate(err)
	}
	if err := in.record(ctx, evs); err != nil {
		return translate(err)
	}
	return translate(tx.Commit())
}

// checkRevisionSQLite returns ErrStale unless the case is at revision. The store opens SQLite
// transactions with BEGIN IMMEDIATE, so tx holds the write lock already and the revision
// cannot move until it ends: reading it is enough (an UPDATE would write the case's page to
// the WAL at every commit).
func checkRevisionSQLite(ctx context.Context, tx *sql.Tx, caseID, revision int64) error {
	var current int64
	if err := tx.QueryRowContext(ctx, "SELECT revision FROM cases WHERE id = ?", caseID).Scan(&current); err != nil {
		return translate(err)
	}
	if current != revision {
		return ErrStale
	}
	return nil
}

func sameOrConflict(prev, c *models.Claim, err error) (*models.Claim, bool, error) {
	if err != nil {
		return nil, false, err
	}
	if prev.ContentHash != c.ContentHash {
		return nil, false, &apperr.Error{Code: apperr.Conflict, Message: "external_ref_conflict"}
	}
	return prev, false, nil
}

func (s *Store) claimByExternalRef(ctx context.Context, caseID int64, ref string) (*models.Claim, error) {
	var c models.Claim
	err := s.db.WithContext(ctx).Preload("Items", orderItems).Where("case_id = ? AND external_ref = ?", caseID, ref).Take(&c).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, translate(err)
	}
	return &c, nil
}

func orderItems(db *gorm.DB) *gorm.DB { return db.Order("position") }

// ClaimByReference loads a claim with its items.
func (s *Store) ClaimByReference(ctx context.Context, reference string) (*models.Claim, error) {
	var c models.Claim
	err := s.db.WithContext(ctx).Preload("Items", orderItems).Where("reference = ?", reference).Take(&c).Error
	if err != nil {
		err = translate(err)
		if apperr.Is(err, apperr.NotFound) {
			return nil, &apperr.Error{Code: apperr.NotFound, Message: "claim_not_found", Err: err}
		}
		return nil, err
	}
	return &c, nil
}

// ReplaceWindows replaces all windows of a case and re-evaluates every stored claim, and
// records the audit event audited makes of it, in one transaction: readers see either the old
// windows and decisions or the new ones, and no change is committed without its record. It
// returns how many items were re-evaluated and how many changed eligibility.
//
// A window of ws keeps the id of the stored window it continues (see continueWindows); the
// others are inserted and the stored windows none continues deleted; revaluation points their
// items at the window that now decides them, or at none.
func (s *Store) ReplaceWindows(ctx context.Context, caseID int64, ifRevision *int64, ws []models.OutageWindow, reeval func(windows []models.OutageWindow) Reevaluate,
	audited func(items, changed int) (*models.AuditEvent, error)) (items, changed int, err error) {
	err = s.InTx(ctx, func(tx *gorm.DB) error {
		if err := bumpRevision(tx, s.dialect, caseID, ifRevision); err != nil {
			return err
		}
		var stored []models.OutageWindow
		if err := tx.Where("case_id = ?", caseID).Order("start_at, id").Find(&stored).Error; err != nil {
			return err
		}
		for i := range ws {
			ws[i].ID, ws[i].CaseID = 0, caseID
			ws[i].StartAt, ws[i].EndAt = ws[i].StartAt.UTC(), ws[i].EndAt.UTC()
		}
		gone, edited := continueWindows(stored, ws)
		if len(gone) > 0 {
			if err := tx.Where("case_id = ? AND id IN ?", caseID, gone).Delete(&models.OutageWindow{}).Error; err != nil {
				return err
			}
		}
		for _, i := range edited {
			if err := tx.Save(&ws[i]).Error; err != nil {
				return err
			}
		}
		var added []*models.OutageWindow // gorm sets their ids through the pointers
		for i := range ws {
			if ws[i].ID == 0 {
				added = append(added, &ws[i])
			}
		}
		if len(added) > 0 {
			if err := tx.Create(&added).Error; err != nil {
				return err
			}
		}
		if items, changed, err = revalueAll(tx, s.dialect, caseID, reeval(ws)); err != nil {
			return err
		}
		ev, err := audited(items, changed)
		if err != nil {
			return err
		}
		return RecordTx(tx, ev)
	})
	return items, changed, err
}

// CaseCounts counts the claims of a case per status and its items per eligibility.
func (s *Store) CaseCounts(ctx context.Context, caseID int64) (byStatus, byEligibility map[string]int64, err error) {
	type row struct {
		Key string
		N   int64
	}
	var rows []row
	db := s.db.WithContext(ctx)
	if err := db.Model(&models.Claim{}).Select("status AS key, COUNT(*) AS n").Where("case_id = ?", caseID).Group("status").Scan(&rows).Error; err != nil {
		return nil, nil, translate(err)
	}
	byStatus = map[string]int64{}
	for _, r := range rows {
		byStatus[r.Key] = r.N
	}
	rows = rows[:0]
	if err := db.Model(&models.ClaimItem{}).Select("eligibility AS key, COUNT(*) AS n").Where("case_id = ?", caseID).Group("eligibility").Scan(&rows).Error; err != nil {
		return nil, nil, translate(err)
	}
	byEligibility = map[string]int64{}
	for _, r := range rows {
		byEligibility[r.Key] = r.N
	}
	return byStatus, byEligibility, nil
}
