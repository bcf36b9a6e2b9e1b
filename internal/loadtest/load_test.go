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
	"syscall"
	"testing"
	"time"

	"github.com/valyala/fasthttp"

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
	// generators are other processes (wrk) or this one (pace).
	dbURL := testdb.URL(b, dialect)
	service := start(b, filepath.Join(bin, "claimdesk"), "/readyz",
		"CLAIMDESK_DATABASE_URL="+dbURL, "CLAIMDESK_ADDR=ADDR", "CLAIMDESK_ADMIN_TOKEN="+adminToken,
		"CLAIMDESK_TRUSTED_PROXIES=127.0.0.1")
	base := start(b, filepath.Join(bin, "baseline"), "/readyz", "BASELINE_DATABASE_URL="+testdb.URL(b, dialect), "BASELINE_ADDR=ADDR")

	d := loadDuration()
	levels := connectionLevels()
	stats := newPGStats(b, dbURL, dialect) // pg_stat_statements counts the whole cluster
	st, err := store.Open(context.Background(), dbURL)
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	// Saturation is the most a server answers at any of the concurrency levels: each server is
	// loaded at each level, and its best run counts. The two take turns, level by level, the
	// one that goes first alternating, so that the host's drift (this machine's speed moves by a
	// tenth within a minute) and the database's work left from the run before (a checkpoint is
	// forced before each run on PostgreSQL) weigh on both alike. wrk numbers its claimants from
	// an offset per run, so no run sends the claimants of another.
	//
	// Detection runs after the answer (one worker per process): a claim whose detection has
	// not run is intake not yet done. A run's sustained rate is the rate at which claims are
	// stored and looked at: its claims over the run and the time detection took to catch up
	// after it. The 80% run starts with the backlog gone, at 80% of the best sustained rate.
	fmt.Printf("\nintake load on %s (%s per run, 2 cores, loopback):\n", dialect, d)
	run := 0
	var baseSat, svcSat wrkResult
	var sustained float64
	var groupMean float64
	settle := func() {
		if dialect == "postgres" {
			if err := st.Gorm().Exec("CHECKPOINT").Error; err != nil {
				b.Fatal(err)
			}
		}
		stats.reset()
	}
	runBase := func(conns int, last bool) {
		settle()
		r := runWrk(b, wrk, base+"/baseline", d, conns, run)
		run++
		fmt.Printf("  baseline (decode + insert one row), %3d connections: %7.0f req/s  p50 %6s  p99 %6s  errors %d\n", conns, r.rps, r.p50, r.p99, r.errors)
		if r.rps > baseSat.rps {
			baseSat = r
		}
		if last {
			stats.print("baseline, last run")
		}
	}
	runService := func(conns int, last bool) {
		settle()
		profiled, waits := closed(), closed()
		if last { // the profiles are of the busiest run
			profiled, waits = profile(b, service, dialect, d), sampleWaits(b, stats, d)
		}
		before := groupCounts(b, service)
		r := runWrk(b, wrk, service+"/api/v1/cases/kakao-2022/claims", d, conns, run)
		run++
		<-profiled
		<-waits
		g := groupCounts(b, service).minus(before).mean()
		backlog, took := drain(b, st, conns)
		sus := r.rps * d.Seconds() / (d + took).Seconds()
		fmt.Printf("  claimdesk POST /claims (3 items), %3d connections: %7.0f req/s  p50 %6s  p99 %6s  errors %d  sustained %5.0f req/s (backlog %d caught up in %s)  %.1f claims per group commit\n",
			conns, r.rps, r.p50, r.p99, r.errors, sus, backlog, took.Round(10*time.Millisecond), g)
		if sus > sustained {
			svcSat, sustained, groupMean = r, sus, g
		}
		if last {
			stats.print("claimdesk, last run and detection catching up")
		}
	}
	for i, conns := range levels {
		last := i == len(levels)-1
		if i%2 == 0 {
			runBase(conns, last)
			runService(conns, last)
		} else {
			runService(conns, last)
			runBase(conns, last)
		}
	}
	rate := int(sustained * 0.8)
	at80, senderCPU := attack(b, service, rate, d)
	backlog80, drain80 := drain(b, st, attackConnections)

	ratio := sustained / baseSat.rps
	fmt.Printf("  saturation: baseline %.0f req/s; claimdesk answers %.0f req/s (%.0f%%), sustained with detection %.0f req/s -> %.0f%% of baseline (target >= 50%%)\n",
		baseSat.rps, svcSat.rps, 100*svcSat.rps/baseSat.rps, sustained, 100*ratio)
	fmt.Printf("  claims per group commit in that run: %.1f on average\n", groupMean)
	fmt.Printf("  claimdesk at 80%% (%d req/s, open loop): p50 %6s  p99 %6s  success %.2f%%  statuses %v  (target p99 < 100ms, no errors)\n",
		rate, at80.quantile(0.5).Round(10*time.Microsecond), at80.quantile(0.99).Round(10*time.Microsecond), 100*at80.success(), at80.statusCounts())
	fmt.Printf("  detection backlog after the 80%% run: %d claims (caught up in %s); the sender used %s of CPU per request\n",
		backlog80, drain80.Round(10*time.Millisecond), senderCPU.Round(100*time.Nanosecond))
	b.ReportMetric(svcSat.rps, "req/s")
	b.ReportMetric(sustained, "sustained-req/s")
	b.ReportMetric(ratio, "x-baseline")
	b.ReportMetric(float64(at80.quantile(0.99).Microseconds())/1000, "p99-ms@80%")
	b.ReportMetric(float64(backlog80), "backlog@80%")
}

// drain returns how many claims wait for their detection pass, and how long until at most
// stragglers do (at most two minutes). Stragglers: a request the load generator cancels when
// it stops (at most one per connection of conns) may leave its claim stored but not queued;
// the worker's sweep takes it within two minutes.
//
// With CLAIMDESK_LOAD_PGSAMPLE set (PostgreSQL), it samples the statements running while
// detection catches up, every 2 ms, and prints the ten seen most: a profile of detection's
// database time without pg_stat_statements (which needs a preloaded library).
func drain(b *testing.B, st *store.Store, conns int) (int64, time.Duration) {
	stragglers := int64(conns)
	sample := os.Getenv("CLAIMDESK_LOAD_PGSAMPLE") != "" && st.Dialect() == store.Postgres
	seen := map[string]int{}
	defer printSamples("statements running while detection caught up", seen)
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

// printSamples prints, under title, the ten things seen most and their share of the samples.
func printSamples(title string, seen map[string]int) {
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
	fmt.Printf("  %s (%d samples):\n", title, total)
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
	// The logs are written to a file, as in production, not to a pipe: exec would copy a
	// pipe into a writer in this process, which would read every access log line on the
	// servers' two cores.
	logs, err := os.Create(filepath.Join(cmd.Dir, filepath.Base(bin)+".log"))
	if err != nil {
		b.Fatal(err)
	}
	defer logs.Close() // the child has its own descriptor
	cmd.Stdout, cmd.Stderr = logs, logs
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

// A realistic three-item claim, from a distinct claimant at a distinct address: intake at
// the opening of a class action is many people, each telling their own story. The body's
// placeholders are filled the same way by Go (pace) and Lua (wrk) from one number per
// claimant, k: name, email, phone, times, amounts, and descriptions made of a place, what
// happened and a booking or order number of the claimant's own (people describe their own
// loss, so descriptions are not word for word the same; see the same_description signal).
// Amounts are spread over their range by a multiplicative step, not counted up with k: a
// population's amounts do not grow as it files, and a ramp raised the amount_outlier signal on
// every claim above ten times the median of the first claims (a fifth of a 10 s run). One
// claimant in a hundred claims a large business loss, an outlier (see amountStep).
// The service runs behind a trusted proxy (loopback) that sends the claimant's address in
// X-Forwarded-For, as a load balancer does.
const claimTemplate = `{"claimant":{"name":"홍길동%d","email":"user%d@example.com","phone":"010%08d","locale":"ko"},"consent":true,"items":[` +
	`{"kind":"taxi_booking","service":"kakao_t","feature":"taxi","occurred_at":"2022-10-15T18:%02d:00+09:00","failure":"booking_failed","expected_fare_krw":12000,"alternative_cost_krw":31000,"documented":true,"description":"%s에서 택시 호출이 되지 않아 모범택시를 이용함 (호출 %d)"},` +
	`{"kind":"payment","service":"kakao_pay","occurred_at":"2022-10-16 09:%02d","failure":"double_charged","amount_krw":%d,"documented":true},` +
	`{"kind":"message","occurred_at":"2022-10-15 20:00","ended_at":"2022-10-16 03:00","purpose":"business","loss_krw":%d,"description":"%s 거래처 주문 메시지를 받지 못함 (주문번호 %d)"}]}`

// places and shops vary the descriptions' wording.
var (
	places = []string{"판교역", "강남역", "홍대입구", "서울역", "부산 서면", "대구 동성로", "인천공항", "수원역", "성남 모란", "광주 충장로", "대전역", "분당 정자동"}
	shops  = []string{"꽃집", "카페", "식당", "세탁소", "인쇄소", "제과점", "정육점", "철물점", "문구점"}
)

func claimBody(k int64) []byte {
	loss := 10000 + k*amountStep%500000
	if k%100 == 0 {
		loss = outlierLoss
	}
	return []byte(fmt.Sprintf(claimTemplate, k, k, k%100000000, k%60, places[k%int64(len(places))], k,
		k%60, 1000+k*amountStep%90000, loss, shops[k%int64(len(shops))], k))
}

// amountStep is prime to the amounts' ranges, so consecutive claimants' amounts are far apart
// and any run of claimants covers the range evenly; k*amountStep stays exact in Lua's doubles
// for every k the benchmark sends. outlierLoss is over ten times the median message loss.
const (
	amountStep  = 7919
	outlierLoss = 20_000_000
)

// forwardedFor is the claimant's address as the proxy reports it.
func forwardedFor(k int64) string {
	return fmt.Sprintf("10.%d.%d.%d", k>>16&255, k>>8&255, k&255)
}

// runClaimants is the size of each wrk run's range of claimants: run r sends claimants from
// r*runClaimants, below the 80% run's, from attackClaimants (connectionLevels keeps the runs few
// enough).
const (
	runClaimants    = 5_000_000
	attackClaimants = 50_000_000
)

const wrkScript = `
-- Claimant k = offset + 1 + 2n + thread (two threads): distinct claimants; the offset (the
-- script's argument) sets each run apart.
local thread_counter = 0
function setup(thread)
  thread:set("tid", thread_counter)
  thread_counter = thread_counter + 1
end
function init(args)
  n = 0
  offset = tonumber(args[1] or "0")
end
local places = PLACES
local shops = SHOPS
request = function()
  n = n + 1
  local k = offset + 1 + n * 2 + tid
  local loss = 10000 + k * STEP % 500000
  if k % 100 == 0 then loss = OUTLIER end
  local body = string.format(TEMPLATE, k, k, k % 100000000, k % 60, places[k % #places + 1], k,
    k % 60, 1000 + k * STEP % 90000, loss, shops[k % #shops + 1], k)
  local ip = string.format("10.%d.%d.%d", math.floor(k / 65536) % 256, math.floor(k / 256) % 256, k % 256)
  return wrk.format("POST", nil, {["Content-Type"] = "application/json", ["X-Forwarded-For"] = ip}, body)
end
`

// luaScript is wrkScript with the template and word lists written in.
func luaScript() string {
	list := func(xs []string) string {
		q := make([]string, len(xs))
		for i, x := range xs {
			q[i] = luaString(x)
		}
		return "{" + strings.Join(q, ", ") + "}"
	}
	return strings.NewReplacer("TEMPLATE", luaString(claimTemplate), "PLACES", list(places), "SHOPS", list(shops),
		"STEP", strconv.Itoa(amountStep), "OUTLIER", strconv.Itoa(outlierLoss)).Replace(wrkScript)
}

type wrkResult struct {
	rps      float64
	p50, p99 string
	errors   int
}

// runWrk loads url with wrk for d over conns connections; run numbers the claimants' range.
func runWrk(b *testing.B, wrk, url string, d time.Duration, conns, run int) wrkResult {
	script := filepath.Join(b.TempDir(), "claims.lua")
	if err := os.WriteFile(script, []byte(luaScript()), 0o644); err != nil {
		b.Fatal(err)
	}
	out, err := exec.Command(wrk, "-t2", "-c"+strconv.Itoa(conns), "-d"+strconv.Itoa(int(d.Seconds()))+"s", "--latency", "-s", script, url,
		"--", strconv.Itoa(run*runClaimants)).CombinedOutput()
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

// attackConnections is how many connections the 80% run may open: enough that the rate, not
// the connections, sets the pace (a request waiting for a free connection counts in its
// latency).
const attackConnections = 256

// attack sends claims to the service at rate per second for d (pace, open loop), from
// claimants past every claimant of the wrk runs, and returns what it measured and the CPU this
// process spent per request.
func attack(b *testing.B, service string, rate int, d time.Duration) (paced, time.Duration) {
	url := service + "/api/v1/cases/kakao-2022/claims"
	cpu0 := processCPU(b)
	p, err := pace(service, rate, int(float64(rate)*d.Seconds()), attackConnections, func(i int, req *fasthttp.Request) {
		k := attackClaimants + int64(i) + 1
		req.SetRequestURI(url)
		req.Header.SetMethod(fasthttp.MethodPost)
		req.Header.SetContentType("application/json")
		req.Header.Set("X-Forwarded-For", forwardedFor(k))
		req.SetBodyRaw(claimBody(k))
	})
	if err != nil {
		b.Fatal(err)
	}
	if err := p.err(); err != nil {
		b.Logf("transport errors: %v", err)
	}
	return p, (processCPU(b) - cpu0) / time.Duration(max(1, len(p.latencies)))
}

// processCPU is the CPU time this process has used (the 80% run's sender runs in it).
func processCPU(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// pgStats prints what PostgreSQL spent its time on (pg_stat_statements), when
// CLAIMDESK_LOAD_PGSTATS is set; the private cluster must then preload the library:
// CLAIMDESK_TEST_PG_SETTINGS=shared_preload_libraries=pg_stat_statements.
type pgStats struct {
	b  *testing.B
	db *store.Store
}

func newPGStats(b *testing.B, url, dialect string) *pgStats {
	if os.Getenv("CLAIMDESK_LOAD_PGSTATS") == "" || dialect != "postgres" {
		return nil
	}
	st, err := store.Open(context.Background(), url)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	if err := st.Gorm().Exec("CREATE EXTENSION IF NOT EXISTS pg_stat_statements").Error; err != nil {
		b.Fatalf("pg_stat_statements (set %s=shared_preload_libraries=pg_stat_statements): %v", testdb.EnvSettings, err)
	}
	p := &pgStats{b: b, db: st}
	p.reset()
	return p
}

func (p *pgStats) reset() {
	if p == nil {
		return
	}
	if err := p.db.Gorm().Exec("SELECT pg_stat_statements_reset()").Error; err != nil {
		p.b.Fatal(err)
	}
}

// print lists the statements of the cluster by total execution time since the last print, then
// resets the counts.
func (p *pgStats) print(title string) {
	if p == nil {
		return
	}
	var rows []struct {
		Calls int64
		Total float64
		Plan  float64
		Rows  int64
		Query string
	}
	err := p.db.Gorm().Raw(`SELECT calls, total_exec_time + total_plan_time AS total, total_plan_time AS plan, rows, left(regexp_replace(query, '\s+', ' ', 'g'), 140) AS query
FROM pg_stat_statements ORDER BY total_exec_time + total_plan_time DESC LIMIT 14`).Scan(&rows).Error
	if err != nil {
		p.b.Fatal(err)
	}
	var sum float64
	for _, r := range rows {
		sum += r.Total
	}
	fmt.Printf("  PostgreSQL statements, %s (top %d: %.0f ms):\n", title, len(rows), sum)
	for _, r := range rows {
		fmt.Printf("    %8.0f ms (plan %5.0f) %8d calls %6.1f us/call %8d rows  %s\n", r.Total, r.Plan, r.Calls, 1000*r.Total/float64(max(r.Calls, 1)), r.Rows, r.Query)
	}
	p.reset()
}

// sampleWaits samples, every 2 ms for d, what PostgreSQL's active backends are doing (their
// wait events; CPU when none) and prints the shares when done, with CLAIMDESK_LOAD_PGSTATS.
func sampleWaits(b *testing.B, p *pgStats, d time.Duration) <-chan struct{} {
	done := make(chan struct{})
	if p == nil {
		close(done)
		return done
	}
	go func() {
		defer close(done)
		seen := map[string]int{}
		for end := time.Now().Add(d); time.Now().Before(end); time.Sleep(2 * time.Millisecond) {
			var ws []string
			err := p.db.Gorm().Raw(`SELECT COALESCE(wait_event_type || ':' || wait_event, 'CPU') FROM pg_stat_activity
WHERE state = 'active' AND pid <> pg_backend_pid() AND backend_type = 'client backend'`).Scan(&ws).Error
			if err != nil {
				b.Error(err)
				return
			}
			for _, w := range ws {
				seen[w]++
			}
		}
		printSamples("PostgreSQL backends during the claimdesk saturation run (wait events; CPU when none)", seen)
	}()
	return done
}

// groups is what the service's metrics say of its group commits so far.
type groups struct{ sum, count float64 }

func (g groups) minus(h groups) groups { return groups{g.sum - h.sum, g.count - h.count} }
func (g groups) mean() float64         { return g.sum / max(1, g.count) }

// groupCounts reads the size and number of the service's group commits so far.
func groupCounts(b *testing.B, service string) groups {
	req, _ := http.NewRequest("GET", service+"/metrics", nil)
	req.Header.Set("Authorization", "Bearer "+adminToken)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		b.Fatal(err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		b.Fatal(err)
	}
	value := func(name string) float64 {
		m := regexp.MustCompile(`(?m)^` + name + ` (\S+)$`).FindSubmatch(body)
		if m == nil {
			return 0 // no group written yet
		}
		v, _ := strconv.ParseFloat(string(m[1]), 64)
		return v
	}
	return groups{value("claimdesk_claim_group_size_sum"), value("claimdesk_claim_group_size_count")}
}

// connectionLevels are the numbers of connections wrk loads each server with
// (CLAIMDESK_LOAD_CONNECTIONS, comma-separated; default 16, 64 and 256). A claimant waits for
// the commit of the group holding their claim, so the service answers more the more claimants
// wait at once (bigger groups); the baseline, one insert per request, is at its best with few.
func connectionLevels() []int {
	v := os.Getenv("CLAIMDESK_LOAD_CONNECTIONS")
	if v == "" {
		return []int{16, 64, 256}
	}
	var out []int
	for _, f := range strings.Split(v, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 2 {
			panic("CLAIMDESK_LOAD_CONNECTIONS: want numbers of connections (2 or more), comma-separated, got " + v)
		}
		out = append(out, n)
	}
	// Two servers, a run each per level: their claimants must stay below the 80% run's.
	if 2*len(out)*runClaimants > attackClaimants {
		panic("CLAIMDESK_LOAD_CONNECTIONS: at most " + strconv.Itoa(attackClaimants/runClaimants/2) + " levels")
	}
	return out
}

// closed is a channel already closed: nothing to wait for.
func closed() <-chan struct{} {
	c := make(chan struct{})
	close(c)
	return c
}
