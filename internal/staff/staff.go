// Package staff creates and disables the users who sign in to the workspace (admins and
// lawyers), each change with its audit record in the same transaction. The API and the
// workspace's users page both come through here, so they validate and record alike.
package staff

import (
	"context"
	"net/mail"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/claimdesk/claimdesk/internal/apperr"
	"github.com/claimdesk/claimdesk/internal/audit"
	"github.com/claimdesk/claimdesk/internal/auth"
	"github.com/claimdesk/claimdesk/internal/store"
	"github.com/claimdesk/claimdesk/models"
)

// Roles are the roles a user may have (importer is for tokens only).
var Roles = []string{string(auth.Admin), string(auth.Lawyer)}

// Record is a user as the audit trail keeps it (never its password hash).
type Record struct {
	ID           int64   `json:"id"`
	Email        string  `json:"email"`
	Role         string  `json:"role"`
	CreatedAt    string  `json:"created_at"`
	DisabledAt   *string `json:"disabled_at"`
	LastSignInAt *string `json:"last_sign_in_at"`
}

// RecordOf is u without secrets.
func RecordOf(u *models.User) Record {
	out := Record{ID: u.ID, Email: u.Email, Role: u.Role, CreatedAt: u.CreatedAt.UTC().Format(time.RFC3339)}
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

// Create validates and stores a user, recorded as actor. Without a password a random initial
// one is made and returned (to be shown once); otherwise initial is "". Field errors name
// "email", "role" and "password"; a taken email is a conflict "user_exists".
func Create(ctx context.Context, st *store.Store, email, role, password string, actor audit.Actor, now time.Time) (u *models.User, initial string, err error) {
	email = auth.NormalizeEmail(email)
	var fields []apperr.FieldError
	if a, err := mail.ParseAddress(email); email == "" || err != nil || a.Address != email || len(email) > 254 {
		fields = append(fields, apperr.FieldError{Path: "email", Code: apperr.FieldInvalidFormat, Params: map[string]string{"hint": "hint_email"}})
	}
	if !slices.Contains(Roles, role) {
		fields = append(fields, apperr.FieldError{Path: "role", Code: apperr.FieldInvalidValue, Params: map[string]string{"allowed": strings.Join(Roles, ", ")}})
	}
	pw := password
	if pw == "" {
		pw = auth.NewPassword()
		initial = pw
	} else if len(pw) < auth.MinPassword || len(pw) > auth.MaxPassword {
		fields = append(fields, apperr.FieldError{Path: "password", Code: apperr.FieldOutOfRange, Message: "password_length",
			Params: map[string]string{"min": strconv.Itoa(auth.MinPassword), "max": strconv.Itoa(auth.MaxPassword)}})
	}
	if len(fields) > 0 {
		return nil, "", apperr.Validation(fields)
	}
	hash, err := auth.HashPassword(pw)
	if err != nil {
		return nil, "", err
	}
	now = now.UTC().Truncate(time.Microsecond)
	u = &models.User{Email: email, Role: role, PasswordHash: hash, CreatedAt: now}
	err = st.CreateUser(ctx, u, func(u *models.User) (*models.AuditEvent, error) {
		return audit.Event{Actor: actor, Action: audit.ActionCreate, Entity: audit.EntityUser, EntityID: strconv.FormatInt(u.ID, 10),
			After: RecordOf(u)}.Model(now)
	})
	if err != nil {
		return nil, "", err
	}
	return u, initial, nil
}

// Disable disables a user and ends its sessions, recorded as actor; it returns the user as it
// is now (not_found "user_not_found", conflict "user_disabled"). A user cannot disable itself
// (conflict "user_self"): the last admin would lock everybody out.
func Disable(ctx context.Context, st *store.Store, id int64, actor audit.Actor, now time.Time) (*models.User, error) {
	if actor.Kind == audit.ActorUser && actor.ID != nil && *actor.ID == id {
		return nil, &apperr.Error{Code: apperr.Conflict, Message: "user_self"}
	}
	u, err := st.UserByID(ctx, id)
	if err != nil {
		return nil, err
	}
	now = now.UTC().Truncate(time.Microsecond)
	before := RecordOf(u)
	u.DisabledAt = &now
	ev, err := audit.Event{Actor: actor, Action: "disable", Entity: audit.EntityUser, EntityID: strconv.FormatInt(id, 10), Before: before, After: RecordOf(u)}.Model(now)
	if err != nil {
		return nil, err
	}
	if err := st.DisableUser(ctx, id, now, ev); err != nil {
		return nil, err
	}
	return u, nil
}
