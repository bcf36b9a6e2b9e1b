package admin

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"html/template"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/claimdesk/claimdesk/internal/apperr"
	"github.com/claimdesk/claimdesk/internal/claims"
	"github.com/claimdesk/claimdesk/internal/export"
	"github.com/claimdesk/claimdesk/internal/lifecycle"
	"github.com/claimdesk/claimdesk/internal/messages"
	"github.com/claimdesk/claimdesk/internal/store"
)

// dashboardRoutes registers the case dashboard and its two forms (windows, rules).
func (h *handler) dashboardRoutes(g *gin.RouterGroup) {
	g.GET("/cases/:case", h.dashboard)
	g.POST("/cases/:case/windows", h.saveWindows)
	g.POST("/cases/:case/rules", h.saveRules)
}

// dashboardPage is the dashboard's data: the case report's figures and charts (one query
// path, internal/export), the review counts, and the two forms.
type dashboardPage struct {
	Case          *store.Case
	Report        *export.Report
	Charts        []template.HTML
	Claimants     int64
	Awaiting      int64
	Deficient     int64
	DeficientDue  int64
	ByStatus      map[string]int64
	Statuses      []string
	Services      []string
	WindowRows    []windowRow
	Rules         string
	RulesVersion  int
	RulesErrors   []string
	WindowsErrors bool
	// WindowsFrom and RulesFrom are the case's revision each form was edited from: the case's
	// now, or the one a form shown again with its errors was first edited from. A save is
	// refused when the case has changed since (case_changed), rather than undo that change.
	WindowsFrom, RulesFrom int64
}

// awaitingStatuses are the statuses of the claims awaiting a lawyer's review: new, being
// reviewed, or cured (deficient claims wait for the claimant and are counted apart).
var awaitingStatuses = []string{lifecycle.Received, lifecycle.UnderReview, lifecycle.Cured}

// AwaitingFilter is the claims list's status filter of the claims Awaiting counts, so the
// figure's link lists exactly those.
func (dashboardPage) AwaitingFilter() string { return strings.Join(awaitingStatuses, ",") }

// windowRow is one row of the windows form; Errors are the messages of its fields by name.
type windowRow struct {
	claims.WindowInput
	Index  int
	Errors map[string]string
}

// Err returns the message of field f of the row ("" when it has none).
func (r windowRow) Err(f string) string { return r.Errors[f] }

func (h *handler) dashboard(c *gin.Context) {
	v := h.view(c, "admin_dashboard_title")
	switch c.Query("done") {
	case "windows":
		v.Message = v.T("admin_windows_saved")
	case "rules":
		v.Message = v.T("admin_rules_saved")
	}
	h.renderDashboard(c, v, http.StatusOK, sentForms{})
}

// sentForms are the dashboard's forms as the lawyer sent them, shown again with their errors:
// rows (nil: the windows form is the case's windows) and rules ("": the active rules), each
// with the case's revision it was edited from (nil: the case's own).
type sentForms struct {
	rows        []windowRow
	windowsFrom *int64
	rules       string
	rulesFrom   *int64
	rulesErrs   []string
}

// renderDashboard renders the dashboard with the forms as sent, or as the case is.
func (h *handler) renderDashboard(c *gin.Context, v *view, status int, sent sentForms) {
	rows, rules, rulesErrs := sent.rows, sent.rules, sent.rulesErrs
	ctx := c.Request.Context()
	cs, err := h.claims.Case(ctx, c.Param("case"))
	if err != nil {
		h.failErr(c, err)
		return
	}
	now := h.now()
	r, err := h.reports.Get(ctx, h.store, h.claims, cs, now, v.Lang)
	if err != nil {
		h.failErr(c, err)
		return
	}
	// A form shown again keeps the revision it was first edited from; one read from the case
	// has the case's.
	p := dashboardPage{WindowsFrom: cs.Revision, RulesFrom: cs.Revision}
	if sent.windowsFrom != nil {
		p.WindowsFrom = *sent.windowsFrom
	}
	if sent.rulesFrom != nil {
		p.RulesFrom = *sent.rulesFrom
	}
	byStatus := r.ByStatus
	p.Case, p.Report, p.ByStatus, p.Statuses, p.Rules, p.RulesErrors = cs, r, byStatus, lifecycle.Statuses, rules, rulesErrs
	p.Deficient, p.Claimants, p.DeficientDue = byStatus[lifecycle.Deficient], r.Claimants, r.DeficientDue
	for _, s := range awaitingStatuses {
		p.Awaiting += byStatus[s]
	}
	for _, ch := range r.Charts {
		svg, err := export.ChartSVG(ch)
		if err != nil {
			h.failErr(c, err)
			return
		}
		p.Charts = append(p.Charts, svg)
	}
	for _, s := range cs.Services {
		p.Services = append(p.Services, s.Slug)
	}
	if rows == nil {
		for i, w := range claims.WindowInputs(cs.Windows, cs.Location) {
			// The form shows local times as a lawyer types them (read in the case's zone).
			w.Start, w.End = localInput(cs.Windows[i].StartAt, cs.Location), localInput(cs.Windows[i].EndAt, cs.Location)
			rows = append(rows, windowRow{WindowInput: w, Index: i})
		}
		rows = append(rows, windowRow{Index: len(rows)}) // a blank row adds a window
	}
	p.WindowRows = rows
	for _, row := range rows {
		p.WindowsErrors = p.WindowsErrors || len(row.Errors) > 0
	}
	rs, err := h.claims.ActiveRules(ctx, cs)
	if err != nil {
		h.failErr(c, err)
		return
	}
	p.RulesVersion = rs.Version
	if p.Rules == "" {
		var b bytes.Buffer
		if json.Indent(&b, []byte(rs.Raw), "", "  ") == nil {
			p.Rules = b.String()
		} else {
			p.Rules = rs.Raw
		}
	}
	v.Section, v.Page = "dashboard", p
	h.render(c, status, "dashboard", v)
}

// saveWindows replaces the case's windows with the form's rows through the API's own path
// (claims.Service.ReplaceWindows: the same validation, re-decision and audit record). Blank
// rows are ignored; a row with "remove" ticked is dropped.
func (h *handler) saveWindows(c *gin.Context) {
	form := c.Request.PostForm
	from := formRevision(c)
	n := len(form["service"])
	var in []claims.WindowInput
	var rows []windowRow
	var at []int // at[i] is the form row of in[i]
	for i := 0; i < n; i++ {
		get := func(f string) string {
			if vs := form[f]; i < len(vs) {
				return strings.TrimSpace(vs[i])
			}
			return ""
		}
		w := claims.WindowInput{Service: get("service"), Feature: get("feature"), Severity: get("severity"), Start: get("start"),
			End: get("end"), Source: get("source"), Confidence: get("confidence")}
		rows = append(rows, windowRow{WindowInput: w, Index: i})
		if w == (claims.WindowInput{Severity: w.Severity}) || slices.Contains(form["remove"], strconv.Itoa(i)) {
			continue
		}
		in = append(in, w)
		at = append(at, i)
	}
	var err error
	switch {
	case n == 0:
		// A post without the form's rows is a mistake, not a request to delete every window.
		err = apperr.Validation([]apperr.FieldError{{Path: "windows", Code: apperr.FieldRequired}})
	case in == nil:
		in = []claims.WindowInput{} // every row removed: no windows
		fallthrough
	default:
		_, _, err = h.claims.ReplaceWindowsFrom(c.Request.Context(), c.Param("case"), from, in, h.auth.Actor(c))
	}
	if err == nil {
		c.Redirect(http.StatusSeeOther, "/admin/cases/"+url.PathEscape(c.Param("case"))+"?done=windows#windows")
		return
	}
	if h.changedMeanwhile(c, err) {
		return
	}
	ae, ok := err.(*apperr.Error)
	if !ok || ae.Code != apperr.Invalid {
		h.failErrOn(c, dashboardPath(c), err)
		return
	}
	v := h.dashboardView(c)
	v.Error = v.T("admin_windows_invalid")
	for _, f := range ae.Fields {
		i, field, ok := parseWindowPath(f.Path)
		if !ok || i >= len(at) {
			v.Error += " " + messages.Field(v.Lang, f)
			continue
		}
		row := &rows[at[i]]
		if row.Errors == nil {
			row.Errors = map[string]string{}
		}
		row.Errors[field] = messages.Field(v.Lang, f)
	}
	rows = append(rows, windowRow{Index: len(rows)})
	h.renderDashboard(c, v, http.StatusUnprocessableEntity, sentForms{rows: rows, windowsFrom: from})
}

// formRevision is the case's revision a windows or rules form was edited from; nil when the
// form does not say (one opened before forms said it), which checks nothing.
func formRevision(c *gin.Context) *int64 {
	n, err := strconv.ParseInt(c.PostForm("revision"), 10, 64)
	if err != nil {
		return nil
	}
	return &n
}

// changedMeanwhile answers a save refused because the case's windows or rules changed after
// its form was opened (store.ErrCaseChanged): the dashboard as the case now is, saying so, and
// nothing saved. It reports whether err was that.
func (h *handler) changedMeanwhile(c *gin.Context, err error) bool {
	if !errors.Is(err, store.ErrCaseChanged) {
		return false
	}
	v := h.dashboardView(c)
	v.Error = v.T("case_changed")
	h.renderDashboard(c, v, http.StatusConflict, sentForms{})
	return true
}

// dashboardPath is the dashboard of the request's case, where its forms are.
func dashboardPath(c *gin.Context) string { return "/admin/cases/" + url.PathEscape(c.Param("case")) }

// dashboardView is the view of the dashboard answered to one of its forms (its language switch
// leads to the dashboard).
func (h *handler) dashboardView(c *gin.Context) *view {
	v := h.view(c, "admin_dashboard_title")
	v.at(dashboardPath(c))
	return v
}

// parseWindowPath reads "windows[3].start" into 3 and "start".
func parseWindowPath(p string) (i int, field string, ok bool) {
	rest, ok := strings.CutPrefix(p, "windows[")
	if !ok {
		return 0, "", false
	}
	num, field, ok := strings.Cut(rest, "].")
	i, err := strconv.Atoi(num)
	if !ok || err != nil || i < 0 {
		return 0, "", false
	}
	return i, field, true
}

// saveRules makes the form's JSON the case's next rule set through the API's own path
// (claims.Service.SetRules: the same validation and audit record).
func (h *handler) saveRules(c *gin.Context) {
	raw := strings.TrimSpace(c.PostForm("rules"))
	from := formRevision(c)
	var err error
	var compact bytes.Buffer
	if cerr := json.Compact(&compact, []byte(raw)); cerr != nil {
		err = apperr.New(apperr.Malformed, "")
	} else {
		_, err = h.claims.SetRulesFrom(c.Request.Context(), c.Param("case"), from, compact.Bytes(), h.auth.Actor(c))
	}
	if err == nil {
		c.Redirect(http.StatusSeeOther, "/admin/cases/"+url.PathEscape(c.Param("case"))+"?done=rules#rules")
		return
	}
	if h.changedMeanwhile(c, err) {
		return
	}
	ae, ok := err.(*apperr.Error)
	if !ok || (ae.Code != apperr.Invalid && ae.Code != apperr.Malformed) {
		h.failErrOn(c, dashboardPath(c), err)
		return
	}
	v := h.dashboardView(c)
	v.Error = v.T("admin_rules_invalid")
	var errs []string
	for _, f := range ae.Fields {
		errs = append(errs, f.Path+": "+messages.Field(v.Lang, f))
	}
	if len(errs) == 0 {
		errs = append(errs, errorText(v.Lang, err))
	}
	h.renderDashboard(c, v, http.StatusUnprocessableEntity, sentForms{rules: raw, rulesFrom: from, rulesErrs: errs})
}

// windowField is one input of the windows form (template "wfield").
type windowField struct {
	V     *view
	Row   windowRow
	Name  string
	N     int
	Value string
}

// F is the input name of row, numbered n for its label.
func (p dashboardPage) F(v *view, row windowRow, name string, n int) windowField {
	val := map[string]string{"service": row.Service, "feature": row.Feature, "start": row.Start, "end": row.End,
		"source": row.Source, "confidence": row.Confidence}[name]
	return windowField{V: v, Row: row, Name: name, N: n, Value: val}
}

// localInput writes an instant as a local time in loc, "2022-10-15 15:30" (with seconds, and
// their fraction, when it has any), which ParseWindows reads back in the case's zone: an edge
// written without its fraction would move when the form is saved (claims.WindowInputs).
func localInput(t time.Time, loc *time.Location) string {
	l := t.In(loc)
	if l.Second() != 0 || l.Nanosecond() != 0 {
		return l.Format("2006-01-02 15:04:05.999999999")
	}
	return l.Format("2006-01-02 15:04")
}

// warmReport gathers the default case's report figures into the cache (at start), so the
// first lawyer to open the dashboard finds them: the cache keeps one gathering for every
// language, so warming in Korean warms the English dashboard too (it only renders). A failure
// is logged and the page gathers them then.
func (h *handler) warmReport(ctx context.Context) {
	cs, err := h.claims.Case(ctx, h.caseSlug)
	if err == nil {
		_, err = h.reports.Get(ctx, h.store, h.claims, cs, h.now(), messages.Ko)
	}
	if err != nil && ctx.Err() == nil {
		h.log.Error("building the case report at start failed", "case", h.caseSlug, "err", err)
	}
}
