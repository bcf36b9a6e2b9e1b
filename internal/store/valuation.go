package store

import (
	"context"
	"database/sql"
	"time"

	"gorm.io/gorm"

	"github.com/claimdesk/claimdesk/models"
)

// Reevaluate is called for every stored claim of a case (items loaded) when the windows or the
// rules change; it updates the claim and its items in place and returns how many items changed
// eligibility.
type Reevaluate func(c *models.Claim) (eligibilityChanged int)

// revaluation re-values the claims of a case batch by batch in a transaction and writes back
// only the claims and items whose valuation columns fn changed, set-based: one statement per
// batch and table on PostgreSQL, a few on SQLite. Re-deciding every item of a large case
// rarely changes more than a few percent of them, and a statement per row (what gorm's
// Updates did) cost seconds per 100,000 items whether anything changed or not.
//
// A written claim gets updated_at now, as before; an unchanged claim and its items are not
// touched, so a window change that decides nothing differently for a claim leaves it as it was.
type revaluation struct {
	tx      *gorm.DB
	dialect Dialect
	fn      Reevaluate

	// Reused from batch to batch.
	claimsBefore []claimValuation
	itemsBefore  []itemValuation
	claims       []*models.Claim
	items        []*models.ClaimItem
}

// claimValuation and itemValuation are the columns a revaluation writes, by value: what was
// loaded, to compare with what fn left (it may replace the pointers or write through them).
type claimValuation struct {
	rulesVersion, principal, interest, estimate sql.NullInt64
	valuedAsOf                                  sql.NullString
}

type itemValuation struct {
	eligibility, code           string
	window, principal, interest sql.NullInt64
}

func claimValuationOf(c *models.Claim) claimValuation {
	v := claimValuation{principal: nullInt(c.PrincipalKRW), interest: nullInt(c.InterestKRW), estimate: nullInt(c.EstimateKRW)}
	if c.RulesVersion != nil {
		v.rulesVersion = sql.NullInt64{Int64: int64(*c.RulesVersion), Valid: true}
	}
	if c.ValuedAsOf != nil {
		v.valuedAsOf = sql.NullString{String: *c.ValuedAsOf, Valid: true}
	}
	return v
}

func itemValuationOf(it *models.ClaimItem) itemValuation {
	return itemValuation{eligibility: it.Eligibility, code: it.EligibilityCode, window: nullInt(it.WindowID),
		principal: nullInt(it.PrincipalKRW), interest: nullInt(it.InterestKRW)}
}

func nullInt(p *int64) sql.NullInt64 {
	if p == nil {
		return sql.NullInt64{}
	}
	return sql.NullInt64{Int64: *p, Valid: true}
}

// batch re-values cs with fn and writes back what changed. It returns how many items it
// re-evaluated and how many changed eligibility (fn's count).
func (r *revaluation) batch(cs []models.Claim) (items, changed int, err error) {
	r.claimsBefore, r.itemsBefore = r.claimsBefore[:0], r.itemsBefore[:0]
	for i := range cs {
		c := &cs[i]
		r.claimsBefore = append(r.claimsBefore, claimValuationOf(c))
		for j := range c.Items {
			r.itemsBefore = append(r.itemsBefore, itemValuationOf(&c.Items[j]))
		}
	}
	r.claims, r.items = r.claims[:0], r.items[:0]
	n := 0 // index of the claim's first item in itemsBefore
	for i := range cs {
		c := &cs[i]
		changed += r.fn(c)
		items += len(c.Items)
		claimChanged := claimValuationOf(c) != r.claimsBefore[i]
		for j := range c.Items {
			if itemValuationOf(&c.Items[j]) != r.itemsBefore[n+j] {
				r.items = append(r.items, &c.Items[j])
				claimChanged = true
			}
		}
		n += len(c.Items)
		if claimChanged {
			r.claims = append(r.claims, c)
		}
	}
	return items, changed, r.write()
}

// write stores the valuation of r.claims and r.items.
func (r *revaluation) write() error {
	if len(r.claims) == 0 {
		return nil
	}
	ctx, db := r.tx.Statement.Context, r.tx.Statement.ConnPool
	now := r.tx.NowFunc()
	if r.dialect == Postgres {
		return r.writePG(ctx, db, now)
	}
	return r.writeSQLite(ctx, db, now)
}

// writePG writes the claims in one statement and the items in another, by arrays: their
// size does not change the statement, and nothing is bound per row. The statements go to the
// transaction's connection as they are (gorm would rewrite slices into lists).
func (r *revaluation) writePG(ctx context.Context, db gorm.ConnPool, now time.Time) error {
	ids := make([]int64, len(r.claims))
	versions, asOf := make([]*int, len(r.claims)), make([]*string, len(r.claims))
	principal, interest, estimate := make([]*int64, len(r.claims)), make([]*int64, len(r.claims)), make([]*int64, len(r.claims))
	for i, c := range r.claims {
		ids[i], versions[i], asOf[i] = c.ID, c.RulesVersion, c.ValuedAsOf
		principal[i], interest[i], estimate[i] = c.PrincipalKRW, c.InterestKRW, c.EstimateKRW
	}
	if _, err := db.ExecContext(ctx, `UPDATE claims AS c SET rules_version = x.rules_version, valued_as_of = x.valued_as_of,
	principal_krw = x.principal_krw, interest_krw = x.interest_krw, estimate_krw = x.estimate_krw, updated_at = $7
FROM unnest($1::bigint[], $2::int[], $3::text[], $4::bigint[], $5::bigint[], $6::bigint[])
	AS x(id, rules_version, valued_as_of, principal_krw, interest_krw, estimate_krw)
WHERE c.id = x.id`, ids, versions, asOf, principal, interest, estimate, now); err != nil {
		return err
	}
	if len(r.items) == 0 {
		return nil
	}
	ids = make([]int64, len(r.items))
	positions := make([]int, len(r.items))
	elig, code := make([]string, len(r.items)), make([]string, len(r.items))
	window := make([]*int64, len(r.items))
	principal, interest = make([]*int64, len(r.items)), make([]*int64, len(r.items))
	for i, it := range r.items {
		ids[i], positions[i], elig[i], code[i], window[i] = it.ClaimID, it.Position, it.Eligibility, it.EligibilityCode, it.WindowID
		principal[i], interest[i] = it.PrincipalKRW, it.InterestKRW
	}
	_, err := db.ExecContext(ctx, `UPDATE claim_items AS i SET eligibility = x.eligibility, eligibility_code = x.eligibility_code,
	window_id = x.window_id, principal_krw = x.principal_krw, interest_krw = x.interest_krw
FROM unnest($1::bigint[], $2::int[], $3::text[], $4::text[], $5::bigint[], $6::bigint[], $7::bigint[])
	AS x(claim_id, position, eligibility, eligibility_code, window_id, principal_krw, interest_krw)
WHERE i.claim_id = x.claim_id AND i.position = x.position`, ids, positions, elig, code, window, principal, interest)
	return err
}

// writeSQLite writes the claims and the items in statements of a few dozen rows each, an
// UPDATE ... FROM (VALUES ...) (SQLite 3.33 and later), under sqliteParamsPerInsert bound
// parameters (see sqliteParamsPerInsert and sqliteValues).
func (r *revaluation) writeSQLite(ctx context.Context, db gorm.ConnPool, now time.Time) error {
	err := sqliteValues(ctx, db, `UPDATE claims SET updated_at = ?, rules_version = x.column2, valued_as_of = x.column3,
	principal_krw = x.column4, interest_krw = x.column5, estimate_krw = x.column6
FROM (VALUES `, `) AS x WHERE claims.id = x.column1`, []any{now}, 6, len(r.claims), func(args []any, i int) []any {
		c := r.claims[i]
		return append(args, c.ID, c.RulesVersion, c.ValuedAsOf, c.PrincipalKRW, c.InterestKRW, c.EstimateKRW)
	})
	if err != nil {
		return err
	}
	return sqliteValues(ctx, db, `UPDATE claim_items SET eligibility = x.column3, eligibility_code = x.column4,
	window_id = x.column5, principal_krw = x.column6, interest_krw = x.column7
FROM (VALUES `, `) AS x WHERE claim_items.claim_id = x.column1 AND claim_items.position = x.column2`, nil, 7, len(r.items), func(args []any, i int) []any {
		it := r.items[i]
		return append(args, it.ClaimID, it.Position, it.Eligibility, it.EligibilityCode, it.WindowID, it.PrincipalKRW, it.InterestKRW)
	})
}

// revalueAll walks every claim of a case in batches and writes back what fn changed.
func revalueAll(tx *gorm.DB, dialect Dialect, caseID int64, fn Reevaluate) (items, changed int, err error) {
	r := &revaluation{tx: tx, dialect: dialect, fn: fn}
	var batch []models.Claim
	res := tx.Preload("Items", orderItems).Where("case_id = ?", caseID).FindInBatches(&batch, revalueBatch, func(*gorm.DB, int) error {
		i, c, err := r.batch(batch)
		items, changed = items+i, changed+c
		return err
	})
	return items, changed, res.Error
}

// revalueBatch is how many claims a revaluation reads and writes at a time: a few thousand
// items, a statement or two on PostgreSQL.
const revalueBatch = 500

// continueWindows gives each window of ws the id of the stored window it continues, if any,
// and returns the ids of the stored windows none continues and the indexes in ws of those
// that continue a stored window with other times, source or confidence (to update). A window
// continues a stored one that says the same thing; failing that, one of the same service,
// feature and severity (its edges moved, say): each window of ws, in the order given, takes the
// earliest-starting such stored window not yet taken. stored must be in order of start.
//
// Ids that survive a replacement keep the items decided by an unchanged window unchanged: a
// replacement of every window gave all of them new ids, so every item in a window had a new
// window_id to write whether its decision changed or not.
func continueWindows(stored, ws []models.OutageWindow) (gone []int64, edited []int) {
	taken := make([]bool, len(stored))
	for _, pass := range []func(a, b *models.OutageWindow) bool{sameWindow, sameKind} {
		for i := range ws {
			if ws[i].ID != 0 {
				continue
			}
			for j := range stored {
				if !taken[j] && pass(&stored[j], &ws[i]) {
					taken[j], ws[i].ID = true, stored[j].ID
					if !sameWindow(&stored[j], &ws[i]) {
						edited = append(edited, i)
					}
					break
				}
			}
		}
	}
	for j := range stored {
		if !taken[j] {
			gone = append(gone, stored[j].ID)
		}
	}
	return gone, edited
}

// sameWindow tells whether two windows say the same thing (their ids and cases aside).
func sameWindow(a, b *models.OutageWindow) bool {
	return sameKind(a, b) && a.StartAt.Equal(b.StartAt) && a.EndAt.Equal(b.EndAt) && a.Source == b.Source && a.Confidence == b.Confidence
}

// sameKind tells whether two windows are of the same service, feature and severity.
func sameKind(a, b *models.OutageWindow) bool {
	return a.Service == b.Service && a.Feature == b.Feature && a.Severity == b.Severity
}
