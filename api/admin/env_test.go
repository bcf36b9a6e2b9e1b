package admin_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/claimdesk/claimdesk/api"
	"github.com/claimdesk/claimdesk/internal/auth"
	"github.com/claimdesk/claimdesk/internal/store"
	"github.com/claimdesk/claimdesk/internal/testdb"
	"github.com/claimdesk/claimdesk/internal/testdb/casedb"
	"github.com/claimdesk/claimdesk/models"
)

func TestMain(m *testing.M) { testdb.Main(m) }

func init() { auth.PasswordCost = 4 } // bcrypt's minimum: tests hash many passwords

// testNow is after the outage, so its times are in the past.
var testNow = time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)

const testPassword = "correct horse battery staple"

// env is the whole service (API, claimant pages, workspace) over one fresh database, served
// over real HTTP, with a lawyer, an admin and API tokens of each role.
type env struct {
	t   *testing.T
	st  *store.Store
	cs  *store.Case
	srv *httptest.Server
	// tokens by role
	tokens map[auth.Role]string
}

func newEnv(t *testing.T, dialect string) *env {
	t.Helper()
	st, cs := casedb.Open(t, dialect)
	e := &env{t: t, st: st, cs: cs, tokens: map[auth.Role]string{}}
	for _, r := range auth.Roles {
		e.tokens[r] = casedb.Token(t, st, r, string(r))
	}
	h := api.New(api.Config{Store: st, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Now: func() time.Time { return testNow },
		Background: func(fn func(context.Context)) { fn(context.Background()) }})
	e.srv = httptest.NewServer(h)
	t.Cleanup(e.srv.Close)
	return e
}

// eachDB runs fn against PostgreSQL and SQLite, in parallel.
func eachDB(t *testing.T, fn func(t *testing.T, e *env)) {
	t.Helper()
	for _, d := range testdb.Dialects() {
		t.Run(d, func(t *testing.T) {
			t.Parallel()
			fn(t, newEnv(t, d))
		})
	}
}

// newUser stores a user with testPassword.
func (e *env) newUser(role, email string) {
	e.t.Helper()
	casedb.User(e.t, e.st, email, auth.Role(role), testPassword, testNow)
}

// submit files a claim through the API and returns its reference.
func (e *env) submit(body string) string {
	e.t.Helper()
	res, err := http.Post(e.srv.URL+"/api/v1/cases/kakao-2022/claims", "application/json", strings.NewReader(body))
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	var out struct{ Reference string }
	json.NewDecoder(res.Body).Decode(&out)
	if res.StatusCode != 201 || out.Reference == "" {
		e.t.Fatalf("submit: %d", res.StatusCode)
	}
	return out.Reference
}

// taxiClaim is a claim with one eligible taxi booking, from a claimant named name.
func taxiClaim(name, email string) string {
	return `{"claimant": {"name": "` + name + `", "email": "` + email + `", "locale": "ko"}, "consent": true,
	"items": [{"kind": "taxi_booking", "occurred_at": "2022-10-15T18:30", "failure": "no_driver", "expected_fare_krw": 12000, "alternative_cost_krw": 31000}]}`
}

// browser is an HTTP client with cookies that does not follow redirects: a person clicking
// through the pages without JavaScript. It remembers the last page's CSRF token.
type browser struct {
	t    *testing.T
	e    *env
	c    *http.Client
	csrf string
}

type page struct {
	Status int
	Header http.Header
	Body   string
}

func (e *env) browser() *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{t: e.t, e: e, c: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

var csrfRe = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

func (b *browser) do(req *http.Request) page {
	b.t.Helper()
	res, err := b.c.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	p := page{Status: res.StatusCode, Header: res.Header, Body: string(body)}
	if m := csrfRe.FindStringSubmatch(p.Body); m != nil {
		b.csrf = m[1]
	}
	return p
}

// get loads a page; headers are pairs.
func (b *browser) get(path string, headers ...string) page {
	b.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, b.e.srv.URL+path, nil)
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	return b.do(req)
}

// post sends a form with the last page's CSRF token; kv are field pairs.
func (b *browser) post(path string, kv ...string) page {
	b.t.Helper()
	f := url.Values{"csrf": {b.csrf}}
	for i := 0; i+1 < len(kv); i += 2 {
		f.Add(kv[i], kv[i+1])
	}
	return b.postForm(path, f)
}

func (b *browser) postForm(path string, f url.Values) page {
	b.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, b.e.srv.URL+path, strings.NewReader(f.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return b.do(req)
}

// signIn signs in as email with testPassword through the sign-in page.
func (b *browser) signIn(email string) {
	b.t.Helper()
	p := b.postForm("/admin/login", url.Values{"email": {email}, "password": {testPassword}, "next": {"/admin"}})
	if p.Status != http.StatusSeeOther {
		b.t.Fatalf("sign in as %s: %d %s", email, p.Status, p.Body)
	}
}

func wantStatus(t *testing.T, p page, want int) {
	t.Helper()
	if p.Status != want {
		t.Fatalf("status %d, want %d: %.2000s", p.Status, want, p.Body)
	}
}

// resetStatus puts a claim back to received (test setup between browser runs).
func (e *env) resetStatus(ref string) {
	e.t.Helper()
	if err := e.st.Gorm().Exec(`UPDATE claims SET status = 'received', cure_deadline = NULL WHERE reference = ?`, ref).Error; err != nil {
		e.t.Fatal(err)
	}
}

// lastAudit is the newest audit event of entity.
func (e *env) lastAudit(entity string) models.AuditEvent {
	e.t.Helper()
	var ev models.AuditEvent
	e.st.Gorm().Where("entity = ?", entity).Order("id DESC").Limit(1).Find(&ev)
	return ev
}
