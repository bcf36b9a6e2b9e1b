package api

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/claimdesk/claimdesk/api/web"
	"github.com/claimdesk/claimdesk/internal/apperr"
	"github.com/claimdesk/claimdesk/internal/audit"
	"github.com/claimdesk/claimdesk/internal/auth"
	"github.com/claimdesk/claimdesk/internal/claims"
	"github.com/claimdesk/claimdesk/internal/export"
	"github.com/claimdesk/claimdesk/internal/messages"
	"github.com/claimdesk/claimdesk/internal/redact"
	"github.com/claimdesk/claimdesk/internal/store"
	"github.com/claimdesk/claimdesk/models"
)

// exportRoutes registers the lawyers' exports and the case report. GET streams an export
// straight to the client (memory stays flat on any size); POST to the same path runs it as a
// background job whose progress and file are at /exports/{id}. Lawyers and admins only,
// every export audited.
func (s *Server) exportRoutes(r *gin.Engine, v1 *gin.RouterGroup) {
	staff := require(auth.Admin, auth.Lawyer)
	for _, f := range []export.Format{export.CSV, export.XLSX, export.NDJSON} {
		v1.GET("/cases/:case/exports/claims."+string(f), staff, s.exportTable(audit.EntityClaims, f))
		v1.POST("/cases/:case/exports/claims."+string(f), staff, s.queueExport(audit.EntityClaims, f))
	}
	for _, f := range []export.Format{export.CSV, export.XLSX} {
		v1.GET("/cases/:case/exports/plaintiffs."+string(f), staff, s.exportTable(audit.EntityPlaintiffs, f))
		v1.POST("/cases/:case/exports/plaintiffs."+string(f), staff, s.queueExport(audit.EntityPlaintiffs, f))
	}
	v1.GET("/exports/:id", staff, s.getExport)
	v1.GET("/exports/:id/file", staff, s.exportFile)
	v1.GET("/cases/:case/report.pdf", staff, s.report(export.PDF))
	// The printable page of the lawyers' workspace (session cookie or bearer token).
	r.GET("/admin/cases/:case/report", s.authenticate(), staff, s.report(export.HTML))
}

// exportOptions reads bom and redact (true or false; bom defaults to true). A role listed in
// Config.RedactRoles always gets redacted files: redact defaults to true for it, and asking for
// redact=false is refused (403) rather than silently ignored.
func (s *Server) exportOptions(c *gin.Context, format export.Format) (export.Options, error) {
	opts := export.Options{Format: format, BOM: true, Lang: messages.FromRequest(c.Request)}
	forced := s.mustRedact(c)
	opts.Redact = forced
	var errs []apperr.FieldError
	for _, p := range []struct {
		name string
		dst  *bool
	}{{"bom", &opts.BOM}, {"redact", &opts.Redact}} {
		v, ok := c.GetQuery(p.name)
		if !ok {
			continue
		}
		b, err := strconv.ParseBool(v)
		if err != nil {
			errs = append(errs, apperr.FieldError{Path: p.name, Code: apperr.FieldInvalidValue, Params: map[string]string{"allowed": "true, false"}})
			continue
		}
		*p.dst = b
	}
	if len(errs) > 0 {
		return opts, apperr.Validation(errs)
	}
	if forced && !opts.Redact {
		return opts, errRedactionRequired
	}
	return opts, nil
}

var errRedactionRequired = &apperr.Error{Code: apperr.Forbidden, Message: "export_redaction_required"}

// mustRedact says whether the caller's role may only export redacted files.
func (s *Server) mustRedact(c *gin.Context) bool {
	p := principal(c)
	return p != nil && slices.Contains(s.cfg.RedactRoles, p.Role)
}

// exportFilter reads the claims list's filters (claims.ListFilter, the one reading for the list,
// the pages and exports). shown are the filter parameters as sent, for the audit trail and the
// file's summary, with a free-text search masked (it is usually a name, an email or a phone);
// query are the same parameters unmasked, for a background job to read again.
func exportFilter(c *gin.Context, cs *store.Case) (f store.ExportFilter, shown, query map[string]string, err error) {
	lf, err := claimFilter(c, cs)
	if err != nil {
		return f, nil, nil, err
	}
	shown, query = map[string]string{}, map[string]string{}
	for _, k := range claims.ListFilterParams {
		if v := c.Query(k); v != "" {
			shown[k], query[k] = v, v
		}
	}
	if v, ok := shown["q"]; ok {
		shown["q"] = redact.Search(v)
	}
	return store.ExportFilterOf(lf), shown, query, nil
}

func (s *Server) exportTable(entity string, format export.Format) gin.HandlerFunc {
	return func(c *gin.Context) {
		ctx := c.Request.Context()
		cs, err := s.store.Case(ctx, c.Param("case"))
		if err != nil {
			writeError(c, err)
			return
		}
		f, shown, _, ferr := exportFilter(c, cs)
		opts, oerr := s.exportOptions(c, format)
		if err := apperr.MergeFields(ferr, oerr); err != nil {
			writeError(c, err)
			return
		}
		opts.Now, opts.Filters = s.now(), shown
		run := export.Items
		if entity == audit.EntityPlaintiffs {
			run = export.Plaintiffs
		}
		c.Header("Content-Type", format.ContentType())
		c.Header("Content-Disposition", fmt.Sprintf(`attachment; filename="%s-%s-%s.%s"`, cs.Slug, entity, opts.Now.In(cs.Location).Format("20060102-1504"), format))
		c.Header("Cache-Control", "no-store")
		c.Status(http.StatusOK)
		longWrite(c)
		res, err := run(ctx, s.store, cs, f, c.Writer, opts)
		s.auditExport(c, cs, entity, format, shown, opts, res.Rows, err)
		if err != nil {
			s.failStream(c, err)
		}
	}
}

// exportWriteTime is how long a download may take. The server's WriteTimeout is made for
// ordinary answers; a million-row workbook to a slow client can take longer.
const exportWriteTime = time.Hour

// longWrite gives this response exportWriteTime to be written (where the server supports it).
func longWrite(c *gin.Context) {
	_ = http.NewResponseController(c.Writer).SetWriteDeadline(time.Now().Add(exportWriteTime))
}

// failStream ends a response that failed. Before the first byte it is an ordinary error
// answer; after it, the connection is cut so the client sees a failed download, never a file
// that looks complete but is not.
func (s *Server) failStream(c *gin.Context, err error) {
	if !c.Writer.Written() {
		// gin keeps a Content-Type already set: drop the file's headers so the error goes
		// out as the JSON it is.
		for _, h := range []string{"Content-Type", "Content-Disposition", "Content-Length"} {
			c.Writer.Header().Del(h)
		}
		writeError(c, err)
		return
	}
	if ctx := c.Request.Context(); ctx.Err() == nil {
		s.log.ErrorContext(ctx, "export failed while streaming", "request_id", requestID(c), "err", err)
	}
	panic(http.ErrAbortHandler)
}

func (s *Server) report(format export.Format) gin.HandlerFunc {
	return func(c *gin.Context) {
		ctx := c.Request.Context()
		cs, err := s.store.Case(ctx, c.Param("case"))
		if err != nil {
			writeError(c, err)
			return
		}
		now := s.now()
		// The report is a few hundred kilobytes at most: it is built in memory and sent
		// whole, so a failure is an ordinary error answer. The page is one of the workspace's,
		// in the language the lawyer chose there, from the figures its dashboard shows
		// (gathered at most a TTL ago, and stamped with that time); the PDF, a document to
		// keep, is gathered afresh.
		var lang messages.Lang
		var rep *export.Report
		if format == export.HTML {
			lang = web.PageLang(c)
			rep, err = s.reports.Get(ctx, s.store, s.claims, cs, now, lang)
		} else {
			lang = messages.FromRequest(c.Request)
			if l := c.Query("lang"); l != "" {
				lang = messages.Parse(l)
			}
			rep, err = export.BuildReport(ctx, s.store, s.claims, cs, now, lang)
		}
		var buf bytes.Buffer
		if err == nil {
			if format == export.PDF {
				err = export.WritePDF(&buf, rep, now, s.cfg.FontDir)
			} else {
				err = export.WriteHTML(&buf, rep)
			}
		}
		if err == nil {
			if format == export.PDF {
				c.Header("Content-Disposition", fmt.Sprintf(`attachment; filename="%s-report-%s.pdf"`, cs.Slug, now.In(cs.Location).Format("20060102-1504")))
			} else {
				c.Header("Content-Security-Policy", export.ReportCSP)
			}
			c.Header("Cache-Control", "no-store")
			c.Data(http.StatusOK, format.ContentType(), buf.Bytes())
		}
		s.auditExport(c, cs, audit.EntityReport, format, nil, export.Options{Lang: lang}, 1, err)
		if err != nil {
			writeError(c, err)
		}
	}
}

// auditExport records who exported what with which filters and how many rows, whether or not
// the export finished (a partial download still left the building).
func (s *Server) auditExport(c *gin.Context, cs *store.Case, entity string, format export.Format, filters map[string]string, opts export.Options, rows int64, err error, extra ...any) {
	p := principal(c)
	id := p.TokenID
	details := map[string]any{"format": string(format), "rows": rows, "redacted": opts.Redact, "completed": err == nil, "lang": string(opts.Lang)}
	if filters != nil {
		details["filters"] = filters
	}
	if format == export.CSV {
		details["bom"] = opts.BOM
	}
	for i := 0; i+1 < len(extra); i += 2 {
		details[extra[i].(string)] = extra[i+1]
	}
	caseID := cs.ID
	ev := audit.Event{Actor: audit.Actor{Kind: audit.ActorToken, ID: &id, Name: p.Name, Role: string(p.Role), IP: c.ClientIP(), RequestID: requestID(c)},
		CaseID: &caseID, Action: audit.ActionExport, Entity: entity, EntityID: cs.Slug, Details: details}
	// Not the request's context: an export the client broke off is recorded all the same.
	if rerr := audit.Record(context.WithoutCancel(c.Request.Context()), s.store, s.now(), ev); rerr != nil {
		s.log.ErrorContext(c.Request.Context(), "audit record failed", "request_id", requestID(c), "err", rerr)
	}
}

// ExportJobResponse is a background export: what was asked, how far it got, and where its file
// is once it succeeded.
type ExportJobResponse struct {
	ID          int64   `json:"id"`
	Case        string  `json:"case"`
	Export      string  `json:"export"`
	Format      string  `json:"format"`
	Status      string  `json:"status"`
	RowsTotal   int64   `json:"rows_total"`
	RowsDone    int64   `json:"rows_done"`
	SizeBytes   int64   `json:"size_bytes"`
	CreatedAt   string  `json:"created_at"`
	FinishedAt  *string `json:"finished_at"`
	ExpiresAt   string  `json:"expires_at"`
	DownloadURL string  `json:"download_url,omitempty"`
}

// exportTTL is how long the file of a background export is kept.
const exportTTL = 24 * time.Hour

func (s *Server) queueExport(entity string, format export.Format) gin.HandlerFunc {
	return func(c *gin.Context) {
		ctx := c.Request.Context()
		cs, err := s.store.Case(ctx, c.Param("case"))
		if err != nil {
			writeError(c, err)
			return
		}
		f, shown, query, ferr := exportFilter(c, cs)
		opts, oerr := s.exportOptions(c, format)
		if err := apperr.MergeFields(ferr, oerr); err != nil {
			writeError(c, err)
			return
		}
		var total int64
		if entity == audit.EntityClaims {
			total, err = s.store.CountExportItems(ctx, f)
		} else {
			f.ExcludeStatuses = store.ExcludedFromTotals
			total, err = s.store.CountExportClaims(ctx, f)
		}
		if err != nil {
			writeError(c, err)
			return
		}
		params := export.JobParams{Query: query, Redact: opts.Redact, BOM: opts.BOM, Lang: string(opts.Lang), Filters: shown}
		raw, err := json.Marshal(params)
		if err != nil {
			writeError(c, err)
			return
		}
		p := principal(c)
		id := p.TokenID
		now := s.now().UTC().Truncate(time.Microsecond)
		e := &models.Export{CaseID: cs.ID, TokenID: &id, CreatedBy: p.Name, Entity: entity, Format: string(format), Params: string(raw),
			RowsTotal: total, CreatedAt: now, ExpiresAt: now.Add(exportTTL)}
		if err := s.store.CreateExport(ctx, e); err != nil {
			writeError(c, err)
			return
		}
		s.imports.jobs.Notify()
		// Recorded when asked for (rows: the count at that time) and again at each download.
		s.auditExport(c, cs, entity, format, shown, opts, total, nil, "export_id", e.ID, "background", "queued")
		c.Header("Location", "/api/v1/exports/"+strconv.FormatInt(e.ID, 10))
		c.JSON(http.StatusAccepted, exportJobResponse(cs, e))
	}
}

func (s *Server) loadExport(c *gin.Context) (*models.Export, *store.Case, bool) {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil || id <= 0 {
		writeError(c, &apperr.Error{Code: apperr.NotFound, Message: "export_not_found"})
		return nil, nil, false
	}
	e, err := s.store.Export(c.Request.Context(), id)
	if err != nil {
		writeError(c, err)
		return nil, nil, false
	}
	if !e.ExpiresAt.After(s.now()) {
		writeError(c, &apperr.Error{Code: apperr.NotFound, Message: "export_not_found"})
		return nil, nil, false
	}
	cs, err := s.store.CaseByID(c.Request.Context(), e.CaseID)
	if err != nil {
		writeError(c, err)
		return nil, nil, false
	}
	return e, cs, true
}

func (s *Server) getExport(c *gin.Context) {
	e, cs, ok := s.loadExport(c)
	if !ok {
		return
	}
	c.JSON(http.StatusOK, exportJobResponse(cs, e))
}

// exportFile streams the file of a finished background export, chunk by chunk. Each download
// is audited, as a direct export is.
func (s *Server) exportFile(c *gin.Context) {
	e, cs, ok := s.loadExport(c)
	if !ok {
		return
	}
	if e.Status != store.ExportSucceeded {
		writeError(c, &apperr.Error{Code: apperr.Conflict, Message: "export_not_ready", Params: map[string]string{"status": e.Status}})
		return
	}
	format := export.Format(e.Format)
	var p export.JobParams
	_ = json.Unmarshal([]byte(e.Params), &p)
	if !p.Redact && s.mustRedact(c) {
		writeError(c, errRedactionRequired) // made by someone who may see contact data
		return
	}
	c.Header("Content-Type", format.ContentType())
	c.Header("Content-Disposition", fmt.Sprintf(`attachment; filename="%s-%s-%s.%s"`, cs.Slug, e.Entity, e.CreatedAt.In(cs.Location).Format("20060102-1504"), format))
	c.Header("Content-Length", strconv.FormatInt(e.SizeBytes, 10))
	c.Header("Cache-Control", "no-store")
	c.Status(http.StatusOK)
	longWrite(c)
	err := s.store.StreamExportChunks(c.Request.Context(), e.ID, func(b []byte) error {
		_, err := c.Writer.Write(b)
		return err
	})
	s.auditExport(c, cs, e.Entity, format, p.Filters, export.Options{Redact: p.Redact, BOM: p.BOM, Lang: messages.Parse(p.Lang)}, e.RowsDone, err,
		"export_id", e.ID, "background", "downloaded")
	if err != nil {
		s.failStream(c, err)
	}
}

func exportJobResponse(cs *store.Case, e *models.Export) ExportJobResponse {
	out := ExportJobResponse{ID: e.ID, Case: cs.Slug, Export: e.Entity, Format: e.Format, Status: e.Status, RowsTotal: e.RowsTotal,
		RowsDone: e.RowsDone, SizeBytes: e.SizeBytes, CreatedAt: localTime(e.CreatedAt, cs.Location), ExpiresAt: localTime(e.ExpiresAt, cs.Location)}
	if e.FinishedAt != nil {
		f := localTime(*e.FinishedAt, cs.Location)
		out.FinishedAt = &f
	}
	if e.Status == store.ExportSucceeded {
		out.DownloadURL = "/api/v1/exports/" + strconv.FormatInt(e.ID, 10) + "/file"
	}
	return out
}
