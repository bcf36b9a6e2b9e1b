package store

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"gorm.io/gorm"

	"github.com/claimdesk/claimdesk/damages"
	"github.com/claimdesk/claimdesk/internal/apperr"
	"github.com/claimdesk/claimdesk/models"
)

// Case is a case with its services, features and windows, as the rest of the service reads it.
type Case struct {
	ID       int64
	Revision int64
	Slug     string
	NameKo   string
	NameEn   string
	TimeZone string
	Location *time.Location
	Services []Service
	Windows  []models.OutageWindow

	// The domain's view of the case, made once by loadCase (every claim submitted reads it):
	// shared, read-only.
	domain        *damages.Case
	domainWindows []damages.Window
	// memo keeps values made from this snapshot alone (see Memo).
	memo sync.Map
}

// Memo returns the value kept under key, made by make the first time: values that depend on
// the case alone (claims.EligibilityText's sentences) are made once per snapshot, since a
// case that changes is loaded again, not changed in place.
func (c *Case) Memo(key any, make func() any) any {
	if v, ok := c.memo.Load(key); ok {
		return v
	}
	v, _ := c.memo.LoadOrStore(key, make())
	return v
}

// Service is a service of a case.
type Service struct {
	Slug     string
	NameKo   string
	NameEn   string
	Kinds    []string
	Features []Feature
}

// Feature is a feature of a service.
type Feature struct {
	Slug   string
	NameKo string
	NameEn string
}

// Domain returns the case as the domain sees it.
func (c *Case) Domain() *damages.Case {
	if c.domain != nil {
		return c.domain
	}
	d := &damages.Case{Slug: c.Slug, Location: c.Location, Services: make([]damages.Service, len(c.Services))}
	for i, s := range c.Services {
		ds := damages.Service{Slug: s.Slug, Kinds: s.Kinds, Features: make([]string, len(s.Features))}
		for j, f := range s.Features {
			ds.Features[j] = f.Slug
		}
		d.Services[i] = ds
	}
	return d
}

// DomainWindows returns the windows as the domain sees them (shared: not to be modified).
func (c *Case) DomainWindows() []damages.Window {
	if c.domainWindows != nil {
		return c.domainWindows
	}
	return DomainWindows(c.Windows)
}

// DomainWindows converts stored windows.
func DomainWindows(ws []models.OutageWindow) []damages.Window {
	out := make([]damages.Window, len(ws))
	for i, w := range ws {
		out[i] = damages.Window{ID: w.ID, Service: w.Service, Feature: w.Feature, Severity: damages.Severity(w.Severity),
			Start: w.StartAt.UTC(), End: w.EndAt.UTC(), Source: w.Source}
	}
	return out
}

// Cases lists every case (without windows).
func (s *Store) Cases(ctx context.Context) ([]models.Case, error) {
	var cs []models.Case
	err := s.db.WithContext(ctx).Order("id").Find(&cs).Error
	return cs, translate(err)
}

// Case loads a case by slug with its services, features and windows.
func (s *Store) Case(ctx context.Context, slug string) (*Case, error) {
	return loadCase(s.db.WithContext(ctx), slug)
}

// CaseSlug returns the slug of the case with id.
func (s *Store) CaseSlug(ctx context.Context, id int64) (string, error) {
	var m models.Case
	err := s.db.WithContext(ctx).Select("slug").Where("id = ?", id).Take(&m).Error
	return m.Slug, translate(err)
}

// CaseByID loads a case by id.
func (s *Store) CaseByID(ctx context.Context, id int64) (*Case, error) {
	var m models.Case
	if err := s.db.WithContext(ctx).Select("slug").Where("id = ?", id).Take(&m).Error; err != nil {
		return nil, translate(err)
	}
	return loadCase(s.db.WithContext(ctx), m.Slug)
}

func loadCase(db *gorm.DB, slug string) (*Case, error) {
	var m models.Case
	if err := db.Where("slug = ?", slug).Take(&m).Error; err != nil {
		err = translate(err)
		if apperr.Is(err, apperr.NotFound) {
			return nil, &apperr.Error{Code: apperr.NotFound, Message: "case_not_found", Params: map[string]string{"case": slug}}
		}
		return nil, err
	}
	loc, err := time.LoadLocation(m.TimeZone)
	if err != nil {
		return nil, fmt.Errorf("case %s: time zone %q: %w", slug, m.TimeZone, err)
	}
	c := &Case{ID: m.ID, Revision: m.Revision, Slug: m.Slug, NameKo: m.NameKo, NameEn: m.NameEn, TimeZone: m.TimeZone, Location: loc}
	var svcs []models.CaseService
	if err := db.Where("case_id = ?", m.ID).Order("position, id").Find(&svcs).Error; err != nil {
		return nil, translate(err)
	}
	var feats []models.CaseFeature
	if err := db.Joins("JOIN case_services ON case_services.id = case_features.service_id").
		Where("case_services.case_id = ?", m.ID).Order("case_features.position, case_features.id").Find(&feats).Error; err != nil {
		return nil, translate(err)
	}
	byService := map[int64][]Feature{}
	for _, f := range feats {
		byService[f.ServiceID] = append(byService[f.ServiceID], Feature{Slug: f.Slug, NameKo: f.NameKo, NameEn: f.NameEn})
	}
	for _, sv := range svcs {
		c.Services = append(c.Services, Service{Slug: sv.Slug, NameKo: sv.NameKo, NameEn: sv.NameEn,
			Kinds: strings.Split(sv.Kinds, ","), Features: byService[sv.ID]})
	}
	if err := db.Where("case_id = ?", m.ID).Order("service, feature, start_at").Find(&c.Windows).Error; err != nil {
		return nil, translate(err)
	}
	for i := range c.Windows {
		c.Windows[i].StartAt, c.Windows[i].EndAt = c.Windows[i].StartAt.UTC(), c.Windows[i].EndAt.UTC()
	}
	c.domain, c.domainWindows = c.Domain(), DomainWindows(c.Windows)
	return c, nil
}

// NewCase is a case to create, with its first rule set (JSON).
type NewCase struct {
	Slug     string
	NameKo   string
	NameEn   string
	TimeZone string
	Services []Service
	Windows  []models.OutageWindow
	Rules    string
}

// EnsureCase creates the case unless one with its slug exists. It reports whether it created it.
func (s *Store) EnsureCase(ctx context.Context, nc NewCase) (bool, error) {
	created := false
	err := s.InTx(ctx, func(tx *gorm.DB) error {
		var n int64
		if err := tx.Model(&models.Case{}).Where("slug = ?", nc.Slug).Count(&n).Error; err != nil {
			return err
		}
		if n > 0 {
			return nil
		}
		m := models.Case{Slug: nc.Slug, NameKo: nc.NameKo, NameEn: nc.NameEn, TimeZone: nc.TimeZone}
		if err := tx.Create(&m).Error; err != nil {
			return err
		}
		for i, sv := range nc.Services {
			ms := models.CaseService{CaseID: m.ID, Slug: sv.Slug, NameKo: sv.NameKo, NameEn: sv.NameEn, Kinds: strings.Join(sv.Kinds, ","), Position: i}
			if err := tx.Create(&ms).Error; err != nil {
				return err
			}
			for j, f := range sv.Features {
				if err := tx.Create(&models.CaseFeature{ServiceID: ms.ID, Slug: f.Slug, NameKo: f.NameKo, NameEn: f.NameEn, Position: j}).Error; err != nil {
					return err
				}
			}
		}
		for _, w := range nc.Windows {
			w.ID, w.CaseID = 0, m.ID
			w.StartAt, w.EndAt = w.StartAt.UTC(), w.EndAt.UTC()
			if err := tx.Create(&w).Error; err != nil {
				return err
			}
		}
		if nc.Rules != "" {
			if err := tx.Create(&models.RuleSet{CaseID: m.ID, Version: 1, Rules: nc.Rules, CreatedAt: time.Now().UTC(), CreatedBy: "seed"}).Error; err != nil {
				return err
			}
		}
		created = true
		return nil
	})
	return created, err
}

// caseLockSpace is the first key of the advisory locks that order claim inserts (shared)
// against changes of a case's windows and rules (exclusive); the second key is the case id.
const caseLockSpace int32 = 0x63617365 // "case"

// CaseLockWait bounds how long a change of a case's windows or rules waits for the case's
// lock on PostgreSQL. Single claims hold it shared for a moment; an import holds it for its
// whole transaction (minutes for a million rows). While a change waits, PostgreSQL queues every
// new claim insert behind it, so a change that would wait longer gives up (503, case_busy)
// rather than stall intake until the import ends.
const CaseLockWait = 2 * time.Second

// bumpRevision counts a change of a case's windows or rules, and keeps claims decided under
// the old revision from being stored. Called first in the transaction that makes the change.
// With ifRevision (not nil) the change is refused (409, case_changed) unless the case is still
// at that revision: a form edited from the case as it was does not undo a change made since.
// On PostgreSQL it takes the case's advisory lock exclusively until the change commits: claim
// inserts take it shared (see insertClaimPG), so they wait and then see the new revision.
// On SQLite the write transaction (BEGIN IMMEDIATE) already excludes every other writer.
func bumpRevision(tx *gorm.DB, dialect Dialect, caseID int64, ifRevision *int64) error {
	if dialect == Postgres {
		if err := tx.Exec(lockTimeout(CaseLockWait, true)).Error; err != nil {
			return err
		}
		err := tx.Exec("SELECT pg_advisory_xact_lock(?, ?)", caseLockSpace, int32(caseID)).Error
		if isLockTimeout(err) {
			return apperr.New(apperr.Unavailable, "case_busy")
		}
		if err != nil {
			return err
		}
		if err := tx.Exec("SET LOCAL lock_timeout = DEFAULT").Error; err != nil {
			return err
		}
	}
	if ifRevision == nil {
		return tx.Exec("UPDATE cases SET revision = revision + 1 WHERE id = ?", caseID).Error
	}
	res := tx.Exec("UPDATE cases SET revision = revision + 1 WHERE id = ? AND revision = ?", caseID, *ifRevision)
	if res.Error == nil && res.RowsAffected == 0 {
		return ErrCaseChanged
	}
	return res.Error
}

// ErrCaseChanged refuses a change of a case's windows or rules edited from a revision the case
// has moved past (409, case_changed).
var ErrCaseChanged = apperr.New(apperr.Conflict, "case_changed")
