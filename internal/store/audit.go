package store

import (
	"context"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/claimdesk/claimdesk/models"
)

// Record appends an event to the audit trail. audit_events is append-only: the database
// refuses deletes, and every update but the erasure of an erased claim's trail (the claimant's
// IP, the before and after of its contact changes: eraseAuditInTx, migration 00017).
func (s *Store) Record(ctx context.Context, e *models.AuditEvent) error {
	return RecordTx(s.db.WithContext(ctx), e)
}

// RecordTx appends an event inside a transaction, so a change and its audit record are
// committed together or not at all.
func RecordTx(tx *gorm.DB, e *models.AuditEvent) error {
	return translate(tx.Exec(insertAudit, auditValues(e)...).Error)
}

// createAudited creates row in tx with the audit event audited makes of it (audited sees the
// stored id; nil records nothing): the shape of every store method whose change is its own
// record.
func createAudited[T any](tx *gorm.DB, row T, audited func(T) (*models.AuditEvent, error)) error {
	if err := tx.Create(row).Error; err != nil || audited == nil {
		return err
	}
	e, err := audited(row)
	if err != nil {
		return err
	}
	return RecordTx(tx, e)
}

// insertAudit writes one audit record (auditValues): the one INSERT of the trail, but for the
// grouped claims of insertClaimsPG, whose records go in the same statement as the claims.
var insertAudit = `INSERT INTO audit_events (` + strings.Join(auditColumns, ", ") + `) VALUES (` + placeholders(len(auditColumns)) + `)`

// auditColumns are the columns auditValues fills.
var auditColumns = []string{"at", "actor_kind", "actor_id", "actor_name", "actor_role", "ip", "request_id", "case_id", "action",
	"entity", "entity_id", "before", "after", "details"}

func auditValues(e *models.AuditEvent) []any {
	return []any{e.At.UTC(), e.ActorKind, e.ActorID, e.ActorName, e.ActorRole, e.IP, e.RequestID, e.CaseID,
		e.Action, e.Entity, e.EntityID, e.Before, e.After, e.Details}
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

// AuditFilter selects audit events. Zero fields do not filter.
type AuditFilter struct {
	Entity    string
	EntityID  string
	ActorKind string
	ActorID   *int64
	ActorName string
	Action    string
	CaseID    *int64
	From, To  time.Time // [From, To)
	Cursor    string
	Limit     int
}

func (s *Store) auditQuery(ctx context.Context, f AuditFilter) (*gorm.DB, error) {
	q := s.db.WithContext(ctx).Model(&models.AuditEvent{})
	for col, v := range map[string]string{"entity": f.Entity, "entity_id": f.EntityID, "actor_kind": f.ActorKind, "actor_name": f.ActorName, "action": f.Action} {
		if v != "" {
			q = q.Where(col+" = ?", v)
		}
	}
	if f.ActorID != nil {
		q = q.Where("actor_id = ?", *f.ActorID)
	}
	if f.CaseID != nil {
		q = q.Where("case_id = ?", *f.CaseID)
	}
	if !f.From.IsZero() {
		q = q.Where("at >= ?", f.From.UTC())
	}
	if !f.To.IsZero() {
		q = q.Where("at < ?", f.To.UTC())
	}
	if f.Cursor != "" {
		id, err := decodeCursor(f.Cursor)
		if err != nil {
			return nil, err
		}
		q = q.Where("id < ?", id)
	}
	return q.Order("id DESC"), nil
}

// ListAudit returns a page of events, newest first, and the cursor of the next page.
func (s *Store) ListAudit(ctx context.Context, f AuditFilter) ([]models.AuditEvent, string, error) {
	q, err := s.auditQuery(ctx, f)
	if err != nil {
		return nil, "", err
	}
	var out []models.AuditEvent
	if err := q.Limit(f.Limit + 1).Find(&out).Error; err != nil {
		return nil, "", translate(err)
	}
	next := ""
	if len(out) > f.Limit {
		out = out[:f.Limit]
		next = encodeCursor(out[len(out)-1].ID)
	}
	return out, next, nil
}

// StreamAudit calls fn for every event the filter selects (Cursor and Limit ignored), newest
// first, without holding them all in memory.
func (s *Store) StreamAudit(ctx context.Context, f AuditFilter, fn func(*models.AuditEvent) error) error {
	f.Cursor = ""
	q, err := s.auditQuery(ctx, f)
	if err != nil {
		return err
	}
	rows, err := q.Rows()
	if err != nil {
		return translate(err)
	}
	defer rows.Close()
	for rows.Next() {
		var e models.AuditEvent
		if err := s.db.ScanRows(rows, &e); err != nil {
			return translate(err)
		}
		if err := fn(&e); err != nil {
			return err
		}
	}
	return translate(rows.Err())
}

// CountAudit counts every event (tests of the audit coverage use it).
func (s *Store) CountAudit(ctx context.Context) (int64, error) {
	var n int64
	return n, translate(s.db.WithContext(ctx).Model(&models.AuditEvent{}).Count(&n).Error)
}
