package store

import (
	"context"
	"errors"
	"slices"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/claimdesk/claimdesk/internal/apperr"
	"github.com/claimdesk/claimdesk/models"
)

// Transition is a change of a claim's status to apply: its record, its audit event (nil:
// none), and the cure deadline the claim had when it was decided, which the guard compares with
// Record.FromStatus (transitionTx).
type Transition struct {
	Record           *models.ClaimTransition
	Event            *models.AuditEvent
	FromCureDeadline *time.Time
}

// TransitionClaim moves a claim from status tr.Record.FromStatus to its ToStatus, records the
// transition and its audit event, in one transaction. The update is guarded by what the caller
// decided on (transitionTx): if another change came first, nothing is written and the answer
// is invalid_transition ("status_changed"), so two lawyers can never both move the same claim.
func (s *Store) TransitionClaim(ctx context.Context, tr Transition) error {
	return s.InTx(ctx, func(tx *gorm.DB) error { return transitionTx(tx, tr) })
}

// transitionTx applies a transition in tx. The claim moves only if it is still as the caller
// read it, status and cure deadline (all that the lifecycle's decision reads): a claim cured,
// reviewed and found deficient again meanwhile has the status it had, but a new deadline, and a
// decision taken on the old one (a rejection once that deadline passed, "documents received"
// for the old notice) no longer holds.
func transitionTx(tx *gorm.DB, tr Transition) error {
	t := tr.Record
	t.At = t.At.UTC().Truncate(time.Microsecond)
	q := tx.Model(&models.Claim{}).Where("id = ? AND status = ?", t.ClaimID, t.FromStatus)
	if tr.FromCureDeadline == nil {
		q = q.Where("cure_deadline IS NULL")
	} else {
		q = q.Where("cure_deadline = ?", tr.FromCureDeadline.UTC())
	}
	if t.DuplicateOf != nil {
		if err := originalCounts(tx, t.ClaimID, *t.DuplicateOf); err != nil {
			return err
		}
	}
	res := q.Updates(map[string]any{"status": t.ToStatus, "cure_deadline": t.CureDeadline, "duplicate_of": t.DuplicateOf, "updated_at": t.At})
	if res.Error != nil {
		return res.Error
	}
	if res.RowsAffected == 0 {
		return &apperr.Error{Code: apperr.InvalidTransition, Message: "status_changed"}
	}
	if err := tx.Create(t).Error; err != nil {
		return err
	}
	if tr.Event != nil {
		return RecordTx(tx, tr.Event)
	}
	return nil
}

// ErrOriginalExcluded refuses to make a claim a duplicate of one that does not count in the
// totals (a duplicate or a withdrawn claim); the caller names its own field (duplicate_of_excluded).
var ErrOriginalExcluded = errors.New("the original is itself a duplicate or withdrawn")

// originalCounts refuses (ErrOriginalExcluded) to make claim a duplicate of orig unless orig
// counts in the totals: a claim leaves them for its original, and an original that is a
// duplicate or withdrawn would take both losses out (two claims made duplicates of each other
// left none). Both rows are locked first, in id order, on PostgreSQL, so that two such changes
// at once wait for each other and the second sees the first (SQLite writes one at a time).
func originalCounts(tx *gorm.DB, claimID, origID int64) error {
	q := tx.Model(&models.Claim{}).Select("id", "status").Where("id IN ?", []int64{claimID, origID}).Order("id")
	if tx.Dialector.Name() == "postgres" {
		q = q.Clauses(clause.Locking{Strength: "UPDATE"})
	}
	var rows []models.Claim
	if err := q.Find(&rows).Error; err != nil {
		return err
	}
	for _, r := range rows {
		if r.ID == origID && slices.Contains(ExcludedFromTotals, r.Status) {
			return ErrOriginalExcluded
		}
	}
	return nil
}

// ClaimTransitions returns the history of a claim, oldest first.
func (s *Store) ClaimTransitions(ctx context.Context, claimID int64) ([]models.ClaimTransition, error) {
	var out []models.ClaimTransition
	return out, translate(s.db.WithContext(ctx).Where("claim_id = ?", claimID).Order("id").Find(&out).Error)
}

// ExpiredDeficiencies returns up to limit claims still deficient whose cure deadline is
// before now (the expiry job rejects them).
func (s *Store) ExpiredDeficiencies(ctx context.Context, now time.Time, limit int) ([]models.Claim, error) {
	var out []models.Claim
	err := s.db.WithContext(ctx).Where("status = ? AND cure_deadline < ?", "deficient", now.UTC()).Order("id").Limit(limit).Find(&out).Error
	return out, translate(err)
}

// ClaimsByIDs loads claims (without items) by id.
func (s *Store) ClaimsByIDs(ctx context.Context, ids []int64) (map[int64]*models.Claim, error) {
	out := make(map[int64]*models.Claim, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	var cs []models.Claim
	if err := s.db.WithContext(ctx).Where("id IN ?", ids).Find(&cs).Error; err != nil {
		return nil, translate(err)
	}
	for i := range cs {
		out[cs[i].ID] = &cs[i]
	}
	return out, nil
}

// ClaimsByReferences loads the claims of a case by reference (canonical references; those not
// found, or of another case, are not in the map), without their items: a bulk status change
// reads none.
func (s *Store) ClaimsByReferences(ctx context.Context, caseID int64, refs []string) (map[string]*models.Claim, error) {
	out := make(map[string]*models.Claim, len(refs))
	if len(refs) == 0 {
		return out, nil
	}
	var cs []models.Claim
	if err := s.db.WithContext(ctx).Where("case_id = ? AND reference IN ?", caseID, refs).Find(&cs).Error; err != nil {
		return nil, translate(err)
	}
	for i := range cs {
		out[cs[i].Reference] = &cs[i]
	}
	return out, nil
}
