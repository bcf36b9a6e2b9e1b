package web_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/claimdesk/claimdesk/api/web"
)

// lookupFrom posts a status lookup as if from the client address ip (the test router trusts
// X-Forwarded-For).
func (b *browser) lookupFrom(ip, ref, code string) int {
	b.t.Helper()
	f := url.Values{"csrf": {b.csrf}, "reference": {ref}, "access_code": {code}}
	req, _ := http.NewRequest(http.MethodPost, b.e.srv.URL+"/status", strings.NewReader(f.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-Forwarded-For", ip)
	res, err := b.c.Do(req)
	if err != nil {
		b.t.Error(err)
		return 0
	}
	res.Body.Close()
	return res.StatusCode
}

// TestStatusLookupLimitedPerReference: wrong codes for one reference are limited however many
// addresses they come from (10 per reference, as in the API).
func TestStatusLookupLimitedPerReference(t *testing.T) {
	e := newEnv(t, "sqlite")
	b := e.browser("ko")
	ref, _ := fileClaim(t, b)
	b.get("/status")
	for i := 0; i < 40; i++ {
		want := 401
		if i >= 10 {
			want = 429
		}
		if st := b.lookupFrom(fmt.Sprintf("198.51.100.%d", i+1), ref, "0000-0000-0000-0000"); st != want {
			t.Fatalf("attempt %d: %d, want %d", i, st, want)
		}
	}
}

// TestStatusLookupGroupsIPv6: the addresses of one IPv6 /64 (one subscriber) share one budget,
// or rotating through them would be free.
func TestStatusLookupGroupsIPv6(t *testing.T) {
	e := newEnv(t, "sqlite")
	b := e.browser("ko")
	b.get("/status")
	for i := 0; i < 40; i++ {
		want := 401
		if i >= 10 {
			want = 429
		}
		ref := fmt.Sprintf("CD-0000-0000-%04d", i)
		if st := b.lookupFrom(fmt.Sprintf("2001:db8:1:2::%x", i+1), ref, "0000-0000-0000-0000"); st != want {
			t.Fatalf("attempt %d: %d, want %d", i, st, want)
		}
	}
}

// TestStatusLookupLimitHoldsUnderParallelGuesses: lookups sent all at once from one address
// are limited like lookups sent one by one.
func TestStatusLookupLimitHoldsUnderParallelGuesses(t *testing.T) {
	e := newEnv(t, "postgres", func(c *web.Config) { c.SubmitEvery, c.SubmitBurst = time.Hour, 5 })
	b := e.browser("ko")
	b.get("/status")
	var (
		mu    sync.Mutex
		wg    sync.WaitGroup
		got   = map[int]int{}
		start = make(chan struct{})
	)
	for i := 0; i < 30; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			st := b.lookupFrom("203.0.113.9", "CD-0000-0000-0000", "0000-0000-0000-0000")
			mu.Lock()
			got[st]++
			mu.Unlock()
		}()
	}
	close(start)
	wg.Wait()
	if got[401] > 5 || got[401]+got[429] != 30 {
		t.Fatalf("statuses %v: want at most 5 checked (401), the rest 429", got)
	}
}
