package admin

import (
	"net/http"
	"net/url"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/claimdesk/claimdesk/api/web"
	"github.com/claimdesk/claimdesk/internal/audit"
	"github.com/claimdesk/claimdesk/internal/intake"
	"github.com/claimdesk/claimdesk/internal/store"
	"github.com/claimdesk/claimdesk/models"
)

// auditRoutes registers the audit trail page.
func (h *handler) auditRoutes(g *gin.RouterGroup) {
	g.GET("/audit", h.audit)
}

// auditPage is a page of the audit trail with its filters.
type auditPage struct {
	Entity, Actor, Action, From, To string
	Entities                        []string
	Events                          []models.AuditEvent
	// Next is the query of the next page; CSV the CSV export with the same filters.
	Next, CSV string
}

// audit lists the trail, newest first, filtered by entity, actor name, action and a time range
// [from, to) read in Korea time; the same filters give the CSV export of the API.
func (h *handler) audit(c *gin.Context) {
	v := h.view(c, "admin_audit_title")
	p := auditPage{Entity: c.Query("entity"), Actor: c.Query("actor"), Action: c.Query("action"), From: c.Query("from"), To: c.Query("to"),
		Entities: audit.Entities}
	f := store.AuditFilter{Entity: p.Entity, ActorName: p.Actor, Action: p.Action, Cursor: c.Query("cursor"), Limit: 50}
	api := url.Values{}
	for k, val := range map[string]string{"entity": p.Entity, "actor": p.Actor, "action": p.Action} {
		if val != "" {
			api.Set(k, val)
		}
	}
	status := http.StatusOK
	for _, t := range []struct {
		name, val string
		dst       *time.Time
	}{{"from", p.From, &f.From}, {"to", p.To, &f.To}} {
		if t.val == "" {
			continue
		}
		x, err := intake.ParseInstant(t.val, web.Seoul)
		if err != nil {
			v.Error, status = v.T("admin_audit_bad_time"), http.StatusUnprocessableEntity
			continue
		}
		*t.dst = x
		api.Set(t.name, x.In(web.Seoul).Format(time.RFC3339)) // the instant, whatever zone the API reads
	}
	if status == http.StatusOK {
		evs, next, err := h.store.ListAudit(c.Request.Context(), f)
		if err != nil {
			h.failErr(c, err)
			return
		}
		p.Events = evs
		if next != "" {
			q := c.Request.URL.Query()
			q.Set("cursor", next)
			p.Next = "?" + q.Encode()
		}
	}
	p.CSV = "/api/v1/audit.csv"
	if len(api) > 0 {
		p.CSV += "?" + api.Encode()
	}
	v.Section, v.Page = "audit", p
	h.render(c, status, "audit", v)
}
