// Package lifecycle is the status lifecycle of a claim, the one place that says which changes
// of status are allowed and what each needs (reason codes, a note, a cure deadline, the claim
// a duplicate duplicates). It is pure: the claims service applies what it allows.
//
//	received -> under_review -> approved | rejected
//	under_review -> deficient -> cured -> under_review
//	deficient -> rejected, once the cure deadline has passed (the expiry job)
//	any open status -> withdrawn (the claimant's request) | duplicate (of another claim)
package lifecycle

import (
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/claimdesk/claimdesk/internal/apperr"
)

// Statuses of a claim.
const (
	Received    = "received"
	UnderReview = "under_review"
	Deficient   = "deficient"
	Cured       = "cured"
	Approved    = "approved"
	Rejected    = "rejected"
	Withdrawn   = "withdrawn"
	Duplicate   = "duplicate"
)

// Statuses lists every status.
var Statuses = []string{Received, UnderReview, Deficient, Cured, Approved, Rejected, Withdrawn, Duplicate}

// OpenStatuses are the statuses a claim can still move on from (and be withdrawn from).
var OpenStatuses = []string{Received, UnderReview, Deficient, Cured}

// IsOpen reports whether a claim in status can still change.
func IsOpen(status string) bool { return slices.Contains(OpenStatuses, status) }

// next is the transition table.
var next = map[string][]string{
	Received:    {UnderReview, Withdrawn, Duplicate},
	UnderReview: {Approved, Rejected, Deficient, Withdrawn, Duplicate},
	Deficient:   {Cured, Rejected, Withdrawn, Duplicate},
	Cured:       {UnderReview, Withdrawn, Duplicate},
}

// Allowed lists the statuses a claim in from may move to.
func Allowed(from string) []string { return next[from] }

// AllowedAt lists the statuses a claim can move to now: Allowed, less rejection while a
// deficient claim's cure period runs (what Check refuses with cure_period_running).
func AllowedAt(cur Current, now time.Time) []string {
	var out []string
	for _, to := range next[cur.Status] {
		if !curing(cur, to, now) {
			out = append(out, to)
		}
	}
	return out
}

// curing says whether moving cur to to is refused because the claimant may still cure it: an
// uncured claim is rejected only once its deadline has passed.
func curing(cur Current, to string, now time.Time) bool {
	return cur.Status == Deficient && to == Rejected && (cur.CureDeadline == nil || now.Before(*cur.CureDeadline))
}

// DefaultCureDays is the cure period of a deficiency notice when none is given.
const DefaultCureDays = 14

// MaxCureDays bounds the cure period.
const MaxCureDays = 180

// Reason codes: a closed list (texts in internal/messages under "reason_<code>"). Each says
// which target statuses it can explain.
const (
	ReasonMissingEvidence     = "missing_evidence"
	ReasonIncompleteItems     = "incomplete_items"
	ReasonContactUnverified   = "contact_unverified"
	ReasonIdentityUnverified  = "identity_unverified"
	ReasonAmountUnsupported   = "amount_unsupported"
	ReasonOutsideWindows      = "outside_windows"
	ReasonNotCovered          = "not_covered"
	ReasonFraudSuspected      = "fraud_suspected"
	ReasonCureDeadlinePassed  = "cure_deadline_passed"
	ReasonClaimantRequest     = "claimant_request"
	ReasonDuplicateSubmission = "duplicate_submission"
	ReasonDocumentsReceived   = "documents_received"
	ReasonOther               = "other"
)

// reasonTargets says for which target statuses each reason code can be given.
var reasonTargets = map[string][]string{
	ReasonMissingEvidence:     {Deficient, Rejected},
	ReasonIncompleteItems:     {Deficient, Rejected},
	ReasonContactUnverified:   {Deficient, Rejected},
	ReasonIdentityUnverified:  {Deficient, Rejected},
	ReasonAmountUnsupported:   {Deficient, Rejected},
	ReasonOutsideWindows:      {Rejected},
	ReasonNotCovered:          {Rejected},
	ReasonFraudSuspected:      {Rejected, UnderReview},
	ReasonCureDeadlinePassed:  {Rejected},
	ReasonClaimantRequest:     {Withdrawn},
	ReasonDuplicateSubmission: {Duplicate},
	ReasonDocumentsReceived:   {Cured},
	ReasonOther:               Statuses,
}

// Reasons lists every reason code, sorted.
func Reasons() []string {
	out := make([]string, 0, len(reasonTargets))
	for r := range reasonTargets {
		out = append(out, r)
	}
	slices.Sort(out)
	return out
}

// Request is a change of status asked for.
type Request struct {
	To          string
	Reasons     []string
	Note        string
	CureDays    *int
	DuplicateOf string // the reference of the claim this one duplicates (to duplicate only)
}

// Current is what the lifecycle needs to know of the claim.
type Current struct {
	Status       string
	CureDeadline *time.Time
}

// Decision is an allowed change: the deadline to store (deficient only).
type Decision struct {
	CureDeadline *time.Time
}

// MaxNote bounds the note of a transition.
const MaxNote = 2000

// Check decides whether the change req is allowed from cur at now: an apperr.Invalid error
// for a malformed request (unknown status or reason, missing reasons), apperr.InvalidTransition
// when the status does not allow it.
func Check(cur Current, req Request, now time.Time) (Decision, error) {
	var fields []apperr.FieldError
	if !slices.Contains(Statuses, req.To) {
		fields = append(fields, apperr.FieldError{Path: "to", Code: apperr.FieldInvalidValue, Params: map[string]string{"allowed": strings.Join(Statuses, ", ")}})
	}
	for i, r := range req.Reasons {
		targets, ok := reasonTargets[r]
		if !ok || (req.To != "" && slices.Contains(Statuses, req.To) && !slices.Contains(targets, req.To)) {
			fields = append(fields, apperr.FieldError{Path: "reasons[" + strconv.Itoa(i) + "]", Code: apperr.FieldInvalidValue,
				Params: map[string]string{"allowed": strings.Join(ReasonsFor(req.To), ", ")}})
		}
	}
	if NeedsReason(req.To) && len(req.Reasons) == 0 {
		fields = append(fields, apperr.FieldError{Path: "reasons", Code: apperr.FieldRequired})
	}
	if slices.Contains(req.Reasons, ReasonOther) && strings.TrimSpace(req.Note) == "" {
		fields = append(fields, apperr.FieldError{Path: "note", Code: apperr.FieldRequired})
	}
	fields = append(fields, CheckNote(req.Note)...)
	if req.CureDays != nil {
		if req.To != Deficient {
			fields = append(fields, apperr.FieldError{Path: "cure_days", Code: apperr.FieldNotApplicable, Params: map[string]string{"kind": req.To}})
		} else if *req.CureDays < 1 || *req.CureDays > MaxCureDays {
			fields = append(fields, apperr.FieldError{Path: "cure_days", Code: apperr.FieldOutOfRange, Params: map[string]string{"min": "1", "max": strconv.Itoa(MaxCureDays)}})
		}
	}
	if req.To == Duplicate && req.DuplicateOf == "" {
		fields = append(fields, apperr.FieldError{Path: "duplicate_of", Code: apperr.FieldRequired})
	}
	if req.To != Duplicate && req.DuplicateOf != "" {
		fields = append(fields, apperr.FieldError{Path: "duplicate_of", Code: apperr.FieldNotApplicable, Params: map[string]string{"kind": req.To}})
	}
	if len(fields) > 0 {
		return Decision{}, apperr.Validation(fields)
	}
	refuse := func(key string) (Decision, error) {
		return Decision{}, &apperr.Error{Code: apperr.InvalidTransition, Message: key,
			Params: map[string]string{"from": cur.Status, "to": req.To, "allowed": strings.Join(Allowed(cur.Status), ", ")}}
	}
	if !slices.Contains(next[cur.Status], req.To) {
		return refuse("invalid_transition")
	}
	if curing(cur, req.To, now) {
		return refuse("cure_period_running")
	}
	var d Decision
	if req.To == Deficient {
		days := DefaultCureDays
		if req.CureDays != nil {
			days = *req.CureDays
		}
		dl := now.UTC().Truncate(time.Microsecond).AddDate(0, 0, days)
		d.CureDeadline = &dl
	}
	return d, nil
}

// NeedsReason reports whether a change to status to must give at least one reason code.
func NeedsReason(to string) bool { return to == Deficient || to == Rejected }

// ReasonsFor lists the reason codes that can explain a change to status to, sorted.
func ReasonsFor(to string) []string {
	var out []string
	for _, r := range Reasons() {
		if to == "" || slices.Contains(reasonTargets[r], to) {
			out = append(out, r)
		}
	}
	return out
}

// CheckNote is the error of a note longer than MaxNote characters, if it is (a transition's
// note, and a duplicate decision's).
func CheckNote(note string) []apperr.FieldError {
	if utf8.RuneCountInString(note) <= MaxNote {
		return nil
	}
	return []apperr.FieldError{{Path: "note", Code: apperr.FieldTooLong, Params: map[string]string{"max": strconv.Itoa(MaxNote)}}}
}
