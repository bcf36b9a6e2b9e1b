package api

import (
	"bufio"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/claimdesk/claimdesk/internal/apperr"
	"github.com/claimdesk/claimdesk/internal/auth"
	"github.com/claimdesk/claimdesk/internal/claims"
	"github.com/claimdesk/claimdesk/internal/export"
	"github.com/claimdesk/claimdesk/internal/importer"
	"github.com/claimdesk/claimdesk/internal/intake"
	"github.com/claimdesk/claimdesk/internal/jobs"
	"github.com/claimdesk/claimdesk/internal/jsonshape"
	"github.com/claimdesk/claimdesk/internal/messages"
	"github.com/claimdesk/claimdesk/internal/store"
	"github.com/claimdesk/claimdesk/models"
)

// importsConfig is what the import handlers need besides the store.
type importsConfig struct {
	importer *importer.Importer
	jobs     *jobs.Runner
	maxBytes int64
}

func newImportsConfig(cfg Config, svc *claims.Service, log *slog.Logger) importsConfig {
	ic := importsConfig{importer: cfg.Importer, jobs: cfg.Jobs, maxBytes: cfg.ImportMaxBytes}
	if ic.importer == nil {
		ic.importer = &importer.Importer{Store: cfg.Store, Claims: svc, Log: log, Live: importer.NewLive()}
	}
	if ic.maxBytes <= 0 {
		ic.maxBytes = importer.DefaultMaxBytes
	}
	return ic
}

// uploadTimeout bounds the time an upload (or an error report download) may take.
const uploadTimeout = time.Hour

// MaxBatchClaims is the most claims POST /claims/batch takes at once.
const MaxBatchClaims = 1000

// maxBatchBytes bounds the body of a batch: 1,000 claims of a few items each.
const maxBatchBytes = 32 << 20

// importRoutes registers the batch import endpoints.
func (s *Server) importRoutes(v1 *gin.RouterGroup) {
	importers := require(auth.Importer, auth.Lawyer, auth.Admin)
	v1.POST("/cases/:case/claims/batch", importers, s.createClaimBatch)
	v1.POST("/cases/:case/imports", importers, s.createImport)
	v1.GET("/imports/:id", importers, s.getImport)
	v1.GET("/imports/:id/errors.csv", importers, s.getImportErrors)
	v1.DELETE("/imports/:id", importers, s.cancelImport)
}

// ImportCreatedResponse answers an upload: the import runs in the background.
type ImportCreatedResponse struct {
	ID        int64  `json:"id"`
	Status    string `json:"status"`
	StatusURL string `json:"status_url"`
}

// ImportResponse is the status of an import.
type ImportResponse struct {
	ID              int64           `json:"id"`
	Case            string          `json:"case"`
	Format          string          `json:"format"`
	Status          string          `json:"status"`
	DryRun          bool            `json:"dry_run"`
	MaxErrorRate    *float64        `json:"max_error_rate,omitempty"`
	Reason          *ReasonResponse `json:"reason,omitempty"`
	CancelRequested bool            `json:"cancel_requested"`
	SizeBytes       int64           `json:"size_bytes"`
	RowsRead        int64           `json:"rows_read"`
	ClaimsCreated   int64           `json:"claims_created"`
	ClaimsUnchanged int64           `json:"claims_unchanged"`
	ClaimsRejected  int64           `json:"claims_rejected"`
	RowsRejected    int64           `json:"rows_rejected"`
	Attestation     string          `json:"attestation"`
	CreatedAt       string          `json:"created_at"`
	StartedAt       *string         `json:"started_at,omitempty"`
	FinishedAt      *string         `json:"finished_at,omitempty"`
	DurationSeconds *float64        `json:"duration_seconds,omitempty"`
	RowsPerSecond   *float64        `json:"rows_per_second,omitempty"`
	StatusURL       string          `json:"status_url"`
	ErrorsURL       string          `json:"errors_url"`
}

// ReasonResponse says why an import failed.
type ReasonResponse struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

func importURL(id int64) string { return "/api/v1/imports/" + strconv.FormatInt(id, 10) }

// importFormats maps accepted media types to formats.
var importFormats = map[string]string{
	"text/csv": importer.FormatCSV, "application/csv": importer.FormatCSV,
	"application/x-ndjson": importer.FormatNDJSON, "application/ndjson": importer.FormatNDJSON, "application/jsonl": importer.FormatNDJSON,
}

func (s *Server) createImport(c *gin.Context) {
	ctx := c.Request.Context()
	cs, err := s.store.Case(ctx, c.Param("case"))
	if err != nil {
		writeError(c, err)
		return
	}
	n := importer.NewImport{CaseID: cs.ID}
	if p := principal(c); p != nil {
		id := p.TokenID
		n.TokenID, n.CreatedBy = &id, p.Name
	}
	if err := importOptions(c, &n); err != nil {
		writeError(c, err)
		return
	}
	body, format, err := importBody(c)
	if err != nil {
		writeError(c, err)
		return
	}
	n.Format = format
	// A big file takes longer to send than the server's read timeout, which is sized for
	// JSON requests: this upload gets an hour (a stalled client is still cut off then).
	rc := http.NewResponseController(c.Writer)
	rc.SetReadDeadline(time.Now().Add(uploadTimeout))
	rc.SetWriteDeadline(time.Now().Add(uploadTimeout + time.Minute))
	imp, err := s.imports.importer.Receive(ctx, n, body, s.imports.maxBytes)
	if err != nil {
		// A body that could not be read (cut short, or not HTTP) is malformed (uploadBody).
		if max, ok := importer.IsTooLarge(err); ok {
			err = &apperr.Error{Code: apperr.TooLarge, Params: map[string]string{"max": humanBytes(max)}}
		}
		writeError(c, err)
		return
	}
	s.imports.jobs.Notify()
	c.Header("Location", importURL(imp.ID))
	c.JSON(http.StatusAccepted, ImportCreatedResponse{ID: imp.ID, Status: imp.Status, StatusURL: importURL(imp.ID)})
}

func humanBytes(n int64) string {
	switch {
	case n >= 1<<30 && n%(1<<30) == 0:
		return strconv.FormatInt(n>>30, 10) + " GiB"
	case n >= 1<<20 && n%(1<<20) == 0:
		return strconv.FormatInt(n>>20, 10) + " MiB"
	}
	return strconv.FormatInt(n, 10) + " bytes"
}

// importOptions reads dry_run and max_error_rate from the query.
func importOptions(c *gin.Context, n *importer.NewImport) error {
	var errs []apperr.FieldError
	if v, ok := c.GetQuery("dry_run"); ok {
		b, okb := importer.ParseBool(v)
		if !okb || b == nil {
			errs = append(errs, apperr.FieldError{Path: "dry_run", Code: apperr.FieldInvalidValue, Params: map[string]string{"allowed": "true, false"}})
		} else {
			n.DryRun = *b
		}
	}
	if v, ok := c.GetQuery("max_error_rate"); ok {
		r, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
		if err != nil || r < 0 || r > 1 || r != r {
			errs = append(errs, apperr.FieldError{Path: "max_error_rate", Code: apperr.FieldOutOfRange, Params: map[string]string{"min": "0", "max": "1"}})
		} else {
			n.MaxErrorRate = &r
		}
	}
	if len(errs) > 0 {
		return apperr.Validation(errs)
	}
	return nil
}

// importBody returns the file of an upload and its format: the body itself (text/csv,
// application/x-ndjson) or the file field of a multipart form, streamed either way.
func importBody(c *gin.Context) (io.Reader, string, error) {
	unsupported := &apperr.Error{Code: apperr.Unsupported, Message: "import_unsupported"}
	mt, _, err := mime.ParseMediaType(c.GetHeader("Content-Type"))
	if err != nil {
		return nil, "", unsupported
	}
	if f, ok := importFormats[mt]; ok {
		return uploadBody{c.Request.Body}, f, nil
	}
	if mt != "multipart/form-data" {
		return nil, "", unsupported
	}
	mr, err := c.Request.MultipartReader()
	if err != nil {
		return nil, "", apperr.Wrap(apperr.Malformed, "", err)
	}
	for {
		part, err := mr.NextPart()
		if err == io.EOF {
			return nil, "", apperr.Validation([]apperr.FieldError{{Path: "file", Code: apperr.FieldRequired}})
		}
		if err != nil {
			return nil, "", apperr.Wrap(apperr.Malformed, "", err)
		}
		if part.FormName() != "file" {
			continue
		}
		format := importer.FormatCSV
		if pmt, _, err := mime.ParseMediaType(part.Header.Get("Content-Type")); err == nil {
			if f, ok := importFormats[pmt]; ok {
				format = f
			}
		}
		switch strings.ToLower(path.Ext(part.FileName())) {
		case ".ndjson", ".jsonl":
			format = importer.FormatNDJSON
		case ".csv":
			format = importer.FormatCSV
		}
		return uploadBody{part}, format, nil
	}
}

// uploadBody is the file of an upload as it is read from the request. An error reading it is
// the client's mistake, answered 400 malformed_request as a JSON body's is (readJSONBody): a
// body cut short, or not HTTP (a chunk size that is not a number), which reached writeError
// as an unknown error (500). Errors of the store are not the body's, and keep their answers;
// the read error stays in the chain, so a client gone is still told apart (writeError).
type uploadBody struct{ r io.Reader }

func (b uploadBody) Read(p []byte) (int, error) {
	n, err := b.r.Read(p)
	if err != nil && err != io.EOF {
		err = apperr.Wrap(apperr.Malformed, "", err)
	}
	return n, err
}

// ownImport loads the import of the path, visible to staff and to the importer who sent it
// (to anyone else it does not exist).
func (s *Server) ownImport(c *gin.Context) (*models.Import, error) {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	notFound := &apperr.Error{Code: apperr.NotFound, Message: "import_not_found"}
	if err != nil || id <= 0 {
		return nil, notFound
	}
	imp, err := s.store.Import(c.Request.Context(), id)
	if err != nil {
		return nil, err
	}
	p := principal(c)
	if imp.Status == store.ImportReceiving || (!p.Can(auth.Admin, auth.Lawyer) && (imp.TokenID == nil || *imp.TokenID != p.TokenID)) {
		return nil, notFound
	}
	return imp, nil
}

func (s *Server) getImport(c *gin.Context) {
	imp, err := s.ownImport(c)
	if err != nil {
		writeError(c, err)
		return
	}
	s.answerImport(c, http.StatusOK, imp)
}

func (s *Server) answerImport(c *gin.Context, status int, imp *models.Import) {
	cs, err := s.store.CaseByID(c.Request.Context(), imp.CaseID)
	if err != nil {
		writeError(c, err)
		return
	}
	c.JSON(status, s.importResponse(imp, cs, messages.FromRequest(c.Request)))
}

func (s *Server) importResponse(imp *models.Import, cs *store.Case, lang messages.Lang) ImportResponse {
	r := ImportResponse{ID: imp.ID, Case: cs.Slug, Format: imp.Format, Status: imp.Status, DryRun: imp.DryRun,
		MaxErrorRate: imp.MaxErrorRate, CancelRequested: imp.CancelRequested, SizeBytes: imp.SizeBytes,
		RowsRead: imp.RowsRead, ClaimsCreated: imp.ClaimsCreated, ClaimsUnchanged: imp.ClaimsUnchanged,
		ClaimsRejected: imp.ClaimsRejected, RowsRejected: imp.RowsRejected, Attestation: imp.Attestation,
		CreatedAt: localTime(imp.CreatedAt, cs.Location), StatusURL: importURL(imp.ID), ErrorsURL: importURL(imp.ID) + "/errors.csv"}
	if r.Status == store.ImportReceiving {
		r.Status = store.ImportQueued
	}
	if p := s.imports.importer.Live.Get(imp.ID); p != nil && imp.Status == store.ImportRunning {
		r.RowsRead = max(r.RowsRead, p.Rows.Load())
	}
	if imp.Reason != "" {
		params := map[string]string{}
		if imp.ReasonParams != "" {
			json.Unmarshal([]byte(imp.ReasonParams), &params)
		}
		r.Reason = &ReasonResponse{Code: imp.Reason, Message: messages.Text(lang, imp.Reason, params)}
	}
	if imp.FinishedAt != nil {
		f := localTime(*imp.FinishedAt, cs.Location)
		r.FinishedAt = &f
	}
	if imp.StartedAt != nil {
		st := localTime(*imp.StartedAt, cs.Location)
		r.StartedAt = &st
		end := s.imports.importer.Now()
		if imp.FinishedAt != nil {
			end = *imp.FinishedAt
		}
		if d := end.Sub(*imp.StartedAt).Seconds(); d > 0 {
			r.DurationSeconds = &d
			rate := float64(r.RowsRead) / d
			r.RowsPerSecond = &rate
		}
	}
	return r
}

func (s *Server) cancelImport(c *gin.Context) {
	imp, err := s.ownImport(c)
	if err != nil {
		writeError(c, err)
		return
	}
	ctx := c.Request.Context()
	local := s.imports.importer.Live.Cancel(imp.ID)
	out, err := s.store.CancelImport(ctx, imp.ID, s.imports.importer.Now())
	if err != nil && local && apperr.Is(err, apperr.Conflict) {
		// Live.Cancel stopped the run here before it could commit its outcome (Progress.state),
		// and the import ended between our two steps: cancelled, as asked, unless it was
		// ending otherwise already (failed on a file it could not read, or finished by
		// another worker that took its job for dead), and then the answer stays 409.
		if cur, gerr := s.store.Import(ctx, imp.ID); gerr == nil && cur.Status == store.ImportCancelled {
			out, err = cur, nil
		}
	}
	if err != nil {
		writeError(c, err)
		return
	}
	s.answerImport(c, http.StatusAccepted, out)
}

// errorColumns end every line of errors.csv.
var errorColumns = []string{"error_row", "error_column", "error_code", "error_message"}

func (s *Server) getImportErrors(c *gin.Context) {
	imp, err := s.ownImport(c)
	if err != nil {
		writeError(c, err)
		return
	}
	lang := messages.FromRequest(c.Request)
	var head []string
	if imp.Format == importer.FormatNDJSON {
		head = []string{"line"}
	} else if imp.Header != "" {
		head, _ = csv.NewReader(strings.NewReader(imp.Header)).Read()
	}
	http.NewResponseController(c.Writer).SetWriteDeadline(time.Now().Add(uploadTimeout)) // a report may be big
	c.Header("Content-Type", "text/csv; charset=utf-8")
	c.Header("Content-Disposition", `attachment; filename="import-`+strconv.FormatInt(imp.ID, 10)+`-errors.csv"`)
	c.Status(http.StatusOK)
	bw := bufio.NewWriterSize(c.Writer, 64<<10)
	bw.WriteString("\ufeff") // Excel in Korea needs the BOM to read UTF-8
	w := csv.NewWriter(bw)
	// The rows are the sender's, written back for a lawyer to open in a spreadsheet: each cell
	// is defused as the exports' are. A row is cut or padded to the header, so the error
	// columns stay under their names (a row with too many fields says so in its message).
	w.Write(append(export.NeutralizeAll(head), errorColumns...)) // head is used for its length after this
	err = s.store.EachImportError(c.Request.Context(), imp.ID, func(e *models.ImportError) error {
		var fields []string
		if imp.Format == importer.FormatNDJSON {
			fields = []string{e.Raw}
		} else {
			// Raw is empty once the retention sweep has cleared it: the row is all blanks then.
			rec, _ := csv.NewReader(strings.NewReader(e.Raw)).Read()
			if len(head) > 0 {
				rec = append(rec, make([]string, max(0, len(head)-len(rec)))...)[:len(head)]
			}
			fields = rec
		}
		fields = export.NeutralizeAll(fields)
		fe := apperr.FieldError{Code: e.ErrorCode, Message: e.MessageKey}
		if e.Params != "" {
			json.Unmarshal([]byte(e.Params), &fe.Params)
		}
		fields = append(fields, strconv.FormatInt(e.ErrorRow, 10), e.ErrorColumn, e.ErrorCode, FieldMessage(lang, fe))
		return w.Write(fields)
	})
	w.Flush()
	bw.Flush()
	if err != nil {
		// The header is sent: the truncated file is all we can do; the log says why.
		s.log.ErrorContext(c.Request.Context(), "errors.csv failed", "request_id", requestID(c), "import_id", imp.ID, "err", err)
	}
}

// BatchRequest is the body of POST /claims/batch.
type BatchRequest struct {
	Claims []json.RawMessage `json:"claims"`
}

// BatchResponse answers a batch claim by claim, in order.
type BatchResponse struct {
	Created   int           `json:"created"`
	Unchanged int           `json:"unchanged"`
	Rejected  int           `json:"rejected"`
	Results   []BatchResult `json:"results"`
}

// BatchResult is what became of one claim of a batch. The access code is shown once, when
// the claim is created.
type BatchResult struct {
	Index       int          `json:"index"`
	ExternalRef string       `json:"external_ref,omitempty"`
	Status      string       `json:"status"`
	Reference   string       `json:"reference,omitempty"`
	AccessCode  string       `json:"access_code,omitempty"`
	Errors      []FieldError `json:"errors,omitempty"`
}

// Batch result statuses.
const (
	batchCreated   = "created"
	batchUnchanged = "unchanged"
	batchRejected  = "rejected"
)

func (s *Server) createClaimBatch(c *gin.Context) {
	ctx := c.Request.Context()
	lang := messages.FromRequest(c.Request)
	var req BatchRequest
	if err := readBatch(c, &req); err != nil {
		writeError(c, err)
		return
	}
	meta := claims.Meta{Channel: claims.ChannelAPI, IP: c.ClientIP()}
	var (
		bt      *builtBatch
		applied []store.Applied
		caseID  int64
	)
	// The claims are decided with one Builder and stored only if the case is still at its
	// revision; if the windows or rules changed in between, they are decided again.
	err := s.claims.WithBuilder(ctx, c.Param("case"), func(b *claims.Builder) error {
		bt, caseID = buildBatch(b, req.Claims, meta, lang), b.Case.ID
		var err error
		applied, err = s.applyBatch(ctx, b.Case.ID, b.Case.Revision, bt.valid, s.batchEvent(c, b.Case.ID))
		return err
	})
	if err != nil {
		writeError(c, err)
		return
	}
	out := bt.out
	s.afterBatch(c, caseID, bt.valid, applied)
	for k, a := range applied {
		i := bt.idx[k]
		res := &out.Results[i]
		switch a.Outcome {
		case store.Created:
			res.Status, res.Reference, res.AccessCode = batchCreated, a.Reference, bt.codes[i]
		case store.Unchanged:
			res.Status, res.Reference = batchUnchanged, a.Reference
		case store.Conflict:
			res.Status = batchRejected
			res.Errors = localizeFields(lang, []apperr.FieldError{{Path: "external_ref", Code: apperr.FieldConflict, Message: "external_ref_conflict"}})
		case store.Repeated:
			res.Status = batchRejected
			res.Errors = localizeFields(lang, []apperr.FieldError{{Path: "external_ref", Code: apperr.FieldConflict, Message: "batch_ref_repeated"}})
		}
	}
	for _, r := range out.Results {
		switch r.Status {
		case batchCreated:
			out.Created++
		case batchUnchanged:
			out.Unchanged++
		default:
			out.Rejected++
		}
	}
	c.JSON(http.StatusOK, out)
}

// builtBatch is a batch decided with one Builder: the answer so far (rejected claims), the
// claims to store, the index of each in the batch and the access codes of new claims.
type builtBatch struct {
	out   BatchResponse
	valid []*models.Claim
	idx   []int
	codes map[int]string
}

func buildBatch(b *claims.Builder, raws []json.RawMessage, meta claims.Meta, lang messages.Lang) *builtBatch {
	bt := &builtBatch{out: BatchResponse{Results: make([]BatchResult, len(raws))}, codes: map[int]string{}}
	for i, raw := range raws {
		res := &bt.out.Results[i]
		res.Index = i
		var in intake.ClaimInput
		decodeErr := jsonshape.Decode(raw, &in)
		if in.Consent == nil {
			yes := true
			in.Consent = &yes // consent by the sender's attestation, as for imports
		}
		if in.ExternalRef != nil {
			res.ExternalRef = strings.TrimSpace(*in.ExternalRef)
		}
		var fields []apperr.FieldError
		if res.ExternalRef == "" {
			fields = append(fields, apperr.FieldError{Path: "external_ref", Code: apperr.FieldRequired})
		}
		m, buildErr := b.Build(in, meta)
		if err := apperr.MergeFields(apperr.MergeFields(decodeErr, buildErr), validationOf(fields)); err != nil {
			var ae *apperr.Error
			if !errors.As(err, &ae) || ae.Code != apperr.Invalid {
				ae = &apperr.Error{Fields: []apperr.FieldError{{Code: apperr.FieldInvalidFormat, Params: map[string]string{"type": "object"}}}}
			}
			res.Status, res.Errors = batchRejected, localizeFields(lang, ae.Fields)
			continue
		}
		code := auth.NewAccessCode()
		m.Reference, m.AccessCodeHash = auth.NewReference(), auth.HashAccessCode(code)
		bt.codes[i] = code
		bt.valid = append(bt.valid, m)
		bt.idx = append(bt.idx, i)
	}
	return bt
}

func validationOf(fields []apperr.FieldError) error {
	if len(fields) == 0 {
		return nil
	}
	return apperr.Validation(fields)
}

// applyBatch writes a batch decided at revision of the case in one transaction, once more if a
// concurrent writer stored one of its claims first (store.ErrConcurrentWrite: the second pass
// finds it stored). Nothing else is tried again here: a lock waited for too long
// (database_busy) would be waited for again, and a database that is down is the client's to
// retry (503). store.ErrStale says the claims must be decided again.
func (s *Server) applyBatch(ctx context.Context, caseID, revision int64, cs []*models.Claim, audited func([]store.Applied) (*models.AuditEvent, error)) ([]store.Applied, error) {
	var err error
	for range 2 {
		var applied []store.Applied
		applied, err = s.applyOnce(ctx, caseID, revision, cs, audited)
		if !errors.Is(err, store.ErrConcurrentWrite) {
			return applied, err
		}
	}
	return nil, err
}

// applyOnce stores the claims and the audit event audited makes of what was stored (nil: none)
// in one transaction.
func (s *Server) applyOnce(ctx context.Context, caseID, revision int64, cs []*models.Claim, audited func([]store.Applied) (*models.AuditEvent, error)) ([]store.Applied, error) {
	bulk, err := s.store.BeginBulk(ctx, caseID, revision, nil)
	if err != nil {
		return nil, err
	}
	defer bulk.Rollback()
	applied, err := bulk.Apply(ctx, cs)
	if err != nil {
		return nil, err
	}
	if ev, err := audited(applied); err != nil {
		return nil, err
	} else if ev != nil {
		if err := bulk.Record(ctx, ev); err != nil {
			return nil, err
		}
	}
	return applied, bulk.Commit(ctx)
}

// readBatch reads and checks the body of a batch: JSON, at most MaxBatchClaims claims.
func readBatch(c *gin.Context, req *BatchRequest) error {
	body, err := readJSONBody(c, maxBatchBytes)
	if err != nil {
		return err
	}
	if err := jsonshape.Decode(body, req); err != nil {
		return err
	}
	switch {
	case len(req.Claims) == 0:
		return apperr.Validation([]apperr.FieldError{{Path: "claims", Code: apperr.FieldRequired}})
	case len(req.Claims) > MaxBatchClaims:
		return apperr.Validation([]apperr.FieldError{{Path: "claims", Code: apperr.FieldTooMany, Params: map[string]string{"max": strconv.Itoa(MaxBatchClaims)}}})
	}
	return nil
}
