package api

import (
	"errors"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/claimdesk/claimdesk/internal/apperr"
	"github.com/claimdesk/claimdesk/internal/audit"
	"github.com/claimdesk/claimdesk/internal/auth"
	"github.com/claimdesk/claimdesk/internal/claims"
	"github.com/claimdesk/claimdesk/internal/lifecycle"
	"github.com/claimdesk/claimdesk/internal/messages"
	"github.com/claimdesk/claimdesk/internal/store"
	"github.com/claimdesk/claimdesk/models"
)

// TransitionRequest changes the status of a claim.
type TransitionRequest struct {
	To          string   `json:"to"`
	Reasons     []string `json:"reasons"`
	Note        string   `json:"note"`
	CureDays    *int     `json:"cure_days"`
	DuplicateOf string   `json:"duplicate_of"`
}

func (r TransitionRequest) lifecycle() lifecycle.Request {
	return lifecycle.Request{To: r.To, Reasons: r.Reasons, Note: r.Note, CureDays: r.CureDays, DuplicateOf: r.DuplicateOf}
}

// BulkTransitionRequest applies one change to many claims of a case.
type BulkTransitionRequest struct {
	References []string `json:"references"`
	TransitionRequest
}

// TransitionResponse is one change of status in a claim's history.
type TransitionResponse struct {
	From         string        `json:"from"`
	To           string        `json:"to"`
	Reasons      []ReasonText  `json:"reasons"`
	Note         string        `json:"note,omitempty"`
	CureDeadline string        `json:"cure_deadline,omitempty"`
	DuplicateOf  string        `json:"duplicate_of,omitempty"`
	Actor        ActorResponse `json:"actor"`
	At           string        `json:"at"`
}

// ReasonText is a reason code with its text in the request's language.
type ReasonText struct {
	Code string `json:"code"`
	Text string `json:"text"`
}

// ActorResponse is who acted.
type ActorResponse struct {
	Kind string `json:"kind"`
	ID   *int64 `json:"id,omitempty"`
	Name string `json:"name,omitempty"`
	Role string `json:"role,omitempty"`
}

// HistoryResponse is a claim's status and every change that led to it.
type HistoryResponse struct {
	Reference    string               `json:"reference"`
	Status       string               `json:"status"`
	CureDeadline string               `json:"cure_deadline,omitempty"`
	Allowed      []string             `json:"allowed"`
	Transitions  []TransitionResponse `json:"transitions"`
}

// BulkTransitionResponse says what became of each claim of a bulk request.
type BulkTransitionResponse struct {
	Succeeded int                    `json:"succeeded"`
	Failed    int                    `json:"failed"`
	Results   []BulkTransitionResult `json:"results"`
}

// BulkTransitionResult is one claim of a bulk request: its new transition, or why not.
type BulkTransitionResult struct {
	Reference  string              `json:"reference"`
	OK         bool                `json:"ok"`
	Transition *TransitionResponse `json:"transition,omitempty"`
	Error      *ErrorDetail        `json:"error,omitempty"`
}

// ReviewResponse is what staff see of a claim's review: fraud score and signals, deficiency
// deadline, the claim it duplicates and candidate duplicate pairs.
type ReviewResponse struct {
	FraudScore   int              `json:"fraud_score"`
	Signals      []SignalResponse `json:"signals"`
	CureDeadline string           `json:"cure_deadline,omitempty"`
	DuplicateOf  string           `json:"duplicate_of,omitempty"`
}

// SignalResponse is one fraud signal.
type SignalResponse struct {
	Code   string `json:"code"`
	Weight int    `json:"weight"`
	Detail string `json:"detail,omitempty"`
}

func (s *Server) transitionResponse(t *models.ClaimTransition, dupRef string, loc *time.Location, lang messages.Lang) TransitionResponse {
	out := TransitionResponse{From: t.FromStatus, To: t.ToStatus, Reasons: []ReasonText{}, Note: t.Note, DuplicateOf: dupRef,
		Actor: ActorResponse{Kind: t.ActorKind, ID: t.ActorID, Name: t.ActorName}, At: localTime(t.At, loc)}
	if t.Reasons != "" {
		for _, r := range strings.Split(t.Reasons, ",") {
			out.Reasons = append(out.Reasons, ReasonText{Code: r, Text: messages.Text(lang, "reason_"+r, nil)})
		}
	}
	if t.CureDeadline != nil {
		out.CureDeadline = localTime(*t.CureDeadline, loc)
	}
	return out
}

func (s *Server) transitionClaim(c *gin.Context) {
	var req TransitionRequest
	if err := bindJSON(c, &req); err != nil {
		writeError(c, err)
		return
	}
	cl, cs, ok := s.authorizedClaim(c)
	if !ok {
		return
	}
	t, err := s.claims.Transition(c.Request.Context(), cl, req.lifecycle(), actorOf(c))
	if err != nil {
		writeError(c, err)
		return
	}
	c.JSON(http.StatusOK, s.transitionResponse(t, auth.CanonicalReference(req.DuplicateOf), cs.Location, messages.FromRequest(c.Request)))
}

func (s *Server) claimHistory(c *gin.Context) {
	cl, cs, ok := s.authorizedClaim(c)
	if !ok {
		return
	}
	ctx := c.Request.Context()
	ts, err := s.store.ClaimTransitions(ctx, cl.ID)
	if err != nil {
		writeError(c, err)
		return
	}
	var ids []int64
	for _, t := range ts {
		if t.DuplicateOf != nil {
			ids = append(ids, *t.DuplicateOf)
		}
	}
	refs, err := s.store.ClaimsByIDs(ctx, ids)
	if err != nil {
		writeError(c, err)
		return
	}
	lang := messages.FromRequest(c.Request)
	out := HistoryResponse{Reference: cl.Reference, Status: cl.Status, Allowed: lifecycle.Allowed(cl.Status), Transitions: make([]TransitionResponse, len(ts))}
	if out.Allowed == nil {
		out.Allowed = []string{}
	}
	if cl.CureDeadline != nil && cl.Status == lifecycle.Deficient {
		out.CureDeadline = localTime(*cl.CureDeadline, cs.Location)
	}
	for i := range ts {
		dup := ""
		if ts[i].DuplicateOf != nil && refs[*ts[i].DuplicateOf] != nil {
			dup = refs[*ts[i].DuplicateOf].Reference
		}
		out.Transitions[i] = s.transitionResponse(&ts[i], dup, cs.Location, lang)
	}
	c.JSON(http.StatusOK, out)
}

func (s *Server) bulkTransition(c *gin.Context) {
	var req BulkTransitionRequest
	if err := bindJSON(c, &req); err != nil {
		writeError(c, err)
		return
	}
	if len(req.References) == 0 || len(req.References) > claims.MaxBulk {
		writeError(c, apperr.Validation([]apperr.FieldError{{Path: "references", Code: apperr.FieldOutOfRange,
			Params: map[string]string{"min": "1", "max": strconv.Itoa(claims.MaxBulk)}}}))
		return
	}
	ctx := c.Request.Context()
	cs, err := s.claims.Case(ctx, c.Param("case"))
	if err != nil {
		writeError(c, err)
		return
	}
	lang := messages.FromRequest(c.Request)
	results, err := s.claims.BulkTransition(ctx, cs.ID, req.References, req.lifecycle(), actorOf(c))
	if err != nil {
		writeError(c, err)
		return
	}
	out := BulkTransitionResponse{Results: make([]BulkTransitionResult, len(results))}
	for i, res := range results {
		r := BulkTransitionResult{Reference: res.Reference}
		if res.Err != nil {
			d := errorDetail(c, res.Err, lang)
			r.Error = &d
			out.Failed++
		} else {
			tr := s.transitionResponse(res.Transition, auth.CanonicalReference(req.DuplicateOf), cs.Location, lang)
			r.OK, r.Transition = true, &tr
			out.Succeeded++
		}
		out.Results[i] = r
	}
	c.JSON(http.StatusOK, out)
}

// errorDetail renders err as the error shape, for one entry of a bulk answer.
func errorDetail(c *gin.Context, err error, lang messages.Lang) ErrorDetail {
	var ae *apperr.Error
	if !errors.As(err, &ae) {
		ae = &apperr.Error{Code: apperr.Internal}
	}
	return detailOf(ae, requestID(c), lang)
}

// reviewResponses loads the review block of claims (staff only).
func (s *Server) reviewResponses(c *gin.Context, cs *store.Case, list []*models.Claim) (map[int64]*ReviewResponse, error) {
	ctx := c.Request.Context()
	ids := make([]int64, 0, len(list))
	var dupIDs []int64
	for _, cl := range list {
		ids = append(ids, cl.ID)
		if cl.DuplicateOf != nil {
			dupIDs = append(dupIDs, *cl.DuplicateOf)
		}
	}
	sigs, err := s.store.SignalsOf(ctx, ids)
	if err != nil {
		return nil, err
	}
	dups, err := s.store.ClaimsByIDs(ctx, dupIDs)
	if err != nil {
		return nil, err
	}
	out := make(map[int64]*ReviewResponse, len(list))
	for _, cl := range list {
		r := &ReviewResponse{FraudScore: cl.FraudScore, Signals: []SignalResponse{}}
		for _, g := range sigs[cl.ID] {
			r.Signals = append(r.Signals, SignalResponse{Code: g.Code, Weight: g.Weight, Detail: g.Detail})
		}
		if cl.CureDeadline != nil && cl.Status == lifecycle.Deficient {
			r.CureDeadline = localTime(*cl.CureDeadline, cs.Location)
		}
		if cl.DuplicateOf != nil && dups[*cl.DuplicateOf] != nil {
			r.DuplicateOf = dups[*cl.DuplicateOf].Reference
		}
		out[cl.ID] = r
	}
	return out, nil
}

// DuplicatePairResponse is a candidate pair: claim arrived after other (kept by default).
type DuplicatePairResponse struct {
	Claim     string   `json:"claim"`
	Other     string   `json:"other"`
	Matched   []string `json:"matched"`
	Status    string   `json:"status"`
	FoundAt   string   `json:"found_at"`
	DecidedBy string   `json:"decided_by,omitempty"`
	DecidedAt string   `json:"decided_at,omitempty"`
}

// DuplicateListResponse is a page of pairs.
type DuplicateListResponse struct {
	Pairs      []DuplicatePairResponse `json:"pairs"`
	NextCursor string                  `json:"next_cursor,omitempty"`
}

// DuplicateDecisionRequest decides a pair.
type DuplicateDecisionRequest struct {
	Claim    string `json:"claim"`
	Other    string `json:"other"`
	Decision string `json:"decision"`
	Keep     string `json:"keep"`
	Note     string `json:"note"`
}

func (s *Server) listDuplicates(c *gin.Context) {
	ctx := c.Request.Context()
	cs, err := s.claims.Case(ctx, c.Param("case"))
	if err != nil {
		writeError(c, err)
		return
	}
	f := store.DuplicateFilter{CaseID: cs.ID, Status: c.Query("status"), Cursor: c.Query("cursor"), Limit: 50}
	var fields []apperr.FieldError
	if f.Status != "" && !slices.Contains(claims.DuplicateStatuses, f.Status) {
		fields = append(fields, apperr.FieldError{Path: "status", Code: apperr.FieldInvalidValue, Params: map[string]string{"allowed": strings.Join(claims.DuplicateStatuses, ", ")}})
	}
	if v := c.Query("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 500 {
			fields = append(fields, apperr.FieldError{Path: "limit", Code: apperr.FieldOutOfRange, Params: map[string]string{"min": "1", "max": "500"}})
		}
		f.Limit = n
	}
	if len(fields) > 0 {
		writeError(c, apperr.Validation(fields))
		return
	}
	pairs, next, err := s.claims.DuplicatePairs(ctx, f)
	if err != nil {
		writeError(c, err)
		return
	}
	out := DuplicateListResponse{Pairs: make([]DuplicatePairResponse, 0, len(pairs)), NextCursor: next}
	for _, p := range pairs {
		r := DuplicatePairResponse{Claim: p.Later.Reference, Other: p.First.Reference, Matched: p.Matched, Status: p.Status,
			FoundAt: localTime(p.CreatedAt, cs.Location), DecidedBy: p.DecidedBy}
		if p.DecidedAt != nil {
			r.DecidedAt = localTime(*p.DecidedAt, cs.Location)
		}
		out.Pairs = append(out.Pairs, r)
	}
	c.JSON(http.StatusOK, out)
}

func (s *Server) decideDuplicate(c *gin.Context) {
	var req DuplicateDecisionRequest
	if err := bindJSON(c, &req); err != nil {
		writeError(c, err)
		return
	}
	ctx := c.Request.Context()
	cs, err := s.claims.Case(ctx, c.Param("case"))
	if err != nil {
		writeError(c, err)
		return
	}
	var fields []apperr.FieldError
	if req.Decision != claims.DuplicateConfirmed && req.Decision != claims.DuplicateRejected {
		fields = append(fields, apperr.FieldError{Path: "decision", Code: apperr.FieldInvalidValue, Params: map[string]string{"allowed": "duplicate, not_duplicate"}})
	}
	a, errA := s.claims.CaseClaim(ctx, cs.ID, req.Claim)
	b, errB := s.claims.CaseClaim(ctx, cs.ID, req.Other)
	if errA != nil && !apperr.Is(errA, apperr.NotFound) {
		writeError(c, errA)
		return
	}
	if errB != nil && !apperr.Is(errB, apperr.NotFound) {
		writeError(c, errB)
		return
	}
	if errA != nil {
		fields = append(fields, apperr.FieldError{Path: "claim", Code: apperr.FieldInvalidValue, Message: "claim_not_found"})
	}
	if errB != nil {
		fields = append(fields, apperr.FieldError{Path: "other", Code: apperr.FieldInvalidValue, Message: "claim_not_found"})
	}
	keep := auth.CanonicalReference(req.Keep)
	if req.Keep != "" && (a == nil || b == nil || (keep != a.Reference && keep != b.Reference)) {
		fields = append(fields, apperr.FieldError{Path: "keep", Code: apperr.FieldInvalidValue, Params: map[string]string{"allowed": req.Claim + ", " + req.Other}})
	}
	if len(fields) > 0 {
		writeError(c, apperr.Validation(fields))
		return
	}
	later, first := a, b
	if later.ID < first.ID {
		later, first = first, later
	}
	if keep == "" {
		keep = first.Reference // keep first
	}
	if err := s.claims.DecideDuplicate(ctx, later, first, req.Decision, keep, req.Note, actorOf(c)); err != nil {
		writeError(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}

// batchEvent returns the audit event of a batch, made of what it stored: one event per batch
// that created claims, with their references (nil when it created none). It is recorded in
// the batch's transaction.
func (s *Server) batchEvent(c *gin.Context, caseID int64) func([]store.Applied) (*models.AuditEvent, error) {
	return func(applied []store.Applied) (*models.AuditEvent, error) {
		var refs []string
		for _, a := range applied {
			if a.Outcome == store.Created {
				refs = append(refs, a.Reference)
			}
		}
		if len(refs) == 0 {
			return nil, nil
		}
		return audit.Event{Actor: actorOf(c), CaseID: &caseID, Action: claims.ActionSubmit, Entity: audit.EntityClaims, EntityID: "batch",
			After: map[string]any{"created": len(refs), "references": refs}}.Model(s.now())
	}
}

// afterBatch queues the claims a batch created for duplicate detection and fraud signals.
func (s *Server) afterBatch(c *gin.Context, caseID int64, cs []*models.Claim, applied []store.Applied) {
	var ids []int64
	for k, a := range applied {
		if a.Outcome == store.Created {
			ids = append(ids, cs[k].ID)
		}
	}
	s.claims.QueueReviews(c.Request.Context(), caseID, ids)
}
