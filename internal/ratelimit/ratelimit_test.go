package ratelimit

import (
	"fmt"
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
