package api_test

import (
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/claimdesk/claimdesk/api"
	"github.com/claimdesk/claimdesk/internal/auth"
	"github.com/claimdesk/claimdesk/internal/testdb"
	"github.com/claimdesk/claimdesk/internal/testdb/casedb"
	"github.com/claimdesk/claimdesk/models"
)

const testPassword = "correct horse battery staple"

func init() { auth.PasswordCost = 4 } // bcrypt's minimum: tests hash many passwords

// newUser stores a user with testPassword and returns its id.
func (e *env) newUser(role, email string) int64 {
	e.t.Helper()
	return casedb.User(e.t, e.st, email, auth.Role(role), testPassword, testNow).ID
}

// session is a signed-in browser: its cookie and CSRF token.
type session struct {
	cookie, csrf string
}

func (s session) headers(csrf bool) []string {
	h := []string{"Cookie", api.SessionCookie + "=" + s.cookie}
	if csrf {
		h = append(h, "X-CSRF-Token", s.csrf)
	}
	return h
}

// signIn signs the user in with testPassword.
func (e *env) signIn(id int64) session {
	e.t.Helper()
	var u models.User
	e.st.Gorm().Where("id = ?", id).Take(&u)
	r := e.do("POST", "/api/v1/session", map[string]any{"email": u.Email, "password": testPassword})
	wantStatus(e.t, r, 200)
	return sessionOf(e.t, r)
}

func sessionOf(t *testing.T, r resp) session {
	t.Helper()
	var s session
	for _, c := range (&http.Response{Header: r.Header}).Cookies() {
		if c.Name == api.SessionCookie {
			if !c.Secure || !c.HttpOnly || c.SameSite != http.SameSiteStrictMode || c.Path != "/" {
				t.Fatalf("cookie attributes %+v", c)
			}
			s.cookie = c.Value
		}
	}
	var body api.SessionResponse
	json.Unmarshal(r.Body, &body)
	s.csrf = body.CSRFToken
	if s.cookie == "" || s.csrf == "" {
		t.Fatalf("no session in %v %s", r.Header, r.Body)
	}
	return s
}

// clockEnv is an env whose clock a test moves.
type clockEnv struct {
	*env
	mu  sync.Mutex
	now time.Time
}

func (c *clockEnv) advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

func newClockEnv(t *testing.T, dialect string) *clockEnv {
	e := newEnv(t, dialect)
	c := &clockEnv{env: e, now: testNow}
	e.h = api.New(api.Config{Store: e.st, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), SessionIdle: 30 * time.Minute,
		Now: func() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }})
	return c
}

func TestUsersAndSessions(t *testing.T) {
	eachClockDB(t, func(t *testing.T, e *clockEnv) {
		// An admin invites a lawyer; the initial password is shown once, never the hash.
		r := e.do("POST", "/api/v1/users", map[string]any{"email": " Lawyer@Example.com ", "role": "lawyer"}, bearer(e.admin)...)
		wantStatus(t, r, 201)
		var u api.UserResponse
		json.Unmarshal(r.Body, &u)
		if u.Email != "lawyer@example.com" || u.Role != "lawyer" || len(u.InitialPassword) < 12 || u.DisabledAt != nil || strings.Contains(string(r.Body), "$2a$") {
			t.Fatalf("%s", r.Body)
		}
		wantStatus(t, e.do("POST", "/api/v1/users", map[string]any{"email": "lawyer@example.com", "role": "lawyer"}, bearer(e.admin)...), 409)
		wantStatus(t, e.do("POST", "/api/v1/users", map[string]any{"email": "x", "role": "importer", "password": "short"}, bearer(e.admin)...), 422)
		var ev models.AuditEvent
		e.st.Gorm().Where("entity = 'user' AND action = 'create'").Take(&ev)
		if ev.After == nil || strings.Contains(*ev.After, u.InitialPassword) {
			t.Fatalf("user creation audit %+v", ev)
		}

		// Sign in with the initial password; the session acts with the user's role.
		r = e.do("POST", "/api/v1/session", map[string]any{"email": "LAWYER@example.com", "password": u.InitialPassword})
		wantStatus(t, r, 200)
		s := sessionOf(t, r)
		wantStatus(t, e.do("GET", "/api/v1/cases/kakao-2022/claims", nil, s.headers(false)...), 200)
		wantStatus(t, e.do("GET", "/api/v1/users", nil, s.headers(false)...), 403) // a lawyer, not an admin
		g := e.do("GET", "/api/v1/session", nil, s.headers(false)...)
		wantStatus(t, g, 200)
		if !strings.Contains(string(g.Body), s.csrf) {
			t.Fatalf("%s", g.Body)
		}
		// Both answers say the same end: the idle time from now (within the 12-hour cap).
		idleEnd := e.now.Add(api.DefaultSessionIdle).UTC().Format(time.RFC3339)
		for _, b := range [][]byte{r.Body, g.Body} {
			var sr api.SessionResponse
			json.Unmarshal(b, &sr)
			if sr.ExpiresAt != idleEnd {
				t.Errorf("expires_at %q, want %q", sr.ExpiresAt, idleEnd)
			}
		}
		// Tokens keep working unchanged, without CSRF.
		ref := e.file(claim(taxi("2022-10-15T18:30:00+09:00")))
		wantStatus(t, e.move(ref, map[string]any{"to": "under_review"}, e.lawyer), 200)

		// CSRF: a state change by cookie needs the token and must not come from another site.
		body := map[string]any{"to": "deficient", "reasons": []string{"missing_evidence"}}
		r = e.do("POST", "/api/v1/claims/"+ref+"/transitions", body, s.headers(false)...)
		wantStatus(t, r, 403)
		r = e.do("POST", "/api/v1/claims/"+ref+"/transitions", body, append(s.headers(true), "Sec-Fetch-Site", "cross-site")...)
		wantStatus(t, r, 403)
		r = e.do("POST", "/api/v1/claims/"+ref+"/transitions", body, append(s.headers(false), "X-CSRF-Token", "forged")...)
		wantStatus(t, r, 403)
		r = e.do("POST", "/api/v1/claims/"+ref+"/transitions", body, append(s.headers(true), "Sec-Fetch-Site", "same-origin")...)
		wantStatus(t, r, 200)
		var tr api.TransitionResponse
		json.Unmarshal(r.Body, &tr)
		if tr.Actor.Kind != "user" || tr.Actor.Name != "lawyer@example.com" || tr.Actor.ID == nil || *tr.Actor.ID != u.ID {
			t.Fatalf("actor %+v", tr.Actor)
		}
		wantStatus(t, e.do("POST", "/api/v1/session", map[string]any{"email": "lawyer@example.com", "password": u.InitialPassword}, "Sec-Fetch-Site", "cross-site"), 403)
		// A browser still holding a live session signs in again (no CSRF token of the old
		// session needed); a cross-site sign-in is refused all the same.
		again := e.do("POST", "/api/v1/session", map[string]any{"email": "lawyer@example.com", "password": u.InitialPassword}, s.headers(false)...)
		wantStatus(t, again, 200)
		if sessionOf(t, again).csrf == s.csrf {
			t.Fatal("signing in again kept the old session")
		}
		wantStatus(t, e.do("POST", "/api/v1/session", map[string]any{"email": "lawyer@example.com", "password": u.InitialPassword},
			append(s.headers(false), "Sec-Fetch-Site", "cross-site")...), 403)

		// Inactivity: 29 minutes keep the session alive (and renew it), 31 more end it.
		e.advance(29 * time.Minute)
		wantStatus(t, e.do("GET", "/api/v1/session", nil, s.headers(false)...), 200)
		e.advance(29 * time.Minute)
		wantStatus(t, e.do("GET", "/api/v1/session", nil, s.headers(false)...), 200)
		e.advance(31 * time.Minute)
		wantStatus(t, e.do("GET", "/api/v1/session", nil, s.headers(false)...), 401)
		wantStatus(t, e.do("GET", "/api/v1/cases/kakao-2022/claims", nil, s.headers(false)...), 401)

		// Sign out ends the session.
		s = e.signIn(e.newUser("lawyer", "second@example.com"))
		wantStatus(t, e.do("DELETE", "/api/v1/session", nil, s.headers(false)...), 403)
		r = e.do("DELETE", "/api/v1/session", nil, s.headers(true)...)
		wantStatus(t, r, 204)
		if !strings.Contains(r.Header.Get("Set-Cookie"), "Max-Age=0") {
			t.Fatalf("cookie not cleared: %v", r.Header)
		}
		wantStatus(t, e.do("GET", "/api/v1/session", nil, s.headers(false)...), 401)

		// Disabling ends every session and refuses the next sign-in.
		r = e.do("POST", "/api/v1/session", map[string]any{"email": "lawyer@example.com", "password": u.InitialPassword})
		wantStatus(t, r, 200)
		s = sessionOf(t, r)
		r = e.do("POST", fmt.Sprintf("/api/v1/users/%d/disable", u.ID), nil, bearer(e.admin)...)
		wantStatus(t, r, 200)
		if !strings.Contains(string(r.Body), `"disabled_at":"`) {
			t.Fatalf("%s", r.Body)
		}
		wantStatus(t, e.do("GET", "/api/v1/session", nil, s.headers(false)...), 401)
		r = e.do("POST", "/api/v1/session", map[string]any{"email": "lawyer@example.com", "password": u.InitialPassword})
		wantStatus(t, r, 403)
		wantStatus(t, e.do("POST", fmt.Sprintf("/api/v1/users/%d/disable", u.ID), nil, bearer(e.admin)...), 409)
		wantStatus(t, e.do("POST", "/api/v1/users/999/disable", nil, bearer(e.admin)...), 404)
		// Nobody disables their own account (the last admin would lock everyone out).
		adminID := e.newUser("admin", "boss@example.com")
		as := e.signIn(adminID)
		r = e.do("POST", fmt.Sprintf("/api/v1/users/%d/disable", adminID), nil, append(as.headers(true), "Accept-Language", "en")...)
		wantStatus(t, r, 409)
		if !strings.Contains(string(r.Body), "cannot disable your own account") {
			t.Fatalf("%s", r.Body)
		}
		wantStatus(t, e.do("GET", "/api/v1/session", nil, as.headers(false)...), 200)
		l := e.do("GET", "/api/v1/users", nil, bearer(e.admin)...)
		wantStatus(t, l, 200)
	})
}

func eachClockDB(t *testing.T, fn func(t *testing.T, e *clockEnv)) {
	t.Helper()
	for _, d := range testdb.Dialects() {
		t.Run(d, func(t *testing.T) {
			t.Parallel()
			fn(t, newClockEnv(t, d))
		})
	}
}

func TestSignInBackOff(t *testing.T) {
	e := newEnv(t, "sqlite")
	e.newUser("admin", "boss@example.com")
	e.newUser("lawyer", "other@example.com")
	try := func(email, pw string, headers ...string) resp {
		return e.do("POST", "/api/v1/session", map[string]any{"email": email, "password": pw}, headers...)
	}
	// Empty fields are a validation error by field, and not attempts: they never lock anyone out.
	for i := 0; i < 10; i++ {
		r := try("boss@example.com", "")
		wantStatus(t, r, 422)
		if got := fields(t, r); strings.Join(got, "; ") != "password required" {
			t.Fatalf("fields %q", got)
		}
	}
	if got := fields(t, try(" ", "")); strings.Join(got, "; ") != "email required; password required" {
		t.Fatalf("fields %q", got)
	}
	for i := 0; i < 5; i++ {
		r := try("boss@example.com", "wrong password!")
		wantStatus(t, r, 401)
		if errCode(t, r) != "unauthorized" {
			t.Fatalf("%s", r.Body)
		}
	}
	// The account is locked for a while: even the right password is refused, with Retry-After.
	r := try("boss@example.com", testPassword)
	wantStatus(t, r, 429)
	if r.Header.Get("Retry-After") == "" {
		t.Fatal("no Retry-After")
	}
	// Another account from another address is not affected.
	wantStatus(t, try("other@example.com", testPassword, "X-Forwarded-For", "198.51.100.7"), 200)
	// An unknown email answers like a wrong password.
	wantStatus(t, try("nobody@example.com", testPassword), 401)
	// Per IP: many accounts guessed from one address are limited too.
	for i := 0; i < 30; i++ {
		try(fmt.Sprintf("u%d@example.com", i), "wrong password!")
	}
	wantStatus(t, try("other@example.com", testPassword), 429)
}

// TestReviewAuthorization checks who may call each endpoint of the lawyer workspace.
func TestReviewAuthorization(t *testing.T) {
	e := newEnv(t, "sqlite")
	ref := e.file(claim(taxi("2022-10-15T18:30:00+09:00")))
	for _, tc := range []struct {
		method, path string
		body         any
		admin, staff bool // admin only, or staff (admin and lawyer)
	}{
		{"POST", "/api/v1/claims/" + ref + "/transitions", map[string]any{"to": "flying"}, false, true},
		{"GET", "/api/v1/claims/" + ref + "/history", nil, false, true},
		{"POST", "/api/v1/cases/kakao-2022/claims/transitions", map[string]any{"references": []string{}, "to": "x"}, false, true},
		{"GET", "/api/v1/cases/kakao-2022/duplicates", nil, false, true},
		{"POST", "/api/v1/cases/kakao-2022/duplicates/decisions", map[string]any{}, false, true},
		{"GET", "/api/v1/audit", nil, false, true},
		{"GET", "/api/v1/audit.csv", nil, false, true},
		{"GET", "/api/v1/users", nil, true, true},
		{"POST", "/api/v1/users", map[string]any{}, true, true},
		{"POST", "/api/v1/users/1/disable", nil, true, true},
	} {
		for _, who := range []struct {
			name, token string
			ok          bool
		}{{"none", "", false}, {"importer", e.importer, false}, {"lawyer", e.lawyer, !tc.admin}, {"admin", e.admin, true}} {
			var h []string
			if who.token != "" {
				h = bearer(who.token)
			}
			r := e.do(tc.method, tc.path, tc.body, h...)
			switch {
			case who.token == "" && r.Status != 401:
				t.Errorf("%s %s as %s: %d, want 401", tc.method, tc.path, who.name, r.Status)
			case who.token != "" && !who.ok && r.Status != 403:
				t.Errorf("%s %s as %s: %d, want 403", tc.method, tc.path, who.name, r.Status)
			case who.ok && (r.Status == 401 || r.Status == 403):
				t.Errorf("%s %s as %s: %d, want allowed", tc.method, tc.path, who.name, r.Status)
			}
		}
	}
	// The session endpoints are for cookies: without one, 401.
	wantStatus(t, e.do("GET", "/api/v1/session", nil), 401)
	wantStatus(t, e.do("DELETE", "/api/v1/session", nil), 401)
	wantStatus(t, e.do("GET", "/api/v1/session", nil, bearer(e.admin)...), 401)
}
