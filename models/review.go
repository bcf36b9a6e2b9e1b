package models

import "time"

// ClaimTransition is one change of a claim's status: who made it, why and when.
type ClaimTransition struct {
	ID         int64 `gorm:"primaryKey"`
	ClaimID    int64
	CaseID     int64
	FromStatus string
	ToStatus   string
	// Reasons are reason codes, comma-separated.
	Reasons      string
	Note         string
	CureDeadline *time.Time
	DuplicateOf  *int64
	ActorKind    string
	ActorID      *int64
	ActorName    string
	At           time.Time
}

// ClaimDuplicate is a candidate pair: ClaimID arrived after OtherClaimID (kept by default).
type ClaimDuplicate struct {
	ID           int64 `gorm:"primaryKey"`
	CaseID       int64
	ClaimID      int64
	OtherClaimID int64
	Matched      string
	Status       string
	DecidedBy    string
	DecidedAt    *time.Time
	CreatedAt    time.Time
}

// ClaimSignal is one fraud signal raised on a claim.
type ClaimSignal struct {
	ClaimID   int64 `gorm:"primaryKey"`
	CaseID    int64
	Code      string `gorm:"primaryKey"`
	Weight    int
	Detail    string
	CreatedAt time.Time
}

// ClaimReviewPending is a claim whose duplicate detection and fraud signals have not run yet.
type ClaimReviewPending struct {
	ClaimID   int64 `gorm:"primaryKey;autoIncrement:false"`
	CaseID    int64
	CreatedAt time.Time
}

// TableName is the table's name (not the plural gorm would make of it).
func (ClaimReviewPending) TableName() string { return "claim_review_pending" }

// User is a staff member who signs in with email and password (bcrypt hash).
type User struct {
	ID           int64 `gorm:"primaryKey"`
	Email        string
	Role         string
	PasswordHash string
	CreatedAt    time.Time
	DisabledAt   *time.Time
	LastSignInAt *time.Time
}

// Session is a signed-in user's session; only the SHA-256 of the cookie's secret is stored.
type Session struct {
	ID         int64 `gorm:"primaryKey"`
	UserID     int64
	TokenHash  []byte
	CreatedAt  time.Time
	LastSeenAt time.Time
	IP         string
}
