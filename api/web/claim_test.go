package web_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/claimdesk/claimdesk/api/web"
	"github.com/claimdesk/claimdesk/internal/auth"
	"github.com/claimdesk/claimdesk/internal/messages"
	"github.com/claimdesk/claimdesk/internal/testdb"
)

// toReview fills the form quickly up to its last step, with one item, as claimant name.
func toReview(t *testing.T, b *browser, name string) {
	t.Helper()
	b.get("/claim")
	b.post("/claim", "action", "next", "check_target", "kakao_t/taxi", "check_at", "2022-10-15T18:30")
	b.post("/claim", "action", "save", "target", "kakao_t/taxi", "occurred_at", "2022-10-15T18:30", "failure", "no_driver")
	b.post("/claim", "action", "next")
	want(t, b.post("/claim", "action", "next", "name", name, "email", "claimant@example.com"), 200, `id="submit-claim"`)
}

// draftID is the id of the draft b's form carries.
func (b *browser) draftID() string {
	b.t.Helper()
	raw, err := base64.RawURLEncoding.DecodeString(b.draft)
	var d struct{ ID string }
	if err != nil || json.Unmarshal(raw, &d) != nil || d.ID == "" {
		b.t.Fatalf("draft %q: %v", b.draft, err)
	}
	return d.ID
}

// A second press of the final button (a double tap, a slow network, a reload) finds the claim
// the first stored, and the browser shows its answer: it shows the same access code, which
// opens the claim. It said the code had been shown once, and the claimant never saw it. The
// external_ref staff see does not hold the draft id, which with the claim's content would be
// enough to be shown the code. The page says so: pressing again shows the code again (it said
// the code was shown only once). Served with another secret (a restart without a configured
// one), the code cannot be shown again, and the page says the claim was filed already.
func TestSubmitTwiceShowsTheCodeTwice(t *testing.T) {
	for _, d := range testdb.Dialects() {
		t.Run(d, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, d, func(c *web.Config) { c.Secret = []byte("the first process's secret") })
			b := e.browser("ko")
			toReview(t, b, "김민지")
			id := b.draftID()
			var ref, code string
			for i := range 2 {
				p := b.post("/claim", "action", "submit", "consent", "yes")
				want(t, p, 200, `id="access-code"`, "청구가 접수되었습니다", messages.Text(messages.Ko, "confirm_keep_body", nil))
				wantNot(t, p, "한 번만")
				r, c := refRe.FindStringSubmatch(p.Body)[1], codeRe.FindStringSubmatch(p.Body)[1]
				if i > 0 && (r != ref || c != code) {
					t.Fatalf("press %d: %s %s, want %s %s", i+1, r, c, ref, code)
				}
				ref, code = r, c
			}
			if len(code) != 19 {
				t.Fatalf("access code %q", code)
			}
			cl, err := e.st.ClaimByReference(context.Background(), ref)
			if err != nil {
				t.Fatal(err)
			}
			if !auth.Equal(auth.HashAccessCode(code), cl.AccessCodeHash) {
				t.Fatal("the code shown is not the claim's")
			}
			if cl.ExternalRef == nil || !strings.HasPrefix(*cl.ExternalRef, "web-") || strings.Contains(*cl.ExternalRef, id) {
				t.Fatalf("external_ref %q, want web- and no draft id %s", deref(cl.ExternalRef), id)
			}
			var n int64
			e.st.Gorm().Table("claims").Count(&n)
			if n != 1 {
				t.Fatalf("%d claims stored", n)
			}
			b.get("/status")
			if p := b.post("/status", "reference", ref, "access_code", code); p.Status != http.StatusSeeOther {
				t.Fatalf("the code does not open the claim: %d %s", p.Status, p.Body)
			}

			// Another draft files another claim, with another code.
			b2 := e.browser("ko")
			toReview(t, b2, "김민지")
			p := b2.post("/claim", "action", "submit", "consent", "yes")
			want(t, p, 200, `id="access-code"`)
			if r, c := refRe.FindStringSubmatch(p.Body)[1], codeRe.FindStringSubmatch(p.Body)[1]; r == ref || c == code {
				t.Fatalf("a second draft got %s %s, the first's %s %s", r, c, ref, code)
			}

			// Another process with another secret finds the claim, and cannot show its code.
			e2 := e.restart(func(c *web.Config) { c.Secret = []byte("the next process's secret") })
			b.e = e2
			b.csrf = b.csrfCookie()
			p = b.post("/claim", "action", "submit", "consent", "yes")
			want(t, p, 200, ref, "이미 접수된 청구입니다")
			wantNot(t, p, `id="access-code"`, code, "한 번만")
		})
	}
}

func deref(s *string) string {
	if s == nil {
		return "<nil>"
	}
	return *s
}

// csrfCookie is the form token b's cookie holds.
func (b *browser) csrfCookie() string {
	b.t.Helper()
	u, _ := url.Parse(b.e.srv.URL + "/")
	for _, c := range b.c.Jar.Cookies(u) {
		if c.Name == "cd_csrf" {
			return c.Value
		}
	}
	b.t.Fatal("no form token cookie")
	return ""
}

// The form token's cookie is SameSite=Lax: a visit from another site's link sends it, and
// the tabs already open keep working. When the token does not match all the same (the cookie
// was replaced or lost), the step comes back as it was typed, with the browser's token and a
// message, not the bare error page that lost the claimant's draft; pressing again works.
func TestClaimFormKeepsDraftOnTokenMismatch(t *testing.T) {
	e := newEnv(t, "sqlite")
	for _, tc := range []struct{ lang, message string }{
		{"ko", "보안 확인이 만료되어"},
		{"en", "The security check had expired"},
	} {
		t.Run(tc.lang, func(t *testing.T) {
			b := e.browser(tc.lang)
			p := b.get("/claim")
			var lax bool
			for _, c := range (&http.Response{Header: p.Header}).Cookies() {
				lax = lax || c.Name == "cd_csrf" && c.SameSite == http.SameSiteLaxMode && c.HttpOnly
			}
			if !lax {
				t.Fatalf("form token cookie %q, want HttpOnly and SameSite=Lax", p.Header.Values("Set-Cookie"))
			}
			b.post("/claim", "action", "next", "check_target", "kakao_t/taxi", "check_at", "2022-10-15T18:30")
			b.post("/claim", "action", "save", "target", "kakao_t/taxi", "occurred_at", "2022-10-15T18:30", "failure", "no_driver")
			want(t, b.post("/claim", "action", "next"), 200, `name="email"`)

			// Another tab, opened without the cookie, was given a new one.
			stale := b.csrf
			u, _ := url.Parse(e.srv.URL + "/")
			b.c.Jar.SetCookies(u, []*http.Cookie{{Name: "cd_csrf", Path: "/", MaxAge: -1}})
			b.get("/status")
			fresh := b.csrfCookie()
			if fresh == stale {
				t.Fatal("the cookie was not replaced")
			}
			b.csrf = stale
			p = b.post("/claim", "action", "next", "name", "김민지", "email", "claimant@example.com")
			want(t, p, http.StatusForbidden, tc.message, `name="email"`, `value="김민지"`, `value="claimant@example.com"`, `name="csrf" value="`+fresh+`"`)
			wantNot(t, p, `name="consent"`) // nothing was done
			if b.csrf != fresh {
				t.Fatalf("the page carries token %q, the cookie %q", b.csrf, fresh)
			}
			want(t, b.post("/claim", "action", "next", "name", "김민지", "email", "claimant@example.com"), 200, `name="consent"`, "김민지", "badge-eligible")

			// A post whose draft cannot be read has nothing to keep: the error page.
			b.csrf, b.draft = stale, "!!"
			want(t, b.post("/claim", "action", "next"), http.StatusForbidden, `role="alert"`)
		})
	}
}

// A submission refused by the rate limit comes back as the review with the draft and the
// consent as they were, saying when to submit again: the error page lost the draft.
func TestRateLimitedSubmitKeepsDraft(t *testing.T) {
	e := newEnv(t, "sqlite", func(c *web.Config) { c.SubmitEvery, c.SubmitBurst = time.Hour, 1 })
	b := e.browser("ko")
	toReview(t, b, "김민지")
	want(t, b.post("/claim", "action", "submit", "consent", "yes"), 200, `id="access-code"`)

	for _, tc := range []struct{ lang, message string }{
		{"ko", "3600초 뒤에 다시 제출해 주세요"},
		{"en", "submit it again in 3600 seconds"},
	} {
		b := e.browser(tc.lang)
		toReview(t, b, "Jane Park")
		p := b.post("/claim", "action", "submit", "consent", "yes")
		want(t, p, http.StatusTooManyRequests, tc.message, `id="submit-claim"`, "Jane Park", `name="draft"`)
		if !strings.Contains(p.Body, `name="consent" value="yes" checked`) {
			t.Errorf("%s: consent not kept", tc.lang)
		}
		if got := p.Header.Get("Retry-After"); got != "3600" {
			t.Errorf("%s: Retry-After %q", tc.lang, got)
		}
	}
	var n int64
	e.st.Gorm().Table("claims").Count(&n)
	if n != 1 {
		t.Fatalf("%d claims stored", n)
	}
}
