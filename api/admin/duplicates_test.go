package admin_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/claimdesk/claimdesk/models"
)

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
