package claims_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"

	"github.com/claimdesk/claimdesk/internal/claims"
	"github.com/claimdesk/claimdesk/internal/intake"
	"github.com/claimdesk/claimdesk/internal/seed"
	"github.com/claimdesk/claimdesk/internal/store"
	"github.com/claimdesk/claimdesk/internal/testdb"
	"github.com/claimdesk/claimdesk/internal/testdb/casedb"
	"github.com/claimdesk/claimdesk/models"
)

// reviewInputs are claims that raise every kind of finding: an IP burst (all of them, more
// than one INSERT of signals holds on SQLite), shared descriptions, duplicate contacts,
// namesakes with near emails, and claims that share nothing.
func reviewInputs() []intake.ClaimInput {
	yes := true
	var out []intake.ClaimInput
	for i := 0; i < 120; i++ {
		name, email, phone := fmt.Sprintf("청구인%02d", i), fmt.Sprintf("person%02d@example.com", i), ""
		at := fmt.Sprintf("2022-10-15 %02d:%02d", 16+i%4, i%60)
		desc := fmt.Sprintf("각자 다른 사정으로 카카오 택시를 부르지 못했습니다 %02d", i)
		switch {
		case i%8 == 0:
			desc = "카카오톡 먹통으로 거래처와 계약을 놓쳤습니다 정말로"
		case i%12 == 5:
			desc = "택시가 잡히지 않아 중요한 면접에 늦었습니다 정말로요"
		}
		switch i {
		case 3, 4:
			phone, at = "010-5555-0003", fmt.Sprintf("2022-10-15 18:%02d", 10*i) // the same phone, close in time: a duplicate pair
		case 6, 7:
			name, email = "김민준", []string{"kim.minjun@example.com", "kimminjun+claims@example.com"}[i-6]
		}
		out = append(out, intake.ClaimInput{
			Claimant: intake.ClaimantInput{Name: name, Email: email, Phone: phone}, Consent: &yes,
			Items: []intake.ItemInput{{Kind: "taxi_booking", OccurredAt: at, Failure: "no_driver", Description: desc}},
		})
	}
	return out
}

// findings is what detection stored, by claimant name: signals per claim, and pairs.
func findings(t *testing.T, st *store.Store) (map[string][]string, []string) {
	t.Helper()
	var cs []models.Claim
	if err := st.Gorm().Order("id").Find(&cs).Error; err != nil {
		t.Fatal(err)
	}
	name := map[int64]string{}
	var ids []int64
	for _, c := range cs {
		name[c.ID] = c.ClaimantName + " " + c.ClaimantEmail
		ids = append(ids, c.ID)
	}
	sigs, err := st.SignalsOf(context.Background(), ids)
	if err != nil {
		t.Fatal(err)
	}
	signals := map[string][]string{}
	for id, ss := range sigs {
		for _, s := range ss {
			signals[name[id]] = append(signals[name[id]], s.Code)
		}
		slices.Sort(signals[name[id]])
	}
	var pairs []string
	for _, id := range ids {
		ds, err := st.DuplicatesOf(context.Background(), id)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range ds {
			if d.ClaimID == id {
				// Which claim of a pair is the later one depends on the order concurrent
				// submissions got their ids: the pair is compared without it.
				two := []string{name[d.ClaimID], name[d.OtherClaimID]}
				slices.Sort(two)
				pairs = append(pairs, two[0]+" ~ "+two[1]+" "+d.Matched)
			}
		}
	}
	slices.Sort(pairs)
	return signals, pairs
}

// TestDetectionWorker: claims submitted concurrently to a service with a background runner are
// detected in batches by its one worker, with the same findings as claims detected one by one
// as they arrive; a claim whose detection was lost (the process stopped before its pass) is
// detected when the next process resumes.
func TestDetectionWorker(t *testing.T) {
	for _, d := range testdb.Dialects() {
		t.Run(d, func(t *testing.T) {
			ctx := context.Background()
			now := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
			clock := func() time.Time { return now }
			meta := claims.Meta{Channel: claims.ChannelAPI, IP: "203.0.113.7"}
			inputs := reviewInputs()

			// One by one, in the request (no background runner).
			stOne, _ := casedb.Open(t, d)
			one := &claims.Service{Store: stOne, Now: clock}
			for _, in := range inputs {
				if _, err := one.Submit(ctx, seed.Kakao2022, in, meta); err != nil {
					t.Fatal(err)
				}
			}
			wantSignals, wantPairs := findings(t, stOne)
			if len(wantSignals["청구인00 person00@example.com"]) != 2 || len(wantPairs) == 0 {
				t.Fatalf("the scenario raises too little: %v %v", wantSignals, wantPairs)
			}

			// Concurrently, detection in the background.
			st, _ := casedb.Open(t, d)
			var wg sync.WaitGroup
			workers := 0
			var mu sync.Mutex
			bg := func(fn func(context.Context)) {
				mu.Lock()
				workers++
				mu.Unlock()
				wg.Add(1)
				go func() { defer wg.Done(); fn(ctx) }()
			}
			svc := &claims.Service{Store: st, Now: clock, Background: bg, ReviewError: func(err error) { t.Error(err) }}
			var sub sync.WaitGroup
			for w := 0; w < 4; w++ {
				sub.Add(1)
				go func() {
					defer sub.Done()
					for i := w; i < len(inputs); i += 4 {
						if _, err := svc.Submit(ctx, seed.Kakao2022, inputs[i], meta); err != nil {
							t.Error(err)
						}
					}
				}()
			}
			sub.Wait()
			wg.Wait()
			if workers >= len(inputs) {
				t.Errorf("%d detection workers started for %d claims: not batched", workers, len(inputs))
			}
			gotSignals, gotPairs := findings(t, st)
			if diff := cmp.Diff(wantSignals, gotSignals); diff != "" {
				t.Errorf("signals, one by one (-) vs batched (+):\n%s", diff)
			}
			if diff := cmp.Diff(wantPairs, gotPairs); diff != "" {
				t.Errorf("pairs, one by one (-) vs batched (+):\n%s", diff)
			}
			if p, err := st.PendingReviews(ctx, time.Time{}, 100); err != nil || len(p) != 0 {
				t.Fatalf("still pending after the passes: %v %v", p, err)
			}

			// A process that stops before its pass: the claim stays pending...
			lost := &claims.Service{Store: st, Now: clock, Background: func(func(context.Context)) {}}
			in := inputs[0]
			in.Claimant = intake.ClaimantInput{Name: "늦은 청구인", Email: "late@example.com"}
			res, err := lost.Submit(ctx, seed.Kakao2022, in, meta)
			if err != nil {
				t.Fatal(err)
			}
			if p, _ := st.PendingReviews(ctx, time.Time{}, 100); len(p) != 1 || p[0].ClaimID != res.Claim.ID {
				t.Fatalf("pending %v, want claim %d", p, res.Claim.ID)
			}
			// ...and the next one detects it when it resumes.
			next := &claims.Service{Store: st, Now: clock, Background: bg, ReviewError: func(err error) { t.Error(err) }}
			next.ResumeReviews()
			wg.Wait()
			sigs, _ := findings(t, st)
			if got := strings.Join(sigs["늦은 청구인 late@example.com"], ","); got != "ip_burst,same_description" {
				t.Errorf("resumed claim's signals: %q", got)
			}
			if p, _ := st.PendingReviews(ctx, time.Time{}, 100); len(p) != 0 {
				t.Fatalf("still pending after resuming: %v", p)
			}
		})
	}
}

// TestSameDescriptionPasses: whatever the passes' boundaries (batches of ids in arrival order,
// or an import's claims at once), same_description ends on exactly the claims with an item
// whose description (long enough) is an item's description in another claim: shared with a
// claim of the same pass, with one claim before it, or with several.
func TestSameDescriptionPasses(t *testing.T) {
	shared := []string{
		"카카오톡 먹통으로 거래처와 계약을 놓쳤습니다 정말로",
		"택시가 잡히지 않아 중요한 면접에 늦었습니다 정말로요",
		"대리운전 호출이 안 되어 집에 가지 못하고 숙박했습니다",
		"카카오페이 결제가 실패해서 항공권을 비싸게 샀습니다",
		"The taxi app was down and I missed my train to Busan",
	}
	// Shared too, but shorter than the rule's minimum of 20 characters (the second is 16
	// characters, 42 bytes: length counts characters).
	short := []string{"택시 안 옴", "택시가 오지 않아서 늦었습니다"}
	for _, d := range testdb.Dialects() {
		t.Run(d, func(t *testing.T) {
			ctx := context.Background()
			rng := rand.New(rand.NewPCG(7, 11))
			st, cs := casedb.Open(t, d)
			now := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
			// Detection is left to the passes below: the claims stay pending.
			svc := &claims.Service{Store: st, Now: func() time.Time { return now }, Background: func(func(context.Context)) {}}
			imp := &models.Import{CaseID: cs.ID, Format: "csv", Attestation: "test"}
			if err := st.CreateImport(ctx, imp); err != nil {
				t.Fatal(err)
			}
			yes := true
			var ids []int64
			descs := map[int64][]string{}
			submit := func(i int) {
				var items []intake.ItemInput
				for j := range 1 + i%3/2 {
					desc := fmt.Sprintf("서로 다른 사정으로 택시를 부르지 못했습니다 %03d-%d", i, j)
					switch r := rng.IntN(20); {
					case r < 7:
						desc = shared[rng.IntN(len(shared))]
					case r < 10:
						desc = short[rng.IntN(len(short))]
					case r < 11 && j == 1:
						desc = items[0].Description // twice in one claim: shared with no one
					}
					items = append(items, intake.ItemInput{Kind: "taxi_booking", OccurredAt: fmt.Sprintf("2022-10-15 %02d:%02d", 16+i%4, i%60),
						Failure: "no_driver", Description: desc})
				}
				meta := claims.Meta{Channel: claims.ChannelAPI, IP: fmt.Sprintf("198.51.100.%d", i)}
				if i >= 70 {
					meta.ImportID = &imp.ID
				}
				res, err := svc.Submit(ctx, seed.Kakao2022, intake.ClaimInput{
					Claimant: intake.ClaimantInput{Name: fmt.Sprintf("청구인%02d", i), Email: fmt.Sprintf("p%02d@example.com", i)}, Consent: &yes,
					Items: items}, meta)
				if err != nil {
					t.Fatal(err)
				}
				ids = append(ids, res.Claim.ID)
				for _, it := range items {
					descs[res.Claim.ID] = append(descs[res.Claim.ID], it.Description)
				}
			}
			// Claims arrive in batches of 1 to 12, each looked at by its pass before the next
			// batch arrives; then an import of 20 claims, looked at at once.
			for lo := 0; lo < 70; {
				hi := min(70, lo+1+rng.IntN(12))
				for i := lo; i < hi; i++ {
					submit(i)
				}
				if err := svc.Detect(ctx, store.Scope{CaseID: cs.ID, ClaimIDs: ids[lo:hi]}); err != nil {
					t.Fatal(err)
				}
				lo = hi
			}
			for i := 70; i < 90; i++ {
				submit(i)
			}
			if err := svc.Detect(ctx, store.Scope{CaseID: cs.ID, ImportID: &imp.ID}); err != nil {
				t.Fatal(err)
			}
			// Another case with the same services: its claims share descriptions with the
			// first case's, which flags nobody, and between themselves, which flags them.
			twin, err := seed.Load(seed.Kakao2022)
			if err != nil {
				t.Fatal(err)
			}
			twin.Slug = "kakao-2022-twin"
			if _, err := st.EnsureCase(ctx, twin); err != nil {
				t.Fatal(err)
			}
			var twinIDs []int64
			var twinCase int64
			for i, desc := range []string{shared[0], shared[1], shared[2], shared[3], shared[4],
				"두 번째 사건에서만 겹치는 설명입니다 정말로 그렇습니다", "두 번째 사건에서만 겹치는 설명입니다 정말로 그렇습니다"} {
				res, err := svc.Submit(ctx, twin.Slug, intake.ClaimInput{
					Claimant: intake.ClaimantInput{Name: fmt.Sprintf("다른 청구인%02d", i), Email: fmt.Sprintf("t%02d@example.com", i)}, Consent: &yes,
					Items: []intake.ItemInput{{Kind: "taxi_booking", OccurredAt: "2022-10-15 18:00", Failure: "no_driver", Description: desc}}},
					claims.Meta{Channel: claims.ChannelAPI, IP: fmt.Sprintf("203.0.113.%d", i)})
				if err != nil {
					t.Fatal(err)
				}
				twinIDs, twinCase = append(twinIDs, res.Claim.ID), res.Claim.CaseID
			}
			if err := svc.Detect(ctx, store.Scope{CaseID: twinCase, ClaimIDs: twinIDs}); err != nil {
				t.Fatal(err)
			}
			twinSigs, err := st.SignalsOf(ctx, twinIDs)
			if err != nil {
				t.Fatal(err)
			}
			var twinFlagged []int64
			for _, id := range twinIDs {
				for _, s := range twinSigs[id] {
					if s.Code == claims.SignalSameDescription {
						twinFlagged = append(twinFlagged, id)
					}
				}
			}
			if want := twinIDs[5:]; !slices.Equal(twinFlagged, want) {
				t.Errorf("other case: same_description on %v, want %v (only the two sharing within it)", twinFlagged, want)
			}

			holders := map[string]map[int64]bool{}
			for id, ds := range descs {
				for _, d := range ds {
					if holders[d] == nil {
						holders[d] = map[int64]bool{}
					}
					holders[d][id] = true
				}
			}
			var want, got []int64
			for _, id := range ids {
				for _, d := range descs[id] {
					if utf8.RuneCountInString(d) >= 20 && len(holders[d]) > 1 {
						want = append(want, id)
						break
					}
				}
			}
			sigs, err := st.SignalsOf(ctx, ids)
			if err != nil {
				t.Fatal(err)
			}
			for _, id := range ids {
				for _, s := range sigs[id] {
					if s.Code == claims.SignalSameDescription {
						got = append(got, id)
					}
				}
			}
			if len(want) < 20 || len(want) > 80 {
				t.Fatalf("the scenario flags %d claims of 90: too few or too many to tell", len(want))
			}
			// Every claim's score is the sum of its signals' weights, whichever pass raised them.
			var scores []models.Claim
			if err := st.Gorm().Select("id, fraud_score").Where("id IN ?", ids).Find(&scores).Error; err != nil {
				t.Fatal(err)
			}
			for _, c := range scores {
				sum := 0
				for _, s := range sigs[c.ID] {
					sum += s.Weight
				}
				if c.FraudScore != sum {
					t.Errorf("claim %d: fraud score %d, its signals weigh %d", c.ID, c.FraudScore, sum)
				}
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("claims with same_description (-want +got):\n%s", diff)
			}
		})
	}
}

// TestRescoreAfterLostPass: a pass cut short after it stored a claim's signals, before its
// score, leaves the claim pending; the pass that runs again later finds nothing new, and still
// gives the claim the score of the signals it has.
func TestRescoreAfterLostPass(t *testing.T) {
	for _, d := range testdb.Dialects() {
		t.Run(d, func(t *testing.T) {
			ctx := context.Background()
			st, cs := casedb.Open(t, d)
			now := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
			svc := &claims.Service{Store: st, Now: func() time.Time { return now }, Background: func(func(context.Context)) {}}
			yes := true
			res, err := svc.Submit(ctx, seed.Kakao2022, intake.ClaimInput{
				Claimant: intake.ClaimantInput{Name: "청구인", Email: "p@example.com"}, Consent: &yes,
				Items: []intake.ItemInput{{Kind: "taxi_booking", OccurredAt: "2022-10-15 18:00", Failure: "no_driver"}}},
				claims.Meta{Channel: claims.ChannelAPI, IP: "198.51.100.1"})
			if err != nil {
				t.Fatal(err)
			}
			lost := []models.ClaimSignal{{ClaimID: res.Claim.ID, CaseID: cs.ID, Code: claims.SignalSameDescription, Weight: 25, CreatedAt: now}}
			if err := st.AddSignals(ctx, lost); err != nil {
				t.Fatal(err)
			}
			now = now.Add(time.Hour)
			if err := svc.Detect(ctx, store.Scope{CaseID: cs.ID, ClaimIDs: []int64{res.Claim.ID}}); err != nil {
				t.Fatal(err)
			}
			var c models.Claim
			if err := st.Gorm().Select("fraud_score").Where("id = ?", res.Claim.ID).Take(&c).Error; err != nil {
				t.Fatal(err)
			}
			if c.FraudScore != 25 {
				t.Errorf("fraud score %d, want 25 (the signal stored by the lost pass)", c.FraudScore)
			}
		})
	}
}

// TestRescoreOutsideLostPass: a pass over one claim raises signals on claims outside its scope
// too (the earlier claims of its IP burst, the claim it shares a description with, its
// namesake with a near email). Cut after storing them, before the scores, the pass run again
// finds them raised already (or, for the burst, does not look at them), and still gives every
// one of those claims the score of its signals.
func TestRescoreOutsideLostPass(t *testing.T) {
	const shared = "카카오톡 먹통으로 거래처와 계약을 놓쳤습니다 정말로"
	for _, d := range testdb.Dialects() {
		t.Run(d, func(t *testing.T) {
			ctx := context.Background()
			st, cs := casedb.Open(t, d)
			now := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
			svc := &claims.Service{Store: st, Now: func() time.Time { return now }, Background: func(func(context.Context)) {}}
			yes := true
			submit := func(name, email, ip, desc string) int64 {
				t.Helper()
				res, err := svc.Submit(ctx, seed.Kakao2022, intake.ClaimInput{
					Claimant: intake.ClaimantInput{Name: name, Email: email}, Consent: &yes,
					Items: []intake.ItemInput{{Kind: "taxi_booking", OccurredAt: "2022-10-15 18:00", Failure: "no_driver", Description: desc}}},
					claims.Meta{Channel: claims.ChannelAPI, IP: ip})
				if err != nil {
					t.Fatal(err)
				}
				return res.Claim.ID
			}
			const burstIP = "198.51.100.50"
			var earlier []int64
			for i := range 4 {
				earlier = append(earlier, submit(fmt.Sprintf("청구인%d", i), fmt.Sprintf("p%d@example.com", i), burstIP, fmt.Sprintf("각자 다른 사정으로 택시를 부르지 못했습니다 %d", i)))
			}
			earlier = append(earlier,
				submit("이서연", "seoyeon@example.com", "203.0.113.1", shared), // shares the description
				submit("김민준", "kim.minjun@example.com", "203.0.113.2", ""))  // a namesake, a near email
			// The earlier claims pass and find nothing: four claims from one IP are no burst yet.
			if err := svc.Detect(ctx, store.Scope{CaseID: cs.ID, ClaimIDs: earlier}); err != nil {
				t.Fatal(err)
			}
			last := submit("김민준", "kimminjun+claims@example.com", burstIP, shared)
			scope := store.Scope{CaseID: cs.ID, ClaimIDs: []int64{last}}

			// Its pass stores its signals, on it and on the earlier claims, and stops there.
			now = now.Add(time.Minute)
			lost := now.UTC().Truncate(time.Microsecond)
			cfg := claims.DefaultReviewConfig().Signals
			burst, same, near := cfg[claims.SignalIPBurst], cfg[claims.SignalSameDescription], cfg[claims.SignalSimilarIdentity]
			if err := st.SignalIPBurst(ctx, scope, store.SignalRule{Code: claims.SignalIPBurst, Weight: burst.Weight, Count: burst.Count,
				Window: time.Duration(burst.WindowSeconds) * time.Second}, lost); err != nil {
				t.Fatal(err)
			}
			if err := st.SignalSameDescription(ctx, scope, store.SignalRule{Code: claims.SignalSameDescription, Weight: same.Weight, MinLength: same.MinLength}, lost); err != nil {
				t.Fatal(err)
			}
			namesake := earlier[len(earlier)-1]
			if err := st.AddSignals(ctx, []models.ClaimSignal{
				{ClaimID: last, CaseID: cs.ID, Code: claims.SignalSimilarIdentity, Weight: near.Weight, Detail: "email", CreatedAt: lost},
				{ClaimID: namesake, CaseID: cs.ID, Code: claims.SignalSimilarIdentity, Weight: near.Weight, Detail: "email", CreatedAt: lost}}); err != nil {
				t.Fatal(err)
			}

			// The pass runs again, later.
			now = now.Add(time.Hour)
			if err := svc.Detect(ctx, scope); err != nil {
				t.Fatal(err)
			}

			ids := append(earlier, last)
			sigs, err := st.SignalsOf(ctx, ids)
			if err != nil {
				t.Fatal(err)
			}
			for _, id := range ids {
				if len(sigs[id]) == 0 {
					t.Fatalf("claim %d has no signal: the scenario raises too little (%v)", id, sigs)
				}
			}
			var scores []models.Claim
			if err := st.Gorm().Select("id, fraud_score").Where("id IN ?", ids).Order("id").Find(&scores).Error; err != nil {
				t.Fatal(err)
			}
			for _, c := range scores {
				sum := 0
				var codes []string
				for _, s := range sigs[c.ID] {
					sum += s.Weight
					codes = append(codes, s.Code)
				}
				if c.FraudScore != sum {
					t.Errorf("claim %d (%s): fraud score %d, its signals weigh %d", c.ID, strings.Join(codes, ","), c.FraudScore, sum)
				}
			}
		})
	}
}

// TestResumeSweepsEveryPending: more claims left pending than a sweep's page (a crash, or a
// queue that overflowed) are all detected by the next start's sweep, without any new claim to
// wake the worker.
func TestResumeSweepsEveryPending(t *testing.T) {
	const pending = 1200 // more than two pages of 500
	for _, d := range testdb.Dialects() {
		t.Run(d, func(t *testing.T) {
			ctx := context.Background()
			st, _ := casedb.Open(t, d)
			now := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
			clock := func() time.Time { return now }
			// A process that stored its claims and stopped before their passes.
			lost := &claims.Service{Store: st, Now: clock, Background: func(func(context.Context)) {}}
			yes := true
			var sub sync.WaitGroup
			for w := range 4 {
				sub.Go(func() {
					for i := w; i < pending; i += 4 {
						_, err := lost.Submit(ctx, seed.Kakao2022, intake.ClaimInput{
							Claimant: intake.ClaimantInput{Name: fmt.Sprintf("청구인%04d", i), Email: fmt.Sprintf("p%04d@example.com", i)}, Consent: &yes,
							Items: []intake.ItemInput{{Kind: "taxi_booking", OccurredAt: "2022-10-15 18:00", Failure: "no_driver"}}},
							claims.Meta{Channel: claims.ChannelAPI, IP: fmt.Sprintf("198.51.%d.%d", i/250, i%250)})
						if err != nil {
							t.Error(err)
							return
						}
					}
				})
			}
			sub.Wait()
			if p, err := st.PendingReviews(ctx, time.Time{}, 2*pending); err != nil || len(p) != pending {
				t.Fatalf("%d pending before the start, want %d (%v)", len(p), pending, err)
			}

			// The next process starts and nothing else arrives.
			var wg sync.WaitGroup
			bg := func(fn func(context.Context)) { wg.Go(func() { fn(ctx) }) }
			next := &claims.Service{Store: st, Now: clock, Background: bg, ReviewError: func(err error) { t.Error(err) }}
			next.ResumeReviews()
			wg.Wait()
			if p, err := st.PendingReviews(ctx, time.Time{}, 2*pending); err != nil || len(p) != 0 {
				t.Fatalf("%d of %d claims still pending once the worker stopped (%v)", len(p), pending, err)
			}
		})
	}
}
