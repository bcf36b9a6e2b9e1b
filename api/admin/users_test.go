package admin_test

import (
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/claimdesk/claimdesk/internal/auth"
	"github.com/claimdesk/claimdesk/models"
)

// TestUsersPage: admins invite (the initial password shown once) and disable; lawyers are
// refused; a form without the CSRF token is refused.
func TestUsersPage(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		e.newUser("lawyer", "lawyer@example.com")
		e.newUser("admin", "admin@example.com")
		lawyer := e.browser()
		lawyer.signIn("lawyer@example.com")
		wantStatus(t, lawyer.get("/admin/users"), http.StatusForbidden)
		lawyer.get("/admin/audit")
		wantStatus(t, lawyer.post("/admin/users", "email", "x@example.com", "role", "admin"), http.StatusForbidden)

		b := e.browser()
		b.signIn("admin@example.com")
		wantStatus(t, b.get("/admin/users"), http.StatusOK)
		// No CSRF token: refused, nothing created.
		wantStatus(t, b.postForm("/admin/users", url.Values{"email": {"x@example.com"}, "role": {"lawyer"}}), http.StatusForbidden)
		p := b.post("/admin/users", "email", "not an email", "role", "lawyer")
		wantStatus(t, p, http.StatusUnprocessableEntity)
		if !strings.Contains(p.Body, `id="invite-email-err"`) {
			t.Fatal("email error not at its field")
		}
		p = b.post("/admin/users", "email", "New@Example.com", "role", "lawyer")
		wantStatus(t, p, http.StatusCreated)
		m := regexp.MustCompile(`id="initial-password">([^<]+)<`).FindStringSubmatch(p.Body)
		if m == nil {
			t.Fatalf("no initial password: %.2000s", p.Body)
		}
		if cc := p.Header.Get("Cache-Control"); cc != "no-store" {
			t.Fatalf("the page with the initial password is sent with Cache-Control %q", cc)
		}
		var u models.User
		e.st.Gorm().Where("email = ?", "new@example.com").Take(&u)
		if !auth.CheckPassword(u.PasswordHash, m[1]) {
			t.Fatal("the password shown is not the user's")
		}
		if strings.Contains(b.get("/admin/users").Body, m[1]) {
			t.Fatal("initial password shown twice")
		}
		wantStatus(t, b.post("/admin/users", "email", "new@example.com", "role", "lawyer"), http.StatusConflict)
		p = b.post("/admin/users/" + strconv.FormatInt(u.ID, 10) + "/disable")
		wantStatus(t, p, http.StatusSeeOther)
		p = b.get(p.Header.Get("Location"))
		if !strings.Contains(p.Body, "new@example.com") || !strings.Contains(p.Body, `role="status"`) {
			t.Fatal("no notice after disabling")
		}
		if ev := e.lastAudit("user"); ev.Action != "disable" || ev.ActorName != "admin@example.com" {
			t.Fatalf("disable audit %+v", ev)
		}
	})
}
