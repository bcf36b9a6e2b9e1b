package api

import (
	"context"
	"errors"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/claimdesk/claimdesk/internal/apperr"
	"github.com/claimdesk/claimdesk/internal/messages"
)

// statusOf is the one place that maps error codes to HTTP statuses.
var statusOf = map[apperr.Code]int{
	apperr.Invalid:           http.StatusUnprocessableEntity,
	apperr.Malformed:         http.StatusBadRequest,
	apperr.InvalidCursor:     http.StatusBadRequest,
	apperr.MethodNotAllowed:  http.StatusMethodNotAllowed,
	apperr.Unsupported:       http.StatusUnsupportedMediaType,
	apperr.TooLarge:          http.StatusRequestEntityTooLarge,
	apperr.NotFound:          http.StatusNotFound,
	apperr.Conflict:          http.StatusConflict,
	apperr.InvalidTransition: http.StatusConflict,
	apperr.Unauthorized:      http.StatusUnauthorized,
	apperr.Forbidden:         http.StatusForbidden,
	apperr.RateLimited:       http.StatusTooManyRequests,
	apperr.Unavailable:       http.StatusServiceUnavailable,
	apperr.Internal:          http.StatusInternalServerError,
}

// ErrorBody is the one error shape of the API.
type ErrorBody struct {
	Error ErrorDetail `json:"error"`
}

// ErrorDetail says what went wrong.
type ErrorDetail struct {
	Code      string       `json:"code"`
	Message   string       `json:"message"`
	Fields    []FieldError `json:"fields,omitempty"`
	RequestID string       `json:"request_id,omitempty"`
}

// FieldError is one failing field.
type FieldError struct {
	Path    string `json:"path"`
	Code    string `json:"code"`
	Message string `json:"message"`
}

// statusClientClosed answers a request whose client went away before its answer (nginx's
// 499): nobody reads it, but the access log and the metrics count it apart from both success
// and the client's mistakes, and gin does not send its default 200, which on POST /claims
// would read as "stored".
const statusClientClosed = 499

// writeError answers with err in the one error shape. Errors without a code are internal:
// logged with the request id, never shown. Work cancelled because the client went away gets
// statusClientClosed, never left unanswered: gin would send 200. A request body that could not
// be read (cut short, or not HTTP) is the client's mistake, and comes here with its code
// (Malformed) from the reader that read it (readJSONBody, importBody, uploadBody), so it is
// answered 400 whoever reads the answer: a client that closed only its sending side still
// reads, and cancelled the request's context by closing it.
func writeError(c *gin.Context, err error) {
	lang := messages.FromRequest(c.Request)
	var ae *apperr.Error
	switch {
	case errors.Is(err, context.Canceled) && c.Request.Context().Err() != nil:
		c.AbortWithStatus(statusClientClosed)
		return
	case errors.As(err, &ae):
	default:
		ae = &apperr.Error{Code: apperr.Internal, Err: err}
	}
	status := httpStatus(ae)
	rid := requestID(c)
	if status >= 500 {
		logger(c).ErrorContext(c.Request.Context(), "request failed", "request_id", rid, "code", ae.Code, "err", err)
	}
	if status == http.StatusServiceUnavailable {
		c.Header("Retry-After", "5")
	}
	body := ErrorBody{Error: detailOf(ae, rid, lang)}
	body.Error.RequestID = rid
	c.AbortWithStatusJSON(status, body)
}

// httpStatus is the status that answers err: its code's, else 500.
func httpStatus(err error) int {
	if st := statusOf[apperr.CodeOf(err)]; st != 0 {
		return st
	}
	return http.StatusInternalServerError
}

// detailOf renders ae in lang: its message (the catalogue key, else the code) with its
// parameters and the request id, and its field errors.
func detailOf(ae *apperr.Error, rid string, lang messages.Lang) ErrorDetail {
	key := ae.Message
	if key == "" {
		key = string(ae.Code)
	}
	params := map[string]string{"request_id": rid}
	for k, v := range ae.Params {
		params[k] = v
	}
	return ErrorDetail{Code: string(ae.Code), Message: messages.Text(lang, key, params), Fields: localizeFields(lang, ae.Fields)}
}

// localizeFields turns field errors into their response form with messages in lang.
func localizeFields(lang messages.Lang, fs []apperr.FieldError) []FieldError {
	if len(fs) == 0 {
		return nil
	}
	out := make([]FieldError, len(fs))
	for i, f := range fs {
		out[i] = FieldError{Path: f.Path, Code: f.Code, Message: FieldMessage(lang, f)}
	}
	return out
}

// FieldMessage renders a field error in lang (see messages.Field, shared with the web pages).
func FieldMessage(lang messages.Lang, f apperr.FieldError) string { return messages.Field(lang, f) }
