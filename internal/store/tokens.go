package store

import (
	"context"
	"errors"
	"time"

	"gorm.io/gorm"

	"github.com/claimdesk/claimdesk/internal/apperr"
	"github.com/claimdesk/claimdesk/models"
)

// CreateToken stores a token (its hash) without an audit record: for test fixtures and the
// bootstrap token given in the environment. Everything a person does goes through
// CreateTokenAudited.
func (s *Store) CreateToken(ctx context.Context, t *models.APIToken) error {
	return s.CreateTokenAudited(ctx, t, nil)
}

// CreateTokenAudited stores a token and the audit event ev makes of it (ev sees the stored
// id) in one transaction; ev nil records nothing.
func (s *Store) CreateTokenAudited(ctx context.Context, t *models.APIToken, ev func(*models.APIToken) (*models.AuditEvent, error)) error {
	if t.CreatedAt.IsZero() {
		t.CreatedAt = time.Now().UTC()
	}
	return s.InTx(ctx, func(tx *gorm.DB) error { return createAudited(tx, t, ev) })
}

// TokenByHash returns the live (not revoked) token with the hash, or a not_found error.
func (s *Store) TokenByHash(ctx context.Context, hash []byte) (*models.APIToken, error) {
	var t models.APIToken
	err := s.db.WithContext(ctx).Where("token_hash = ? AND revoked_at IS NULL", hash).Take(&t).Error
	return &t, translate(err)
}

// RevokeToken revokes a token and records ev (when not nil) in the same transaction.
// Revoking an unknown or revoked token is not_found.
func (s *Store) RevokeToken(ctx context.Context, id int64, ev *models.AuditEvent) error {
	return s.InTx(ctx, func(tx *gorm.DB) error {
		res := tx.Model(&models.APIToken{}).Where("id = ? AND revoked_at IS NULL", id).Update("revoked_at", time.Now().UTC())
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			return &apperr.Error{Code: apperr.NotFound, Message: "token_not_found"}
		}
		if ev == nil {
			return nil
		}
		return RecordTx(tx, ev)
	})
}

// HasLiveAdminToken reports whether any admin token is not revoked.
func (s *Store) HasLiveAdminToken(ctx context.Context) (bool, error) {
	var n int64
	err := s.db.WithContext(ctx).Model(&models.APIToken{}).Where("role = 'admin' AND revoked_at IS NULL").Count(&n).Error
	return n > 0, translate(err)
}

// ErrTokenRevoked is EnsureToken's answer when the token with that hash exists but was
// revoked: it stays revoked.
var ErrTokenRevoked = errors.New("token revoked")

// EnsureToken creates the token with this hash unless it exists (used for the admin token
// given in the environment); a live one with another role gets t's role again. A revoked one
// is left revoked and ErrTokenRevoked returned: a revocation (DELETE /tokens/:id) is how an
// admin answers a leaked value, and a restart with the leaked value still in the environment
// must not undo it. ev, when set, makes the audit record of a change (before is nil for a
// creation), written in the same transaction; nothing changed records nothing.
func (s *Store) EnsureToken(ctx context.Context, t *models.APIToken, ev func(before, after *models.APIToken) (*models.AuditEvent, error)) (created bool, err error) {
	if t.CreatedAt.IsZero() {
		t.CreatedAt = time.Now().UTC()
	}
	err = s.InTx(ctx, func(tx *gorm.DB) error {
		var prev models.APIToken
		err := tx.Where("token_hash = ?", t.TokenHash).Take(&prev).Error
		var before *models.APIToken
		switch {
		case err == nil && prev.RevokedAt != nil:
			t.ID = prev.ID
			return ErrTokenRevoked
		case err == nil:
			if prev.Role == t.Role {
				return nil
			}
			before = &models.APIToken{ID: prev.ID, Name: prev.Name, Role: prev.Role}
			if err := tx.Model(&prev).Update("role", t.Role).Error; err != nil {
				return err
			}
			t.ID = prev.ID
		case errors.Is(err, gorm.ErrRecordNotFound):
			if err := tx.Create(t).Error; err != nil {
				return err
			}
			created = true
		default:
			return err
		}
		if ev == nil {
			return nil
		}
		e, err := ev(before, t)
		if err != nil {
			return err
		}
		return RecordTx(tx, e)
	})
	return created, translate(err)
}
