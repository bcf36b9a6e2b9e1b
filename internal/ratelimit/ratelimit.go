// Package ratelimit keeps one token bucket per key (an IP, a claim reference) in memory, with a
// bound on the number of keys, so a flood of distinct keys can neither grow it without bound
// nor make it stop counting. Limits are per process: behind a load balancer each instance
// limits on its own, which is what a per-instance budget for abuse (not a quota) needs.
package ratelimit

import (
	"container/list"
	"net/http"
	"net/netip"
	"strconv"
	"sync"
	"time"
)

// Limiter limits events per key.
type Limiter struct {
	interval time.Duration
	burst    int
	idle     time.Duration
	maxKeys  int

	mu      sync.Mutex
	buckets map[string]*list.Element // of *bucket, in lru
	// lru holds the buckets from the most recently used (front) to the least (back), so the
	// quiet ones are found, and the one to drop when full is chosen, without a scan.
	lru *list.List
}

type bucket struct {
	key    string
	tokens float64   // events left at the instant at
	at     time.Time // when tokens was last brought up to date
	seen   time.Time // last use
}

// New allows burst events at once per key, refilled at one per interval. A key quiet for longer
// than it takes to refill fully is forgotten: its bucket would be full, as for a new key.
func New(interval time.Duration, burst int) *Limiter {
	return &Limiter{interval: interval, burst: burst, idle: interval * time.Duration(burst),
		maxKeys: 100_000, buckets: map[string]*list.Element{}, lru: list.New()}
}

// NewCodeFailures is the budget of wrong access codes (a claim's reference and code, on the
// status page and in the API alike): 10 at once, then one a minute, per client IP (IPKey) and
// per reference ("ref:" and the canonical reference). Only failures use it up (see Attempt):
// a claimant who mistypes a few times gets in, a guesser is stopped.
func NewCodeFailures() *Limiter { return New(time.Minute, 10) }

// DefaultSubmitEvery and DefaultSubmitBurst are the default budget of claims the web form
// files per client IP (IPKey): DefaultSubmitBurst at once, then one every DefaultSubmitEvery.
// The configuration's defaults (CLAIMDESK_WEB_SUBMIT_EVERY, CLAIMDESK_WEB_SUBMIT_BURST) and the
// pages' (a zero web.Config) are these.
const (
	DefaultSubmitEvery = 20 * time.Second
	DefaultSubmitBurst = 10
)

// RetryAfter is how long a key just refused waits for one more event, at most: one refill
// interval, in whole seconds rounded up (at least 1), as an HTTP Retry-After header says it.
func (l *Limiter) RetryAfter() int {
	return max(1, int((l.interval+time.Second-1)/time.Second))
}

// SetRetryAfter tells the client of a key just refused (429) when to come back: it sets the
// Retry-After header of h to RetryAfter, and returns those seconds for a page to say.
func (l *Limiter) SetRetryAfter(h http.Header) string {
	s := strconv.Itoa(l.RetryAfter())
	h.Set("Retry-After", s)
	return s
}

// Allow reports whether one more event for key is allowed now, and counts it if so. Taking the
// event is the check: an attempt that takes it before doing slow work (a bcrypt comparison)
// cannot be joined by others that arrive meanwhile, as a check first and a count after would.
func (l *Limiter) Allow(key string) bool { return l.AllowAt(key, time.Now()) }

// AllowAt is Allow at the instant now (for tests).
func (l *Limiter) AllowAt(key string, now time.Time) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.bucket(key, now)
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}

// Refund gives back an event taken with Allow, for an attempt that turned out not to count
// (the right password): only failures use up the budget, yet they are taken before the check.
func (l *Limiter) Refund(key string) { l.RefundAt(key, time.Now()) }

// RefundAt is Refund at the instant now (for tests).
func (l *Limiter) RefundAt(key string, now time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	e, ok := l.buckets[key]
	if !ok {
		return // forgotten meanwhile: a new bucket is full anyway
	}
	b := e.Value.(*bucket)
	l.refill(b, now)
	b.tokens = min(b.tokens+1, float64(l.burst))
}

// bucket returns key's bucket, refilled up to now and marked as just used, making it if need be.
func (l *Limiter) bucket(key string, now time.Time) *bucket {
	l.forgetQuiet(now)
	if e, ok := l.buckets[key]; ok {
		b := e.Value.(*bucket)
		l.refill(b, now)
		b.seen = now
		l.lru.MoveToFront(e)
		return b
	}
	// Full of live keys: drop the least recently used rather than refuse to count the new key.
	// Refusing would leave every new key (an account, a reference) unlimited once someone has
	// filled the limiter, and failing closed would let them lock everybody out; dropping the
	// oldest costs whoever wants a key forgotten maxKeys fresh attempts each time.
	for len(l.buckets) >= l.maxKeys {
		l.remove(l.lru.Back())
	}
	b := &bucket{key: key, tokens: float64(l.burst), at: now, seen: now}
	l.buckets[key] = l.lru.PushFront(b)
	return b
}

func (l *Limiter) refill(b *bucket, now time.Time) {
	if now.After(b.at) {
		b.tokens = min(b.tokens+float64(now.Sub(b.at))/float64(l.interval), float64(l.burst))
		b.at = now
	}
}

// forgetQuiet drops the keys unused for longer than idle, from the back of lru.
func (l *Limiter) forgetQuiet(now time.Time) {
	for e := l.lru.Back(); e != nil && now.Sub(e.Value.(*bucket).seen) > l.idle; e = l.lru.Back() {
		l.remove(e)
	}
}

func (l *Limiter) remove(e *list.Element) {
	delete(l.buckets, e.Value.(*bucket).key)
	l.lru.Remove(e)
}

// Len is the number of keys remembered.
func (l *Limiter) Len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.buckets)
}

// Key is one key of one limiter.
type Key struct {
	Limiter *Limiter
	Name    string
}

// Attempt is an event taken from several budgets before a check whose outcome decides whether
// it counts (a password, an access code): only failures use up the budget, yet the event is
// taken first, so attempts made at once cannot all pass a check of the budget before any of
// them is counted. A nil Attempt (no budget applies) does nothing.
type Attempt struct {
	keys   []Key
	failed bool
}

// Try takes one event of every key, or of none: when one key has none left, the events already
// taken from the others are given back, and it returns nil and false.
func Try(keys ...Key) (*Attempt, bool) {
	for i, k := range keys {
		if !k.Limiter.Allow(k.Name) {
			refund(keys[:i])
			return nil, false
		}
	}
	return &Attempt{keys: keys}, true
}

// Failed keeps the attempt's event counted.
func (a *Attempt) Failed() {
	if a != nil {
		a.failed = true
	}
}

// Done gives the event back unless the attempt Failed; deferred after Try.
func (a *Attempt) Done() {
	if a != nil && !a.failed {
		refund(a.keys)
	}
}

// refund gives back one event of every key (see Refund).
func refund(keys []Key) {
	for _, k := range keys {
		k.Limiter.Refund(k.Name)
	}
}

// IPKey is the key of a client address: the address itself for IPv4, its /64 for IPv6. One
// subscriber commonly holds a whole /64 and may pick any address in it, so limiting single
// IPv6 addresses would limit nothing. Keys start with "ip:", so they can share a limiter with
// keys of other kinds.
func IPKey(ip string) string {
	a, err := netip.ParseAddr(ip)
	if err != nil {
		return "ip:" + ip
	}
	a = a.Unmap()
	if a.Is6() {
		p, _ := a.Prefix(64)
		return "ip:" + p.String()
	}
	return "ip:" + a.String()
}
