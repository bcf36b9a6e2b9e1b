package api

import (
	"github.com/gin-gonic/gin"

	"github.com/claimdesk/claimdesk/api/web"
)

// webRoutes adds the claimant's pages (case page, claim form, status page) to r.
func (s *Server) webRoutes(r *gin.Engine) {
	web.Register(r, web.Config{Store: s.store, Claims: s.claims, Logger: s.log, Now: s.now, Secret: s.cfg.SessionSecret})
}
