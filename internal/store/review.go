package store

import (
	"context"
	"database/sql/driver"
	"maps"
	"slices"
	"strconv"
	"strings"
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
func (s *Store) cond(sc Scope, a string) (string, []any) {
	if sc.ImportID != nil {
		return a + ".case_id = ? AND " + a + ".import_id = ?", []any{sc.CaseID, *sc.ImportID}
	}
	return s.idsCond(sc, a+".case_id", a+".id")
}

// idsCond is "caseColumn is the scope's case and idColumn one of its claim ids". "+ 0" on the
// case keeps the planner from reading the whole case through an index on case_id and filtering
// it by id, which it does when its statistics are older than the case's growth: the ids go
// straight to their index.
func (s *Store) idsCond(sc Scope, caseColumn, idColumn string) (string, []any) {
	return caseColumn + " + 0 = ? AND " + s.inIDs(idColumn), []any{sc.CaseID, s.ids(sc.ClaimIDs)}
}

// inIDs is "column is one of the ids" for the dialect, with one placeholder for ids (the value
// of s.ids): the statement's text is the same whatever their number. On PostgreSQL each
// detection statement is then prepared and planned once per connection instead of at every
// batch (planning was a fifth of detection's time); on SQLite the statements executed
// (rescoring, the pending list) keep one shape each, which sqliteConn keeps compiled, where a
// list of placeholders made a new statement for every batch size. SQLite's searches are
// queries and are still compiled at each call. PostgreSQL takes one array parameter, SQLite a
// JSON array read by json_each (its ids are looked up one by one by rowid, as an IN list's
// were).
func (s *Store) inIDs(column string) string {
	if s.dialect == Postgres {
		return column + " = ANY(CAST(? AS BIGINT[]))"
	}
	return column + " IN (SELECT value FROM json_each(?))"
}

// ids is the value of inIDs's placeholder.
func (s *Store) ids(ids []int64) any {
	if s.dialect == Postgres {
		return pgIDs(ids)
	}
	b := make([]byte, 0, 2+8*len(ids))
	b = append(b, '[')
	for i, id := range ids {
		if i > 0 {
			b = append(b, ',')
		}
		b = strconv.AppendInt(b, id, 10)
	}
	return string(append(b, ']'))
}

// pgIDs is ids as one PostgreSQL array parameter (gorm would spread a slice into a list, but
// passes a driver.Valuer as it is). Its value is the slice itself: pgx takes any value through
// database/sql (stdlib.Conn.CheckNamedValue) and encodes an []int64 as a binary array, where an
// array literal would have been parsed and encoded again on every call.
type pgIDs []int64

func (l pgIDs) Value() (driver.Value, error) { return []int64(l), nil }

// near is "instant column a is within seconds of b", for the dialect.
func (s *Store) near(a, b string, seconds int) (string, []any) { return s.within(a, b, b, seconds) }

// within is "instant column a is between lo - seconds and hi + seconds", for the dialect, in
// a form an index on a can serve as a range (an expression around a would scan every row of
// the index prefix). SQLite keeps instants as UTC text, which sorts as time: the range is
// widened to whole seconds there, and the exact test follows it.
func (s *Store) within(a, lo, hi string, seconds int) (string, []any) {
	if s.dialect == Postgres {
		return a + " BETWEEN " + lo + " - make_interval(secs => ?) AND " + hi + " + make_interval(secs => ?)", []any{seconds, seconds}
	}
	return a + " >= strftime('%Y-%m-%d %H:%M:%S', " + lo + ", ?) AND " + a + " <= strftime('%Y-%m-%d %H:%M:%S', " + hi + ", ?)" +
			" AND (julianday(" + a + ") - julianday(" + lo + ")) * 86400 >= ? AND (julianday(" + a + ") - julianday(" + hi + ")) * 86400 <= ?",
		[]any{"-" + strconv.Itoa(seconds+1) + " seconds", "+" + strconv.Itoa(seconds+2) + " seconds", -seconds, seconds}
}

// Statuses of a duplicate pair: not decided yet, and the two decisions.
const (
	DuplicateCandidate = "candidate"
	DuplicateConfirmed = "duplicate"
	DuplicateRejected  = "not_duplicate"
)

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
// default.
func (s *Store) DetectDuplicates(ctx context.Context, sc Scope, window time.Duration, now time.Time) error {
	if sc.empty() {
		return nil
	}
	db := s.db.WithContext(ctx)
	now = now.UTC().Truncate(time.Microsecond)
	scope, sargs := s.cond(sc, "n")
	near, nargs := s.near("oi.occurred_at", "ni.occurred_at", int(window/time.Second))
	pair := `CASE WHEN n.id > o.id THEN n.id ELSE o.id END AS claim_id, CASE WHEN n.id > o.id THEN o.id ELSE n.id END AS other_claim_id`
	for _, col := range []struct{ match, column string }{{MatchEmail, "claimant_email"}, {MatchPhone, "claimant_phone"}} {
		sel := `SELECT DISTINCT n.case_id, ` + pair + `
FROM claims n JOIN claims o ON o.case_id = n.case_id AND o.` + col.column + ` = n.` + col.column + ` AND o.id <> n.id AND o.` + col.column + ` <> ''
WHERE ` + scope + ` AND n.` + col.column + ` <> '' AND EXISTS (
	SELECT 1 FROM claim_items ni JOIN claim_items oi ON oi.claim_id = o.id AND oi.service = ni.service AND oi.feature = ni.feature
	WHERE ni.claim_id = n.id AND ` + near + `)`
		if err := s.insertPairs(db, col.match, now, sel, append(append([]any{}, sargs...), nargs...)...); err != nil {
			return err
		}
	}
	// SQLite, even with statistics, reads the other claims through (case_id, external_ref) as
	// a range (external_ref IS NOT NULL) for every claim in scope: quadratic over an import.
	// The expression index answers each lookup.
	other := "claims o"
	if s.dialect != Postgres {
		other = "claims o INDEXED BY claims_case_external_ref_lower"
	}
	sel := `SELECT DISTINCT n.case_id, ` + pair + `
FROM claims n JOIN ` + other + ` ON o.case_id = n.case_id AND lower(o.external_ref) = lower(n.external_ref) AND o.id <> n.id
WHERE ` + scope + ` AND n.external_ref IS NOT NULL AND o.external_ref IS NOT NULL`
	return s.insertPairs(db, MatchExternalRef, now, sel, sargs...)
}

// insertPairs stores the (case_id, claim_id, other_claim_id) rows sel finds as candidate pairs
// matched by match, a pair already found being kept as it was. As insertSignals: one statement
// on PostgreSQL; on SQLite the search runs outside the process's write lock (it held the lock,
// and every group commit, for three searches a pass) and only the pairs found are written
// under it.
func (s *Store) insertPairs(db *gorm.DB, match string, now time.Time, sel string, args ...any) error {
	const head = "INSERT INTO claim_duplicates (case_id, claim_id, other_claim_id, matched, status, created_at) "
	if s.dialect == Postgres {
		return translate(db.Exec(head+`SELECT x.case_id, x.claim_id, x.other_claim_id, CAST(? AS TEXT), CAST(? AS TEXT), CAST(? AS TIMESTAMPTZ)
FROM (`+sel+`) x ON CONFLICT DO NOTHING`, append([]any{match, DuplicateCandidate, now}, args...)...).Error)
	}
	var found []struct{ CaseID, ClaimID, OtherClaimID int64 }
	if err := db.Raw(sel, args...).Scan(&found).Error; err != nil || len(found) == 0 {
		return translate(err)
	}
	defer s.writeLock()()
	return translate(sqliteValues(db.Statement.Context, db.Statement.ConnPool, head+"VALUES ", " ON CONFLICT DO NOTHING", nil, 6, len(found),
		func(args []any, i int) []any {
			f := &found[i]
			return append(args, f.CaseID, f.ClaimID, f.OtherClaimID, match, DuplicateCandidate, now)
		}))
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

// ListDuplicates returns candidate pairs, oldest first, one entry per pair with every rule
// that matched it. A pair is a row per rule, and detection adds a rule's row when it finds it,
// after rows of other pairs: a page is of pairs, each placed by its first row (the cursor is
// the last one's id), and their rows are read whole, wherever they are.
func (s *Store) ListDuplicates(ctx context.Context, f DuplicateFilter) ([]DuplicatePair, string, error) {
	db := s.db.WithContext(ctx)
	of := func(q *gorm.DB) *gorm.DB {
		if f.Status != "" {
			q = q.Where("status = ?", f.Status)
		}
		return q
	}
	q := of(db.Model(&models.ClaimDuplicate{}).Select("id", "claim_id", "other_claim_id").Where("case_id = ?", f.CaseID))
	if f.Cursor != "" {
		id, err := decodeCursor(f.Cursor)
		if err != nil {
			return nil, "", err
		}
		q = q.Where("id > ?", id)
	}
	earlier := of(db.Model(&models.ClaimDuplicate{}).Select("1").Where(
		"e.claim_id = claim_duplicates.claim_id AND e.other_claim_id = claim_duplicates.other_claim_id AND e.id < claim_duplicates.id"))
	var firsts []models.ClaimDuplicate
	if err := q.Where("NOT EXISTS (?)", earlier.Table("claim_duplicates e")).Order("id").Limit(f.Limit + 1).Find(&firsts).Error; err != nil {
		return nil, "", translate(err)
	}
	next := ""
	if len(firsts) > f.Limit {
		firsts = firsts[:f.Limit]
		next = encodeCursor(firsts[len(firsts)-1].ID)
	}
	if len(firsts) == 0 {
		return nil, "", nil
	}
	index := make(map[[2]int64]int, len(firsts))
	ids := make([]int64, 0, len(firsts))
	for i, r := range firsts {
		index[[2]int64{r.ClaimID, r.OtherClaimID}] = i
		ids = append(ids, r.ClaimID)
	}
	var rows []models.ClaimDuplicate
	if err := of(db.Where("claim_id IN ?", ids)).Order("id").Find(&rows).Error; err != nil {
		return nil, "", translate(err)
	}
	out := make([]DuplicatePair, len(firsts))
	for _, r := range rows {
		i, ok := index[[2]int64{r.ClaimID, r.OtherClaimID}]
		if !ok {
			continue // another pair of the same later claim, not on this page
		}
		if out[i].ID == 0 {
			out[i] = DuplicatePair{ID: r.ID, ClaimID: r.ClaimID, OtherClaimID: r.OtherClaimID,
				Status: r.Status, DecidedBy: r.DecidedBy, DecidedAt: r.DecidedAt, CreatedAt: r.CreatedAt}
		}
		out[i].Matched = append(out[i].Matched, r.Matched)
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
func (s *Store) DecideDuplicate(ctx context.Context, claimID, otherID int64, status, by string, now time.Time, ev *models.AuditEvent, then *Transition) error {
	now = now.UTC().Truncate(time.Microsecond)
	return s.InTx(ctx, func(tx *gorm.DB) error {
		res := tx.Model(&models.ClaimDuplicate{}).Where("claim_id = ? AND other_claim_id = ? AND status = ?", claimID, otherID, DuplicateCandidate).
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
		if err := RecordTx(tx, ev); err != nil {
			return err
		}
		if then != nil {
			return transitionTx(tx, *then)
		}
		return nil
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

// insertSignals inserts the (claim_id, case_id) rows selected by sel as signals of code, with
// no detail (see insertFound).
func (s *Store) insertSignals(db *gorm.DB, code string, weight int, sel string, now time.Time, args ...any) error {
	return s.insertFound(db, code, weight, now, `SELECT DISTINCT x.claim_id, x.case_id, '' AS detail FROM (`+sel+`) x`, args...)
}

// insertFound stores each (claim_id, case_id, detail) row find returns as a signal of code, a
// signal already raised being kept as it was.
//
// On SQLite the rows are found first, outside the process's write lock (WAL readers do not
// block the writer), and only the signals found are written under it (addFound): an INSERT ...
// SELECT held the lock, and every claim waiting for its group commit, for the whole search
// (tens of milliseconds for a pass of 500 claims), to write nothing most of the time.
// PostgreSQL writes concurrently and keeps the one statement. Either way a claim that arrives
// during the search is looked at by its own pass.
func (s *Store) insertFound(db *gorm.DB, code string, weight int, now time.Time, find string, args ...any) error {
	if s.dialect != Postgres {
		return s.addFound(db, code, weight, now, find, args...)
	}
	q := `INSERT INTO claim_signals (claim_id, case_id, code, weight, detail, created_at)
SELECT f.claim_id, f.case_id, CAST(? AS TEXT), CAST(? AS INT), f.detail, CAST(? AS TIMESTAMPTZ) FROM (` + find + `) f
ON CONFLICT (claim_id, code) DO NOTHING`
	return translate(db.Exec(q, append([]any{code, weight, now}, args...)...).Error)
}

// addFound runs find (claim_id, case_id, detail rows) and stores each row as a signal of code,
// a signal already raised being kept as it was; only the write takes the write lock (SQLite).
func (s *Store) addFound(db *gorm.DB, code string, weight int, now time.Time, find string, args ...any) error {
	var found []struct {
		ClaimID, CaseID int64
		Detail          string
	}
	if err := db.Raw(find, args...).Scan(&found).Error; err != nil {
		return translate(err)
	}
	if len(found) == 0 {
		return nil
	}
	sigs := make([]models.ClaimSignal, len(found))
	for i, f := range found {
		sigs[i] = models.ClaimSignal{ClaimID: f.ClaimID, CaseID: f.CaseID, Code: code, Weight: weight, Detail: f.Detail, CreatedAt: now}
	}
	return s.writeSignals(db, sigs)
}

// writeSignals stores signals (a signal already raised on a claim is kept as it was): one
// INSERT on PostgreSQL; on SQLite under the write lock, in INSERTs of at most
// sqliteParamsPerInsert parameters (see sqliteValues).
func (s *Store) writeSignals(db *gorm.DB, sigs []models.ClaimSignal) error {
	if len(sigs) == 0 {
		return nil
	}
	if s.dialect == Postgres {
		return translate(db.Clauses(clause.OnConflict{DoNothing: true}).Create(&sigs).Error)
	}
	defer s.writeLock()()
	return translate(sqliteValues(db.Statement.Context, db.Statement.ConnPool,
		"INSERT INTO claim_signals (claim_id, case_id, code, weight, detail, created_at) VALUES ", " ON CONFLICT DO NOTHING", nil, 6, len(sigs),
		func(args []any, i int) []any {
			g := &sigs[i]
			return append(args, g.ClaimID, g.CaseID, g.Code, g.Weight, g.Detail, g.CreatedAt.UTC())
		}))
}

// SignalIPBurst raises r on claims in scope, and on the other claims of the burst, when at
// least r.Count claims came from one IP within r.Window of each other.
//
// It costs what the claims in scope cost, however long the burst: the count stops at r.Count,
// and only the claims of the burst not flagged yet are looked at. Those are the claims after
// the latest one already flagged: every claim before it, within the window, was flagged by
// the earlier pass that flagged it (passes run in the order claims arrive, and a burst that
// flagged a claim flagged its whole window, which reaches back further than this one's). A
// claim passed out of order (swept after a crash, or by another instance lagging behind) may
// leave unflagged a claim that only its own window reached back to; a claim of the scope in a
// burst is always flagged, whatever was flagged after it.
func (s *Store) SignalIPBurst(ctx context.Context, sc Scope, r SignalRule, now time.Time) error {
	if sc.empty() {
		return nil
	}
	secs := int(r.Window / time.Second)
	scope, sargs := s.cond(sc, "n")
	nearM, margs := s.near("m.submitted_at", "n.submitted_at", secs)
	inL, largs := s.within("o.submitted_at", "ips.lo", "ips.hi", secs)
	nearO, oargs := s.near("o.submitted_at", "b.submitted_at", secs)
	from := "GREATEST(c.lo - make_interval(secs => ?), c.upto)"
	fargs := []any{secs}
	to := "c.hi + make_interval(secs => ?)"
	targs := []any{secs}
	// When the first and the last claim of a burst are at most two windows apart, their two
	// windows cover the range scanned: no need to look for the claim of b each one is near.
	spread := "c.hi - c.lo <= make_interval(secs => ?)"
	if s.dialect != Postgres {
		from = "max(strftime('%Y-%m-%d %H:%M:%S', c.lo, ?), coalesce(c.upto, ''))"
		fargs = []any{"-" + strconv.Itoa(secs+1) + " seconds"}
		to = "strftime('%Y-%m-%d %H:%M:%S', c.hi, ?)"
		targs = []any{"+" + strconv.Itoa(secs+2) + " seconds"}
		spread = "(julianday(c.hi) - julianday(c.lo)) * 86400 <= ?"
	}
	// The <> '' conditions on every side let the partial index claims_case_ip serve each lookup.
	q := `WITH b AS (
	SELECT n.id, n.case_id, n.consent_ip, n.submitted_at FROM claims n
	WHERE ` + scope + ` AND n.consent_ip <> '' AND (SELECT COUNT(*) FROM (SELECT 1 FROM claims m
		WHERE m.case_id = n.case_id AND m.consent_ip = n.consent_ip AND m.consent_ip <> '' AND ` + nearM + ` LIMIT ?) z) >= ?
), ips AS (
	SELECT case_id, consent_ip, MIN(submitted_at) AS lo, MAX(submitted_at) AS hi FROM b GROUP BY case_id, consent_ip
), c AS (
	SELECT ips.case_id, ips.consent_ip, ips.lo, ips.hi, (SELECT o.submitted_at FROM claims o
		WHERE o.case_id = ips.case_id AND o.consent_ip = ips.consent_ip AND o.consent_ip <> '' AND ` + inL + `
		AND EXISTS (SELECT 1 FROM claim_signals g WHERE g.claim_id = o.id AND g.code = ?)
		ORDER BY o.submitted_at DESC LIMIT 1) AS upto
	FROM ips
)
SELECT o.id AS claim_id, o.case_id FROM c JOIN claims o ON o.case_id = c.case_id AND o.consent_ip = c.consent_ip AND o.consent_ip <> ''
	AND o.submitted_at >= ` + from + ` AND o.submitted_at <= ` + to + `
WHERE ` + spread + ` OR EXISTS (SELECT 1 FROM b WHERE b.case_id = o.case_id AND b.consent_ip = o.consent_ip AND ` + nearO + `)
UNION SELECT b.id, b.case_id FROM b`
	var args []any
	args = append(args, sargs...)
	args = append(args, margs...)
	args = append(args, r.Count, r.Count)
	args = append(args, largs...)
	args = append(args, r.Code)
	args = append(args, fargs...)
	args = append(args, targs...)
	args = append(args, 2*secs)
	args = append(args, oargs...)
	return s.insertSignals(s.db.WithContext(ctx), r.Code, r.Weight, q, now, args...)
}

// SignalOutsideWindows raises r on claims in scope whose every item is ineligible.
func (s *Store) SignalOutsideWindows(ctx context.Context, sc Scope, r SignalRule, now time.Time) error {
	if sc.empty() {
		return nil
	}
	scope, sargs := s.cond(sc, "n")
	sel := `SELECT n.id AS claim_id, n.case_id FROM claims n WHERE ` + scope + ` AND NOT EXISTS (
	SELECT 1 FROM claim_items i WHERE i.claim_id = n.id AND i.eligibility <> 'ineligible')`
	return s.insertSignals(s.db.WithContext(ctx), r.Code, r.Weight, sel, now, sargs...)
}

// SignalSameDescription raises r on claims in scope, and on the claims they share it with,
// when an item's description (at least r.MinLength characters) is word for word the
// description of another claim's item.
//
// Its cost does not grow with how many claims share a description. The scope's descriptions
// are read once; one probe of at most two rows per description keeps only those another item
// holds too (most descriptions are unique, and the search stops there). A claim in scope
// needs one other claim with its description (the first found). Of the other claims, only a
// description held by exactly one claim outside the scope can have one not flagged yet: when
// two or more hold it, the pass over the later of them flagged both.
func (s *Store) SignalSameDescription(ctx context.Context, sc Scope, r SignalRule, now time.Time) error {
	if sc.empty() {
		return nil
	}
	scope, sargs := s.cond(sc, "n")
	outside, oargs := "NOT ("+s.inIDs("oi.claim_id")+")", []any{s.ids(sc.ClaimIDs)}
	if sc.ImportID != nil {
		outside, oargs = "NOT EXISTS (SELECT 1 FROM claims x WHERE x.id = oi.claim_id AND x.import_id = ?)", []any{*sc.ImportID}
	}
	// holders is the items with the description of row a.
	holders := func(a string) string {
		return `claim_items oi WHERE oi.case_id = ` + a + `.case_id AND oi.description = ` + a + `.description AND oi.description <> ''`
	}
	other := func(dir string) string {
		return `(SELECT oi.claim_id FROM ` + holders("h") + ` AND ` + outside + ` ORDER BY oi.claim_id ` + dir + ` LIMIT 1)`
	}
	q := `WITH d AS MATERIALIZED (
	SELECT ni.claim_id, ni.case_id, ni.description FROM claims n JOIN claim_items ni ON ni.claim_id = n.id
	WHERE ` + scope + ` AND ni.description <> '' AND length(ni.description) >= ?
), h AS MATERIALIZED (
	SELECT DISTINCT d.case_id, d.description FROM d WHERE (SELECT COUNT(*) FROM (SELECT 1 FROM ` + holders("d") + ` LIMIT 2) z) = 2
)
SELECT d.claim_id, d.case_id FROM d JOIN h ON h.case_id = d.case_id AND h.description = d.description
WHERE EXISTS (SELECT 1 FROM ` + holders("d") + ` AND oi.claim_id <> d.claim_id)
UNION
SELECT e.first_id, e.case_id FROM (SELECT h.case_id, ` + other("ASC") + ` AS first_id, ` + other("DESC") + ` AS last_id FROM h) e
WHERE e.first_id = e.last_id`
	var args []any
	args = append(args, sargs...)
	args = append(args, r.MinLength)
	args = append(args, oargs...)
	args = append(args, oargs...)
	return s.insertSignals(s.db.WithContext(ctx), r.Code, r.Weight, q, now, args...)
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
// times its service's median (and at least r.MinKRW). One statement looks at every service: the
// limits are a list joined on the item's service. A claim over the limit of two services is
// flagged once, with the detail of the first service by name.
func (s *Store) SignalAmountOutlier(ctx context.Context, sc Scope, r SignalRule, medians map[string]int64, now time.Time) error {
	if sc.empty() || len(medians) == 0 {
		return nil
	}
	services := slices.Sorted(maps.Keys(medians))
	rows := make([]string, len(services))
	var largs []any
	for i, service := range services {
		limit := max(int64(float64(medians[service])*r.Factor), r.MinKRW)
		rows[i] = "(CAST(? AS TEXT), CAST(? AS BIGINT), CAST(? AS TEXT))"
		largs = append(largs, service, limit, service+" > "+strconv.FormatInt(limit, 10))
	}
	scope, sargs := s.cond(sc, "n")
	find := `SELECT x.claim_id, x.case_id, MIN(x.detail) AS detail FROM (
	WITH l (service, lim, detail) AS (VALUES ` + strings.Join(rows, ", ") + `)
	SELECT n.id AS claim_id, n.case_id, l.detail FROM claims n JOIN claim_items i ON i.claim_id = n.id JOIN l ON l.service = i.service
	WHERE ` + scope + ` AND ` + itemValue + ` > l.lim
) x
GROUP BY x.claim_id, x.case_id`
	return s.insertFound(s.db.WithContext(ctx), r.Code, r.Weight, now, find, append(largs, sargs...)...)
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
	scope, sargs := s.cond(sc, "n")
	// On PostgreSQL the folded names, equal when the names are, let claims_case_name_fold find
	// the namesakes; SQLite has claims_case_name for the names themselves.
	fold := ""
	if s.dialect == Postgres {
		fold = nameFold("o", s.dialect) + " = " + nameFold("n", s.dialect) + " AND "
	}
	q := `SELECT n.id AS claim_id, o.id AS other_id, n.claimant_email AS email, o.claimant_email AS other_email,
	n.claimant_phone AS phone, o.claimant_phone AS other_phone, n.case_id
FROM claims n JOIN claims o ON o.case_id = n.case_id AND ` + fold + `o.claimant_name = n.claimant_name AND o.id <> n.id
WHERE ` + scope + ` LIMIT ?`
	var out []IdentityRow
	return out, translate(s.db.WithContext(ctx).Raw(q, append(sargs, limit)...).Scan(&out).Error)
}

// AddSignals stores signals (a signal already raised on a claim is kept as it was).
func (s *Store) AddSignals(ctx context.Context, sigs []models.ClaimSignal) error {
	return s.writeSignals(s.db.WithContext(ctx), sigs)
}

// RescoreClaims sets fraud_score to the sum of the signal weights of the claims in scope and
// of every claim given a signal by a pass that gave one to a claim in scope, or at now (a
// burst flags earlier claims too, a shared description or a near identity the other claim).
//
// A pass raises signals on claims outside its scope, and only its rescoring gives them their
// score. Cut between the two (a crash, a stop), it leaves its claims pending and those others
// with a signal their score lacks; the pass run again finds their signals raised (kept as they
// were, with the lost pass's time) or, for a burst, does not even look at them (it starts after
// the latest claim flagged). The lost pass's time is still on the signals it raised on the
// claims in scope, in the same statements: the claims with a signal raised at one of those
// instants are the ones to rescore. Refreshing created_at on conflict instead would cost a
// row version per signal found again (every pass finds some), change when a signal was
// raised, and still miss a burst's earlier claims. What this leaves out: a claim that gets
// its signal through a claim in scope already holding it (raised before by another claim's
// pass that ran first) when its pass is lost, and no claim in scope gets a new one.
func (s *Store) RescoreClaims(ctx context.Context, sc Scope, now time.Time) error {
	if sc.empty() {
		return nil
	}
	// Only a claim with a signal can need a new score: signals are never taken away, so a
	// claim without one keeps the score it was stored with, 0. The claims of the scope are
	// found through their signals (most have none: one probe of claim_signals each; "+ 0"
	// keeps the planner off the index of every signal of the case).
	var inScope string
	var sargs []any
	if sc.ImportID != nil {
		scope, args := s.cond(sc, "n")
		inScope, sargs = "g.case_id = ? AND g.claim_id IN (SELECT n.id FROM claims n WHERE "+scope+")", append([]any{sc.CaseID}, args...)
	} else {
		inScope, sargs = s.idsCond(sc, "g.case_id", "g.claim_id")
	}
	// One IN over a UNION, not an OR: each side uses its index (an OR scanned the table). The
	// instants of the scope's signals are few (most often the one of this pass), each one
	// probe of claim_signals_created; a claim in scope is found through its own signals' instants.
	// A row whose score is unchanged is not written: an update of claims rewrites every index
	// entry of the row (fraud_score is indexed), for nothing.
	q := `UPDATE claims SET fraud_score = (SELECT COALESCE(SUM(weight), 0) FROM claim_signals g WHERE g.claim_id = claims.id)
WHERE id IN (SELECT o.claim_id FROM claim_signals o WHERE o.case_id = ? AND o.created_at IN (SELECT g.created_at FROM claim_signals g WHERE ` + inScope + `)
		UNION SELECT claim_id FROM claim_signals WHERE case_id = ? AND created_at = ?)
	AND fraud_score <> (SELECT COALESCE(SUM(weight), 0) FROM claim_signals g WHERE g.claim_id = claims.id)`
	args := append([]any{sc.CaseID}, sargs...)
	defer s.writeLock()()
	return translate(s.db.WithContext(ctx).Exec(q, append(args, sc.CaseID, now)...).Error)
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
	return b.exec(ctx, insertAudit, auditValues(e)...)
}

// PendingReview is a stored claim whose detection pass has not run (or not finished).
type PendingReview struct {
	ClaimID, CaseID int64
}

// PendingReviews returns up to limit claims waiting for their detection pass since before
// (zero: all), oldest first.
func (s *Store) PendingReviews(ctx context.Context, before time.Time, limit int) ([]PendingReview, error) {
	return s.PendingReviewsAfter(ctx, before, 0, limit)
}

// PendingReviewsAfter is PendingReviews from the claim after claim id after: a sweep reads
// the pending list a page at a time.
func (s *Store) PendingReviewsAfter(ctx context.Context, before time.Time, after int64, limit int) ([]PendingReview, error) {
	q := s.db.WithContext(ctx).Model(&models.ClaimReviewPending{}).Select("claim_id, case_id")
	if !before.IsZero() {
		q = q.Where("created_at < ?", before.UTC())
	}
	if after > 0 {
		q = q.Where("claim_id > ?", after)
	}
	var out []PendingReview
	return out, translate(q.Order("claim_id").Limit(limit).Scan(&out).Error)
}

// ImportReviewsDone takes the claims of an import off the pending list once the import's
// detection pass (one pass over the import) is stored.
func (s *Store) ImportReviewsDone(ctx context.Context, importID int64) error {
	defer s.writeLock()()
	return translate(s.db.WithContext(ctx).Where("claim_id IN (?)", s.db.Model(&models.Claim{}).Select("id").Where("import_id = ?", importID)).
		Delete(&models.ClaimReviewPending{}).Error)
}

// ReviewsDone takes claims off the pending list once their detection pass is stored.
func (s *Store) ReviewsDone(ctx context.Context, claimIDs []int64) error {
	if len(claimIDs) == 0 {
		return nil
	}
	defer s.writeLock()()
	return translate(s.db.WithContext(ctx).Where(s.inIDs("claim_id"), s.ids(claimIDs)).Delete(&models.ClaimReviewPending{}).Error)
}

// RefreshStats analyzes the claim tables of PostgreSQL whose row count has grown by half since
// their last analysis (and by at least 1,000 rows). Autovacuum does the same, but looks once a
// minute and waits for 10% of the table to change: a case that fills up from empty would, for
// that minute, be planned as the empty table it was, and the detection queries planned for a
// handful of rows scan the case for every claim in scope. The growth rule keeps the analyses
// few (about twenty from empty to a million rows). SQLite plans from its indexes and needs none.
func (s *Store) RefreshStats(ctx context.Context) error {
	if s.dialect != Postgres {
		return nil
	}
	var tables []string
	err := s.db.WithContext(ctx).Raw(`SELECT relname FROM pg_stat_user_tables
WHERE schemaname = current_schema() AND relname IN ('claims', 'claim_items', 'claim_signals', 'claim_duplicates')
	AND n_mod_since_analyze >= 1000 AND n_mod_since_analyze > n_live_tup / 2`).Scan(&tables).Error
	if err != nil {
		return translate(err)
	}
	if len(tables) == 0 {
		return nil
	}
	return s.analyze(ctx, tables...)
}

// writeLock queues a write of the intake path or of detection behind the others of this
// process, on SQLite. SQLite has one writer at a time, and a connection that finds the file
// locked sleeps and polls (busy_timeout), up to 100 ms a time: under load, requests slept
// more than they worked. Queued on a mutex, each write starts the moment the previous one
// ends. PostgreSQL writes concurrently: nothing to queue.
func (s *Store) writeLock() func() {
	if s.dialect == Postgres {
		return func() {}
	}
	s.writes.Lock()
	return s.writes.Unlock
}
