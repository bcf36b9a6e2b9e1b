package store

import (
	"context"
	"encoding/base64"
	"encoding/binary"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/claimdesk/claimdesk/internal/apperr"
	"github.com/claimdesk/claimdesk/models"
)

// ClaimFilter selects claims of a case for a list: the one query behind the API's claims list
// and the lawyers' claims page. Zero fields do not filter.
type ClaimFilter struct {
	CaseID  int64
	Status  string
	Channel string
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
// name. Each is answered from an index (prefix matches on PostgreSQL use the
// text_pattern_ops indexes of migration 00012).
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
	if f.Status != "" {
		q = q.Where("status = ?", f.Status)
	}
	if f.Channel != "" {
		q = q.Where("channel = ?", f.Channel)
	}
	if f.Service != "" || f.Eligibility != "" || f.Kind != "" {
		// case_id too, so that a filter matching few items (or none) is answered from the
		// (case_id, service, eligibility) and (case_id, kind, eligibility) indexes instead of
		// a walk over every claim.
		sub := s.db.Model(&models.ClaimItem{}).Select("1").Where("claim_items.claim_id = claims.id AND claim_items.case_id = ?", f.CaseID)
		if f.Service != "" {
			sub = sub.Where("claim_items.service = ?", f.Service)
		}
		if f.Kind != "" {
			sub = sub.Where("claim_items.kind = ?", f.Kind)
		}
		if f.Eligibility != "" {
			sub = sub.Where("claim_items.eligibility = ?", f.Eligibility)
		}
		q = q.Where("EXISTS (?)", sub)
	}
	if !f.SubmittedAfter.IsZero() {
		q = q.Where("submitted_at > ?", f.SubmittedAfter.UTC())
	}
	if !f.SubmittedFrom.IsZero() {
		q = q.Where("submitted_at >= ?", f.SubmittedFrom.UTC())
	}
	if !f.SubmittedBefore.IsZero() {
		q = q.Where("submitted_at < ?", f.SubmittedBefore.UTC())
	}
	if f.Flag != "" {
		q = q.Where("EXISTS (?)", s.db.Model(&models.ClaimSignal{}).Select("1").Where("claim_signals.claim_id = claims.id AND claim_signals.case_id = ? AND claim_signals.code = ?", f.CaseID, f.Flag))
	}
	if f.MinScore > 0 {
		q = q.Where("fraud_score >= ?", f.MinScore)
	}
	if f.Search != nil {
		q = q.Where(s.searchClause(f.Search))
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

// searchClause ORs the search's parts; prefixes are LIKE patterns with wildcards escaped.
func (s *Store) searchClause(sr *ClaimSearch) *gorm.DB {
	var parts []string
	var args []any
	if sr.Reference != "" {
		parts, args = append(parts, "reference = ?"), append(args, sr.Reference)
	}
	if sr.EmailPrefix != "" {
		parts, args = append(parts, `claimant_email LIKE ? ESCAPE '\'`), append(args, likePrefix(sr.EmailPrefix))
	}
	if sr.PhonePrefix != "" {
		parts, args = append(parts, `claimant_phone LIKE ? ESCAPE '\'`), append(args, likePrefix(sr.PhonePrefix))
	}
	if sr.NamePrefix != "" {
		parts, args = append(parts, `claimant_name LIKE ? ESCAPE '\'`), append(args, likePrefix(sr.NamePrefix))
	}
	if len(parts) == 0 {
		return s.db.Where("1 = 0")
	}
	return s.db.Where("("+strings.Join(parts, " OR ")+")", args...)
}

// likePrefix is the LIKE pattern of the strings beginning with p.
func likePrefix(p string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(p) + "%"
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
