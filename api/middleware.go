package api

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gin-gonic/gin"

	"github.com/claimdesk/claimdesk/internal/apperr"
	"github.com/claimdesk/claimdesk/internal/auth"
	"github.com/claimdesk/claimdesk/internal/jsonshape"
)

const (
	keyRequestID = "request_id"
	keyPrincipal = "principal"
	keyLogger    = "logger"
	// MaxBodyBytes is the largest JSON body accepted (imports have their own limit).
	MaxBodyBytes = 1 << 20
)

// requestIDs gives every request an id (kept from X-Request-Id when it looks sane), echoed in
// the response and in every log line and error body of the request.
func requestIDs(log *slog.Logger) gin.HandlerFunc {
	return func(c *gin.Context) {
		id := c.GetHeader("X-Request-Id")
		if len(id) == 0 || len(id) > 64 || strings.ContainsFunc(id, func(r rune) bool { return r < 0x21 || r > 0x7e }) {
			b := make([]byte, 8)
			rand.Read(b)
			id = hex.EncodeToString(b)
		}
		c.Set(keyRequestID, id)
		c.Set(keyLogger, log)
		c.Header("X-Request-Id", id)
		c.Next()
	}
}

func requestID(c *gin.Context) string { return c.GetString(keyRequestID) }

// logger is the server's logger (set for every request by requestIDs).
func logger(c *gin.Context) *slog.Logger {
	if l, ok := c.Get(keyLogger); ok {
		return l.(*slog.Logger)
	}
	return slog.Default()
}

// accessLog writes one structured line per request. It logs the route pattern, never the
// query or body: those can hold personal data.
func accessLog(log *slog.Logger) gin.HandlerFunc {
	return func(c *gin.Context) {
		start := time.Now()
		c.Next()
		route := c.FullPath()
		if route == "" {
			route = "unmatched"
		}
		log.LogAttrs(c.Request.Context(), slog.LevelInfo, "request",
			slog.String("request_id", requestID(c)), slog.String("method", c.Request.Method),
			slog.String("route", route), slog.Int("status", c.Writer.Status()),
			slog.Duration("duration", time.Since(start)), slog.Int("bytes", c.Writer.Size()))
	}
}

// recovery turns a panic into a logged internal error in the usual shape.
func recovery() gin.HandlerFunc {
	return func(c *gin.Context) {
		defer func() {
			if r := recover(); r != nil {
				if err, ok := r.(error); ok && errors.Is(err, http.ErrAbortHandler) {
					panic(r)
				}
				logger(c).Error("panic", "request_id", requestID(c), "panic", r)
				writeError(c, &apperr.Error{Code: apperr.Internal})
			}
		}()
		c.Next()
	}
}

// principal returns who makes the request (nil when anonymous).
func principal(c *gin.Context) *auth.Principal {
	p, _ := c.Get(keyPrincipal)
	pr, _ := p.(*auth.Principal)
	return pr
}

// authenticate resolves a bearer token or a session cookie to a principal. A request without
// either goes on anonymously (public endpoints); a wrong token is refused outright, while a
// stale session cookie is dropped and the request goes on anonymously. A request signed in by
// cookie that changes state must pass the CSRF check (see checkCSRF); tokens are exempt, as
// no browser sends them on its own.
func (s *Server) authenticate() gin.HandlerFunc {
	return func(c *gin.Context) {
		p, err := s.resolvePrincipal(c)
		if err != nil {
			writeError(c, err)
			return
		}
		if p != nil {
			if p.UserID != 0 {
				if err := s.checkCSRF(c, p); err != nil {
					writeError(c, err)
					return
				}
			}
			c.Set(keyPrincipal, p)
		}
		c.Next()
	}
}

// resolvePrincipal says who makes the request: the bearer token's, the session cookie's
// (stale sessions count as nobody), or nil for nobody. A malformed or unknown token is an
// error (unauthorized). It is the one resolution for the API and the lawyers' pages; CSRF is
// for each caller to check, as the API reads the token from a header and forms from a field.
func (s *Server) resolvePrincipal(c *gin.Context) (*auth.Principal, error) {
	h := c.GetHeader("Authorization")
	if h == "" {
		return s.sessionPrincipal(c)
	}
	token, ok := strings.CutPrefix(h, "Bearer ")
	if !ok || token == "" {
		return nil, apperr.New(apperr.Unauthorized, "")
	}
	t, err := s.store.TokenByHash(c.Request.Context(), auth.Hash(strings.TrimSpace(token)))
	if err != nil {
		if apperr.Is(err, apperr.NotFound) {
			err = apperr.New(apperr.Unauthorized, "")
		}
		return nil, err
	}
	return &auth.Principal{TokenID: t.ID, Role: auth.Role(t.Role), Name: t.Name}, nil
}

// require lets the request through only for principals with one of roles.
func require(roles ...auth.Role) gin.HandlerFunc {
	return func(c *gin.Context) {
		p := principal(c)
		switch {
		case p == nil:
			writeError(c, apperr.New(apperr.Unauthorized, ""))
		case !p.Can(roles...):
			writeError(c, apperr.New(apperr.Forbidden, ""))
		default:
			c.Next()
		}
	}
}

// bindJSON reads a JSON body into v strictly: wrong content type 415, over MaxBodyBytes 413,
// a body that cannot be read (a broken chunked encoding) or is not JSON 400, unknown fields and
// wrong types 422 with their paths.
func bindJSON(c *gin.Context, v any) error {
	body, err := readJSONBody(c, MaxBodyBytes)
	if err != nil {
		return err
	}
	return jsonshape.Decode(body, v)
}

// readJSONBody reads a body sent as application/json, of at most limit bytes.
func readJSONBody(c *gin.Context, limit int64) ([]byte, error) {
	mt, _, err := mime.ParseMediaType(c.GetHeader("Content-Type"))
	if err != nil || mt != "application/json" {
		return nil, &apperr.Error{Code: apperr.Unsupported, Params: map[string]string{"expected": "application/json"}}
	}
	body, err := io.ReadAll(http.MaxBytesReader(c.Writer, c.Request.Body, limit))
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return nil, &apperr.Error{Code: apperr.TooLarge, Params: map[string]string{"max": humanBytes(limit)}}
		}
		// A body cut short (short of its Content-Length, a chunked body without its end, a
		// connection reset) or not HTTP (a chunk size that is not a number) is the client's mistake, answered whether or not it still listens (see writeError).
		return nil, apperr.Wrap(apperr.Malformed, "", err)
	}
	return body, nil
}

// textOnly keeps text PostgreSQL cannot hold (bytes that are not UTF-8, NUL) in a path or a
// query from every handler: each lookup by such a name failed as an internal error (500) where
// SQLite answered. No resource has such a name: 404 on every route. A query parameter with
// such a name or value is refused in the API, as a field error under its name (422, on every
// operation; api/openapi.yaml says so). A page has no field to show it at, and no parameter of
// a page has to be there: it is dropped, and the page answers as if it had not been sent. A
// request that matched no route is left to the router's 404 or 405.
func textOnly() gin.HandlerFunc {
	return func(c *gin.Context) {
		if !isText(c.Request.URL.Path) {
			writeError(c, apperr.New(apperr.NotFound, ""))
			return
		}
		if c.Request.URL.RawQuery == "" || c.FullPath() == "" {
			c.Next()
			return
		}
		inAPI := strings.HasPrefix(c.FullPath(), "/api/")
		query := c.Request.URL.Query()
		var bad []apperr.FieldError
		dropped := false
		for name, values := range query {
			if isText(name) && !slices.ContainsFunc(values, func(v string) bool { return !isText(v) }) {
				continue
			}
			if !inAPI {
				delete(query, name)
				dropped = true
				continue
			}
			if !isText(name) {
				name = strings.ToValidUTF8(strings.ReplaceAll(name, "\x00", ""), "\uFFFD")
			}
			bad = append(bad, apperr.FieldError{Path: name, Code: apperr.FieldInvalidFormat, Params: map[string]string{"hint": "hint_text"}})
		}
		if len(bad) > 0 {
			apperr.SortFields(bad)
			writeError(c, apperr.Validation(bad))
			return
		}
		if dropped {
			c.Request.URL.RawQuery = query.Encode()
		}
		c.Next()
	}
}

func isText(s string) bool { return utf8.ValidString(s) && strings.IndexByte(s, 0) < 0 }
