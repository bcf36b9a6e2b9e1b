// Package intake turns a claim as sent by a claimant or a partner (JSON body, NDJSON line, CSV
// rows, web form) into a normalized claim, or into the complete list of what is wrong with it.
// It is the one place where a claim is validated, so every channel accepts and rejects the same
// things with the same codes.
package intake

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"

	"github.com/claimdesk/claimdesk/damages"
	"github.com/claimdesk/claimdesk/internal/apperr"
)

// Limits of a claim. The number of items and the amounts are the domain's: the valuation is
// specified for them (damages.MaxItemsPerClaim, damages.MaxAmountKRW).
const (
	MaxItems       = damages.MaxItemsPerClaim
	MaxAmountKRW   = damages.MaxAmountKRW
	MaxDescription = 2000
	MaxName        = 100
)

// Item kinds: the domain's (damages values each kind by its own rule).
const (
	KindTaxiBooking = damages.KindTaxiBooking
	KindPayment     = damages.KindPayment
	KindMessage     = damages.KindMessage
	KindOther       = damages.KindOther
)

// Kinds lists every item kind.
var Kinds = damages.Kinds()

// defaultFeature is the feature of an item that names none.
var defaultFeature = map[string]string{KindTaxiBooking: "taxi", KindPayment: "payments", KindMessage: "text"}

// failures lists the accepted failure codes of the kinds that have one.
var failures = map[string][]string{
	KindTaxiBooking: {"booking_failed", "no_driver", "payment_failed", "trip_cancelled"},
	KindPayment:     {"payment_failed", "transfer_failed", "double_charged", "balance_unavailable"},
}

// Purposes of a message item.
var Purposes = []string{"personal", "business"}

// Failures returns the accepted failure codes of kind (nil when the kind has none).
func Failures(kind string) []string { return failures[kind] }

// ClaimInput is a claim as sent. Field names are fixed: outside clients integrate against them.
type ClaimInput struct {
	Claimant    ClaimantInput `json:"claimant"`
	Consent     *bool         `json:"consent"`
	ExternalRef *string       `json:"external_ref" validate:"omitempty,max=200,nocontrol"`
	// Items are at most MaxItems: Normalize refuses more before any tag is checked.
	Items []ItemInput `json:"items" validate:"required,min=1,dive"`
}

// ClaimantInput is the person who claims.
type ClaimantInput struct {
	Name   string `json:"name" validate:"required,max=100,nocontrol"`
	Email  string `json:"email" validate:"omitempty,max=254,email"`
	Phone  string `json:"phone" validate:"omitempty,max=40"`
	Locale string `json:"locale" validate:"omitempty,oneof=ko en"`
}

// ItemInput is one incident of a claim. Times are strings because a local time without an
// offset is accepted and read in the case's zone.
type ItemInput struct {
	Kind               string `json:"kind" validate:"required,oneof=taxi_booking payment message other"`
	Service            string `json:"service"`
	Feature            string `json:"feature"`
	OccurredAt         string `json:"occurred_at" validate:"required"`
	EndedAt            string `json:"ended_at"`
	Failure            string `json:"failure"`
	Purpose            string `json:"purpose"`
	ExpectedFareKRW    *int64 `json:"expected_fare_krw" validate:"omitempty,krw"`
	AlternativeCostKRW *int64 `json:"alternative_cost_krw" validate:"omitempty,krw"`
	AmountKRW          *int64 `json:"amount_krw" validate:"omitempty,krw"`
	LossKRW            *int64 `json:"loss_krw" validate:"omitempty,krw"`
	Documented         *bool  `json:"documented"`
	Description        string `json:"description" validate:"max=2000,multiline"`
}

// Claim is a validated, normalized claim: instants in UTC, phone in E.164, defaults filled.
type Claim struct {
	ExternalRef string   `json:"external_ref,omitempty"`
	Claimant    Claimant `json:"claimant"`
	Items       []Item   `json:"items"`
}

// Claimant is the normalized claimant.
type Claimant struct {
	Name   string `json:"name"`
	Email  string `json:"email,omitempty"`
	Phone  string `json:"phone,omitempty"`
	Locale string `json:"locale"`
}

// Item is a normalized incident.
type Item struct {
	Kind               string     `json:"kind"`
	Service            string     `json:"service"`
	Feature            string     `json:"feature"`
	OccurredAt         time.Time  `json:"occurred_at"`
	EndedAt            *time.Time `json:"ended_at,omitempty"`
	Failure            string     `json:"failure,omitempty"`
	Purpose            string     `json:"purpose,omitempty"`
	ExpectedFareKRW    int64      `json:"expected_fare_krw"`
	AlternativeCostKRW int64      `json:"alternative_cost_krw"`
	AmountKRW          int64      `json:"amount_krw"`
	LossKRW            int64      `json:"loss_krw"`
	Documented         bool       `json:"documented"`
	Description        string     `json:"description,omitempty"`
}

// Period is the item's time as the domain sees it.
func (it Item) Period() damages.Period {
	p := damages.Period{Start: it.OccurredAt}
	if it.EndedAt != nil {
		p.End = *it.EndedAt
	}
	return p
}

// ContentHash identifies the content of a claim: two submissions with the same external_ref
// and the same hash are the same claim sent twice. Claims without an external_ref are stored
// without it.
func (c Claim) ContentHash() string {
	b, _ := json.Marshal(c) // only strings, ints, bools and times: cannot fail
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// Normalize validates in against the case and returns the normalized claim, or an
// apperr.Invalid error listing every failing field. now bounds occurred_at from above.
//
// Text is trimmed and put in NFC before the struct tags judge it: a length limit counts the
// characters a claimant typed (800 Hangul syllables typed on a Mac arrive decomposed, as 2,000
// or more jamo), and an email with a space before it is the email. A claim over MaxItems items
// is refused for that alone, before any item is looked at: the items of a 1 MiB body are
// hundreds of thousands of empty objects, each worth a few errors.
func Normalize(in ClaimInput, c *damages.Case, now time.Time) (Claim, error) {
	if len(in.Items) > MaxItems {
		return Claim{}, apperr.Validation([]apperr.FieldError{{Path: "items", Code: apperr.FieldTooMany, Params: map[string]string{"max": strconv.Itoa(MaxItems)}}})
	}
	in = tidy(in)
	var errs []apperr.FieldError
	errs = append(errs, validateStruct(in)...)
	failed := func(path string) bool {
		for _, e := range errs {
			if e.Path == path {
				return true
			}
		}
		return false
	}
	out := Claim{}
	if in.ExternalRef != nil {
		out.ExternalRef = *in.ExternalRef
	}
	if in.Consent == nil || !*in.Consent {
		errs = append(errs, apperr.FieldError{Path: "consent", Code: apperr.FieldConsentRequired})
	}

	cl := in.Claimant
	out.Claimant = Claimant{Name: cl.Name, Locale: cl.Locale}
	if out.Claimant.Locale == "" {
		out.Claimant.Locale = "ko"
	}
	if out.Claimant.Name == "" && !failed("claimant.name") {
		errs = append(errs, apperr.FieldError{Path: "claimant.name", Code: apperr.FieldRequired})
	}
	if cl.Email == "" && cl.Phone == "" {
		errs = append(errs, apperr.FieldError{Path: "claimant.email", Code: apperr.FieldRequired, Message: "contact_required"})
	}
	var phoneErr error
	out.Claimant.Email, out.Claimant.Phone, phoneErr = contactOf(cl)
	if phoneErr != nil && !failed("claimant.phone") {
		errs = append(errs, apperr.FieldError{Path: "claimant.phone", Code: apperr.FieldInvalidFormat, Params: map[string]string{"hint": "hint_phone"}})
	}

	out.Items = make([]Item, len(in.Items))
	for i, it := range in.Items {
		item, itemErrs := normalizeItem(it, c, now, func(field string) bool { return failed(itemPath(i, field)) })
		out.Items[i] = item
		errs = append(errs, apperr.Prefix("items["+strconv.Itoa(i)+"]", itemErrs)...)
	}
	if len(errs) > 0 {
		apperr.SortFields(errs)
		return Claim{}, apperr.Validation(errs)
	}
	return out, nil
}

// tidy trims the free text of in, and puts names and descriptions in NFC. What it changes is
// changed on copies: the caller's input (a web form shown again with its errors, say) is left as
// sent. The items are copied only when a description changes (TrimSpace and nfc return the text
// itself when there is nothing to do), so a claim typed tidily, as most are, costs no copy.
func tidy(in ClaimInput) ClaimInput {
	if in.ExternalRef != nil {
		if ref := NormalizeRef(*in.ExternalRef); ref != *in.ExternalRef {
			in.ExternalRef = new(ref) // not &ref, which would put ref on the heap changed or not
		}
	}
	in.Claimant.Name = nfc(strings.TrimSpace(in.Claimant.Name))
	in.Claimant.Email = strings.TrimSpace(in.Claimant.Email)
	in.Claimant.Phone = strings.TrimSpace(in.Claimant.Phone)
	copied := false
	for i := range in.Items {
		d := nfc(strings.TrimSpace(in.Items[i].Description))
		if d == in.Items[i].Description {
			continue
		}
		if !copied {
			in.Items, copied = slices.Clone(in.Items), true
		}
		in.Items[i].Description = d
	}
	return in
}

// contactOf is the email and phone of a tidied claimant as they are stored: the email in lower
// case, the phone in E.164 (with the error of a phone that does not read as one).
func contactOf(cl ClaimantInput) (email, phone string, err error) {
	if cl.Phone != "" {
		phone, err = NormalizePhone(cl.Phone)
	}
	return strings.ToLower(cl.Email), phone, err
}

// NormalizeContact is a claimant's name, email and phone as Normalize stores them (trimmed, the
// name in NFC, the email in lower case, the phone in E.164), for contact details corrected after
// filing, which are stored as they would have been filed. Validate them first (Normalize): a
// phone that does not read as a number comes back as the empty string, as no phone does
// (NormalizePhone's error is dropped).
func NormalizeContact(name, email, phone string) (string, string, string) {
	cl := tidy(ClaimInput{Claimant: ClaimantInput{Name: name, Email: email, Phone: phone}}).Claimant
	email, phone, _ = contactOf(cl)
	return cl.Name, email, phone
}

// NormalizeRef is an external_ref as it is stored and compared: trimmed, in Unicode NFC (a
// reference typed with Hangul on macOS arrives decomposed, and would otherwise name another
// claim than the same reference typed elsewhere). Imports group their rows by it.
func NormalizeRef(s string) string { return nfc(strings.TrimSpace(s)) }

func itemPath(i int, field string) string { return "items[" + strconv.Itoa(i) + "]." + field }

// normalizeItem applies the rules that depend on the kind and on the case. failed reports
// whether the struct tags already rejected a field, so one field gets one error.
func normalizeItem(in ItemInput, c *damages.Case, now time.Time, failed func(string) bool) (Item, []apperr.FieldError) {
	var errs []apperr.FieldError
	add := func(path, code string, params map[string]string) {
		f := apperr.FieldError{Path: path, Code: code, Params: params}
		if key, ok := params["message"]; ok { // a more specific text than the code's
			f.Message = key
			delete(params, "message")
		}
		errs = append(errs, f)
	}
	it := Item{
		Kind: in.Kind, Service: strings.TrimSpace(in.Service), Feature: strings.TrimSpace(in.Feature),
		Failure: strings.TrimSpace(in.Failure), Purpose: strings.TrimSpace(in.Purpose),
		ExpectedFareKRW: deref(in.ExpectedFareKRW), AlternativeCostKRW: deref(in.AlternativeCostKRW),
		AmountKRW: deref(in.AmountKRW), LossKRW: deref(in.LossKRW),
		Documented: in.Documented != nil && *in.Documented, Description: in.Description,
	}

	// Service, kind and feature, in that order: each check needs the one before.
	if !failed("kind") {
		if it.Service == "" && it.Kind != KindOther {
			it.Service = onlyServiceFor(c, it.Kind)
		}
		svc, ok := c.Service(it.Service)
		switch {
		case it.Service == "":
			add("service", apperr.FieldRequired, nil)
		case !ok:
			add("service", apperr.FieldUnknownService, map[string]string{"value": it.Service})
		case !slices.Contains(svc.Kinds, it.Kind):
			add("kind", apperr.FieldKindNotAllowed, map[string]string{"allowed": strings.Join(svc.Kinds, ", ")})
		default:
			if it.Feature == "" {
				if f := defaultFeature[it.Kind]; f != "" && slices.Contains(svc.Features, f) {
					it.Feature = f
				}
			}
			switch {
			case it.Feature == "":
				add("feature", apperr.FieldRequired, nil)
			case !slices.Contains(svc.Features, it.Feature):
				add("feature", apperr.FieldUnknownFeature, map[string]string{"value": it.Feature})
			}
		}
		errs = append(errs, kindRules(&it, in)...)
	}

	if !failed("occurred_at") {
		t, ok := parseTime(in.OccurredAt, "occurred_at", c.Location, now, add)
		it.OccurredAt = t
		if ok && in.EndedAt != "" && (it.Kind == KindMessage || it.Kind == KindOther) {
			if end, ok := parseTime(in.EndedAt, "ended_at", c.Location, now, add); ok {
				if end.Before(t) {
					add("ended_at", apperr.FieldEndBeforeStart, nil)
				}
				it.EndedAt = &end
			}
		}
	}
	return it, errs
}

// kindRules checks the fields whose meaning depends on the kind: which failure codes and
// purposes exist, which amounts are required, and that fields of other kinds are left empty.
func kindRules(it *Item, in ItemInput) []apperr.FieldError {
	var errs []apperr.FieldError
	add := func(path, code string, params map[string]string) {
		errs = append(errs, apperr.FieldError{Path: path, Code: code, Params: params})
	}
	notFor := func(path string) { add(path, apperr.FieldNotApplicable, map[string]string{"kind": it.Kind}) }

	if allowed := failures[it.Kind]; allowed != nil {
		switch {
		case it.Failure == "":
			add("failure", apperr.FieldRequired, nil)
		case !slices.Contains(allowed, it.Failure):
			add("failure", apperr.FieldInvalidValue, map[string]string{"allowed": strings.Join(allowed, ", ")})
		}
	} else if it.Failure != "" {
		notFor("failure")
	}
	if it.Kind == KindMessage {
		switch {
		case it.Purpose == "":
			add("purpose", apperr.FieldRequired, nil)
		case !slices.Contains(Purposes, it.Purpose):
			add("purpose", apperr.FieldInvalidValue, map[string]string{"allowed": strings.Join(Purposes, ", ")})
		}
	} else if it.Purpose != "" {
		notFor("purpose")
	}
	if it.Kind != KindTaxiBooking {
		if in.ExpectedFareKRW != nil && *in.ExpectedFareKRW != 0 {
			notFor("expected_fare_krw")
		}
		if in.AlternativeCostKRW != nil && *in.AlternativeCostKRW != 0 {
			notFor("alternative_cost_krw")
		}
	}
	if it.Kind == KindPayment {
		switch {
		case in.AmountKRW == nil:
			add("amount_krw", apperr.FieldRequired, nil)
		case *in.AmountKRW == 0:
			add("amount_krw", apperr.FieldOutOfRange, map[string]string{"min": "1", "max": strconv.Itoa(MaxAmountKRW)})
		}
	} else if in.AmountKRW != nil && *in.AmountKRW != 0 {
		notFor("amount_krw")
	}
	if in.EndedAt != "" && it.Kind != KindMessage && it.Kind != KindOther {
		notFor("ended_at")
	}
	return errs
}

func parseTime(s, field string, loc *time.Location, now time.Time, add func(string, string, map[string]string)) (time.Time, bool) {
	t, err := ParseInstant(s, loc)
	switch {
	case err != nil:
		add(field, apperr.FieldInvalidFormat, map[string]string{"hint": "hint_time"})
	case t.After(now):
		add(field, apperr.FieldInFuture, nil)
	case t.Before(earliest):
		add(field, apperr.FieldOutOfRange, map[string]string{"min": "2000-01-01", "message": "too_early"})
	default:
		return t, true
	}
	return time.Time{}, false
}

// onlyServiceFor returns the service for a kind when exactly one service of the case accepts it.
func onlyServiceFor(c *damages.Case, kind string) string {
	found := ""
	for _, s := range c.Services {
		if slices.Contains(s.Kinds, kind) {
			if found != "" {
				return ""
			}
			found = s.Slug
		}
	}
	return found
}

func deref(p *int64) int64 {
	if p == nil {
		return 0
	}
	return *p
}

// hasControl reports whether s has a control character (newlines and tabs included: names and
// references are one line), or is not UTF-8 (a form field can carry any bytes).
func hasControl(s string) bool {
	return !utf8.ValidString(s) || strings.IndexFunc(s, unicode.IsControl) >= 0
}

// hasControlInLines is hasControl for text of several lines: tabs and line breaks are text there.
func hasControlInLines(s string) bool {
	return !utf8.ValidString(s) || strings.IndexFunc(s, func(r rune) bool {
		return unicode.IsControl(r) && r != '\t' && r != '\n' && r != '\r'
	}) >= 0
}

// nfc returns s in Unicode normalization form C, so that the same name or description typed on
// two keyboards is stored, compared and hashed the same. Text made only of ASCII and precomposed
// Hangul syllables, as most claims are, is in that form already (none of its characters
// combines with a neighbour or moves), and is returned after one pass over its bytes: norm's
// own check looks each character up and cost 3% of a claim's CPU. Anything else goes to norm.
// FuzzNFC holds it to norm.
func nfc(s string) string {
	for i := 0; i < len(s); {
		if s[i] < utf8.RuneSelf {
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r < 0xAC00 || r > 0xD7A3 { // 가 to 힣
			return norm.NFC.String(s)
		}
		i += size
	}
	return s
}
