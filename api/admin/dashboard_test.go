package admin_test

import (
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/claimdesk/claimdesk/internal/messages"
)

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
	if m := regexp.MustCompile(`<input type="hidden" name="revision" value="(\d+)">`).FindStringSubmatch(form); m != nil {
		f.Set("revision", m[1])
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
		// A wrong filter beside them is refused, and the form still offers the three back.
		wrong := b.get(html.UnescapeString(m[1]) + "&submitted_after=xx")
		wantStatus(t, wrong, http.StatusUnprocessableEntity)
		if !strings.Contains(wrong.Body, `<option value="received,under_review,cured" selected>`) {
			t.Error("beside a wrong filter, the filters form drops the awaiting review statuses")
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

// TestLanguageSwitchAfterFormError: the language link of a page answered to a form post (the
// windows or rules form with an error, a duplicate decision refused) leads to the page the form
// is on, in the other language; the post's own path answers no GET (it was a 405).
func TestLanguageSwitchAfterFormError(t *testing.T) {
	e := newEnv(t, "sqlite")
	e.newUser("admin", "admin@example.com")
	br := e.browser()
	br.signIn("admin@example.com")
	br.get("/admin/cases/kakao-2022")
	langRe := regexp.MustCompile(`<a href="([^"]*)" lang="en"`)
	for _, tc := range []struct {
		path, page string
		f          url.Values
	}{
		{"/admin/cases/kakao-2022/windows", "/admin/cases/kakao-2022",
			url.Values{"service": {"kakao_t"}, "feature": {"taxi"}, "severity": {"outage"}, "start": {"bad"}, "end": {"2022-10-15 16:30"}}},
		{"/admin/cases/kakao-2022/rules", "/admin/cases/kakao-2022", url.Values{"rules": {"{"}}},
		{"/admin/cases/kakao-2022/duplicates/decisions", "/admin/cases/kakao-2022/duplicates",
			url.Values{"first": {"CD-0000-0000-0000"}, "later": {"CD-0000-0000-0001"}}},
		// A post whose own path answers GET keeps it.
		{"/admin/users", "/admin/users", url.Values{"email": {"not an email"}, "role": {"lawyer"}}},
	} {
		tc.f.Set("csrf", br.csrf)
		p := br.postForm(tc.path, tc.f)
		m := langRe.FindStringSubmatch(p.Body)
		if m == nil {
			t.Fatalf("POST %s (%d): no language link", tc.path, p.Status)
		}
		link := html.UnescapeString(m[1])
		if u, _ := url.Parse(link); u.Path != tc.page {
			t.Errorf("POST %s: language link %q, want the page %s", tc.path, link, tc.page)
		}
		if q := br.get(link); q.Status != 200 || !strings.Contains(q.Body, `<html lang="en"`) {
			t.Errorf("POST %s: language link %q answers %d", tc.path, link, q.Status)
		}
	}
}

// TestStaleFormsRefused: a windows or rules form saved after someone else changed the case's
// windows or rules since it was opened is refused (409) with the case as it now is, and the
// other change stays; it used to replace the windows with the stale form's, silently deleting
// the newer window (and re-deciding every claim without it).
func TestStaleFormsRefused(t *testing.T) {
	e := newEnv(t, "sqlite")
	e.newUser("admin", "admin@example.com")
	e.newUser("lawyer", "lawyer@example.com")
	a, b := e.browser(), e.browser()
	a.signIn("admin@example.com")
	b.signIn("lawyer@example.com")
	pa := a.get("/admin/cases/kakao-2022")
	staleWindows := windowsForm(t, pa.Body)
	staleWindows.Set("csrf", a.csrf)
	rulesRev := regexp.MustCompile(`(?s)id="rules-form">.*?name="revision" value="(\d+)"`).FindStringSubmatch(pa.Body)
	rawRules := regexp.MustCompile(`(?s)<textarea[^>]*name="rules"[^>]*>(.*?)</textarea>`).FindStringSubmatch(pa.Body)
	if staleWindows.Get("revision") == "" || rulesRev == nil || rawRules == nil {
		t.Fatal("the forms carry no revision")
	}

	// B adds a window in the blank row and saves.
	fb := windowsForm(t, b.get("/admin/cases/kakao-2022").Body)
	fb.Set("csrf", b.csrf)
	n := len(fb["service"]) - 1
	fb["service"][n], fb["feature"][n], fb["start"][n], fb["end"][n], fb["source"][n] = "kakao_t", "taxi", "2022-11-20 09:00", "2022-11-20 10:00", "B's source"
	for len(fb["severity"]) <= n {
		fb.Add("severity", "down") // the blank row's select has no choice made
	}
	wantStatus(t, b.postForm("/admin/cases/kakao-2022/windows", fb), http.StatusSeeOther)

	// A saves the forms opened before.
	p := a.postForm("/admin/cases/kakao-2022/windows", staleWindows)
	wantStatus(t, p, http.StatusConflict)
	if !strings.Contains(p.Body, html.EscapeString(messages.Text(messages.Ko, "case_changed", nil))) || !strings.Contains(p.Body, "B&#39;s source") {
		t.Errorf("the refusal does not say why, or does not show the case as it is")
	}
	p = a.postForm("/admin/cases/kakao-2022/rules", url.Values{"csrf": {a.csrf}, "revision": {rulesRev[1]}, "rules": {html.UnescapeString(rawRules[1])}})
	wantStatus(t, p, http.StatusConflict)
	if !strings.Contains(a.get("/admin/cases/kakao-2022").Body, "B&#39;s source") {
		t.Error("B's window is gone")
	}
	// Opened again, the forms save.
	again := windowsForm(t, a.get("/admin/cases/kakao-2022").Body)
	again.Set("csrf", a.csrf)
	wantStatus(t, a.postForm("/admin/cases/kakao-2022/windows", again), http.StatusSeeOther)
}
