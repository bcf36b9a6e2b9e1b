package store

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"
	"gorm.io/gorm"

	"github.com/claimdesk/claimdesk/internal/apperr"
	"github.com/claimdesk/claimdesk/models"
)

// ErrStale says a claim was decided under a revision of its case's windows and rules that is no
// longer current: decide it again and retry.
var ErrStale = errors.New("case changed since the claim was decided")

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
	if s.dialect == Postgres {
		err = s.insertClaimPG(ctx, c, revision, ev)
	} else {
		err = s.insertClaimSQLite(ctx, c, revision, ev)
	}
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

// insertClaimPG writes a claim and its items in one statement, in one round trip, and only if
// the case is still at revision. The claim is marked pending review in the same statement (see
// claim_review_pending).
func (s *Store) insertClaimPG(ctx context.Context, c *models.Claim, revision int64, ev *models.AuditEvent) error {
	n := len(c.Items)
	var (
		position                              = make([]int32, n)
		kind, service, feature                = make([]string, n), make([]string, n), make([]string, n)
		failure, purpose, description         = make([]string, n), make([]string, n), make([]string, n)
		eligibility, eligibilityCode          = make([]string, n), make([]string, n)
		occurred                              = make([]time.Time, n)
		ended                                 = make([]*time.Time, n)
		fare, alt, amount, loss               = make([]int64, n), make([]int64, n), make([]int64, n), make([]int64, n)
		documented                            = make([]bool, n)
		windowID, itemPrincipal, itemInterest = make([]*int64, n), make([]*int64, n), make([]*int64, n)
	)
	for i := range c.Items {
		it := &c.Items[i]
		position[i], kind[i], service[i], feature[i] = int32(it.Position), it.Kind, it.Service, it.Feature
		occurred[i], ended[i], failure[i], purpose[i] = it.OccurredAt, it.EndedAt, it.Failure, it.Purpose
		fare[i], alt[i], amount[i], loss[i], documented[i] = it.ExpectedFareKRW, it.AlternativeCostKRW, it.AmountKRW, it.LossKRW, it.Documented
		description[i], eligibility[i], eligibilityCode[i] = it.Description, it.Eligibility, it.EligibilityCode
		windowID[i], itemPrincipal[i], itemInterest[i] = it.WindowID, it.PrincipalKRW, it.InterestKRW
	}
	// One round trip: the batch runs as one implicit transaction. The shared advisory lock
	// waits for a change of the case in progress (it holds the exclusive one, see
	// bumpRevision); the insert, a later statement, then reads the revision in a snapshot taken
	// after the lock, so it sees that change and refuses to store a stale claim.
	const q = `WITH k AS (
	SELECT id FROM cases WHERE id = $1 AND revision = $2
), c AS (
	INSERT INTO claims (case_id, reference, access_code_hash, external_ref, content_hash, status, channel,
		claimant_name, claimant_email, claimant_phone, claimant_locale, consent_at, consent_version, consent_ip, import_id,
		rules_version, valued_as_of, principal_krw, interest_krw, estimate_krw, submitted_at, updated_at)
	SELECT k.id, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $22 FROM k
	RETURNING id
), i AS (
	INSERT INTO claim_items (claim_id, case_id, position, kind, service, feature, occurred_at, ended_at, failure, purpose,
		expected_fare_krw, alternative_cost_krw, amount_krw, loss_krw, documented, description, eligibility, eligibility_code,
		window_id, principal_krw, interest_krw)
	SELECT c.id, $1, x.* FROM c, unnest($23::int[], $24::text[], $25::text[], $26::text[], $27::timestamptz[], $28::timestamptz[],
		$29::text[], $30::text[], $31::bigint[], $32::bigint[], $33::bigint[], $34::bigint[], $35::bool[], $36::text[], $37::text[],
		$38::text[], $39::bigint[], $40::bigint[], $41::bigint[]) AS x
), p AS (
	INSERT INTO claim_review_pending (claim_id, case_id, created_at) SELECT c.id, $1, $22 FROM c
)
SELECT id FROM c`
	batch := &pgx.Batch{}
	batch.Queue("SELECT pg_advisory_xact_lock_shared($1, $2)", caseLockSpace, int32(c.CaseID))
	batch.Queue(q, c.CaseID, revision,
		c.Reference, c.AccessCodeHash, c.ExternalRef, c.ContentHash, c.Status, c.Channel,
		c.ClaimantName, c.ClaimantEmail, c.ClaimantPhone, c.ClaimantLocale, c.ConsentAt, c.ConsentVersion, c.ConsentIP, c.ImportID,
		c.RulesVersion, c.ValuedAsOf, c.PrincipalKRW, c.InterestKRW, c.EstimateKRW, c.SubmittedAt,
		position, kind, service, feature, occurred, ended, failure, purpose, fare, alt, amount, loss, documented, description,
		eligibility, eligibilityCode, windowID, itemPrincipal, itemInterest,
	)
	if ev != nil {
		// The audit record joins the same implicit transaction, and is written only if the
		// claim was (a stale claim inserts nothing).
		batch.Queue(`INSERT INTO audit_events (at, actor_kind, actor_id, actor_name, actor_role, ip, request_id, case_id, action, entity, entity_id, before, after, details)
SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14 WHERE EXISTS (SELECT 1 FROM claims WHERE reference = $11)`,
			ev.At, ev.ActorKind, ev.ActorID, ev.ActorName, ev.ActorRole, ev.IP, ev.RequestID, ev.CaseID, ev.Action, ev.Entity, ev.EntityID, ev.Before, ev.After, ev.Details)
	}
	br := s.pool.SendBatch(ctx, batch)
	_, err := br.Exec()
	if err == nil {
		err = br.QueryRow().Scan(&c.ID)
	}
	if err == nil && ev != nil {
		_, err = br.Exec()
	}
	if cerr := br.Close(); err == nil {
		err = cerr
	}
	if errors.Is(err, pgx.ErrNoRows) {
		return ErrStale
	}
	if err != nil {
		return translate(err)
	}
	for i := range c.Items {
		c.Items[i].ClaimID = c.ID
	}
	return nil
}

// insertClaimSQLite writes a claim, its items, its pending-review mark and its audit record in
// one transaction, and only if the case is still at revision.
func (s *Store) insertClaimSQLite(ctx context.Context, c *models.Claim, revision int64, ev *models.AuditEvent) error {
	defer s.writeLock()()
	return s.InTx(ctx, func(tx *gorm.DB) error {
		var current int64
		if err := tx.Model(&models.Case{}).Where("id = ?", c.CaseID).Select("revision").Scan(&current).Error; err != nil {
			return err
		}
		if current != revision {
			return ErrStale
		}
		if err := tx.Create(c).Error; err != nil {
			return err
		}
		if err := tx.Create(&models.ClaimReviewPending{ClaimID: c.ID, CaseID: c.CaseID, CreatedAt: c.SubmittedAt}).Error; err != nil || ev == nil {
			return err
		}
		return RecordTx(tx, ev)
	})
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

// Reevaluate is called for every stored claim of a case (items loaded) when the windows or the
// rules change; it updates the claim and its items in place and returns how many items changed
// eligibility.
type Reevaluate func(c *models.Claim) (eligibilityChanged int)

// ReplaceWindows replaces all windows of a case and re-evaluates every stored claim, and
// records the audit event audited makes of it, in one transaction: readers see either the old
// windows and decisions or the new ones, and no change is committed without its record. It
// returns how many items were re-evaluated and how many changed eligibility.
func (s *Store) ReplaceWindows(ctx context.Context, caseID int64, ws []models.OutageWindow, reeval func(windows []models.OutageWindow) Reevaluate,
	audited func(items, changed int) (*models.AuditEvent, error)) (items, changed int, err error) {
	err = s.InTx(ctx, func(tx *gorm.DB) error {
		if err := bumpRevision(tx, s.dialect, caseID); err != nil {
			return err
		}
		if err := tx.Where("case_id = ?", caseID).Delete(&models.OutageWindow{}).Error; err != nil {
			return err
		}
		for i := range ws {
			ws[i].ID, ws[i].CaseID = 0, caseID
			ws[i].StartAt, ws[i].EndAt = ws[i].StartAt.UTC(), ws[i].EndAt.UTC()
		}
		if len(ws) > 0 {
			if err := tx.Create(&ws).Error; err != nil {
				return err
			}
		}
		if items, changed, err = revalueAll(tx, caseID, reeval(ws)); err != nil {
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

// revalueAll walks every claim of a case in batches and writes back what fn changed.
func revalueAll(tx *gorm.DB, caseID int64, fn Reevaluate) (items, changed int, err error) {
	var batch []models.Claim
	res := tx.Preload("Items", orderItems).Where("case_id = ?", caseID).FindInBatches(&batch, 500, func(btx *gorm.DB, _ int) error {
		for i := range batch {
			c := &batch[i]
			changed += fn(c)
			items += len(c.Items)
			if err := saveValuation(tx, c); err != nil {
				return err
			}
		}
		return nil
	})
	return items, changed, res.Error
}

// saveValuation writes the eligibility and valuation columns of a claim and its items.
func saveValuation(tx *gorm.DB, c *models.Claim) error {
	if err := tx.Model(&models.Claim{}).Where("id = ?", c.ID).Updates(map[string]any{
		"rules_version": c.RulesVersion, "valued_as_of": c.ValuedAsOf,
		"principal_krw": c.PrincipalKRW, "interest_krw": c.InterestKRW, "estimate_krw": c.EstimateKRW,
	}).Error; err != nil {
		return err
	}
	for _, it := range c.Items {
		if err := tx.Model(&models.ClaimItem{}).Where("id = ?", it.ID).Updates(map[string]any{
			"eligibility": it.Eligibility, "eligibility_code": it.EligibilityCode, "window_id": it.WindowID,
			"principal_krw": it.PrincipalKRW, "interest_krw": it.InterestKRW,
		}).Error; err != nil {
			return err
		}
	}
	return nil
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
