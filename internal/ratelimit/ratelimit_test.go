package ratelimit

import (
	"fmt"
	"net/http"
	"strconv"
	"testing"
	"time"
)

func TestLimiter(t *testing.T) {
	l := New(time.Minute, 3)
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := 0; i < 3; i++ {
		if !l.AllowAt("a", t0) {
			t.Fatalf("event %d refused", i)
		}
	}
	if l.AllowAt("a", t0) {
		t.Fatal("fourth event allowed")
	}
	if !l.AllowAt("b", t0) {
		t.Fatal("another key refused")
	}
	if !l.AllowAt("a", t0.Add(time.Minute)) {
		t.Fatal("not refilled after the interval")
	}
	// Quiet keys are forgotten.
	l.AllowAt("c", t0.Add(10*time.Minute))
	if l.Len() != 1 {
		t.Fatalf("%d keys remembered", l.Len())
	}
}

func TestLimiterBounded(t *testing.T) {
	l := New(time.Minute, 1)
	l.maxKeys = 100
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := 0; i < 1000; i++ {
		l.AllowAt(fmt.Sprint(i), t0)
	}
	if l.Len() > 100 {
		t.Fatalf("%d keys", l.Len())
	}
}

// TestLimiterFullStillCounts: once the limiter holds maxKeys live keys, a new key is still
// counted (the least recently used key makes room), or filling it would unlimit every new key.
func TestLimiterFullStillCounts(t *testing.T) {
	l := New(time.Minute, 3)
	l.maxKeys = 100
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := 0; i < 100; i++ {
		l.AllowAt(fmt.Sprint(i), t0)
	}
	for i := 0; i < 3; i++ {
		l.AllowAt("victim", t0) // the newest failures: exhausted
	}
	for i := 0; i < 3; i++ {
		if !l.AllowAt("new", t0) {
			t.Fatalf("new key refused at event %d: its failures would go uncounted", i)
		}
	}
	if l.AllowAt("new", t0) || l.AllowAt("victim", t0) {
		t.Fatal("a key past its limit allowed while the limiter is full")
	}
	if l.Len() != 100 {
		t.Fatalf("%d keys, want 100", l.Len())
	}
}

func TestRefund(t *testing.T) {
	l := New(time.Minute, 2)
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	l.AllowAt("a", t0)
	l.AllowAt("a", t0)
	l.RefundAt("a", t0)
	if !l.AllowAt("a", t0) || l.AllowAt("a", t0) {
		t.Fatal("a refund gives back exactly one event")
	}
	// Refunds never raise a bucket past its burst.
	l.RefundAt("b", t0)
	l.AllowAt("b", t0)
	l.RefundAt("b", t0)
	l.RefundAt("b", t0)
	allowed := 0
	for range 3 {
		if l.AllowAt("b", t0) {
			allowed++
		}
	}
	if allowed != 2 {
		t.Fatalf("%d events after refunds into a full bucket of 2", allowed)
	}
}

// TestTryAllOrNothing: an attempt takes an event of every budget, or of none.
func TestTryAllOrNothing(t *testing.T) {
	a, b := New(time.Hour, 2), New(time.Hour, 1)
	keys := []Key{{a, "x"}, {b, "x"}}
	if _, ok := Try(keys...); !ok {
		t.Fatal("first attempt refused")
	}
	if _, ok := Try(keys...); ok {
		t.Fatal("second attempt allowed past b's limit")
	}
	// The refused attempt took nothing from a: one event is left there.
	if !a.Allow("x") || a.Allow("x") {
		t.Fatal("a refused attempt was counted in a")
	}
}

func TestIPKey(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"192.0.2.7", "ip:192.0.2.7"},
		{"::ffff:192.0.2.7", "ip:192.0.2.7"},
		{"2001:db8:1:2::1", "ip:2001:db8:1:2::/64"},
		{"2001:db8:1:2:ffff:ffff:ffff:ffff", "ip:2001:db8:1:2::/64"},
		{"2001:db8:1:3::1", "ip:2001:db8:1:3::/64"},
		{"fe80::1%eth0", "ip:fe80::/64"},
		{"not an address", "ip:not an address"},
	} {
		if got := IPKey(tc.in); got != tc.want {
			t.Errorf("IPKey(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// TestAttempt: an attempt that failed keeps its event; one that did not gives it back; none
// is taken when a budget is spent; a nil attempt (no budget applies) does nothing.
func TestAttempt(t *testing.T) {
	l := New(time.Hour, 2)
	key := Key{l, "k"}
	a, ok := Try(key)
	if !ok {
		t.Fatal("first attempt refused")
	}
	a.Failed()
	a.Done()
	b, _ := Try(key)
	b.Done() // right: given back
	c, ok := Try(key)
	if !ok {
		t.Fatal("the right attempt's event was not given back")
	}
	c.Failed()
	c.Done()
	if _, ok := Try(key); ok {
		t.Fatal("two failures did not spend a budget of two")
	}
	var none *Attempt
	none.Failed()
	none.Done()
}

// TestRetryAfter: a refused key is told the wait of its own limiter, in whole seconds.
func TestRetryAfter(t *testing.T) {
	for _, tc := range []struct {
		interval time.Duration
		want     int
	}{{time.Minute, 60}, {20 * time.Second, 20}, {1500 * time.Millisecond, 2}, {200 * time.Millisecond, 1}} {
		if got := New(tc.interval, 1).RetryAfter(); got != tc.want {
			t.Errorf("RetryAfter of one every %v: %d, want %d", tc.interval, got, tc.want)
		}
		h := http.Header{}
		if got := New(tc.interval, 1).SetRetryAfter(h); got != strconv.Itoa(tc.want) || h.Get("Retry-After") != got {
			t.Errorf("SetRetryAfter of one every %v: %q, header %q, want %d", tc.interval, got, h.Get("Retry-After"), tc.want)
		}
	}
}

// TestCodeFailures: 10 wrong codes at once, then one a minute, and a refusal says a minute.
func TestCodeFailures(t *testing.T) {
	l := NewCodeFailures()
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := 0; i < 10; i++ {
		if !l.AllowAt("ip:192.0.2.1", t0) {
			t.Fatalf("failure %d refused", i)
		}
	}
	if l.AllowAt("ip:192.0.2.1", t0) {
		t.Fatal("eleventh failure allowed")
	}
	if !l.AllowAt("ip:192.0.2.1", t0.Add(time.Minute)) || l.AllowAt("ip:192.0.2.1", t0.Add(time.Minute)) {
		t.Fatal("not one more after a minute")
	}
	if got := l.RetryAfter(); got != 60 {
		t.Errorf("RetryAfter %d, want 60", got)
	}
}
