package admin_test

import (
	"strings"
	"testing"

	"github.com/claimdesk/claimdesk/internal/browsertest"
)

// signInTab signs in through the sign-in page in a browser tab, landing on next.
func signInTab(b *browsertest.Tab, email, next string) {
	b.T.Helper()
	b.Open("/admin/login?next=" + next)
	b.Wait("#f-email")
	b.Set("f-email", email)
	b.Set("f-password", testPassword)
	b.Press("#sign-in")
	b.Wait("#signed-in-user")
}

// TestBrowser drives the workspace in a real headless Chromium as a lawyer: sign in, the
// dashboard, the list filtered, a claim made deficient, cured and approved, sign out; with
// screenshots of every page at a phone and a desktop size, axe-core on every page, and the
// keyboard alone submitting a form. Without JavaScript the same flow works (forms and links).
func TestBrowser(t *testing.T) {
	e := newEnv(t, "sqlite")
	e.newUser("lawyer", "lawyer@example.com")
	for i, n := range []string{"김민지", "박서준", "이도윤"} {
		e.submit(taxiClaim(n, "c"+string(rune('a'+i))+"@example.com"))
	}
	ref := e.submit(taxiClaim("최서연", "seoyeon@example.com"))
	br := browsertest.Start(t, e.srv.URL)

	for _, js := range []bool{true, false} {
		name := "js"
		if !js {
			name = "nojs"
		}
		t.Run(name, func(t *testing.T) {
			b := br.Tab(t, js)
			shot := func(page string) {
				if js {
					b.Shot("admin-" + page)
					b.CheckA11y(page)
				}
			}
			b.Open("/admin/login?lang=ko")
			b.Wait("#f-email")
			shot("login")
			b.Open("/admin")
			b.Wait("#f-email")
			signInTab(b, "lawyer@example.com", "/admin")
			b.Wait("#stat-awaiting")
			if got := b.Text("#stat-awaiting"); got != "4" {
				t.Fatalf("dashboard counts %q claims awaiting review", got)
			}
			shot("dashboard")

			// The list, then filtered by a search typed and submitted with the keyboard.
			b.Press(`.admin-nav a[href="/admin/cases/kakao-2022/claims"]`)
			b.Wait("#claims-table")
			shot("claims")
			if js {
				// The script's select-all checks every row's box, and unchecks them.
				b.Click("#select-all")
				if n := b.Eval(`String(document.querySelectorAll("input[name=ref]:checked").length)`); n != "4" {
					t.Errorf("select-all checked %s boxes", n)
				}
				b.Click("#select-all")
			} else if b.Eval(`String(document.getElementById("select-all").hidden)`) != "true" {
				// No script: select-all stays hidden, every row has its own box.
				t.Error("select-all shown without JavaScript")
			}
			b.Set("f-q", "최서")
			b.Set("f-status", "received")
			b.PressKey("#f-q", "\r")
			b.Wait("#claims-table")
			if n := b.Eval(`String(document.querySelectorAll("#claims-table tbody input[name=ref]").length)`); n != "1" {
				t.Fatalf("%s rows after filtering", n)
			}
			if v := b.Eval(`document.getElementById("f-q").value`); v != "최서" {
				t.Fatalf("filter not kept: %q", v)
			}
			shot("claims-filtered")

			// The claim: start review, deficient, cured, review, approve.
			b.Press(`#claims-table a[href="/admin/claims/` + ref + `"]`)
			b.Wait("#claim-status")
			shot("claim")
			if js {
				// An invalid change (a stale page): the 409's message, not a crash.
				b.Eval(`(function(){var f=document.getElementById("form-under_review"); f.querySelector("input[name=to]").value="approved"; return ""})()`)
			}
			b.Press("#do-under_review")
			if js {
				b.Wait("#error-summary")
				if msg := b.Text("#error-summary"); !strings.Contains(msg, "received") {
					t.Fatalf("409 message %q", msg)
				}
				shot("claim-refused")
				b.Press("#do-under_review")
			}
			b.Wait(`#claim-status[data-status="under_review"]`)

			b.Click("#r-deficient-missing_evidence")
			b.Set("cure-deficient", "10")
			b.Set("note-deficient", "영수증을 보내 주세요")
			b.Press("#do-deficient")
			b.Wait(`#claim-status[data-status="deficient"]`)
			b.Wait("#cure-deadline")
			shot("claim-deficient")

			b.Click("#r-cured-documents_received")
			b.Press("#do-cured")
			b.Wait(`#claim-status[data-status="cured"]`)
			// Keyboard only: focus the button and press Enter.
			b.PressKey("#do-under_review", "\r")
			b.Wait(`#claim-status[data-status="under_review"]`)
			b.Set("note-approved", "확인 완료")
			b.Press("#do-approved")
			b.Wait(`#claim-status[data-status="approved"]`)
			if h := b.Text("#history"); !strings.Contains(h, "영수증을 보내 주세요") || !strings.Contains(h, "확인 완료") {
				t.Fatalf("history: %s", h)
			}
			shot("claim-approved")

			// English, then sign out.
			b.Open("/admin/claims/" + ref + "?lang=en")
			b.Wait("#claim-status")
			if got := b.Text("#claim-status"); got != "Approved" {
				t.Fatalf("status in English %q", got)
			}
			shot("claim-en")

			b.Press("#sign-out")
			b.Wait("#f-email")
			b.Open("/admin/cases/kakao-2022/claims")
			b.Wait("#f-email") // signed out: back to the sign-in page
			// Reset the claim for the next run.
			if js {
				e.resetStatus(ref)
			}
		})
	}
}

// TestBrowserAsAdmin drives the dashboard, duplicates, audit and users pages in a real headless
// Chromium as an admin: screenshots at a phone and a desktop size (and the dashboard as
// printed), axe-core with no serious or critical violation on each page and on the error
// states of its forms, and the forms used with the keyboard.
func TestBrowserAsAdmin(t *testing.T) {
	e := newEnv(t, "sqlite")
	e.newUser("admin", "admin@example.com")
	e.submit(taxiClaim("김민지", "minji@example.com"))
	first := e.submit(taxiClaim("최서연", "seoyeon@example.com"))
	e.submit(taxiClaim("최서연", "seoyeon@example.com"))
	br := browsertest.Start(t, e.srv.URL)
	b := br.Tab(t, true)
	check := func(name string) {
		t.Helper()
		b.Shot("admin-as-admin-" + name)
		b.CheckA11y(name)
	}
	signInTab(b, "admin@example.com", "/admin/cases/kakao-2022")

	// Dashboard: figures, three charts, windows and rules; printable.
	b.Wait("#stat-claimants")
	if got := b.Text("#stat-claimants"); got != "2" {
		t.Fatalf("claimants %q", got)
	}
	if n := b.Eval(`String(document.querySelectorAll(".charts svg[role=img] > title").length)`); n != "3" {
		t.Fatalf("%s charts with a title", n)
	}
	check("dashboard")
	b.PrintShot("admin-as-admin-dashboard")
	// A window with an unreadable start: the error is at its field, announced.
	b.Click("#windows-edit summary")
	b.Set("w-0-start", "nonsense")
	b.PressKey("#w-0-start", "\r")
	b.Wait("#w-0-start-err")
	if b.Eval(`document.getElementById("w-0-start").getAttribute("aria-invalid")`) != "true" {
		t.Fatal("field not marked invalid")
	}
	check("dashboard-windows-error")

	// Duplicates: keep the first, by keyboard.
	b.Open("/admin/cases/kakao-2022/duplicates")
	b.Wait("#dup-table")
	if !strings.Contains(b.Text("#pair-0"), first) {
		t.Fatalf("pair: %s", b.Text("#pair-0"))
	}
	check("duplicates")
	b.PressKey("#pair-0-note", "\r")
	b.Wait("#notice")
	check("duplicates-decided")

	// Audit: filtered to claims.
	b.Open("/admin/audit")
	b.Wait("#audit-table")
	check("audit")
	b.Set("a-entity", "claim")
	b.Press("#audit-apply")
	b.Wait("#audit-table")
	if !strings.Contains(b.Text("#audit-table"), "decide_duplicate") {
		t.Fatal("the decision is not in the trail")
	}
	if href := b.Eval(`document.getElementById("audit-csv").getAttribute("href")`); href != "/api/v1/audit.csv?entity=claim" {
		t.Fatalf("CSV link %q", href)
	}

	// Users: an invalid invitation, then a valid one showing the password once.
	b.Open("/admin/users")
	b.Wait("#users-table")
	check("users")
	b.Set("invite-email", "not-an-email")
	b.Press("#invite-submit")
	b.Wait("#invite-email-err")
	check("users-invite-error")
	b.Set("invite-email", "new.lawyer@example.com")
	b.Press("#invite-submit")
	b.Wait("#initial-password")
	if pw := b.Text("#initial-password"); len(pw) < 12 {
		t.Fatalf("initial password %q", pw)
	}
	check("users-invited")
}
