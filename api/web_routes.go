package api

import (
	"github.com/gin-gonic/gin"

	"github.com/claimdesk/claimdesk/api/admin"
	"github.com/claimdesk/claimdesk/api/web"
	"github.com/claimdesk/claimdesk/internal/audit"
	"github.com/claimdesk/claimdesk/internal/auth"
)

// webRoutes adds the claimant's pages (case page, claim form, status page) and the lawyers'
// workspace (/admin) to r.
func (s *Server) webRoutes(r *gin.Engine) {
	web.Register(r, web.Config{Store: s.store, Claims: s.claims, Logger: s.log, Now: s.now, Secret: s.cfg.SessionSecret, CodeFailures: s.codeFailures,
		SubmitEvery: s.cfg.WebSubmitEvery, SubmitBurst: s.cfg.WebSubmitBurst})
	admin.Register(r, admin.Config{Store: s.store, Claims: s.claims, Auth: adminAuth{s}, Logger: s.log, Now: s.now, WarmReport: s.cfg.WarmReports, Reports: s.reports})
}

// adminAuth gives the workspace pages the API's one way to resolve, sign in and sign out a
// user, and its one mapping of errors to statuses.
type adminAuth struct{ s *Server }

func (a adminAuth) Principal(c *gin.Context) (*auth.Principal, error) {
	p, err := a.s.resolvePrincipal(c)
	if p != nil {
		c.Set(keyPrincipal, p)
	}
	return p, err
}

func (a adminAuth) SignIn(c *gin.Context, email, password string) error {
	_, _, err := a.s.startSession(c, email, password)
	return err
}

func (a adminAuth) SignOut(c *gin.Context) error     { return a.s.endSession(c) }
func (a adminAuth) Actor(c *gin.Context) audit.Actor { return actorOf(c) }

func (a adminAuth) Status(err error) int { return httpStatus(err) }
