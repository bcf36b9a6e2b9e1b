package api

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/claimdesk/claimdesk/damages"
	"github.com/claimdesk/claimdesk/internal/claims"
	"github.com/claimdesk/claimdesk/internal/messages"
	"github.com/claimdesk/claimdesk/internal/store"
	"github.com/claimdesk/claimdesk/models"
)

// RulesResponse is one version of a case's rule set.
type RulesResponse struct {
	Version   int             `json:"version"`
	Rules     json.RawMessage `json:"rules"`
	CreatedAt string          `json:"created_at"`
	CreatedBy string          `json:"created_by"`
}

// RuleVersionsResponse lists every version, newest first.
type RuleVersionsResponse struct {
	Versions []RulesResponse `json:"versions"`
}

// TotalsResponse is what a case is worth under one rule set.
type TotalsResponse struct {
	RulesVersion  *int                        `json:"rules_version"`
	AsOf          string                      `json:"as_of"`
	Claims        int64                       `json:"claims"`
	Items         int64                       `json:"items"`
	EligibleItems int64                       `json:"eligible_items"`
	DegradedItems int64                       `json:"degraded_items"`
	PrincipalKRW  int64                       `json:"principal_krw"`
	InterestKRW   int64                       `json:"interest_krw"`
	TotalKRW      int64                       `json:"total_krw"`
	ByService     map[string]SubtotalResponse `json:"by_service"`
	ByKind        map[string]SubtotalResponse `json:"by_kind"`
	Benchmark     BenchmarkResponse           `json:"benchmark"`
}

// SubtotalResponse is the part of the totals for one service or kind.
type SubtotalResponse struct {
	Items                   int64 `json:"items"`
	EligibleItems           int64 `json:"eligible_items"`
	Consolations            int64 `json:"consolations"`
	ConsolationPrincipalKRW int64 `json:"consolation_principal_krw"`
	PrincipalKRW            int64 `json:"principal_krw"`
	InterestKRW             int64 `json:"interest_krw"`
	TotalKRW                int64 `json:"total_krw"`
}

// BenchmarkResponse compares our claims with the benchmark scheme (Kakao's own payments).
type BenchmarkResponse struct {
	Label            string `json:"label,omitempty"`
	Items            int64  `json:"items"`
	Priced           int64  `json:"priced"`
	IndividualReview int64  `json:"individual_review"`
	SchemeKRW        int64  `json:"scheme_krw"`
	ClaimedKRW       int64  `json:"claimed_krw"`
	ReviewClaimedKRW int64  `json:"review_claimed_krw"`
}

// SimulationResponse puts a proposed rule set beside the active one.
type SimulationResponse struct {
	Active    TotalsResponse `json:"active"`
	Simulated TotalsResponse `json:"simulated"`
	// DifferenceKRW is simulated total minus active total.
	DifferenceKRW int64 `json:"difference_krw"`
}

// SummaryResponse is the case at a glance.
type SummaryResponse struct {
	Case          string           `json:"case"`
	ByStatus      map[string]int64 `json:"claims_by_status"`
	ByEligibility map[string]int64 `json:"items_by_eligibility"`
	Totals        TotalsResponse   `json:"totals"`
}

// DamagesResponse is one claim valued with its explanation.
type DamagesResponse struct {
	Reference    string                `json:"reference"`
	RulesVersion int                   `json:"rules_version"`
	AsOf         string                `json:"as_of"`
	PrincipalKRW int64                 `json:"principal_krw"`
	InterestKRW  int64                 `json:"interest_krw"`
	TotalKRW     int64                 `json:"total_krw"`
	Items        []ItemDamages         `json:"items"`
	Consolation  []ConsolationResponse `json:"consolation"`
	Trace        []TraceStep           `json:"trace"`
}

// ItemDamages is the valuation of one item.
type ItemDamages struct {
	Position      int    `json:"position"`
	Eligibility   string `json:"eligibility"`
	RawLossKRW    int64  `json:"raw_loss_krw"`
	PrincipalKRW  int64  `json:"principal_krw"`
	CivilDays     int64  `json:"civil_days"`
	CivilKRW      int64  `json:"civil_interest_krw"`
	LitigationDay int64  `json:"litigation_days"`
	LitigationKRW int64  `json:"litigation_interest_krw"`
	InterestKRW   int64  `json:"interest_krw"`
	TotalKRW      int64  `json:"total_krw"`
	BenchmarkKRW  *int64 `json:"benchmark_krw,omitempty"`
	Review        bool   `json:"benchmark_individual_review,omitempty"`
}

// ConsolationResponse is the consolation money of one service.
type ConsolationResponse struct {
	Service         string `json:"service"`
	DownSeconds     int64  `json:"down_seconds"`
	DegradedSeconds int64  `json:"degraded_seconds"`
	PrincipalKRW    int64  `json:"principal_krw"`
	InterestKRW     int64  `json:"interest_krw"`
	TotalKRW        int64  `json:"total_krw"`
}

// TraceStep is one explained step of a valuation.
type TraceStep struct {
	Step     string            `json:"step"`
	Rule     int               `json:"rule"`
	Scope    string            `json:"scope"`
	Position *int              `json:"position,omitempty"`
	Service  string            `json:"service,omitempty"`
	Inputs   map[string]int64  `json:"inputs,omitempty"`
	Labels   map[string]string `json:"labels,omitempty"`
	Result   int64             `json:"result"`
	Text     string            `json:"text"`
}

func (s *Server) getRules(c *gin.Context) {
	ctx := c.Request.Context()
	cs, err := s.claims.Case(ctx, c.Param("case"))
	if err != nil {
		writeError(c, err)
		return
	}
	rs, err := s.store.ActiveRules(ctx, cs.ID)
	if err != nil {
		writeError(c, err)
		return
	}
	c.JSON(http.StatusOK, RulesResponse{Version: rs.Version, Rules: json.RawMessage(rs.Rules), CreatedAt: rs.CreatedAt.UTC().Format(time.RFC3339), CreatedBy: rs.CreatedBy})
}

func (s *Server) ruleVersions(c *gin.Context) {
	ctx := c.Request.Context()
	cs, err := s.claims.Case(ctx, c.Param("case"))
	if err != nil {
		writeError(c, err)
		return
	}
	list, err := s.store.RuleSets(ctx, cs.ID)
	if err != nil {
		writeError(c, err)
		return
	}
	out := RuleVersionsResponse{Versions: make([]RulesResponse, len(list))}
	for i, rs := range list {
		out.Versions[i] = RulesResponse{Version: rs.Version, Rules: json.RawMessage(rs.Rules), CreatedAt: rs.CreatedAt.UTC().Format(time.RFC3339), CreatedBy: rs.CreatedBy}
	}
	c.JSON(http.StatusOK, out)
}

// readRulesBody reads a rule set body (JSON, at most MaxBodyBytes).
func readRulesBody(c *gin.Context) ([]byte, error) {
	var raw json.RawMessage
	if err := bindJSON(c, &raw); err != nil {
		return nil, err
	}
	return raw, nil
}

func (s *Server) putRules(c *gin.Context) {
	raw, err := readRulesBody(c)
	if err != nil {
		writeError(c, err)
		return
	}
	rs, err := s.claims.SetRules(c.Request.Context(), c.Param("case"), compactJSON(raw), actorOf(c))
	if err != nil {
		writeError(c, err)
		return
	}
	c.JSON(http.StatusOK, RulesResponse{Version: rs.Version, Rules: json.RawMessage(rs.Raw), CreatedAt: rs.Model.CreatedAt.UTC().Format(time.RFC3339), CreatedBy: rs.Model.CreatedBy})
}

// compactJSON stores rules without the client's whitespace.
func compactJSON(raw []byte) []byte {
	var b bytes.Buffer
	if err := json.Compact(&b, raw); err != nil {
		return raw
	}
	return b.Bytes()
}

func (s *Server) simulateRules(c *gin.Context) {
	ctx := c.Request.Context()
	raw, err := readRulesBody(c)
	if err != nil {
		writeError(c, err)
		return
	}
	cs, err := s.claims.Case(ctx, c.Param("case"))
	if err != nil {
		writeError(c, err)
		return
	}
	proposed, err := claims.ParseRules(raw, cs)
	if err != nil {
		writeError(c, err)
		return
	}
	totals, err := s.caseTotals(ctx, cs, proposed)
	if err != nil {
		writeError(c, err)
		return
	}
	out := SimulationResponse{Active: totals[0], Simulated: totals[1]}
	out.DifferenceKRW = out.Simulated.TotalKRW - out.Active.TotalKRW
	c.JSON(http.StatusOK, out)
}

func (s *Server) summary(c *gin.Context) {
	ctx := c.Request.Context()
	cs, err := s.claims.Case(ctx, c.Param("case"))
	if err != nil {
		writeError(c, err)
		return
	}
	// The counts are grouped by the database while the valuation pass reads the items.
	var byStatus, byEligibility map[string]int64
	var countErr error
	counted := make(chan struct{})
	go func() {
		defer close(counted)
		byStatus, byEligibility, countErr = s.store.CaseCounts(ctx, cs.ID)
	}()
	totals, err := s.caseTotals(ctx, cs)
	<-counted
	if err == nil {
		err = countErr
	}
	if err != nil {
		writeError(c, err)
		return
	}
	c.JSON(http.StatusOK, SummaryResponse{Case: cs.Slug, ByStatus: byStatus, ByEligibility: byEligibility, Totals: totals[0]})
}

// activeTotals values the whole case under its active rules.
// caseTotals values a case under its active rules and each of proposed, in one pass over its
// items (claims.Simulate): the active rules' totals first.
func (s *Server) caseTotals(ctx context.Context, cs *store.Case, proposed ...damages.Rules) ([]TotalsResponse, error) {
	active, err := s.claims.ActiveRules(ctx, cs)
	if err != nil {
		return nil, err
	}
	sims, err := s.claims.Simulate(ctx, cs, append([]damages.Rules{active.Rules}, proposed...)...)
	if err != nil {
		return nil, err
	}
	v := active.Version
	out := []TotalsResponse{totalsResponse(&v, sims[0].AsOf, active.Rules, sims[0].Totals)}
	for i, r := range proposed {
		out = append(out, totalsResponse(nil, sims[i+1].AsOf, r, sims[i+1].Totals))
	}
	return out, nil
}

func totalsResponse(version *int, asOf damages.Date, r damages.Rules, t damages.Totals) TotalsResponse {
	out := TotalsResponse{RulesVersion: version, AsOf: asOf.String(),
		Claims: t.Claims, Items: t.Items, EligibleItems: t.EligibleItems, DegradedItems: t.DegradedItems,
		PrincipalKRW: t.PrincipalKRW, InterestKRW: t.InterestKRW, TotalKRW: t.TotalKRW,
		ByService: subtotals(t.ByService), ByKind: subtotals(t.ByKind),
		Benchmark: BenchmarkResponse{Items: t.Benchmark.Items, Priced: t.Benchmark.Priced, IndividualReview: t.Benchmark.Review,
			SchemeKRW: t.Benchmark.SchemeKRW, ClaimedKRW: t.Benchmark.ClaimedKRW, ReviewClaimedKRW: t.Benchmark.ReviewClaimedKRW}}
	if r.Benchmark != nil {
		out.Benchmark.Label = r.Benchmark.Label
	}
	return out
}

func subtotals(m map[string]damages.Subtotal) map[string]SubtotalResponse {
	out := make(map[string]SubtotalResponse, len(m))
	for k, v := range m {
		out[k] = SubtotalResponse{Items: v.Items, EligibleItems: v.EligibleItems, Consolations: v.Consolations,
			ConsolationPrincipalKRW: v.ConsolationPrincipalKRW, PrincipalKRW: v.PrincipalKRW, InterestKRW: v.InterestKRW, TotalKRW: v.TotalKRW}
	}
	return out
}

func (s *Server) claimDamages(c *gin.Context) {
	cl, cs, ok := s.authorizedClaim(c)
	if !ok {
		return
	}
	rs, cv, err := s.claims.ClaimDamages(c.Request.Context(), cs, cl)
	if err != nil {
		writeError(c, err)
		return
	}
	lang := string(messages.FromRequest(c.Request))
	out := DamagesResponse{Reference: cl.Reference, RulesVersion: rs.Version, AsOf: cv.AsOf.String(),
		PrincipalKRW: cv.PrincipalKRW, InterestKRW: cv.InterestKRW, TotalKRW: cv.TotalKRW,
		Items: make([]ItemDamages, len(cv.Items)), Consolation: make([]ConsolationResponse, len(cv.Consolations)), Trace: make([]TraceStep, len(cv.Trace))}
	for i, iv := range cv.Items {
		d := ItemDamages{Position: models.ItemPosition(iv.ItemID), Eligibility: string(iv.Decision.Status), RawLossKRW: iv.RawLossKRW, PrincipalKRW: iv.PrincipalKRW,
			CivilDays: iv.Interest.CivilDays, CivilKRW: iv.Interest.CivilKRW, LitigationDay: iv.Interest.LitigationDays, LitigationKRW: iv.Interest.LitigationKRW,
			InterestKRW: iv.InterestKRW, TotalKRW: iv.TotalKRW, Review: iv.Benchmark.Review}
		if iv.Benchmark.Matched && !iv.Benchmark.Review {
			pay := iv.Benchmark.PayKRW
			d.BenchmarkKRW = &pay
		}
		out.Items[i] = d
	}
	for i, cv := range cv.Consolations {
		out.Consolation[i] = ConsolationResponse{Service: cv.Service, DownSeconds: cv.DownSeconds, DegradedSeconds: cv.DegradedSeconds,
			PrincipalKRW: cv.PrincipalKRW, InterestKRW: cv.InterestKRW, TotalKRW: cv.TotalKRW}
	}
	for i, st := range cv.Trace {
		ts := TraceStep{Step: st.Code, Rule: st.Rule, Scope: st.Scope, Service: st.Service, Inputs: st.Ints, Labels: st.Strings, Result: st.Result, Text: st.Text(lang)}
		if st.ItemID != 0 {
			p := models.ItemPosition(st.ItemID)
			ts.Position = &p
		}
		out.Trace[i] = ts
	}
	c.JSON(http.StatusOK, out)
}
