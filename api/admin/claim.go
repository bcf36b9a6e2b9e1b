package admin

import (
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/claimdesk/claimdesk/damages"
	"github.com/claimdesk/claimdesk/internal/apperr"
	"github.com/claimdesk/claimdesk/internal/audit"
	"github.com/claimdesk/claimdesk/internal/auth"
	"github.com/claimdesk/claimdesk/internal/claims"
	"github.com/claimdesk/claimdesk/internal/lifecycle"
	"github.com/claimdesk/claimdesk/internal/messages"
	"github.com/claimdesk/claimdesk/internal/store"
	"github.com/claimdesk/claimdesk/models"
)

// claimRoutes registers the claim page and its review actions.
func (h *handler) claimRoutes(g *gin.RouterGroup) {
	g.GET("/claims/:reference", h.claimPage)
	g.POST("/claims/:reference/transitions", h.transition)
}

// claimView is the claim page's data.
type claimView struct {
	Claim   *models.Claim
	Case    *store.Case
	Items   []itemView
	Damages *damagesView
	Signals []models.ClaimSignal
	// DuplicateOf is the reference of the claim this one duplicates; Pairs its candidate pairs.
	DuplicateOf  string
	Pairs        []pairView
	Transitions  []transitionView
	Audit        []auditView
	Forms        []transitionForm
	ScoreHigh    bool
	DamagesError string
}

type itemView struct {
	*models.ClaimItem
	ServiceName string
	// Decision is the eligibility message naming the deciding (or, for an ineligible item, the
	// nearest) window.
	Decision string
}

type damagesView struct {
	RulesVersion int
	Principal    int64
	Interest     int64
	Total        int64
	Trace        []string
}

type pairView struct {
	Other   string
	Matched string
	Status  string
	Found   time.Time
}

type transitionView struct {
	*models.ClaimTransition
	Reasons     []string
	DuplicateOf string
}

type auditView struct {
	*models.AuditEvent
	Change string
}

// transitionForm is one review action of the page: a target status with what it asks for.
type transitionForm struct {
	To       string
	Reasons  []option
	NeedsWhy bool // at least one reason is required
	CureDays bool
	Dup      bool
	Danger   bool
}

// reviewTargets are the changes the page offers, in this order, when the lifecycle allows them.
var reviewTargets = []string{lifecycle.UnderReview, lifecycle.Deficient, lifecycle.Cured, lifecycle.Approved, lifecycle.Rejected, lifecycle.Duplicate}

// loadClaim finds the claim of the path and its case; if it cannot it answers.
func (h *handler) loadClaim(c *gin.Context) (*models.Claim, *store.Case, bool) {
	ctx := c.Request.Context()
	ref := auth.CanonicalReference(c.Param("reference"))
	if ref == "" {
		h.fail(c, http.StatusNotFound, "claim_not_found")
		return nil, nil, false
	}
	cl, err := h.store.ClaimByReference(ctx, ref)
	if err != nil {
		h.failErr(c, err)
		return nil, nil, false
	}
	cs, err := h.claims.CaseByID(ctx, cl.CaseID)
	if err != nil {
		h.failErr(c, err)
		return nil, nil, false
	}
	return cl, cs, true
}

func (h *handler) claimPage(c *gin.Context) {
	cl, cs, ok := h.loadClaim(c)
	if !ok {
		return
	}
	v := h.view(c, "admin_claim_title")
	if done := c.Query("done"); done != "" && slices.Contains(lifecycle.Statuses, done) {
		v.Message = v.T("admin_transition_done", "status", v.T("admin_status_"+done))
	}
	h.renderClaim(c, v, cl, cs, http.StatusOK)
}

// renderClaim shows the claim page with v (which may carry the error of a refused action).
func (h *handler) renderClaim(c *gin.Context, v *view, cl *models.Claim, cs *store.Case, status int) {
	ctx := c.Request.Context()
	v.Section, v.Case = "claims", cs.Slug
	v.Title = v.T("admin_claim_title") + " " + cl.Reference
	p := claimView{Claim: cl, Case: cs}

	windows := cs.DomainWindows()
	for i := range cl.Items {
		it := &cl.Items[i]
		iv := itemView{ClaimItem: it, ServiceName: it.Service}
		for _, s := range cs.Services {
			if s.Slug == it.Service {
				iv.ServiceName = serviceName(v, s)
			}
		}
		iv.Decision = decision(v.Lang, cs, windows, it)
		p.Items = append(p.Items, iv)
	}

	if rs, cv, err := h.claims.ClaimDamages(ctx, cs, cl); err != nil {
		if h.auth.Status(err) >= 500 {
			h.failErr(c, err)
			return
		}
		p.DamagesError = errorText(v.Lang, err)
	} else {
		d := &damagesView{RulesVersion: rs.Version, Principal: cv.PrincipalKRW, Interest: cv.InterestKRW, Total: cv.TotalKRW}
		for _, st := range cv.Trace {
			d.Trace = append(d.Trace, st.Text(string(v.Lang)))
		}
		p.Damages = d
	}

	sigs, err := h.store.SignalsOf(ctx, []int64{cl.ID})
	if err != nil {
		h.failErr(c, err)
		return
	}
	p.Signals = sigs[cl.ID]
	p.ScoreHigh = cl.FraudScore >= 50

	ts, err := h.store.ClaimTransitions(ctx, cl.ID)
	if err != nil {
		h.failErr(c, err)
		return
	}
	pairs, err := h.store.DuplicatesOf(ctx, cl.ID)
	if err != nil {
		h.failErr(c, err)
		return
	}
	ids := []int64{}
	if cl.DuplicateOf != nil {
		ids = append(ids, *cl.DuplicateOf)
	}
	for _, t := range ts {
		if t.DuplicateOf != nil {
			ids = append(ids, *t.DuplicateOf)
		}
	}
	for _, d := range pairs {
		ids = append(ids, d.ClaimID, d.OtherClaimID)
	}
	refs, err := h.store.ClaimsByIDs(ctx, ids)
	if err != nil {
		h.failErr(c, err)
		return
	}
	refOf := func(id *int64) string {
		if id == nil || refs[*id] == nil {
			return ""
		}
		return refs[*id].Reference
	}
	p.DuplicateOf = refOf(cl.DuplicateOf)
	for _, d := range pairs {
		other := d.OtherClaimID
		if other == cl.ID {
			other = d.ClaimID
		}
		p.Pairs = append(p.Pairs, pairView{Other: refOf(&other), Matched: d.Matched, Status: d.Status, Found: d.CreatedAt})
	}
	for i := range ts {
		tv := transitionView{ClaimTransition: &ts[i], DuplicateOf: refOf(ts[i].DuplicateOf)}
		if ts[i].Reasons != "" {
			for _, r := range strings.Split(ts[i].Reasons, ",") {
				tv.Reasons = append(tv.Reasons, v.T("reason_"+r))
			}
		}
		p.Transitions = append(p.Transitions, tv)
	}

	evs, _, err := h.store.ListAudit(ctx, store.AuditFilter{Entity: audit.EntityClaim, EntityID: cl.Reference, Limit: 100})
	if err != nil {
		h.failErr(c, err)
		return
	}
	for i := range evs {
		p.Audit = append(p.Audit, auditView{AuditEvent: &evs[i], Change: change(evs[i].Before, evs[i].After)})
	}

	allowed := lifecycle.AllowedAt(lifecycle.Current{Status: cl.Status, CureDeadline: cl.CureDeadline}, h.now())
	for _, to := range reviewTargets {
		if !slices.Contains(allowed, to) {
			continue
		}
		f := transitionForm{To: to, NeedsWhy: lifecycle.NeedsReason(to), CureDays: to == lifecycle.Deficient,
			Dup: to == lifecycle.Duplicate, Danger: to == lifecycle.Rejected}
		for _, r := range lifecycle.ReasonsFor(to) {
			f.Reasons = append(f.Reasons, option{r, v.T("reason_" + r)})
		}
		p.Forms = append(p.Forms, f)
	}
	v.Page = p
	h.render(c, status, "claim", v)
}

// decision is an item's eligibility in words, naming the window that decided it or, for an
// ineligible item, the nearest one (as the API's claim answer does).
func decision(l messages.Lang, cs *store.Case, windows []damages.Window, it *models.ClaimItem) string {
	named, _ := claims.DecidingWindow(cs, windows, it)
	return claims.EligibilityText(l, cs, named, it.EligibilityCode)
}

// change summarises an audit event's before and after (JSON, without secrets).
func change(before, after *string) string {
	var parts []string
	if before != nil && *before != "" && *before != "null" {
		parts = append(parts, *before)
	}
	if after != nil && *after != "" && *after != "null" {
		parts = append(parts, *after)
	}
	return strings.Join(parts, " → ")
}

// transitionRequest reads a review form: to, reason (repeated), note, cure_days, duplicate_of.
func transitionRequest(c *gin.Context) (lifecycle.Request, error) {
	// The bulk form's reason is a select whose first choice is none (""): not a reason code.
	reasons := slices.DeleteFunc(c.PostFormArray("reason"), func(r string) bool { return strings.TrimSpace(r) == "" })
	req := lifecycle.Request{To: c.PostForm("to"), Reasons: reasons, Note: c.PostForm("note"),
		DuplicateOf: strings.TrimSpace(c.PostForm("duplicate_of"))}
	if v := strings.TrimSpace(c.PostForm("cure_days")); v != "" && req.To == lifecycle.Deficient {
		n, err := strconv.Atoi(v)
		if err != nil {
			return req, apperr.Validation([]apperr.FieldError{{Path: "cure_days", Code: apperr.FieldOutOfRange,
				Params: map[string]string{"min": "1", "max": strconv.Itoa(lifecycle.MaxCureDays)}}})
		}
		req.CureDays = &n
	}
	return req, nil
}

// transition changes the claim's status through the claims service (the one place); a refusal
// (409 invalid transition, 422 invalid request) shows its message on the claim page.
func (h *handler) transition(c *gin.Context) {
	cl, cs, ok := h.loadClaim(c)
	if !ok {
		return
	}
	req, err := transitionRequest(c)
	if err == nil {
		_, err = h.claims.Transition(c.Request.Context(), cl, req, h.auth.Actor(c))
	}
	if err != nil {
		status := h.auth.Status(err)
		if status >= 500 {
			h.failErr(c, err)
			return
		}
		v := h.view(c, "admin_claim_title")
		v.at("/admin/claims/" + cl.Reference)
		v.Error = errorText(v.Lang, err)
		h.renderClaim(c, v, cl, cs, status)
		return
	}
	c.Redirect(http.StatusSeeOther, "/admin/claims/"+url.PathEscape(cl.Reference)+"?done="+url.QueryEscape(req.To)+"#status")
}
