package web

import (
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// limiter is a token bucket per client IP, in memory. Idle buckets are evicted, so the map
// stays small whatever the number of clients; an evicted client starts with a full bucket,
// which is what it would have by then anyway.
type limiter struct {
	mu      sync.Mutex
	buckets map[string]*bucket
	every   rate.Limit
	burst   int
	now     func() time.Time
	swept   time.Time
}

type bucket struct {
	l    *rate.Limiter
	seen time.Time
}

// idleAfter is how long a bucket lives unused: long enough to refill completely.
const idleAfter = 15 * time.Minute

func newLimiter(every rate.Limit, burst int, now func() time.Time) *limiter {
	return &limiter{buckets: map[string]*bucket{}, every: every, burst: burst, now: now}
}

func (l *limiter) allow(ip string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	if now.Sub(l.swept) > time.Minute {
		for k, b := range l.buckets {
			if now.Sub(b.seen) > idleAfter {
				delete(l.buckets, k)
			}
		}
		l.swept = now
	}
	b := l.buckets[ip]
	if b == nil {
		b = &bucket{l: rate.NewLimiter(l.every, l.burst)}
		l.buckets[ip] = b
	}
	b.seen = now
	return b.l.AllowN(now, 1)
}

func (l *limiter) size() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.buckets)
}
