package claims_test

import (
	"context"
	"encoding/json"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/claimdesk/claimdesk/damages"
	"github.com/claimdesk/claimdesk/internal/apperr"
	"github.com/claimdesk/claimdesk/internal/audit"
	"github.com/claimdesk/claimdesk/internal/claims"
	"github.com/claimdesk/claimdesk/internal/intake"
	"github.com/claimdesk/claimdesk/internal/seed"
	"github.com/claimdesk/claimdesk/internal/store"
	"github.com/claimdesk/claimdesk/internal/testdb"
	"github.com/claimdesk/claimdesk/internal/testdb/casedb"
	"github.com/claimdesk/claimdesk/models"
)

// shippedRules returns the shipped case's rule set as JSON with change applied to it.
func shippedRules(t *testing.T, change func(r map[string]any)) []byte {
	t.Helper()
	nc, err := seed.Load(seed.Kakao2022)
	if err != nil {
		t.Fatal(err)
	}
	var r map[string]any
	if err := json.Unmarshal([]byte(nc.Rules), &r); err != nil {
		t.Fatal(err)
	}
	change(r)
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// clock is a settable clock, safe to read from background work.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }

func (c *clock) Set(t time.Time) { c.mu.Lock(); defer c.mu.Unlock(); c.now = t }

var lawyer = audit.Actor{Kind: audit.ActorCLI, Name: "test"}

// taxiClaim is a consenting claim of claimant for one taxi booking that failed in the outage.
func taxiClaim(claimant intake.ClaimantInput, description string) intake.ClaimInput {
	yes := true
	return intake.ClaimInput{Claimant: claimant, Consent: &yes,
		Items: []intake.ItemInput{{Kind: "taxi_booking", OccurredAt: "2022-10-15 18:30", Failure: "no_driver", Description: description}}}
}

// submitClaim stores in as a claim of the Kakao case through svc.
func submitClaim(t *testing.T, svc *claims.Service, in intake.ClaimInput, meta claims.Meta) *claims.Result {
	t.Helper()
	res, err := svc.Submit(context.Background(), seed.Kakao2022, in, meta)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// submitTaxi stores a taxi claim with its fares, by API.
func submitTaxi(t *testing.T, svc *claims.Service) *models.Claim {
	t.Helper()
	in := taxiClaim(intake.ClaimantInput{Name: "홍길동", Email: "hong@example.com"}, "")
	fare, alt := int64(12000), int64(31000)
	in.Items[0].ExpectedFareKRW, in.Items[0].AlternativeCostKRW = &fare, &alt
	return submitClaim(t, svc, in, claims.Meta{Channel: claims.ChannelAPI}).Claim
}

func stored(t *testing.T, st *store.Store, ref string) *models.Claim {
	t.Helper()
	c, err := st.ClaimByReference(context.Background(), ref)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestRevaluationOncePerCase: rule changes that come while a case's revaluation is pending or
// running start no second run beside it; they have it run once more when it ends, and a change
// after that starts a run again.
func TestRevaluationOncePerCase(t *testing.T) {
	st, _ := casedb.Open(t, "sqlite")
	ctx := context.Background()
	svc := &claims.Service{Store: st, Now: func() time.Time { return time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC) }}
	cl := submitTaxi(t, svc)
	var started []func(context.Context)
	svc.Background = func(fn func(context.Context)) { started = append(started, fn) }
	raw := shippedRules(t, func(map[string]any) {})

	if _, err := svc.SetRules(ctx, seed.Kakao2022, raw, lawyer); err != nil { // version 2
		t.Fatal(err)
	}
	if _, err := svc.SetRules(ctx, seed.Kakao2022, raw, lawyer); err != nil { // version 3, while 2's is pending
		t.Fatal(err)
	}
	if len(started) != 1 {
		t.Fatalf("two rule changes started %d revaluations, want 1 (the second asks it to run again)", len(started))
	}
	started[0](ctx)
	if v := stored(t, st, cl.Reference).RulesVersion; v == nil || *v != 3 {
		t.Errorf("after the run: claim valued under version %v, want 3", v)
	}
	if _, err := svc.SetRules(ctx, seed.Kakao2022, raw, lawyer); err != nil { // version 4, nothing running
		t.Fatal(err)
	}
	if len(started) != 2 {
		t.Fatalf("a rule change after the run ended started %d revaluations in all, want 2", len(started))
	}
	started[1](ctx)
	if v := stored(t, st, cl.Reference).RulesVersion; v == nil || *v != 4 {
		t.Errorf("claim valued under version %v, want 4", v)
	}
}

// TestRulesChangedDuringWindowChange: a rule change that commits while a change of the windows
// is under way (after it read the rules, before its transaction) does not leave the claims
// valued under the old rules: the windows' change, stored only at the case's revision it read,
// is made again on the case as it now is.
func TestRulesChangedDuringWindowChange(t *testing.T) {
	for _, d := range testdb.Dialects() {
		t.Run(d, func(t *testing.T) {
			st, c := casedb.Open(t, d)
			ctx := context.Background()
			now := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
			// No background work: nothing but the windows' change re-values the claim.
			other := &claims.Service{Store: st, Now: func() time.Time { return now }}
			cl := submitTaxi(t, other)
			raw := shippedRules(t, func(map[string]any) {})
			calls := 0
			svc := &claims.Service{Store: st, Now: func() time.Time {
				// ReplaceWindows first reads the clock after the rules: version 2 comes then.
				if calls++; calls == 1 {
					if _, err := other.SetRules(ctx, seed.Kakao2022, raw, lawyer); err != nil {
						t.Fatal(err)
					}
				}
				return now
			}}
			if _, _, err := svc.ReplaceWindows(ctx, seed.Kakao2022, claims.WindowInputs(c.Windows, c.Location), lawyer); err != nil {
				t.Fatal(err)
			}
			if v := stored(t, st, cl.Reference).RulesVersion; v == nil || *v != 2 {
				t.Errorf("after the windows' change: valued under version %v, want 2", v)
			}
		})
	}
}

// TestOpenAsOfRevaluedNextDay: under rules with as_of null (valued as of today), a claim stored
// yesterday has yesterday's interest; the periodic revaluation (RunRevaluation) brings its
// stored estimate to today's, as the summary and the report value it.
func TestOpenAsOfRevaluedNextDay(t *testing.T) {
	for _, d := range testdb.Dialects() {
		t.Run(d, func(t *testing.T) {
			t.Parallel()
			st, cs := casedb.Open(t, d)
			ctx := context.Background()
			day1 := time.Date(2026, 11, 23, 12, 0, 0, 0, cs.Location)
			clk := &clock{now: day1}
			svc := &claims.Service{Store: st, Now: clk.Now}
			if _, err := svc.SetRules(ctx, seed.Kakao2022, shippedRules(t, func(r map[string]any) { r["as_of"] = nil }), lawyer); err != nil {
				t.Fatal(err)
			}
			cl := submitTaxi(t, svc)
			if cl.ValuedAsOf == nil || *cl.ValuedAsOf != "2026-11-23" {
				t.Fatalf("submitted claim valued as of %v", cl.ValuedAsOf)
			}
			before := *cl.EstimateKRW

			ctx, cancel := context.WithCancel(ctx)
			var wg sync.WaitGroup
			wg.Add(1)
			go func() {
				defer wg.Done()
				svc.RunRevaluation(ctx, 20*time.Millisecond, func(err error) { t.Errorf("revaluation: %v", err) })
			}()
			defer func() { cancel(); wg.Wait() }()

			clk.Set(day1.AddDate(0, 0, 1))
			var got *models.Claim
			for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
				if got = stored(t, st, cl.Reference); got.ValuedAsOf != nil && *got.ValuedAsOf == "2026-11-24" {
					break
				}
			}
			if got.ValuedAsOf == nil || *got.ValuedAsOf != "2026-11-24" {
				t.Fatalf("a day later the claim is still valued as of %v, estimate %v (was %d)", *got.ValuedAsOf, *got.EstimateKRW, before)
			}
			_, cv, err := svc.ClaimDamages(context.Background(), cs, got)
			if err != nil {
				t.Fatal(err)
			}
			if *got.EstimateKRW != cv.TotalKRW || cv.AsOf.String() != "2026-11-24" || *got.EstimateKRW <= before {
				t.Errorf("estimate %d (was %d), want today's valuation %d as of %s", *got.EstimateKRW, before, cv.TotalKRW, cv.AsOf)
			}
		})
	}
}

// TestRulesNullCapsRefusedStoredReadable: a rule set with a null item cap or a consolation
// without cap_krw (each would read as a cap of 0) is refused with the paths; one stored before
// that check still loads, valued as it was.
func TestRulesNullCapsRefusedStoredReadable(t *testing.T) {
	st, cs := casedb.Open(t, "sqlite")
	ctx := context.Background()
	svc := &claims.Service{Store: st, Now: func() time.Time { return time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC) }}
	raw := shippedRules(t, func(r map[string]any) {
		r["item_cap_krw"].(map[string]any)["taxi_booking"] = nil
		delete(r["consolation"].(map[string]any)["kakao_t"].(map[string]any), "cap_krw")
	})
	_, err := svc.SetRules(ctx, seed.Kakao2022, raw, lawyer)
	var got []string
	if e, ok := err.(*apperr.Error); ok {
		for _, f := range e.Fields {
			got = append(got, f.Path+" "+f.Code)
		}
	}
	if want := "consolation.kakao_t.cap_krw required; item_cap_krw.taxi_booking invalid_value"; strings.Join(got, "; ") != want {
		t.Errorf("SetRules: %v (fields %q), want %s", err, got, want)
	}

	// Stored as an earlier version accepted it.
	if _, err := st.CreateRuleSet(ctx, cs.ID, nil, string(raw), "test", nil); err != nil {
		t.Fatal(err)
	}
	rs, err := svc.ActiveRules(ctx, cs)
	if err != nil {
		t.Fatalf("stored rule set: %v", err)
	}
	v := damages.NewValuer(cs.Location, cs.DomainWindows(), rs.Rules, *rs.Rules.AsOf)
	taxi := damages.Item{ID: 1, Kind: damages.KindTaxiBooking, Service: "kakao_t", Feature: "taxi", ExpectedFareKRW: 12000, AlternativeCostKRW: 31000,
		Period: damages.Period{Start: time.Date(2022, 10, 15, 18, 30, 0, 0, cs.Location)}}
	if cv := v.Value([]damages.Item{taxi}); cv.Items[0].PrincipalKRW != 0 || len(cv.Consolations) != 1 || cv.Consolations[0].PrincipalKRW != 0 {
		t.Errorf("stored rules valued %+v, want principal and consolation 0 as when stored", cv)
	}
}
