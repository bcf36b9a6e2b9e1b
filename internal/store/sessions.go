package store

import (
	"context"
	"time"

	"gorm.io/gorm"

	"github.com/claimdesk/claimdesk/models"
)

// EndClaimSessions ends every status-page session of the claim begun up to at (the claimant
// signing out): claims.sessions_ended_at, which the pages compare with the instant a session's
// cookie was issued.
func (s *Store) EndClaimSessions(ctx context.Context, claimID int64, at time.Time) error {
	return translate(endSessionsTx(s.db.WithContext(ctx), claimID, at))
}

// endSessionsTx is EndClaimSessions in tx (the withdrawal of a claim erased before; an
// erasure sets the column the same way in its own update of the claim, eraseInTx). The
// instant is kept to the microsecond, as PostgreSQL stores it, so that what is read back is
// what was written (a cookie issued in the same microsecond counts as before). It only moves
// forward: an act stamped earlier than one already recorded (another instance's clock a
// little behind) must not bring back the sessions the later one ended. UpdateColumn: ending
// sessions is no change of the claim, so updated_at (which the retention period counts from)
// stays.
func endSessionsTx(tx *gorm.DB, claimID int64, at time.Time) error {
	at = at.UTC().Truncate(time.Microsecond)
	return tx.Model(&models.Claim{}).Where("id = ? AND (sessions_ended_at IS NULL OR sessions_ended_at < ?)", claimID, at).
		UpdateColumn("sessions_ended_at", at).Error
}
