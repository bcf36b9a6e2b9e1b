package models

import "time"

// AuditEvent is one entry of the append-only audit trail: who did what to which entity, when
// and from where. Before, After and Details are JSON text and never hold secrets (token
// hashes, access codes, passwords).
type AuditEvent struct {
	ID int64 `gorm:"primaryKey"`
	At time.Time
	// ActorKind is token, user, claimant, system or cli; ActorID the token or user id.
	ActorKind string
	ActorID   *int64
	ActorName string
	ActorRole string
	IP        string
	RequestID string
	CaseID    *int64
	Action    string
	Entity    string
	EntityID  string
	Before    *string
	After     *string
	Details   string
}
