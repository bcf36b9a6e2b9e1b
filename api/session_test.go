package api_test

import (
	"fmt"
	"sync"
	"testing"

	"github.com/claimdesk/claimdesk/internal/auth"
)

// atOnce runs fn n times concurrently, released together, and counts the statuses it returns.
func atOnce(n int, fn func(i int) int) map[int]int {
	var (
		mu    sync.Mutex
		wg    sync.WaitGroup
		count = map[int]int{}
		start = make(chan struct{})
	)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			st := fn(i)
			mu.Lock()
			count[st]++
			mu.Unlock()
		}()
	}
	close(start)
	wg.Wait()
	return count
}

// TestSignInLimitsHoldUnderParallelAttempts sends wrong passwords all at once while bcrypt is
// slow, as it is in production: attempts that arrive during another's check must not slip past
// the limits (5 per account, 20 per IP).
func TestSignInLimitsHoldUnderParallelAttempts(t *testing.T) {
	defer func(cost int) { auth.PasswordCost = cost }(auth.PasswordCost)
	auth.PasswordCost = 10 // tens of milliseconds a check: the attempts overlap
	for _, tc := range []struct {
		name  string
		email func(i int) string
		limit int
	}{
		{"one account", func(int) string { return "target@example.com" }, 5},
		{"one IP", func(i int) string { return fmt.Sprintf("nobody%d@example.com", i) }, 20},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, "sqlite")
			e.newUser("lawyer", "target@example.com")
			got := atOnce(30, func(i int) int {
				return e.do("POST", "/api/v1/session", map[string]any{"email": tc.email(i), "password": "wrong password!"}).Status
			})
			if got[401] > tc.limit || got[401]+got[429] != 30 {
				t.Fatalf("statuses %v: want at most %d checked (401), the rest 429", got, tc.limit)
			}
		})
	}
}

// TestRightPasswordIsNotCounted: the attempt is taken before the check, and given back when the
// password is right, so signing in never uses up the budget of failures.
func TestRightPasswordIsNotCounted(t *testing.T) {
	e := newEnv(t, "sqlite")
	id := e.newUser("lawyer", "ok@example.com")
	for i := 0; i < 10; i++ {
		e.signIn(id)
	}
	for i := 0; i < 5; i++ {
		wantStatus(t, e.do("POST", "/api/v1/session", map[string]any{"email": "ok@example.com", "password": "wrong password!"}), 401)
	}
	wantStatus(t, e.do("POST", "/api/v1/session", map[string]any{"email": "ok@example.com", "password": testPassword}), 429)
}
