package store

import (
	"context"
	"database/sql"
	"strings"
	"time"
)

// ExportFilter selects what an export holds: the claims list's filters (its order and page
// aside). Status, Channel, the submission days, Flag, MinScore and Search select claims;
// Service, Kind and Eligibility select items (an items export holds the items that match, a
// plaintiff list the claims that have one).
type ExportFilter struct {
	ClaimFilter
	// ExcludeStatuses drops claims in these statuses (the plaintiff list drops duplicates
	// and withdrawn claims).
	ExcludeStatuses []string
}

// ExportFilterOf is the export of the claims a list filter selects.
func ExportFilterOf(f ClaimFilter) ExportFilter { return ExportFilter{ClaimFilter: f} }

// exportWhere is the WHERE of an export over the claims aliased c in dialect d, with
// PostgreSQL placeholders, and their values: the case, the claim-level conditions of f, its
// ExcludeStatuses, then more (the item conditions of each export).
func exportWhere(f ExportFilter, c string, d Dialect, more []sqlCond) (string, []any) {
	cs := append([]sqlCond{{c + ".case_id = ?", []any{f.CaseID}}}, claimConds(f.ClaimFilter, c, d)...)
	for _, s := range f.ExcludeStatuses {
		cs = append(cs, sqlCond{c + ".status <> ?", []any{s}})
	}
	parts := make([]string, 0, len(cs)+len(more))
	var args []any
	for _, cond := range append(cs, more...) {
		parts, args = append(parts, cond.sql), append(args, cond.args...)
	}
	return dollarParams(strings.Join(parts, " AND ")), args
}

// ExportItem is one item with its claim, as exports read it. Times are UTC.
type ExportItem struct {
	ClaimID            int64
	Reference          string
	Status             string
	Channel            string
	SubmittedAt        time.Time
	ClaimantName       string
	ClaimantEmail      string
	ClaimantPhone      string
	RulesVersion       sql.NullInt64
	ValuedAsOf         sql.NullString
	Position           int
	Kind               string
	Service            string
	Feature            string
	OccurredAt         time.Time
	EndedAt            sql.NullTime
	Failure            string
	Purpose            string
	ExpectedFareKRW    int64
	AlternativeCostKRW int64
	AmountKRW          int64
	LossKRW            int64
	Documented         bool
	Eligibility        string
	EligibilityCode    string
	WindowID           sql.NullInt64
	PrincipalKRW       sql.NullInt64
	InterestKRW        sql.NullInt64
}

// ExportItemsQuery is the SELECT of the items export in dialect d (PostgreSQL placeholders),
// with its arguments. The benchmark runs the same statement through psql \copy as the baseline.
func ExportItemsQuery(f ExportFilter, d Dialect) (string, []any) {
	// The matching items themselves, on the join (the plaintiff list and the claims list ask
	// for claims with such an item instead: itemsExist).
	where, args := exportWhere(f, "c", d, itemConds(f.ClaimFilter, "i"))
	return `SELECT c.id, c.reference, c.status, c.channel, c.submitted_at, c.claimant_name, c.claimant_email, c.claimant_phone,
	c.rules_version, c.valued_as_of, i.position, i.kind, i.service, i.feature, i.occurred_at, i.ended_at, i.failure, i.purpose,
	i.expected_fare_krw, i.alternative_cost_krw, i.amount_krw, i.loss_krw, i.documented, i.eligibility, i.eligibility_code,
	i.window_id, i.principal_krw, i.interest_krw
FROM claims c JOIN claim_items i ON i.claim_id = c.id
WHERE ` + where + "\nORDER BY c.id, i.position", args
}

// StreamExportItems calls fn for every item f selects, claim by claim in id order and by
// position within a claim, reading one streaming query: memory stays flat however many rows
// there are. The row is reused between calls: fn must not keep it.
func (s *Store) StreamExportItems(ctx context.Context, f ExportFilter, fn func(*ExportItem) error) error {
	q, args := ExportItemsQuery(f, s.dialect)
	var r ExportItem
	dest := []any{&r.ClaimID, &r.Reference, &r.Status, &r.Channel, &r.SubmittedAt, &r.ClaimantName, &r.ClaimantEmail, &r.ClaimantPhone,
		&r.RulesVersion, &r.ValuedAsOf, &r.Position, &r.Kind, &r.Service, &r.Feature, &r.OccurredAt, &r.EndedAt, &r.Failure, &r.Purpose,
		&r.ExpectedFareKRW, &r.AlternativeCostKRW, &r.AmountKRW, &r.LossKRW, &r.Documented, &r.Eligibility, &r.EligibilityCode,
		&r.WindowID, &r.PrincipalKRW, &r.InterestKRW}
	return s.streamRows(ctx, q, args, dest, func() error { return fn(&r) })
}

// streamRows runs q and scans each row into dest before calling fn. On PostgreSQL it reads
// through pgx directly: it scans into typed values without database/sql's conversions, most of
// the difference to psql \copy on a million rows.
func (s *Store) streamRows(ctx context.Context, q string, args, dest []any, fn func() error) error {
	if s.pool != nil {
		rows, err := s.pool.Query(ctx, q, args...)
		if err != nil {
			return translate(err)
		}
		defer rows.Close()
		for rows.Next() {
			if err := rows.Scan(dest...); err != nil {
				return translate(err)
			}
			if err := fn(); err != nil {
				return err
			}
		}
		return translate(rows.Err())
	}
	rows, err := s.sqlDB.QueryContext(ctx, s.rebind(q), args...)
	if err != nil {
		return translate(err)
	}
	defer rows.Close()
	for rows.Next() {
		if err := rows.Scan(dest...); err != nil {
			return translate(err)
		}
		if err := fn(); err != nil {
			return err
		}
	}
	return translate(rows.Err())
}

// ExportClaim is one claim as the plaintiff list reads it: its claimant, consent, valuation
// and number of items.
type ExportClaim struct {
	ID             int64
	Status         string
	ClaimantName   string
	ClaimantEmail  string
	ClaimantPhone  string
	ConsentAt      time.Time
	ConsentVersion string
	Items          int64
	PrincipalKRW   sql.NullInt64
	InterestKRW    sql.NullInt64
	EstimateKRW    sql.NullInt64
}

// StreamExportClaims calls fn for every claim f selects, in id order, in one streaming query.
// With Service or Eligibility set, a claim is selected when it has a matching item. The row
// is reused between calls.
func (s *Store) StreamExportClaims(ctx context.Context, f ExportFilter, fn func(*ExportClaim) error) error {
	q, args := s.exportClaimsQuery(f, `c.id, c.status, c.claimant_name, c.claimant_email, c.claimant_phone, c.consent_at, c.consent_version,
	(SELECT COUNT(*) FROM claim_items n WHERE n.claim_id = c.id), c.principal_krw, c.interest_krw, c.estimate_krw`)
	var r ExportClaim
	dest := []any{&r.ID, &r.Status, &r.ClaimantName, &r.ClaimantEmail, &r.ClaimantPhone, &r.ConsentAt, &r.ConsentVersion,
		&r.Items, &r.PrincipalKRW, &r.InterestKRW, &r.EstimateKRW}
	return s.streamRows(ctx, q+" ORDER BY c.id", args, dest, func() error { return fn(&r) })
}

// CountExportClaims counts the claims StreamExportClaims would read.
func (s *Store) CountExportClaims(ctx context.Context, f ExportFilter) (int64, error) {
	q, args := s.exportClaimsQuery(f, "COUNT(*)")
	var n int64
	return n, translate(s.sqlDB.QueryRowContext(ctx, s.rebind(q), args...).Scan(&n))
}

// exportClaimsQuery selects columns of the claims f selects.
func (s *Store) exportClaimsQuery(f ExportFilter, columns string) (string, []any) {
	where, args := exportWhere(f, "c", s.dialect, itemsExist(f.ClaimFilter, "c"))
	return "SELECT " + columns + "\nFROM claims c WHERE " + where, args
}

// ClaimSubmission is when and by which channel a claim arrived (for the report's charts).
type ClaimSubmission struct {
	SubmittedAt time.Time
	Channel     string
	Status      string
}

// StreamClaimSubmissions calls fn for every claim of a case with its submission time,
// channel and status, in one streaming query.
func (s *Store) StreamClaimSubmissions(ctx context.Context, caseID int64, fn func(ClaimSubmission) error) error {
	rows, err := s.sqlDB.QueryContext(ctx, s.rebind(`SELECT submitted_at, channel, status FROM claims WHERE case_id = $1`), caseID)
	if err != nil {
		return translate(err)
	}
	defer rows.Close()
	for rows.Next() {
		var r ClaimSubmission
		if err := rows.Scan(&r.SubmittedAt, &r.Channel, &r.Status); err != nil {
			return translate(err)
		}
		if err := fn(r); err != nil {
			return err
		}
	}
	return translate(rows.Err())
}
