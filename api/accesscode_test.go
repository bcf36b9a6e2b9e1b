package api_test

import (
	"net/url"
	"testing"
)

// TestAccessCodeLimitHoldsUnderParallelGuesses: wrong codes sent all at once are limited like
// wrong codes sent one by one (10 per reference).
func TestAccessCodeLimitHoldsUnderParallelGuesses(t *testing.T) {
	e := newEnv(t, "sqlite")
	ref := e.submit(claim(taxi("2022-10-15T18:30")))["reference"].(string)
	got := atOnce(30, func(int) int {
		return e.do("GET", "/api/v1/claims/"+ref, nil, "X-Access-Code", "0000-0000-0000-0000").Status
	})
	if got[404] > 10 || got[404]+got[429] != 30 {
		t.Fatalf("statuses %v: want at most 10 checked (404), the rest 429", got)
	}
}

// TestRightAccessCodeIsNotCounted: only wrong codes use up the budget.
func TestRightAccessCodeIsNotCounted(t *testing.T) {
	e := newEnv(t, "sqlite")
	created := e.submit(claim(taxi("2022-10-15T18:30")))
	ref, code := created["reference"].(string), created["access_code"].(string)
	for i := 0; i < 9; i++ {
		wantStatus(t, e.do("GET", "/api/v1/claims/"+ref, nil, "X-Access-Code", "0000-0000-0000-0000"), 404)
	}
	for i := 0; i < 5; i++ {
		wantStatus(t, e.do("GET", "/api/v1/claims/"+ref, nil, "X-Access-Code", code), 200)
	}
	wantStatus(t, e.do("GET", "/api/v1/claims/"+ref, nil, "X-Access-Code", "0000-0000-0000-0000"), 404)
	wantStatus(t, e.do("GET", "/api/v1/claims/"+ref, nil, "X-Access-Code", "0000-0000-0000-0000"), 429)
}

// TestAccessCodeBudgetSharedWithStatusPage: the API and the status page count wrong codes in
// the same budget, so alternating between them does not double it.
func TestAccessCodeBudgetSharedWithStatusPage(t *testing.T) {
	e := newEnv(t, "sqlite")
	ref := e.submit(claim(taxi("2022-10-15T18:30")))["reference"].(string)
	page := func() int {
		form := url.Values{"csrf": {"token"}, "reference": {ref}, "access_code": {"0000-0000-0000-0000"}}
		return e.doWith(false, "POST", "/status", form.Encode(),
			"Content-Type", "application/x-www-form-urlencoded", "Cookie", "cd_csrf=token").Status
	}
	api := func() int {
		return e.do("GET", "/api/v1/claims/"+ref, nil, "X-Access-Code", "0000-0000-0000-0000").Status
	}
	for i := 0; i < 5; i++ {
		if st := page(); st != 401 {
			t.Fatalf("page attempt %d: %d, want 401", i, st)
		}
		if st := api(); st != 404 {
			t.Fatalf("API attempt %d: %d, want 404", i, st)
		}
	}
	if st := api(); st != 429 {
		t.Fatalf("API after 10 wrong codes in all: %d, want 429", st)
	}
	if st := page(); st != 429 {
		t.Fatalf("page after 10 wrong codes in all: %d, want 429", st)
	}
}
