// Package api is the REST interface of claimdesk: the router, its middleware, one file per
// resource with its request and response types, and errors.go, the one place that maps error
// codes to HTTP statuses. Handlers are thin: bind, call the claims service or the store, map
// the result to a response type.
package api

import (
	"context"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/claimdesk/claimdesk/internal/apperr"
	"github.com/claimdesk/claimdesk/internal/auth"
	"github.com/claimdesk/claimdesk/internal/claims"
	"github.com/claimdesk/claimdesk/internal/export"
	"github.com/claimdesk/claimdesk/internal/importer"
	"github.com/claimdesk/claimdesk/internal/jobs"
	"github.com/claimdesk/claimdesk/internal/ratelimit"
	"github.com/claimdesk/claimdesk/internal/store"
)

// Server holds what the handlers need. It has no package-level state: tests build as many as
// they like.
type Server struct {
	cfg     Config
	store   *store.Store
	metrics *Metrics
	// codeFailures limits wrong access codes per IP and per reference.
	codeFailures *ratelimit.Limiter
	claims       *claims.Service
	log          *slog.Logger
	now          func() time.Time
	// imports runs and answers about batch imports (api/imports.go).
	imports importsConfig
	// Staff sign-in (api/session.go): failed attempts, session inactivity, cross-origin check.
	signIns     signInLimits
	sessionIdle time.Duration
	crossOrigin *http.CrossOriginProtection
	// reports keeps each case's report figures for the workspace's dashboard and the printable
	// report page (export.ReportCache).
	reports *export.ReportCache
}

// Config is what New needs.
type Config struct {
	Store  *store.Store
	Logger *slog.Logger
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// TrustedProxies may set X-Forwarded-For (nil: none, the peer is the client).
	TrustedProxies []string
	// SessionSecret signs the claimants' status-page sessions (nil: random per process).
	SessionSecret []byte
	// WebSubmitEvery and WebSubmitBurst bound the claims the web form files per client IP
	// (zero: web's defaults).
	WebSubmitEvery time.Duration
	WebSubmitBurst int
	// SecureCookies marks every cookie Secure and sends HSTS whatever the request looks like,
	// for TLS ended at a proxy that sends no X-Forwarded-Proto (false: only requests over TLS
	// or with X-Forwarded-Proto: https; see web.Secure).
	SecureCookies bool
	// Background runs work that outlives a request (see claims.Service.Background).
	Background func(func(ctx context.Context))
	// WarmReports builds the default case's report with Background at start (serve), so the
	// first lawyer to open the dashboard does not wait for it.
	WarmReports bool
	// RevaluationEvery, when set, runs claims.Service.RunRevaluation with Background at that
	// interval (serve): it finishes revaluations a restart cut short and brings estimates
	// valued as of "today" to the new day. It runs on the API's own claims service, so a rule
	// change's revaluation and the periodic one of the same case are one run at a time.
	RevaluationEvery time.Duration
	// Importer runs imports; nil makes one over Store. Jobs, when set, is told of each new
	// import so it starts at once. ImportMaxBytes bounds an upload (0: 2 GiB).
	Importer       *importer.Importer
	Jobs           *jobs.Runner
	ImportMaxBytes int64
	// SessionIdle ends a staff session after this long without a request (0: 30 minutes).
	SessionIdle time.Duration
	// Review configures duplicate detection and fraud signals (nil: the defaults).
	Review *claims.ReviewConfig
	// RedactRoles are the roles whose exports are always redacted (see exportOptions).
	RedactRoles []auth.Role
	// FontDir holds the PDF report's NanumGothic fonts ("": export.DefaultFontDir).
	FontDir string
}

// New returns the HTTP handler of the whole service.
func New(cfg Config) http.Handler {
	now := cfg.Now
	if now == nil {
		now = time.Now
	}
	log := cfg.Logger
	if log == nil {
		log = slog.Default()
	}
	s := &Server{cfg: cfg, store: cfg.Store, codeFailures: ratelimit.NewCodeFailures(), claims: &claims.Service{Store: cfg.Store, Now: now, Background: cfg.Background, Review: cfg.Review}, log: log, now: now,
		signIns: newSignInLimits(), sessionIdle: cfg.SessionIdle, crossOrigin: http.NewCrossOriginProtection(), reports: &export.ReportCache{}}
	if s.sessionIdle <= 0 {
		s.sessionIdle = DefaultSessionIdle
	}
	s.claims.ReviewError = func(err error) { log.Error("duplicate and fraud detection failed", "err", err) }
	s.claims.ResumeReviews() // detection passes a crash or a stop cut short
	s.metrics = newMetrics(s)
	s.claims.Created = func(channel string, n int) { s.metrics.ClaimsCreated.WithLabelValues(channel).Add(float64(n)) }
	s.claims.Grouped = func(n int) { s.metrics.ClaimGroups.Observe(float64(n)) }
	s.imports = newImportsConfig(cfg, s.claims, log)
	if cfg.RevaluationEvery > 0 && cfg.Background != nil {
		cfg.Background(func(ctx context.Context) {
			s.claims.RunRevaluation(ctx, cfg.RevaluationEvery, func(err error) { log.Error("revaluation failed", "err", err) })
		})
	}
	return s.routes()
}

func (s *Server) routes() *gin.Engine {
	gin.SetMode(gin.ReleaseMode)
	r := gin.New()
	r.HandleMethodNotAllowed = true
	r.RedirectTrailingSlash = false // a wrong path is a 404, not a redirect clients may not follow
	if err := r.SetTrustedProxies(s.cfg.TrustedProxies); err != nil {
		// Config validated the list; an unparsable entry trusts nobody rather than everybody.
		s.log.Error("trusted proxies", "err", err)
		_ = r.SetTrustedProxies(nil)
	}
	r.Use(requestIDs(s.log), accessLog(s.log), recovery(), s.metrics.middleware(), securityHeaders(s.cfg.SecureCookies), textOnly())
	r.NoRoute(func(c *gin.Context) { writeError(c, apperr.New(apperr.NotFound, "")) })
	r.NoMethod(func(c *gin.Context) {
		allow := strings.Join(allowedMethods(r.Routes(), c.Request.URL.Path), ", ")
		c.Header("Allow", allow)
		writeError(c, &apperr.Error{Code: apperr.MethodNotAllowed, Params: map[string]string{"allow": allow}})
	})

	r.GET("/healthz", s.healthz)
	r.GET("/readyz", s.readyz)
	r.GET("/openapi.yaml", s.openAPI)
	s.operations(r)

	v1 := r.Group("/api/v1", s.authenticate())
	staff := require(auth.Admin, auth.Lawyer)

	v1.GET("/cases", s.listCases)
	v1.GET("/cases/:case", s.getCase)
	v1.PUT("/cases/:case/windows", staff, s.replaceWindows)
	v1.GET("/cases/:case/rules", staff, s.getRules)
	v1.GET("/cases/:case/rules/versions", staff, s.ruleVersions)
	v1.PUT("/cases/:case/rules", staff, s.putRules)
	v1.POST("/cases/:case/rules/simulate", staff, s.simulateRules)
	v1.GET("/cases/:case/summary", staff, s.summary)

	v1.POST("/cases/:case/claims", s.createClaim)
	v1.POST("/cases/:case/claims/validate", s.validateClaim)
	v1.GET("/cases/:case/claims", staff, s.listClaims)
	v1.GET("/claims/:reference", s.getClaim)
	v1.GET("/claims/:reference/damages", s.claimDamages)
	v1.POST("/claims/:reference/erasure", require(auth.Admin), s.eraseClaim)

	// Review (issue 5): the status lifecycle, duplicates, the audit trail.
	v1.POST("/claims/:reference/transitions", staff, s.transitionClaim)
	v1.GET("/claims/:reference/history", staff, s.claimHistory)
	v1.POST("/cases/:case/claims/transitions", staff, s.bulkTransition)
	v1.GET("/cases/:case/duplicates", staff, s.listDuplicates)
	v1.POST("/cases/:case/duplicates/decisions", staff, s.decideDuplicate)
	v1.GET("/audit", staff, s.listAudit)
	v1.GET("/audit.csv", staff, s.exportAudit)

	// Staff users and their sessions.
	// Signing in acts as nobody, so it is outside authenticate: a browser still holding a
	// live session signs in again without that session's CSRF token (startSession checks
	// the origin itself).
	r.POST("/api/v1/session", s.signIn)
	v1.GET("/session", s.getSession)
	v1.DELETE("/session", s.signOut)
	v1.POST("/users", require(auth.Admin), s.createUser)
	v1.GET("/users", require(auth.Admin), s.listUsers)
	v1.POST("/users/:id/disable", require(auth.Admin), s.disableUser)

	s.importRoutes(v1)
	s.exportRoutes(r, v1)

	v1.POST("/tokens", require(auth.Admin), s.createToken)
	v1.DELETE("/tokens/:id", require(auth.Admin), s.deleteToken)
	s.webRoutes(r)
	return r
}

func (s *Server) healthz(c *gin.Context) { c.JSON(http.StatusOK, gin.H{"status": "ok"}) }

func (s *Server) readyz(c *gin.Context) {
	if err := s.store.Ping(c.Request.Context()); err != nil {
		writeError(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"status": "ready"})
}

// allowedMethods lists the methods of the routes whose pattern matches path.
func allowedMethods(routes gin.RoutesInfo, path string) []string {
	var out []string
	for _, rt := range routes {
		if matchPattern(rt.Path, path) && !slices.Contains(out, rt.Method) {
			out = append(out, rt.Method)
		}
	}
	slices.Sort(out)
	return out
}

// matchPattern matches a gin route pattern (":param" one segment, "*rest" the rest).
func matchPattern(pattern, path string) bool {
	ps, xs := strings.Split(strings.Trim(pattern, "/"), "/"), strings.Split(strings.Trim(path, "/"), "/")
	for i, p := range ps {
		if strings.HasPrefix(p, "*") {
			return true
		}
		if i >= len(xs) || (!strings.HasPrefix(p, ":") && p != xs[i]) {
			return false
		}
	}
	return len(ps) == len(xs)
}
