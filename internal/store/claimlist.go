package store

import (
	"context"
	"encoding/base64"
	"encoding/binary"
	"strings"
	"time"

	"github.com/claimdesk/claimdesk/internal/apperr"
	"github.com/claimdesk/claimdesk/models"
)

// ClaimFilter selects claims of a case: the one filter behind the API's claims list, the
// lawyers' claims page and every export. Zero fields do not filter.
type ClaimFilter struct {
	CaseID int64
	// Statuses selects claims in any of these statuses (the dashboard's "awaiting review" is
	// three of them).
	Statuses []string
	Channel  string
	// Service, Kind and Eligibility select claims with an item matching all three.
	Service     string
	Kind        string
	Eligibility string
	// SubmittedAfter is exclusive; SubmittedFrom and SubmittedBefore are the half-open
	// window [from, before).
	SubmittedAfter  time.Time
	SubmittedFrom   time.Time
	SubmittedBefore time.Time
	// Flag selects claims with this fraud signal; MinScore claims scoring at least this.
	Flag     string
	MinScore int
	// Search, when set, keeps claims matching any of its non-empty fields.
	Search *ClaimSearch
	Sort   ClaimSort
	Cursor string
	Limit  int
}

// ClaimSearch is a free-text search, already read by the caller into what it can be: a
// reference (exact), the beginning of an email address, of a phone number (E.164) or of a
// name. Emails and names match whatever the case of their ASCII letters ("JANE" finds "Jane
// Park"), alike on both engines. Each is answered from an index on PostgreSQL (prefix matches
// use the text_pattern_ops indexes of migrations 00012 and 00014).
type ClaimSearch struct {
	Reference   string
	EmailPrefix string
	PhonePrefix string
	NamePrefix  string
}

// ClaimSort orders a list; every order ends with the id, so pages are stable (keyset).
type ClaimSort string

const (
	SortNewest   ClaimSort = "newest"   // id descending (the default)
	SortOldest   ClaimSort = "oldest"   // id ascending
	SortEstimate ClaimSort = "estimate" // estimate descending (unvalued last as 0), then id
	SortScore    ClaimSort = "score"    // fraud score descending, then id
)

// ClaimSorts lists the orders.
var ClaimSorts = []ClaimSort{SortNewest, SortOldest, SortEstimate, SortScore}

// sortKey is the column of an order's first key (newest and oldest have only the id).
var sortKey = map[ClaimSort]string{SortEstimate: "COALESCE(estimate_krw, 0)", SortScore: "fraud_score"}

// sortCode tags the cursors of orders with a key.
var sortCode = map[ClaimSort]byte{SortEstimate: 'e', SortScore: 's'}

// ListClaims returns a page of claims with their items in the filter's order, and the cursor
// of the next page ("" at the end). Cursors are opaque to clients; they hold the last row's
// sort key and id, so a page never repeats or skips a claim while new ones arrive.
func (s *Store) ListClaims(ctx context.Context, f ClaimFilter) ([]models.Claim, string, error) {
	q := s.db.WithContext(ctx).Model(&models.Claim{}).Where("case_id = ?", f.CaseID)
	for _, c := range append(claimConds(f, "claims", s.dialect), itemsExist(f, "claims")...) {
		q = q.Where(c.sql, c.args...)
	}
	sort := f.Sort
	if sort == "" {
		sort = SortNewest
	}
	key := sortKey[sort]
	if f.Cursor != "" {
		v, id, err := decodeSortCursor(f.Cursor, sort)
		if err != nil {
			return nil, "", err
		}
		switch sort {
		case SortNewest:
			q = q.Where("id < ?", id)
		case SortOldest:
			q = q.Where("id > ?", id)
		default:
			q = q.Where("("+key+", id) < (?, ?)", v, id)
		}
	}
	switch sort {
	case SortNewest:
		q = q.Order("id DESC")
	case SortOldest:
		q = q.Order("id")
	default:
		q = q.Order(key + " DESC").Order("id DESC")
	}
	var cs []models.Claim
	if err := q.Preload("Items", orderItems).Limit(f.Limit + 1).Find(&cs).Error; err != nil {
		return nil, "", translate(err)
	}
	next := ""
	if len(cs) > f.Limit {
		cs = cs[:f.Limit]
		last := &cs[len(cs)-1]
		switch sort {
		case SortNewest, SortOldest:
			next = encodeCursor(last.ID)
		case SortEstimate:
			var v int64
			if last.EstimateKRW != nil {
				v = *last.EstimateKRW
			}
			next = encodeSortCursor(sort, v, last.ID)
		case SortScore:
			next = encodeSortCursor(sort, int64(last.FraudScore), last.ID)
		}
	}
	return cs, next, nil
}

// sqlCond is one SQL condition with ? placeholders and their values. Both the list (through
// gorm) and the exports (numbering the ? as $n) apply the conditions below, so a filter is
// written once and means the same everywhere. A condition holds no ? but its placeholders.
type sqlCond struct {
	sql  string
	args []any
}

// claimConds are the conditions of f's claim-level filters on the claims aliased c in a query
// of dialect d: all but the case (every query scopes itself to it) and the item filters (see
// itemsExist).
func claimConds(f ClaimFilter, c string, d Dialect) []sqlCond {
	var cs []sqlCond
	add := func(sql string, args ...any) { cs = append(cs, sqlCond{sql, args}) }
	if len(f.Statuses) > 0 {
		// One placeholder per status, not gorm's IN ? expansion: the exports number these ?.
		add(c+".status IN ("+placeholders(len(f.Statuses))+")", anys(f.Statuses)...)
	}
	if f.Channel != "" {
		add(c+".channel = ?", f.Channel)
	}
	if !f.SubmittedAfter.IsZero() {
		add(c+".submitted_at > ?", f.SubmittedAfter.UTC())
	}
	if !f.SubmittedFrom.IsZero() {
		add(c+".submitted_at >= ?", f.SubmittedFrom.UTC())
	}
	if !f.SubmittedBefore.IsZero() {
		add(c+".submitted_at < ?", f.SubmittedBefore.UTC())
	}
	if f.Flag != "" {
		add("EXISTS (SELECT 1 FROM claim_signals g WHERE g.claim_id = "+c+".id AND g.case_id = ? AND g.code = ?)", f.CaseID, f.Flag)
	}
	if f.MinScore > 0 {
		add(c+".fraud_score >= ?", f.MinScore)
	}
	if f.Search != nil {
		cs = append(cs, searchCond(f.Search, c, d))
	}
	return cs
}

// anys is ss as arguments of a query.
func anys(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}

// searchCond ORs the search's parts on the claims aliased c; prefixes are LIKE patterns with
// wildcards escaped. A search without parts matches nothing.
//
// Emails and names ignore the case of ASCII letters on both engines. Emails are stored in lower
// case (intake), so the prefix is lowered and the column compared as it is, from its index.
// Names are compared lower-cased in ASCII only: SQLite's lower() knows no other letters, and
// on PostgreSQL COLLATE "C" makes lower() do the same whatever the database's locale, so
// that both find the same claims ("É" is not "é" on either); claims_case_name_fold (00014)
// answers it.
func searchCond(sr *ClaimSearch, c string, d Dialect) sqlCond {
	var parts []string
	var args []any
	if sr.Reference != "" {
		parts, args = append(parts, c+".reference = ?"), append(args, sr.Reference)
	}
	name := nameFold(c, d)
	for _, p := range []struct{ col, prefix string }{
		{c + ".claimant_email", strings.ToLower(sr.EmailPrefix)}, {c + ".claimant_phone", sr.PhonePrefix}, {name, asciiLower(sr.NamePrefix)},
	} {
		if p.prefix != "" {
			parts, args = append(parts, p.col+` LIKE ? ESCAPE '\'`), append(args, likePrefix(p.prefix))
		}
	}
	if len(parts) == 0 {
		return sqlCond{"1 = 0", nil}
	}
	return sqlCond{"(" + strings.Join(parts, " OR ") + ")", args}
}

// nameFold is what a name search on the claims aliased c matches its (lowered) prefix against:
// on PostgreSQL the name with its ASCII letters lowered, as claims_case_name_fold indexes it;
// on SQLite the name itself, as its LIKE already ignores the case of ASCII letters.
func nameFold(c string, d Dialect) string {
	if d == Postgres {
		return "lower(" + c + `.claimant_name COLLATE "C")`
	}
	return c + ".claimant_name"
}

// asciiLower lowers the ASCII letters of s and leaves the others as they are, as SQLite's
// lower() does.
func asciiLower(s string) string {
	return strings.Map(func(r rune) rune {
		if 'A' <= r && r <= 'Z' {
			return r + ('a' - 'A')
		}
		return r
	}, s)
}

// likePrefix is the LIKE pattern of the strings beginning with p.
func likePrefix(p string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(p) + "%"
}

// itemConds are the conditions of f's item filters on the items aliased i: an item matches
// all of them.
func itemConds(f ClaimFilter, i string) []sqlCond {
	var cs []sqlCond
	for _, p := range []struct{ col, v string }{{"service", f.Service}, {"kind", f.Kind}, {"eligibility", f.Eligibility}} {
		if p.v != "" {
			cs = append(cs, sqlCond{i + "." + p.col + " = ?", []any{p.v}})
		}
	}
	return cs
}

// itemsExist selects, on the claims aliased c, the claims with an item matching f's item
// filters (none when f has no item filter).
func itemsExist(f ClaimFilter, c string) []sqlCond {
	ics := itemConds(f, "i")
	if len(ics) == 0 {
		return nil
	}
	// case_id too, so that a filter matching few items (or none) is answered from the
	// (case_id, service, eligibility) and (case_id, kind, eligibility) indexes instead of
	// a walk over every claim.
	sql, args := "i.claim_id = "+c+".id AND i.case_id = ?", []any{f.CaseID}
	for _, ic := range ics {
		sql, args = sql+" AND "+ic.sql, append(args, ic.args...)
	}
	return []sqlCond{{"EXISTS (SELECT 1 FROM claim_items i WHERE " + sql + ")", args}}
}

func encodeCursor(id int64) string {
	return base64.RawURLEncoding.EncodeToString(binary.BigEndian.AppendUint64(nil, uint64(id)))
}

func decodeCursor(s string) (int64, error) {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || len(b) != 8 {
		return 0, apperr.New(apperr.InvalidCursor, "")
	}
	return int64(binary.BigEndian.Uint64(b)), nil
}

// encodeSortCursor is the cursor of an order with a key: its code, the key, the id.
func encodeSortCursor(sort ClaimSort, v, id int64) string {
	b := []byte{sortCode[sort]}
	b = binary.BigEndian.AppendUint64(b, uint64(v))
	b = binary.BigEndian.AppendUint64(b, uint64(id))
	return base64.RawURLEncoding.EncodeToString(b)
}

// decodeSortCursor reads a cursor of sort; a cursor of another order is invalid.
func decodeSortCursor(s string, sort ClaimSort) (v, id int64, err error) {
	if sort == SortNewest || sort == SortOldest {
		id, err = decodeCursor(s)
		return 0, id, err
	}
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || len(b) != 17 || b[0] != sortCode[sort] {
		return 0, 0, apperr.New(apperr.InvalidCursor, "")
	}
	return int64(binary.BigEndian.Uint64(b[1:9])), int64(binary.BigEndian.Uint64(b[9:])), nil
}
