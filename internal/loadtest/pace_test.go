package loadtest_test

import (
	"errors"
	"fmt"
	"io"
	"maps"
	"math"
	"net/http"
	"net/http/httptest"
	"net/url"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/claimdesk/claimdesk/internal/config"
)

// paced is what an open-loop run measured: each request's latency counted from its time in the
// schedule (waiting for a free connection included), and its status (0: no answer).
type paced struct {
	latencies []time.Duration
	statuses  []int
	errs      []error // the first few transport errors
}

// pace sends n requests to the server at base, rate per second, over at most conns
// connections, open loop: request i (made by build) is due at i/rate seconds after the start
// whatever the server does, so a slow server neither slows the sender nor hides its queue.
// build runs on several goroutines at once. A request still waiting for a connection 30 s
// after the last one was due is not sent (status 0, and an error): a stalled server ends the
// run instead of holding it for as long as its queue takes to drain at the client's timeouts.
//
// It replaced vegeta: vegeta's net/http client (two goroutines per connection, headers as
// maps) took 44 to 52 µs of CPU per claim from the server's two cores, against about 15 for
// wrk, so the intake run at "80% of saturation" loaded the server nearer 95%. fasthttp's client
// reuses its buffers and reads each answer on the goroutine that sent the request. It runs in
// this process, and collects garbage at the servers' default GOGC (config.DefaultGCPercent,
// whatever the environment says).
func pace(base string, rate, n, conns int, build func(i int, req *fasthttp.Request)) (paced, error) {
	if rate <= 0 || n < 0 || conns <= 0 {
		return paced{}, fmt.Errorf("pace: rate %d, %d requests, %d connections", rate, n, conns)
	}
	defer debug.SetGCPercent(debug.SetGCPercent(config.DefaultGCPercent))
	u, err := url.Parse(base)
	if err != nil {
		return paced{}, err
	}
	hc := &fasthttp.HostClient{Addr: u.Host, MaxConns: conns, ReadTimeout: 10 * time.Second, WriteTimeout: 10 * time.Second}
	dueAt := func(i int) time.Duration { return time.Duration(int64(i) * int64(time.Second) / int64(rate)) }
	out := paced{latencies: make([]time.Duration, n), statuses: make([]int, n)}
	var late error // the error of the requests dropped after the deadline, reported once
	due := make(chan int, n)
	var mu sync.Mutex
	var wg sync.WaitGroup
	start := time.Now()
	deadline := start.Add(dueAt(n) + 30*time.Second)
	// One worker per connection, a request at a time: a request due while every connection is
	// busy waits in due, and its wait counts in its latency.
	for range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			req, resp := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
			defer fasthttp.ReleaseRequest(req)
			defer fasthttp.ReleaseResponse(resp)
			for i := range due {
				if time.Now().After(deadline) {
					out.latencies[i] = time.Since(start.Add(dueAt(i)))
					mu.Lock()
					late = fmt.Errorf("requests not sent: still waiting for a connection %s after the last was due", 30*time.Second)
					mu.Unlock()
					continue
				}
				req.Reset()
				build(i, req)
				err := hc.Do(req, resp)
				out.latencies[i] = time.Since(start.Add(dueAt(i)))
				if err != nil {
					mu.Lock()
					if len(out.errs) < 5 {
						out.errs = append(out.errs, err)
					}
					mu.Unlock()
					continue
				}
				out.statuses[i] = resp.StatusCode()
			}
		}()
	}
	// The requests due by now are handed out, then the sender sleeps until the next is due.
	for i := 0; i < n; time.Sleep(time.Until(start.Add(dueAt(i)))) {
		for now := time.Since(start); i < n && dueAt(i) <= now; i++ {
			due <- i
		}
	}
	close(due)
	wg.Wait()
	if late != nil {
		out.errs = append(out.errs, late)
	}
	return out, nil
}

// quantile is the q-quantile of the latencies (nearest rank: the smallest latency at least a
// share q of them do not exceed).
func (p paced) quantile(q float64) time.Duration {
	s := slices.Clone(p.latencies)
	slices.Sort(s)
	if len(s) == 0 {
		return 0
	}
	return s[max(0, min(len(s)-1, int(math.Ceil(q*float64(len(s))))-1))]
}

// statuses counts the answers by status ("0": none), as "status:count" in order.
func (p paced) statusCounts() []string {
	counts := map[int]int{}
	for _, st := range p.statuses {
		counts[st]++
	}
	out := make([]string, 0, len(counts))
	for _, st := range slices.Sorted(maps.Keys(counts)) {
		out = append(out, fmt.Sprintf("%d:%d", st, counts[st]))
	}
	return out
}

// success is the share of requests answered 2xx.
func (p paced) success() float64 {
	ok := 0
	for _, st := range p.statuses {
		if st >= 200 && st < 300 {
			ok++
		}
	}
	return float64(ok) / float64(max(1, len(p.statuses)))
}

func (p paced) err() error { return errors.Join(p.errs...) }

func (p paced) String() string {
	return fmt.Sprintf("%d requests, p50 %s, p99 %s, %.2f%% 2xx", len(p.latencies), p.quantile(0.5), p.quantile(0.99), 100*p.success())
}

// TestPace: every request of the schedule is sent once, with its body and address; answers are
// read whether chunked or sized, their statuses kept by request; a slow answer's latency
// includes its wait, and so does a request's wait for a free connection; a server that is gone
// gives errors, not statuses.
func TestPace(t *testing.T) {
	const rate, n = 400, 200
	var mu sync.Mutex
	seen := map[string]string{}
	var received atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		received.Add(1)
		var i int
		fmt.Sscan(string(b), &i)
		mu.Lock()
		seen[string(b)] = r.Header.Get("X-Forwarded-For")
		mu.Unlock()
		switch {
		case i%10 == 0:
			w.WriteHeader(http.StatusInternalServerError)
		case i%10 == 1:
			time.Sleep(20 * time.Millisecond)
			w.WriteHeader(http.StatusCreated)
		case i%2 == 1: // over net/http's buffer: sent chunked
			w.WriteHeader(http.StatusCreated)
			w.Write([]byte(strings.Repeat("x", 5000)))
		default:
			w.Header().Set("Content-Length", "2")
			w.WriteHeader(http.StatusCreated)
			w.Write([]byte("{}"))
		}
	}))
	defer srv.Close()
	build := func(i int, req *fasthttp.Request) {
		req.SetRequestURI(srv.URL + "/claims")
		req.Header.SetMethod(fasthttp.MethodPost)
		req.Header.Set("X-Forwarded-For", "10.0.0."+strconv.Itoa(i%256))
		req.SetBodyString(strconv.Itoa(i))
	}
	p, err := pace(srv.URL, rate, n, 16, build)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.err(); err != nil {
		t.Fatal(err)
	}
	if len(seen) != n || received.Load() != n {
		t.Fatalf("the server saw %d requests, %d distinct, want %d", received.Load(), len(seen), n)
	}
	for i := range n {
		if xff := seen[strconv.Itoa(i)]; xff != "10.0.0."+strconv.Itoa(i%256) {
			t.Fatalf("request %d came with X-Forwarded-For %q", i, xff)
		}
		want := http.StatusCreated
		if i%10 == 0 {
			want = http.StatusInternalServerError
		}
		if p.statuses[i] != want {
			t.Fatalf("request %d: status %d, want %d", i, p.statuses[i], want)
		}
		if i%10 == 1 && p.latencies[i] < 20*time.Millisecond {
			t.Fatalf("request %d waited 20ms for its answer, latency %s", i, p.latencies[i])
		}
	}
	if got := p.success(); got != 0.9 {
		t.Fatalf("success %v, want 0.9", got)
	}
	if got := fmt.Sprint(p.statusCounts()); got != "[201:180 500:20]" {
		t.Fatalf("statuses %s", got)
	}

	// One connection to a server that takes 20 ms an answer, requests due every 10 ms: request
	// i waits about 10i ms for the connection, and that wait is in its latency.
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(20 * time.Millisecond)
		w.WriteHeader(http.StatusCreated)
	}))
	defer slow.Close()
	queued, err := pace(slow.URL, 100, 10, 1, func(i int, req *fasthttp.Request) { req.SetRequestURI(slow.URL + "/") })
	if err != nil {
		t.Fatal(err)
	}
	for i, l := range queued.latencies {
		if want := time.Duration(20+10*i) * time.Millisecond; l < want {
			t.Fatalf("request %d over one busy connection: latency %s, want at least %s (%v)", i, l, want, queued.latencies)
		}
	}

	srv.Close()
	gone, err := pace(srv.URL, rate, 10, 4, build)
	if err != nil {
		t.Fatal(err)
	}
	if gone.err() == nil || gone.success() != 0 || slices.ContainsFunc(gone.statuses, func(s int) bool { return s != 0 }) {
		t.Fatalf("against a closed server: %v, errors %v", gone, gone.err())
	}
}
