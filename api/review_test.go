package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/claimdesk/claimdesk/api"
	"github.com/claimdesk/claimdesk/internal/claims"
	"github.com/claimdesk/claimdesk/models"
)

// file submits a claim through the API and returns its reference.
func (e *env) file(body map[string]any) string {
	e.t.Helper()
	r := e.do("POST", "/api/v1/cases/kakao-2022/claims", body)
	if r.Status != http.StatusCreated {
		e.t.Fatalf("filing: %d %s", r.Status, r.Body)
	}
	return r.json(e.t)["reference"].(string)
}

// person is a claim body of one claimant with the given items.
func person(name, email, phone string, items ...map[string]any) map[string]any {
	b := claim(items...)
	b["claimant"] = map[string]any{"name": name, "email": email, "phone": phone}
	return b
}

// move asks for a transition and returns the response.
func (e *env) move(ref string, body map[string]any, token string) resp {
	e.t.Helper()
	return e.do("POST", "/api/v1/claims/"+ref+"/transitions", body, bearer(token)...)
}

func (e *env) status(ref string) string {
	e.t.Helper()
	r := e.do("GET", "/api/v1/claims/"+ref, nil, bearer(e.lawyer)...)
	wantStatus(e.t, r, 200)
	return r.json(e.t)["status"].(string)
}

func (e *env) auditCount() int64 {
	e.t.Helper()
	var n int64
	if err := e.st.Gorm().Model(&models.AuditEvent{}).Count(&n).Error; err != nil {
		e.t.Fatal(err)
	}
	return n
}

func errCode(t *testing.T, r resp) string {
	t.Helper()
	e, _ := r.json(t)["error"].(map[string]any)
	c, _ := e["code"].(string)
	return c
}

func TestLifecycleTransitions(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		ref := e.file(claim(taxi("2022-10-15T18:30:00+09:00")))
		steps := []struct {
			body map[string]any
			want string
		}{
			{map[string]any{"to": "under_review"}, "under_review"},
			{map[string]any{"to": "deficient", "reasons": []string{"missing_evidence"}, "note": "영수증 필요", "cure_days": 7}, "deficient"},
			{map[string]any{"to": "cured", "reasons": []string{"documents_received"}}, "cured"},
			{map[string]any{"to": "under_review"}, "under_review"},
			{map[string]any{"to": "approved"}, "approved"},
		}
		for _, s := range steps {
			before := e.auditCount()
			r := e.move(ref, s.body, e.lawyer)
			wantStatus(t, r, 200)
			if got := r.json(t)["to"]; got != s.want {
				t.Fatalf("to %v, want %s", got, s.want)
			}
			if e.status(ref) != s.want {
				t.Fatalf("status is not %s", s.want)
			}
			if e.auditCount() != before+1 {
				t.Fatalf("transition to %s not audited", s.want)
			}
		}
		// The deficiency notice carried its deadline: 7 days from the test clock.
		h := e.do("GET", "/api/v1/claims/"+ref+"/history", nil, bearer(e.admin)...)
		wantStatus(t, h, 200)
		var hist api.HistoryResponse
		json.Unmarshal(h.Body, &hist)
		if len(hist.Transitions) != 5 || hist.Status != "approved" || len(hist.Allowed) != 0 {
			t.Fatalf("history %s", h.Body)
		}
		d := hist.Transitions[1]
		if d.To != "deficient" || d.Note != "영수증 필요" || len(d.Reasons) != 1 || d.Reasons[0].Code != "missing_evidence" || d.Reasons[0].Text == "" ||
			d.Actor.Kind != "token" || d.Actor.Name != "lawyer" || d.CureDeadline != testNow.AddDate(0, 0, 7).In(kst).Format(time.RFC3339) {
			t.Fatalf("deficiency transition %+v", d)
		}

		// Refusals: nothing changes, and nothing is audited.
		r := e.move(ref, map[string]any{"to": "deficient", "reasons": []string{"missing_evidence"}}, e.lawyer)
		wantStatus(t, r, 409)
		if errCode(t, r) != "invalid_transition" {
			t.Fatalf("%s", r.Body)
		}
		other := e.file(person("김철수", "kim@example.com", "010-9999-0000", payment("2022-10-15T19:00:00+09:00")))
		before := e.auditCount()
		for _, tc := range []struct {
			body   map[string]any
			status int
			field  string
		}{
			{map[string]any{"to": "approved"}, 409, ""},        // received -> approved skips review
			{map[string]any{"to": "cured"}, 409, ""},           // not deficient
			{map[string]any{"to": "flying"}, 422, "to"},        // unknown status
			{map[string]any{"to": "rejected"}, 422, "reasons"}, // a rejection needs a reason
			{map[string]any{"to": "under_review", "reasons": []string{"nope"}}, 422, "reasons[0]"},
			{map[string]any{"to": "under_review", "reasons": []string{"other"}}, 422, "note"}, // other needs a note
			{map[string]any{"to": "under_review", "cure_days": 3}, 422, "cure_days"},
			{map[string]any{"to": "duplicate"}, 422, "duplicate_of"},
			{map[string]any{"to": "duplicate", "duplicate_of": other}, 422, "duplicate_of"}, // itself
			{map[string]any{"to": "duplicate", "duplicate_of": "CD-0000-0000-0000"}, 422, "duplicate_of"},
		} {
			r := e.move(other, tc.body, e.lawyer)
			if r.Status != tc.status {
				t.Errorf("%v: %d %s", tc.body, r.Status, r.Body)
				continue
			}
			if tc.field != "" && !strings.Contains(string(r.Body), `"path":"`+tc.field+`"`) {
				t.Errorf("%v: no error for %s: %s", tc.body, tc.field, r.Body)
			}
		}
		if e.auditCount() != before || e.status(other) != "received" {
			t.Fatal("a refused transition changed something")
		}

		// Deficient -> rejected only once the cure period is over.
		wantStatus(t, e.move(other, map[string]any{"to": "under_review"}, e.admin), 200)
		wantStatus(t, e.move(other, map[string]any{"to": "deficient", "reasons": []string{"incomplete_items"}}, e.admin), 200)
		r = e.move(other, map[string]any{"to": "rejected", "reasons": []string{"missing_evidence"}}, e.admin)
		wantStatus(t, r, 409)
		if !strings.Contains(string(r.Body), "invalid_transition") {
			t.Fatalf("%s", r.Body)
		}
		// Withdrawn from an open status; duplicate of another claim; both final.
		wantStatus(t, e.move(other, map[string]any{"to": "withdrawn", "reasons": []string{"claimant_request"}}, e.lawyer), 200)
		wantStatus(t, e.move(other, map[string]any{"to": "under_review"}, e.lawyer), 409)
		third := e.file(person("박영희", "park@example.com", "", payment("2022-10-15T19:00:00+09:00")))
		r = e.move(third, map[string]any{"to": "duplicate", "duplicate_of": strings.ToLower(ref), "reasons": []string{"duplicate_submission"}}, e.lawyer)
		wantStatus(t, r, 200)
		g := e.do("GET", "/api/v1/claims/"+third, nil, bearer(e.lawyer)...)
		var cr api.ClaimResponse
		json.Unmarshal(g.Body, &cr)
		if cr.Status != "duplicate" || cr.Review == nil || cr.Review.DuplicateOf != ref {
			t.Fatalf("duplicate claim %s", g.Body)
		}
		// The claimant sees no review block.
	})
}

var kst = time.FixedZone("KST", 9*3600)

func TestDeficiencyExpiry(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		late := e.file(claim(taxi("2022-10-15T18:30:00+09:00")))
		cured := e.file(person("김철수", "kim@example.com", "", payment("2022-10-15T19:00:00+09:00")))
		for _, ref := range []string{late, cured} {
			wantStatus(t, e.move(ref, map[string]any{"to": "under_review"}, e.lawyer), 200)
			wantStatus(t, e.move(ref, map[string]any{"to": "deficient", "reasons": []string{"missing_evidence"}, "cure_days": 2}, e.lawyer), 200)
		}
		wantStatus(t, e.move(cured, map[string]any{"to": "cured"}, e.lawyer), 200)

		ctx := context.Background()
		at := func(d time.Duration) *claims.Service {
			return &claims.Service{Store: e.st, Now: func() time.Time { return testNow.Add(d) }}
		}
		// Before the deadline nothing happens.
		if n, err := at(47 * time.Hour).ExpireDeficiencies(ctx); err != nil || n != 0 {
			t.Fatalf("before the deadline: %d %v", n, err)
		}
		n, err := at(49 * time.Hour).ExpireDeficiencies(ctx)
		if err != nil || n != 1 {
			t.Fatalf("after the deadline: %d %v", n, err)
		}
		if e.status(late) != "rejected" || e.status(cured) != "cured" {
			t.Fatalf("statuses %s %s", e.status(late), e.status(cured))
		}
		var hist api.HistoryResponse
		json.Unmarshal(e.do("GET", "/api/v1/claims/"+late+"/history", nil, bearer(e.lawyer)...).Body, &hist)
		last := hist.Transitions[len(hist.Transitions)-1]
		if last.To != "rejected" || last.Actor.Kind != "system" || last.Reasons[0].Code != "cure_deadline_passed" {
			t.Fatalf("expiry transition %+v", last)
		}
		var ev models.AuditEvent
		e.st.Gorm().Where("entity_id = ? AND actor_kind = 'system'", late).Take(&ev)
		if ev.Action != claims.ActionTransition {
			t.Fatalf("expiry not audited: %+v", ev)
		}
		// Running again finds nothing.
		if n, _ := at(50 * time.Hour).ExpireDeficiencies(ctx); n != 0 {
			t.Fatalf("second run rejected %d", n)
		}
	})
}

func TestBulkTransitions(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		a := e.file(person("가", "a@example.com", "", payment("2022-10-15T19:00:00+09:00")))
		b := e.file(person("나", "b@example.com", "", payment("2022-10-15T19:00:00+09:00")))
		done := e.file(person("다", "c@example.com", "", payment("2022-10-15T19:00:00+09:00")))
		wantStatus(t, e.move(done, map[string]any{"to": "withdrawn"}, e.lawyer), 200)
		path := "/api/v1/cases/kakao-2022/claims/transitions"
		r := e.do("POST", path, map[string]any{"references": []string{a, strings.ToLower(b), done, "CD-0000-0000-0000"}, "to": "under_review"}, bearer(e.lawyer)...)
		wantStatus(t, r, 200)
		var out api.BulkTransitionResponse
		json.Unmarshal(r.Body, &out)
		if out.Succeeded != 2 || out.Failed != 2 || !out.Results[0].OK || !out.Results[1].OK || out.Results[1].Reference != b ||
			out.Results[2].OK || out.Results[2].Error.Code != "invalid_transition" || out.Results[3].Error.Code != "not_found" {
			t.Fatalf("bulk %s", r.Body)
		}
		if e.status(a) != "under_review" || e.status(b) != "under_review" || e.status(done) != "withdrawn" {
			t.Fatal("statuses after bulk")
		}
		// A request that is wrong as a whole changes nothing.
		wantStatus(t, e.do("POST", path, map[string]any{"references": []string{}, "to": "approved"}, bearer(e.lawyer)...), 422)
		r = e.do("POST", path, map[string]any{"references": []string{a}, "to": "rejected"}, bearer(e.lawyer)...)
		wantStatus(t, r, 200)
		if !strings.Contains(string(r.Body), `"path":"reasons"`) || e.status(a) != "under_review" {
			t.Fatalf("%s", r.Body)
		}
		wantStatus(t, e.do("POST", "/api/v1/cases/nope/claims/transitions", map[string]any{"references": []string{a}, "to": "approved"}, bearer(e.lawyer)...), 404)
		// A reference given twice is one claim: the second change sees the first one's result.
		r = e.do("POST", path, map[string]any{"references": []string{b, b}, "to": "approved"}, bearer(e.lawyer)...)
		wantStatus(t, r, 200)
		out = api.BulkTransitionResponse{}
		json.Unmarshal(r.Body, &out)
		if out.Succeeded != 1 || !out.Results[0].OK || out.Results[1].OK || out.Results[1].Error.Code != "invalid_transition" || e.status(b) != "approved" {
			t.Fatalf("repeated reference: %s", r.Body)
		}
	})
}

func (e *env) pairs(query string) []api.DuplicatePairResponse {
	e.t.Helper()
	r := e.do("GET", "/api/v1/cases/kakao-2022/duplicates"+query, nil, bearer(e.lawyer)...)
	wantStatus(e.t, r, 200)
	var out api.DuplicateListResponse
	json.Unmarshal(r.Body, &out)
	return out.Pairs
}

func TestDuplicateDetection(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		first := e.file(person("홍길동", "hong@example.com", "010-1111-2222", taxi("2022-10-15T18:30:00+09:00")))
		// Same email, same service and feature, 90 minutes apart: a candidate (email).
		byEmail := e.file(person("홍길동", "HONG@example.com", "010-3333-4444", taxi("2022-10-15T20:00:00+09:00")))
		// Same phone, written differently: a candidate (phone).
		byPhone := e.file(person("홍 길동", "other@example.com", "+82 10-1111-2222", taxi("2022-10-15T17:45:00+09:00")))
		// Same email but 5 hours apart, or another feature: not candidates.
		e.file(person("홍길동", "hong@example.com", "", taxi("2022-10-15T23:30:00+09:00")))
		e.file(person("홍길동", "hong@example.com", "", payment("2022-10-15T18:30:00+09:00")))

		ps := e.pairs("")
		got := map[string][]string{}
		for _, p := range ps {
			got[p.Claim+"~"+p.Other] = p.Matched
			if p.Status != "candidate" {
				t.Errorf("pair %+v", p)
			}
		}
		if !slices.Equal(got[byEmail+"~"+first], []string{"email"}) || !slices.Equal(got[byPhone+"~"+first], []string{"phone"}) || len(got) != 2 {
			t.Fatalf("pairs %+v", got)
		}

		// Across channels: the same external reference in another spelling, from the batch
		// endpoint and from a single submission.
		b := claim(payment("2022-10-16T10:00:00+09:00"))
		b["external_ref"] = "P-100"
		b["claimant"] = map[string]any{"name": "이순신", "email": "lee@example.com"}
		r := e.do("POST", "/api/v1/cases/kakao-2022/claims/batch", map[string]any{"claims": []any{b}}, bearer(e.importer)...)
		wantStatus(t, r, 200)
		b2 := claim(payment("2022-11-01T10:00:00+09:00"))
		b2["external_ref"] = "p-100"
		b2["claimant"] = map[string]any{"name": "이순신", "phone": "010-5555-6666"}
		second := e.file(b2)
		found := false
		for _, p := range e.pairs("?status=candidate") {
			if p.Claim == second && slices.Equal(p.Matched, []string{"external_ref"}) {
				found = true
			}
		}
		if !found {
			t.Fatalf("external_ref pair missing: %+v", e.pairs(""))
		}

		// Keep first: confirming marks the later claim a duplicate of the first.
		dec := "/api/v1/cases/kakao-2022/duplicates/decisions"
		before := e.auditCount()
		// A note longer than a transition's is refused, whichever the decision, and nothing is recorded.
		long := strings.Repeat("가", 2001)
		r = e.do("POST", dec, map[string]any{"claim": byPhone, "other": first, "decision": "not_duplicate", "note": long}, bearer(e.lawyer)...)
		wantStatus(t, r, 422)
		if !strings.Contains(string(r.Body), `"path":"note"`) || e.auditCount() != before {
			t.Fatalf("long note: %s", r.Body)
		}
		wantStatus(t, e.do("POST", dec, map[string]any{"claim": first, "other": byEmail, "decision": "duplicate"}, bearer(e.lawyer)...), 204)
		if e.status(byEmail) != "duplicate" || e.status(first) != "received" {
			t.Fatal("keep first")
		}
		if e.auditCount() != before+2 { // the decision and the transition
			t.Fatalf("audit %d -> %d", before, e.auditCount())
		}
		wantStatus(t, e.do("POST", dec, map[string]any{"claim": first, "other": byEmail, "decision": "not_duplicate"}, bearer(e.lawyer)...), 409)
		wantStatus(t, e.do("POST", dec, map[string]any{"claim": byPhone, "other": first, "decision": "not_duplicate"}, bearer(e.lawyer)...), 204)
		if e.status(byPhone) != "received" {
			t.Fatal("not_duplicate changed the claim")
		}
		ps = e.pairs("?status=not_duplicate")
		if len(ps) != 1 || ps[0].DecidedBy != "lawyer" {
			t.Fatalf("%+v", ps)
		}
		wantStatus(t, e.do("POST", dec, map[string]any{"claim": first, "other": second, "decision": "duplicate"}, bearer(e.lawyer)...), 404)
		wantStatus(t, e.do("POST", dec, map[string]any{"claim": first, "other": "CD-0000-0000-0000", "decision": "maybe"}, bearer(e.lawyer)...), 422)
		wantStatus(t, e.do("GET", "/api/v1/cases/kakao-2022/duplicates?status=x", nil, bearer(e.lawyer)...), 422)
	})
}

// TestDuplicatePages: paged one pair at a time, the duplicates list gives every pair once,
// with every rule it matched, though a batch's detection writes the rows of its pairs rule by
// rule (A-B by email, C-D by email, then A-B by phone).
func TestDuplicatePages(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		mk := func(ref, name, email, phone string) map[string]any {
			b := person(name, email, phone, taxi("2022-10-15T18:30"))
			b["external_ref"] = ref
			return b
		}
		wantStatus(t, e.do("POST", "/api/v1/cases/kakao-2022/claims/batch", map[string]any{"claims": []any{
			mk("x-1", "홍길동", "hong@example.com", "010-1111-2222"),
			mk("x-2", "김철수", "kim@example.com", "010-3333-4444"),
			mk("x-3", "홍길동", "hong@example.com", "010-1111-2222"),
			mk("x-4", "김철수", "kim@example.com", "010-5555-6666"),
		}}, bearer(e.importer)...), 200)
		key := func(p api.DuplicatePairResponse) string {
			return p.Claim + "~" + p.Other + " " + strings.Join(p.Matched, ",")
		}
		var all []string
		for _, p := range e.pairs("") {
			all = append(all, key(p))
		}
		if len(all) != 2 {
			t.Fatalf("pairs %v, want 2", all)
		}
		var paged []string
		cursor := ""
		for page := 0; page < 5; page++ {
			r := e.do("GET", "/api/v1/cases/kakao-2022/duplicates?limit=1&cursor="+url.QueryEscape(cursor), nil, bearer(e.lawyer)...)
			wantStatus(t, r, 200)
			var out api.DuplicateListResponse
			json.Unmarshal(r.Body, &out)
			for _, p := range out.Pairs {
				paged = append(paged, key(p))
			}
			if cursor = out.NextCursor; cursor == "" {
				break
			}
		}
		if strings.Join(paged, " | ") != strings.Join(all, " | ") {
			t.Errorf("paged %v, all at once %v", paged, all)
		}
	})
}

func TestDuplicatesFromImports(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		e = e.withRunner(1 << 20)
		web := e.file(person("홍길동", "hong@example.com", "010-7777-8888", taxi("2022-10-15 18:00")))
		e.importCSV(e.importer, "", goodCSV) // A-1 is hong@example.com with a taxi item at 18:30
		// Detection runs right after the import's transaction commits: wait for it.
		ps := e.pairs("")
		for deadline := time.Now().Add(10 * time.Second); len(ps) == 0 && time.Now().Before(deadline); ps = e.pairs("") {
			time.Sleep(20 * time.Millisecond)
		}
		if len(ps) == 0 || ps[0].Other != web || !slices.Contains(ps[0].Matched, "email") {
			t.Fatalf("import pairs %+v", ps)
		}
	})
}

// claimsWith lists the references of claims the list filter selects.
func (e *env) claimsWith(query string) []string {
	e.t.Helper()
	r := e.do("GET", "/api/v1/cases/kakao-2022/claims?limit=500&"+query, nil, bearer(e.lawyer)...)
	wantStatus(e.t, r, 200)
	var out api.ClaimListResponse
	json.Unmarshal(r.Body, &out)
	var refs []string
	for _, c := range out.Claims {
		refs = append(refs, c.Reference)
	}
	return refs
}

func TestFraudSignals(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		small := payment("2022-10-15T19:00:00+09:00")
		e.file(person("가", "a1@example.com", "", small))
		huge := payment("2022-10-15T19:00:00+09:00")
		huge["amount_krw"] = 5_000_000
		outlier := e.file(person("나", "b1@example.com", "", huge))
		// Over the limits of two services: one signal, with the first service's limit.
		hugeTaxi := taxi("2022-10-15T18:00:00+09:00")
		hugeTaxi["alternative_cost_krw"] = 3_000_000
		both := e.file(person("사", "g1@example.com", "", hugeTaxi, huge))
		outside := e.file(person("다", "c1@example.com", "", taxi("2022-12-01T10:00:00+09:00")))
		desc := "카카오톡 먹통으로 거래처와 계약을 놓쳤습니다 정말로"
		d1 := e.file(person("라", "d1@example.com", "", other("daum", "mail", "2022-10-15T18:00:00+09:00")))
		_ = d1
		o1 := other("daum", "mail", "2022-10-15T18:00:00+09:00")
		o1["description"] = desc
		o2 := other("daum", "mail", "2022-10-15T19:00:00+09:00")
		o2["description"] = desc
		same1 := e.file(person("마", "e1@example.com", "", o1))
		same2 := e.file(person("바", "f1@example.com", "", o2))
		sim1 := e.file(person("김민준", "kim.minjun@example.com", "", taxi("2022-10-15T18:30:00+09:00")))
		sim2 := e.file(person("김민준", "kimminjun+claims@example.com", "", taxi("2022-10-15T18:35:00+09:00")))

		// Every claim came from the test client's one IP at the same instant: a burst.
		burst := e.claimsWith("flag=ip_burst")
		if len(burst) != 9 {
			t.Errorf("ip_burst on %d claims, want all 9", len(burst))
		}
		for _, tc := range []struct {
			flag string
			want []string
		}{
			{"amount_outlier", []string{both, outlier}},
			{"outside_windows", []string{outside}},
			{"same_description", []string{same2, same1}},
			{"similar_identity", []string{sim2, sim1}},
		} {
			if got := e.claimsWith("flag=" + tc.flag); !slices.Equal(got, tc.want) {
				t.Errorf("flag %s: %v, want %v", tc.flag, got, tc.want)
			}
		}
		for ref, want := range map[string]string{outlier: "kakao_pay > 500000", both: "kakao_pay > 500000"} {
			var cr api.ClaimResponse
			json.Unmarshal(e.do("GET", "/api/v1/claims/"+ref, nil, bearer(e.lawyer)...).Body, &cr)
			var details []string
			for _, g := range cr.Review.Signals {
				if g.Code == "amount_outlier" {
					details = append(details, g.Detail)
				}
			}
			if !slices.Equal(details, []string{want}) {
				t.Errorf("%s: amount_outlier details %q, want [%q]", ref, details, want)
			}
		}
		// The honeypot is recorded by the web form through the service.
		svc := &claims.Service{Store: e.st, Now: func() time.Time { return testNow }}
		cl, _ := e.st.ClaimByReference(context.Background(), same1)
		if err := svc.RecordSignal(context.Background(), cl, claims.SignalHoneypot, "website"); err != nil {
			t.Fatal(err)
		}
		r := e.do("GET", "/api/v1/claims/"+same1, nil, bearer(e.lawyer)...)
		var cr api.ClaimResponse
		json.Unmarshal(r.Body, &cr)
		want := 30 + 25 + 50 // ip_burst, same_description, honeypot
		if cr.Review == nil || cr.Review.FraudScore != want || len(cr.Review.Signals) != 3 {
			t.Fatalf("review %s", r.Body)
		}
		if got := e.claimsWith(fmt.Sprintf("min_score=%d", want)); !slices.Equal(got, []string{same1}) {
			t.Fatalf("min_score: %v", got)
		}
		wantStatus(t, e.do("GET", "/api/v1/cases/kakao-2022/claims?min_score=-1", nil, bearer(e.lawyer)...), 422)
		// The claimant does not see the review.
		if strings.Contains(string(e.do("GET", "/api/v1/claims/"+same1, nil, bearer(e.importer)...).Body), "fraud_score") {
			t.Fatal("review shown to a non-staff principal")
		}
	})
}

func TestReviewConfig(t *testing.T) {
	cfg, err := claims.ParseReviewConfig(`{"duplicate_window_seconds": 60, "signals": {"ip_burst": {"weight": 5, "count": 100, "window_seconds": 60}}}`)
	if err != nil || cfg.DuplicateWindowSeconds != 60 || cfg.Signals["ip_burst"].Count != 100 || cfg.Signals["honeypot"].Weight != 50 {
		t.Fatalf("%+v %v", cfg, err)
	}
	cfg, err = claims.ParseReviewConfig(`{"signals": {"honeypot": {"weight": 70}}, "cases": {"kakao-2022": {"duplicate_window_seconds": 600}}}`)
	if err != nil || cfg.For("kakao-2022").DuplicateWindowSeconds != 600 || cfg.For("kakao-2022").Signals["honeypot"].Weight != 70 ||
		cfg.For("other").DuplicateWindowSeconds != 7200 {
		t.Fatalf("per-case %+v %v", cfg, err)
	}
	for _, bad := range []string{`{"nope": 1}`, `{"signals": {"x": {"weight": -1}}}`, `[`, `{"cases": {"a": {"cases": {}}}}`,
		`{"signals": {"amount_outlier": {"weight": 10, "factor": 1e300}}}`, `{"signals": {"amount_outlier": {"weight": 10, "factor": -2}}}`,
		`{"signals": {"ip_burst": {"weight": 10, "count": -1}}}`} {
		if _, err := claims.ParseReviewConfig(bad); err == nil {
			t.Errorf("%s accepted", bad)
		}
	}
}

func TestAuditAPI(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		ref := e.file(claim(taxi("2022-10-15T18:30:00+09:00")))
		wantStatus(t, e.move(ref, map[string]any{"to": "under_review", "note": "=cmd|' /C calc'!A0"}, e.lawyer), 200)
		wantStatus(t, e.do("POST", "/api/v1/tokens", map[string]any{"role": "lawyer", "name": "새 변호사"}, bearer(e.admin)...), 201)

		list := func(q string) api.AuditListResponse {
			t.Helper()
			r := e.do("GET", "/api/v1/audit"+q, nil, bearer(e.lawyer)...)
			wantStatus(t, r, 200)
			var out api.AuditListResponse
			json.Unmarshal(r.Body, &out)
			return out
		}
		all := list("")
		if len(all.Events) != 3 || all.Events[0].Entity != "token" || all.Events[2].Action != "submit" {
			t.Fatalf("%+v", all.Events)
		}
		if ev := list("?entity=claim&entity_id=" + ref + "&action=transition"); len(ev.Events) != 1 || ev.Events[0].Actor.Name != "lawyer" || ev.Events[0].Case != "kakao-2022" {
			t.Fatalf("%+v", ev)
		}
		if ev := list("?actor_kind=claimant"); len(ev.Events) != 1 {
			t.Fatalf("%+v", ev)
		}
		if ev := list("?case=kakao-2022"); len(ev.Events) != 2 {
			t.Fatalf("case filter %+v", ev)
		}
		if ev := list("?from=" + url.QueryEscape(testNow.Add(time.Minute).Format(time.RFC3339))); len(ev.Events) != 0 {
			t.Fatalf("from filter %+v", ev)
		}
		if ev := list("?to=" + url.QueryEscape(testNow.Add(time.Minute).Format(time.RFC3339))); len(ev.Events) != 3 {
			t.Fatalf("to filter %+v", ev)
		}
		// A local time is read in the case's zone (Asia/Seoul, 9 hours ahead of UTC) when a
		// case is filtered on, in UTC otherwise.
		local := url.QueryEscape(testNow.Add(time.Minute).UTC().Format("2006-01-02 15:04"))
		if ev := list("?case=kakao-2022&from=" + local); len(ev.Events) != 2 {
			t.Fatalf("local from, case zone: %+v", ev)
		}
		if ev := list("?from=" + local); len(ev.Events) != 0 {
			t.Fatalf("local from, UTC: %+v", ev)
		}
		// Pages.
		p1 := list("?limit=2")
		p2 := list("?limit=2&cursor=" + p1.NextCursor)
		if len(p1.Events) != 2 || p1.NextCursor == "" || len(p2.Events) != 1 || p2.NextCursor != "" || p2.Events[0].ID >= p1.Events[1].ID {
			t.Fatalf("pages %+v %+v", p1, p2)
		}
		wantStatus(t, e.do("GET", "/api/v1/audit?limit=0&from=x&case=nope", nil, bearer(e.lawyer)...), 422)
		wantStatus(t, e.do("GET", "/api/v1/audit?cursor=not-a-cursor!", nil, bearer(e.lawyer)...), 400)

		r := e.do("GET", "/api/v1/audit.csv?entity=claim", nil, bearer(e.admin)...)
		wantStatus(t, r, 200)
		body := string(r.Body)
		lines := strings.Split(strings.TrimSpace(body), "\n")
		if !strings.HasPrefix(body, "\ufeffid,at,actor_kind") || len(lines) != 3 || !strings.Contains(body, ref) || r.Header.Get("Content-Type") != "text/csv; charset=utf-8" {
			t.Fatalf("csv %q", body)
		}
		if strings.Contains(body, ",=cmd") || !strings.Contains(body, "'") {
			t.Fatalf("formula not neutralised: %q", body)
		}
		// The export is itself recorded.
		if ev := list("?entity=audit&action=export"); len(ev.Events) != 1 {
			t.Fatalf("%+v", ev)
		}
	})
}

func mustJSON(v any) []byte {
	b, _ := json.Marshal(v)
	return b
}

// TestPerCaseReviewConfig: thresholds come from configuration, here a per-case override that
// narrows the duplicate distance to 10 minutes and switches the burst signal off.
func TestPerCaseReviewConfig(t *testing.T) {
	cfg, err := claims.ParseReviewConfig(`{"cases": {"kakao-2022": {"duplicate_window_seconds": 600, "signals": {"ip_burst": {"weight": 0}}}}}`)
	if err != nil {
		t.Fatal(err)
	}
	e := newEnv(t, "sqlite")
	e.h = api.New(api.Config{Store: e.st, Now: func() time.Time { return testNow }, Review: &cfg})
	for i := 0; i < 6; i++ {
		e.file(person("홍길동", "hong@example.com", "", taxi(fmt.Sprintf("2022-10-15T%02d:30:00+09:00", 16+i))))
	}
	if ps := e.pairs(""); len(ps) != 0 {
		t.Fatalf("pairs an hour apart with a 10-minute distance: %+v", ps)
	}
	if got := e.claimsWith("flag=ip_burst"); len(got) != 0 {
		t.Fatalf("ip_burst switched off, but flagged %v", got)
	}
	e.file(person("홍길동", "hong@example.com", "", taxi("2022-10-15T21:35:00+09:00")))
	if ps := e.pairs(""); len(ps) != 1 {
		t.Fatalf("pairs %+v", ps)
	}
}
