// Package models holds the gorm table structs: the schema in Go and nothing else. The schema
// itself is made by the SQL files in migrations/; a test checks that the two agree.
package models

import "time"

// Case is one incident a class action is about (the Kakao outage of 2022, say).
type Case struct {
	ID        int64 `gorm:"primaryKey"`
	Slug      string
	NameKo    string
	NameEn    string
	TimeZone  string
	CreatedAt time.Time
	// Revision counts changes of the case's windows and rules.
	Revision int64
}

// CaseService is a service of a case and the item kinds it accepts (comma-separated).
type CaseService struct {
	ID       int64 `gorm:"primaryKey"`
	CaseID   int64
	Slug     string
	NameKo   string
	NameEn   string
	Kinds    string
	Position int
}

// CaseFeature is a feature of a service: the unit outage windows are recorded for.
type CaseFeature struct {
	ID        int64 `gorm:"primaryKey"`
	ServiceID int64
	Slug      string
	NameKo    string
	NameEn    string
	Position  int
}

// OutageWindow is a half-open period [StartAt, EndAt) in which a feature was down or degraded.
type OutageWindow struct {
	ID         int64 `gorm:"primaryKey"`
	CaseID     int64
	Service    string
	Feature    string
	Severity   string
	StartAt    time.Time
	EndAt      time.Time
	Source     string
	Confidence string
}

// Claim is one filing by one claimant. Claimant columns are personal data: response types
// never embed this struct.
type Claim struct {
	ID             int64 `gorm:"primaryKey"`
	CaseID         int64
	Reference      string
	AccessCodeHash []byte
	ExternalRef    *string
	ContentHash    string
	Status         string
	Channel        string
	ClaimantName   string
	ClaimantEmail  string
	ClaimantPhone  string
	ClaimantLocale string
	ConsentAt      time.Time
	ConsentVersion string
	ConsentIP      string
	ImportID       *int64
	RulesVersion   *int
	ValuedAsOf     *string
	PrincipalKRW   *int64 `gorm:"column:principal_krw"`
	InterestKRW    *int64 `gorm:"column:interest_krw"`
	EstimateKRW    *int64 `gorm:"column:estimate_krw"`
	// CureDeadline is set while the claim is deficient; DuplicateOf names the claim it
	// duplicates; FraudScore sums the weights of its signals (see ClaimSignal).
	CureDeadline *time.Time
	DuplicateOf  *int64
	FraudScore   int
	SubmittedAt  time.Time
	UpdatedAt    time.Time
	// ErasedAt is when the claim's personal data was removed; nil while it is kept.
	ErasedAt *time.Time
	// SessionsEndedAt is when the claimant's status-page sessions were last ended (sign-out,
	// withdrawal, erasure): a session begun at or before it is refused. Nil: never.
	SessionsEndedAt *time.Time
	Items           []ClaimItem `gorm:"foreignKey:ClaimID"`
}

// ClaimItem is one incident of a claim with its eligibility decision and valuation. It is
// the claim's line at Position (from 0): ClaimID and Position are its key.
type ClaimItem struct {
	ClaimID            int64 `gorm:"primaryKey;autoIncrement:false"`
	CaseID             int64
	Position           int `gorm:"primaryKey;autoIncrement:false"`
	Kind               string
	Service            string
	Feature            string
	OccurredAt         time.Time
	EndedAt            *time.Time
	Failure            string
	Purpose            string
	ExpectedFareKRW    int64 `gorm:"column:expected_fare_krw"`
	AlternativeCostKRW int64 `gorm:"column:alternative_cost_krw"`
	AmountKRW          int64 `gorm:"column:amount_krw"`
	LossKRW            int64 `gorm:"column:loss_krw"`
	Documented         bool
	Description        string
	Eligibility        string
	EligibilityCode    string
	WindowID           *int64
	PrincipalKRW       *int64 `gorm:"column:principal_krw"`
	InterestKRW        *int64 `gorm:"column:interest_krw"`
}

// ItemNumber is the id the valuation gives the item at position of its claim (damages.Item.ID):
// its number in the claim, from 1.
func ItemNumber(position int) int64 { return int64(position) + 1 }

// ItemPosition is the position in its claim of the valuation's item id (ItemNumber's inverse).
func ItemPosition(id int64) int { return int(id) - 1 }

// APIToken is a bearer token of a REST client. Only the SHA-256 of the token is stored.
type APIToken struct {
	ID         int64 `gorm:"primaryKey"`
	Name       string
	Role       string
	TokenHash  []byte
	CreatedAt  time.Time
	LastUsedAt *time.Time
	RevokedAt  *time.Time
}

// RuleSet is one version of a case's damages rules (JSON as counsel wrote it).
type RuleSet struct {
	ID        int64 `gorm:"primaryKey"`
	CaseID    int64
	Version   int
	Rules     string
	CreatedAt time.Time
	CreatedBy string
}
