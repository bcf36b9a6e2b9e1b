// Package apperr holds the error codes every layer of claimdesk shares. A layer returns an
// *Error with a code (and, for invalid input, the failing fields); only api/errors.go turns a
// code into an HTTP status and a localized message.
package apperr

import (
	"errors"
	"fmt"
	"runtime/debug"
	"slices"
	"strconv"
)

// Code is a stable, machine-readable error class. Clients switch on it; never rename one.
type Code string

const (
	Invalid       Code = "validation_failed"
	Malformed     Code = "malformed_request"
	Unsupported   Code = "unsupported_media_type"
	TooLarge      Code = "too_large"
	NotFound      Code = "not_found"
	Conflict      Code = "conflict"
	Unauthorized  Code = "unauthorized"
	Forbidden     Code = "forbidden"
	Unavailable   Code = "unavailable"
	Internal      Code = "internal"
	RateLimited   Code = "rate_limited"
	InvalidCursor Code = "invalid_cursor"
	// MethodNotAllowed: the path exists, the method does not.
	MethodNotAllowed Code = "method_not_allowed"
	// InvalidTransition: the claim's status does not allow the change asked for (409).
	InvalidTransition Code = "invalid_transition"
)

// Field codes: why one field was rejected. Stable, shared by the JSON API, imports and the web
// form.
const (
	FieldRequired        = "required"
	FieldInvalidFormat   = "invalid_format"
	FieldInvalidValue    = "invalid_value"
	FieldTooLong         = "too_long"
	FieldOutOfRange      = "out_of_range"
	FieldInFuture        = "in_future"
	FieldEndBeforeStart  = "end_before_start"
	FieldUnknownField    = "unknown_field"
	FieldUnknownService  = "unknown_service"
	FieldUnknownFeature  = "unknown_feature"
	FieldKindNotAllowed  = "kind_not_allowed"
	FieldConsentRequired = "consent_required"
	FieldTooMany         = "too_many"
	FieldWindowOverlap   = "window_overlap"
	FieldNotApplicable   = "not_applicable"
	FieldConflict        = "conflict"
	FieldDuplicate       = "duplicate_field"
)

// FieldError locates one problem in the input: Path is like "items[2].occurred_at".
// Params fill in the message (for example {"max": "2000"}).
type FieldError struct {
	Path   string
	Code   string
	Params map[string]string
	// Message is the catalogue key of the text when it is more specific than Code.
	Message string
}

// Error is an error with a code. Message is an optional key into the message catalogue
// (defaults to the code); Err is the cause, logged but never shown to clients.
type Error struct {
	Code    Code
	Message string
	Params  map[string]string
	Fields  []FieldError
	Err     error
}

func (e *Error) Error() string {
	s := string(e.Code)
	if e.Message != "" {
		s += ": " + e.Message
	}
	if len(e.Fields) > 0 {
		s += fmt.Sprintf(" (%d fields, first %s: %s)", len(e.Fields), e.Fields[0].Path, e.Fields[0].Code)
	}
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

func (e *Error) Unwrap() error { return e.Err }

// New returns an error with a code and a message key.
func New(code Code, message string) *Error { return &Error{Code: code, Message: message} }

// Wrap returns an error with a code around a cause.
func Wrap(code Code, message string, err error) *Error {
	return &Error{Code: code, Message: message, Err: err}
}

// Validation returns a validation_failed error listing every failing field.
func Validation(fields []FieldError) *Error { return &Error{Code: Invalid, Fields: fields} }

// CodeOf returns the code of err, Internal for an error without one.
func CodeOf(err error) Code {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return Internal
}

// Is reports whether err carries code.
func Is(err error, code Code) bool { return err != nil && CodeOf(err) == code }

// Prefix returns fields with prefix prepended to each path, for nesting ("items[2]" + ".kind").
func Prefix(prefix string, fields []FieldError) []FieldError {
	out := make([]FieldError, len(fields))
	for i, f := range fields {
		f.Path = joinPath(prefix, f.Path)
		out[i] = f
	}
	return out
}

func joinPath(prefix, path string) string {
	switch {
	case prefix == "":
		return path
	case path == "":
		return prefix
	case path[0] == '[':
		return prefix + path
	default:
		return prefix + "." + path
	}
}

// SortFields orders field errors as the fields stand in the input, indexes compared as
// numbers (items[10] after items[9]).
func SortFields(fs []FieldError) {
	slices.SortStableFunc(fs, func(a, b FieldError) int { return comparePaths(a.Path, b.Path) })
}

// MergeFields joins the field errors of two validation errors, one error per path and code,
// in input order. Either may be nil; an error that is not a validation error wins as it is.
func MergeFields(a, b error) error {
	var fields []FieldError
	seen := map[string]bool{}
	for _, err := range []error{a, b} {
		if err == nil {
			continue
		}
		var e *Error
		if !errors.As(err, &e) || e.Code != Invalid {
			return err
		}
		for _, f := range e.Fields {
			if !seen[f.Path] {
				seen[f.Path] = true
				fields = append(fields, f)
			}
		}
	}
	if len(fields) == 0 {
		return nil
	}
	SortFields(fields)
	return Validation(fields)
}

func comparePaths(a, b string) int {
	for a != "" && b != "" {
		na, ra := leadingNumber(a)
		nb, rb := leadingNumber(b)
		if na >= 0 && nb >= 0 {
			if na != nb {
				return na - nb
			}
			a, b = ra, rb
			continue
		}
		if a[0] != b[0] {
			return int(a[0]) - int(b[0])
		}
		a, b = a[1:], b[1:]
	}
	return len(a) - len(b)
}

func leadingNumber(s string) (int, string) {
	i := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	if i == 0 || i > 9 {
		return -1, s
	}
	n, _ := strconv.Atoi(s[:i])
	return n, s[i:]
}

// ErrPanic is in the chain of the errors Catch makes.
var ErrPanic = errors.New("panic")

// Catch, deferred by a function returning err, turns a panic of that function into err (with
// the stack), for work on goroutines no handler's recovery reaches (group commit, detection
// passes, jobs, background work): that work fails, the process goes on serving claims.
func Catch(what string, err *error) {
	if r := recover(); r != nil {
		*err = fmt.Errorf("%s: %w: %v\n%s", what, ErrPanic, r, debug.Stack())
	}
}
