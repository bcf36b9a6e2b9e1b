package admin_test

import (
	"net/http"
	"strings"
	"testing"
)

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
