package admin

import (
	"net/http"
	"net/url"
	"slices"

	"github.com/gin-gonic/gin"

	"github.com/claimdesk/claimdesk/internal/apperr"
	"github.com/claimdesk/claimdesk/internal/claims"
	"github.com/claimdesk/claimdesk/internal/store"
	"github.com/claimdesk/claimdesk/models"
)

// duplicatesRoutes registers the duplicates page and its decision form.
func (h *handler) duplicatesRoutes(g *gin.RouterGroup) {
	g.GET("/cases/:case/duplicates", h.duplicates)
	g.POST("/cases/:case/duplicates/decisions", h.decideDuplicate)
}

// duplicatesPage is a page of candidate pairs.
type duplicatesPage struct {
	Status string                 // candidate (default), duplicate, not_duplicate, or "all"
	Pairs  []claims.DuplicatePair // First arrived first (kept by default), Later after it
	Next   string
}

func (h *handler) duplicates(c *gin.Context) {
	v := h.view(c, "admin_duplicates_title")
	if c.Query("done") != "" {
		v.Message = v.T("admin_dup_done")
	}
	ctx := c.Request.Context()
	cs, err := h.claims.Case(ctx, c.Param("case"))
	if err != nil {
		h.failErr(c, err)
		return
	}
	p := duplicatesPage{Status: c.DefaultQuery("status", claims.DuplicateCandidate)}
	f := store.DuplicateFilter{CaseID: cs.ID, Status: p.Status, Cursor: c.Query("cursor"), Limit: 50}
	if !slices.Contains(claims.DuplicateStatuses, p.Status) {
		p.Status, f.Status = "all", ""
	}
	pairs, next, err := h.claims.DuplicatePairs(ctx, f)
	if err != nil {
		h.failErr(c, err)
		return
	}
	p.Pairs, p.Next = pairs, next
	v.Section, v.Page = "duplicates", p
	h.render(c, http.StatusOK, "duplicates", v)
}

// decideDuplicate records a lawyer's decision on a pair through claims.DecideDuplicate (the
// API's path): keep_first (the default), keep_second, or not_duplicate.
func (h *handler) decideDuplicate(c *gin.Context) {
	ctx := c.Request.Context()
	page := "/admin/cases/" + url.PathEscape(c.Param("case")) + "/duplicates" // where the form is
	cs, err := h.claims.Case(ctx, c.Param("case"))
	if err != nil {
		h.failErrOn(c, page, err)
		return
	}
	later, err := h.claims.CaseClaim(ctx, cs.ID, c.PostForm("later"))
	var first *models.Claim
	if err == nil {
		first, err = h.claims.CaseClaim(ctx, cs.ID, c.PostForm("first"))
	}
	if err != nil {
		h.failErrOn(c, page, err)
		return
	}
	if later.ID < first.ID {
		later, first = first, later
	}
	decision, keep := claims.DuplicateConfirmed, first.Reference
	switch c.PostForm("choice") {
	case "keep_first", "":
	case "keep_second":
		keep = later.Reference
	case "not_duplicate":
		decision, keep = claims.DuplicateRejected, ""
	default:
		h.failErrOn(c, page, apperr.Validation([]apperr.FieldError{{Path: "choice", Code: apperr.FieldInvalidValue,
			Params: map[string]string{"allowed": "keep_first, keep_second, not_duplicate"}}}))
		return
	}
	if err := h.claims.DecideDuplicate(ctx, later, first, decision, keep, c.PostForm("note"), h.auth.Actor(c)); err != nil {
		h.failErrOn(c, page, err)
		return
	}
	c.Redirect(http.StatusSeeOther, "/admin/cases/"+url.PathEscape(cs.Slug)+"/duplicates?done=1")
}
