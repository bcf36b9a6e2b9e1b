package main

import (
	"bufio"
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	_ "github.com/glebarez/go-sqlite"
	_ "github.com/jackc/pgx/v5/stdlib"

	"github.com/claimdesk/claimdesk/internal/testdb"
)

func TestMain(m *testing.M) { testdb.Main(m) }

// binary builds claimdesk once per test process.
var binary = func() func(t *testing.T) string {
	var path string
	var err error
	built := false
	return func(t *testing.T) string {
		t.Helper()
		if !built {
			built = true
			dir, _ := os.MkdirTemp("", "claimdesk-bin-")
			path = filepath.Join(dir, "claimdesk")
			out, e := exec.Command("go", "build", "-o", path, ".").CombinedOutput()
			if e != nil {
				err = fmt.Errorf("go build: %v\n%s", e, out)
			}
		}
		if err != nil {
			t.Fatal(err)
		}
		return path
	}
}()

func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// proc is a running claimdesk.
type proc struct {
	cmd    *exec.Cmd
	addr   string
	stdout *lockedBuffer
	stderr *lockedBuffer
	done   chan error
}

// lockedBuffer collects a child's output while the test reads it.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}
func (l *lockedBuffer) String() string { l.mu.Lock(); defer l.mu.Unlock(); return l.b.String() }

// launch starts claimdesk serve in dir, listening on addr, without waiting for it.
func launch(t *testing.T, dir, addr string, env ...string) *proc {
	t.Helper()
	p := &proc{addr: addr, stdout: new(lockedBuffer), stderr: new(lockedBuffer), done: make(chan error, 1)}
	p.cmd = exec.Command(binary(t), "serve")
	p.cmd.Dir = dir
	p.cmd.Env = append(os.Environ(), append([]string{"CLAIMDESK_ADDR=" + p.addr, "CLAIMDESK_LOG_FORMAT=text"}, env...)...)
	p.cmd.Stdout, p.cmd.Stderr = p.stdout, p.stderr
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.done <- p.cmd.Wait() }()
	t.Cleanup(func() { p.cmd.Process.Kill() })
	return p
}

func start(t *testing.T, dir string, env ...string) *proc {
	t.Helper()
	p := launch(t, dir, freeAddr(t), env...)
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		if r, err := http.Get("http://" + p.addr + "/readyz"); err == nil {
			r.Body.Close()
			if r.StatusCode == 200 {
				return p
			}
		}
		select {
		case err := <-p.done:
			t.Fatalf("claimdesk exited: %v\n%s", err, p.stderr)
		case <-time.After(50 * time.Millisecond):
		}
	}
	t.Fatalf("claimdesk not ready:\n%s", p.stderr)
	return nil
}

func (p *proc) stop(t *testing.T) {
	t.Helper()
	p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-p.done:
		if err != nil {
			t.Fatalf("exit after SIGTERM: %v\n%s", err, p.stderr)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("no exit after SIGTERM")
	}
}

func get(t *testing.T, url, token string) int {
	t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	r, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	r.Body.Close()
	return r.StatusCode
}

var tokenRe = regexp.MustCompile(`cdk_[A-Za-z0-9_-]{43}`)

func TestFirstStartPrintsAnAdminTokenOnce(t *testing.T) {
	dir := t.TempDir()
	p := start(t, dir)
	tok := tokenRe.FindString(p.stdout.String())
	if tok == "" {
		t.Fatalf("no token printed:\n%s", p.stdout)
	}
	if code := get(t, "http://"+p.addr+"/api/v1/cases/kakao-2022/claims", tok); code != 200 {
		t.Errorf("printed token: %d", code)
	}
	p.stop(t)
	if _, err := os.Stat(filepath.Join(dir, "data", "claimdesk.db")); err != nil {
		t.Errorf("default database: %v", err)
	}
	p2 := start(t, dir)
	if tokenRe.MatchString(p2.stdout.String()) {
		t.Error("second start printed another token")
	}
	if code := get(t, "http://"+p2.addr+"/api/v1/cases/kakao-2022/claims", tok); code != 200 {
		t.Errorf("token after restart: %d", code)
	}
	p2.stop(t)
}

func TestAdminTokenFromEnvironmentOnPostgres(t *testing.T) {
	url := testdb.Postgres(t)
	const tok = "operator-chosen-token-0123456789"
	p := start(t, t.TempDir(), "CLAIMDESK_DATABASE_URL="+url, "CLAIMDESK_ADMIN_TOKEN="+tok)
	if tokenRe.MatchString(p.stdout.String()) {
		t.Error("a token was generated although one was given")
	}
	if code := get(t, "http://"+p.addr+"/api/v1/cases/kakao-2022/claims", tok); code != 200 {
		t.Errorf("env token: %d", code)
	}
	if !strings.Contains(p.stderr.String(), "database=postgres") {
		t.Errorf("not on postgres:\n%s", p.stderr)
	}
	p.stop(t)
	// The same value at the next start still works (no duplicate row, no error).
	p = start(t, t.TempDir(), "CLAIMDESK_DATABASE_URL="+url, "CLAIMDESK_ADMIN_TOKEN="+tok)
	if code := get(t, "http://"+p.addr+"/api/v1/cases/kakao-2022/claims", tok); code != 200 {
		t.Errorf("env token after restart: %d", code)
	}
	p.stop(t)
}

// TestGracefulShutdown sends SIGTERM while a request is still uploading its body: the request
// completes with 201 before the process exits.
func TestGracefulShutdown(t *testing.T) {
	p := start(t, t.TempDir())
	conn, err := net.Dial("tcp", p.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	body := `{"claimant":{"name":"홍길동","phone":"010-1234-5678"},"consent":true,"items":[{"kind":"taxi_booking","occurred_at":"2022-10-15 18:30","failure":"no_driver"}]}`
	fmt.Fprintf(conn, "POST /api/v1/cases/kakao-2022/claims HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: %d\r\nConnection: close\r\n\r\n", len(body))
	io.WriteString(conn, body[:20])
	time.Sleep(200 * time.Millisecond) // the handler is now reading the body
	p.cmd.Process.Signal(syscall.SIGTERM)
	time.Sleep(200 * time.Millisecond)
	select {
	case err := <-p.done:
		t.Fatalf("exited with a request in flight: %v", err)
	default:
	}
	io.WriteString(conn, body[20:])
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 201 {
		t.Errorf("in-flight request: %d", resp.StatusCode)
	}
	select {
	case err := <-p.done:
		if err != nil {
			t.Fatalf("exit: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no exit after the last request")
	}
	if !strings.Contains(p.stderr.String(), "shutting down") {
		t.Errorf("no shutdown log:\n%s", p.stderr)
	}
}

func TestMigrateStatusAndTokenCreate(t *testing.T) {
	dir := t.TempDir()
	run := func(args ...string) string {
		t.Helper()
		cmd := exec.Command(binary(t), args...)
		cmd.Dir = dir
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("%v: %v\n%s", args, err, out)
		}
		return string(out)
	}
	if out := run("migrate", "up"); !strings.Contains(out, "migrations applied") {
		t.Errorf("migrate up: %s", out)
	}
	if out := run("migrate", "status"); !strings.Contains(out, "00001  applied") {
		t.Errorf("migrate status: %s", out)
	}
	tok := strings.TrimSpace(run("token", "create", "--role", "lawyer", "--name", "kim"))
	if !tokenRe.MatchString(tok) {
		t.Errorf("token create printed %q", tok)
	}
	cmd := exec.Command(binary(t), "token", "create", "--role", "king")
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err == nil || !strings.Contains(string(out), "--role must be") {
		t.Errorf("bad role accepted: %s", out)
	}
}

// TestSlowClientsAndHugeHeaders: a client that never finishes its headers is cut off at the
// header timeout, and headers over the limit are refused, so neither can hold the server.
func TestSlowClientsAndHugeHeaders(t *testing.T) {
	p := start(t, t.TempDir(), "CLAIMDESK_READ_HEADER_TIMEOUT=1s")
	conn, err := net.Dial("tcp", p.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	io.WriteString(conn, "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ")
	began := time.Now()
	conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	_, err = io.ReadAll(conn) // returns when the server closes the connection
	t.Logf("slow client cut off after %v", time.Since(began))
	if took := time.Since(began); err != nil || took > 4*time.Second {
		t.Errorf("slow client held the connection for %v (err %v)", took, err)
	}

	req, _ := http.NewRequest("GET", "http://"+p.addr+"/healthz", nil)
	req.Header.Set("X-Huge", strings.Repeat("a", 200<<10))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestHeaderFieldsTooLarge {
		t.Errorf("huge headers: %d", resp.StatusCode)
	}
	if code := get(t, "http://"+p.addr+"/healthz", ""); code != 200 {
		t.Errorf("server unwell after the abuse: %d", code)
	}
	p.stop(t)
}

// TestKillDuringSubmissions kills the server (SIGKILL) while claims stream in: after a restart
// no claim is half-written (each has all its items), every claim that got a 201 is there, and
// the service goes on.
func TestKillDuringSubmissions(t *testing.T) {
	url := testdb.Postgres(t)
	dir := t.TempDir()
	p := start(t, dir, "CLAIMDESK_DATABASE_URL="+url)
	body := `{"claimant":{"name":"홍길동","phone":"010-1234-5678"},"consent":true,"items":[` +
		`{"kind":"taxi_booking","occurred_at":"2022-10-15 18:30","failure":"no_driver"},` +
		`{"kind":"payment","occurred_at":"2022-10-16 09:00","failure":"double_charged","amount_krw":5000},` +
		`{"kind":"message","occurred_at":"2022-10-15 20:00","ended_at":"2022-10-16 03:00","purpose":"personal"}]}`
	accepted := make(chan string, 100000)
	done := make(chan struct{})
	for w := 0; w < 4; w++ {
		go func() {
			for {
				select {
				case <-done:
					return
				default:
				}
				resp, err := http.Post("http://"+p.addr+"/api/v1/cases/kakao-2022/claims", "application/json", strings.NewReader(body))
				if err != nil {
					continue // the server is gone
				}
				b, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if resp.StatusCode == 201 {
					if m := regexp.MustCompile(`"reference":"([^"]+)"`).FindSubmatch(b); m != nil {
						accepted <- string(m[1])
					}
				}
			}
		}()
	}
	time.Sleep(700 * time.Millisecond)
	p.cmd.Process.Kill()
	<-p.done
	close(done)
	time.Sleep(100 * time.Millisecond)
	close(accepted)

	p2 := start(t, dir, "CLAIMDESK_DATABASE_URL="+url)
	defer p2.stop(t)
	db, err := sql.Open("pgx", url)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var claims, halfWritten int
	if err := db.QueryRow(`SELECT count(*), count(*) FILTER (WHERE n <> 3) FROM (SELECT c.id, count(i.claim_id) n FROM claims c LEFT JOIN claim_items i ON i.claim_id = c.id GROUP BY c.id) x`).Scan(&claims, &halfWritten); err != nil {
		t.Fatal(err)
	}
	if halfWritten != 0 {
		t.Errorf("%d of %d claims are half-written", halfWritten, claims)
	}
	n := 0
	for ref := range accepted {
		n++
		var found int
		db.QueryRow(`SELECT count(*) FROM claims WHERE reference = $1`, ref).Scan(&found)
		if found != 1 {
			t.Errorf("claim %s got 201 but is not stored", ref)
		}
	}
	if n == 0 {
		t.Fatal("no claim accepted before the kill")
	}
	t.Logf("%d claims accepted before SIGKILL, %d stored", n, claims)
	resp, err := http.Post("http://"+p2.addr+"/api/v1/cases/kakao-2022/claims", "application/json", strings.NewReader(body))
	if err != nil || resp.StatusCode != 201 {
		t.Fatalf("after restart: %v %v", resp, err)
	}
	resp.Body.Close()
}

// TestTwoInstancesShareOneDatabase runs two claimdesk processes on one PostgreSQL, as behind a
// load balancer, and sends imports and single claims through both: every import runs once
// (none lost, none twice), a file sent again to the other instance creates nothing, and every
// claim is stored once.
func TestTwoInstancesShareOneDatabase(t *testing.T) {
	url := testdb.Postgres(t)
	const tok = "two-instances-admin-token-0123456789"
	env := []string{"CLAIMDESK_DATABASE_URL=" + url, "CLAIMDESK_ADMIN_TOKEN=" + tok}
	a := start(t, t.TempDir(), env...)
	b := start(t, t.TempDir(), env...)
	dir := t.TempDir()
	var files []string
	for i := 1; i <= 3; i++ {
		f := filepath.Join(dir, fmt.Sprintf("part%d.csv", i))
		if out, err := exec.Command(binary(t), "gen", "--rows", "1500", "--seed", fmt.Sprint(i), "--out", f).CombinedOutput(); err != nil {
			t.Fatalf("gen: %v\n%s", err, out)
		}
		files = append(files, f)
	}
	post := func(p *proc, file string) string {
		t.Helper()
		data, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		req, _ := http.NewRequest("POST", "http://"+p.addr+"/api/v1/cases/kakao-2022/imports", bytes.NewReader(data))
		req.Header.Set("Authorization", "Bearer "+tok)
		req.Header.Set("Content-Type", "text/csv")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != 202 {
			t.Fatalf("import: %d %s", resp.StatusCode, body)
		}
		return regexp.MustCompile(`"status_url":"([^"]+)"`).FindStringSubmatch(string(body))[1]
	}
	// Three files spread over both instances, then the first again through the other one,
	// once the first has finished (so it is a repeat, not a race).
	urls := []string{post(a, files[0]), post(b, files[1]), post(a, files[2])}
	singles := make(chan int, 2)
	for _, p := range []*proc{a, b} {
		go func(p *proc) {
			n := 0
			for i := 0; i < 40; i++ {
				body := fmt.Sprintf(`{"claimant":{"name":"단건%d","phone":"010-2222-%04d"},"consent":true,"items":[{"kind":"taxi_booking","occurred_at":"2022-10-15 18:30","failure":"no_driver"}]}`, i, i)
				resp, err := http.Post("http://"+p.addr+"/api/v1/cases/kakao-2022/claims", "application/json", strings.NewReader(body))
				if err == nil {
					if resp.StatusCode == 201 {
						n++
					}
					resp.Body.Close()
				}
			}
			singles <- n
		}(p)
	}
	status := func(p *proc, path string) map[string]any {
		t.Helper()
		req, _ := http.NewRequest("GET", "http://"+p.addr+path, nil)
		req.Header.Set("Authorization", "Bearer "+tok)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var m map[string]any
		if err := json.NewDecoder(resp.Body).Decode(&m); err != nil {
			t.Fatal(err)
		}
		return m
	}
	wait := func(path string) map[string]any {
		t.Helper()
		for deadline := time.Now().Add(90 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
			// Either instance answers about any import: the state is in the database.
			if m := status(b, path); m["status"] == "succeeded" || m["status"] == "failed" {
				return m
			}
		}
		t.Fatalf("import %s did not finish", path)
		return nil
	}
	var created float64
	results := make([]map[string]any, 0, 4)
	for _, u := range urls {
		m := wait(u)
		if m["status"] != "succeeded" {
			t.Fatalf("import %s: %v", u, m)
		}
		created += m["claims_created"].(float64)
		results = append(results, m)
	}
	repeat := wait(post(b, files[0]))
	if repeat["claims_created"].(float64) != 0 || repeat["claims_unchanged"] != results[0]["claims_created"] {
		t.Errorf("the same file again: %v (first time %v)", repeat, results[0])
	}
	n := <-singles + <-singles
	if n != 80 {
		t.Errorf("%d of 80 single claims accepted", n)
	}
	db, err := sql.Open("pgx", url)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var stored, distinctRefs int
	if err := db.QueryRow(`SELECT count(*), count(DISTINCT external_ref) FILTER (WHERE external_ref IS NOT NULL) FROM claims`).Scan(&stored, &distinctRefs); err != nil {
		t.Fatal(err)
	}
	if float64(stored) != created+float64(n) || float64(distinctRefs) != created {
		t.Errorf("stored %d claims (%d distinct refs); imports created %.0f, singles %d", stored, distinctRefs, created, n)
	}
	for i, m := range results {
		if m["rows_read"].(float64) != 1500 {
			t.Errorf("import %d read %v rows of 1500 (run twice or cut short?)", i, m["rows_read"])
		}
	}
	a.stop(t)
	b.stop(t)
}

// TestSQLiteDiskFullAndReadOnly puts the SQLite file on a small file system of its own, fills
// it, then makes it read-only: writes answer 503 (never 500), reads go on, the service writes
// again once there is room, and the database is intact afterwards.
func TestSQLiteDiskFullAndReadOnly(t *testing.T) {
	dir := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", dir).CombinedOutput(); err != nil {
		t.Fatalf("this test mounts a small tmpfs and needs root (CI runs as root): %v %s", err, out)
	}
	defer exec.Command("umount", "-l", dir).Run()
	db := filepath.Join(dir, "claimdesk.db")
	p := start(t, t.TempDir(), "CLAIMDESK_DATABASE_URL="+db)
	submit := func() int { return submitTo(t, p) }
	if code := submit(); code != 201 {
		t.Fatalf("before: %d", code)
	}
	// Fill the file system, then keep submitting until the database can no longer grow.
	junk := filepath.Join(dir, "junk")
	exec.Command("dd", "if=/dev/zero", "of="+junk, "bs=64k").Run() // stops at ENOSPC
	statuses := map[int]int{}
	for i := 0; i < 200 && statuses[503] == 0; i++ {
		statuses[submit()]++
	}
	if statuses[503] == 0 || statuses[500] > 0 {
		t.Fatalf("disk full: %v (want 503s, no 500)", statuses)
	}
	if code := get(t, "http://"+p.addr+"/api/v1/cases/kakao-2022", ""); code != 200 {
		t.Errorf("reads on a full disk: %d", code)
	}
	os.Remove(junk)
	if code := submit(); code != 201 {
		t.Errorf("after making room: %d", code)
	}

	// A read-only file system: a clear error at start, or 503 for writes.
	p.stop(t)
	if out, err := exec.Command("mount", "-o", "remount,ro", dir).CombinedOutput(); err != nil {
		t.Fatalf("remount ro: %v %s", err, out)
	}
	p2 := launch(t, t.TempDir(), freeAddr(t), "CLAIMDESK_DATABASE_URL="+db)
	select {
	case err := <-p2.done:
		t.Logf("start on a read-only file system refused: %v: %s", err, strings.TrimSpace(p2.stderr.String()))
		if err == nil || !regexp.MustCompile(`read-only or full`).MatchString(p2.stderr.String()) {
			t.Errorf("start on a read-only file system: %v, stderr %q", err, p2.stderr.String())
		}
	case <-time.After(5 * time.Second):
		t.Log("started on a read-only file system; writes must answer 503")
		if code := submitTo(t, p2); code != 503 {
			t.Errorf("read-only file system: %d, want 503", code)
		}
		p2.stop(t)
	}
	exec.Command("mount", "-o", "remount,rw", dir).Run()

	st, err := sql.Open("sqlite", "file:"+db)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var check string
	if err := st.QueryRow("PRAGMA integrity_check").Scan(&check); err != nil || check != "ok" {
		t.Errorf("integrity_check: %q %v", check, err)
	}
	var n int
	st.QueryRow("SELECT count(*) FROM claims c WHERE NOT EXISTS (SELECT 1 FROM claim_items i WHERE i.claim_id = c.id)").Scan(&n)
	if n != 0 {
		t.Errorf("%d claims without items", n)
	}
}

// submitTo files one claim with a long description and returns the status.
func submitTo(t *testing.T, p *proc) int {
	t.Helper()
	body := `{"claimant":{"name":"홍길동","phone":"010-1234-5678"},"consent":true,"items":[{"kind":"taxi_booking","occurred_at":"2022-10-15 18:30","failure":"no_driver","description":"` + strings.Repeat("가", 1500) + `"}]}`
	resp, err := http.Post("http://"+p.addr+"/api/v1/cases/kakao-2022/claims", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// TestBackgroundPanic: a panic of background work is logged and ends that work alone; the
// process and the other work go on.
func TestBackgroundPanic(t *testing.T) {
	var logs bytes.Buffer
	bg := &background{ctx: context.Background(), log: slog.New(slog.NewTextHandler(&logs, nil))}
	ran := false
	bg.Go(func(context.Context) { panic("bug in background work") })
	bg.Go(func(context.Context) { ran = true })
	bg.wait()
	if !ran {
		t.Error("the other work did not run")
	}
	if s := logs.String(); !strings.Contains(s, "background work failed") || !strings.Contains(s, "bug in background work") {
		t.Errorf("log: %s", s)
	}
}

// A port already taken ends the service at once with the reason, instead of leaving it
// running its background work with nothing listening.
func TestAddressInUse(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	p := launch(t, t.TempDir(), l.Addr().String())
	select {
	case err := <-p.done:
		if err == nil {
			t.Fatal("exit status 0 with the address taken")
		}
	case <-time.After(20 * time.Second):
		t.Fatalf("still running 20 s after failing to listen:\n%s", p.stderr)
	}
	if out := p.stderr.String(); !strings.Contains(out, "address already in use") || strings.Contains(out, "claimdesk listening") {
		t.Errorf("stderr should give the reason and not claim to listen:\n%s", out)
	}
}

// TestStartErasesWithdrawnLeftovers: a claim an earlier version left withdrawn with its
// personal data (withdrawal and erasure were two transactions) is erased when the service
// starts, with its audit event; nothing else is. An upload a dead process left half received
// two days ago goes too, one of the last hour stays (it may be coming in on another instance).
func TestStartErasesWithdrawnLeftovers(t *testing.T) {
	dir := t.TempDir()
	p := start(t, dir)
	refs := make([]string, 2)
	for i := range refs {
		body := `{"claimant":{"name":"홍길동","phone":"010-1234-567` + fmt.Sprint(i) + `"},"consent":true,"items":[{"kind":"taxi_booking","occurred_at":"2022-10-15 18:30","failure":"no_driver","description":"모범택시"}]}`
		resp, err := http.Post("http://"+p.addr+"/api/v1/cases/kakao-2022/claims", "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		var out struct{ Reference string }
		err = json.NewDecoder(resp.Body).Decode(&out)
		resp.Body.Close()
		if err != nil || resp.StatusCode != 201 {
			t.Fatalf("submit: %d %v", resp.StatusCode, err)
		}
		refs[i] = out.Reference
	}
	p.stop(t)

	db, err := sql.Open("sqlite", filepath.Join(dir, "data", "claimdesk.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	// What the earlier version's first transaction left: withdrawn, the data still there.
	if _, err := db.Exec(`UPDATE claims SET status = 'withdrawn' WHERE reference = ?`, refs[0]); err != nil {
		t.Fatal(err)
	}
	for id, age := range map[int]time.Duration{9001: 48 * time.Hour, 9002: time.Hour} {
		at := time.Now().UTC().Add(-age).Format("2006-01-02 15:04:05.999999999-07:00")
		if _, err := db.Exec(`INSERT INTO imports (id, case_id, format, attestation, status, created_at)
			SELECT ?, id, 'csv', 'x', 'receiving', ? FROM cases LIMIT 1`, id, at); err != nil {
			t.Fatal(err)
		}
		if _, err := db.Exec(`INSERT INTO import_chunks (import_id, seq, data) VALUES (?, 0, ?)`, id, []byte("claim_ref,claimant_name\nA-1,홍길동\n")); err != nil {
			t.Fatal(err)
		}
	}
	state := func(ref string) (name string, erased bool) {
		t.Helper()
		var at sql.NullString
		if err := db.QueryRow(`SELECT claimant_name, erased_at FROM claims WHERE reference = ?`, ref).Scan(&name, &at); err != nil {
			t.Fatal(err)
		}
		return name, at.Valid
	}

	p = start(t, dir)
	defer p.stop(t)
	deadline := time.Now().Add(10 * time.Second)
	for {
		if name, erased := state(refs[0]); erased && name == "" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("withdrawn claim not erased after start:\n%s", p.stderr)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if name, erased := state(refs[1]); erased || name == "" {
		t.Errorf("the open claim: erased %v, name %q", erased, name)
	}
	var events int
	if err := db.QueryRow(`SELECT COUNT(*) FROM audit_events WHERE entity_id = ? AND action = 'erase' AND actor_name = 'withdrawal'`, refs[0]).Scan(&events); err != nil {
		t.Fatal(err)
	}
	if events != 1 {
		t.Errorf("%d erase events by the start's sweep, want 1", events)
	}
	if !strings.Contains(p.stderr.String(), "personal data of withdrawn claims erased") {
		t.Errorf("no log of the sweep:\n%s", p.stderr)
	}
	for {
		var uploads, chunks int
		if err := db.QueryRow(`SELECT (SELECT COUNT(*) FROM imports WHERE id IN (9001, 9002)), (SELECT COUNT(*) FROM import_chunks WHERE import_id IN (9001, 9002))`).Scan(&uploads, &chunks); err != nil {
			t.Fatal(err)
		}
		if uploads == 1 && chunks == 1 {
			break
		}
		if uploads < 1 || time.Now().After(deadline) {
			t.Fatalf("half-received uploads left: %d (%d chunks), want the recent one", uploads, chunks)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
