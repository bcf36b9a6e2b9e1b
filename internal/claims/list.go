package claims

import (
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/claimdesk/claimdesk/damages"
	"github.com/claimdesk/claimdesk/internal/apperr"
	"github.com/claimdesk/claimdesk/internal/auth"
	"github.com/claimdesk/claimdesk/internal/intake"
	"github.com/claimdesk/claimdesk/internal/lifecycle"
	"github.com/claimdesk/claimdesk/internal/store"
)

// Channels lists the channels a claim can arrive by.
var Channels = []string{ChannelWeb, ChannelAPI, ChannelImport}

// Eligibilities lists the eligibility decisions of an item.
var Eligibilities = []string{string(damages.Eligible), string(damages.EligibleDegraded), string(damages.Ineligible)}

// MaxListLimit is the largest page of the claims list.
const MaxListLimit = 500

// MaxSearchLength bounds the free-text search.
const MaxSearchLength = 100

// ListFilterParams are the query parameters of ListFilter that select claims (the rest order
// and page them).
var ListFilterParams = []string{"status", "channel", "service", "kind", "eligibility", "submitted_after", "submitted_from", "submitted_to",
	"flag", "min_score", "q"}

// ListFilter reads the claims list's query parameters into the store's filter: the one reading
// for GET /api/v1/cases/{case}/claims and the lawyers' claims page. Every bad parameter is
// reported at once, by name:
//
//	status                                        one status, or several separated by commas (any of them)
//	channel, service, kind, eligibility           one value of each
//	submitted_after                               an instant (exclusive)
//	submitted_from, submitted_to                  days (YYYY-MM-DD) in the case's zone, both included
//	flag, min_score                               a fraud signal's code; a score threshold
//	q                                             a reference, or the beginning of an email, phone or name
//	sort                                          newest (default), oldest, estimate, score
//	cursor, limit                                 keyset pages (limit 1..500, default 50)
func ListFilter(cs *store.Case, q url.Values) (store.ClaimFilter, error) {
	f := store.ClaimFilter{CaseID: cs.ID, Limit: 50, Cursor: q.Get("cursor"),
		Channel: q.Get("channel"), Service: q.Get("service"), Kind: q.Get("kind"), Eligibility: q.Get("eligibility")}
	var errs []apperr.FieldError
	oneOf := func(name, v string, allowed []string) {
		if v != "" && !slices.Contains(allowed, v) {
			errs = append(errs, apperr.FieldError{Path: name, Code: apperr.FieldInvalidValue, Params: map[string]string{"allowed": strings.Join(allowed, ", ")}})
		}
	}
	// Several statuses are one comma-separated value, not a repeated parameter, so that
	// everything passing the filters on as one string each (the page's links, the exports'
	// audit record and background jobs, the export command's --status) keeps them all.
	// f.Statuses is set only when every status is known, even when another filter is wrong
	// (the lawyers' page offers a valid list back whatever else the query says).
	if v := q.Get("status"); v != "" {
		statuses := strings.Split(v, ",")
		if slices.ContainsFunc(statuses, func(s string) bool { return !slices.Contains(lifecycle.Statuses, s) }) {
			oneOf("status", v, lifecycle.Statuses) // one error for the parameter
		} else {
			f.Statuses = statuses
		}
	}
	oneOf("channel", f.Channel, Channels)
	if f.Service != "" && !cs.Domain().HasService(f.Service) {
		errs = append(errs, apperr.FieldError{Path: "service", Code: apperr.FieldUnknownService, Params: map[string]string{"value": f.Service}})
	}
	oneOf("kind", f.Kind, damages.Kinds())
	oneOf("eligibility", f.Eligibility, Eligibilities)
	if v := q.Get("submitted_after"); v != "" {
		t, err := intake.ParseInstant(v, cs.Location)
		if err != nil {
			errs = append(errs, apperr.FieldError{Path: "submitted_after", Code: apperr.FieldInvalidFormat, Params: map[string]string{"hint": "hint_time"}})
		}
		f.SubmittedAfter = t
	}
	day := func(name string) time.Time {
		v := q.Get(name)
		if v == "" {
			return time.Time{}
		}
		t, err := time.ParseInLocation(time.DateOnly, v, cs.Location)
		if err != nil {
			errs = append(errs, apperr.FieldError{Path: name, Code: apperr.FieldInvalidFormat, Params: map[string]string{"hint": "YYYY-MM-DD"}})
		}
		return t
	}
	f.SubmittedFrom = day("submitted_from")
	if to := day("submitted_to"); !to.IsZero() {
		f.SubmittedBefore = to.AddDate(0, 0, 1) // the whole last day: [from, to+1)
		// Both days are included, so to may equal from but not precede it (to+1 is after
		// from whenever to is from-1, and compared here it let an empty range through).
		if !f.SubmittedFrom.IsZero() && to.Before(f.SubmittedFrom) {
			errs = append(errs, apperr.FieldError{Path: "submitted_to", Code: apperr.FieldEndBeforeStart})
		}
	}
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > MaxListLimit {
			errs = append(errs, apperr.FieldError{Path: "limit", Code: apperr.FieldOutOfRange, Params: map[string]string{"min": "1", "max": strconv.Itoa(MaxListLimit)}})
		}
		f.Limit = n
	}
	// Fraud signals: flag is an open code (any signal recorded), min_score a threshold.
	f.Flag = q.Get("flag")
	if len(f.Flag) > 64 {
		errs = append(errs, apperr.FieldError{Path: "flag", Code: apperr.FieldTooLong, Params: map[string]string{"max": "64"}})
	}
	if v := q.Get("min_score"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 || n > 1_000_000 {
			errs = append(errs, apperr.FieldError{Path: "min_score", Code: apperr.FieldOutOfRange, Params: map[string]string{"min": "0", "max": "1000000"}})
		}
		f.MinScore = n
	}
	if v := strings.TrimSpace(q.Get("q")); v != "" {
		if utf8.RuneCountInString(v) > MaxSearchLength || !utf8.ValidString(v) {
			errs = append(errs, apperr.FieldError{Path: "q", Code: apperr.FieldTooLong, Params: map[string]string{"max": strconv.Itoa(MaxSearchLength)}})
		} else {
			f.Search = Search(v)
		}
	}
	if v := q.Get("sort"); v != "" {
		f.Sort = store.ClaimSort(v)
		sorts := make([]string, len(store.ClaimSorts))
		for i, s := range store.ClaimSorts {
			sorts[i] = string(s)
		}
		oneOf("sort", v, sorts)
	}
	if len(errs) > 0 {
		return f, apperr.Validation(errs)
	}
	return f, nil
}

// Search reads a free-text search as what it can be: a reference in any spelling, the
// beginning of an email address (with an @), of a phone number in any common spelling (four
// digits or more), and always the beginning of a name.
func Search(q string) *store.ClaimSearch {
	s := &store.ClaimSearch{Reference: auth.CanonicalReference(q), NamePrefix: q}
	if strings.Contains(q, "@") {
		s.EmailPrefix = auth.NormalizeEmail(q)
	}
	if p, err := intake.NormalizePhone(q); err == nil {
		s.PhonePrefix = p
	} else if d := phoneDigits(q); len(d) >= 4 {
		// A partial number: "010-1234" is the beginning of +82101234….
		if strings.HasPrefix(d, "0") {
			s.PhonePrefix = "+82" + d[1:]
		} else {
			s.PhonePrefix = "+" + d
		}
	}
	return s
}

// phoneDigits returns the digits of s when s looks like (part of) a phone number: digits with
// spaces, dashes, dots, parentheses and a leading +; "" otherwise.
func phoneDigits(s string) string {
	var b strings.Builder
	for i, r := range s {
		switch {
		case unicode.IsDigit(r) && r < 128:
			b.WriteRune(r)
		case r == ' ' || r == '-' || r == '.' || r == '(' || r == ')' || (r == '+' && i == 0):
		default:
			return ""
		}
	}
	return b.String()
}
