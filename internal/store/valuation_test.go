package store_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/claimdesk/claimdesk/internal/seed"
	"github.com/claimdesk/claimdesk/internal/store"
	"github.com/claimdesk/claimdesk/internal/testdb"
	"github.com/claimdesk/claimdesk/internal/testdb/casedb"
	"github.com/claimdesk/claimdesk/models"
)

// TestReplaceWindowsWritesChangesOnly: a window change writes back exactly the claims and items
// whose valuation changed (counted by triggers), with NULLs both ways, and leaves the others
// as they were, updated_at included; windows that stay keep their ids.
func TestReplaceWindowsWritesChangesOnly(t *testing.T) {
	for _, d := range testdb.Dialects() {
		t.Run(d, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			st := casedb.Migrated(t, d)
			cs := seededCase(t, st)
			// T (kakao_t taxi) gets a later end, M (another feature) a later start; U stays.
			ti, mi, ui := -1, -1, -1
			for i, w := range cs.Windows {
				switch {
				case w.Service == "kakao_t" && w.Feature == "taxi" && ti < 0:
					ti = i
				case w.Service != "kakao_t" && mi < 0:
					mi = i
				case w.Service != "kakao_t" && (w.Service != cs.Windows[mi].Service || w.Feature != cs.Windows[mi].Feature) && ui < 0:
					ui = i
				}
			}
			if ti < 0 || mi < 0 || ui < 0 {
				t.Fatalf("seed windows %+v", cs.Windows)
			}
			T, M, U := cs.Windows[ti], cs.Windows[mi], cs.Windows[ui]
			ws := append([]models.OutageWindow(nil), cs.Windows...)
			ws[ti].EndAt = T.EndAt.Add(time.Hour)
			ws[mi].StartAt = M.StartAt.Add(time.Hour)

			// Claims stored valued under the current windows (fresh: never valued).
			past := time.Date(2023, 1, 2, 3, 4, 5, 0, time.UTC)
			item := func(w models.OutageWindow, at time.Time) models.ClaimItem {
				return models.ClaimItem{CaseID: cs.ID, Kind: "other", Service: w.Service, Feature: w.Feature, OccurredAt: at, AmountKRW: 1000}
			}
			same := newValuedClaim(cs.ID, "same", past, item(T, T.StartAt.Add(10*time.Minute)), item(U, U.StartAt.Add(time.Minute)),
				item(U, time.Date(2022, 10, 1, 0, 0, 0, 0, time.UTC)))
			into := newValuedClaim(cs.ID, "into", past, item(T, T.EndAt.Add(30*time.Minute)))
			outOf := newValuedClaim(cs.ID, "outof", past, item(M, M.StartAt.Add(30*time.Minute)))
			fresh := newValuedClaim(cs.ID, "fresh", past, item(U, U.StartAt.Add(2*time.Minute)))
			for _, c := range []*models.Claim{same, into, outOf, fresh} {
				decide(cs.Windows)(c)
			}
			fresh.RulesVersion, fresh.ValuedAsOf, fresh.PrincipalKRW, fresh.InterestKRW, fresh.EstimateKRW = nil, nil, nil, nil, nil
			fresh.Items[0].Eligibility, fresh.Items[0].EligibilityCode, fresh.Items[0].WindowID = "ineligible", "", nil
			fresh.Items[0].PrincipalKRW, fresh.Items[0].InterestKRW = nil, nil
			if err := st.CreateClaims(ctx, cs.Revision, []store.NewClaim{{Claim: same}, {Claim: into}, {Claim: outOf}, {Claim: fresh}}); err != nil {
				t.Fatal(err)
			}
			if same.Items[2].WindowID != nil || into.Items[0].WindowID != nil || outOf.EstimateKRW == nil {
				t.Fatalf("set-up: %+v %+v %+v", same.Items[2], into.Items[0], outOf)
			}
			noteWrites(t, st)

			items, changed, err := st.ReplaceWindows(ctx, cs.ID, nil, ws, decide, func(int, int) (*models.AuditEvent, error) {
				return &models.AuditEvent{At: time.Now().UTC(), ActorKind: "system", Action: "update", Entity: "windows", EntityID: "test"}, nil
			})
			if err != nil {
				t.Fatal(err)
			}
			if items != 6 || changed != 3 {
				t.Errorf("re-evaluated %d items, %d changed eligibility; want 6 and 3", items, changed)
			}
			after, err := st.Case(ctx, seed.Kakao2022)
			if err != nil {
				t.Fatal(err)
			}
			ids := func(ws []models.OutageWindow) []int64 {
				out := make([]int64, len(ws))
				for i, w := range ws {
					out[i] = w.ID
				}
				slices.Sort(out)
				return out
			}
			if diff := cmp.Diff(ids(cs.Windows), ids(after.Windows)); diff != "" {
				t.Errorf("window ids (-before +after):\n%s", diff)
			}

			claimWrites, itemWrites := writes(t, st)
			if want := []int64{into.ID, outOf.ID, fresh.ID}; !slices.Equal(claimWrites, want) {
				t.Errorf("claims written %v, want %v", claimWrites, want)
			}
			if want := []itemKey{keyOf(into.Items[0]), keyOf(outOf.Items[0]), keyOf(fresh.Items[0])}; !slices.Equal(itemWrites, want) {
				t.Errorf("items written %v, want %v", itemWrites, want)
			}

			// What is stored is what the callback decided, NULLs included; same is untouched.
			want := map[string]*models.Claim{}
			for _, c := range []*models.Claim{same, into, outOf, fresh} {
				w := *c
				w.Items = slices.Clone(c.Items)
				decide(ws)(&w)
				want[c.Reference] = &w
			}
			for ref, w := range want {
				got, err := st.ClaimByReference(ctx, ref)
				if err != nil {
					t.Fatal(err)
				}
				if diff := cmp.Diff(valuationOf(w), valuationOf(got)); diff != "" {
					t.Errorf("%s valuation (-want +got):\n%s", ref, diff)
				}
				if wasWritten := ref != same.Reference; wasWritten == got.UpdatedAt.Equal(past) {
					t.Errorf("%s updated_at %v (stored %v)", ref, got.UpdatedAt, past)
				}
			}
			if g := want[into.Reference].Items[0]; g.WindowID == nil || *g.WindowID != T.ID || g.Eligibility != "eligible" {
				t.Errorf("into: %+v", g)
			}
			if g := want[outOf.Reference]; g.Items[0].WindowID != nil || g.EstimateKRW != nil {
				t.Errorf("out of: %+v", g)
			}

			// The same windows again: nothing to write.
			if _, _, err := st.ReplaceWindows(ctx, cs.ID, nil, slices.Clone(ws), decide, func(int, int) (*models.AuditEvent, error) {
				return &models.AuditEvent{At: time.Now().UTC(), ActorKind: "system", Action: "update", Entity: "windows", EntityID: "test"}, nil
			}); err != nil {
				t.Fatal(err)
			}
			if c, i := writes(t, st); len(c) != len(claimWrites) || len(i) != len(itemWrites) {
				t.Errorf("the same windows wrote claims %v and items %v", c[len(claimWrites):], i[len(itemWrites):])
			}
		})
	}
}

// TestRevalueStaleWritesChangesOnly: a rules change writes every stale claim (its version
// changes) but only the items whose valuation changed.
func TestRevalueStaleWritesChangesOnly(t *testing.T) {
	for _, d := range testdb.Dialects() {
		t.Run(d, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			st := casedb.Migrated(t, d)
			cs := seededCase(t, st)
			w := cs.Windows[0]
			past := time.Date(2023, 1, 2, 3, 4, 5, 0, time.UTC)
			var ncs []store.NewClaim
			for i := range 3 {
				c := newValuedClaim(cs.ID, fmt.Sprint("r", i), past,
					models.ClaimItem{CaseID: cs.ID, Kind: "other", Service: w.Service, Feature: w.Feature, OccurredAt: w.StartAt, AmountKRW: 100},
					models.ClaimItem{CaseID: cs.ID, Kind: "other", Service: w.Service, Feature: w.Feature, OccurredAt: w.StartAt, AmountKRW: 200})
				decide(cs.Windows)(c)
				ncs = append(ncs, store.NewClaim{Claim: c})
			}
			current := 2
			ncs[2].Claim.RulesVersion = &current // already valued under version 2
			if err := st.CreateClaims(ctx, cs.Revision, ncs); err != nil {
				t.Fatal(err)
			}
			noteWrites(t, st)
			// Version 2 pays the second item of each claim double.
			n, err := st.RevalueStale(ctx, cs.ID, cs.Revision, store.Valuation{Version: 2}, func(c *models.Claim) int {
				decide(cs.Windows)(c)
				p := *c.Items[1].PrincipalKRW * 2
				c.Items[1].PrincipalKRW = &p
				c.RulesVersion = &current
				return 0
			})
			if err != nil || n != 2 {
				t.Fatalf("revalued %d (%v), want 2", n, err)
			}
			claimWrites, itemWrites := writes(t, st)
			if want := []int64{ncs[0].Claim.ID, ncs[1].Claim.ID}; !slices.Equal(claimWrites, want) {
				t.Errorf("claims written %v, want %v", claimWrites, want)
			}
			if want := []itemKey{keyOf(ncs[0].Claim.Items[1]), keyOf(ncs[1].Claim.Items[1])}; !slices.Equal(itemWrites, want) {
				t.Errorf("items written %v, want %v", itemWrites, want)
			}
			got, err := st.ClaimByReference(ctx, ncs[0].Claim.Reference)
			if err != nil {
				t.Fatal(err)
			}
			if *got.RulesVersion != 2 || *got.Items[1].PrincipalKRW != 400 || *got.Items[0].PrincipalKRW != 100 || got.UpdatedAt.Equal(past) {
				t.Errorf("revalued claim %+v items %+v %+v", got, got.Items[0], got.Items[1])
			}
		})
	}
}

// decide is a stand-in for the valuation: an item inside a window of its service and feature
// is eligible and pays its amount (a tenth more as interest); a claim with nothing to pay has
// no estimate.
func decide(ws []models.OutageWindow) store.Reevaluate {
	return func(c *models.Claim) int {
		changed := 0
		var principal, interest int64
		for i := range c.Items {
			it := &c.Items[i]
			elig, code := "ineligible", "outside_windows"
			var window *int64
			var p int64
			for _, w := range ws {
				if w.Service == it.Service && w.Feature == it.Feature && !it.OccurredAt.Before(w.StartAt) && it.OccurredAt.Before(w.EndAt) {
					id := w.ID
					elig, code, window, p = "eligible", "in_window", &id, it.AmountKRW
					break
				}
			}
			if elig != it.Eligibility {
				changed++
			}
			in := p / 10
			it.Eligibility, it.EligibilityCode, it.WindowID, it.PrincipalKRW, it.InterestKRW = elig, code, window, &p, &in
			principal, interest = principal+p, interest+in
		}
		version, asOf := 1, "2023-10-15"
		c.RulesVersion, c.ValuedAsOf, c.PrincipalKRW, c.InterestKRW, c.EstimateKRW = &version, &asOf, &principal, &interest, nil
		if principal > 0 {
			total := principal + interest
			c.EstimateKRW = &total
		}
		return changed
	}
}

func newValuedClaim(caseID int64, ref string, at time.Time, items ...models.ClaimItem) *models.Claim {
	for i := range items {
		items[i].Position = i
	}
	return &models.Claim{CaseID: caseID, Reference: "CD-" + ref, AccessCodeHash: []byte{1}, ContentHash: ref, Status: "received",
		Channel: "api", ClaimantName: "홍길동", ClaimantLocale: "ko", ConsentAt: at, ConsentVersion: "v", SubmittedAt: at, UpdatedAt: at,
		Items: items}
}

// itemKey is an item's key: its claim's id and its position in the claim.
type itemKey struct {
	Claim    int64
	Position int
}

func keyOf(it models.ClaimItem) itemKey { return itemKey{it.ClaimID, it.Position} }

// valuation is what a revaluation writes of a claim, for comparisons.
type valuation struct {
	RulesVersion                           *int
	ValuedAsOf                             *string
	Principal, Interest, Estimate          *int64
	Eligibility, Codes                     []string
	Windows, ItemPrincipals, ItemInterests []*int64
}

func valuationOf(c *models.Claim) valuation {
	v := valuation{RulesVersion: c.RulesVersion, ValuedAsOf: c.ValuedAsOf, Principal: c.PrincipalKRW, Interest: c.InterestKRW, Estimate: c.EstimateKRW}
	for _, it := range c.Items {
		v.Eligibility, v.Codes = append(v.Eligibility, it.Eligibility), append(v.Codes, it.EligibilityCode)
		v.Windows, v.ItemPrincipals, v.ItemInterests = append(v.Windows, it.WindowID), append(v.ItemPrincipals, it.PrincipalKRW), append(v.ItemInterests, it.InterestKRW)
	}
	return v
}

// noteWrites records from now on the id of every claim and item row updated, in a table
// writes, by triggers.
func noteWrites(t *testing.T, st *store.Store) {
	t.Helper()
	stmts := []string{
		`CREATE TABLE writes (seq INTEGER PRIMARY KEY AUTOINCREMENT, tbl TEXT NOT NULL, id BIGINT NOT NULL, position INT NOT NULL)`,
		`CREATE TRIGGER claims_writes AFTER UPDATE ON claims BEGIN INSERT INTO writes (tbl, id, position) VALUES ('claims', NEW.id, 0); END`,
		`CREATE TRIGGER items_writes AFTER UPDATE ON claim_items BEGIN
	INSERT INTO writes (tbl, id, position) VALUES ('claim_items', NEW.claim_id, NEW.position); END`,
	}
	if st.Dialect() == store.Postgres {
		stmts = []string{
			`CREATE TABLE writes (seq BIGSERIAL PRIMARY KEY, tbl TEXT NOT NULL, id BIGINT NOT NULL, position INT NOT NULL)`,
			`CREATE FUNCTION note_claim_write() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN INSERT INTO writes (tbl, id, position) VALUES ('claims', NEW.id, 0); RETURN NULL; END $$`,
			`CREATE FUNCTION note_item_write() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN INSERT INTO writes (tbl, id, position) VALUES ('claim_items', NEW.claim_id, NEW.position); RETURN NULL; END $$`,
			`CREATE TRIGGER claims_writes AFTER UPDATE ON claims FOR EACH ROW EXECUTE FUNCTION note_claim_write()`,
			`CREATE TRIGGER items_writes AFTER UPDATE ON claim_items FOR EACH ROW EXECUTE FUNCTION note_item_write()`,
		}
	}
	for _, s := range stmts {
		if err := st.Gorm().Exec(s).Error; err != nil {
			t.Fatal(err)
		}
	}
}

// writes returns the ids of the claims and the keys of the items written since noteWrites,
// each in order.
func writes(t *testing.T, st *store.Store) (claims []int64, items []itemKey) {
	t.Helper()
	type row struct {
		Tbl      string
		ID       int64
		Position int
	}
	var rows []row
	if err := st.Gorm().Raw("SELECT tbl, id, position FROM writes ORDER BY tbl, id, position").Scan(&rows).Error; err != nil {
		t.Fatal(err)
	}
	for _, r := range rows {
		if r.Tbl == "claims" {
			claims = append(claims, r.ID)
		} else {
			items = append(items, itemKey{r.ID, r.Position})
		}
	}
	return claims, items
}
