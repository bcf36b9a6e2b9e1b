package admin_test

import (
	"net/http"
	"strings"
	"testing"
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
