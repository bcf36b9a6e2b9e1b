package store

import (
	"context"
	"errors"
	"time"

	"gorm.io/gorm"

	"github.com/claimdesk/claimdesk/models"
)

// EraseClaim removes a claim's personal data: the claimant's name, email and phone, the
// consent IP, the items' free-text descriptions and the evidence files. What the totals and
// the court need stays: amounts, times, eligibility, valuation, status, consent time and
// version. The event ev makes from the claim as it was is recorded in the same transaction
// (without the data itself). Erasing an erased claim changes nothing and reports false.
func (s *Store) EraseClaim(ctx context.Context, claimID int64, now time.Time, blobs Blobs, ev func(before *models.Claim) (*models.AuditEvent, error)) (bool, error) {
	var keys []string
	erased := false
	err := s.InTx(ctx, func(tx *gorm.DB) error {
		var before models.Claim
		if err := tx.Where("id = ?", claimID).Take(&before).Error; err != nil {
			return err
		}
		if before.ErasedAt != nil {
			return nil
		}
		var err error
		keys, err = eraseInTx(tx, claimID, now)
		if err != nil {
			return err
		}
		e, err := ev(&before)
		if err != nil {
			return err
		}
		erased = true
		return RecordTx(tx, e)
	})
	if err != nil {
		return false, err
	}
	return erased, deleteBlobs(ctx, blobs, keys)
}

// eraseInTx blanks the personal columns of one claim and deletes its evidence rows, and
// returns the storage keys of the files to delete once the transaction has committed.
func eraseInTx(tx *gorm.DB, claimID int64, now time.Time) ([]string, error) {
	at := now.UTC().Truncate(time.Microsecond)
	if err := tx.Model(&models.Claim{}).Where("id = ?", claimID).Updates(map[string]any{
		"claimant_name": "", "claimant_email": "", "claimant_phone": "", "consent_ip": "",
		"erased_at": at, "updated_at": at,
	}).Error; err != nil {
		return nil, err
	}
	if err := tx.Model(&models.ClaimItem{}).Where("claim_id = ?", claimID).Update("description", "").Error; err != nil {
		return nil, err
	}
	var keys []string
	if err := tx.Model(&models.Evidence{}).Where("claim_id = ?", claimID).Pluck("storage_key", &keys).Error; err != nil {
		return nil, err
	}
	if err := tx.Where("claim_id = ?", claimID).Delete(&models.Evidence{}).Error; err != nil {
		return nil, err
	}
	return keys, nil
}

// deleteBlobs deletes evidence files whose rows are gone. A file a crash leaves behind has no
// row pointing at it: it is unreachable, and the next erasure sweep of its claim is a no-op.
func deleteBlobs(ctx context.Context, blobs Blobs, keys []string) error {
	var errs []error
	for _, k := range keys {
		if err := blobs.Delete(ctx, k); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// ClosedUnerased returns up to limit claims (id, case, reference) in one of statuses, last
// changed before cutoff, whose personal data is still kept: those a retention period has run
// out for.
func (s *Store) ClosedUnerased(ctx context.Context, statuses []string, cutoff time.Time, limit int) ([]models.Claim, error) {
	var out []models.Claim
	err := s.db.WithContext(ctx).Select("id", "case_id", "reference").
		Where("status IN ? AND updated_at < ? AND erased_at IS NULL", statuses, cutoff.UTC()).
		Order("id").Limit(limit).Find(&out).Error
	return out, translate(err)
}
