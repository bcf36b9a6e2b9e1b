package admin_test

import (
	"fmt"
	"html"
	"net/url"
	"regexp"
	"strings"
	"testing"
)

var refRe = regexp.MustCompile(`href="/admin/claims/(CD-[0-9A-Z-]+)"`)

// refsOf lists the references a list page links to, in page order.
func refsOf(body string) []string {
	var out []string
	for _, m := range refRe.FindAllStringSubmatch(body, -1) {
		out = append(out, m[1])
	}
	return out
}

func sameRefs(t *testing.T, what string, got, want []string) {
	t.Helper()
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("%s: %v, want %v", what, got, want)
	}
}

// TestClaimsList filters, searches, sorts and pages the list with the API's query.
func TestClaimsList(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		e.newUser("lawyer", "lawyer@example.com")
		a := e.submit(taxiClaim("김민지", "minji@example.com"))
		b := e.submit(taxiClaim("박서준", "seojun@example.org"))
		c := e.submit(`{"claimant": {"name": "Jane Park", "phone": "010-2222-3333"}, "consent": true,
			"items": [{"kind": "payment", "occurred_at": "2022-10-20T10:00", "failure": "payment_failed", "amount_krw": 45000}]}`)
		br := e.browser()
		br.signIn("lawyer@example.com")
		list := "/admin/cases/kakao-2022/claims"

		p := br.get(list)
		wantStatus(t, p, 200)
		sameRefs(t, "all", refsOf(p.Body), []string{c, b, a})
		for _, tc := range []struct {
			query string
			want  []string
		}{
			{"q=" + url.QueryEscape("김"), []string{a}},
			{"q=SEOJUN@", []string{b}},
			{"q=jane", []string{c}}, // names and emails ignore ASCII case on both engines
			{"q=JANE+P", []string{c}},
			{"q=Jane+Park", []string{c}},
			{"q=" + url.QueryEscape("010-2222"), []string{c}},
			{"q=" + url.QueryEscape("+82 10 2222 3333"), []string{c}},
			{"q=" + strings.ToLower(strings.ReplaceAll(a, "-", "")), []string{a}},
			{"q=%25", nil}, // a wildcard is a character, not "anything"
			{"kind=payment", []string{c}},
			{"service=kakao_t&eligibility=eligible", []string{b, a}},
			{"eligibility=ineligible", []string{c}},
			{"channel=api", []string{c, b, a}},
			{"channel=web", nil},
			{"status=received&sort=oldest", []string{a, b, c}},
			{"submitted_from=2026-11-23&submitted_to=2026-11-23", []string{c, b, a}},
			{"submitted_to=2026-11-22", nil},
			{"sort=estimate", nil}, // filled below: by estimate, highest first
		} {
			if tc.query == "sort=estimate" {
				continue
			}
			p := br.get(list + "?" + tc.query)
			wantStatus(t, p, 200)
			sameRefs(t, tc.query, refsOf(p.Body), tc.want)
		}

		// Keyset pages: two per page, the next link carries the filters.
		p = br.get(list + "?limit=2&status=received")
		sameRefs(t, "page 1", refsOf(p.Body), []string{c, b})
		m := regexp.MustCompile(`id="next-page" rel="next"|href="([^"]+)" id="next-page"`).FindStringSubmatch(p.Body)
		if m == nil || m[1] == "" {
			t.Fatalf("no next page link: %s", p.Body)
		}
		next := strings.ReplaceAll(m[1], "&amp;", "&")
		if !strings.Contains(next, "status=received") {
			t.Fatalf("next link %q drops the filter", next)
		}
		p = br.get(next)
		sameRefs(t, "page 2", refsOf(p.Body), []string{a})
		if strings.Contains(p.Body, `id="next-page"`) || !strings.Contains(p.Body, `id="first-page"`) {
			t.Fatal("last page: wrong links")
		}

		// Bad filters: every one named, in the page's language, no 500.
		p = br.get(list+"?status=open&submitted_from=yesterday&sort=random", "Accept-Language", "en")
		wantStatus(t, p, 422)
		for _, want := range []string{"Some fields are invalid", "Allowed: received", "YYYY-MM-DD"} {
			if !strings.Contains(p.Body, want) {
				t.Errorf("error page lacks %q", want)
			}
		}
		// The ineligible payment's page names the nearest window of its service.
		if p := br.get("/admin/claims/" + c); !strings.Contains(p.Body, "kakao_pay/payments") || !strings.Contains(p.Body, `class="badge badge-ineligible"`) {
			t.Errorf("ineligible item without its nearest window: %s", p.Body)
		}
		wantStatus(t, br.get(list+"?cursor=nope"), 400)
		wantStatus(t, br.get("/admin/cases/nope/claims"), 404)
	})
}

// TestBulkTransition moves the selected claims through the claims service; one refused does
// not hold back the others.
func TestBulkTransition(t *testing.T) {
	e := newEnv(t, "sqlite")
	e.newUser("lawyer", "lawyer@example.com")
	a := e.submit(taxiClaim("김민지", "minji@example.com"))
	b := e.submit(taxiClaim("박서준", "seojun@example.org"))
	br := e.browser()
	br.signIn("lawyer@example.com")
	br.get("/admin/cases/kakao-2022/claims")
	// The whole form as a browser sends it: its reason select left at none, its note empty.
	p := br.postForm("/admin/cases/kakao-2022/claims/transitions", url.Values{"csrf": {br.csrf}, "ref": {a, b}, "to": {"under_review"},
		"reason": {""}, "note": {""}, "back": {"/admin/cases/kakao-2022/claims?status=received"}})
	wantStatus(t, p, 200)
	if !strings.Contains(p.Body, `id="bulk-succeeded"`) || strings.Contains(p.Body, `id="bulk-failed"`) {
		t.Fatalf("bulk result: %s", p.Body)
	}
	if !strings.Contains(p.Body, `href="/admin/cases/kakao-2022/claims?status=received"`) {
		t.Fatal("no way back to the filtered list")
	}
	// Again: both are under review now, so approving works and starting review again is refused.
	p = br.postForm("/admin/cases/kakao-2022/claims/transitions", url.Values{"csrf": {br.csrf}, "ref": {a, "CD-0000-0000-0000"}, "to": {"approved"}})
	wantStatus(t, p, 200)
	if !strings.Contains(p.Body, `id="bulk-failed"`) || !strings.Contains(p.Body, "CD-0000-0000-0000") {
		t.Fatalf("refused claim not listed: %s", p.Body)
	}
	p = br.get("/admin/cases/kakao-2022/claims?status=approved")
	sameRefs(t, "approved", refsOf(p.Body), []string{a})
	// Nothing selected, or no CSRF token.
	wantStatus(t, br.postForm("/admin/cases/kakao-2022/claims/transitions", url.Values{"csrf": {br.csrf}, "to": {"approved"}}), 422)
	wantStatus(t, br.postForm("/admin/cases/kakao-2022/claims/transitions", url.Values{"ref": {b}, "to": {"approved"}}), 403)
}

// TestNextPageKeepsEveryFilter: the next page of a filtered list is filtered alike, by every
// parameter the list reads (submitted_after, typed into the address, was dropped from the link,
// and the later pages, and a bulk change made on them, took in claims outside the filter).
func TestNextPageKeepsEveryFilter(t *testing.T) {
	e := newEnv(t, "sqlite")
	e.newUser("lawyer", "lawyer@example.com")
	for i, n := range []string{"김민지", "박서준", "이서연"} {
		e.submit(taxiClaim(n, fmt.Sprintf("c%d@example.com", i)))
	}
	br := e.browser()
	br.signIn("lawyer@example.com")
	q := url.Values{"limit": {"1"}, "submitted_after": {"2020-01-01T00:00:00+09:00"}}
	p := br.get("/admin/cases/kakao-2022/claims?" + q.Encode())
	wantStatus(t, p, 200)
	m := regexp.MustCompile(`<a href="([^"]*)" id="next-page"`).FindStringSubmatch(p.Body)
	if m == nil {
		t.Fatal("no next page")
	}
	next, _ := url.Parse(html.UnescapeString(m[1]))
	if got := next.Query().Get("submitted_after"); got != q.Get("submitted_after") {
		t.Errorf("next page %q: submitted_after %q, want %q", next, got, q.Get("submitted_after"))
	}
}
