package api

import (
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"

	"github.com/claimdesk/claimdesk/internal/apperr"
	"github.com/claimdesk/claimdesk/internal/audit"
	"github.com/claimdesk/claimdesk/internal/staff"
	"github.com/claimdesk/claimdesk/models"
)

// CreateUserRequest invites a staff user.
type CreateUserRequest struct {
	Email string `json:"email"`
	Role  string `json:"role"`
	// Password is optional: without one, a random initial password is made and shown once.
	Password string `json:"password"`
}

// UserResponse is a staff user (never its password hash).
type UserResponse struct {
	ID           int64   `json:"id"`
	Email        string  `json:"email"`
	Role         string  `json:"role"`
	CreatedAt    string  `json:"created_at"`
	DisabledAt   *string `json:"disabled_at"`
	LastSignInAt *string `json:"last_sign_in_at"`
	// InitialPassword is in the answer that created the user, when the server made it.
	InitialPassword string `json:"initial_password,omitempty"`
}

// UserListResponse lists users.
type UserListResponse struct {
	Users []UserResponse `json:"users"`
}

func userResponse(u *models.User) UserResponse {
	r := staff.RecordOf(u)
	return UserResponse{ID: r.ID, Email: r.Email, Role: r.Role, CreatedAt: r.CreatedAt, DisabledAt: r.DisabledAt, LastSignInAt: r.LastSignInAt}
}

// actorOf is who makes the request, for the audit trail.
func actorOf(c *gin.Context) audit.Actor {
	a := audit.Actor{IP: c.ClientIP(), RequestID: requestID(c)}
	p := principal(c)
	switch {
	case p == nil:
		a.Kind = audit.ActorClaimant
	case p.UserID != 0:
		id := p.UserID
		a.Kind, a.ID, a.Name, a.Role = audit.ActorUser, &id, p.Name, string(p.Role)
	default:
		id := p.TokenID
		a.Kind, a.ID, a.Name, a.Role = audit.ActorToken, &id, p.Name, string(p.Role)
	}
	return a
}

func itoa64(n int64) string { return strconv.FormatInt(n, 10) }

// UserRoles are the roles a user may have (importer is for tokens only).
var UserRoles = staff.Roles

func (s *Server) createUser(c *gin.Context) {
	var req CreateUserRequest
	if err := bindJSON(c, &req); err != nil {
		writeError(c, err)
		return
	}
	u, initial, err := staff.Create(c.Request.Context(), s.store, req.Email, req.Role, req.Password, actorOf(c), s.now())
	if err != nil {
		writeError(c, err)
		return
	}
	out := userResponse(u)
	out.InitialPassword = initial
	c.JSON(http.StatusCreated, out)
}

func (s *Server) listUsers(c *gin.Context) {
	us, err := s.store.Users(c.Request.Context())
	if err != nil {
		writeError(c, err)
		return
	}
	out := UserListResponse{Users: make([]UserResponse, len(us))}
	for i := range us {
		out.Users[i] = userResponse(&us[i])
	}
	c.JSON(http.StatusOK, out)
}

func (s *Server) disableUser(c *gin.Context) {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil {
		writeError(c, &apperr.Error{Code: apperr.NotFound, Message: "user_not_found"})
		return
	}
	u, err := staff.Disable(c.Request.Context(), s.store, id, actorOf(c), s.now())
	if err != nil {
		writeError(c, err)
		return
	}
	c.JSON(http.StatusOK, userResponse(u))
}
