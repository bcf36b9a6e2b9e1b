package store

import (
	"context"
	"database/sql"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/claimdesk/claimdesk/damages"
	"github.com/claimdesk/claimdesk/internal/lifecycle"
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
// makes of it (nil: none, for seeding), in one transaction, and returns it. The next version
// is read after bumpRevision, which orders changes of the case (the case's lock on PostgreSQL,
// the write lock on SQLite), so two writers never take the same one. With ifRevision, as
// bumpRevision.
func (s *Store) CreateRuleSet(ctx context.Context, caseID int64, ifRevision *int64, rules, by string, audited func(*models.RuleSet) (*models.AuditEvent, error)) (*models.RuleSet, error) {
	rs := &models.RuleSet{CaseID: caseID, Rules: rules, CreatedBy: by, CreatedAt: time.Now().UTC().Truncate(time.Microsecond)}
	return rs, s.InTx(ctx, func(tx *gorm.DB) error {
		if err := bumpRevision(tx, s.dialect, caseID, ifRevision); err != nil {
			return err
		}
		var maxVersion sql.NullInt64
		if err := tx.Model(&models.RuleSet{}).Where("case_id = ?", caseID).Select("MAX(version)").Scan(&maxVersion).Error; err != nil {
			return err
		}
		rs.Version = int(maxVersion.Int64) + 1
		return createAudited(tx, rs, audited)
	})
}

// Valuation is what the claims of a case are to be valued under: the active rules' version
// and, when those rules leave as_of open (valued as of "today"), that day in the case's zone
// (YYYY-MM-DD). A claim is stale when it is valued under another version, or, with as_of
// open, as of a day before OpenAsOf: its interest stopped at the day it was last valued.
type Valuation struct {
	Version  int
	OpenAsOf string // "" when the rules fix as_of
}

// staleWhere is the condition of the stale claims of a case (after "case_id = ? AND").
func (v Valuation) staleWhere() (string, []any) {
	if v.OpenAsOf == "" {
		return "(rules_version IS NULL OR rules_version <> ?)", []any{v.Version}
	}
	// valued_as_of is YYYY-MM-DD: text order is date order.
	return "(rules_version IS NULL OR rules_version <> ? OR valued_as_of IS NULL OR valued_as_of < ?)", []any{v.Version, v.OpenAsOf}
}

// RevalueStale re-evaluates, in batches of their own transactions, every claim of the case
// stale under v, and returns how many it did. fn values as the case's windows and rules were
// at revision (read before them, see claims.Service.RevalueCase). A batch is read and written in
// one transaction, so a claim is never half-valued; a crash loses at most the batch in flight,
// which the next run picks up because it is still stale.
//
// Each batch holds the case's lock as claim inserts do (shared on PostgreSQL, the write lock on
// SQLite) and first checks that the case is still at revision: if the windows or rules changed
// since fn was made, it returns ErrStale (with what earlier batches did) and writes nothing. The
// change revalued every claim itself, under the new windows, in its own transaction; without
// the check a batch read before it committed would write values of the old windows over them,
// stamped with the current rules version (so never stale again). The caller makes fn again
// from the case as it now is and starts over.
func (s *Store) RevalueStale(ctx context.Context, caseID, revision int64, v Valuation, fn Reevaluate) (int, error) {
	done := 0
	var lastID int64
	cond, condArgs := v.staleWhere()
	for {
		// The next batch is found before the lock is taken: the search reads every claim of
		// the case past lastID (the stale condition has no index), and the periodic check
		// that usually finds nothing would otherwise hold intake (SQLite's write lock) or a
		// window change (PostgreSQL's advisory lock) for the whole scan. Under the lock the
		// batch is read again by id, still stale, so a claim valued meanwhile is skipped.
		var ids []int64
		err := s.db.WithContext(ctx).Model(&models.Claim{}).Where("case_id = ? AND id > ?", caseID, lastID).Where(cond, condArgs...).
			Order("id").Limit(revalueBatch).Pluck("id", &ids).Error
		if err != nil || len(ids) == 0 {
			return done, translate(err)
		}
		var n int
		err = s.InTx(ctx, func(tx *gorm.DB) error {
			if err := lockCaseAt(tx, s.dialect, caseID, revision); err != nil {
				return err
			}
			var batch []models.Claim
			err := tx.Preload("Items", orderItems).Where("id IN ?", ids).Where(cond, condArgs...).Order("id").Find(&batch).Error
			if err != nil || len(batch) == 0 {
				return err
			}
			r := &revaluation{tx: tx, dialect: s.dialect, fn: fn}
			if _, _, err := r.batch(batch); err != nil {
				return err
			}
			n = len(batch)
			return nil
		})
		if err != nil {
			return done, err
		}
		done += n
		lastID = ids[len(ids)-1]
		if len(ids) < revalueBatch {
			return done, nil
		}
	}
}

// lockCaseAt holds the case's lock for the rest of tx as a claim insert does, and returns
// ErrStale unless the case is at revision. On PostgreSQL the lock is the advisory lock shared
// (a change of the windows or rules holds it exclusively until it commits, see bumpRevision),
// and the revision is read by a later statement, in a snapshot taken after the lock: a change
// cannot commit while tx runs, and one that committed before is seen. On SQLite tx holds the
// write lock (BEGIN IMMEDIATE), which excludes every change as well.
func lockCaseAt(tx *gorm.DB, dialect Dialect, caseID, revision int64) error {
	if dialect == Postgres {
		if err := tx.Exec("SELECT pg_advisory_xact_lock_shared(?, ?)", caseLockSpace, int32(caseID)).Error; err != nil {
			return err
		}
	}
	var current int64
	if err := tx.Raw("SELECT revision FROM cases WHERE id = ?", caseID).Scan(&current).Error; err != nil {
		return err
	}
	if current != revision {
		return ErrStale
	}
	return nil
}

// ExcludedFromTotals are the statuses of the claims the case's totals leave out: a duplicate
// repeats another claim's loss, and a withdrawn claim is no longer claimed. They are the claims
// the plaintiff list leaves out, so that the case's total and the plaintiffs' total are one sum.
var ExcludedFromTotals = []string{lifecycle.Duplicate, lifecycle.Withdrawn}

// StreamClaims calls fn with the items of each claim of a case that has items and counts in
// its totals (not ExcludedFromTotals), claim by claim in id order, reading the rows in one
// streaming query (memory stays flat however many claims there are). It reads claim_items by
// their case_id, not joined to claims: the few claims left out are looked up once, by
// status. The items slice is reused between calls: fn must not keep it.
func (s *Store) StreamClaims(ctx context.Context, caseID int64, fn func(claimID int64, items []damages.Item) error) error {
	if s.pool != nil {
		return s.streamClaimsPgx(ctx, caseID, fn) // the same rows, decoded by pgx beside fn
	}
	// rebind makes each $1 a ? of its own: the case twice.
	rows, err := s.sqlDB.QueryContext(ctx, s.rebind(streamClaimsQuery), caseID, caseID)
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

// streamClaimsQuery is StreamClaims' query, $1 the case (on SQLite, after rebind, two
// parameters). claims.id is never NULL, so NOT IN means what it says.
var streamClaimsQuery = `SELECT claim_id, position, kind, service, feature, failure, purpose, occurred_at, ended_at,
	expected_fare_krw, alternative_cost_krw, amount_krw, loss_krw, documented
FROM claim_items
WHERE case_id = $1 AND claim_id NOT IN (SELECT id FROM claims WHERE case_id = $1 AND status IN (` + sqlStrings(ExcludedFromTotals) + `))
ORDER BY claim_id, position`

// sqlStrings is a list of SQL string literals of ss, which hold no quote (they are constants).
func sqlStrings(ss []string) string {
	q := make([]string, len(ss))
	for i, s := range ss {
		q[i] = "'" + s + "'"
	}
	return strings.Join(q, ", ")
}

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
