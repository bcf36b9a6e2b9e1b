// Package web is the claimant's side of claimdesk in the browser: the case page, the claim
// form in steps, the confirmation and the status page. Pages are rendered on the server with
// html/template and work without JavaScript; a small script (static/site.js) only adds
// validation as the claimant types, through the same server code and the same messages.
// Templates and static files are embedded, so the pages need no outside network.
package web

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"embed"
	"encoding/base64"
	"errors"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/claimdesk/claimdesk/internal/apperr"
	"github.com/claimdesk/claimdesk/internal/auth"
	"github.com/claimdesk/claimdesk/internal/claims"
	"github.com/claimdesk/claimdesk/internal/messages"
	"github.com/claimdesk/claimdesk/internal/ratelimit"
	"github.com/claimdesk/claimdesk/internal/store"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// MaxFormBytes bounds a form post (the multi-step form carries the whole draft); evidence
// uploads have their own limit (MaxEvidenceBytes). The largest draft the form takes (50 items
// described at 2,000 Hangul characters each) posts about 450 KB (TestLargestDraftFits): at 256
// KiB it was refused, and the claimant's draft lost with it.
const MaxFormBytes = 1 << 20

// Config is what the pages need.
type Config struct {
	Store  *store.Store
	Claims *claims.Service
	Logger *slog.Logger
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Case is the slug of the case the public pages serve.
	Case string
	// Secret signs the status page's session cookie and derives the access codes of claims
	// filed on the form (handler.accessCode). Nil means a random key per process: claimants
	// then sign in again after a restart, which is harmless, and a claim filed before it is
	// not shown its code again on a second press of the button (the page says it was filed
	// already, without the code).
	Secret []byte
	// Blobs keeps evidence files; nil means the database.
	Blobs store.Blobs
	// Settings of the case (deadline, whether to show estimates); zero means Defaults(Case).
	Settings *CaseSettings
	// SubmitEvery and SubmitBurst bound the claims filed per client IP. Zero means the
	// service's defaults, ratelimit.DefaultSubmitEvery and DefaultSubmitBurst.
	SubmitEvery time.Duration
	SubmitBurst int
	// CodeFailures counts wrong access codes of the status page per IP (ratelimit.IPKey) and
	// per reference ("ref:" and the canonical reference). The API passes its own, so a
	// guesser alternating between the API and the status page has one budget, not two. Nil
	// means one of the pages' own (ratelimit.NewCodeFailures).
	CodeFailures *ratelimit.Limiter
}

// handler serves the pages.
type handler struct {
	store    *store.Store
	claims   *claims.Service
	log      *slog.Logger
	now      func() time.Time
	caseSlug string
	secret   []byte
	blobs    store.Blobs
	settings CaseSettings
	pages    map[string]*template.Template
	submits  *ratelimit.Limiter // claims filed
	codes    *ratelimit.Limiter // wrong access codes, shared with the API (Config.CodeFailures)
	checks   *ratelimit.Limiter // live validation and uploads
}

// Register adds the pages to r.
func Register(r gin.IRouter, cfg Config) {
	h := &handler{store: cfg.Store, claims: cfg.Claims, log: cfg.Logger, now: cfg.Now, caseSlug: cfg.Case,
		secret: cfg.Secret, blobs: cfg.Blobs}
	if h.now == nil {
		h.now = time.Now
	}
	if h.log == nil {
		h.log = slog.Default()
	}
	if h.caseSlug == "" {
		h.caseSlug = "kakao-2022"
	}
	if h.secret == nil {
		h.secret = make([]byte, 32)
		rand.Read(h.secret)
	}
	if h.blobs == nil {
		h.blobs = cfg.Store.DatabaseBlobs()
	}
	if cfg.Settings != nil {
		h.settings = *cfg.Settings
	} else {
		h.settings = Defaults(h.caseSlug)
	}
	every, burst := cfg.SubmitEvery, cfg.SubmitBurst
	if every == 0 {
		every = ratelimit.DefaultSubmitEvery
	}
	if burst == 0 {
		burst = ratelimit.DefaultSubmitBurst
	}
	h.submits = ratelimit.New(every, burst)
	h.codes = cfg.CodeFailures
	if h.codes == nil {
		h.codes = ratelimit.NewCodeFailures()
	}
	// Live validation posts on every change: generous, but still bounded.
	h.checks = ratelimit.New(200*time.Millisecond, 60)
	h.pages = parsePages()

	static, _ := fs.Sub(staticFS, "static")
	ServeStatic(r, "/static/", static)

	cop := http.NewCrossOriginProtection()
	g := r.Group("", PageHeaders(), h.crossOrigin(cop))
	g.GET("/", h.home)
	g.GET("/claim", h.claimStart)
	g.POST("/claim", h.claimStep)
	g.POST("/claim/validate", h.claimValidate)
	g.GET("/status", h.status)
	g.POST("/status", h.statusLookup)
	g.GET("/status/withdraw", h.withdrawConfirm)
	g.POST("/status/withdraw", h.withdraw)
	g.POST("/status/contact", h.contact)
	g.POST("/status/evidence", h.uploadEvidence)
	g.GET("/status/evidence/:id", h.evidenceFile)
	g.POST("/status/signout", h.signOut)
}

// ServeStatic serves the files of fsys under prefix ("/static/"), the claimant's pages' and
// the lawyers': cached for an hour, never sniffed.
func ServeStatic(r gin.IRouter, prefix string, fsys fs.FS) {
	files := http.StripPrefix(prefix, http.FileServer(http.FS(fsys)))
	r.GET(prefix+"*file", func(c *gin.Context) {
		c.Header("Cache-Control", "public, max-age=3600")
		c.Header("X-Content-Type-Options", "nosniff")
		files.ServeHTTP(c.Writer, c.Request)
	})
}

// contentSecurityPolicy allows nothing from outside and no inline script or style.
const contentSecurityPolicy = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"

// PageHeaders sets the security headers of every page, the claimant's and the lawyers'. Pages
// can hold personal data (the form, the status page, the workspace), so none is cached.
func PageHeaders() gin.HandlerFunc {
	return func(c *gin.Context) {
		hd := c.Writer.Header()
		hd.Set("Content-Security-Policy", contentSecurityPolicy)
		hd.Set("X-Content-Type-Options", "nosniff")
		hd.Set("X-Frame-Options", "DENY")
		hd.Set("Referrer-Policy", "no-referrer")
		hd.Set("Permissions-Policy", "camera=(), microphone=(), geolocation=(), payment=()")
		hd.Set("Cross-Origin-Opener-Policy", "same-origin")
		hd.Set("Cache-Control", "no-store")
		c.Next()
	}
}

// crossOrigin refuses cross-site posts (Sec-Fetch-Site / Origin). Together with the per-form
// token it is the CSRF defence; it needs no JavaScript.
func (h *handler) crossOrigin(cop *http.CrossOriginProtection) gin.HandlerFunc {
	return func(c *gin.Context) {
		if err := cop.Check(c.Request); err != nil {
			h.fail(c, http.StatusForbidden, "csrf_failed")
			return
		}
		c.Next()
	}
}

// Cookies.
const (
	cookieLang   = "cd_lang"
	cookieCSRF   = "cd_csrf"
	cookieStatus = "cd_status"
)

// PageLang picks the language of a page, the claimant's or the lawyers': ?lang= (remembered
// in a cookie), then the cookie, then Accept-Language; Korean when nothing matches.
func PageLang(c *gin.Context) messages.Lang {
	if q := c.Query("lang"); q == "ko" || q == "en" {
		setLang(c, messages.Lang(q))
		return messages.Lang(q)
	}
	if v, err := c.Cookie(cookieLang); err == nil && (v == "ko" || v == "en") {
		return messages.Lang(v)
	}
	return messages.FromRequest(c.Request)
}

// setLang remembers the language chosen for the next pages.
func setLang(c *gin.Context, l messages.Lang) {
	c.SetSameSite(http.SameSiteLaxMode)
	c.SetCookie(cookieLang, string(l), 365*24*3600, "/", "", Secure(c), true)
}

// Secure reports whether c came over HTTPS, so that the cookies of its answer are marked
// Secure (and the API sends HSTS): over TLS to this process, or to a proxy that says so
// (X-Forwarded-Proto: https), or always when the deployment says that every request does
// (AlwaysSecure; a proxy that ends TLS and sends no such header would otherwise get cookies
// a browser also sends over plain HTTP).
func Secure(c *gin.Context) bool {
	return c.GetBool(keyAlwaysSecure) || c.Request.TLS != nil || c.GetHeader("X-Forwarded-Proto") == "https"
}

// keyAlwaysSecure is the request's mark set by AlwaysSecure.
const keyAlwaysSecure = "web.always_secure"

// AlwaysSecure marks c so that Secure is true for it: the API's security middleware marks every
// request, to the claimant's pages and the lawyers', when CLAIMDESK_SECURE_COOKIES is set. A
// mark on the request, not a setting of the pages' handler: PageLang, which the lawyers' pages
// share, sets a cookie too.
func AlwaysSecure(c *gin.Context) { c.Set(keyAlwaysSecure, true) }

// csrfToken returns the form token of the browser, setting its cookie on first use. The token
// is a random value in an HttpOnly cookie that every form repeats in a hidden field (double
// submit): another site can make the browser send the cookie, but cannot read it.
//
// The cookie is SameSite=Lax, not Strict: a visit from another site (a link in a chat, a search
// result) came without a Strict cookie, was given a new one, and the tabs already open then
// posted a token that no longer matched, losing the claim form's draft. Posts from other sites
// are refused before the token is looked at (crossOrigin), so Strict added nothing to them.
func (h *handler) csrfToken(c *gin.Context) string {
	if v, err := c.Cookie(cookieCSRF); err == nil && len(v) == 43 {
		return v
	}
	b := make([]byte, 32)
	rand.Read(b)
	v := base64.RawURLEncoding.EncodeToString(b)
	c.SetSameSite(http.SameSiteLaxMode)
	c.SetCookie(cookieCSRF, v, 0, "/", "", Secure(c), true)
	// The cookie is new: make the rest of this request see it.
	c.Request.AddCookie(&http.Cookie{Name: cookieCSRF, Value: v})
	return v
}

// checkCSRF reports whether the posted form repeats the cookie's token; if not it answers.
func (h *handler) checkCSRF(c *gin.Context) bool {
	if !csrfOK(c) {
		h.fail(c, http.StatusForbidden, "csrf_failed")
		return false
	}
	return true
}

// csrfOK reports whether the posted form repeats the cookie's token, answering nothing (the
// claim form answers a mismatch with the form itself: claimStep).
func csrfOK(c *gin.Context) bool {
	cookie, err := c.Cookie(cookieCSRF)
	sent := c.PostForm("csrf")
	return err == nil && cookie != "" && auth.Equal([]byte(cookie), []byte(sent))
}

// limitBody bounds the request body; a bigger one fails when the form is parsed.
func limitBody(c *gin.Context, n int64) {
	c.Request.Body = http.MaxBytesReader(c.Writer, c.Request.Body, n)
}

// parseForm reads a urlencoded or multipart form within MaxFormBytes.
func (h *handler) parseForm(c *gin.Context) bool {
	limitBody(c, MaxFormBytes)
	if err := c.Request.ParseForm(); err != nil {
		status, key := FormError(err)
		h.fail(c, status, key)
		return false
	}
	return true
}

// FormError is the answer to a form that could not be read (both sets of pages): 413 when it
// was over the limit, 400 when it was malformed (an escape like %zz), the client's error either
// way.
func FormError(err error) (status int, key string) {
	var tooLarge *http.MaxBytesError
	if errors.As(err, &tooLarge) {
		return http.StatusRequestEntityTooLarge, "too_large_form"
	}
	return http.StatusBadRequest, "bad_form"
}

// accessCode is the access code of the claim filed from the draft draftID: derived from the
// secret, not random, so that a second press of the button can show it again (submit). Only
// the server can derive it, for whoever posts the draft again: the claimant's browser, which
// holds it in the form. Hence the external_ref that staff see does not hold the draft id
// (webExternalRef).
func (h *handler) accessCode(draftID string) string {
	return auth.AccessCodeFrom(h.mac("access-code|" + draftID))
}

// sign and verify protect the status session cookie.
func (h *handler) sign(v string) string {
	return v + "." + base64.RawURLEncoding.EncodeToString(h.mac(v))
}

func (h *handler) verify(s string) (string, bool) {
	i := strings.LastIndexByte(s, '.')
	if i < 0 {
		return "", false
	}
	v := s[:i]
	return v, hmac.Equal([]byte(h.sign(v)), []byte(s))
}

// mac is the HMAC-SHA256 of v under the secret: the session cookie's signature (sign), and the
// access code of a form's claim (accessCode, whose input has its own prefix, "access-code|",
// so that no signed cookie value is ever a code).
func (h *handler) mac(v string) []byte {
	m := hmac.New(sha256.New, h.secret)
	m.Write([]byte(v))
	return m.Sum(nil)
}

// fail renders the error page with a message from the catalogue.
func (h *handler) fail(c *gin.Context, status int, key string) {
	v := h.view(c, "error_title")
	v.Message = v.T(key)
	h.render(c, status, "error", v)
	c.Abort()
}

// failErr renders err: known codes with their message, anything else as internal (logged).
func (h *handler) failErr(c *gin.Context, err error) {
	switch apperr.CodeOf(err) {
	case apperr.NotFound:
		h.fail(c, http.StatusNotFound, "not_found")
	case apperr.Unavailable:
		h.fail(c, http.StatusServiceUnavailable, "unavailable")
	default:
		h.log.ErrorContext(c.Request.Context(), "page failed", "route", c.FullPath(), "err", err)
		h.fail(c, http.StatusInternalServerError, "page_internal")
	}
}

// limited answers 429 when the client IP has used up its allowance.
func (h *handler) limited(c *gin.Context, l *ratelimit.Limiter) bool {
	if l.Allow(ratelimit.IPKey(c.ClientIP())) {
		return false
	}
	h.tooMany(c, l)
	return true
}

// tooMany answers 429, to come back when l, the limiter that refused, has one more event.
func (h *handler) tooMany(c *gin.Context, l *ratelimit.Limiter) {
	l.SetRetryAfter(c.Writer.Header())
	h.fail(c, http.StatusTooManyRequests, "rate_limited")
}
