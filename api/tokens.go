package api

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/claimdesk/claimdesk/internal/apperr"
	"github.com/claimdesk/claimdesk/internal/audit"
	"github.com/claimdesk/claimdesk/internal/auth"
	"github.com/claimdesk/claimdesk/models"
)

// CreateTokenRequest is the body of POST /tokens.
type CreateTokenRequest struct {
	Role string `json:"role"`
	Name string `json:"name"`
}

// TokenResponse is a new token; the token itself is shown this once.
type TokenResponse struct {
	ID        int64  `json:"id"`
	Role      string `json:"role"`
	Name      string `json:"name"`
	Token     string `json:"token"`
	CreatedAt string `json:"created_at"`
}

func (s *Server) createToken(c *gin.Context) {
	var req CreateTokenRequest
	if err := bindJSON(c, &req); err != nil {
		writeError(c, err)
		return
	}
	var errs []apperr.FieldError
	if !auth.Role(req.Role).Valid() {
		errs = append(errs, apperr.FieldError{Path: "role", Code: apperr.FieldInvalidValue, Params: map[string]string{"allowed": "admin, lawyer, importer"}})
	}
	req.Name = strings.TrimSpace(req.Name)
	switch {
	case req.Name == "":
		errs = append(errs, apperr.FieldError{Path: "name", Code: apperr.FieldRequired})
	case len([]rune(req.Name)) > 100:
		errs = append(errs, apperr.FieldError{Path: "name", Code: apperr.FieldTooLong, Params: map[string]string{"max": "100"}})
	}
	if len(errs) > 0 {
		writeError(c, apperr.Validation(errs))
		return
	}
	secret := auth.NewToken()
	now := s.now().UTC().Truncate(time.Microsecond)
	t := &models.APIToken{Name: req.Name, Role: req.Role, TokenHash: auth.Hash(secret), CreatedAt: now}
	err := s.store.CreateTokenAudited(c.Request.Context(), t, func(t *models.APIToken) (*models.AuditEvent, error) {
		return audit.TokenCreated(actorOf(c), t, now)
	})
	if err != nil {
		writeError(c, err)
		return
	}
	c.JSON(http.StatusCreated, TokenResponse{ID: t.ID, Role: t.Role, Name: t.Name, Token: secret, CreatedAt: t.CreatedAt.Format("2006-01-02T15:04:05Z07:00")})
}

func (s *Server) deleteToken(c *gin.Context) {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil {
		writeError(c, &apperr.Error{Code: apperr.NotFound, Message: "token_not_found"})
		return
	}
	ev, err := audit.Event{Actor: actorOf(c), Action: "revoke", Entity: audit.EntityToken, EntityID: itoa64(id), Before: map[string]any{"id": id, "revoked": false},
		After: map[string]any{"id": id, "revoked": true}}.Model(s.now())
	if err != nil {
		writeError(c, err)
		return
	}
	if err := s.store.RevokeToken(c.Request.Context(), id, ev); err != nil {
		writeError(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}
