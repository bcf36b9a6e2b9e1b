package api_test

import (
	"net/url"
	"strings"
	"testing"
)

// TestListClaimsSearchAndSort: the list's free-text search, kind and channel filters, day
// range and orders, with keyset pages in each order (the query the lawyers' page runs too).
func TestListClaimsSearchAndSort(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		auth := []string{"Authorization", "Bearer " + e.lawyer}
		small := claim(taxi("2022-10-15T18:30"))
		big := claim(taxi("2022-10-15T18:30"), message("2022-10-16T09:00", "2022-10-16T12:00"))
		big["claimant"] = map[string]any{"name": "Jane Park", "email": "jane@example.org"}
		pay := claim(payment("2022-10-15T20:00"))
		pay["claimant"] = map[string]any{"name": "김민지", "phone": "010-9876-5432"}
		a := e.submit(small)["reference"].(string)
		b := e.submit(big)["reference"].(string)
		c := e.submit(pay)["reference"].(string)
		list := "/api/v1/cases/kakao-2022/claims"
		refs := func(query string) ([]string, string) {
			t.Helper()
			r := e.do("GET", list+"?"+query, nil, auth...)
			wantStatus(t, r, 200)
			body := r.json(t)
			var out []string
			for _, c := range body["claims"].([]any) {
				out = append(out, c.(map[string]any)["reference"].(string))
			}
			next, _ := body["next_cursor"].(string)
			return out, next
		}
		for _, tc := range []struct {
			query string
			want  []string
		}{
			{"q=" + url.QueryEscape("홍"), []string{a}},
			{"q=JANE%40", []string{b}},
			{"q=" + url.QueryEscape("010 9876"), []string{c}},
			{"q=" + strings.ReplaceAll(b, "-", ""), []string{b}},
			{"kind=message", []string{b}},
			{"kind=payment&service=kakao_pay", []string{c}},
			{"channel=api", []string{c, b, a}},
			{"channel=web", nil},
			{"submitted_from=2026-11-23&submitted_to=2026-11-23", []string{c, b, a}},
			{"submitted_from=2026-11-24", nil},
			{"sort=oldest", []string{a, b, c}},
		} {
			got, _ := refs(tc.query)
			if strings.Join(got, ",") != strings.Join(tc.want, ",") {
				t.Errorf("%s: %v, want %v", tc.query, got, tc.want)
			}
		}
		// By estimate, highest first, one per page: the pages follow the order.
		var byEstimate []string
		var last float64 = -1
		cursor := ""
		for i := 0; i < 4; i++ {
			r := e.do("GET", list+"?sort=estimate&limit=1&cursor="+cursor, nil, auth...)
			wantStatus(t, r, 200)
			body := r.json(t)
			for _, c := range body["claims"].([]any) {
				est := c.(map[string]any)["estimate_krw"].(float64)
				if last >= 0 && est > last {
					t.Fatalf("estimate %v after %v", est, last)
				}
				last = est
				byEstimate = append(byEstimate, c.(map[string]any)["reference"].(string))
			}
			cursor, _ = body["next_cursor"].(string)
			if cursor == "" {
				break
			}
		}
		if len(byEstimate) != 3 || byEstimate[0] != b {
			t.Fatalf("by estimate %v", byEstimate)
		}
		// A cursor of another order cannot be read.
		_, next := refs("sort=score&limit=1")
		wantStatus(t, e.do("GET", list+"?sort=estimate&cursor="+next, nil, auth...), 400)
		// Bad values, each named.
		r := e.do("GET", list+"?kind=bus&channel=fax&sort=random&submitted_to=31-10-2022&q="+strings.Repeat("x", 101), nil, auth...)
		wantStatus(t, r, 422)
		for _, f := range []string{`"kind"`, `"channel"`, `"sort"`, `"submitted_to"`, `"q"`} {
			if !strings.Contains(string(r.Body), `"path":`+f) {
				t.Errorf("422 does not name %s: %s", f, r.Body)
			}
		}
	})
}
