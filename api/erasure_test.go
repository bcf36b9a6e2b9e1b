package api_test

import (
	"context"
	"strings"
	"testing"

	"github.com/claimdesk/claimdesk/models"
)

func TestEraseClaim(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		body := claim(other("daum", "mail", "2022-10-18 12:00"), taxi("2022-10-15T18:30"))
		body["claimant"] = map[string]any{"name": "김지움", "email": "erase.me@example.com", "phone": "010-5555-0000"}
		created := e.submit(body)
		ref := created["reference"].(string)
		var cl models.Claim
		if err := e.st.Gorm().Where("reference = ?", ref).Take(&cl).Error; err != nil {
			t.Fatal(err)
		}
		ctx := context.Background()
		if err := e.st.AddEvidence(ctx, &models.Evidence{ClaimID: cl.ID, CaseID: cl.CaseID, FileName: "receipt.png", ContentType: "image/png", SHA256: "x"},
			[]byte("\x89PNG receipt of 김지움"), e.st.DatabaseBlobs(), 10); err != nil {
			t.Fatal(err)
		}
		before := e.do("GET", "/api/v1/cases/kakao-2022/summary", nil, bearer(e.lawyer)...)

		wantStatus(t, e.do("POST", "/api/v1/claims/"+ref+"/erasure", nil, bearer(e.lawyer)...), 403)
		wantStatus(t, e.do("POST", "/api/v1/claims/"+ref+"/erasure", nil), 401)
		r := e.do("POST", "/api/v1/claims/"+ref+"/erasure", nil, bearer(e.admin)...)
		wantStatus(t, r, 200)
		if got := r.json(t); got["erased"] != true || got["erased_at"] == "" {
			t.Errorf("erasure: %s", r.Body)
		}
		again := e.do("POST", "/api/v1/claims/"+ref+"/erasure", nil, bearer(e.admin)...)
		if again.json(t)["erased"] != false {
			t.Errorf("second erasure: %s", again.Body)
		}

		after := e.do("GET", "/api/v1/claims/"+ref, nil, bearer(e.lawyer)...)
		got := after.json(t)
		if cl := got["claimant"].(map[string]any); cl["name"] != "" || cl["email"] != nil || cl["phone"] != nil {
			t.Errorf("claimant after erasure: %v", cl)
		}
		if got["erased_at"] == nil || got["estimate_krw"] != created["estimate_krw"] || len(items(t, after)) != 2 {
			t.Errorf("claim after erasure: %s", after.Body)
		}
		if d := items(t, after)[0]["description"]; d != nil {
			t.Errorf("description kept: %v", d)
		}
		var evidence, blobs int64
		e.st.Gorm().Model(&models.Evidence{}).Where("claim_id = ?", cl.ID).Count(&evidence)
		e.st.Gorm().Table("evidence_blobs").Count(&blobs)
		if evidence != 0 || blobs != 0 {
			t.Errorf("evidence left: %d rows, %d blobs", evidence, blobs)
		}
		// Totals do not move; the act is audited, without the data.
		if now := e.do("GET", "/api/v1/cases/kakao-2022/summary", nil, bearer(e.lawyer)...); string(now.Body) != string(before.Body) {
			t.Errorf("totals changed:\n%s\n%s", before.Body, now.Body)
		}
		var events []models.AuditEvent
		e.st.Gorm().Where("action = ? AND entity_id = ?", "erase", ref).Find(&events)
		if len(events) != 1 || events[0].ActorRole != "admin" {
			t.Fatalf("audit: %+v", events)
		}
		var all []models.AuditEvent
		e.st.Gorm().Find(&all)
		for _, ev := range all {
			for _, s := range []*string{ev.Before, ev.After, &ev.Details} {
				if s != nil && (strings.Contains(*s, "erase.me") || strings.Contains(*s, "김지움") || strings.Contains(*s, "5555")) {
					t.Errorf("audit event %s/%s keeps personal data: %s", ev.Action, ev.Entity, *s)
				}
			}
		}
	})
}

// TestWithdrawalErases: a withdrawal, recorded by staff at the claimant's request, leaves no
// personal data behind.
func TestWithdrawalErases(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		created := e.submit(claim(taxi("2022-10-15T18:30")))
		ref := created["reference"].(string)
		r := e.do("POST", "/api/v1/claims/"+ref+"/transitions", map[string]any{"to": "withdrawn", "reasons": []string{"claimant_request"}}, bearer(e.lawyer)...)
		wantStatus(t, r, 200)
		got := e.do("GET", "/api/v1/claims/"+ref, nil, bearer(e.lawyer)...).json(t)
		if got["status"] != "withdrawn" || got["erased_at"] == nil || got["claimant"].(map[string]any)["name"] != "" {
			t.Errorf("after withdrawal: %v", got)
		}
	})
}
