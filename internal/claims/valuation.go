package claims

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"strings"
	"time"

	"github.com/claimdesk/claimdesk/damages"
	"github.com/claimdesk/claimdesk/internal/apperr"
	"github.com/claimdesk/claimdesk/internal/audit"
	"github.com/claimdesk/claimdesk/internal/jsonshape"
	"github.com/claimdesk/claimdesk/internal/store"
	"github.com/claimdesk/claimdesk/models"
)

// Ruleset is a parsed rule set with its version (0 for one being simulated).
type Ruleset struct {
	Version int
	Rules   damages.Rules
	Raw     string
	Model   *models.RuleSet
}

// ParseRules decodes and validates a rule set for a case: unknown keys, wrong types and
// values the methodology cannot use are reported with their paths.
func ParseRules(raw []byte, c *store.Case) (damages.Rules, error) {
	return parseRules(raw, c, damages.Rules.Validate)
}

// parseRules is ParseRules with validate as the semantic check.
func parseRules(raw []byte, c *store.Case, validate func(damages.Rules, damages.Catalog) []damages.Problem) (damages.Rules, error) {
	var r damages.Rules
	err := jsonshape.Decode(raw, &r)
	if err != nil && !apperr.Is(err, apperr.Invalid) {
		return r, err
	}
	var probs []apperr.FieldError
	for _, p := range validate(r, c.Domain()) {
		probs = append(probs, apperr.FieldError{Path: strings.TrimPrefix(p.Path, "."), Code: p.Code, Params: p.Params})
	}
	var verr error
	if len(probs) > 0 {
		verr = apperr.Validation(probs)
	}
	if err := apperr.MergeFields(err, verr); err != nil {
		return r, err
	}
	return r, nil
}

// ActiveRules loads and parses the active rule set of a case.
func (s *Service) ActiveRules(ctx context.Context, c *store.Case) (*Ruleset, error) {
	m, err := s.Store.ActiveRules(ctx, c.ID)
	if err != nil {
		return nil, err
	}
	// Checked as stored: a rule set stored before a check was added must still load (and value
	// as it did), or no claim of the case could be taken (damages.Rules.ValidateStored).
	r, err := parseRules([]byte(m.Rules), c, damages.Rules.ValidateStored)
	if err != nil {
		// Stored rules were valid when stored; failing now is a bug, not the client's fault.
		return nil, apperr.Wrap(apperr.Internal, "", err)
	}
	return &Ruleset{Version: m.Version, Rules: r, Raw: m.Rules, Model: m}, nil
}

// Valuer returns the valuer of a case under rules and windows, valued as of the rules' date
// (or today in the case zone when the rules leave it open).
func (s *Service) Valuer(c *store.Case, windows []damages.Window, r damages.Rules) *damages.Valuer {
	today := damages.DateOf(s.Now(), c.Location)
	return damages.NewValuer(c.Location, windows, r, r.ValuationDate(today))
}

// DomainItems converts stored items for the valuation.
func DomainItems(items []models.ClaimItem) []damages.Item {
	out := make([]damages.Item, len(items))
	for i := range items {
		it := &items[i]
		out[i] = damages.Item{ID: models.ItemNumber(it.Position), Kind: it.Kind, Service: it.Service, Feature: it.Feature, Failure: it.Failure, Purpose: it.Purpose,
			Period: ItemPeriod(it), ExpectedFareKRW: it.ExpectedFareKRW, AlternativeCostKRW: it.AlternativeCostKRW,
			AmountKRW: it.AmountKRW, LossKRW: it.LossKRW, Documented: it.Documented}
	}
	return out
}

// applyValuation values a claim and writes the decision and the amounts into it and its items.
// It reports how many items changed eligibility.
func applyValuation(v *damages.Valuer, version int, c *models.Claim) int {
	cv := v.Value(DomainItems(c.Items))
	changed := 0
	for i := range c.Items {
		it, iv := &c.Items[i], cv.Items[i]
		if it.Eligibility != string(iv.Decision.Status) {
			changed++
		}
		it.Eligibility, it.EligibilityCode, it.WindowID = string(iv.Decision.Status), iv.Decision.Code, nil
		if w := iv.Decision.Window; w != nil && w.ID != 0 {
			id := w.ID
			it.WindowID = &id
		}
		p, in := iv.PrincipalKRW, iv.InterestKRW
		it.PrincipalKRW, it.InterestKRW = &p, &in
	}
	ver, asOf := version, v.AsOf().String()
	p, in, total := cv.PrincipalKRW, cv.InterestKRW, cv.TotalKRW
	c.RulesVersion, c.ValuedAsOf, c.PrincipalKRW, c.InterestKRW, c.EstimateKRW = &ver, &asOf, &p, &in, &total
	return changed
}

// revaluer returns the store callback that re-values claims under v.
func revaluer(v *damages.Valuer, version int) store.Reevaluate {
	return func(c *models.Claim) int { return applyValuation(v, version, c) }
}

// SetRules validates a rule set and makes it the case's next version, recorded in the audit
// trail as actor in the same transaction. Stored claims are re-valued in the background
// (RevalueCase; without a Background runner, the next RevalueAll); until that finishes, a
// claim shows the estimate of the version stamped on it.
func (s *Service) SetRules(ctx context.Context, caseSlug string, raw []byte, actor audit.Actor) (*Ruleset, error) {
	return s.setRules(ctx, caseSlug, nil, raw, actor)
}

// SetRulesFrom is SetRules of rules edited from the case at revision (a form): refused
// (store.ErrCaseChanged) when the case's windows or rules have changed since. A nil revision
// is SetRules.
func (s *Service) SetRulesFrom(ctx context.Context, caseSlug string, revision *int64, raw []byte, actor audit.Actor) (*Ruleset, error) {
	return s.setRules(ctx, caseSlug, revision, raw, actor)
}

func (s *Service) setRules(ctx context.Context, caseSlug string, revision *int64, raw []byte, actor audit.Actor) (*Ruleset, error) {
	c, err := s.Store.Case(ctx, caseSlug)
	if err != nil {
		return nil, err
	}
	r, err := ParseRules(raw, c)
	if err != nil {
		return nil, err
	}
	now := s.Now()
	m, err := s.Store.CreateRuleSet(ctx, c.ID, revision, string(raw), actor.Name, func(rs *models.RuleSet) (*models.AuditEvent, error) {
		return audit.Event{Actor: actor, CaseID: &c.ID, Action: audit.ActionUpdate, Entity: audit.EntityRules, EntityID: c.Slug,
			Before: map[string]any{"version": rs.Version - 1}, After: map[string]any{"version": rs.Version, "rules": json.RawMessage(rs.Rules)}}.Model(now)
	})
	s.forget(caseSlug)
	if err != nil {
		return nil, err
	}
	s.revalueInBackground(c.Slug)
	return &Ruleset{Version: m.Version, Rules: r, Raw: m.Rules, Model: m}, nil
}

// revalueInBackground runs RevalueCase for a case in the background unless a run for it is
// already going on in this Service; a request that arrives meanwhile marks it to run once more
// when it ends (the run going on may have read the case before the change that asked).
func (s *Service) revalueInBackground(slug string) {
	if s.Background == nil || !s.startRevaluation(slug) {
		return
	}
	s.Background(func(ctx context.Context) {
		if _, err := s.revalueWhileAsked(ctx, slug); err != nil && ctx.Err() == nil {
			slog.Error("revaluation failed", "case", slug, "err", err)
		}
	})
}

// startRevaluation marks a run of the case's revaluation as going on and reports whether the
// caller is to make it; when one is going on already, it marks that one to run once more.
func (s *Service) startRevaluation(slug string) bool {
	s.revaluingMu.Lock()
	defer s.revaluingMu.Unlock()
	if _, running := s.revaluing[slug]; running {
		s.revaluing[slug] = true
		return false
	}
	if s.revaluing == nil {
		s.revaluing = map[string]bool{}
	}
	s.revaluing[slug] = false
	return true
}

// revalueWhileAsked runs RevalueCase for a case started with startRevaluation, again as long
// as another request asked meanwhile, and returns how many claims it re-valued.
func (s *Service) revalueWhileAsked(ctx context.Context, slug string) (int, error) {
	total := 0
	for {
		n, err := s.RevalueCase(ctx, slug)
		total += n
		s.revaluingMu.Lock()
		again := s.revaluing[slug] && ctx.Err() == nil
		if !again {
			delete(s.revaluing, slug)
		} else {
			s.revaluing[slug] = false
		}
		s.revaluingMu.Unlock()
		if !again {
			return total, err
		}
		if err != nil {
			// The run asked for may succeed; this failure is not lost meanwhile.
			slog.Error("revaluation failed; running again as asked", "case", slug, "err", err)
		}
	}
}

// revalueAttempts bounds how many times RevalueCase starts over because the case changed
// under it; each change re-values every claim itself, so giving up leaves nothing the next
// request or periodic check does not pick up.
const revalueAttempts = 5

// RevalueCase re-values every claim of a case that is stale under the active rules: valued
// under another version or, when the rules leave as_of open, as of a day before today. It is
// safe to run at any time and from several processes: each batch is one transaction, holds the
// case's lock as claim inserts do and checks the case's revision, and a claim valued twice gets
// the same numbers. When the windows or rules change under it, it starts over from the case as
// it now is.
func (s *Service) RevalueCase(ctx context.Context, slug string) (int, error) {
	done := 0
	for attempt := 1; ; attempt++ {
		b, err := s.load(ctx, slug, s.Now()) // not the snapshot: the batches check its revision
		if err != nil {
			return done, err
		}
		n, err := s.Store.RevalueStale(ctx, b.Case.ID, b.Case.Revision, staleUnder(b.Rules, b.valuer), revaluer(b.valuer, b.Rules.Version))
		done += n
		if errors.Is(err, store.ErrStale) && attempt < revalueAttempts {
			continue
		}
		return done, err
	}
}

// staleUnder is what a claim valued by v under rs must match not to be stale.
func staleUnder(rs *Ruleset, v *damages.Valuer) store.Valuation {
	val := store.Valuation{Version: rs.Version}
	if rs.Rules.AsOf == nil {
		val.OpenAsOf = v.AsOf().String()
	}
	return val
}

// RevalueAll brings every case's valuations up to its active rules and, when they leave as_of
// open, to today (run at start, so a rule change whose background work was cut short by a
// restart completes, and then periodically by RunRevaluation). A case whose revaluation is going
// on in this Service is marked to run once more instead.
func (s *Service) RevalueAll(ctx context.Context) error {
	cs, err := s.Store.Cases(ctx)
	if err != nil {
		return err
	}
	for _, c := range cs {
		if !s.startRevaluation(c.Slug) {
			continue
		}
		if n, err := s.revalueWhileAsked(ctx, c.Slug); err != nil {
			return err
		} else if n > 0 {
			slog.Info("claims re-valued", "case", c.Slug, "claims", n)
		}
	}
	return nil
}

// RunRevaluation runs RevalueAll at once and then every interval until ctx ends, telling
// failed of each failure. Besides finishing work a restart cut short, it is what brings the
// stored estimates of rules with an open as_of (valued as of "today") to the new day: nothing
// else changes when the date does, and the claim page, the list sorted by estimate and the
// plaintiff list read the stored estimates. A check that finds nothing stale still costs one
// query listing the cases and, per case, loading it (its row, services, features and windows:
// four queries), its active rules (one more, parsed), a valuer, and one search for a stale claim
// that reads every claim of the case (the stale condition has no index, see
// store.RevalueStale), without holding the case's lock.
func (s *Service) RunRevaluation(ctx context.Context, interval time.Duration, failed func(error)) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		if err := s.RevalueAll(ctx); err != nil && ctx.Err() == nil {
			failed(err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Simulation is a case's totals under one set of rules, and the date they were valued as of
// (the valuer's: the clock read again could name the next day, around midnight with an open
// as_of).
type Simulation struct {
	Totals damages.Totals
	AsOf   damages.Date
}

// Simulate values the claims of a case that count in its totals (all but duplicates and
// withdrawn claims, store.ExcludedFromTotals) under each of rules, without changing anything,
// in one streaming pass over the case's items: the summary's totals under the active rules,
// and a simulation's under the active and the proposed ones, which reads the items once.
func (s *Service) Simulate(ctx context.Context, c *store.Case, rules ...damages.Rules) ([]Simulation, error) {
	out := make([]Simulation, len(rules))
	if len(rules) == 0 {
		return out, nil
	}
	windows := c.DomainWindows()
	vs := make([]*damages.Valuer, len(rules))
	for i, r := range rules {
		vs[i] = s.Valuer(c, windows, r)
		out[i].AsOf = vs[i].AsOf()
	}
	var cv damages.ClaimValuation
	t, err := s.ValueCase(ctx, c, vs[0], func(items []damages.Item, _ *damages.ClaimValuation) {
		for i, v := range vs[1:] {
			v.ValueInto(&cv, items)
			out[i+1].Totals.Add(cv)
		}
	})
	out[0].Totals = t
	return out, err
}

// ValueCase values the claims of a case that count in its totals with v in one streaming pass
// and sums them (rule 5): the one whole-case pass behind the summary, the simulation and the
// case report. Duplicates and withdrawn claims are left out (store.ExcludedFromTotals), as the
// plaintiff list leaves them out: a duplicate would count its loss twice, and the case's total
// would not be the plaintiffs' total. each, when not nil, sees every valued claim's items and
// valuation (both reused: it must not keep them), for what a caller gathers beside the totals.
func (s *Service) ValueCase(ctx context.Context, c *store.Case, v *damages.Valuer, each func(items []damages.Item, cv *damages.ClaimValuation)) (damages.Totals, error) {
	var t damages.Totals
	var cv damages.ClaimValuation
	err := s.Store.StreamClaims(ctx, c.ID, func(_ int64, items []damages.Item) error {
		v.ValueInto(&cv, items)
		t.Add(cv)
		if each != nil {
			each(items, &cv)
		}
		return nil
	})
	return t, err
}

// ClaimDamages values one stored claim under the active rules, with the trace (and the date it
// was valued as of, cv.AsOf).
func (s *Service) ClaimDamages(ctx context.Context, c *store.Case, cl *models.Claim) (*Ruleset, damages.ClaimValuation, error) {
	rs, err := s.ActiveRules(ctx, c)
	if err != nil {
		return nil, damages.ClaimValuation{}, err
	}
	v := s.Valuer(c, c.DomainWindows(), rs.Rules)
	return rs, v.ValueWithTrace(DomainItems(cl.Items)), nil
}
