package claims

import (
	"context"
	"encoding/json"
	"log/slog"
	"strings"

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
	var r damages.Rules
	err := jsonshape.Decode(raw, &r)
	if err != nil && !apperr.Is(err, apperr.Invalid) {
		return r, err
	}
	var probs []apperr.FieldError
	for _, p := range r.Validate(c.Domain()) {
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
	r, err := ParseRules([]byte(m.Rules), c)
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
// (RevalueAll); until that finishes, a claim shows the estimate of the version stamped on it.
func (s *Service) SetRules(ctx context.Context, caseSlug string, raw []byte, actor audit.Actor) (*Ruleset, error) {
	c, err := s.Store.Case(ctx, caseSlug)
	if err != nil {
		return nil, err
	}
	r, err := ParseRules(raw, c)
	if err != nil {
		return nil, err
	}
	now := s.Now()
	m, err := s.Store.CreateRuleSet(ctx, c.ID, string(raw), actor.Name, func(rs *models.RuleSet) (*models.AuditEvent, error) {
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

// revalueInBackground starts RevalueCase for a case unless one is running for it in this
// process; a request that arrives meanwhile marks it to run once more.
func (s *Service) revalueInBackground(slug string) {
	if s.Background == nil {
		return
	}
	s.Background(func(ctx context.Context) {
		if _, err := s.RevalueCase(ctx, slug); err != nil && ctx.Err() == nil {
			slog.Error("revaluation failed", "case", slug, "err", err)
		}
	})
}

// RevalueCase re-values every claim of a case that is not valued under the active rules.
// It is safe to run at any time and from several processes: each batch is one transaction,
// and a claim valued twice gets the same numbers.
func (s *Service) RevalueCase(ctx context.Context, slug string) (int, error) {
	c, err := s.Store.Case(ctx, slug)
	if err != nil {
		return 0, err
	}
	rs, err := s.ActiveRules(ctx, c)
	if err != nil {
		return 0, err
	}
	v := s.Valuer(c, c.DomainWindows(), rs.Rules)
	return s.Store.RevalueStale(ctx, c.ID, rs.Version, revaluer(v, rs.Version))
}

// RevalueAll brings every case's valuations up to its active rules (run at start, so a rule
// change whose background work was cut short by a restart completes).
func (s *Service) RevalueAll(ctx context.Context) error {
	cs, err := s.Store.Cases(ctx)
	if err != nil {
		return err
	}
	for _, c := range cs {
		if n, err := s.RevalueCase(ctx, c.Slug); err != nil {
			return err
		} else if n > 0 {
			slog.Info("claims re-valued", "case", c.Slug, "claims", n)
		}
	}
	return nil
}

// Simulate values every stored claim of a case under rules without changing anything.
func (s *Service) Simulate(ctx context.Context, c *store.Case, r damages.Rules) (damages.Totals, error) {
	return s.ValueCase(ctx, c, s.Valuer(c, c.DomainWindows(), r), nil)
}

// ValueCase values every stored claim of a case with v in one streaming pass and sums them
// (rule 5): the one whole-case pass behind the summary, the simulation and the case report.
// each, when not nil, sees every claim's items and valuation (both reused: it must not keep
// them), for what a caller gathers beside the totals.
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

// ClaimDamages values one stored claim under the active rules, with the trace.
func (s *Service) ClaimDamages(ctx context.Context, c *store.Case, cl *models.Claim) (*Ruleset, damages.ClaimValuation, error) {
	rs, err := s.ActiveRules(ctx, c)
	if err != nil {
		return nil, damages.ClaimValuation{}, err
	}
	v := s.Valuer(c, c.DomainWindows(), rs.Rules)
	return rs, v.ValueWithTrace(DomainItems(cl.Items)), nil
}
