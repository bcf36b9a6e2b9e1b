package admin_test

import (
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/claimdesk/claimdesk/internal/auth"
	"github.com/claimdesk/claimdesk/models"
)

// lastAudit is the newest audit event of entity.
func (e *env) lastAudit(entity string) models.AuditEvent {
	e.t.Helper()
	var ev models.AuditEvent
	e.st.Gorm().Where("entity = ?", entity).Order("id DESC").Limit(1).Find(&ev)
	return ev
}

// windowsForm is the windows form as the dashboard shows it, read from the page.
func windowsForm(t *testing.T, body string) url.Values {
	t.Helper()
	f := url.Values{}
	form := body[strings.Index(body, `id="windows-form"`):]
	form = form[:strings.Index(form, "</form>")]
	for _, m := range regexp.MustCompile(`<input name="(\w+)" id="[^"]+" value="([^"]*)"`).FindAllStringSubmatch(form, -1) {
		f.Add(m[1], html.UnescapeString(m[2]))
	}
	for _, m := range regexp.MustCompile(`(?s)<select name="severity"[^>]*>.*?<option value="(\w+)"[^>]* selected`).FindAllStringSubmatch(form, -1) {
		f.Add("severity", m[1])
	}
	return f
}

// TestDashboardPage: headline numbers, the report's three charts as accessible inline SVG,
// the windows table with sources, and the two forms, which refuse bad input by field path and
// change the case through the API's own paths (with their audit records).
func TestDashboardPage(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		e.newUser("lawyer", "lawyer@example.com")
		var refs []string
		for i, st := range []string{"received", "under_review", "cured", "approved"} {
			name, email := "홍길동", "hong@example.com"
			if i == 2 {
				name, email = "김철수", "kim@example.com"
			}
			refs = append(refs, e.submit(taxiClaim(name, email)))
			if err := e.st.Gorm().Exec(`UPDATE claims SET status = ? WHERE reference = ?`, st, refs[i]).Error; err != nil {
				t.Fatal(err)
			}
		}
		b := e.browser()
		b.signIn("lawyer@example.com")
		p := b.get("/admin/cases/kakao-2022?lang=en")
		wantStatus(t, p, http.StatusOK)
		for _, want := range []string{`id="stat-claimants">2<`, `id="stat-h0">4<`, `href="/admin/cases/kakao-2022/report"`,
			`aria-labelledby="chart-hourly-title chart-hourly-desc"`, `<title id="chart-daily-title">`, `<desc id="chart-benchmark-desc">`,
			`id="windows-table"`, "Kakao Mobility", `id="rules-json"`} {
			if !strings.Contains(p.Body, want) {
				t.Errorf("dashboard lacks %s", want)
			}
		}
		if n := strings.Count(p.Body, `role="img"`); n != 3 {
			t.Errorf("%d charts", n)
		}

		// "Awaiting review" counts received, under review and cured claims, and its link lists
		// exactly those; the list's filters form keeps the three statuses.
		m := regexp.MustCompile(`id="stat-awaiting"><a href="([^"]+)">(\d+)<`).FindStringSubmatch(p.Body)
		if m == nil {
			t.Fatal("no linked awaiting review figure")
		}
		l := b.get(html.UnescapeString(m[1]))
		wantStatus(t, l, http.StatusOK)
		if got := refsOf(l.Body); strconv.Itoa(len(got)) != m[2] {
			t.Errorf("awaiting review: the dashboard counts %s, its link lists %d claims", m[2], len(got))
		}
		sameRefs(t, "awaiting review", refsOf(l.Body), []string{refs[2], refs[1], refs[0]})
		if !strings.Contains(l.Body, `<option value="received,under_review,cured" selected>`) {
			t.Error("the filters form drops the awaiting review statuses")
		}

		// Windows: an unreadable time is refused, shown at its field; nothing changes.
		f := windowsForm(t, p.Body)
		if len(f["service"]) < 2 {
			t.Fatalf("windows form %v", f)
		}
		windowsBefore := e.lastAudit("windows").ID
		bad := url.Values{}
		for k, v := range f {
			bad[k] = append([]string(nil), v...)
		}
		bad["start"][0] = "yesterday"
		bad.Set("csrf", b.csrf)
		p = b.postForm("/admin/cases/kakao-2022/windows", bad)
		wantStatus(t, p, http.StatusUnprocessableEntity)
		if !strings.Contains(p.Body, `id="w-0-start" value="yesterday" aria-label="Start 1" placeholder="2022-10-15 15:30" size="16" aria-invalid="true" aria-describedby="w-0-start-err"`) ||
			!strings.Contains(p.Body, `id="w-0-start-err"`) {
			t.Fatalf("field error not shown at windows[0].start: %.3000s", p.Body[strings.Index(p.Body, `id="windows-form"`):])
		}
		if e.lastAudit("windows").ID != windowsBefore {
			t.Fatal("a refused change was audited")
		}
		// Without the form's rows, nothing is deleted.
		wantStatus(t, b.post("/admin/cases/kakao-2022/windows"), http.StatusUnprocessableEntity)
		// The same windows again, one source edited: saved, re-decided, audited as the user.
		f.Set("csrf", b.csrf)
		f["source"][0] = "edited source"
		p = b.postForm("/admin/cases/kakao-2022/windows", f)
		wantStatus(t, p, http.StatusSeeOther)
		ev := e.lastAudit("windows")
		if ev.ID == windowsBefore || ev.ActorKind != "user" || ev.ActorName != "lawyer@example.com" || !strings.Contains(*ev.After, "edited source") {
			t.Fatalf("windows change audit %+v", ev)
		}
		p = b.get(p.Header.Get("Location"))
		if !strings.Contains(p.Body, "edited source") || !strings.Contains(p.Body, `role="status"`) {
			t.Fatal("saved windows not shown")
		}

		// Rules: bad JSON and a bad value are refused with the path; good rules become v2.
		wantStatus(t, b.post("/admin/cases/kakao-2022/rules", "rules", "{not json"), http.StatusUnprocessableEntity)
		rules := html.UnescapeString(regexp.MustCompile(`(?s)<textarea id="rules-json"[^>]*>(.*?)</textarea>`).FindStringSubmatch(p.Body)[1])
		p = b.post("/admin/cases/kakao-2022/rules", "rules", strings.Replace(rules, `"degraded_factor_bps": `, `"degraded_factor_bps": -`, 1))
		wantStatus(t, p, http.StatusUnprocessableEntity)
		if !strings.Contains(p.Body, "degraded_factor_bps") || !strings.Contains(p.Body, `aria-invalid="true"`) {
			t.Fatalf("rules error without its path: %.2000s", p.Body)
		}
		p = b.post("/admin/cases/kakao-2022/rules", "rules", rules)
		wantStatus(t, p, http.StatusSeeOther)
		if ev := e.lastAudit("rules"); ev.ActorName != "lawyer@example.com" || !strings.Contains(*ev.After, `"version":2`) {
			t.Fatalf("rules audit %+v", ev)
		}
	})
}

// TestDuplicatesPage: a pair with what matched; deciding "keep first" makes the later claim a
// duplicate through DecideDuplicate.
func TestDuplicatesPage(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		e.newUser("lawyer", "lawyer@example.com")
		first := e.submit(taxiClaim("홍길동", "same@example.com"))
		later := e.submit(taxiClaim("홍길동", "same@example.com"))
		b := e.browser()
		b.signIn("lawyer@example.com")
		p := b.get("/admin/cases/kakao-2022/duplicates")
		wantStatus(t, p, http.StatusOK)
		if !strings.Contains(p.Body, first) || !strings.Contains(p.Body, later) || !strings.Contains(p.Body, `id="pair-0-keep-first" checked`) {
			t.Fatalf("pair not listed: %.3000s", p.Body)
		}
		wantStatus(t, b.post("/admin/cases/kakao-2022/duplicates/decisions", "first", first, "later", later, "choice", "bogus"), http.StatusUnprocessableEntity)
		p = b.post("/admin/cases/kakao-2022/duplicates/decisions", "first", first, "later", later, "choice", "keep_first", "note", "same taxi")
		wantStatus(t, p, http.StatusSeeOther)
		var cl models.Claim
		e.st.Gorm().Where("reference = ?", later).Take(&cl)
		if cl.Status != "duplicate" {
			t.Fatalf("later claim is %s", cl.Status)
		}
		if ev := e.lastAudit("claim"); ev.ActorName != "lawyer@example.com" {
			t.Fatalf("decision audit %+v", ev)
		}
		p = b.get("/admin/cases/kakao-2022/duplicates?status=all")
		if !strings.Contains(p.Body, "lawyer@example.com") {
			t.Fatal("decided pair without who decided")
		}
	})
}

// TestAuditPage filters the trail and links the CSV export with the same filters.
func TestAuditPage(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		e.newUser("lawyer", "lawyer@example.com")
		ref := e.submit(taxiClaim("홍길동", "hong@example.com"))
		b := e.browser()
		b.signIn("lawyer@example.com")
		p := b.get("/admin/audit?entity=claim&from=2020-01-01T00:00")
		wantStatus(t, p, http.StatusOK)
		if !strings.Contains(p.Body, ref) || strings.Contains(p.Body, "sign_in") {
			t.Fatalf("filtered trail: %.3000s", p.Body)
		}
		if !strings.Contains(p.Body, `href="/api/v1/audit.csv?entity=claim&amp;from=2020-01-01T00%3A00%3A00%2B09%3A00"`) {
			t.Fatalf("CSV link: %.3000s", p.Body)
		}
		p = b.get("/admin/audit?action=sign_in")
		if !strings.Contains(p.Body, "lawyer@example.com") || strings.Contains(p.Body, ref) {
			t.Fatal("action filter")
		}
		wantStatus(t, b.get("/admin/audit?from=tomorrow"), http.StatusUnprocessableEntity)
		// The CSV export answers the signed-in lawyer (the API accepts the session).
		res := b.get("/api/v1/audit.csv?entity=claim")
		wantStatus(t, res, http.StatusOK)
		if !strings.Contains(res.Body, ref) {
			t.Fatal("CSV without the claim")
		}
	})
}

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
