package admin_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/claimdesk/claimdesk/api/admin"
	"github.com/claimdesk/claimdesk/internal/auth"
)

// TestSignInAndPages signs a lawyer in through the page and opens every page of the nav.
func TestSignInAndPages(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		e.newUser("lawyer", "lawyer@example.com")
		b := e.browser()
		p := b.get("/admin")
		wantStatus(t, p, http.StatusSeeOther)
		if loc := p.Header.Get("Location"); loc != "/admin/login?next=%2Fadmin" {
			t.Fatalf("redirect to %q", loc)
		}
		b.signIn("lawyer@example.com")
		p = b.get("/admin")
		wantStatus(t, p, http.StatusSeeOther)
		for _, path := range []string{"/admin/cases/kakao-2022", "/admin/cases/kakao-2022/duplicates", "/admin/audit"} {
			p = b.get(path)
			wantStatus(t, p, http.StatusOK)
			if !strings.Contains(p.Body, "lawyer@example.com") || b.csrf == "" {
				t.Fatalf("%s: no signed-in user or CSRF token", path)
			}
			if csp := p.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'none'") {
				t.Fatalf("%s: CSP %q", path, csp)
			}
		}
		// Users is for admins.
		wantStatus(t, b.get("/admin/users"), http.StatusForbidden)
		// English.
		p = b.get("/admin/cases/kakao-2022?lang=en")
		if !strings.Contains(p.Body, `<html lang="en">`) || !strings.Contains(p.Body, "Dashboard") {
			t.Fatalf("english page: %.500s", p.Body)
		}
	})
}

// TestTokenPosts: a form posted with a bearer token (no CSRF token: no browser sends one on
// its own) is read as a session's is: within MaxFormBytes, and the windows form whole.
func TestTokenPosts(t *testing.T) {
	e := newEnv(t, "sqlite")
	e.newUser("lawyer", "lawyer@example.com")
	lw := e.browser()
	lw.signIn("lawyer@example.com")
	f := windowsForm(t, lw.get("/admin/cases/kakao-2022").Body)
	f["source"][0] = "edited with a token"
	tok := e.browser()
	post := func(path string, f url.Values) page {
		t.Helper()
		req, _ := http.NewRequest(http.MethodPost, e.srv.URL+path, strings.NewReader(f.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Authorization", "Bearer "+e.tokens[auth.Lawyer])
		return tok.do(req)
	}
	wantStatus(t, post("/admin/cases/kakao-2022/windows", f), http.StatusSeeOther)
	if ev := e.lastAudit("windows"); !strings.Contains(*ev.After, "edited with a token") {
		t.Fatalf("windows change audit %+v", ev)
	}
	wantStatus(t, post("/admin/cases/kakao-2022/rules", url.Values{"rules": {strings.Repeat(" ", admin.MaxFormBytes)}}), http.StatusRequestEntityTooLarge)
	// A malformed form is the client's error, not a large one.
	req, _ := http.NewRequest(http.MethodPost, e.srv.URL+"/admin/cases/kakao-2022/rules", strings.NewReader("rules=%zz"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Authorization", "Bearer "+e.tokens[auth.Lawyer])
	wantStatus(t, tok.do(req), http.StatusBadRequest)
}
