package store

import (
	"context"

	"gorm.io/gorm"

	"github.com/claimdesk/claimdesk/models"
)

// Record appends an event to the audit trail (audit_events is append-only: the database
// refuses updates and deletes).
func (s *Store) Record(ctx context.Context, e *models.AuditEvent) error {
	return RecordTx(s.db.WithContext(ctx), e)
}

// RecordTx appends an event inside a transaction, so a change and its audit record are
// committed together or not at all.
func RecordTx(tx *gorm.DB, e *models.AuditEvent) error {
	return translate(tx.Create(e).Error)
}

// AuditEvents returns the newest events first, at most limit, optionally of one entity kind.
func (s *Store) AuditEvents(ctx context.Context, entity string, limit int) ([]models.AuditEvent, error) {
	q := s.db.WithContext(ctx).Order("id DESC").Limit(limit)
	if entity != "" {
		q = q.Where("entity = ?", entity)
	}
	var out []models.AuditEvent
	return out, translate(q.Find(&out).Error)
}
