package loadtest_test

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"

	"github.com/claimdesk/claimdesk/internal/testdb"
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
// baseline's throughput; p99 under 100 ms at 80% of saturation; no errors.
func BenchmarkIntakeLoad(b *testing.B) {
	wrk, err := exec.LookPath("wrk")
	if err != nil {
		b.Fatal("wrk not found: install it with `apt-get install -y wrk` (make bench-load does)")
	}
	for _, dialect := range testdb.Dialects() {
		b.Run(dialect, func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				runLoad(b, wrk, dialect)
			}
		})
	}
}

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
	service := start(b, filepath.Join(bin, "claimdesk"), "/readyz",
		"CLAIMDESK_DATABASE_URL="+testdb.URL(b, dialect), "CLAIMDESK_ADDR=ADDR", "CLAIMDESK_ADMIN_TOKEN=load-test-admin-token-0123456789")
	base := start(b, filepath.Join(bin, "baseline"), "/readyz", "BASELINE_DATABASE_URL="+testdb.URL(b, dialect), "BASELINE_ADDR=ADDR")

	d := loadDuration()
	baseSat := runWrk(b, wrk, base+"/baseline", d)
	svcSat := runWrk(b, wrk, service+"/api/v1/cases/kakao-2022/claims", d)
	rate := int(svcSat.rps * 0.8)
	at80 := attack(b, service+"/api/v1/cases/kakao-2022/claims", rate, d)

	ratio := svcSat.rps / baseSat.rps
	fmt.Printf("\nintake load on %s (%s per run, 2 cores, loopback):\n", dialect, d)
	fmt.Printf("  baseline (decode + insert one row): %7.0f req/s  p50 %6s  p99 %6s  errors %d\n", baseSat.rps, baseSat.p50, baseSat.p99, baseSat.errors)
	fmt.Printf("  claimdesk POST /claims (3 items):   %7.0f req/s  p50 %6s  p99 %6s  errors %d  -> %.0f%% of baseline (target >= 50%%)\n",
		svcSat.rps, svcSat.p50, svcSat.p99, svcSat.errors, 100*ratio)
	fmt.Printf("  claimdesk at 80%% (%d req/s, vegeta): p50 %6s  p99 %6s  success %.2f%%  (target p99 < 100ms, no errors)\n",
		rate, at80.Latencies.P50.Round(10*time.Microsecond), at80.Latencies.P99.Round(10*time.Microsecond), 100*at80.Success)
	b.ReportMetric(svcSat.rps, "req/s")
	b.ReportMetric(ratio, "x-baseline")
	b.ReportMetric(float64(at80.Latencies.P99.Microseconds())/1000, "p99-ms@80%")
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
