package claims

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/claimdesk/claimdesk/internal/apperr"
	"github.com/claimdesk/claimdesk/internal/audit"
	"github.com/claimdesk/claimdesk/internal/lifecycle"
	"github.com/claimdesk/claimdesk/internal/store"
	"github.com/claimdesk/claimdesk/models"
)

// Fraud signal codes. The list is open: a channel may record a signal of its own with
// RecordSignal; these are the ones the detection pass raises.
const (
	SignalIPBurst         = "ip_burst"
	SignalHoneypot        = "honeypot"
	SignalAmountOutlier   = "amount_outlier"
	SignalOutsideWindows  = "outside_windows"
	SignalSameDescription = "same_description"
	SignalSimilarIdentity = "similar_identity"
)

// Rule is the configuration of one fraud signal. Fields that do not apply to a signal are
// ignored.
type Rule struct {
	Weight        int     `json:"weight"`
	Count         int     `json:"count,omitempty"`
	WindowSeconds int     `json:"window_seconds,omitempty"`
	Factor        float64 `json:"factor,omitempty"`
	MinKRW        int64   `json:"min_krw,omitempty"`
	MinLength     int     `json:"min_length,omitempty"`
}

// ReviewConfig holds the thresholds and weights of duplicate detection and fraud signals:
// configuration, not code (CLAIMDESK_REVIEW_CONFIG takes a JSON object over the defaults).
// Cases overrides them for one case (by slug), over the top-level values.
type ReviewConfig struct {
	// DuplicateWindowSeconds is how far apart two items of the same service and feature may
	// be for claims with the same email or phone to be candidate duplicates.
	DuplicateWindowSeconds int                     `json:"duplicate_window_seconds"`
	Signals                map[string]Rule         `json:"signals"`
	Cases                  map[string]ReviewConfig `json:"cases,omitempty"`
}

// DefaultReviewConfig returns the defaults.
func DefaultReviewConfig() ReviewConfig {
	return ReviewConfig{
		DuplicateWindowSeconds: 2 * 3600,
		Signals: map[string]Rule{
			SignalIPBurst:         {Weight: 30, Count: 5, WindowSeconds: 3600},
			SignalHoneypot:        {Weight: 50},
			SignalAmountOutlier:   {Weight: 20, Factor: 10, MinKRW: 100_000},
			SignalOutsideWindows:  {Weight: 10},
			SignalSameDescription: {Weight: 25, MinLength: 20},
			SignalSimilarIdentity: {Weight: 15},
		},
	}
}

// For returns the configuration of a case: its override when it has one.
func (c ReviewConfig) For(caseSlug string) ReviewConfig {
	if o, ok := c.Cases[caseSlug]; ok {
		return o
	}
	return c
}

// ParseReviewConfig reads a JSON object over the defaults: keys given replace the defaults,
// signal by signal; "cases" holds per-case objects read the same way over the result.
func ParseReviewConfig(s string) (ReviewConfig, error) {
	cfg := DefaultReviewConfig()
	if strings.TrimSpace(s) == "" {
		return cfg, nil
	}
	cfg, cases, err := overlayReview(cfg, []byte(s), true)
	if err != nil {
		return cfg, err
	}
	for slug, raw := range cases {
		c, _, err := overlayReview(cfg.clone(), raw, false)
		if err != nil {
			return cfg, fmt.Errorf("review config: case %s: %w", slug, err)
		}
		if cfg.Cases == nil {
			cfg.Cases = map[string]ReviewConfig{}
		}
		cfg.Cases[slug] = c
	}
	return cfg, nil
}

func (c ReviewConfig) clone() ReviewConfig {
	out := ReviewConfig{DuplicateWindowSeconds: c.DuplicateWindowSeconds, Signals: make(map[string]Rule, len(c.Signals))}
	for k, v := range c.Signals {
		out.Signals[k] = v
	}
	return out
}

func overlayReview(cfg ReviewConfig, raw []byte, top bool) (ReviewConfig, map[string]json.RawMessage, error) {
	var in struct {
		DuplicateWindowSeconds *int                       `json:"duplicate_window_seconds"`
		Signals                map[string]Rule            `json:"signals"`
		Cases                  map[string]json.RawMessage `json:"cases"`
	}
	dec := json.NewDecoder(strings.NewReader(string(raw)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&in); err != nil {
		return cfg, nil, fmt.Errorf("review config: %w", err)
	}
	if !top && in.Cases != nil {
		return cfg, nil, fmt.Errorf("review config: cases inside a case")
	}
	if in.DuplicateWindowSeconds != nil {
		if *in.DuplicateWindowSeconds < 0 {
			return cfg, nil, fmt.Errorf("review config: duplicate_window_seconds must not be negative")
		}
		cfg.DuplicateWindowSeconds = *in.DuplicateWindowSeconds
	}
	for k, r := range in.Signals {
		if r.Weight < 0 {
			return cfg, nil, fmt.Errorf("review config: signal %s: weight must not be negative", k)
		}
		cfg.Signals[k] = r
	}
	return cfg, in.Cases, nil
}

func (s *Service) review(ctx context.Context, caseID int64) ReviewConfig {
	cfg := DefaultReviewConfig()
	if s.Review != nil {
		cfg = *s.Review
	}
	if len(cfg.Cases) > 0 {
		if c, err := s.Store.CaseByID(ctx, caseID); err == nil {
			return cfg.For(c.Slug)
		}
	}
	return cfg
}

// afterCreate runs duplicate detection and the fraud signals on a stored claim, in the
// background when the service has one (the claimant's answer does not wait for it).
func (s *Service) afterCreate(ctx context.Context, c *store.Case, cl *models.Claim) {
	sc := store.Scope{CaseID: c.ID, ClaimIDs: []int64{cl.ID}}
	run := func(ctx context.Context) {
		if err := s.Detect(ctx, sc); err != nil && s.ReviewError != nil {
			s.ReviewError(err)
		}
	}
	if s.Background != nil {
		s.Background(run)
		return
	}
	run(context.WithoutCancel(ctx))
}

// Detect runs duplicate detection and every fraud signal on the claims of sc, set-based,
// and updates their scores. Imports call it once per import after their batch.
func (s *Service) Detect(ctx context.Context, sc store.Scope) error {
	cfg := s.review(ctx, sc.CaseID)
	now := s.Now().UTC().Truncate(time.Microsecond)
	if _, err := s.Store.DetectDuplicates(ctx, sc, time.Duration(cfg.DuplicateWindowSeconds)*time.Second, now); err != nil {
		return err
	}
	rule := func(code string) (store.SignalRule, bool) {
		r, ok := cfg.Signals[code]
		return store.SignalRule{Code: code, Weight: r.Weight, Count: r.Count, Window: time.Duration(r.WindowSeconds) * time.Second,
			Factor: r.Factor, MinKRW: r.MinKRW, MinLength: r.MinLength}, ok && r.Weight > 0
	}
	if r, ok := rule(SignalIPBurst); ok && r.Count > 0 {
		if err := s.Store.SignalIPBurst(ctx, sc, r, now); err != nil {
			return err
		}
	}
	if r, ok := rule(SignalOutsideWindows); ok {
		if err := s.Store.SignalOutsideWindows(ctx, sc, r, now); err != nil {
			return err
		}
	}
	if r, ok := rule(SignalSameDescription); ok {
		if err := s.Store.SignalSameDescription(ctx, sc, r, now); err != nil {
			return err
		}
	}
	if r, ok := rule(SignalAmountOutlier); ok && r.Factor > 0 {
		medians, err := s.medians(ctx, sc.CaseID)
		if err != nil {
			return err
		}
		if err := s.Store.SignalAmountOutlier(ctx, sc, r, medians, now); err != nil {
			return err
		}
	}
	if r, ok := rule(SignalSimilarIdentity); ok {
		rows, err := s.Store.SameNameClaims(ctx, sc, 10_000)
		if err != nil {
			return err
		}
		var sigs []models.ClaimSignal
		for _, row := range rows {
			if nearIdentity(row.Email, row.OtherEmail) {
				sigs = append(sigs,
					models.ClaimSignal{ClaimID: row.ClaimID, CaseID: row.CaseID, Code: r.Code, Weight: r.Weight, Detail: "email", CreatedAt: now},
					models.ClaimSignal{ClaimID: row.OtherID, CaseID: row.CaseID, Code: r.Code, Weight: r.Weight, Detail: "email", CreatedAt: now})
			}
		}
		if err := s.Store.AddSignals(ctx, sigs); err != nil {
			return err
		}
	}
	return s.Store.RescoreClaims(ctx, sc, now)
}

// nearIdentity reports whether two different emails are near-duplicates: the same mailbox
// once dots and a +tag are dropped from the local part, or at most two edits apart.
func nearIdentity(a, b string) bool {
	if a == "" || b == "" || a == b {
		return false
	}
	canon := func(e string) string {
		local, domain, _ := strings.Cut(e, "@")
		local, _, _ = strings.Cut(local, "+")
		return strings.ReplaceAll(local, ".", "") + "@" + domain
	}
	return canon(a) == canon(b) || editDistance(a, b) <= 2
}

func editDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(rb)]
}

// medianTTL bounds how long service medians are reused: a median over a million items moves
// slowly, and computing it on every submission would cost more than the rest of intake.
const medianTTL = 10 * time.Minute

type medianEntry struct {
	at time.Time
	m  map[string]int64
}

func (s *Service) medians(ctx context.Context, caseID int64) (map[string]int64, error) {
	s.mediansMu.Lock()
	defer s.mediansMu.Unlock()
	if v, ok := s.medianCache.Load(caseID); ok {
		e := v.(medianEntry)
		if age := s.Now().Sub(e.at); age >= 0 && age < medianTTL {
			return e.m, nil
		}
	}
	m, err := s.Store.ServiceMedians(ctx, caseID)
	if err != nil {
		return nil, err
	}
	s.medianCache.Store(caseID, medianEntry{at: s.Now(), m: m})
	return m, nil
}

// RecordSignal raises a signal on a claim from a channel (the web form's honeypot field, say),
// with the configured weight (1 for a code without one), and updates its score.
func (s *Service) RecordSignal(ctx context.Context, cl *models.Claim, code, detail string) error {
	if code == "" {
		return apperr.New(apperr.Invalid, "")
	}
	w := 1
	if r, ok := s.review(ctx, cl.CaseID).Signals[code]; ok {
		w = r.Weight
	}
	now := s.Now().UTC().Truncate(time.Microsecond)
	if err := s.Store.AddSignals(ctx, []models.ClaimSignal{{ClaimID: cl.ID, CaseID: cl.CaseID, Code: code, Weight: w, Detail: detail, CreatedAt: now}}); err != nil {
		return err
	}
	return s.Store.RescoreClaims(ctx, store.Scope{CaseID: cl.CaseID, ClaimIDs: []int64{cl.ID}}, now)
}

// Duplicate decisions.
const (
	DuplicateConfirmed = "duplicate"
	DuplicateRejected  = "not_duplicate"
)

// DecideDuplicate records a lawyer's decision on a candidate pair. Confirming it moves the
// later claim to duplicate (of the first: "keep first") through the lifecycle, when the
// later claim is still open; keep names which claim to keep when it is not the first.
func (s *Service) DecideDuplicate(ctx context.Context, later, first *models.Claim, decision string, keep string, note string, actor audit.Actor) error {
	now := s.Now()
	caseID := later.CaseID
	ev, err := audit.Event{Actor: actor, CaseID: &caseID, Action: ActionDuplicateDecn, Entity: audit.EntityClaim, EntityID: later.Reference,
		After: map[string]any{"decision": decision, "other": first.Reference, "keep": keep}, Details: map[string]any{"note": note}}.Model(now)
	if err != nil {
		return err
	}
	if err := s.Store.DecideDuplicate(ctx, later.ID, first.ID, decision, actor.Name, now, ev); err != nil {
		return err
	}
	if decision != DuplicateConfirmed {
		return nil
	}
	dup, orig := later, first
	if keep == later.Reference {
		dup, orig = first, later
	}
	if !lifecycle.IsOpen(dup.Status) {
		return nil
	}
	_, err = s.Transition(ctx, dup, lifecycle.Request{To: lifecycle.Duplicate, Reasons: []string{lifecycle.ReasonDuplicateSubmission},
		Note: note, DuplicateOf: orig.Reference}, actor)
	return err
}
