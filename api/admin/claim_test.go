package admin_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/claimdesk/claimdesk/internal/auth"
)

// TestReviewFlow walks a claim through review on its page: under review, deficient (reason,
// cure days), cured, under review, approved; each change is in the history and the audit
// trail; an invalid change shows the 409's message.
func TestReviewFlow(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		e.newUser("lawyer", "lawyer@example.com")
		ref := e.submit(taxiClaim("김민지", "minji@example.com"))
		other := e.submit(taxiClaim("박서준", "seojun@example.org"))
		br := e.browser()
		br.signIn("lawyer@example.com")
		page := "/admin/claims/" + ref

		p := br.get(page)
		wantStatus(t, p, 200)
		for _, want := range []string{"김민지", "minji@example.com", `id="trace"`, `id="damages-total"`, `class="badge badge-eligible"`,
			`id="form-under_review"`, `id="claim-status" data-status="received"`, "kakao_t/taxi"} {
			if !strings.Contains(p.Body, want) {
				t.Fatalf("claim page lacks %q", want)
			}
		}
		if strings.Contains(p.Body, `id="form-approved"`) {
			t.Fatal("approve offered on a received claim")
		}

		// Approving a received claim is refused with the lifecycle's message, in a page.
		p = br.post(page+"/transitions", "to", "approved")
		wantStatus(t, p, http.StatusConflict)
		if !strings.Contains(p.Body, "received") || !strings.Contains(p.Body, `role="alert"`) {
			t.Fatalf("409 page: %s", p.Body)
		}
		// A deficiency without a reason is refused too (422, the field named).
		br.post(page+"/transitions", "to", "under_review")
		p = br.post(page+"/transitions", "to", "deficient", "cure_days", "14")
		wantStatus(t, p, http.StatusUnprocessableEntity)

		steps := []struct {
			kv     []string
			status string
		}{
			{[]string{"to", "deficient", "reason", "missing_evidence", "reason", "amount_unsupported", "cure_days", "10", "note", "영수증 필요"}, "deficient"},
			{[]string{"to", "cured", "reason", "documents_received"}, "cured"},
			{[]string{"to", "under_review"}, "under_review"},
			{[]string{"to", "approved", "note", "확인 완료"}, "approved"},
		}
		for _, s := range steps {
			p = br.post(page+"/transitions", s.kv...)
			wantStatus(t, p, http.StatusSeeOther)
			p = br.get(p.Header.Get("Location"))
			wantStatus(t, p, 200)
			if !strings.Contains(p.Body, `data-status="`+s.status+`"`) || !strings.Contains(p.Body, `id="notice"`) {
				t.Fatalf("after %v: %s", s.kv, p.Body)
			}
			if s.status == "deficient" {
				want := testNow.AddDate(0, 0, 10).UTC().Format(time.RFC3339)
				if !strings.Contains(p.Body, `id="cure-deadline" datetime="`+want+`"`) {
					t.Fatalf("cure deadline not %s", want)
				}
			}
		}
		for _, want := range []string{"증빙 자료 부족", "영수증 필요", "확인 완료", "lawyer@example.com"} {
			if !strings.Contains(p.Body, want) {
				t.Errorf("history lacks %q", want)
			}
		}
		if n := strings.Count(p.Body, "<td>transition</td>"); n != 5 {
			t.Errorf("%d transitions in the audit trail, want 5", n)
		}
		if strings.Contains(p.Body, `id="form-`) {
			t.Error("an approved claim still offers changes")
		}

		// Duplicate of another claim (and of a reference that is no claim).
		br.post("/admin/claims/"+other+"/transitions", "to", "duplicate", "duplicate_of", "CD-0000-0000-0000")
		p = br.post("/admin/claims/"+other+"/transitions", "to", "duplicate", "duplicate_of", "CD-0000-0000-0000")
		wantStatus(t, p, http.StatusUnprocessableEntity)
		p = br.post("/admin/claims/"+other+"/transitions", "to", "duplicate", "duplicate_of", strings.ToLower(ref), "reason", "duplicate_submission")
		wantStatus(t, p, http.StatusSeeOther)
		p = br.get("/admin/claims/" + other)
		if !strings.Contains(p.Body, `href="/admin/claims/`+ref+`"`) {
			t.Fatal("duplicate link missing")
		}
		wantStatus(t, br.get("/admin/claims/CD-0000-0000-0000"), 404)
		wantStatus(t, br.get("/admin/claims/nope"), 404)
	})
}

// TestRefusals: who may not see or change the workspace.
func TestRefusals(t *testing.T) {
	e := newEnv(t, "sqlite")
	e.newUser("lawyer", "lawyer@example.com")
	e.newUser("admin", "admin@example.com")
	ref := e.submit(taxiClaim("김민지", "minji@example.com"))
	page := "/admin/claims/" + ref

	// Nobody: to the sign-in page, coming back to the page asked for.
	anon := e.browser()
	p := anon.get("/admin/cases/kakao-2022/claims?status=received")
	wantStatus(t, p, http.StatusSeeOther)
	if loc := p.Header.Get("Location"); loc != "/admin/login?next="+url.QueryEscape("/admin/cases/kakao-2022/claims?status=received") {
		t.Fatalf("redirect to %q", loc)
	}
	wantStatus(t, anon.post(page+"/transitions", "to", "under_review"), http.StatusSeeOther)
	// The sign-in form: a wrong password is refused with the API's message; next is kept
	// but never leads off the workspace.
	p = anon.postForm("/admin/login", url.Values{"email": {"lawyer@example.com"}, "password": {"wrong"}, "next": {"/admin/audit"}})
	wantStatus(t, p, http.StatusUnauthorized)
	if !strings.Contains(p.Body, "이메일 또는 비밀번호가 올바르지 않습니다") || !strings.Contains(p.Body, `value="/admin/audit"`) {
		t.Fatalf("failed sign-in page: %s", p.Body)
	}
	p = anon.postForm("/admin/login", url.Values{"email": {"lawyer@example.com"}, "password": {testPassword}, "next": {"//evil.example/admin"}})
	wantStatus(t, p, http.StatusSeeOther)
	if loc := p.Header.Get("Location"); loc != "/admin" {
		t.Fatalf("next led to %q", loc)
	}
	// A cross-site sign-in post is refused (login CSRF).
	req, _ := http.NewRequest("POST", e.srv.URL+"/admin/login", strings.NewReader("email=lawyer%40example.com&password=x"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	wantStatus(t, e.browser().do(req), http.StatusForbidden)

	// Tokens: importer refused, lawyer allowed (as the API), claimant's access code is nobody.
	b := e.browser()
	wantStatus(t, b.get(page, "Authorization", "Bearer "+e.tokens[auth.Importer]), http.StatusForbidden)
	wantStatus(t, b.get(page, "Authorization", "Bearer "+e.tokens[auth.Lawyer]), http.StatusOK)
	wantStatus(t, b.get(page, "Authorization", "Bearer nope"), http.StatusUnauthorized)
	wantStatus(t, b.get(page, "X-Access-Code", "whatever"), http.StatusSeeOther)

	// A signed-in lawyer: forms without the session's token, or from another site, are refused.
	lw := e.browser()
	lw.signIn("lawyer@example.com")
	lw.get(page)
	wantStatus(t, lw.postForm(page+"/transitions", url.Values{"to": {"under_review"}}), http.StatusForbidden)
	wantStatus(t, lw.postForm(page+"/transitions", url.Values{"to": {"under_review"}, "csrf": {"forged"}}), http.StatusForbidden)
	req, _ = http.NewRequest("POST", e.srv.URL+page+"/transitions", strings.NewReader(url.Values{"to": {"under_review"}, "csrf": {lw.csrf}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", "https://evil.example")
	wantStatus(t, lw.do(req), http.StatusForbidden)
	wantStatus(t, lw.postForm("/admin/logout", url.Values{}), http.StatusForbidden)
	p = lw.get(page)
	if !strings.Contains(p.Body, `data-status="received"`) {
		t.Fatal("a refused form changed the claim")
	}
	// Users is for admins only.
	wantStatus(t, lw.get("/admin/users"), http.StatusForbidden)
	if strings.Contains(lw.get("/admin/cases/kakao-2022").Body, `href="/admin/users"`) {
		t.Error("the nav offers Users to a lawyer")
	}
	ad := e.browser()
	ad.signIn("admin@example.com")
	wantStatus(t, ad.get("/admin/users"), http.StatusOK)
	// A session idle for longer than the limit has expired: back to the sign-in page.
	if err := e.st.Gorm().Exec(`UPDATE sessions SET last_seen_at = ?`, testNow.Add(-31*time.Minute)).Error; err != nil {
		t.Fatal(err)
	}
	p = ad.get("/admin/users")
	wantStatus(t, p, http.StatusSeeOther)
	if loc := p.Header.Get("Location"); !strings.HasPrefix(loc, "/admin/login?next=") {
		t.Fatalf("expired session led to %q", loc)
	}
	lw.signIn("lawyer@example.com")
	lw.get(page)

	// Sign-out ends the session: the same cookie opens nothing any more.
	p = lw.post("/admin/logout")
	wantStatus(t, p, http.StatusSeeOther)
	if loc := p.Header.Get("Location"); loc != "/admin/login?signed_out=1" {
		t.Fatalf("sign-out led to %q", loc)
	}
	wantStatus(t, lw.get(page), http.StatusSeeOther)
}
