package web_test

import (
	"context"
	"fmt"
	"html"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/text/unicode/norm"

	"github.com/claimdesk/claimdesk/api/web"
	"github.com/claimdesk/claimdesk/internal/audit"
	"github.com/claimdesk/claimdesk/internal/claims"
	"github.com/claimdesk/claimdesk/internal/intake"
	"github.com/claimdesk/claimdesk/internal/lifecycle"
	"github.com/claimdesk/claimdesk/internal/messages"
	"github.com/claimdesk/claimdesk/internal/ratelimit"
	"github.com/claimdesk/claimdesk/internal/testdb"
)

// lookupFrom posts a status lookup as if from the client address ip (the test router trusts
// X-Forwarded-For).
func (b *browser) lookupFrom(ip, ref, code string) int {
	b.t.Helper()
	f := url.Values{"csrf": {b.csrf}, "reference": {ref}, "access_code": {code}}
	req, _ := http.NewRequest(http.MethodPost, b.e.srv.URL+"/status", strings.NewReader(f.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-Forwarded-For", ip)
	res, err := b.c.Do(req)
	if err != nil {
		b.t.Error(err)
		return 0
	}
	res.Body.Close()
	return res.StatusCode
}

// TestStatusLookupLimitedPerReference: wrong codes for one reference are limited however many
// addresses they come from (10 per reference, as in the API).
func TestStatusLookupLimitedPerReference(t *testing.T) {
	e := newEnv(t, "sqlite")
	b := e.browser("ko")
	ref, _ := fileClaim(t, b)
	b.get("/status")
	for i := 0; i < 40; i++ {
		want := 401
		if i >= 10 {
			want = 429
		}
		if st := b.lookupFrom(fmt.Sprintf("198.51.100.%d", i+1), ref, "0000-0000-0000-0000"); st != want {
			t.Fatalf("attempt %d: %d, want %d", i, st, want)
		}
	}
}

// TestStatusLookupGroupsIPv6: the addresses of one IPv6 /64 (one subscriber) share one budget,
// or rotating through them would be free.
func TestStatusLookupGroupsIPv6(t *testing.T) {
	e := newEnv(t, "sqlite")
	b := e.browser("ko")
	b.get("/status")
	for i := 0; i < 40; i++ {
		want := 401
		if i >= 10 {
			want = 429
		}
		ref := fmt.Sprintf("CD-0000-0000-%04d", i)
		if st := b.lookupFrom(fmt.Sprintf("2001:db8:1:2::%x", i+1), ref, "0000-0000-0000-0000"); st != want {
			t.Fatalf("attempt %d: %d, want %d", i, st, want)
		}
	}
}

// TestStatusLookupRetryAfter: with the service's own limits, the page refuses a guesser after
// the access-code budget it shares with the API (10 wrong codes), and says to come back when
// that budget has one more (a minute), as the API does.
func TestStatusLookupRetryAfter(t *testing.T) {
	e := newEnv(t, "sqlite", func(c *web.Config) { c.SubmitEvery, c.SubmitBurst = 0, 0 })
	b := e.browser("ko")
	b.get("/status")
	for i := 0; i < 10; i++ {
		if p := b.post("/status", "reference", "CD-0000-0000-0000", "access_code", "x"); p.Status != 401 {
			t.Fatalf("lookup %d: %d, want 401", i, p.Status)
		}
	}
	p := b.post("/status", "reference", "CD-0000-0000-0000", "access_code", "x")
	if p.Status != 429 || p.Header.Get("Retry-After") != "60" {
		t.Fatalf("lookup 10: %d Retry-After %q, want 429 after 60", p.Status, p.Header.Get("Retry-After"))
	}
}

// TestStatusLookupLimitHoldsUnderParallelGuesses: lookups sent all at once from one address
// are limited like lookups sent one by one.
func TestStatusLookupLimitHoldsUnderParallelGuesses(t *testing.T) {
	e := newEnv(t, "postgres", func(c *web.Config) { c.CodeFailures = ratelimit.New(time.Hour, 5) })
	b := e.browser("ko")
	b.get("/status")
	var (
		mu    sync.Mutex
		wg    sync.WaitGroup
		got   = map[int]int{}
		start = make(chan struct{})
	)
	for i := 0; i < 30; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			st := b.lookupFrom("203.0.113.9", "CD-0000-0000-0000", "0000-0000-0000-0000")
			mu.Lock()
			got[st]++
			mu.Unlock()
		}()
	}
	close(start)
	wg.Wait()
	if got[401] > 5 || got[401]+got[429] != 30 {
		t.Fatalf("statuses %v: want at most 5 checked (401), the rest 429", got)
	}
}

// signedInClaim files a claim through the claims service and signs b in to its status page. It
// returns the claim's reference and access code.
func (e *env) signedInClaim(b *browser) (ref, code string) {
	e.t.Helper()
	yes := true
	res, err := e.claims.Submit(context.Background(), "kakao-2022", intake.ClaimInput{Consent: &yes,
		Claimant: intake.ClaimantInput{Name: "김민지", Email: "minji@example.com"},
		Items:    []intake.ItemInput{{Kind: "taxi_booking", OccurredAt: "2022-10-15 18:30", Failure: "no_driver"}}},
		claims.Meta{Channel: claims.ChannelWeb, IP: "192.0.2.1"})
	if err != nil {
		e.t.Fatal(err)
	}
	ref, code = res.Claim.Reference, res.AccessCode
	b.get("/status") // the form's token
	if p := b.post("/status", "reference", ref, "access_code", code); p.Status != http.StatusSeeOther {
		e.t.Fatalf("lookup: %d %s", p.Status, p.Body)
	}
	return ref, code
}

// statusCookie is b's status-page session cookie.
func (b *browser) statusCookie() *http.Cookie {
	b.t.Helper()
	u, _ := url.Parse(b.e.srv.URL + "/status")
	for _, c := range b.c.Jar.Cookies(u) {
		if c.Name == "cd_status" {
			return c
		}
	}
	b.t.Fatal("no status session cookie")
	return nil
}

// replay opens the status page in a browser holding only a copy of the session cookie c, as
// another computer would that the cookie was copied to.
func (e *env) replay(c *http.Cookie) page {
	e.t.Helper()
	b := e.browser("ko")
	u, _ := url.Parse(e.srv.URL + "/status")
	b.c.Jar.(*cookiejar.Jar).SetCookies(u, []*http.Cookie{{Name: c.Name, Value: c.Value, Path: "/status"}})
	return b.get("/status")
}

// TestActsEndCopiedSessions: signing out, withdrawing and an admin's erasure end every session
// of the claim, not only the cookie of the browser that acted: a copy of the cookie (another
// browser, a shared computer) is refused after them, as if signed out. Signing in again, later,
// works, in the same second too.
func TestActsEndCopiedSessions(t *testing.T) {
	for _, tc := range []struct {
		name string
		act  func(t *testing.T, e *env, b *browser, ref string)
	}{
		{"sign-out", func(t *testing.T, e *env, b *browser, ref string) {
			if p := b.post("/status/signout"); p.Status != http.StatusSeeOther {
				t.Fatalf("sign-out: %d %s", p.Status, p.Body)
			}
		}},
		{"withdrawal", func(t *testing.T, e *env, b *browser, ref string) {
			if p := b.post("/status/withdraw", "confirm", "yes"); p.Status != http.StatusSeeOther || p.Header.Get("Location") != "/status?done=withdrawn" {
				t.Fatalf("withdraw: %d %s", p.Status, p.Header.Get("Location"))
			}
		}},
		{"erasure", func(t *testing.T, e *env, b *browser, ref string) {
			cl, err := e.st.ClaimByReference(context.Background(), ref)
			if err != nil {
				t.Fatal(err)
			}
			if ok, err := e.claims.Erase(context.Background(), cl, audit.Actor{Kind: audit.ActorToken, Name: "admin"}, "request"); !ok || err != nil {
				t.Fatalf("erase: %v %v", ok, err)
			}
		}},
	} {
		for _, d := range testdb.Dialects() {
			t.Run(tc.name+"/"+d, func(t *testing.T) {
				t.Parallel()
				e := newEnv(t, d)
				b := e.browser("ko")
				ref, code := e.signedInClaim(b)
				copied := b.statusCookie()
				want(t, e.replay(copied), 200, `id="claim-status"`, ref) // a copy works like the original

				b.get("/status") // the page's form token
				tc.act(t, e, b, ref)
				for who, p := range map[string]page{"the copy": e.replay(copied), "the browser that acted": b.get("/status")} {
					if p.Status != 200 || !strings.Contains(p.Body, `name="access_code"`) || strings.Contains(p.Body, `id="claim-status"`) {
						t.Fatalf("%s after the %s: %d, not the sign-in page:\n%s", who, tc.name, p.Status, p.Body)
					}
				}
				cl, err := e.st.ClaimByReference(context.Background(), ref)
				if err != nil {
					t.Fatal(err)
				}
				// The sign-in, the act and the sign-in below all fall within the second from
				// testNow: whole seconds could not tell them apart.
				if cl.SessionsEndedAt == nil || !cl.SessionsEndedAt.Truncate(time.Second).Equal(testNow) {
					t.Fatalf("sessions ended at %v", cl.SessionsEndedAt)
				}

				// Signing in again begins a new session, which a copy shares; the old copy stays out.
				if p := b.post("/status", "reference", ref, "access_code", code); p.Status != http.StatusSeeOther {
					t.Fatalf("lookup after the %s: %d %s", tc.name, p.Status, p.Body)
				}
				want(t, b.get("/status"), 200, `id="claim-status"`, ref)
				want(t, e.replay(b.statusCookie()), 200, `id="claim-status"`, ref)
				p := e.replay(copied)
				want(t, p, 200, `name="access_code"`)
				wantNot(t, p, `id="claim-status"`)
			})
		}
	}
}

// The store's refusal of one file too many is shown with its parameter filled in.
func TestEvidenceLimit(t *testing.T) {
	e := newEnv(t, "sqlite")
	b := e.browser("ko")
	e.signedInClaim(b)
	b.get("/status") // the page's form token
	png := pngBytes(t)
	for i := 0; i < web.MaxEvidenceFiles; i++ {
		if p := b.upload(fmt.Sprintf("r%d.png", i), png); p.Status != http.StatusSeeOther {
			t.Fatalf("upload %d: %d %s", i, p.Status, p.Body)
		}
	}
	want(t, b.upload("one-more.png", png), 422, fmt.Sprintf("파일은 청구당 %d개까지", web.MaxEvidenceFiles))
}

// A withdrawal refused because staff decided the claim meanwhile says so, with the claim's
// status: it said "청구를 철회했습니다" (withdrawn) though nothing was withdrawn. The notice of a
// withdrawal is shown only with a withdrawn claim, whatever the link says.
func TestWithdrawAfterStaffDecided(t *testing.T) {
	e := newEnv(t, "sqlite")
	b := e.browser("ko")
	ref, _ := e.signedInClaim(b)
	want(t, b.get("/status/withdraw"), 200, `id="withdraw-confirm"`) // the claimant's page, before staff act

	ctx := context.Background()
	cl, err := e.st.ClaimByReference(ctx, ref)
	if err != nil {
		t.Fatal(err)
	}
	for _, to := range []string{lifecycle.UnderReview, lifecycle.Approved} {
		if _, err := e.claims.Transition(ctx, cl, lifecycle.Request{To: to}, audit.Actor{Kind: audit.ActorToken, Name: "lawyer"}); err != nil {
			t.Fatalf("to %s: %v", to, err)
		}
	}
	p := b.post("/status/withdraw", "confirm", "yes")
	want(t, p, http.StatusConflict, "이 청구는 더 이상 철회할 수 없습니다", `id="claim-status">승인됨<`)
	wantNot(t, p, "청구를 철회했습니다", `id="withdraw-link"`)

	p = b.get("/status?done=withdrawn")
	want(t, p, 200, `id="claim-status">승인됨<`)
	wantNot(t, p, "청구를 철회했습니다")
	// Without a session, the link alone says nothing either.
	p = e.browser("ko").get("/status?done=withdrawn")
	want(t, p, 200, `name="access_code"`)
	wantNot(t, p, "청구를 철회했습니다")

	if cl, _ = e.st.ClaimByReference(ctx, ref); cl.Status != lifecycle.Approved || cl.ClaimantName == "" {
		t.Fatalf("claim %s, name %q", cl.Status, cl.ClaimantName)
	}
}

// A name corrected on the status page is stored as at filing: trimmed and in NFC. Typed on a
// Mac it arrives decomposed (jamo), and was stored so, where a search for the name typed
// anywhere else missed it.
func TestContactNameStoredInNFC(t *testing.T) {
	e := newEnv(t, "sqlite")
	b := e.browser("ko")
	ref, _ := e.signedInClaim(b)
	b.get("/status")
	decomposed := norm.NFD.String(" 박서준 ")
	if decomposed == " 박서준 " {
		t.Fatal("the test name is not decomposed")
	}
	if p := b.post("/status/contact", "name", decomposed, "email", " Seojun@Example.com ", "phone", "010-9876-5432"); p.Status != http.StatusSeeOther {
		t.Fatalf("contact: %d %s", p.Status, p.Body)
	}
	cl, err := e.st.ClaimByReference(context.Background(), ref)
	if err != nil {
		t.Fatal(err)
	}
	if cl.ClaimantName != "박서준" || cl.ClaimantEmail != "seojun@example.com" || cl.ClaimantPhone != "+821098765432" {
		t.Fatalf("stored %q %q %q", cl.ClaimantName, cl.ClaimantEmail, cl.ClaimantPhone)
	}
}

// langLinkRe finds the language links of a page.
var langLinkRe = regexp.MustCompile(`<a href="([^"]*)" lang="(ko|en)" hreflang=`)

// The language links of a page rendered from a post (a form shown again with its errors, a
// refusal) lead to a page that answers GET, in the language chosen: they were relative
// ("?lang=en") and led to GET /status/contact?lang=en, a 405 in JSON. Links of pages reached by
// GET keep their reference.
func TestLanguageLinksOfPostedPages(t *testing.T) {
	e := newEnv(t, "sqlite")
	b := e.browser("ko")
	ref, _ := e.signedInClaim(b)
	b.get("/status")
	stranger := e.browser("ko")
	stranger.get("/status")
	forged := e.browser("ko")
	forged.get("/claim")
	forged.csrf, forged.draft = "forged", "!!"
	ctx := context.Background()
	for _, tc := range []struct {
		name, path string // path: where the page was answered, which a relative link is read against
		who        *browser
		page       func() page
	}{
		{"contact 422", "/status/contact", b, func() page { return b.post("/status/contact", "name", "김민지", "email", "not-an-email") }},
		{"evidence 422", "/status/evidence", b, func() page { return b.upload("r.png", []byte("not a picture")) }},
		{"lookup 401", "/status", stranger, func() page {
			return stranger.post("/status", "reference", ref, "access_code", "0000-0000-0000-0000")
		}},
		{"claim 403", "/claim", forged, func() page { return forged.post("/claim", "action", "next") }},
		{"withdraw 409", "/status/withdraw", b, func() page {
			cl, err := e.st.ClaimByReference(ctx, ref)
			if err != nil {
				t.Fatal(err)
			}
			for _, to := range []string{lifecycle.UnderReview, lifecycle.Rejected} {
				req := lifecycle.Request{To: to, Reasons: []string{lifecycle.ReasonOther}, Note: "test"}
				if _, err := e.claims.Transition(ctx, cl, req, audit.Actor{Kind: audit.ActorToken, Name: "lawyer"}); err != nil {
					t.Fatalf("to %s: %v", to, err)
				}
			}
			return b.post("/status/withdraw", "confirm", "yes")
		}},
		{"status by link", "/status?reference=" + ref + "&done=contact", stranger, func() page {
			return stranger.get("/status?reference=" + ref + "&done=contact")
		}},
	} {
		p := tc.page()
		if p.Status < 400 && tc.name != "status by link" {
			t.Fatalf("%s: %d", tc.name, p.Status)
		}
		links := langLinkRe.FindAllStringSubmatch(p.Body, -1)
		if len(links) != 2 {
			t.Fatalf("%s: language links %q", tc.name, links)
		}
		base, _ := url.Parse(tc.path)
		for _, l := range links {
			lang := l[2]
			href, err := url.Parse(html.UnescapeString(l[1]))
			if err != nil {
				t.Fatal(err)
			}
			target := base.ResolveReference(href).String()
			if tc.name == "status by link" && !strings.Contains(target, "reference="+ref) {
				t.Errorf("%s: %s link %q lost the reference", tc.name, lang, target)
			}
			got := tc.who.get(target)
			if got.Status != 200 || !strings.HasPrefix(got.Header.Get("Content-Type"), "text/html") || !strings.Contains(got.Body, `<html lang="`+lang+`">`) {
				t.Errorf("%s: %s link to %q: %d %s, want a page in %s", tc.name, lang, target, got.Status, got.Header.Get("Content-Type"), lang)
			}
		}
	}
}

// TestSessionSlides: a claimant who keeps using the status page stays signed in past 30
// minutes from signing in, each use counting from itself (it was renewed only every 5 minutes,
// so a use 4 minutes after the last renewal and the next 29 minutes later found the session
// gone); one idle for longer is signed out, and the page they land on says so (what they sent
// was lost). A browser drops a cookie on its own (real) clock, which the test's client does not
// share: every signed-in answer must set a cookie that a browser still sends after the 31 idle
// minutes, or the server never sees the expired session and cannot say why (it set one that
// lived exactly the 30 minutes of the session).
func TestSessionSlides(t *testing.T) {
	var mu sync.Mutex
	at := testNow
	var ticks atomic.Int64
	clock := func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		return at.Add(time.Duration(ticks.Add(1)) * time.Microsecond)
	}
	wait := func(d time.Duration) { mu.Lock(); at = at.Add(d); mu.Unlock() }
	e := newEnv(t, "sqlite", func(c *web.Config) { c.Now = clock; c.Claims.Now = clock })
	b := e.browser("ko")
	e.signedInClaim(b)
	const idle = 31 * time.Minute
	for _, d := range []time.Duration{25 * time.Minute, 4 * time.Minute, 29 * time.Minute, 29 * time.Minute} {
		wait(d)
		p := b.post("/status/contact", "name", "김민지", "email", "minji@example.com", "phone", "")
		if p.Status != http.StatusSeeOther || p.Header.Get("Location") != "/status?done=contact" {
			t.Fatalf("a correction %v after the last: %d %s", d, p.Status, p.Header.Get("Location"))
		}
		c := setCookie(p, "cd_status")
		if c == nil || c.Value == "" {
			t.Fatalf("a correction %v after the last did not issue the session again: %q", d, p.Header.Values("Set-Cookie"))
		}
		if !keptFor(c, idle) {
			t.Fatalf("the session cookie %q is dropped by a browser before %v idle, when the page would say why", p.Header.Values("Set-Cookie"), idle)
		}
	}
	wait(idle)
	p := b.post("/status/contact", "name", "김민지", "email", "minji@example.com", "phone", "")
	if p.Status != http.StatusSeeOther || p.Header.Get("Location") != "/status?expired=1" {
		t.Fatalf("a correction after 31 idle minutes: %d %s", p.Status, p.Header.Get("Location"))
	}
	if page := b.get(p.Header.Get("Location")); !strings.Contains(page.Body, messages.Text(messages.Ko, "session_expired", nil)) {
		t.Errorf("the lookup does not say the session expired:\n%s", page.Body)
	}
}

// setCookie is the cookie name that p sets, nil if it sets none.
func setCookie(p page, name string) *http.Cookie {
	for _, c := range (&http.Response{Header: p.Header}).Cookies() {
		if c.Name == name {
			return c
		}
	}
	return nil
}

// keptFor reports whether a browser that got c just now still sends it after d: a cookie
// without Max-Age and Expires lasts as long as the browser runs.
func keptFor(c *http.Cookie, d time.Duration) bool {
	switch {
	case c.MaxAge < 0:
		return false
	case c.MaxAge > 0:
		return time.Duration(c.MaxAge)*time.Second > d
	case !c.Expires.IsZero():
		return time.Until(c.Expires) > d
	}
	return true
}
