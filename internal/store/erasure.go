package store

import (
	"context"
	"errors"
	"time"

	"gorm.io/gorm"

	"github.com/claimdesk/claimdesk/internal/audit"
	"github.com/claimdesk/claimdesk/models"
)

// EraseClaim removes a claim's personal data: the claimant's name, email and phone, the
// consent IP, the items' free-text descriptions and the evidence files; in the audit trail,
// the claimant's IP and masked contact details (eraseAuditInTx); and the files of the case's
// background exports made before now (expireExportsInTx); and it ends the claim's status-page
// sessions (claims.sessions_ended_at). What the totals and the court need stays: amounts, times,
// eligibility, valuation, status, consent time and version, and every audit event. The event
// ev makes from the claim as it was is recorded in the same transaction (without the data
// itself). Erasing an erased claim changes nothing and reports false.
func (s *Store) EraseClaim(ctx context.Context, claimID int64, now time.Time, blobs Blobs, ev func(before *models.Claim) (*models.AuditEvent, error)) (bool, error) {
	var keys []string
	erased := false
	err := s.InTx(ctx, func(tx *gorm.DB) error {
		var err error
		keys, erased, err = eraseClaimTx(tx, claimID, now, ev)
		return err
	})
	if err != nil {
		return false, err
	}
	return erased, deleteBlobs(ctx, blobs, keys)
}

// TransitionAndErase applies transition tr (as TransitionClaim) and
// erases the claim's personal data (as EraseClaim, with the event erase makes) in one
// transaction: a withdrawal. Two transactions left, when the second failed (a client gone, a
// database error, a crash), a withdrawn claim keeping its data, and a retry was refused as a
// transition from withdrawn, so nothing but the retention sweep (off by default) ever erased
// it. Now either both happen or neither does, and a retry finds the claim as it was. The
// evidence files are deleted once the transaction has committed. Either way the claim's
// status-page sessions end (claims.sessions_ended_at), in the same transaction.
func (s *Store) TransitionAndErase(ctx context.Context, tr Transition, blobs Blobs, erase func(before *models.Claim) (*models.AuditEvent, error)) (bool, error) {
	t := tr.Record
	var keys []string
	erased := false
	err := s.InTx(ctx, func(tx *gorm.DB) error {
		if err := transitionTx(tx, tr); err != nil {
			return err
		}
		var err error
		if keys, erased, err = eraseClaimTx(tx, t.ClaimID, t.At, erase); err != nil || erased {
			return err
		}
		// Erased before (an admin's erasure, retention), which ended the sessions then: the
		// withdrawal ends those begun since.
		return endSessionsTx(tx, t.ClaimID, t.At)
	})
	if err != nil {
		return false, err
	}
	return erased, deleteBlobs(ctx, blobs, keys)
}

// eraseClaimTx is EraseClaim's work in tx: it reads the claim, records the event ev makes from
// it and erases it, unless it is erased already (false). It returns the storage keys of the
// evidence files to delete once tx has committed.
func eraseClaimTx(tx *gorm.DB, claimID int64, now time.Time, ev func(before *models.Claim) (*models.AuditEvent, error)) ([]string, bool, error) {
	var before models.Claim
	if err := tx.Where("id = ?", claimID).Take(&before).Error; err != nil {
		return nil, false, err
	}
	if before.ErasedAt != nil {
		// Erased before (an admin's erasure, then the claimant's withdrawal): the trail may
		// have gained an event of the claimant since, with the IP erasure removes.
		return nil, false, eraseAuditInTx(tx, before.Reference)
	}
	e, err := ev(&before)
	if err != nil {
		return nil, false, err
	}
	// Recorded first, so that the erasure of the trail covers this event too: a claimant
	// withdrawing from the status page is its actor, with the IP erasure removes.
	if err := RecordTx(tx, e); err != nil {
		return nil, false, err
	}
	keys, err := eraseInTx(tx, &before, now)
	if err != nil {
		return nil, false, err
	}
	return keys, true, nil
}

// eraseInTx blanks the personal columns of one claim, ends its status-page sessions, deletes
// its evidence rows, erases what the audit trail and the case's export files hold of it, and
// returns the storage keys of the files to delete once the transaction has committed.
func eraseInTx(tx *gorm.DB, cl *models.Claim, now time.Time) ([]string, error) {
	at := now.UTC().Truncate(time.Microsecond)
	// The same statement ends the claim's status-page sessions, as endSessionsTx does (only
	// moving forward): a session shows what is left of the claim and takes contact details
	// and files again, and a copy of one (another browser, a shared computer) must not outlive
	// the erasure. The claimant can still sign in anew with the access code.
	if err := tx.Model(&models.Claim{}).Where("id = ?", cl.ID).Updates(map[string]any{
		"claimant_name": "", "claimant_email": "", "claimant_phone": "", "consent_ip": "",
		"erased_at": at, "updated_at": at,
		"sessions_ended_at": gorm.Expr("CASE WHEN sessions_ended_at IS NULL OR sessions_ended_at < ? THEN ? ELSE sessions_ended_at END", at, at),
	}).Error; err != nil {
		return nil, err
	}
	if err := tx.Model(&models.ClaimItem{}).Where("claim_id = ?", cl.ID).Update("description", "").Error; err != nil {
		return nil, err
	}
	var keys []string
	if err := tx.Model(&models.Evidence{}).Where("claim_id = ?", cl.ID).Pluck("storage_key", &keys).Error; err != nil {
		return nil, err
	}
	if err := tx.Where("claim_id = ?", cl.ID).Delete(&models.Evidence{}).Error; err != nil {
		return nil, err
	}
	if err := eraseAuditInTx(tx, cl.Reference); err != nil {
		return nil, err
	}
	if err := expireExportsInTx(tx, cl.CaseID, at); err != nil {
		return nil, err
	}
	return keys, nil
}

// erasedContact replaces the masked contact details of the events UpdateClaimContact records
// (audit.ActionContact) once the claim is erased: the event still says that the contact
// details changed, and why it no longer says from what to what.
const erasedContact = `{"erased":true}`

// eraseAuditInTx removes what identifies the claimant from the trail of the claim with this
// reference, keeping every event (who acted, when, what they did): the IP of the claimant's
// own events (submission, contact change, evidence, withdrawal), as consent_ip is erased
// from the claim, and the masked name, email and phone of its contact changes, whoever made
// them (first and last letter, the email's domain and the phone's last digits are enough to
// find someone). Staff's IPs are staff's data, not the claimant's: they stay. The trail is
// append-only; migration 00017 lets through exactly these changes, of an erased claim.
func eraseAuditInTx(tx *gorm.DB, reference string) error {
	trail := func() *gorm.DB {
		return tx.Model(&models.AuditEvent{}).Where("entity = ? AND entity_id = ?", audit.EntityClaim, reference)
	}
	if err := trail().Where("actor_kind = ? AND ip <> ''", audit.ActorClaimant).Update("ip", "").Error; err != nil {
		return err
	}
	return trail().Where("action = ?", audit.ActionContact).
		Updates(map[string]any{"before": erasedContact, "after": erasedContact}).Error
}

// expireExportsInTx makes every finished background export of the case made up to at expired,
// as if its time had run out (a download answers as for any expired export), and deletes its
// file: a file made before the erasure may hold the claim's personal data, and would otherwise
// keep it for up to a day. Exports still queued read the erased claim when they run; one
// running now may have read the claim already, and its file keeps it until it expires (a day
// at most; expiring it here broke every export of the case at each withdrawal, and a queued
// one, deleted as expired, answered 404 to the lawyer who had just asked for it). The export
// rows are updated before their chunks are deleted, in the order a run starting (StartExport)
// takes them, so the two cannot deadlock.
func expireExportsInTx(tx *gorm.DB, caseID int64, at time.Time) error {
	res := tx.Model(&models.Export{}).Where("case_id = ? AND status = ? AND created_at <= ? AND expires_at > ?", caseID, ExportSucceeded, at, at).
		Update("expires_at", at)
	if res.Error != nil || res.RowsAffected == 0 {
		return res.Error
	}
	return tx.Where("export_id IN (?)", tx.Model(&models.Export{}).Select("id").Where("case_id = ? AND status = ? AND expires_at = ?", caseID, ExportSucceeded, at)).
		Delete(&models.ExportChunk{}).Error
}

// deleteBlobs deletes evidence files whose rows are gone. A file a crash leaves behind has no
// row pointing at it: it is unreachable, and the next erasure sweep of its claim is a no-op.
// The rows are gone for good once the erasure has committed, so the deletion does not stop
// when the request that asked for it does (a claimant closing the page after withdrawing).
func deleteBlobs(ctx context.Context, blobs Blobs, keys []string) error {
	ctx = context.WithoutCancel(ctx)
	var errs []error
	for _, k := range keys {
		if err := blobs.Delete(ctx, k); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// ClosedUnerased returns up to limit claims (id, case, reference) of a case in one of statuses,
// last changed before cutoff (the zero time: whenever), whose personal data is still kept.
// By case, the claims_case_status index serves it: the sweeps run at every start and hourly.
func (s *Store) ClosedUnerased(ctx context.Context, caseID int64, statuses []string, cutoff time.Time, limit int) ([]models.Claim, error) {
	var out []models.Claim
	q := s.db.WithContext(ctx).Select("id", "case_id", "reference").Where("case_id = ? AND status IN ? AND erased_at IS NULL", caseID, statuses)
	if !cutoff.IsZero() {
		q = q.Where("updated_at < ?", cutoff.UTC())
	}
	err := q.Order("id").Limit(limit).Find(&out).Error
	return out, translate(err)
}

// ClearRejectedRows blanks the rows as sent (import_errors.raw: a rejected row in full, name,
// email and phone included) of every import that finished before cutoff, and returns how
// many it blanked; where, why and which row stay, for the import's report. The retention
// sweep calls it with the cutoff of closed claims: a rejected row is closed the moment its
// import ends, and nothing else would ever remove it. Erasing one claim cannot: a rejected row
// never became a claim, and nothing links it to one.
func (s *Store) ClearRejectedRows(ctx context.Context, cutoff time.Time) (int64, error) {
	db := s.db.WithContext(ctx)
	old := db.Model(&models.Import{}).Select("id").Where("COALESCE(finished_at, created_at) < ?", cutoff.UTC())
	res := db.Model(&models.ImportError{}).Where("raw <> '' AND import_id IN (?)", old).Update("raw", "")
	return res.RowsAffected, translate(res.Error)
}
