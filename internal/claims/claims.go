// Package claims is the one path a claim takes into claimdesk, whatever the channel: normalize
// and validate (intake), decide each item's eligibility against the case's windows (damages),
// store it idempotently (store). It also owns changes that re-decide stored claims.
package claims

import (
	"context"
	"fmt"
	"time"

	"github.com/claimdesk/claimdesk/damages"
	"github.com/claimdesk/claimdesk/internal/apperr"
	"github.com/claimdesk/claimdesk/internal/auth"
	"github.com/claimdesk/claimdesk/internal/intake"
	"github.com/claimdesk/claimdesk/internal/store"
	"github.com/claimdesk/claimdesk/models"
)

// Channels a claim can arrive by.
const (
	ChannelWeb    = "web"
	ChannelAPI    = "api"
	ChannelImport = "import"
)

// StatusReceived is the status of a new claim.
const StatusReceived = "received"

// ConsentVersion is the version of the consent text claimants agree to.
const ConsentVersion = "2022-10-v1"

// Service submits and re-evaluates claims.
type Service struct {
	Store *store.Store
	Now   func() time.Time
}

// Meta is what the channel knows about a submission besides its content.
type Meta struct {
	Channel  string
	IP       string
	ImportID *int64
}

// Result is a submitted (or validated) claim.
type Result struct {
	Case    *store.Case
	Claim   *models.Claim
	Created bool
	// AccessCode is the claimant's code in clear, only when the claim was just created.
	AccessCode string
}

// Submit validates and stores a claim. A claim whose external_ref is already stored with the
// same content is returned as it is (Created false); with other content it is a conflict.
func (s *Service) Submit(ctx context.Context, caseSlug string, in intake.ClaimInput, meta Meta) (*Result, error) {
	res, err := s.prepare(ctx, caseSlug, in, meta)
	if err != nil {
		return nil, err
	}
	code := auth.NewAccessCode()
	res.Claim.Reference = auth.NewReference()
	res.Claim.AccessCodeHash = auth.HashAccessCode(code)
	stored, created, err := s.Store.CreateClaim(ctx, res.Claim)
	if err != nil {
		return nil, err
	}
	res.Claim, res.Created = stored, created
	if created {
		res.AccessCode = code
	}
	return res, nil
}

// Problems returns decodeErr (the shape errors of the document in was decoded from) together
// with everything else wrong with in, so a client learns of every failing field at once.
func (s *Service) Problems(ctx context.Context, caseSlug string, in intake.ClaimInput, decodeErr error) error {
	if !apperr.Is(decodeErr, apperr.Invalid) {
		return decodeErr
	}
	_, err := s.prepare(ctx, caseSlug, in, Meta{})
	return apperr.MergeFields(decodeErr, err)
}

// Validate answers as Submit would, storing nothing.
func (s *Service) Validate(ctx context.Context, caseSlug string, in intake.ClaimInput, meta Meta) (*Result, error) {
	return s.prepare(ctx, caseSlug, in, meta)
}

func (s *Service) prepare(ctx context.Context, caseSlug string, in intake.ClaimInput, meta Meta) (*Result, error) {
	c, err := s.Store.Case(ctx, caseSlug)
	if err != nil {
		return nil, err
	}
	now := s.Now().UTC().Truncate(time.Microsecond)
	norm, err := intake.Normalize(in, c.Domain(), now)
	if err != nil {
		return nil, err
	}
	m := toModel(norm, c.ID, now, meta)
	decideItems(c, damages.PerFeature, m.Items)
	return &Result{Case: c, Claim: m}, nil
}

func toModel(n intake.Claim, caseID int64, now time.Time, meta Meta) *models.Claim {
	m := &models.Claim{
		CaseID: caseID, ContentHash: n.ContentHash(), Status: StatusReceived, Channel: meta.Channel,
		ClaimantName: n.Claimant.Name, ClaimantEmail: n.Claimant.Email, ClaimantPhone: n.Claimant.Phone, ClaimantLocale: n.Claimant.Locale,
		ConsentAt: now, ConsentVersion: ConsentVersion, ConsentIP: meta.IP, ImportID: meta.ImportID,
		SubmittedAt: now, UpdatedAt: now,
	}
	if n.ExternalRef != "" {
		ref := n.ExternalRef
		m.ExternalRef = &ref
	}
	m.Items = make([]models.ClaimItem, len(n.Items))
	for i, it := range n.Items {
		m.Items[i] = models.ClaimItem{
			CaseID: caseID, Position: i, Kind: it.Kind, Service: it.Service, Feature: it.Feature,
			OccurredAt: it.OccurredAt, EndedAt: it.EndedAt, Failure: it.Failure, Purpose: it.Purpose,
			ExpectedFareKRW: it.ExpectedFareKRW, AlternativeCostKRW: it.AlternativeCostKRW, AmountKRW: it.AmountKRW, LossKRW: it.LossKRW,
			Documented: it.Documented, Description: it.Description,
		}
	}
	return m
}

// ItemPeriod is the period of a stored item.
func ItemPeriod(it *models.ClaimItem) damages.Period {
	p := damages.Period{Start: it.OccurredAt.UTC()}
	if it.EndedAt != nil {
		p.End = it.EndedAt.UTC()
	}
	return p
}

// Decide returns the eligibility of a stored item under policy.
func Decide(c *store.Case, windows []damages.Window, policy damages.Policy, it *models.ClaimItem) damages.Decision {
	return damages.Decide(ItemPeriod(it), damages.Applicable(policy, it.Service, it.Feature, windows))
}

// decideItems sets the eligibility columns of items and reports how many changed status.
func decideItems(c *store.Case, policy damages.Policy, items []models.ClaimItem) int {
	windows := c.DomainWindows()
	changed := 0
	for i := range items {
		it := &items[i]
		d := Decide(c, windows, policy, it)
		if it.Eligibility != string(d.Status) {
			changed++
		}
		it.Eligibility, it.EligibilityCode, it.WindowID = string(d.Status), d.Code, nil
		if d.Window != nil && d.Window.ID != 0 {
			id := d.Window.ID
			it.WindowID = &id
		}
	}
	return changed
}

// WindowInput is a window as a client sends it.
type WindowInput struct {
	Service    string `json:"service"`
	Feature    string `json:"feature"`
	Severity   string `json:"severity"`
	Start      string `json:"start"`
	End        string `json:"end"`
	Source     string `json:"source"`
	Confidence string `json:"confidence"`
}

// ReplaceWindows validates a full set of windows and replaces the case's windows with it,
// re-deciding every stored item, in one transaction. Paths of errors are "windows[i].field".
func (s *Service) ReplaceWindows(ctx context.Context, caseSlug string, in []WindowInput) (items, changed int, err error) {
	c, err := s.Store.Case(ctx, caseSlug)
	if err != nil {
		return 0, 0, err
	}
	ws, err := ParseWindows(in, c)
	if err != nil {
		return 0, 0, err
	}
	return s.Store.ReplaceWindows(ctx, c.ID, ws, func(stored []models.OutageWindow) store.Reevaluate {
		nc := *c
		nc.Windows = stored
		return func(cl *models.Claim) bool {
			return decideItems(&nc, damages.PerFeature, cl.Items) > 0
		}
	})
}

// ParseWindows turns client windows into stored windows, or a validation error listing every
// problem (times unreadable, unknown service or feature, overlaps).
func ParseWindows(in []WindowInput, c *store.Case) ([]models.OutageWindow, error) {
	var fields []apperr.FieldError
	ws := make([]models.OutageWindow, len(in))
	dws := make([]damages.Window, len(in))
	for i, w := range in {
		ws[i] = models.OutageWindow{Service: w.Service, Feature: w.Feature, Severity: w.Severity, Source: w.Source, Confidence: w.Confidence}
		for _, t := range []struct {
			name, val string
			dst       *time.Time
		}{{"start", w.Start, &ws[i].StartAt}, {"end", w.End, &ws[i].EndAt}} {
			if t.val == "" {
				continue // reported as required by ValidateWindows
			}
			v, err := intake.ParseInstant(t.val, c.Location)
			if err != nil {
				fields = append(fields, apperr.FieldError{Path: windowPath(i, t.name), Code: apperr.FieldInvalidFormat, Params: map[string]string{"hint": "hint_time"}})
				continue
			}
			*t.dst = v
		}
		dws[i] = damages.Window{Service: w.Service, Feature: w.Feature, Severity: damages.Severity(w.Severity), Start: ws[i].StartAt, End: ws[i].EndAt}
	}
	if len(fields) == 0 {
		for _, p := range damages.ValidateWindows(dws, c.Domain()) {
			if other, ok := p.Params["other"]; ok {
				p.Params["other"] = "windows" + other
			}
			fields = append(fields, apperr.FieldError{Path: "windows" + p.Path, Code: p.Code, Params: p.Params})
		}
	}
	if len(fields) > 0 {
		return nil, apperr.Validation(fields)
	}
	return ws, nil
}

func windowPath(i int, field string) string { return fmt.Sprintf("windows[%d].%s", i, field) }
