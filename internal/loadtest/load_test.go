package loadtest_test

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/claimdesk/claimdesk/internal/store"
	"github.com/claimdesk/claimdesk/internal/testdb"
	"github.com/claimdesk/claimdesk/models"
)

func TestMain(m *testing.M) { testdb.Main(m) }

// loadDuration is how long each load run lasts (CLAIMDESK_LOAD_SECONDS, default 10).
func loadDuration() time.Duration {
	if n, err := strconv.Atoi(os.Getenv("CLAIMDESK_LOAD_SECONDS")); err == nil && n > 0 {
		return time.Duration(n) * time.Second
	}
	return 10 * time.Second
}

// BenchmarkIntakeLoad measures POST /claims (three items, distinct claimants) at saturation and
// at 80% of it, beside the baseline, on PostgreSQL and SQLite. Targets: at least 50% of the
// baseline's throughput; p99 under 100 ms at 80% of saturation; no errors. Saturation counts
// detection (which runs after the answer) until it has caught up.
//
// CLAIMDESK_LOAD_DIALECTS (comma-separated) limits the dialects; CLAIMDESK_LOAD_PROFILE, a
// directory, gets a CPU profile of the service over the saturation run (<dialect>.pprof);
// CLAIMDESK_LOAD_PGSAMPLE samples PostgreSQL's running statements (see drain).
func BenchmarkIntakeLoad(b *testing.B) {
	wrk, err := exec.LookPath("wrk")
	if err != nil {
		b.Fatal("wrk not found: install it with `apt-get install -y wrk` (make bench-load does)")
	}
	for _, dialect := range loadDialects() {
		b.Run(dialect, func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				runLoad(b, wrk, dialect)
			}
		})
	}
}

// loadDialects is the dialects to load (CLAIMDESK_LOAD_DIALECTS, comma-separated; default all).
func loadDialects() []string {
	if v := os.Getenv("CLAIMDESK_LOAD_DIALECTS"); v != "" {
		return strings.Split(v, ",")
	}
	return testdb.Dialects()
}

const adminToken = "load-test-admin-token-0123456789"

func runLoad(b *testing.B, wrk, dialect string) {
	root := repoRoot(b)
	bin := b.TempDir()
	for name, pkg := range map[string]string{"claimdesk": ".", "baseline": "./internal/loadtest/baseline"} {
		cmd := exec.Command("go", "build", "-o", filepath.Join(bin, name), pkg)
		cmd.Dir = root
		if out, err := cmd.CombinedOutput(); err != nil {
			b.Fatalf("go build %s: %v\n%s", pkg, err, out)
		}
	}
	// Each server is its own process on its own database, as in production; the load
	// generators are other processes (wrk) or this one (vegeta).
	dbURL := testdb.URL(b, dialect)
	service := start(b, filepath.Join(bin, "claimdesk"), "/readyz",
		"CLAIMDESK_DATABASE_URL="+dbURL, "CLAIMDESK_ADDR=ADDR", "CLAIMDESK_ADMIN_TOKEN="+adminToken)
	base := start(b, filepath.Join(bin, "baseline"), "/readyz", "BASELINE_DATABASE_URL="+testdb.URL(b, dialect), "BASELINE_ADDR=ADDR")

	d := loadDuration()
	baseSat := runWrk(b, wrk, base+"/baseline", d)
	profiled := profile(b, service, dialect, d)
	svcSat := runWrk(b, wrk, service+"/api/v1/cases/kakao-2022/claims", d)
	<-profiled
	// Detection runs after the answer (one worker per process): a claim whose detection has
	// not run is intake not yet done. Saturation is the rate at which claims are stored and
	// looked at: the claims of the wrk run over the run and the time detection took to catch
	// up after it. The 80% run starts with the backlog gone, at 80% of that rate.
	st, err := store.Open(context.Background(), dbURL)
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	satBacklog, satDrain := drain(b, st)
	sustained := svcSat.rps * d.Seconds() / (d + satDrain).Seconds()
	rate := int(sustained * 0.8)
	at80 := attack(b, service+"/api/v1/cases/kakao-2022/claims", rate, d)
	backlog80, drain80 := drain(b, st)

	ratio := sustained / baseSat.rps
	fmt.Printf("\nintake load on %s (%s per run, 2 cores, loopback):\n", dialect, d)
	fmt.Printf("  baseline (decode + insert one row): %7.0f req/s  p50 %6s  p99 %6s  errors %d\n", baseSat.rps, baseSat.p50, baseSat.p99, baseSat.errors)
	fmt.Printf("  claimdesk POST /claims (3 items):   %7.0f req/s  p50 %6s  p99 %6s  errors %d  (answers; %.0f%% of baseline)\n",
		svcSat.rps, svcSat.p50, svcSat.p99, svcSat.errors, 100*svcSat.rps/baseSat.rps)
	fmt.Printf("  claimdesk sustained (with detection): %5.0f req/s  (backlog %d caught up in %s) -> %.0f%% of baseline (target >= 50%%)\n",
		sustained, satBacklog, satDrain.Round(10*time.Millisecond), 100*ratio)
	fmt.Printf("  claimdesk at 80%% (%d req/s, vegeta): p50 %6s  p99 %6s  success %.2f%%  (target p99 < 100ms, no errors)\n",
		rate, at80.Latencies.P50.Round(10*time.Microsecond), at80.Latencies.P99.Round(10*time.Microsecond), 100*at80.Success)
	fmt.Printf("  detection backlog after the 80%% run: %d claims (caught up in %s)\n", backlog80, drain80.Round(10*time.Millisecond))
	b.ReportMetric(svcSat.rps, "req/s")
	b.ReportMetric(sustained, "sustained-req/s")
	b.ReportMetric(ratio, "x-baseline")
	b.ReportMetric(float64(at80.Latencies.P99.Microseconds())/1000, "p99-ms@80%")
	b.ReportMetric(float64(backlog80), "backlog@80%")
}

// drain returns how many claims wait for their detection pass, and how long until at most
// stragglers do (at most two minutes). Stragglers: a request the load generator cancels when
// it stops (at most one per connection) may leave its claim stored but not queued; the
// worker's sweep takes it within two minutes.
//
// With CLAIMDESK_LOAD_PGSAMPLE set (PostgreSQL), it samples the statements running while
// detection catches up, every 2 ms, and prints the ten seen most: a profile of detection's
// database time without pg_stat_statements (which needs a preloaded library).
func drain(b *testing.B, st *store.Store) (int64, time.Duration) {
	const stragglers = 64
	sample := os.Getenv("CLAIMDESK_LOAD_PGSAMPLE") != "" && st.Dialect() == store.Postgres
	seen := map[string]int{}
	defer printSamples(seen)
	began := time.Now()
	var first int64 = -1
	for time.Since(began) < 2*time.Minute {
		var n int64
		if err := st.Gorm().Model(&models.ClaimReviewPending{}).Count(&n).Error; err != nil {
			b.Fatal(err)
		}
		if first < 0 {
			first = n
		}
		if n <= stragglers {
			break
		}
		for end := time.Now().Add(20 * time.Millisecond); sample && time.Now().Before(end); time.Sleep(2 * time.Millisecond) {
			var qs []string
			err := st.Gorm().Raw(`SELECT left(regexp_replace(query, '\s+', ' ', 'g'), 160) FROM pg_stat_activity
WHERE state = 'active' AND pid <> pg_backend_pid() AND datname = current_database()`).Scan(&qs).Error
			if err != nil {
				b.Fatal(err)
			}
			for _, q := range qs {
				seen[q]++
			}
		}
		if !sample {
			time.Sleep(20 * time.Millisecond)
		}
	}
	return first, time.Since(began)
}

func printSamples(seen map[string]int) {
	if len(seen) == 0 {
		return
	}
	total := 0
	qs := make([]string, 0, len(seen))
	for q, n := range seen {
		qs = append(qs, q)
		total += n
	}
	sort.Slice(qs, func(i, j int) bool { return seen[qs[i]] > seen[qs[j]] })
	fmt.Printf("  statements running while detection caught up (%d samples):\n", total)
	for _, q := range qs[:min(10, len(qs))] {
		fmt.Printf("    %3.0f%%  %s\n", 100*float64(seen[q])/float64(total), q)
	}
}

// profile records a CPU profile of the service for d, when CLAIMDESK_LOAD_PROFILE names a
// directory (to <dir>/<dialect>.pprof); the channel closes when it is written.
func profile(b *testing.B, service, dialect string, d time.Duration) <-chan struct{} {
	done := make(chan struct{})
	dir := os.Getenv("CLAIMDESK_LOAD_PROFILE")
	if dir == "" {
		close(done)
		return done
	}
	go func() {
		defer close(done)
		req, _ := http.NewRequest("GET", service+"/debug/pprof/profile?seconds="+strconv.Itoa(int(d.Seconds())), nil)
		req.Header.Set("Authorization", "Bearer "+adminToken)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			b.Logf("profile: %v", err)
			return
		}
		defer res.Body.Close()
		out, err := os.Create(filepath.Join(dir, dialect+".pprof"))
		if err == nil {
			_, err = io.Copy(out, res.Body)
			out.Close()
		}
		if err != nil || res.StatusCode != 200 {
			b.Logf("profile: %v (HTTP %d)", err, res.StatusCode)
		}
	}()
	return done
}

// start runs a server binary on a free loopback port (ADDR in env is replaced by it) until the
// benchmark ends, and waits until ready answers 200.
func start(b *testing.B, bin, ready string, env ...string) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	for i := range env {
		env[i] = strings.Replace(env[i], "=ADDR", "="+addr, 1)
	}
	cmd := exec.Command(bin)
	cmd.Env = append(os.Environ(), env...)
	cmd.Dir = b.TempDir()
	cmd.Stdout, cmd.Stderr = io.Discard, io.Discard // logs are written, as in production, and dropped
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	url := "http://" + addr
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if r, err := http.Get(url + ready); err == nil {
			r.Body.Close()
			if r.StatusCode == 200 {
				return url
			}
		}
	}
	b.Fatalf("%s did not become ready", bin)
	return ""
}

func repoRoot(b *testing.B) string {
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		b.Fatal(err)
	}
	return filepath.Dir(strings.TrimSpace(string(out)))
}

// claimTemplate is a realistic three-item claim; its placeholders are filled the same way by
// Go (vegeta) and Lua (wrk) from one number per claimant.
const claimTemplate = `{"claimant":{"name":"홍길동%d","email":"user%d@example.com","phone":"010%08d","locale":"ko"},"consent":true,"items":[` +
	`{"kind":"taxi_booking","service":"kakao_t","feature":"taxi","occurred_at":"2022-10-15T18:%02d:00+09:00","failure":"booking_failed","expected_fare_krw":12000,"alternative_cost_krw":31000,"documented":true,"description":"택시 호출이 되지 않아 모범택시를 이용함"},` +
	`{"kind":"payment","service":"kakao_pay","occurred_at":"2022-10-16 09:%02d","failure":"double_charged","amount_krw":%d,"documented":true},` +
	`{"kind":"message","occurred_at":"2022-10-15 20:00","ended_at":"2022-10-16 03:00","purpose":"business","loss_krw":%d,"description":"거래처 주문 메시지를 받지 못함"}]}`

func claimBody(n int64) []byte {
	return []byte(fmt.Sprintf(claimTemplate, n, n, n%100000000, n%60, n%60, 1000+n%90000, 10000+n%500000))
}

const wrkScript = `
local thread_counter = 0
function setup(thread)
  thread:set("tid", thread_counter)
  thread_counter = thread_counter + 1
end
function init(args)
  n = 0
end
request = function()
  n = n + 1
  local k = tid * 100000000 + n + os.time() % 100000 * 1000
  local body = string.format(TEMPLATE, k, k, k % 100000000, k % 60, k % 60, 1000 + k % 90000, 10000 + k % 500000)
  return wrk.format("POST", nil, {["Content-Type"] = "application/json"}, body)
end
`

type wrkResult struct {
	rps      float64
	p50, p99 string
	errors   int
}

func runWrk(b *testing.B, wrk, url string, d time.Duration) wrkResult {
	script := filepath.Join(b.TempDir(), "claims.lua")
	if err := os.WriteFile(script, []byte(strings.Replace(wrkScript, "TEMPLATE", luaString(claimTemplate), 1)), 0o644); err != nil {
		b.Fatal(err)
	}
	out, err := exec.Command(wrk, "-t2", "-c16", "-d"+strconv.Itoa(int(d.Seconds()))+"s", "--latency", "-s", script, url).CombinedOutput()
	if err != nil {
		b.Fatalf("wrk: %v\n%s", err, out)
	}
	res := wrkResult{}
	if m := regexp.MustCompile(`Requests/sec:\s+([\d.]+)`).FindSubmatch(out); m != nil {
		res.rps, _ = strconv.ParseFloat(string(m[1]), 64)
	}
	if m := regexp.MustCompile(`\s50%\s+(\S+)`).FindSubmatch(out); m != nil {
		res.p50 = string(m[1])
	}
	if m := regexp.MustCompile(`\s99%\s+(\S+)`).FindSubmatch(out); m != nil {
		res.p99 = string(m[1])
	}
	if m := regexp.MustCompile(`Non-2xx or 3xx responses:\s+(\d+)`).FindSubmatch(out); m != nil {
		res.errors, _ = strconv.Atoi(string(m[1]))
	}
	if m := regexp.MustCompile(`Socket errors: .*`).Find(out); m != nil {
		b.Logf("wrk: %s", m)
	}
	if res.rps == 0 {
		b.Fatalf("wrk output not understood:\n%s", out)
	}
	return res
}

// luaString quotes s for Lua: a long bracket string, which takes UTF-8 and quotes as they are.
func luaString(s string) string { return "[==[" + s + "]==]" }

// attack sends claims at a fixed rate (open loop: a slow server does not slow the sender).
func attack(b *testing.B, url string, rate int, d time.Duration) vegeta.Metrics {
	var n atomic.Int64
	n.Store(time.Now().UnixNano() % 1_000_000 * 1000)
	targeter := func(t *vegeta.Target) error {
		t.Method, t.URL = "POST", url
		t.Body = claimBody(n.Add(1))
		t.Header = http.Header{"Content-Type": []string{"application/json"}}
		return nil
	}
	atk := vegeta.NewAttacker(vegeta.Timeout(10*time.Second), vegeta.KeepAlive(true), vegeta.MaxConnections(64), vegeta.Connections(64))
	var m vegeta.Metrics
	for res := range atk.Attack(targeter, vegeta.Rate{Freq: rate, Per: time.Second}, d, "80%") {
		m.Add(res)
	}
	m.Close()
	if len(m.Errors) > 0 {
		b.Logf("vegeta errors: %v", m.Errors)
	}
	return m
}
