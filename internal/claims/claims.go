// Package claims is the one path a claim takes into claimdesk, whatever the channel: normalize
// and validate (intake), decide each item's eligibility against the case's windows (damages),
// store it idempotently (store). It also owns changes that re-decide stored claims.
package claims

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/claimdesk/claimdesk/damages"
	"github.com/claimdesk/claimdesk/internal/apperr"
	"github.com/claimdesk/claimdesk/internal/audit"
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

// Service submits, values and re-evaluates claims.
type Service struct {
	Store *store.Store
	Now   func() time.Time
	// Background runs work that outlives a request (re-valuation after a rule change); nil
	// runs nothing, and the work is then done by the next RevalueAll (at start, and
	// periodically: RunRevaluation).
	Background func(func(ctx context.Context))
	// Created, when set, is told of every claim stored, by channel (metrics).
	Created func(channel string, n int)
	// Grouped, when set, is told of the size of every group of claims written together (see
	// storeGrouped; metrics).
	Grouped func(n int)
	// Review configures duplicate detection and fraud signals; nil means the defaults.
	Review *ReviewConfig
	// ReviewError, when set, is told of a detection pass that failed after a submission.
	ReviewError func(error)

	detector    detector // the queue of claims waiting for duplicate detection and fraud signals
	group       group    // claims waiting to be stored together (see storeGrouped)
	snapshots   sync.Map // case slug -> *snapshot
	medianCache sync.Map // case id -> medianEntry
	mediansMu   sync.Mutex
	// revaluing holds the cases whose revaluation runs in this Service, each with whether it
	// is to run once more when it ends (see revalueInBackground).
	revaluingMu sync.Mutex
	revaluing   map[string]bool
}

// Meta is what the channel knows about a submission besides its content.
type Meta struct {
	Channel  string
	IP       string
	ImportID *int64
	// Actor is who submits, for the audit trail; zero means the claimant from IP.
	Actor audit.Actor
	// AccessCode, when set, is the new claim's access code instead of a random one. The web
	// form sets one derived from its draft and its secret (as unguessable as a random one), so
	// that a second press of its button, which finds the claim the first stored, can show the
	// claimant the code again: a random code exists only in the answer to the first press.
	// A claim found already stored keeps the code it was stored with.
	AccessCode string
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
//
// A claim that has arrived whole is stored, or refused, whether or not its sender is still
// there (within groupTimeout), as in a group: ctx's cancellation does not reach the store. A
// transaction cut short at its commit may have committed all the same, and the answer would
// say it did not; and Go's server cancels a request whose client closed its sending side
// after the body, which an answer can still reach.
func (s *Service) Submit(ctx context.Context, caseSlug string, in intake.ClaimInput, meta Meta) (*Result, error) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), groupTimeout)
	defer cancel()
	// A claim is decided against a snapshot of the case; if the windows or rules change before
	// it is stored, the store refuses it (ErrStale) and it is decided again on fresh data.
	for attempt := 0; attempt < 3; attempt++ {
		b, err := s.Builder(ctx, caseSlug)
		if err != nil {
			return nil, err
		}
		m, err := b.Build(in, meta)
		if err != nil {
			return nil, err
		}
		code := meta.AccessCode
		if code == "" {
			code = auth.NewAccessCode()
		}
		m.Reference = auth.NewReference()
		m.AccessCodeHash = auth.HashAccessCode(code)
		ev, err := s.submitEvent(m, meta)
		if err != nil {
			return nil, err
		}
		stored, created := m, true
		if m.ExternalRef == nil {
			err = s.storeGrouped(store.NewClaim{Claim: m, Event: ev}, b.Case.Revision)
		} else {
			// Idempotent by external_ref: looked up, then stored alone.
			stored, created, err = s.Store.CreateClaim(ctx, m, b.Case.Revision, ev)
		}
		if errors.Is(err, store.ErrStale) {
			s.forget(caseSlug)
			continue
		}
		if err != nil {
			return nil, err
		}
		res := &Result{Case: b.Case, Claim: stored, Created: created}
		if created {
			res.AccessCode = code
			s.created(meta.Channel, 1)
			s.afterCreate(ctx, b.Case, stored)
		}
		return res, nil
	}
	return nil, apperr.Wrap(apperr.Unavailable, "", store.ErrStale)
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

// created tells the Created hook of stored claims.
func (s *Service) created(channel string, n int) {
	if s.Created != nil && n > 0 {
		s.Created(channel, n)
	}
}

// Validate answers as Submit would, storing nothing.
func (s *Service) Validate(ctx context.Context, caseSlug string, in intake.ClaimInput, meta Meta) (*Result, error) {
	return s.prepare(ctx, caseSlug, in, meta)
}

func (s *Service) prepare(ctx context.Context, caseSlug string, in intake.ClaimInput, meta Meta) (*Result, error) {
	b, err := s.Builder(ctx, caseSlug)
	if err != nil {
		return nil, err
	}
	m, err := b.Build(in, meta)
	if err != nil {
		return nil, err
	}
	return &Result{Case: b.Case, Claim: m}, nil
}

// Builder turns claim inputs of one case into claims ready to store, from one snapshot of the
// case (windows, rules, at Case.Revision) and one clock reading. Bulk paths (imports) take one
// Builder for a whole file so every row is judged the same way. It is immutable: safe to share.
type Builder struct {
	Case   *store.Case
	Rules  *Ruleset
	valuer *damages.Valuer
	now    time.Time
}

// snapshotTTL bounds how long a case snapshot is reused without asking the database. Changes
// made through this process drop it at once; changes made by another instance are seen within
// the TTL by answers that store nothing (validate), and at once by submissions, whose insert
// checks the revision.
const snapshotTTL = 2 * time.Second

type snapshot struct {
	b      *Builder
	loaded time.Time
	day    damages.Date
}

// Builder returns a builder for the case: a cached snapshot when it is fresh, else it loads the
// case and its active rules.
func (s *Service) Builder(ctx context.Context, caseSlug string) (*Builder, error) {
	now := s.Now()
	if v, ok := s.snapshots.Load(caseSlug); ok {
		snap := v.(*snapshot)
		if age := now.Sub(snap.loaded); age >= 0 && age < snapshotTTL && snap.day == damages.DateOf(now, snap.b.Case.Location) {
			b := *snap.b
			b.now = now.UTC().Truncate(time.Microsecond)
			return &b, nil
		}
	}
	b, err := s.load(ctx, caseSlug, now)
	if err != nil {
		return nil, err
	}
	// The valuer depends on the day when the rules leave as_of open, hence the day in the key.
	s.snapshots.Store(caseSlug, &snapshot{b: b, loaded: now, day: damages.DateOf(now, b.Case.Location)})
	return b, nil
}

// load reads the case and its active rules as they are now, and makes their builder. The case
// (with its revision) is read before the rules: a rule change committed between the two moves
// the revision, which whoever stores with the builder checks.
func (s *Service) load(ctx context.Context, caseSlug string, now time.Time) (*Builder, error) {
	c, err := s.Store.Case(ctx, caseSlug)
	if err != nil {
		return nil, err
	}
	rs, err := s.ActiveRules(ctx, c)
	if err != nil {
		return nil, err
	}
	return &Builder{Case: c, Rules: rs, valuer: s.Valuer(c, c.DomainWindows(), rs.Rules), now: now.UTC().Truncate(time.Microsecond)}, nil
}

// Case returns the case from its snapshot (see Builder): read paths need not reload it on
// every request.
func (s *Service) Case(ctx context.Context, slug string) (*store.Case, error) {
	b, err := s.Builder(ctx, slug)
	if err != nil {
		return nil, err
	}
	return b.Case, nil
}

// CaseByID is Case for a case known by id.
func (s *Service) CaseByID(ctx context.Context, id int64) (*store.Case, error) {
	var slug string
	s.snapshots.Range(func(k, v any) bool {
		if v.(*snapshot).b.Case.ID == id {
			slug = k.(string)
			return false
		}
		return true
	})
	if slug == "" {
		var err error
		if slug, err = s.Store.CaseSlug(ctx, id); err != nil {
			return nil, err
		}
	}
	return s.Case(ctx, slug)
}

// forget drops the snapshot of a case after a change of its windows or rules.
func (s *Service) forget(caseSlug string) { s.snapshots.Delete(caseSlug) }

// Now is the instant the builder stamps claims with.
func (b *Builder) Now() time.Time { return b.now }

// Build validates in and returns the claim to store with each item's eligibility decided and
// the claim valued under the active rules, or an apperr.Invalid error listing every failing
// field. Reference and access code are not set.
func (b *Builder) Build(in intake.ClaimInput, meta Meta) (*models.Claim, error) {
	norm, err := intake.Normalize(in, b.Case.Domain(), b.now)
	if err != nil {
		return nil, err
	}
	m := toModel(norm, b.Case.ID, b.now, meta)
	applyValuation(b.valuer, b.Rules.Version, m)
	return m, nil
}

func toModel(n intake.Claim, caseID int64, now time.Time, meta Meta) *models.Claim {
	m := &models.Claim{
		CaseID: caseID, Status: StatusReceived, Channel: meta.Channel,
		ClaimantName: n.Claimant.Name, ClaimantEmail: n.Claimant.Email, ClaimantPhone: n.Claimant.Phone, ClaimantLocale: n.Claimant.Locale,
		ConsentAt: now, ConsentVersion: ConsentVersion, ConsentIP: meta.IP, ImportID: meta.ImportID,
		SubmittedAt: now, UpdatedAt: now,
	}
	if n.ExternalRef != "" {
		// The hash tells a claim sent again under its external_ref from another claim under
		// the same one; a claim without one (an API claim may have none; the web form always
		// sends one) is never compared, and is stored without it (the hash, JSON and SHA-256
		// of the whole claim, was 5% of the CPU of such a claim).
		ref := n.ExternalRef
		m.ExternalRef, m.ContentHash = &ref, n.ContentHash()
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
func Decide(windows []damages.Window, policy damages.Policy, it *models.ClaimItem) damages.Decision {
	return damages.Decide(ItemPeriod(it), damages.Applicable(policy, it.Service, it.Feature, windows))
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
// re-deciding and re-valuing every stored claim, and records the change (windows before and
// after, what was re-decided) in the audit trail as actor, all in one transaction. Paths of
// errors are "windows[i].field".
func (s *Service) ReplaceWindows(ctx context.Context, caseSlug string, in []WindowInput, actor audit.Actor) (items, changed int, err error) {
	return s.replaceWindows(ctx, caseSlug, nil, in, actor)
}

// ReplaceWindowsFrom is ReplaceWindows of windows edited from the case at revision (a form):
// refused (store.ErrCaseChanged) when the case's windows or rules have changed since, which
// the edit would otherwise undo. A nil revision is ReplaceWindows.
func (s *Service) ReplaceWindowsFrom(ctx context.Context, caseSlug string, revision *int64, in []WindowInput, actor audit.Actor) (items, changed int, err error) {
	return s.replaceWindows(ctx, caseSlug, revision, in, actor)
}

// replaceWindows replaces the windows under the rules read with the case: the change is stored
// only if the case is still at the revision read (revision, when the caller edited from one,
// else the case's own), so a rule change committed in between is never undone by claims
// re-valued under the old rules. Without a caller's revision, such a change has the windows
// replaced again on the case as it now is (revalueAttempts times at most).
func (s *Service) replaceWindows(ctx context.Context, caseSlug string, revision *int64, in []WindowInput, actor audit.Actor) (items, changed int, err error) {
	defer s.forget(caseSlug)
	for attempt := 1; ; attempt++ {
		c, err := s.Store.Case(ctx, caseSlug)
		if err != nil {
			return 0, 0, err
		}
		ws, err := ParseWindows(in, c)
		if err != nil {
			return 0, 0, err
		}
		rs, err := s.ActiveRules(ctx, c)
		if err != nil {
			return 0, 0, err
		}
		now := s.Now()
		before := WindowInputs(c.Windows, c.Location)
		from := revision
		if from == nil {
			from = &c.Revision
		}
		items, changed, err = s.Store.ReplaceWindows(ctx, c.ID, from, ws, func(stored []models.OutageWindow) store.Reevaluate {
			return revaluer(s.Valuer(c, store.DomainWindows(stored), rs.Rules), rs.Version)
		}, func(items, changed int) (*models.AuditEvent, error) {
			return audit.Event{Actor: actor, CaseID: &c.ID, Action: audit.ActionUpdate, Entity: audit.EntityWindows, EntityID: c.Slug,
				Before: before, After: WindowInputs(ws, c.Location),
				Details: map[string]any{"items_reevaluated": items, "eligibility_changed": changed}}.Model(now)
		})
		if revision == nil && errors.Is(err, store.ErrCaseChanged) && attempt < revalueAttempts {
			continue
		}
		return items, changed, err
	}
}

// WindowInputs is the inverse of ParseWindows: stored windows as a client sends them, times in
// the case's zone (what the audit trail keeps and the lawyer's form starts from). Times keep
// their fraction of a second (RFC3339Nano writes none when there is none): ParseWindows keeps
// microseconds, and an edge written without them would move when read back.
func WindowInputs(ws []models.OutageWindow, loc *time.Location) []WindowInput {
	out := make([]WindowInput, len(ws))
	for i, w := range ws {
		out[i] = WindowInput{Service: w.Service, Feature: w.Feature, Severity: w.Severity, Start: w.StartAt.In(loc).Format(time.RFC3339Nano),
			End: w.EndAt.In(loc).Format(time.RFC3339Nano), Source: w.Source, Confidence: w.Confidence}
	}
	return out
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
	// Every problem at once: an unreadable time is reported as such, not again as missing.
	unreadable := map[string]bool{}
	for _, f := range fields {
		unreadable[f.Path] = true
	}
	for _, p := range damages.ValidateWindows(dws, c.Domain()) {
		if unreadable["windows"+p.Path] {
			continue
		}
		if other, ok := p.Params["other"]; ok {
			p.Params["other"] = "windows" + other
		}
		fields = append(fields, apperr.FieldError{Path: "windows" + p.Path, Code: p.Code, Params: p.Params})
	}
	apperr.SortFields(fields)
	if len(fields) > 0 {
		return nil, apperr.Validation(fields)
	}
	return ws, nil
}

func windowPath(i int, field string) string { return fmt.Sprintf("windows[%d].%s", i, field) }
