package models

import "time"

// Export is a background export: what was asked (entity, format, params as JSON), by whom,
// and how far it got. Its file is in ExportChunk rows until ExpiresAt.
type Export struct {
	ID         int64 `gorm:"primaryKey"`
	CaseID     int64
	TokenID    *int64
	CreatedBy  string
	Entity     string
	Format     string
	Params     string
	Status     string
	RowsTotal  int64
	RowsDone   int64
	SizeBytes  int64
	Error      string
	CreatedAt  time.Time
	StartedAt  *time.Time
	FinishedAt *time.Time
	ExpiresAt  time.Time
}

// ExportChunk is one piece of an export's file, in order of Seq.
type ExportChunk struct {
	ExportID int64 `gorm:"primaryKey"`
	Seq      int   `gorm:"primaryKey"`
	Data     []byte
}
