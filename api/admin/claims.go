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
	"github.com/claimdesk/claimdesk/internal/claims"
	"github.com/claimdesk/claimdesk/internal/lifecycle"
	"github.com/claimdesk/claimdesk/internal/store"
	"github.com/claimdesk/claimdesk/models"
)

// claimsRoutes registers the claims list and its bulk action.
func (h *handler) claimsRoutes(g *gin.RouterGroup) {
	g.GET("/cases/:case/claims", h.claimsList)
	g.POST("/cases/:case/claims/transitions", h.bulkTransition)
}

// option is one choice of a select.
type option struct{ Value, Label string }

// claimRow is one line of the list.
type claimRow struct {
	Reference string
	Submitted time.Time
	Name      string
	Channel   string
	Status    string
	Items     []itemBadge
	Estimate  *int64
	Score     int
	Erased    bool
}

// itemBadge is an item in a list row: its service and eligibility.
type itemBadge struct{ Service, Eligibility string }

// claimsPage is the list's data: the filters as typed, the options of the selects, a page of
// rows and the address of the next.
type claimsPage struct {
	F                                      url.Values
	Statuses, Channels, Kinds, Eligibility []option
	Services, Sorts, Flags                 []option
	Rows                                   []claimRow
	Next, First                            string
	// Bulk action: targets and reason codes; Back is the list's address to return to.
	Targets []option
	Reasons []option
	Back    string
}

// Get returns the value of filter name as typed.
func (p claimsPage) Get(name string) string { return p.F.Get(name) }

// filterNames are the list's parameters kept in its links (cursor apart).
var filterNames = append(slices.Clone(claims.ListFilterParams), "sort", "limit")

// filterQuery is the list's filters of q, without empty ones and without the cursor.
func filterQuery(q url.Values) url.Values {
	out := url.Values{}
	for _, k := range filterNames {
		if v := strings.TrimSpace(q.Get(k)); v != "" {
			out.Set(k, v)
		}
	}
	return out
}

func (h *handler) claimsList(c *gin.Context) {
	ctx := c.Request.Context()
	cs, err := h.claims.Case(ctx, c.Param("case"))
	if err != nil {
		h.failErr(c, err)
		return
	}
	v := h.view(c, "admin_claims_title")
	v.Section = "claims"
	q := c.Request.URL.Query()
	p := h.claimsOptions(v, cs)
	p.F = filterQuery(q)
	p.Back = c.Request.URL.RequestURI()
	status := http.StatusOK
	// The same reading of the filters and the same query as GET /api/v1/cases/{case}/claims.
	f, err := claims.ListFilter(cs, q)
	p.Statuses = statusChoice(v, p.Statuses, f.Statuses) // kept when another filter is wrong
	if err == nil {
		var list []models.Claim
		var next string
		list, next, err = h.store.ListClaims(ctx, f)
		if err == nil {
			p.Rows = rows(list)
			base := "/admin/cases/" + url.PathEscape(cs.Slug) + "/claims"
			if next != "" {
				nq := filterQuery(q)
				nq.Set("cursor", next)
				p.Next = base + "?" + nq.Encode()
			}
			if f.Cursor != "" {
				p.First = base + "?" + filterQuery(q).Encode()
			}
		}
	}
	if err != nil {
		status = h.auth.Status(err)
		if status >= 500 {
			h.failErr(c, err)
			return
		}
		v.Error = errorText(v.Lang, err)
	}
	v.Page = p
	h.render(c, status, "claims", v)
}

// statusChoice adds to opts a filter of several statuses (the dashboard's "awaiting review"
// link: received,under_review,cured), as ListFilter read it, as a choice of its own, so that
// the filters form shows it and sends it again instead of dropping it.
func statusChoice(v *view, opts []option, statuses []string) []option {
	if len(statuses) < 2 {
		return opts
	}
	names := make([]string, len(statuses))
	for i, s := range statuses {
		names[i] = v.T("admin_status_" + s)
	}
	return append(opts, option{strings.Join(statuses, ","), strings.Join(names, ", ")})
}

func rows(list []models.Claim) []claimRow {
	out := make([]claimRow, len(list))
	for i := range list {
		cl := &list[i]
		r := claimRow{Reference: cl.Reference, Submitted: cl.SubmittedAt, Name: cl.ClaimantName, Channel: cl.Channel, Status: cl.Status,
			Estimate: cl.EstimateKRW, Score: cl.FraudScore, Erased: cl.ErasedAt != nil}
		for _, it := range cl.Items {
			r.Items = append(r.Items, itemBadge{Service: it.Service, Eligibility: it.Eligibility})
		}
		out[i] = r
	}
	return out
}

// signalCodes are the fraud signals the list filters on, as the detection pass raises them (each
// has a text "admin_signal_<code>").
var signalCodes = []string{claims.SignalIPBurst, claims.SignalHoneypot, claims.SignalAmountOutlier, claims.SignalOutsideWindows,
	claims.SignalSameDescription, claims.SignalSimilarIdentity}

// claimsOptions fills the choices of the filters and of the bulk action in the page language.
func (h *handler) claimsOptions(v *view, cs *store.Case) claimsPage {
	var p claimsPage
	for _, s := range lifecycle.Statuses {
		p.Statuses = append(p.Statuses, option{s, v.T("admin_status_" + s)})
	}
	for _, s := range claims.Channels {
		p.Channels = append(p.Channels, option{s, v.T("admin_channel_" + s)})
	}
	for _, s := range cs.Services {
		p.Services = append(p.Services, option{s.Slug, serviceName(v, s)})
	}
	for _, k := range damages.Kinds() {
		p.Kinds = append(p.Kinds, option{k, v.T("kind_" + k)})
	}
	for _, e := range claims.Eligibilities {
		p.Eligibility = append(p.Eligibility, option{e, v.T("badge_" + e)})
	}
	for _, s := range store.ClaimSorts {
		p.Sorts = append(p.Sorts, option{string(s), v.T("admin_sort_" + string(s))})
	}
	for _, s := range signalCodes {
		p.Flags = append(p.Flags, option{s, v.T("admin_signal_" + s)})
	}
	// Bulk changes: those that need no claim of their own (duplicate needs the original).
	for _, s := range []string{lifecycle.UnderReview, lifecycle.Approved, lifecycle.Rejected, lifecycle.Deficient, lifecycle.Cured} {
		p.Targets = append(p.Targets, option{s, v.T("admin_status_" + s)})
	}
	for _, r := range lifecycle.Reasons() {
		p.Reasons = append(p.Reasons, option{r, v.T("reason_" + r)})
	}
	return p
}

func serviceName(v *view, s store.Service) string {
	if v.Lang == "en" {
		return s.NameEn
	}
	return s.NameKo
}

// bulkResult is the answer page of a bulk action.
type bulkResult struct {
	To        string
	Succeeded []string
	Failed    []bulkFailure
	Back      string
}

type bulkFailure struct{ Reference, Message string }

// bulkTransition applies one change to the selected claims through the claims service's bulk
// transition (the API's), and shows what became of each.
func (h *handler) bulkTransition(c *gin.Context) {
	ctx := c.Request.Context()
	cs, err := h.claims.Case(ctx, c.Param("case"))
	if err != nil {
		h.failErr(c, err)
		return
	}
	back := c.PostForm("back")
	if !strings.HasPrefix(back, "/admin/cases/"+cs.Slug+"/claims") {
		back = "/admin/cases/" + url.PathEscape(cs.Slug) + "/claims"
	}
	refs := c.PostFormArray("ref")
	v := h.view(c, "admin_bulk_title")
	v.Section = "claims"
	v.at("/admin/cases/" + cs.Slug + "/claims")
	if len(refs) == 0 || len(refs) > claims.MaxBulk {
		v.Error = v.T("admin_bulk_select", "max", strconv.Itoa(claims.MaxBulk))
		v.Page = bulkResult{Back: back}
		h.render(c, http.StatusUnprocessableEntity, "bulk", v)
		return
	}
	req, err := transitionRequest(c)
	if err != nil {
		v.Error = errorText(v.Lang, err)
		v.Page = bulkResult{Back: back}
		h.render(c, h.auth.Status(err), "bulk", v)
		return
	}
	results, err := h.claims.BulkTransition(ctx, cs.ID, refs, req, h.auth.Actor(c))
	if err != nil {
		h.failErr(c, err)
		return
	}
	out := bulkResult{To: req.To, Back: back}
	for _, r := range results {
		if r.Err != nil {
			out.Failed = append(out.Failed, bulkFailure{Reference: r.Reference, Message: errorText(v.Lang, r.Err)})
		} else {
			out.Succeeded = append(out.Succeeded, r.Reference)
		}
	}
	v.Message = v.T("admin_bulk_summary", "ok", strconv.Itoa(len(out.Succeeded)), "failed", strconv.Itoa(len(out.Failed)))
	v.Page = out
	h.render(c, http.StatusOK, "bulk", v)
}
