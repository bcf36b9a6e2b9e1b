package store_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/claimdesk/claimdesk/internal/store"
	"github.com/claimdesk/claimdesk/internal/testdb"
	"github.com/claimdesk/claimdesk/internal/testdb/casedb"
	"github.com/claimdesk/claimdesk/models"
)

// The claims list and the exports read one filter: for every filter, the list's claims are the
// plaintiff list's and the claims of the items export, and the items export holds the items of
// those claims that match the item filters.
func TestClaimFilterListAndExports(t *testing.T) {
	for _, d := range testdb.Dialects() {
		t.Run(d, func(t *testing.T) {
			t.Parallel()
			st := casedb.Migrated(t, d)
			ctx := context.Background()
			caseID, refs := filterFixture(t, st)
			kst := time.FixedZone("KST", 9*3600)
			at := func(h int) time.Time { return time.Date(2022, 10, 15, h, 0, 0, 0, time.UTC) }
			type cf = store.ClaimFilter
			for _, c := range []struct {
				f store.ClaimFilter
				n int // claims selected, the same on both engines
			}{
				{cf{}, 7},
				{cf{Statuses: []string{"accepted"}}, 1},
				{cf{Statuses: []string{"received", "withdrawn"}}, 4},
				{cf{Channel: "web"}, 1},
				{cf{Service: "kakao_t"}, 3},
				{cf{Kind: "payment"}, 2},
				{cf{Eligibility: "ineligible"}, 3},
				// One claim has a kakao_t item and an ineligible one, but no item that is both.
				{cf{Service: "kakao_t", Eligibility: "ineligible"}, 1},
				{cf{Service: "kakao_pay", Kind: "payment", Eligibility: "eligible"}, 2},
				{cf{SubmittedAfter: at(2)}, 4},
				{cf{SubmittedFrom: at(2)}, 5},
				{cf{SubmittedBefore: at(2)}, 2},
				{cf{SubmittedFrom: at(2).In(kst), SubmittedBefore: at(4).In(kst)}, 2},
				{cf{SubmittedAfter: at(1).In(kst)}, 5},
				{cf{Flag: "shared_contact"}, 2},
				{cf{Flag: "other_case_only"}, 0},
				{cf{MinScore: 10}, 3},
				{cf{MinScore: 50}, 1},
				{cf{Search: &store.ClaimSearch{}}, 0},
				{cf{Search: &store.ClaimSearch{Reference: refs[2]}}, 1},
				{cf{Search: &store.ClaimSearch{EmailPrefix: "a_"}}, 1},
				// Emails and names ignore the case of ASCII letters on both engines, not of others.
				{cf{Search: &store.ClaimSearch{EmailPrefix: "AB"}}, 2},
				{cf{Search: &store.ClaimSearch{EmailPrefix: "ab@"}}, 1},
				{cf{Search: &store.ClaimSearch{NamePrefix: "BACK"}}, 2},
				{cf{Search: &store.ClaimSearch{NamePrefix: "backs"}}, 1},
				{cf{Search: &store.ClaimSearch{NamePrefix: "BACKSLASH"}}, 1},
				{cf{Search: &store.ClaimSearch{NamePrefix: "émile"}}, 0},
				{cf{Search: &store.ClaimSearch{NamePrefix: "ÉMILE z"}}, 1},
				{cf{Search: &store.ClaimSearch{PhonePrefix: "+8210"}}, 3},
				{cf{Search: &store.ClaimSearch{NamePrefix: "50%"}}, 1},
				{cf{Search: &store.ClaimSearch{NamePrefix: `back\`}}, 1},
				{cf{Search: &store.ClaimSearch{NamePrefix: "홍"}}, 2},
				{cf{Search: &store.ClaimSearch{Reference: refs[0], NamePrefix: "홍", EmailPrefix: "zz"}}, 3},
				{cf{Statuses: []string{"accepted"}, Channel: "web", Service: "kakao_t", SubmittedFrom: at(1), MinScore: 10,
					Flag: "shared_contact", Search: &store.ClaimSearch{NamePrefix: "홍"}}, 1},
			} {
				f := c.f
				f.CaseID = caseID
				t.Run(fmt.Sprintf("%+v", describe(f)), func(t *testing.T) {
					f.Sort, f.Limit = store.SortOldest, 1000
					list, _, err := st.ListClaims(ctx, f)
					if err != nil {
						t.Fatal(err)
					}
					var want []int64
					var wantItems []string
					for _, c := range list {
						want = append(want, c.ID)
						for _, i := range c.Items {
							if (f.Service == "" || i.Service == f.Service) && (f.Kind == "" || i.Kind == f.Kind) &&
								(f.Eligibility == "" || i.Eligibility == f.Eligibility) {
								wantItems = append(wantItems, fmt.Sprint(c.ID, "/", i.Position))
							}
						}
					}
					if c.n >= 0 && len(want) != c.n {
						t.Errorf("list: %d claims, want %d", len(want), c.n)
					}
					// plaintiffs checks the plaintiff list of ef and its count.
					plaintiffs := func(ef store.ExportFilter, want []int64) {
						t.Helper()
						var got []int64
						if err := st.StreamExportClaims(ctx, ef, func(c *store.ExportClaim) error {
							got = append(got, c.ID)
							return nil
						}); err != nil {
							t.Fatal(err)
						}
						if diff := cmp.Diff(want, got); diff != "" {
							t.Errorf("plaintiffs excluding %q (-list +export):\n%s", ef.ExcludeStatuses, diff)
						}
						if n, err := st.CountExportClaims(ctx, ef); err != nil || n != int64(len(want)) {
							t.Errorf("count excluding %q: %d %v, want %d", ef.ExcludeStatuses, n, err, len(want))
						}
					}
					ef := store.ExportFilterOf(f)
					plaintiffs(ef, want)
					var gotItems []string
					if err := st.StreamExportItems(ctx, ef, func(i *store.ExportItem) error {
						gotItems = append(gotItems, fmt.Sprint(i.ClaimID, "/", i.Position))
						return nil
					}); err != nil {
						t.Fatal(err)
					}
					if diff := cmp.Diff(wantItems, gotItems); diff != "" {
						t.Errorf("items (-list +export):\n%s", diff)
					}

					// ExcludeStatuses, the exports' own filter, drops from the same claims.
					ef.ExcludeStatuses = []string{"duplicate", "withdrawn"}
					var kept []int64
					for _, c := range list {
						if !slices.Contains(ef.ExcludeStatuses, c.Status) {
							kept = append(kept, c.ID)
						}
					}
					plaintiffs(ef, kept)
				})
			}
		})
	}
}

// describe names a filter's set fields for the subtest's name.
func describe(f store.ClaimFilter) map[string]any {
	m := map[string]any{}
	for k, v := range map[string]string{"status": strings.Join(f.Statuses, ","), "channel": f.Channel, "service": f.Service, "kind": f.Kind,
		"eligibility": f.Eligibility, "flag": f.Flag} {
		if v != "" {
			m[k] = v
		}
	}
	for k, v := range map[string]time.Time{"after": f.SubmittedAfter, "from": f.SubmittedFrom, "before": f.SubmittedBefore} {
		if !v.IsZero() {
			m[k] = v.Format(time.RFC3339)
		}
	}
	if f.MinScore > 0 {
		m["min_score"] = f.MinScore
	}
	if f.Search != nil {
		m["search"] = *f.Search
	}
	return m
}

// filterFixture makes a case whose claims tell each filter apart (and a second case with
// claims that match every filter, which no filter of the first may select). It returns the
// first case's id and its claims' references.
func filterFixture(t *testing.T, st *store.Store) (int64, []string) {
	t.Helper()
	db := st.Gorm()
	at := func(h int) time.Time { return time.Date(2022, 10, 15, h, 0, 0, 0, time.UTC) }
	type item struct{ service, kind, eligibility string }
	type claim struct {
		status, channel, name, email, phone string
		submitted                           time.Time
		score                               int
		signals                             []string
		items                               []item
	}
	// Emails in lower case, as intake stores them; names as typed.
	claims := []claim{
		{"received", "api", "홍길동", "ab@example.com", "+821012345678", at(0), 0, nil,
			[]item{{"kakao_t", "taxi_booking", "eligible"}, {"kakao_pay", "payment", "eligible"}}},
		{"accepted", "web", "홍길순", "abc@example.com", "+821098765432", at(1), 10, []string{"shared_contact"},
			[]item{{"kakao_t", "taxi_booking", "eligible"}, {"kakaotalk", "message", "ineligible"}}},
		{"received", "api", "50% Kim", "a_b@example.com", "+82201234567", at(2), 25, []string{"shared_contact", "burst"},
			[]item{{"kakaotalk", "message", "ineligible"}}},
		{"duplicate", "import", "500 Lee", "axb@example.com", "", at(3), 50, nil,
			[]item{{"kakao_t", "taxi_booking", "ineligible"}}},
		{"withdrawn", "api", `back\slash`, "", "+821055555555", at(4), 5, []string{"burst"},
			[]item{{"kakao_pay", "payment", "eligible"}}},
		{"received", "api", "Backslash", "zz@example.com", "", at(5), 0, nil, nil},
		{"approved", "import", "Émile Zola", "", "", at(6), 0, nil, nil},
	}
	var caseIDs []int64
	var refs []string
	for n, slug := range []string{"filter-case", "filter-other"} {
		cs := models.Case{Slug: slug, NameKo: slug, NameEn: slug, TimeZone: "Asia/Seoul", CreatedAt: at(0)}
		if err := db.Create(&cs).Error; err != nil {
			t.Fatal(err)
		}
		caseIDs = append(caseIDs, cs.ID)
		for k, c := range claims {
			m := models.Claim{CaseID: cs.ID, Reference: fmt.Sprintf("CD-%d-%d", n, k), AccessCodeHash: []byte{1},
				ContentHash: fmt.Sprint(n, k), Status: c.status, Channel: c.channel, ClaimantName: c.name,
				ClaimantEmail: c.email, ClaimantPhone: c.phone, ClaimantLocale: "ko", ConsentAt: c.submitted,
				ConsentVersion: "v1", FraudScore: c.score, SubmittedAt: c.submitted, UpdatedAt: c.submitted}
			for p, i := range c.items {
				m.Items = append(m.Items, models.ClaimItem{CaseID: cs.ID, Position: p + 1, Kind: i.kind, Service: i.service,
					Feature: "f", OccurredAt: c.submitted, Eligibility: i.eligibility, EligibilityCode: "x"})
			}
			if err := db.Create(&m).Error; err != nil {
				t.Fatal(err)
			}
			if n == 0 {
				refs = append(refs, m.Reference)
			}
			signals := c.signals
			if n == 1 {
				signals = append(signals, "other_case_only")
			}
			for _, code := range signals {
				if err := db.Create(&models.ClaimSignal{ClaimID: m.ID, CaseID: cs.ID, Code: code, Weight: 1, CreatedAt: c.submitted}).Error; err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	return caseIDs[0], refs
}
