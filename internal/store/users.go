package store

import (
	"context"
	"errors"
	"time"

	"gorm.io/gorm"

	"github.com/claimdesk/claimdesk/internal/apperr"
	"github.com/claimdesk/claimdesk/models"
)

// CreateUser stores a user and its audit event in one transaction; a taken email is a
// conflict "user_exists".
func (s *Store) CreateUser(ctx context.Context, u *models.User, ev func(*models.User) (*models.AuditEvent, error)) error {
	err := s.InTx(ctx, func(tx *gorm.DB) error { return createAudited(tx, u, ev) })
	if apperr.Is(err, apperr.Conflict) {
		return &apperr.Error{Code: apperr.Conflict, Message: "user_exists", Err: err}
	}
	return err
}

// Users lists every user by id.
func (s *Store) Users(ctx context.Context) ([]models.User, error) {
	var out []models.User
	return out, translate(s.db.WithContext(ctx).Order("id").Find(&out).Error)
}

// UserByEmail finds a user by normalized email (nil, nil when there is none).
func (s *Store) UserByEmail(ctx context.Context, email string) (*models.User, error) {
	var u models.User
	err := s.db.WithContext(ctx).Where("email = ?", email).Take(&u).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, translate(err)
	}
	return &u, nil
}

// UserByID finds a user (not_found "user_not_found").
func (s *Store) UserByID(ctx context.Context, id int64) (*models.User, error) {
	var u models.User
	if err := s.db.WithContext(ctx).Where("id = ?", id).Take(&u).Error; err != nil {
		err = translate(err)
		if apperr.Is(err, apperr.NotFound) {
			return nil, &apperr.Error{Code: apperr.NotFound, Message: "user_not_found", Err: err}
		}
		return nil, err
	}
	return &u, nil
}

// DisableUser disables a user and ends its sessions, with its audit event, in one
// transaction. Disabling a disabled user changes nothing (conflict "user_disabled").
func (s *Store) DisableUser(ctx context.Context, id int64, now time.Time, ev *models.AuditEvent) error {
	return s.InTx(ctx, func(tx *gorm.DB) error {
		res := tx.Model(&models.User{}).Where("id = ? AND disabled_at IS NULL", id).Update("disabled_at", now.UTC().Truncate(time.Microsecond))
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			var n int64
			if err := tx.Model(&models.User{}).Where("id = ?", id).Count(&n).Error; err != nil {
				return err
			}
			if n == 0 {
				return &apperr.Error{Code: apperr.NotFound, Message: "user_not_found"}
			}
			return &apperr.Error{Code: apperr.Conflict, Message: "user_disabled"}
		}
		if err := tx.Where("user_id = ?", id).Delete(&models.Session{}).Error; err != nil {
			return err
		}
		return RecordTx(tx, ev)
	})
}

// CreateSession stores a session and marks the user's sign-in, with its audit event.
func (s *Store) CreateSession(ctx context.Context, sess *models.Session, ev *models.AuditEvent) error {
	return s.InTx(ctx, func(tx *gorm.DB) error {
		if err := tx.Create(sess).Error; err != nil {
			return err
		}
		if err := tx.Model(&models.User{}).Where("id = ?", sess.UserID).Update("last_sign_in_at", sess.CreatedAt).Error; err != nil {
			return err
		}
		return RecordTx(tx, ev)
	})
}

// SessionUser is a live session with its user.
type SessionUser struct {
	Session models.Session
	User    models.User
}

// SessionByHash finds a session and its user by the hash of its secret (nil, nil when none).
func (s *Store) SessionByHash(ctx context.Context, hash []byte) (*SessionUser, error) {
	var out SessionUser
	err := s.db.WithContext(ctx).Where("token_hash = ?", hash).Take(&out.Session).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, translate(err)
	}
	if err := s.db.WithContext(ctx).Where("id = ?", out.Session.UserID).Take(&out.User).Error; err != nil {
		return nil, translate(err)
	}
	return &out, nil
}

// TouchSession records activity on a session.
func (s *Store) TouchSession(ctx context.Context, id int64, now time.Time) error {
	return translate(s.db.WithContext(ctx).Model(&models.Session{}).Where("id = ?", id).Update("last_seen_at", now.UTC().Truncate(time.Microsecond)).Error)
}

// DeleteSession ends a session; ev, when not nil, is recorded with it.
func (s *Store) DeleteSession(ctx context.Context, id int64, ev *models.AuditEvent) error {
	return s.InTx(ctx, func(tx *gorm.DB) error {
		if err := tx.Where("id = ?", id).Delete(&models.Session{}).Error; err != nil {
			return err
		}
		if ev == nil {
			return nil
		}
		return RecordTx(tx, ev)
	})
}
