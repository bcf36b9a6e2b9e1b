package api

import (
	"net/http"
	"net/mail"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/claimdesk/claimdesk/internal/apperr"
	"github.com/claimdesk/claimdesk/internal/audit"
	"github.com/claimdesk/claimdesk/internal/auth"
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
	out := UserResponse{ID: u.ID, Email: u.Email, Role: u.Role, CreatedAt: u.CreatedAt.UTC().Format(time.RFC3339)}
	if u.DisabledAt != nil {
		d := u.DisabledAt.UTC().Format(time.RFC3339)
		out.DisabledAt = &d
	}
	if u.LastSignInAt != nil {
		d := u.LastSignInAt.UTC().Format(time.RFC3339)
		out.LastSignInAt = &d
	}
	return out
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
var UserRoles = []string{string(auth.Admin), string(auth.Lawyer)}

func (s *Server) createUser(c *gin.Context) {
	var req CreateUserRequest
	if err := bindJSON(c, &req); err != nil {
		writeError(c, err)
		return
	}
	email := auth.NormalizeEmail(req.Email)
	var fields []apperr.FieldError
	if a, err := mail.ParseAddress(email); email == "" || err != nil || a.Address != email || len(email) > 254 {
		fields = append(fields, apperr.FieldError{Path: "email", Code: apperr.FieldInvalidFormat, Params: map[string]string{"hint": "hint_email"}})
	}
	if req.Role != string(auth.Admin) && req.Role != string(auth.Lawyer) {
		fields = append(fields, apperr.FieldError{Path: "role", Code: apperr.FieldInvalidValue, Params: map[string]string{"allowed": "admin, lawyer"}})
	}
	initial := ""
	pw := req.Password
	if pw == "" {
		pw = auth.NewPassword()
		initial = pw
	} else if len(pw) < auth.MinPassword || len(pw) > auth.MaxPassword {
		fields = append(fields, apperr.FieldError{Path: "password", Code: apperr.FieldOutOfRange, Message: "password_length",
			Params: map[string]string{"min": strconv.Itoa(auth.MinPassword), "max": strconv.Itoa(auth.MaxPassword)}})
	}
	if len(fields) > 0 {
		writeError(c, apperr.Validation(fields))
		return
	}
	hash, err := auth.HashPassword(pw)
	if err != nil {
		writeError(c, err)
		return
	}
	now := s.now().UTC().Truncate(time.Microsecond)
	u := &models.User{Email: email, Role: req.Role, PasswordHash: hash, CreatedAt: now}
	err = s.store.CreateUser(c.Request.Context(), u, func(u *models.User) (*models.AuditEvent, error) {
		return audit.Event{Actor: actorOf(c), Action: audit.ActionCreate, Entity: audit.EntityUser, EntityID: itoa64(u.ID),
			After: userResponse(u)}.Model(now)
	})
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
	ctx := c.Request.Context()
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil {
		writeError(c, &apperr.Error{Code: apperr.NotFound, Message: "user_not_found"})
		return
	}
	u, err := s.store.UserByID(ctx, id)
	if err != nil {
		writeError(c, err)
		return
	}
	now := s.now().UTC().Truncate(time.Microsecond)
	before := userResponse(u)
	u.DisabledAt = &now
	ev, err := audit.Event{Actor: actorOf(c), Action: "disable", Entity: audit.EntityUser, EntityID: itoa64(id), Before: before, After: userResponse(u)}.Model(now)
	if err != nil {
		writeError(c, err)
		return
	}
	if err := s.store.DisableUser(ctx, id, now, ev); err != nil {
		writeError(c, err)
		return
	}
	c.JSON(http.StatusOK, userResponse(u))
}
