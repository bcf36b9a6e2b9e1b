package models

import "time"

// Import is one batch upload (CSV or NDJSON) and what became of it.
type Import struct {
	ID              int64 `gorm:"primaryKey"`
	CaseID          int64
	TokenID         *int64
	CreatedBy       string
	Format          string
	DryRun          bool
	MaxErrorRate    *float64
	Attestation     string
	Status          string
	Reason          string
	ReasonParams    string
	Header          string
	SizeBytes       int64
	RowsRead        int64
	ClaimsCreated   int64
	ClaimsUnchanged int64
	ClaimsRejected  int64
	RowsRejected    int64
	CancelRequested bool
	Attempts        int
	CreatedAt       time.Time
	StartedAt       *time.Time
	FinishedAt      *time.Time
}

// ImportChunk is a piece of an upload, in order of seq.
type ImportChunk struct {
	ImportID int64 `gorm:"primaryKey;autoIncrement:false"`
	Seq      int   `gorm:"primaryKey;autoIncrement:false"`
	Data     []byte
}

// ImportError is one problem of a rejected row: the row as sent (Raw) and where and why.
type ImportError struct {
	ID          int64 `gorm:"primaryKey"`
	ImportID    int64
	ErrorRow    int64
	ErrorColumn string
	ErrorCode   string
	MessageKey  string
	Params      string
	Raw         string
}

// Job is a unit of background work on the queue.
type Job struct {
	ID          int64 `gorm:"primaryKey"`
	Kind        string
	RefID       int64
	Status      string
	Attempts    int
	RunAfter    int64
	LockedBy    string
	LockedUntil int64
	LastError   string
	CreatedAt   time.Time
	FinishedAt  *time.Time
}
