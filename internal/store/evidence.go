package store

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/claimdesk/claimdesk/internal/apperr"
	"github.com/claimdesk/claimdesk/internal/lifecycle"
	"github.com/claimdesk/claimdesk/models"
)

// Blobs keeps the bytes of evidence files by key. The database (DatabaseBlobs) is the default
// because it needs nothing else to back up; DiskBlobs keeps them under a directory.
type Blobs interface {
	Put(ctx context.Context, key string, content []byte) error
	Get(ctx context.Context, key string) ([]byte, error)
	Delete(ctx context.Context, key string) error
}

// DatabaseBlobs returns blob storage in the evidence_blobs table of s.
func (s *Store) DatabaseBlobs() Blobs { return dbBlobs{s} }

type dbBlobs struct{ s *Store }

func (b dbBlobs) Put(ctx context.Context, key string, content []byte) error {
	return translate(b.s.db.WithContext(ctx).Create(&models.EvidenceBlob{StorageKey: key, Content: content}).Error)
}

func (b dbBlobs) Get(ctx context.Context, key string) ([]byte, error) {
	var m models.EvidenceBlob
	if err := b.s.db.WithContext(ctx).Where("storage_key = ?", key).Take(&m).Error; err != nil {
		return nil, translate(err)
	}
	return m.Content, nil
}

func (b dbBlobs) Delete(ctx context.Context, key string) error {
	return translate(b.s.db.WithContext(ctx).Where("storage_key = ?", key).Delete(&models.EvidenceBlob{}).Error)
}

// DiskBlobs keeps blobs as files in Dir (created on first use). Keys are random hex made by
// AddEvidence, so they are safe file names.
type DiskBlobs struct{ Dir string }

func (d DiskBlobs) path(key string) (string, error) {
	if _, err := hex.DecodeString(key); err != nil || key == "" {
		return "", fmt.Errorf("blob key %q: not hex", key)
	}
	return filepath.Join(d.Dir, key[:2], key), nil
}

// Put writes the file atomically (temporary file, then rename).
func (d DiskBlobs) Put(_ context.Context, key string, content []byte) error {
	p, err := d.path(key)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(p), 0o750); err != nil {
		return err
	}
	tmp := p + ".tmp"
	if err := os.WriteFile(tmp, content, 0o640); err != nil {
		return err
	}
	return os.Rename(tmp, p)
}

// Get reads a blob; a missing one is not_found.
func (d DiskBlobs) Get(_ context.Context, key string) ([]byte, error) {
	p, err := d.path(key)
	if err != nil {
		return nil, err
	}
	b, err := os.ReadFile(p)
	if errors.Is(err, os.ErrNotExist) {
		return nil, apperr.Wrap(apperr.NotFound, "", err)
	}
	return b, err
}

// Delete removes a blob; a missing one is fine.
func (d DiskBlobs) Delete(_ context.Context, key string) error {
	p, err := d.path(key)
	if err != nil {
		return err
	}
	if err := os.Remove(p); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	return nil
}

// AddEvidence stores content in blobs and records e for its claim, unless the claim already
// has max files (conflict "evidence_limit"). The count and the insert run in one transaction
// with the claim row locked, so two uploads at once cannot pass the limit together.
func (s *Store) AddEvidence(ctx context.Context, e *models.Evidence, content []byte, blobs Blobs, max int) error {
	return s.AddEvidenceAudited(ctx, e, content, blobs, max, nil)
}

// AddEvidenceAudited is AddEvidence with the audit event of the upload, which ev makes from the
// stored row and which is written in the same transaction.
func (s *Store) AddEvidenceAudited(ctx context.Context, e *models.Evidence, content []byte, blobs Blobs, max int, ev func(*models.Evidence) (*models.AuditEvent, error)) error {
	k := make([]byte, 16)
	rand.Read(k)
	e.StorageKey = hex.EncodeToString(k)
	e.SizeBytes = int64(len(content))
	if e.CreatedAt.IsZero() {
		e.CreatedAt = time.Now()
	}
	e.CreatedAt = e.CreatedAt.UTC().Truncate(time.Microsecond)
	if err := blobs.Put(ctx, e.StorageKey, content); err != nil {
		return err
	}
	err := s.InTx(ctx, func(tx *gorm.DB) error {
		q := tx.Model(&models.Claim{}).Select("id", "status", "erased_at").Where("id = ?", e.ClaimID)
		if s.dialect == Postgres {
			q = q.Clauses(clause.Locking{Strength: "UPDATE"})
		}
		var c models.Claim
		if err := q.Take(&c).Error; err != nil {
			return err
		}
		// Decided here, on the locked row, not only by the caller's earlier read: a file added
		// to a claim closed or erased meanwhile (an admin's erasure while the claimant's page
		// is open) would be kept for good, as an erased claim is never erased again. The
		// erasure takes the same lock, so it either sees this file or comes first.
		if c.ErasedAt != nil || !lifecycle.IsOpen(c.Status) {
			return apperr.New(apperr.Conflict, "claim_closed")
		}
		var n int64
		if err := tx.Model(&models.Evidence{}).Where("claim_id = ?", e.ClaimID).Count(&n).Error; err != nil {
			return err
		}
		if n >= int64(max) {
			return &apperr.Error{Code: apperr.Conflict, Message: "evidence_limit", Params: map[string]string{"max": fmt.Sprint(max)}}
		}
		return createAudited(tx, e, ev)
	})
	if err != nil {
		blobs.Delete(context.WithoutCancel(ctx), e.StorageKey)
	}
	return err
}

// ListEvidence returns the evidence files of a claim, oldest first.
func (s *Store) ListEvidence(ctx context.Context, claimID int64) ([]models.Evidence, error) {
	var out []models.Evidence
	err := s.db.WithContext(ctx).Where("claim_id = ?", claimID).Order("id").Find(&out).Error
	return out, translate(err)
}

// Evidence returns one evidence file of a claim.
func (s *Store) Evidence(ctx context.Context, claimID, id int64) (*models.Evidence, error) {
	var e models.Evidence
	if err := s.db.WithContext(ctx).Where("claim_id = ? AND id = ?", claimID, id).Take(&e).Error; err != nil {
		return nil, translate(err)
	}
	return &e, nil
}

// OpenStatuses are the statuses from which a claimant may still withdraw a claim (the
// lifecycle's: internal/lifecycle is the one place that decides changes of status).
var OpenStatuses = lifecycle.OpenStatuses

// StatusWithdrawn is the status of a claim its claimant withdrew.
const StatusWithdrawn = lifecycle.Withdrawn

// UpdateClaimContact corrects the claimant's contact details (already validated by the
// caller) and records the audit event ev makes from the claim as it was, in one transaction.
// A withdrawn claim cannot be changed, nor an erased one (conflict "claim_closed"): new
// contact details on an erased claim would be kept for good, as an erased claim is never
// erased again. The guard is in the UPDATE, so an erasure committed meanwhile is seen.
// Callers go through claims.Service.UpdateContact.
func (s *Store) UpdateClaimContact(ctx context.Context, claimID int64, name, email, phone string, now time.Time, ev func(before *models.Claim) (*models.AuditEvent, error)) error {
	return s.InTx(ctx, func(tx *gorm.DB) error {
		var before models.Claim
		if err := tx.Where("id = ?", claimID).Take(&before).Error; err != nil {
			return err
		}
		res := tx.Model(&models.Claim{}).Where("id = ? AND status <> ? AND erased_at IS NULL", claimID, StatusWithdrawn).
			Updates(map[string]any{"claimant_name": name, "claimant_email": email, "claimant_phone": phone,
				"updated_at": now.UTC().Truncate(time.Microsecond)})
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			return apperr.New(apperr.Conflict, "claim_closed")
		}
		e, err := ev(&before)
		if err != nil {
			return err
		}
		return RecordTx(tx, e)
	})
}

// EvidenceByID returns an evidence file whatever its claim (for staff).
func (s *Store) EvidenceByID(ctx context.Context, id int64) (*models.Evidence, error) {
	var e models.Evidence
	if err := s.db.WithContext(ctx).Where("id = ?", id).Take(&e).Error; err != nil {
		return nil, translate(err)
	}
	return &e, nil
}
