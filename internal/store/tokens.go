package store

import (
	"context"
	"errors"
	"time"

	"gorm.io/gorm"

	"github.com/claimdesk/claimdesk/internal/apperr"
	"github.com/claimdesk/claimdesk/models"
)

// CreateToken stores a token (its hash).
func (s *Store) CreateToken(ctx context.Context, t *models.APIToken) error {
	if t.CreatedAt.IsZero() {
		t.CreatedAt = time.Now().UTC()
	}
	return translate(s.db.WithContext(ctx).Create(t).Error)
}

// TokenByHash returns the live (not revoked) token with the hash, or a not_found error.
func (s *Store) TokenByHash(ctx context.Context, hash []byte) (*models.APIToken, error) {
	var t models.APIToken
	err := s.db.WithContext(ctx).Where("token_hash = ? AND revoked_at IS NULL", hash).Take(&t).Error
	return &t, translate(err)
}

// RevokeToken revokes a token. Revoking an unknown or revoked token is not_found.
func (s *Store) RevokeToken(ctx context.Context, id int64) error {
	res := s.db.WithContext(ctx).Model(&models.APIToken{}).Where("id = ? AND revoked_at IS NULL", id).
		Update("revoked_at", time.Now().UTC())
	if res.Error != nil {
		return translate(res.Error)
	}
	if res.RowsAffected == 0 {
		return &apperr.Error{Code: apperr.NotFound, Message: "token_not_found"}
	}
	return nil
}

// HasLiveAdminToken reports whether any admin token is not revoked.
func (s *Store) HasLiveAdminToken(ctx context.Context) (bool, error) {
	var n int64
	err := s.db.WithContext(ctx).Model(&models.APIToken{}).Where("role = 'admin' AND revoked_at IS NULL").Count(&n).Error
	return n > 0, translate(err)
}

// EnsureToken creates the token with this hash unless it exists (used for the admin token
// given in the environment, so restarts do not pile up rows). It reports whether it created it.
func (s *Store) EnsureToken(ctx context.Context, t *models.APIToken) (bool, error) {
	var prev models.APIToken
	err := s.db.WithContext(ctx).Where("token_hash = ?", t.TokenHash).Take(&prev).Error
	if err == nil {
		if prev.RevokedAt != nil || prev.Role != t.Role {
			// The operator set this value again on purpose: make it the admin token it says it is.
			err = s.db.WithContext(ctx).Model(&prev).Updates(map[string]any{"revoked_at": nil, "role": t.Role}).Error
		}
		return false, translate(err)
	}
	if !errors.Is(err, gorm.ErrRecordNotFound) {
		return false, translate(err)
	}
	return true, s.CreateToken(ctx, t)
}
