// Package ratelimit keeps one token bucket per key (an IP, a claim reference) in memory, and
// forgets keys that have been quiet, so a flood of distinct keys cannot grow it without bound.
// Limits are per process: behind a load balancer each instance limits on its own, which is
// what a per-instance budget for abuse (not a quota) needs.
package ratelimit

import (
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// Limiter limits events per key.
type Limiter struct {
	every   rate.Limit
	burst   int
	idle    time.Duration
	maxKeys int

	mu        sync.Mutex
	buckets   map[string]*bucket
	lastSweep time.Time
}

type bucket struct {
	lim  *rate.Limiter
	seen time.Time
}

// New allows burst events at once per key, refilled at one per interval. A key quiet for longer
// than it takes to refill fully is forgotten.
func New(interval time.Duration, burst int) *Limiter {
	return &Limiter{every: rate.Every(interval), burst: burst, idle: interval * time.Duration(burst),
		maxKeys: 100_000, buckets: map[string]*bucket{}}
}

// Allow reports whether one more event for key is allowed now, and counts it if so.
func (l *Limiter) Allow(key string) bool { return l.AllowAt(key, time.Now()) }

// AllowAt is Allow at the instant now (for tests).
func (l *Limiter) AllowAt(key string, now time.Time) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if now.Sub(l.lastSweep) > l.idle || len(l.buckets) >= l.maxKeys {
		l.sweep(now)
	}
	b, ok := l.buckets[key]
	if !ok {
		if len(l.buckets) >= l.maxKeys {
			return false // full of live keys: refuse rather than grow
		}
		b = &bucket{lim: rate.NewLimiter(l.every, l.burst)}
		l.buckets[key] = b
	}
	b.seen = now
	return b.lim.AllowN(now, 1)
}

func (l *Limiter) sweep(now time.Time) {
	for k, b := range l.buckets {
		if now.Sub(b.seen) > l.idle {
			delete(l.buckets, k)
		}
	}
	l.lastSweep = now
}

// Exhausted reports whether key has no event left now, without counting one. With Allow on
// failures only, it limits failed attempts (wrong access codes) and lets the right one through.
func (l *Limiter) Exhausted(key string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	b, ok := l.buckets[key]
	return ok && b.lim.TokensAt(time.Now()) < 1
}

// Len is the number of keys remembered.
func (l *Limiter) Len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.buckets)
}
