// Package admin is the lawyers' workspace in the browser: sign-in, the case dashboard, the
// claims list with its filters and bulk actions, the claim page with its review actions,
// duplicates, the audit trail and (for admins) users. Pages are rendered on the server with
// html/template from embedded templates, in Korean and English, and work without JavaScript.
//
// The package never decides anything itself: sessions and sign-in come from package api
// through Config.Auth (one way to sign in), status changes go through internal/claims, lists
// through internal/store, texts through internal/messages.
package admin

import (
	"embed"
	"errors"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/claimdesk/claimdesk/api/web"
	"github.com/claimdesk/claimdesk/internal/apperr"
	"github.com/claimdesk/claimdesk/internal/audit"
	"github.com/claimdesk/claimdesk/internal/auth"
	"github.com/claimdesk/claimdesk/internal/claims"
	"github.com/claimdesk/claimdesk/internal/export"
	"github.com/claimdesk/claimdesk/internal/messages"
	"github.com/claimdesk/claimdesk/internal/store"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// Auth is what the pages need of package api's authentication, so that there is one way to
// resolve a session or token, to sign in and to sign out.
type Auth interface {
	// Principal says who makes the request (nil: nobody; a stale session is nobody). An
	// unknown bearer token is an error.
	Principal(c *gin.Context) (*auth.Principal, error)
	// SignIn checks the credentials with the API's limits and sets the session cookie.
	SignIn(c *gin.Context, email, password string) error
	// SignOut ends the request's session (after Principal) and clears the cookie.
	SignOut(c *gin.Context) error
	// Actor is the request's actor for the audit trail (after Principal).
	Actor(c *gin.Context) audit.Actor
	// Status is the HTTP status of an error (the API's one mapping).
	Status(err error) int
}

// Config is what the pages need.
type Config struct {
	Store  *store.Store
	Claims *claims.Service
	Auth   Auth
	Logger *slog.Logger
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Case is the slug of the default case (/admin redirects to its dashboard).
	Case string
	// WarmReport gathers the default case's report figures (every language) with Claims.Background at once.
	WarmReport bool
	// Reports keeps each case's report figures; the API's printable report shares it. Nil: the
	// workspace keeps its own.
	Reports *export.ReportCache
}

// handler serves the pages; part of its methods live in one file per page.
type handler struct {
	store    *store.Store
	claims   *claims.Service
	auth     Auth
	log      *slog.Logger
	now      func() time.Time
	caseSlug string
	pages    map[string]*template.Template
	cop      *http.CrossOriginProtection
	// reports keeps each case's report (the dashboard's figures and charts) briefly.
	reports *export.ReportCache
}

// Register adds the workspace under /admin to r.
func Register(r gin.IRouter, cfg Config) {
	h := &handler{store: cfg.Store, claims: cfg.Claims, auth: cfg.Auth, log: cfg.Logger, now: cfg.Now, caseSlug: cfg.Case,
		cop: http.NewCrossOriginProtection(), reports: cfg.Reports}
	if h.reports == nil {
		h.reports = &export.ReportCache{}
	}
	if h.now == nil {
		h.now = time.Now
	}
	if h.log == nil {
		h.log = slog.Default()
	}
	if h.caseSlug == "" {
		h.caseSlug = "kakao-2022"
	}
	h.pages = parsePages()
	if cfg.WarmReport && h.claims.Background != nil {
		h.claims.Background(h.warmReport)
	}

	static, _ := fs.Sub(staticFS, "static")
	web.ServeStatic(r, "/admin/static/", static)

	pub := r.Group("/admin", web.PageHeaders(), h.crossOrigin())
	pub.GET("/login", h.loginPage)
	pub.POST("/login", h.login)

	g := r.Group("/admin", web.PageHeaders(), h.crossOrigin(), h.staff())
	g.GET("", h.home)
	g.POST("/logout", h.logout)
	h.dashboardRoutes(g)
	h.claimsRoutes(g)
	h.claimRoutes(g)
	h.duplicatesRoutes(g)
	h.auditRoutes(g)
	h.usersRoutes(g)
}

// crossOrigin refuses cross-site posts (Sec-Fetch-Site / Origin); with the session's token in
// every form (checkCSRF) it is the CSRF defence, and needs no JavaScript.
func (h *handler) crossOrigin() gin.HandlerFunc {
	return func(c *gin.Context) {
		if err := h.cop.Check(c.Request); err != nil {
			h.fail(c, http.StatusForbidden, "csrf_failed")
			return
		}
		c.Next()
	}
}

const keyPrincipal = "admin_principal"

// staff lets through lawyers and admins: nobody (or an expired session) is sent to the
// sign-in page with the page asked for; other roles get 403. A form post must carry the
// session's CSRF token in the field "csrf" (bearer tokens are exempt, as in the API: no
// browser sends them on its own).
func (h *handler) staff() gin.HandlerFunc {
	return func(c *gin.Context) {
		p, err := h.auth.Principal(c)
		if err != nil {
			h.failErr(c, err)
			return
		}
		if p == nil {
			next := c.Request.URL.Path
			if c.Request.Method == http.MethodGet && c.Request.URL.RawQuery != "" {
				next += "?" + c.Request.URL.RawQuery
			}
			c.Redirect(http.StatusSeeOther, "/admin/login?next="+url.QueryEscape(next))
			c.Abort()
			return
		}
		if !p.Can(auth.Lawyer, auth.Admin) {
			h.fail(c, http.StatusForbidden, "forbidden")
			return
		}
		c.Set(keyPrincipal, p)
		if c.Request.Method == http.MethodPost {
			// Every post is read here, within MaxFormBytes, whoever sends it: the handlers
			// read the parsed form.
			if !h.parseForm(c) {
				return
			}
			if p.UserID != 0 && (p.CSRF == "" || !auth.Equal([]byte(c.PostForm("csrf")), []byte(p.CSRF))) {
				h.fail(c, http.StatusForbidden, "csrf_failed")
				return
			}
		}
		c.Next()
	}
}

// principal is the signed-in lawyer or admin of a page behind staff().
func principal(c *gin.Context) *auth.Principal {
	p, _ := c.Get(keyPrincipal)
	pr, _ := p.(*auth.Principal)
	return pr
}

// requireAdmin answers 403 unless the principal is an admin; it reports whether to go on.
func (h *handler) requireAdmin(c *gin.Context) bool {
	if principal(c).Can(auth.Admin) {
		return true
	}
	h.fail(c, http.StatusForbidden, "forbidden")
	return false
}

// MaxFormBytes bounds a form post.
const MaxFormBytes = 256 << 10

// parseForm reads a urlencoded form within MaxFormBytes; if it cannot it answers.
func (h *handler) parseForm(c *gin.Context) bool {
	c.Request.Body = http.MaxBytesReader(c.Writer, c.Request.Body, MaxFormBytes)
	if err := c.Request.ParseForm(); err != nil {
		status, key := web.FormError(err)
		h.fail(c, status, key)
		return false
	}
	return true
}

// fail renders the error page with a message from the catalogue.
func (h *handler) fail(c *gin.Context, status int, key string) { h.failOn(c, "", status, key) }

// failOn is fail for a form posted from page: the language switch leads there, the post's own
// path answering no GET ("" : the request's own page).
func (h *handler) failOn(c *gin.Context, page string, status int, key string) {
	v := h.view(c, "admin_error_title")
	if page != "" {
		v.at(page)
	}
	v.Message = v.T(key)
	h.render(c, status, "error", v)
	c.Abort()
}

// failErr renders err with the API's status and message; internal errors are logged and
// shown without detail.
func (h *handler) failErr(c *gin.Context, err error) { h.failErrOn(c, "", err) }

// failErrOn is failErr for a form posted from page (see failOn).
func (h *handler) failErrOn(c *gin.Context, page string, err error) {
	status := h.auth.Status(err)
	if status >= 500 {
		h.log.ErrorContext(c.Request.Context(), "page failed", "route", c.FullPath(), "err", err)
	}
	h.failOn(c, page, status, errorKey(err))
}

// errorKey is the catalogue key of err's message.
func errorKey(err error) string {
	var ae *apperr.Error
	if !errors.As(err, &ae) {
		return "page_internal"
	}
	if ae.Code == apperr.Internal {
		return "page_internal"
	}
	if ae.Message != "" && messages.Has(ae.Message) {
		return ae.Message
	}
	return string(ae.Code)
}

// errorText is err's message in l, with its parameters (invalid transitions name the
// statuses).
func errorText(l messages.Lang, err error) string {
	var ae *apperr.Error
	if !errors.As(err, &ae) || ae.Code == apperr.Internal {
		return messages.Text(l, "page_internal", nil)
	}
	key := errorKey(err)
	var b strings.Builder
	b.WriteString(messages.Text(l, key, ae.Params))
	for _, f := range ae.Fields {
		b.WriteString(" ")
		b.WriteString(messages.Field(l, f))
	}
	return b.String()
}

// home sends /admin to the default case's dashboard.
func (h *handler) home(c *gin.Context) {
	c.Redirect(http.StatusSeeOther, "/admin/cases/"+url.PathEscape(h.caseSlug))
}
