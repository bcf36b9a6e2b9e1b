package claims

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/claimdesk/claimdesk/internal/apperr"
	"github.com/claimdesk/claimdesk/internal/audit"
	"github.com/claimdesk/claimdesk/internal/auth"
	"github.com/claimdesk/claimdesk/internal/lifecycle"
	"github.com/claimdesk/claimdesk/internal/redact"
	"github.com/claimdesk/claimdesk/internal/store"
	"github.com/claimdesk/claimdesk/models"
)

// Audit actions of claims.
const (
	ActionTransition    = "transition"
	ActionWithdraw      = "withdraw"
	ActionSubmit        = "submit"
	ActionSignal        = "signal"
	ActionDuplicateDecn = "decide_duplicate"
)

// Transition changes the status of a stored claim as the lifecycle allows, recording the
// transition and an audit event together. It is the one path for every change of status: the
// API, the lawyer pages, the claimant's withdrawal and the expiry job all come through here.
func (s *Service) Transition(ctx context.Context, cl *models.Claim, req lifecycle.Request, actor audit.Actor) (*models.ClaimTransition, error) {
	return s.transition(ctx, cl, req, actor, nil)
}

// transition is Transition with the claim req.DuplicateOf names, when the caller has it.
func (s *Service) transition(ctx context.Context, cl *models.Claim, req lifecycle.Request, actor audit.Actor, orig *models.Claim) (*models.ClaimTransition, error) {
	tr, err := s.planTransition(ctx, cl, req, actor, orig)
	if err != nil {
		return nil, err
	}
	t := tr.Record
	if t.ToStatus == lifecycle.Withdrawn {
		// A withdrawn claim keeps no personal data, whoever recorded the withdrawal: the
		// withdrawal and the erasure commit together (a failure between them would leave a
		// withdrawn claim with its data, which a retry could no longer withdraw), each with
		// its audit event.
		erased, err := s.Store.TransitionAndErase(ctx, tr, s.Store.DatabaseBlobs(), eraseEvent(cl.CaseID, actor, EraseWithdrawal, t.At))
		if err != nil && !erased {
			return nil, err
		}
		if erased {
			at := t.At
			cl.ErasedAt, cl.ClaimantName, cl.ClaimantEmail, cl.ClaimantPhone, cl.ConsentIP = &at, "", "", "", ""
		}
		cl.Status, cl.CureDeadline, cl.DuplicateOf, cl.UpdatedAt = t.ToStatus, t.CureDeadline, t.DuplicateOf, t.At
		return t, err // an error here is the evidence files': the claim is withdrawn and erased
	}
	if err := s.Store.TransitionClaim(ctx, tr); err != nil {
		return nil, duplicateOfError(err, "duplicate_of")
	}
	cl.Status, cl.CureDeadline, cl.DuplicateOf, cl.UpdatedAt = t.ToStatus, t.CureDeadline, t.DuplicateOf, t.At
	return t, nil
}

// planTransition checks a transition of cl against the lifecycle and makes its record and its
// audit event, for the store to apply as long as cl is as read. orig is the claim req.DuplicateOf names when the caller
// has it already (nil: it is looked up).
func (s *Service) planTransition(ctx context.Context, cl *models.Claim, req lifecycle.Request, actor audit.Actor, orig *models.Claim) (store.Transition, error) {
	now := s.Now()
	d, err := lifecycle.Check(lifecycle.Current{Status: cl.Status, CureDeadline: cl.CureDeadline}, req, now)
	if err != nil {
		return store.Transition{}, err
	}
	t := &models.ClaimTransition{ClaimID: cl.ID, CaseID: cl.CaseID, FromStatus: cl.Status, ToStatus: req.To,
		Reasons: strings.Join(req.Reasons, ","), Note: strings.TrimSpace(req.Note), CureDeadline: d.CureDeadline,
		ActorKind: actor.Kind, ActorID: actor.ID, ActorName: actor.Name, At: now}
	if req.To == lifecycle.Duplicate {
		ref := auth.CanonicalReference(req.DuplicateOf)
		if orig != nil && orig.Reference != ref {
			orig = nil
		}
		if ref != "" && orig == nil {
			orig, err = s.Store.ClaimByReference(ctx, ref)
		}
		if ref == "" || apperr.Is(err, apperr.NotFound) || (orig != nil && (orig.CaseID != cl.CaseID || orig.ID == cl.ID)) {
			return store.Transition{}, apperr.Validation([]apperr.FieldError{{Path: "duplicate_of", Code: apperr.FieldInvalidValue, Message: "duplicate_of_invalid"}})
		}
		if err != nil {
			return store.Transition{}, err
		}
		t.DuplicateOf = &orig.ID
	}
	caseID := cl.CaseID
	reasons := req.Reasons
	if reasons == nil {
		reasons = []string{}
	}
	details := map[string]any{"reasons": reasons, "note": t.Note}
	if t.CureDeadline != nil {
		details["cure_deadline"] = t.CureDeadline.UTC().Format(time.RFC3339)
	}
	if t.DuplicateOf != nil {
		details["duplicate_of"] = auth.CanonicalReference(req.DuplicateOf)
	}
	action := ActionTransition
	if req.To == lifecycle.Withdrawn {
		action = ActionWithdraw
	}
	ev, err := audit.Event{Actor: actor, CaseID: &caseID, Action: action, Entity: audit.EntityClaim, EntityID: cl.Reference,
		Before: map[string]any{"status": cl.Status}, After: map[string]any{"status": req.To}, Details: details}.Model(now)
	if err != nil {
		return store.Transition{}, err
	}
	return store.Transition{Record: t, Event: ev, FromCureDeadline: cl.CureDeadline}, nil
}

// Withdraw withdraws an open claim at its claimant's request, which erases its personal data
// (see Transition; the claim stays, anonymous, in the counts by status, and leaves the case's
// totals as the plaintiff list; both acts are audited). A claim withdrawn already is refused
// (invalid_transition).
func (s *Service) Withdraw(ctx context.Context, cl *models.Claim, actor audit.Actor) error {
	_, err := s.Transition(ctx, cl, lifecycle.Request{To: lifecycle.Withdrawn, Reasons: []string{lifecycle.ReasonClaimantRequest}}, actor)
	return err
}

// UpdateContact corrects the claimant's contact details (already validated and normalized by
// the caller), with an audit event holding the details before and after. A withdrawn claim
// cannot be changed (conflict "claim_closed").
func (s *Service) UpdateContact(ctx context.Context, cl *models.Claim, name, email, phone string, actor audit.Actor) error {
	now := s.Now()
	caseID := cl.CaseID
	return s.Store.UpdateClaimContact(ctx, cl.ID, name, email, phone, now, func(before *models.Claim) (*models.AuditEvent, error) {
		return audit.Event{Actor: actor, CaseID: &caseID, Action: audit.ActionContact, Entity: audit.EntityClaim, EntityID: before.Reference,
			Before: maskedContact(before.ClaimantName, before.ClaimantEmail, before.ClaimantPhone),
			After:  maskedContact(name, email, phone)}.Model(now)
	})
}

// maskedContact is contact data as the audit trail keeps it: masked, so the trail (which is
// append-only and outlives an erasure) shows that and roughly what changed, not the data.
func maskedContact(name, email, phone string) contact {
	return contact{redact.MaskName(name), redact.MaskEmail(email), redact.MaskPhone(phone)}
}

type contact struct {
	Name  string `json:"name"`
	Email string `json:"email"`
	Phone string `json:"phone"`
}

// ExpireDeficiencies rejects every deficient claim whose cure deadline has passed, as the
// system, and returns how many it rejected. A claim cured or withdrawn meanwhile is skipped, and
// so is one found deficient again with a later deadline (the store checks the deadline too).
func (s *Service) ExpireDeficiencies(ctx context.Context) (int, error) {
	n := 0
	for {
		due, err := s.Store.ExpiredDeficiencies(ctx, s.Now(), 200)
		if err != nil || len(due) == 0 {
			return n, err
		}
		moved := 0
		for i := range due {
			_, err := s.Transition(ctx, &due[i], lifecycle.Request{To: lifecycle.Rejected, Reasons: []string{lifecycle.ReasonCureDeadlinePassed}},
				audit.Actor{Kind: audit.ActorSystem, Name: "deficiency-expiry"})
			if apperr.Is(err, apperr.InvalidTransition) {
				continue // changed since it was read
			}
			if err != nil {
				return n, err
			}
			n++
			moved++
		}
		if moved == 0 {
			return n, nil
		}
	}
}

// RunExpiry runs ExpireDeficiencies every interval until ctx ends; errors go to report.
func (s *Service) RunExpiry(ctx context.Context, every time.Duration, report func(error)) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		if _, err := s.ExpireDeficiencies(ctx); err != nil && ctx.Err() == nil && report != nil {
			report(err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// submitEvent is the audit event of a submission (no personal data: the claim's reference,
// channel and item count).
func (s *Service) submitEvent(m *models.Claim, meta Meta) (*models.AuditEvent, error) {
	actor := meta.Actor
	if actor.Kind == "" {
		actor = audit.Actor{Kind: audit.ActorClaimant, IP: meta.IP}
	}
	caseID := m.CaseID
	return audit.Event{Actor: actor, CaseID: &caseID, Action: ActionSubmit, Entity: audit.EntityClaim, EntityID: m.Reference,
		After: map[string]any{"status": m.Status, "channel": m.Channel, "items": len(m.Items)}}.Model(m.SubmittedAt)
}

// BulkResult is what became of one claim of a bulk transition: its transition, or the
// client's error that refused it (not found, invalid transition, invalid request).
type BulkResult struct {
	Reference  string
	Transition *models.ClaimTransition
	Err        error
}

// MaxBulk is the most claims one bulk transition moves (the API and the workspace).
const MaxBulk = 500

// BulkTransition applies one change to claims of a case given by reference (as people type
// them), each on its own through Transition: one refused does not hold back the others. An
// error of the server (not the client's) stops it and is returned. The claims are looked up
// in one query, and the claim a change to duplicate names once for all.
func (s *Service) BulkTransition(ctx context.Context, caseID int64, refs []string, req lifecycle.Request, actor audit.Actor) ([]BulkResult, error) {
	var orig *models.Claim
	if req.To == lifecycle.Duplicate {
		if ref := auth.CanonicalReference(req.DuplicateOf); ref != "" {
			var err error
			if orig, err = s.Store.ClaimByReference(ctx, ref); err != nil && !apperr.Is(err, apperr.NotFound) {
				return nil, err
			} // not found: each claim is refused by planTransition
		}
	}
	canonical := make([]string, len(refs))
	for i, ref := range refs {
		canonical[i] = auth.CanonicalReference(ref)
	}
	// A reference given twice is one claim: the second change sees the first one's result.
	byRef, err := s.Store.ClaimsByReferences(ctx, caseID, canonical)
	if err != nil {
		return nil, err
	}
	out := make([]BulkResult, len(refs))
	for i, ref := range refs {
		r := BulkResult{Reference: ref}
		cl, err := byRef[canonical[i]], error(nil)
		if cl == nil {
			err = errClaimNotFound()
		}
		if err == nil {
			r.Transition, err = s.transition(ctx, cl, req, actor, orig)
		}
		if err == nil {
			r.Reference = cl.Reference
		} else {
			if !IsClientError(err) {
				return nil, err
			}
			r.Err = err
		}
		out[i] = r
	}
	return out, nil
}

// CaseClaim loads a claim of the case by a reference as a person types it (not found when it
// is not one, or is another case's).
func (s *Service) CaseClaim(ctx context.Context, caseID int64, ref string) (*models.Claim, error) {
	r := auth.CanonicalReference(ref)
	if r == "" {
		return nil, errClaimNotFound()
	}
	cl, err := s.Store.ClaimByReference(ctx, r)
	if err != nil {
		return nil, err
	}
	if cl.CaseID != caseID {
		return nil, errClaimNotFound()
	}
	return cl, nil
}

// errClaimNotFound is the error of a reference that names no claim of the case.
func errClaimNotFound() error {
	return &apperr.Error{Code: apperr.NotFound, Message: "claim_not_found"}
}

// IsClientError reports whether err is the client's (answered per claim in a bulk request)
// rather than the server's (which fails the whole request).
func IsClientError(err error) bool {
	for _, code := range []apperr.Code{apperr.Invalid, apperr.NotFound, apperr.Conflict, apperr.InvalidTransition} {
		if apperr.Is(err, code) {
			return true
		}
	}
	return false
}

// duplicateOfError names the field of a duplicate's original in err when the store refused it
// for not counting in the totals (store.ErrOriginalExcluded): path, as the request calls it.
func duplicateOfError(err error, path string) error {
	if errors.Is(err, store.ErrOriginalExcluded) {
		return apperr.Validation([]apperr.FieldError{{Path: path, Code: apperr.FieldInvalidValue, Message: "duplicate_of_excluded"}})
	}
	return err
}
