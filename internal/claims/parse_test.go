package claims_test

import (
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/claimdesk/claimdesk/damages"
	"github.com/claimdesk/claimdesk/internal/apperr"
	"github.com/claimdesk/claimdesk/internal/claims"
	"github.com/claimdesk/claimdesk/internal/jsonshape"
	"github.com/claimdesk/claimdesk/internal/lifecycle"
	"github.com/claimdesk/claimdesk/internal/messages"
	"github.com/claimdesk/claimdesk/internal/seed"
	"github.com/claimdesk/claimdesk/internal/store"
	"github.com/claimdesk/claimdesk/models"
)

// kakao is the shipped case as ParseRules and ParseWindows see it, built from the case file
// without a database.
func kakao(t testing.TB) *store.Case {
	nc, err := seed.Load(seed.Kakao2022)
	if err != nil {
		t.Fatal(err)
	}
	loc, _ := time.LoadLocation(nc.TimeZone)
	return &store.Case{ID: 1, Slug: nc.Slug, TimeZone: nc.TimeZone, Location: loc, Services: nc.Services, Windows: nc.Windows}
}

// checkRejection: a rejection is a client error whose fields all have a message.
func checkRejection(t *testing.T, err error) {
	t.Helper()
	code := apperr.CodeOf(err)
	if code != apperr.Invalid && code != apperr.Malformed {
		t.Fatalf("rejection with code %s: %v", code, err)
	}
	if e, ok := err.(*apperr.Error); ok {
		for _, f := range e.Fields {
			key := f.Message
			if key == "" {
				key = f.Code
			}
			if !messages.Has(key) {
				t.Fatalf("%s: code %s has no message", f.Path, key)
			}
		}
	}
}

// FuzzRules: any body is a valid rule set or a client error, never a panic; an accepted rule
// set values a claim without panicking.
func FuzzRules(f *testing.F) {
	nc, _ := seed.Load(seed.Kakao2022)
	f.Add([]byte(nc.Rules))
	f.Add([]byte(`{"window_policy":"whole_incident","as_of":null,"evidence_factor_bps":{"documented":100000,"undocumented":0},"degraded_factor_bps":1,"interest":{"civil_rate_bps":100000,"litigation_rate_bps":100000,"complaint_served_on":"2000-02-29"}}`))
	f.Add([]byte(`{"item_cap_krw":{"taxi_booking":-1},"benchmark":{"tiers":[{"up_to_krw":5,"pay_krw":1},{"up_to_krw":1,"pay_krw":2}]}}`))
	f.Add([]byte(`{"item_cap_krw":{"taxi_booking":99999999999999999999},"degraded_factor_bps":-99999999999999999999,"consolation":{"daum":{"cap_krw":9223372036854775808}}}`))
	c := kakao(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := claims.ParseRules(data, c)
		if err != nil {
			checkRejection(t, err)
			return
		}
		asOf := r.ValuationDate(damages.Date{Year: 2026, Month: 11, Day: 23})
		v := damages.NewValuer(c.Location, c.DomainWindows(), r, asOf)
		start := time.Date(2022, 10, 15, 9, 30, 0, 0, time.UTC)
		cv := v.ValueWithTrace([]damages.Item{
			{ID: 1, Kind: "taxi_booking", Service: "kakao_t", Feature: "taxi", Period: damages.Period{Start: start}, ExpectedFareKRW: 1e9, AlternativeCostKRW: 0, LossKRW: 1e9, Documented: true},
			{ID: 2, Kind: "message", Service: "kakaotalk", Feature: "text", Period: damages.Period{Start: start, End: start.Add(30 * time.Hour)}, LossKRW: 1e9},
		})
		if cv.TotalKRW < 0 || cv.PrincipalKRW < 0 || cv.InterestKRW < 0 {
			t.Fatalf("negative amounts: %+v", cv)
		}
	})
}

// FuzzWindows: any body is a valid window set (no two of one feature overlapping) or a client
// error, never a panic.
func FuzzWindows(f *testing.F) {
	f.Add([]byte(`{"windows":[{"service":"kakao_t","feature":"taxi","severity":"down","start":"2022-10-15 15:30","end":"2022-10-16 14:00","source":"x"}]}`))
	f.Add([]byte(`{"windows":[{"service":"kakao_t","feature":"taxi","severity":"down","start":"2022-10-15 15:30","end":"2022-10-16 14:00"},{"service":"kakao_t","feature":"taxi","severity":"degraded","start":"2022-10-16 13:00","end":"2022-10-15 14:00"}]}`))
	f.Add([]byte(`{"windows":[]}`))
	c := kakao(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		var req struct {
			Windows []claims.WindowInput `json:"windows"`
		}
		if err := jsonshape.Decode(data, &req); err != nil {
			checkRejection(t, err)
			return
		}
		ws, err := claims.ParseWindows(req.Windows, c)
		if err != nil {
			checkRejection(t, err)
			return
		}
		for i, a := range ws {
			if !a.EndAt.After(a.StartAt) {
				t.Fatalf("window %d ends before it starts", i)
			}
			for _, b := range ws[i+1:] {
				if a.Service == b.Service && a.Feature == b.Feature && a.StartAt.Before(b.EndAt) && b.StartAt.Before(a.EndAt) {
					t.Fatalf("overlapping windows accepted: %+v %+v", a, b)
				}
			}
		}
	})
}

// FuzzListFilter: any query string of the claims list (API, pages, exports) is a filter or a
// client error naming its parameters, never a panic; an accepted filter holds only allowed
// values, a page size in range and a search of bounded length.
func FuzzListFilter(f *testing.F) {
	for _, s := range []string{"", "status=received&service=kakao_t&kind=taxi_booking&eligibility=eligible&channel=web",
		"submitted_after=2022-10-15T18:00&submitted_from=2022-10-15&submitted_to=2022-10-14", "q=%ED%99%8D&sort=estimate&limit=500&cursor=abc",
		"flag=ip_burst&min_score=-1&limit=0", "q=010-1234-5678", "q=CD-ABCD-EFGH-JKMN", "status=lost&sort=random",
		"status=received,under_review,cured", "status=received,,cured", "status=received,lost"} {
		f.Add(s)
	}
	c := kakao(f)
	f.Fuzz(func(t *testing.T, raw string) {
		q, err := url.ParseQuery(raw)
		if err != nil {
			return // not a query string: gin answers before the filter is read
		}
		lf, err := claims.ListFilter(c, q)
		if err != nil {
			checkRejection(t, err)
			return
		}
		if lf.Limit < 1 || lf.Limit > claims.MaxListLimit {
			t.Fatalf("limit %d accepted", lf.Limit)
		}
		if slices.ContainsFunc(lf.Statuses, func(s string) bool { return !slices.Contains(lifecycle.Statuses, s) }) || lf.Channel != "" && !slices.Contains(claims.Channels, lf.Channel) ||
			lf.Eligibility != "" && !slices.Contains(claims.Eligibilities, lf.Eligibility) || lf.Service != "" && !c.Domain().HasService(lf.Service) {
			t.Fatalf("value outside its set accepted: %+v", lf)
		}
		if lf.Sort != "" && !slices.Contains(store.ClaimSorts, lf.Sort) || lf.MinScore < 0 {
			t.Fatalf("sort or score accepted: %+v", lf)
		}
		if !lf.SubmittedFrom.IsZero() && !lf.SubmittedBefore.IsZero() && lf.SubmittedBefore.Before(lf.SubmittedFrom) {
			t.Fatalf("days end before they start: %+v", lf)
		}
		if s := lf.Search; s != nil && (len([]rune(s.NamePrefix)) > claims.MaxSearchLength || s.NamePrefix == "") {
			t.Fatalf("search %+v", s)
		}
	})
}

// TestListFilterStatuses: status takes one status or several separated by commas; one that is
// not a status, or an empty one, rejects the parameter.
func TestListFilterStatuses(t *testing.T) {
	c := kakao(t)
	for _, tc := range []struct {
		status string
		want   []string // nil: rejected
	}{
		{"received", []string{"received"}},
		{"received,under_review,cured", []string{"received", "under_review", "cured"}},
		{"received,lost", nil},
		{"received,", nil},
		{"received, cured", nil},
	} {
		lf, err := claims.ListFilter(c, url.Values{"status": {tc.status}})
		if tc.want == nil {
			if e, ok := err.(*apperr.Error); !ok || len(e.Fields) != 1 || e.Fields[0].Path != "status" {
				t.Errorf("%q: %v, want one error at status", tc.status, err)
			}
			continue
		}
		if err != nil || !slices.Equal(lf.Statuses, tc.want) {
			t.Errorf("%q: %q %v, want %q", tc.status, lf.Statuses, err, tc.want)
		}
	}
}

// TestEligibilityText: the sentences a case keeps are told apart by language, window and code
// (each of these twelve is its own).
func TestEligibilityText(t *testing.T) {
	cs := kakao(t)
	w1, w2 := &cs.Windows[0], &cs.Windows[1]
	seen := map[string]string{}
	for _, l := range []messages.Lang{messages.Ko, messages.En} {
		for _, w := range []*models.OutageWindow{w1, w2, nil} {
			for _, code := range []string{"in_down_window", "outside_outage_window"} {
				label := fmt.Sprint(l, w, code)
				got := claims.EligibilityText(l, cs, w, code)
				if again := claims.EligibilityText(l, cs, w, code); again != got {
					t.Errorf("%s: %q then %q", label, got, again)
				}
				want := messages.Text(l, code, map[string]string{"window": "-"})
				if w != nil {
					want = messages.Text(l, code, map[string]string{"window": messages.Window(l, w.Service+"/"+w.Feature, w.Severity, w.StartAt, w.EndAt, cs.Location)})
				}
				if got != want {
					t.Errorf("%s: %q, want %q", label, got, want)
				}
				if other, ok := seen[got]; ok {
					t.Errorf("%s and %s share %q", label, other, got)
				}
				seen[got] = label
			}
		}
	}
}

// A parameter of a rule set too large for int64 is out of the range the rules declare for it, in
// the words of one just over its limit (it was out of int64's, "-9223372036854775808 …
// 9223372036854775807"): for an amount, a rate or factor, and a map's value (an item cap) alike.
func TestRulesOverflowErrors(t *testing.T) {
	const (
		amountKo = "0에서 1000000000 사이여야 합니다."
		amountEn = "Must be between 0 and 1000000000."
		bpsKo    = "0에서 100000 사이여야 합니다."
		bpsEn    = "Must be between 0 and 100000."
	)
	nc, err := seed.Load(seed.Kakao2022)
	if err != nil {
		t.Fatal(err)
	}
	c := kakao(t)
	// with returns the seed's rules with the value at path (keys and indexes) written as text.
	with := func(path []any, text string) []byte {
		dec := json.NewDecoder(strings.NewReader(string(nc.Rules)))
		dec.UseNumber()
		var doc any
		if err := dec.Decode(&doc); err != nil {
			t.Fatal(err)
		}
		at := doc
		for i, k := range path {
			last := i == len(path)-1
			switch k := k.(type) {
			case string:
				if last {
					at.(map[string]any)[k] = json.Number(text)
				}
				at = at.(map[string]any)[k]
			case int:
				if last {
					at.([]any)[k] = json.Number(text)
				}
				at = at.([]any)[k]
			}
		}
		b, err := json.Marshal(doc)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	cases := []struct {
		path         []any
		over, ko, en string // over: just over the limit
	}{
		{[]any{"degraded_factor_bps"}, "100001", bpsKo, bpsEn},
		{[]any{"evidence_factor_bps", "undocumented"}, "100001", bpsKo, bpsEn},
		{[]any{"interest", "litigation_rate_bps"}, "100001", bpsKo, bpsEn},
		{[]any{"item_cap_krw", "taxi_booking"}, "1000000001", amountKo, amountEn},
		{[]any{"consolation", "kakaotalk", "base_krw"}, "1000000001", amountKo, amountEn},
		{[]any{"consolation", "daum", "per_hour_krw"}, "1000000001", amountKo, amountEn},
		{[]any{"consolation", "kakao_t", "cap_krw"}, "1000000001", amountKo, amountEn},
		{[]any{"benchmark", "tiers", 1, "up_to_krw"}, "1000000001", amountKo, amountEn},
		{[]any{"benchmark", "tiers", 0, "pay_krw"}, "1000000001", amountKo, amountEn},
	}
	for _, tc := range cases {
		path := ""
		for _, k := range tc.path {
			if i, ok := k.(int); ok {
				path += "[" + strconv.Itoa(i) + "]"
			} else if path == "" {
				path = k.(string)
			} else {
				path += "." + k.(string)
			}
		}
		for _, text := range []string{tc.over, "99999999999999999999", "9223372036854775808", "-99999999999999999999"} {
			_, err := claims.ParseRules(with(tc.path, text), c)
			e, ok := err.(*apperr.Error)
			if !ok {
				t.Errorf("%s = %s: %v, want a field error", path, text, err)
				continue
			}
			var got []string
			for _, f := range e.Fields {
				if f.Path == path {
					got = []string{f.Code, messages.Field(messages.Ko, f), messages.Field(messages.En, f)}
				}
			}
			if want := []string{apperr.FieldOutOfRange, tc.ko, tc.en}; !slices.Equal(got, want) {
				t.Errorf("%s = %s: %q, want %q (all: %+v)", path, text, got, want, e.Fields)
			}
		}
	}
}
