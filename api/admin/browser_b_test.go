package admin_test

import (
	"strings"
	"testing"

	"github.com/claimdesk/claimdesk/internal/browsertest"
)

// TestBrowserPartB drives the dashboard, duplicates, audit and users pages in a real headless
// Chromium as an admin: screenshots at a phone and a desktop size (and the dashboard as
// printed), axe-core with no serious or critical violation on each page and on the error
// states of its forms, and the forms used with the keyboard.
func TestBrowserPartB(t *testing.T) {
	e := newEnv(t, "sqlite")
	e.newUser("admin", "admin@example.com")
	e.submit(taxiClaim("김민지", "minji@example.com"))
	first := e.submit(taxiClaim("최서연", "seoyeon@example.com"))
	e.submit(taxiClaim("최서연", "seoyeon@example.com"))
	br := browsertest.Start(t, e.srv.URL)
	b := br.Tab(t, true)
	check := func(name string) {
		t.Helper()
		b.Shot("admin-b-" + name)
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
	b.PrintShot("admin-b-dashboard")
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
