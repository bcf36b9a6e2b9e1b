package api

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"net/http"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/claimdesk/claimdesk/internal/apperr"
	"github.com/claimdesk/claimdesk/internal/audit"
	"github.com/claimdesk/claimdesk/internal/export"
	"github.com/claimdesk/claimdesk/internal/intake"
	"github.com/claimdesk/claimdesk/internal/store"
	"github.com/claimdesk/claimdesk/models"
)

// AuditEventResponse is one audit record. before, after and details are the JSON recorded
// with it (no secrets).
type AuditEventResponse struct {
	ID        int64           `json:"id"`
	At        string          `json:"at"`
	Actor     AuditActor      `json:"actor"`
	Case      string          `json:"case,omitempty"`
	Action    string          `json:"action"`
	Entity    string          `json:"entity"`
	EntityID  string          `json:"entity_id,omitempty"`
	Before    json.RawMessage `json:"before,omitempty"`
	After     json.RawMessage `json:"after,omitempty"`
	Details   json.RawMessage `json:"details,omitempty"`
	RequestID string          `json:"request_id,omitempty"`
}

// AuditActor is who acted and from where.
type AuditActor struct {
	Kind string `json:"kind"`
	ID   *int64 `json:"id,omitempty"`
	Name string `json:"name,omitempty"`
	Role string `json:"role,omitempty"`
	IP   string `json:"ip,omitempty"`
}

// AuditListResponse is a page of the audit trail, newest first.
type AuditListResponse struct {
	Events     []AuditEventResponse `json:"events"`
	NextCursor string               `json:"next_cursor,omitempty"`
}

// auditFilter reads the query; each bad parameter is reported by name.
func (s *Server) auditFilter(c *gin.Context) (store.AuditFilter, map[int64]string, error) {
	ctx := c.Request.Context()
	f := store.AuditFilter{Entity: c.Query("entity"), EntityID: c.Query("entity_id"), ActorKind: c.Query("actor_kind"),
		ActorName: c.Query("actor"), Action: c.Query("action"), Cursor: c.Query("cursor"), Limit: 100}
	var fields []apperr.FieldError
	if v := c.Query("actor_id"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			fields = append(fields, apperr.FieldError{Path: "actor_id", Code: apperr.FieldInvalidFormat, Params: map[string]string{"hint": "hint_none"}})
		}
		f.ActorID = &n
	}
	cases := map[int64]string{}
	all, err := s.store.Cases(ctx)
	if err != nil {
		return f, nil, err
	}
	// A local time without an offset is read in the zone of the case filtered on, as
	// everywhere in claimdesk; without a case, in UTC.
	loc := time.UTC
	for _, cs := range all {
		cases[cs.ID] = cs.Slug
		if v := c.Query("case"); v == cs.Slug {
			id := cs.ID
			f.CaseID = &id
			if loc, err = time.LoadLocation(cs.TimeZone); err != nil {
				return f, nil, err
			}
		}
	}
	if v := c.Query("case"); v != "" && f.CaseID == nil {
		fields = append(fields, apperr.FieldError{Path: "case", Code: apperr.FieldInvalidValue, Message: "case_not_found", Params: map[string]string{"case": v}})
	}
	for _, t := range []struct {
		name string
		dst  *time.Time
	}{{"from", &f.From}, {"to", &f.To}} {
		if v := c.Query(t.name); v != "" {
			x, err := intake.ParseInstant(v, loc)
			if err != nil {
				fields = append(fields, apperr.FieldError{Path: t.name, Code: apperr.FieldInvalidFormat, Params: map[string]string{"hint": "hint_time"}})
			}
			*t.dst = x
		}
	}
	if v := c.Query("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 1000 {
			fields = append(fields, apperr.FieldError{Path: "limit", Code: apperr.FieldOutOfRange, Params: map[string]string{"min": "1", "max": "1000"}})
		}
		f.Limit = n
	}
	if len(fields) > 0 {
		return f, nil, apperr.Validation(fields)
	}
	return f, cases, nil
}

func auditEventResponse(e *models.AuditEvent, cases map[int64]string) AuditEventResponse {
	out := AuditEventResponse{ID: e.ID, At: e.At.UTC().Format(time.RFC3339Nano), Action: e.Action, Entity: e.Entity, EntityID: e.EntityID,
		Actor: AuditActor{Kind: e.ActorKind, ID: e.ActorID, Name: e.ActorName, Role: e.ActorRole, IP: e.IP}, RequestID: e.RequestID}
	if e.CaseID != nil {
		out.Case = cases[*e.CaseID]
	}
	if e.Before != nil {
		out.Before = json.RawMessage(*e.Before)
	}
	if e.After != nil {
		out.After = json.RawMessage(*e.After)
	}
	if e.Details != "" && e.Details != "{}" {
		out.Details = json.RawMessage(e.Details)
	}
	return out
}

func (s *Server) listAudit(c *gin.Context) {
	f, cases, err := s.auditFilter(c)
	if err != nil {
		writeError(c, err)
		return
	}
	evs, next, err := s.store.ListAudit(c.Request.Context(), f)
	if err != nil {
		writeError(c, err)
		return
	}
	out := AuditListResponse{Events: make([]AuditEventResponse, len(evs)), NextCursor: next}
	for i := range evs {
		out.Events[i] = auditEventResponse(&evs[i], cases)
	}
	c.JSON(http.StatusOK, out)
}

// auditColumns are the columns of the CSV export of the audit trail.
var auditColumns = []string{"id", "at", "actor_kind", "actor_id", "actor_name", "actor_role", "ip", "request_id", "case", "action", "entity", "entity_id", "before", "after", "details"}

// exportAudit streams every event the filters select as CSV (UTF-8 with a BOM so that
// spreadsheet programs read Korean right; cells that would run as formulas are neutralised).
// The export is itself recorded in the audit trail.
func (s *Server) exportAudit(c *gin.Context) {
	f, cases, err := s.auditFilter(c)
	if err != nil {
		writeError(c, err)
		return
	}
	ctx := c.Request.Context()
	c.Header("Content-Type", "text/csv; charset=utf-8")
	c.Header("Content-Disposition", `attachment; filename="audit-`+s.now().UTC().Format("20060102-1504")+`.csv"`)
	c.Header("Cache-Control", "no-store")
	c.Status(http.StatusOK)
	c.Writer.WriteString("\ufeff")
	w := csv.NewWriter(c.Writer)
	w.Write(auditColumns)
	rows := 0
	err = s.store.StreamAudit(ctx, f, func(e *models.AuditEvent) error {
		id, caseSlug := "", ""
		if e.ActorID != nil {
			id = strconv.FormatInt(*e.ActorID, 10)
		}
		if e.CaseID != nil {
			caseSlug = cases[*e.CaseID]
		}
		str := func(p *string) string {
			if p == nil {
				return ""
			}
			return *p
		}
		rec := []string{strconv.FormatInt(e.ID, 10), e.At.UTC().Format(time.RFC3339Nano), e.ActorKind, id, e.ActorName, e.ActorRole,
			e.IP, e.RequestID, caseSlug, e.Action, e.Entity, e.EntityID, str(e.Before), str(e.After), e.Details}
		rows++
		return w.Write(export.NeutralizeAll(rec))
	})
	w.Flush()
	ev := audit.Event{Actor: actorOf(c), CaseID: f.CaseID, Action: audit.ActionExport, Entity: audit.EntityAudit, Details: map[string]any{"rows": rows, "format": "csv"}}
	if rerr := audit.Record(context.WithoutCancel(ctx), s.store, s.now(), ev); rerr != nil {
		s.log.ErrorContext(ctx, "audit record failed", "request_id", requestID(c), "err", rerr)
	}
	if err != nil {
		// Headers are sent: the truncated file is all the client gets; the log says why.
		s.log.ErrorContext(ctx, "audit export failed", "request_id", requestID(c), "err", err)
		c.Abort()
	}
}
