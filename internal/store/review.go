package store

import (
	"context"
	"strconv"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/claimdesk/claimdesk/internal/apperr"
	"github.com/claimdesk/claimdesk/models"
)

// Scope names the claims a detection pass looks at: new claims by id, or every claim of an
// import. Passes are set-based: one statement per rule, whatever the number of claims.
type Scope struct {
	CaseID   int64
	ClaimIDs []int64
	ImportID *int64
}

func (sc Scope) empty() bool { return len(sc.ClaimIDs) == 0 && sc.ImportID == nil }

// cond is the scope as a condition on the claims table under alias a.
func (sc Scope) cond(a string) (string, []any) {
	if sc.ImportID != nil {
		return a + ".case_id = ? AND " + a + ".import_id = ?", []any{sc.CaseID, *sc.ImportID}
	}
	return a + ".case_id = ? AND " + a + ".id IN ?", []any{sc.CaseID, sc.ClaimIDs}
}

// tsParam is a placeholder for an instant in a SELECT list (PostgreSQL cannot infer its type
// there).
func (s *Store) tsParam() string {
	if s.dialect == Postgres {
		return "CAST(? AS TIMESTAMPTZ)"
	}
	return "?"
}

// near is "instant column a is within seconds of b", for the dialect.
func (s *Store) near(a, b string, seconds int) (string, []any) {
	if s.dialect == Postgres {
		return a + " BETWEEN " + b + " - make_interval(secs => ?) AND " + b + " + make_interval(secs => ?)", []any{seconds, seconds}
	}
	return "abs(julianday(" + a + ") - julianday(" + b + ")) * 86400 <= ?", []any{seconds}
}

// Duplicate match rules.
const (
	MatchEmail       = "email"
	MatchPhone       = "phone"
	MatchExternalRef = "external_ref"
)

// DetectDuplicates stores candidate pairs between the claims in scope and every other claim of
// the case: the same normalized email or phone with an item of the same service and feature
// within window, or the same external reference (case-insensitively) from another source.
// The later claim of a pair (higher id) is the candidate duplicate; the first is kept by
// default. It returns how many new pairs it found.
func (s *Store) DetectDuplicates(ctx context.Context, sc Scope, window time.Duration, now time.Time) (int64, error) {
	if sc.empty() {
		return 0, nil
	}
	db := s.db.WithContext(ctx)
	now = now.UTC().Truncate(time.Microsecond)
	var total int64
	scope, sargs := sc.cond("n")
	near, nargs := s.near("oi.occurred_at", "ni.occurred_at", int(window/time.Second))
	pair := `CASE WHEN n.id > o.id THEN n.id ELSE o.id END, CASE WHEN n.id > o.id THEN o.id ELSE n.id END`
	for _, col := range []struct{ match, column string }{{MatchEmail, "claimant_email"}, {MatchPhone, "claimant_phone"}} {
		q := `INSERT INTO claim_duplicates (case_id, claim_id, other_claim_id, matched, status, created_at)
SELECT DISTINCT n.case_id, ` + pair + `, CAST(? AS TEXT), 'candidate', ` + s.tsParam() + `
FROM claims n JOIN claims o ON o.case_id = n.case_id AND o.` + col.column + ` = n.` + col.column + ` AND o.id <> n.id AND o.` + col.column + ` <> ''
WHERE ` + scope + ` AND n.` + col.column + ` <> '' AND EXISTS (
	SELECT 1 FROM claim_items ni JOIN claim_items oi ON oi.claim_id = o.id AND oi.service = ni.service AND oi.feature = ni.feature
	WHERE ni.claim_id = n.id AND ` + near + `)
ON CONFLICT DO NOTHING`
		args := append(append([]any{col.match, now}, sargs...), nargs...)
		res := db.Exec(q, args...)
		if res.Error != nil {
			return total, translate(res.Error)
		}
		total += res.RowsAffected
	}
	q := `INSERT INTO claim_duplicates (case_id, claim_id, other_claim_id, matched, status, created_at)
SELECT DISTINCT n.case_id, ` + pair + `, CAST(? AS TEXT), 'candidate', ` + s.tsParam() + `
FROM claims n JOIN claims o ON o.case_id = n.case_id AND lower(o.external_ref) = lower(n.external_ref) AND o.id <> n.id
WHERE ` + scope + ` AND n.external_ref IS NOT NULL AND o.external_ref IS NOT NULL
ON CONFLICT DO NOTHING`
	res := db.Exec(q, append([]any{MatchExternalRef, now}, sargs...)...)
	if res.Error != nil {
		return total, translate(res.Error)
	}
	return total + res.RowsAffected, nil
}

// DuplicatePair is a candidate pair with the rules that matched.
type DuplicatePair struct {
	ClaimID, OtherClaimID int64
	Matched               []string
	Status                string
	DecidedBy             string
	DecidedAt             *time.Time
	CreatedAt             time.Time
	ID                    int64 // the lowest row id of the pair: its cursor
}

// DuplicateFilter selects pairs of a case.
type DuplicateFilter struct {
	CaseID int64
	Status string // candidate, duplicate, not_duplicate; "" all
	Cursor string
	Limit  int
}

// ListDuplicates returns candidate pairs, oldest first, one entry per pair.
func (s *Store) ListDuplicates(ctx context.Context, f DuplicateFilter) ([]DuplicatePair, string, error) {
	q := s.db.WithContext(ctx).Model(&models.ClaimDuplicate{}).Where("case_id = ?", f.CaseID)
	if f.Status != "" {
		q = q.Where("status = ?", f.Status)
	}
	if f.Cursor != "" {
		id, err := decodeCursor(f.Cursor)
		if err != nil {
			return nil, "", err
		}
		q = q.Where("id > ?", id)
	}
	// Enough rows for Limit pairs even when every pair matched every rule.
	var rows []models.ClaimDuplicate
	if err := q.Order("id").Limit(3*f.Limit + 3).Find(&rows).Error; err != nil {
		return nil, "", translate(err)
	}
	var out []DuplicatePair
	index := map[[2]int64]int{}
	for _, r := range rows {
		k := [2]int64{r.ClaimID, r.OtherClaimID}
		if i, ok := index[k]; ok {
			out[i].Matched = append(out[i].Matched, r.Matched)
			continue
		}
		if len(out) == f.Limit {
			break
		}
		index[k] = len(out)
		out = append(out, DuplicatePair{ID: r.ID, ClaimID: r.ClaimID, OtherClaimID: r.OtherClaimID, Matched: []string{r.Matched},
			Status: r.Status, DecidedBy: r.DecidedBy, DecidedAt: r.DecidedAt, CreatedAt: r.CreatedAt})
	}
	// Rows of a pair found later (another rule) are folded in by pair, so a page boundary
	// cannot split one: the cursor is the last row id of the page's pairs.
	next := ""
	if len(out) == f.Limit {
		var last int64
		for _, r := range rows {
			if _, ok := index[[2]int64{r.ClaimID, r.OtherClaimID}]; ok && r.ID > last {
				last = r.ID
			}
		}
		next = encodeCursor(last)
	}
	return out, next, nil
}

// DuplicatesOf returns the pairs a claim is part of.
func (s *Store) DuplicatesOf(ctx context.Context, claimID int64) ([]models.ClaimDuplicate, error) {
	var rows []models.ClaimDuplicate
	err := s.db.WithContext(ctx).Where("claim_id = ? OR other_claim_id = ?", claimID, claimID).Order("id").Find(&rows).Error
	return rows, translate(err)
}

// DecideDuplicate records a lawyer's decision on a pair (every rule row of it) with its audit
// event, in one transaction. A pair already decided is a conflict.
func (s *Store) DecideDuplicate(ctx context.Context, claimID, otherID int64, status, by string, now time.Time, ev *models.AuditEvent) error {
	now = now.UTC().Truncate(time.Microsecond)
	return s.InTx(ctx, func(tx *gorm.DB) error {
		res := tx.Model(&models.ClaimDuplicate{}).Where("claim_id = ? AND other_claim_id = ? AND status = 'candidate'", claimID, otherID).
			Updates(map[string]any{"status": status, "decided_by": by, "decided_at": now})
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			var n int64
			if err := tx.Model(&models.ClaimDuplicate{}).Where("claim_id = ? AND other_claim_id = ?", claimID, otherID).Count(&n).Error; err != nil {
				return err
			}
			if n == 0 {
				return &apperr.Error{Code: apperr.NotFound, Message: "duplicate_not_found"}
			}
			return &apperr.Error{Code: apperr.Conflict, Message: "duplicate_decided"}
		}
		return RecordTx(tx, ev)
	})
}

// Signal rules the store can evaluate set-based.
type SignalRule struct {
	Code   string
	Weight int
	// Count and Window: for a burst rule, the number of claims within Window.
	Count  int
	Window time.Duration
	// Factor and MinKRW: for an amount rule, how far above the median and from what amount.
	Factor float64
	MinKRW int64
	// MinLength: for identical descriptions, the shortest description considered.
	MinLength int
}

// itemValue is what an item claims in won, whatever its kind.
const itemValue = "(i.expected_fare_krw + i.alternative_cost_krw + i.amount_krw + i.loss_krw)"

// insertSignals inserts (claim_id, case_id) rows selected by sel as signals of rule.
func (s *Store) insertSignals(db *gorm.DB, code string, weight int, detail, sel string, now time.Time, args ...any) error {
	q := `INSERT INTO claim_signals (claim_id, case_id, code, weight, detail, created_at)
SELECT DISTINCT x.claim_id, x.case_id, CAST(? AS TEXT), CAST(? AS INT), CAST(? AS TEXT), ` + s.tsParam() + ` FROM (` + sel + `) x
WHERE true
ON CONFLICT (claim_id, code) DO NOTHING`
	return translate(db.Exec(q, append([]any{code, weight, detail, now}, args...)...).Error)
}

// SignalIPBurst raises r on claims in scope, and on the other claims of the burst, when at
// least r.Count claims came from one IP within r.Window of each other.
func (s *Store) SignalIPBurst(ctx context.Context, sc Scope, r SignalRule, now time.Time) error {
	if sc.empty() {
		return nil
	}
	scope, sargs := sc.cond("n")
	near, nargs := s.near("o.submitted_at", "n.submitted_at", int(r.Window/time.Second))
	near2, nargs2 := s.near("m.submitted_at", "n.submitted_at", int(r.Window/time.Second))
	// The <> '' conditions on every side let the partial index claims_case_ip serve each lookup.
	sel := `SELECT o.id AS claim_id, o.case_id FROM claims n JOIN claims o ON o.case_id = n.case_id AND o.consent_ip = n.consent_ip AND o.consent_ip <> '' AND ` + near + `
WHERE ` + scope + ` AND n.consent_ip <> '' AND (SELECT COUNT(*) FROM claims m WHERE m.case_id = n.case_id AND m.consent_ip = n.consent_ip AND m.consent_ip <> '' AND ` + near2 + `) >= ?`
	args := append(append(append(nargs, sargs...), nargs2...), r.Count)
	return s.insertSignals(s.db.WithContext(ctx), r.Code, r.Weight, "", sel, now, args...)
}

// SignalOutsideWindows raises r on claims in scope whose every item is ineligible.
func (s *Store) SignalOutsideWindows(ctx context.Context, sc Scope, r SignalRule, now time.Time) error {
	if sc.empty() {
		return nil
	}
	scope, sargs := sc.cond("n")
	sel := `SELECT n.id AS claim_id, n.case_id FROM claims n WHERE ` + scope + ` AND NOT EXISTS (
	SELECT 1 FROM claim_items i WHERE i.claim_id = n.id AND i.eligibility <> 'ineligible')`
	return s.insertSignals(s.db.WithContext(ctx), r.Code, r.Weight, "", sel, now, sargs...)
}

// SignalSameDescription raises r on claims in scope, and on the claims they share it with,
// when an item's description (at least r.MinLength characters) is word for word the
// description of another claim's item.
func (s *Store) SignalSameDescription(ctx context.Context, sc Scope, r SignalRule, now time.Time) error {
	if sc.empty() {
		return nil
	}
	scope, sargs := sc.cond("n")
	pairs := `FROM claims n JOIN claim_items ni ON ni.claim_id = n.id
JOIN claim_items oi ON oi.case_id = ni.case_id AND oi.description = ni.description AND oi.description <> '' AND oi.claim_id <> ni.claim_id
WHERE ` + scope + ` AND length(ni.description) >= ?`
	sel := `SELECT ni.claim_id, ni.case_id ` + pairs + ` UNION SELECT oi.claim_id, oi.case_id ` + pairs
	args := append(append(append(sargs, r.MinLength), sargs...), r.MinLength)
	return s.insertSignals(s.db.WithContext(ctx), r.Code, r.Weight, "", sel, now, args...)
}

// ServiceMedians returns the median claimed value of the items of each service of a case.
func (s *Store) ServiceMedians(ctx context.Context, caseID int64) (map[string]int64, error) {
	db := s.db.WithContext(ctx)
	type row struct {
		Service string
		N       int64
	}
	var counts []row
	if err := db.Model(&models.ClaimItem{}).Select("service, COUNT(*) AS n").Where("case_id = ?", caseID).Group("service").Scan(&counts).Error; err != nil {
		return nil, translate(err)
	}
	out := make(map[string]int64, len(counts))
	for _, c := range counts {
		var v int64
		q := `SELECT ` + itemValue + ` FROM claim_items i WHERE i.case_id = ? AND i.service = ? ORDER BY 1 LIMIT 1 OFFSET ?`
		if err := db.Raw(q, caseID, c.Service, c.N/2).Row().Scan(&v); err != nil {
			return nil, translate(err)
		}
		out[c.Service] = v
	}
	return out, nil
}

// SignalAmountOutlier raises r on claims in scope with an item claiming more than r.Factor
// times its service's median (and at least r.MinKRW).
func (s *Store) SignalAmountOutlier(ctx context.Context, sc Scope, r SignalRule, medians map[string]int64, now time.Time) error {
	if sc.empty() {
		return nil
	}
	scope, sargs := sc.cond("n")
	for service, m := range medians {
		limit := max(int64(float64(m)*r.Factor), r.MinKRW)
		sel := `SELECT n.id AS claim_id, n.case_id FROM claims n JOIN claim_items i ON i.claim_id = n.id
WHERE ` + scope + ` AND i.service = ? AND ` + itemValue + ` > ?`
		detail := service + " > " + strconv.FormatInt(limit, 10)
		if err := s.insertSignals(s.db.WithContext(ctx), r.Code, r.Weight, detail, sel, now, append(sargs, service, limit)...); err != nil {
			return err
		}
	}
	return nil
}

// IdentityRow is a claim in scope and another claim of the case with the same claimant name.
type IdentityRow struct {
	ClaimID, OtherID  int64
	Email, OtherEmail string
	Phone, OtherPhone string
	CaseID            int64
}

// SameNameClaims returns, for claims in scope, the other claims of the case with the same
// claimant name (at most limit rows): the near-duplicate identity rule compares their contacts.
func (s *Store) SameNameClaims(ctx context.Context, sc Scope, limit int) ([]IdentityRow, error) {
	if sc.empty() {
		return nil, nil
	}
	scope, sargs := sc.cond("n")
	q := `SELECT n.id AS claim_id, o.id AS other_id, n.claimant_email AS email, o.claimant_email AS other_email,
	n.claimant_phone AS phone, o.claimant_phone AS other_phone, n.case_id
FROM claims n JOIN claims o ON o.case_id = n.case_id AND o.claimant_name = n.claimant_name AND o.id <> n.id
WHERE ` + scope + ` LIMIT ?`
	var out []IdentityRow
	return out, translate(s.db.WithContext(ctx).Raw(q, append(sargs, limit)...).Scan(&out).Error)
}

// AddSignals stores signals (a signal already raised on a claim is kept as it was).
func (s *Store) AddSignals(ctx context.Context, sigs []models.ClaimSignal) error {
	if len(sigs) == 0 {
		return nil
	}
	return translate(s.db.WithContext(ctx).Clauses(clause.OnConflict{DoNothing: true}).Create(&sigs).Error)
}

// RescoreClaims sets fraud_score to the sum of the signal weights of the claims in scope and
// of every claim given a signal at now (a burst flags earlier claims too).
func (s *Store) RescoreClaims(ctx context.Context, sc Scope, now time.Time) error {
	if sc.empty() {
		return nil
	}
	scope, sargs := sc.cond("n")
	// One IN over a UNION, not an OR: each side uses its index (an OR scanned the table).
	q := `UPDATE claims SET fraud_score = (SELECT COALESCE(SUM(weight), 0) FROM claim_signals g WHERE g.claim_id = claims.id)
WHERE id IN (SELECT n.id FROM claims n WHERE ` + scope + ` UNION SELECT claim_id FROM claim_signals WHERE case_id = ? AND created_at = ?)`
	return translate(s.db.WithContext(ctx).Exec(q, append(sargs, sc.CaseID, now)...).Error)
}

// SignalsOf returns the signals of claims, by claim id.
func (s *Store) SignalsOf(ctx context.Context, claimIDs []int64) (map[int64][]models.ClaimSignal, error) {
	out := map[int64][]models.ClaimSignal{}
	if len(claimIDs) == 0 {
		return out, nil
	}
	var rows []models.ClaimSignal
	if err := s.db.WithContext(ctx).Where("claim_id IN ?", claimIDs).Order("claim_id, code").Find(&rows).Error; err != nil {
		return nil, translate(err)
	}
	for _, r := range rows {
		out[r.ClaimID] = append(out[r.ClaimID], r)
	}
	return out, nil
}

// Record appends an audit event inside the bulk transaction, so an import's claims and its
// audit record are committed together.
func (b *Bulk) Record(ctx context.Context, e *models.AuditEvent) error {
	return b.exec(ctx, `INSERT INTO audit_events (at, actor_kind, actor_id, actor_name, actor_role, ip, request_id, case_id, action, entity, entity_id, before, after, details)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, e.At.UTC(), e.ActorKind, e.ActorID, e.ActorName, e.ActorRole, e.IP, e.RequestID, e.CaseID,
		e.Action, e.Entity, e.EntityID, e.Before, e.After, e.Details)
}
