package store

import (
	"context"
	"database/sql"
	"time"

	"gorm.io/gorm"

	"github.com/claimdesk/claimdesk/damages"
	"github.com/claimdesk/claimdesk/internal/apperr"
	"github.com/claimdesk/claimdesk/models"
)

// ActiveRules returns the newest rule set of a case (the active one).
func (s *Store) ActiveRules(ctx context.Context, caseID int64) (*models.RuleSet, error) {
	var rs models.RuleSet
	err := s.db.WithContext(ctx).Where("case_id = ?", caseID).Order("version DESC").Limit(1).Take(&rs).Error
	return &rs, translate(err)
}

// RuleSets lists every rule set version of a case, newest first.
func (s *Store) RuleSets(ctx context.Context, caseID int64) ([]models.RuleSet, error) {
	var out []models.RuleSet
	err := s.db.WithContext(ctx).Where("case_id = ?", caseID).Order("version DESC").Find(&out).Error
	return out, translate(err)
}

// CreateRuleSet stores rules as the next version of the case, with the audit event audited
// makes of it (nil: none, for seeding), in one transaction, and returns it. Two concurrent
// writers cannot take the same version: the unique (case_id, version) key makes one of them
// a conflict, and it tries again on top of the other.
func (s *Store) CreateRuleSet(ctx context.Context, caseID int64, rules, by string, audited func(*models.RuleSet) (*models.AuditEvent, error)) (*models.RuleSet, error) {
	for attempt := 0; ; attempt++ {
		rs := &models.RuleSet{CaseID: caseID, Rules: rules, CreatedBy: by, CreatedAt: time.Now().UTC().Truncate(time.Microsecond)}
		err := s.InTx(ctx, func(tx *gorm.DB) error {
			if err := bumpRevision(tx, s.dialect, caseID); err != nil {
				return err
			}
			var maxVersion sql.NullInt64
			if err := tx.Model(&models.RuleSet{}).Where("case_id = ?", caseID).Select("MAX(version)").Scan(&maxVersion).Error; err != nil {
				return err
			}
			rs.Version = int(maxVersion.Int64) + 1
			return createAudited(tx, rs, audited)
		})
		if apperr.Is(err, apperr.Conflict) && attempt < 5 {
			continue
		}
		return rs, err
	}
}

// StaleClaims counts the claims of a case not valued under rules version.
func (s *Store) StaleClaims(ctx context.Context, caseID int64, version int) (int64, error) {
	var n int64
	err := s.db.WithContext(ctx).Model(&models.Claim{}).
		Where("case_id = ? AND (rules_version IS NULL OR rules_version <> ?)", caseID, version).Count(&n).Error
	return n, translate(err)
}

// RevalueStale re-evaluates, in batches of their own transactions, every claim of the case
// not valued under version, and returns how many it did. A batch is read and written in one
// transaction, so a claim is never half-valued; a crash loses at most the batch in flight,
// which the next run picks up because it is still stale.
func (s *Store) RevalueStale(ctx context.Context, caseID int64, version int, fn Reevaluate) (int, error) {
	done := 0
	var lastID int64
	for {
		var n int
		err := s.InTx(ctx, func(tx *gorm.DB) error {
			var batch []models.Claim
			err := tx.Preload("Items", orderItems).
				Where("case_id = ? AND id > ? AND (rules_version IS NULL OR rules_version <> ?)", caseID, lastID, version).
				Order("id").Limit(revalueBatch).Find(&batch).Error
			if err != nil || len(batch) == 0 {
				return err
			}
			r := &revaluation{tx: tx, dialect: s.dialect, fn: fn}
			if _, _, err := r.batch(batch); err != nil {
				return err
			}
			lastID, n = batch[len(batch)-1].ID, len(batch)
			return nil
		})
		if err != nil {
			return done, err
		}
		done += n
		if n < revalueBatch {
			return done, nil
		}
	}
}

// StreamClaims calls fn with the items of each claim of a case that has items, claim by claim
// in id order, reading the rows in one streaming query (memory stays flat however many claims
// there are). It reads claim_items alone (their case_id), not joined to claims. The items
// slice is reused between calls: fn must not keep it.
func (s *Store) StreamClaims(ctx context.Context, caseID int64, fn func(claimID int64, items []damages.Item) error) error {
	if s.pool != nil {
		return s.streamClaimsPgx(ctx, caseID, fn) // the same rows, decoded by pgx beside fn
	}
	rows, err := s.sqlDB.QueryContext(ctx, s.rebind(streamClaimsQuery), caseID)
	if err != nil {
		return translate(err)
	}
	defer rows.Close()
	var (
		items   []damages.Item
		current int64 = -1
	)
	for rows.Next() {
		var (
			claimID  int64
			position int
			it       damages.Item
			ended    sql.NullTime
		)
		if err := rows.Scan(&claimID, &position, &it.Kind, &it.Service, &it.Feature, &it.Failure, &it.Purpose, &it.Period.Start, &ended,
			&it.ExpectedFareKRW, &it.AlternativeCostKRW, &it.AmountKRW, &it.LossKRW, &it.Documented); err != nil {
			return translate(err)
		}
		it.ID = models.ItemNumber(position)
		if ended.Valid {
			it.Period.End = ended.Time
		}
		if claimID != current {
			if current >= 0 {
				if err := fn(current, items); err != nil {
					return err
				}
			}
			current, items = claimID, items[:0]
		}
		items = append(items, it)
	}
	if err := rows.Err(); err != nil {
		return translate(err)
	}
	if current >= 0 {
		return fn(current, items)
	}
	return nil
}

const streamClaimsQuery = `SELECT claim_id, position, kind, service, feature, failure, purpose, occurred_at, ended_at,
	expected_fare_krw, alternative_cost_krw, amount_krw, loss_krw, documented
FROM claim_items
WHERE case_id = $1
ORDER BY claim_id, position`

// rebind turns $1 placeholders into ? for SQLite.
func (s *Store) rebind(q string) string {
	if s.dialect == Postgres {
		return q
	}
	out := make([]byte, 0, len(q))
	for i := 0; i < len(q); i++ {
		if q[i] == '$' && i+1 < len(q) && q[i+1] >= '0' && q[i+1] <= '9' {
			out = append(out, '?')
			for i+1 < len(q) && q[i+1] >= '0' && q[i+1] <= '9' {
				i++
			}
			continue
		}
		out = append(out, q[i])
	}
	return string(out)
}
