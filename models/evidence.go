package models

import "time"

// Evidence is a file a claimant uploaded for a claim (a receipt, a screenshot). The bytes are
// kept apart, behind a storage interface, under StorageKey.
type Evidence struct {
	ID          int64 `gorm:"primaryKey"`
	ClaimID     int64
	CaseID      int64
	FileName    string
	ContentType string
	SizeBytes   int64
	SHA256      string `gorm:"column:sha256"`
	StorageKey  string
	UploadedIP  string `gorm:"column:uploaded_ip"`
	CreatedAt   time.Time
}

// TableName keeps the table's name singular, as in the migration.
func (Evidence) TableName() string { return "evidence" }

// EvidenceBlob is the content of an evidence file when the database stores it.
type EvidenceBlob struct {
	StorageKey string `gorm:"primaryKey"`
	Content    []byte
}
