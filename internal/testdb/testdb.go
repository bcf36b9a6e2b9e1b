// Package testdb gives tests throwaway databases: a brand-new PostgreSQL database per test
// and a fresh SQLite file per test, so store tests can run in parallel and table-driven over
// both dialects.
//
// PostgreSQL comes from TEST_DATABASE_URL when it is set (databases are created and dropped on
// that server). Otherwise each test binary starts one private cluster on first use, as the
// postgres OS user when running as root, and stops it in Main. The cluster is built by copying
// a data directory initialised once per machine (initdb is most of the start-up cost), and the
// server is tuned for speed over durability because its data is thrown away.
//
// Every test package that calls Postgres must have
//
//	func TestMain(m *testing.M) { testdb.Main(m) }
//
// This package is Linux-only: it relies on Pdeathsig and flock.
package testdb

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// EnvURL names the environment variable that points tests at an existing PostgreSQL server.
// The URL's database is used only as the maintenance database to create and drop per-test
// databases, so its user needs CREATEDB.
const EnvURL = "TEST_DATABASE_URL"

// EnvSettings names the environment variable with extra server settings (space-separated
// name=value) for the private cluster, for profiling runs.
const EnvSettings = "CLAIMDESK_TEST_PG_SETTINGS"

const installHint = "install it with `apt-get install -y postgresql` or run `make test`, or set " + EnvURL

// Dialects lists the database dialects the store supports, for table-driven tests.
func Dialects() []string { return []string{"postgres", "sqlite"} }

// URL returns a fresh database for dialect: a postgres:// URL or a SQLite file path.
func URL(t testing.TB, dialect string) string {
	t.Helper()
	switch dialect {
	case "postgres":
		return Postgres(t)
	case "sqlite":
		return SQLite(t)
	}
	t.Fatalf("testdb: unknown dialect %q (want one of %v)", dialect, Dialects())
	return ""
}

// SQLite returns the path of a SQLite database file that does not exist yet, in a directory
// removed when the test ends.
func SQLite(t testing.TB) string {
	t.Helper()
	return filepath.Join(t.TempDir(), "test.db")
}

// Postgres returns the URL of a new, empty PostgreSQL database that is dropped when the test
// ends.
func Postgres(t testing.TB) string {
	t.Helper()
	if !mainRunning.Load() {
		t.Fatalf("testdb: this package needs `func TestMain(m *testing.M) { testdb.Main(m) }` " +
			"so the throwaway PostgreSQL cluster is stopped when the tests end")
	}
	s, err := getServer(t)
	if err != nil {
		t.Fatalf("testdb: %v", err)
	}

	name := "t_" + randomHex(8)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if _, err := s.admin.Exec(ctx, "CREATE DATABASE "+name+s.createOpts); err != nil {
		t.Fatalf("testdb: create database %s: %v", name, err)
	}
	t.Cleanup(func() {
		// Not the test's context: it is already cancelled when cleanups run.
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		// FORCE because a test may leak a connection (or its pool may close later than us);
		// that must not leave databases behind on a shared server.
		if _, err := s.admin.Exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
			t.Errorf("testdb: drop database %s: %v", name, err)
		}
	})

	u := *s.url
	u.Path = "/" + name
	u.RawPath = ""
	return u.String()
}

// Main runs the tests, stops the cluster Postgres may have started, and exits with the tests'
// code. Call it from TestMain.
func Main(m *testing.M) {
	mainRunning.Store(true)
	code := m.Run()
	mainRunning.Store(false)
	shutdown()
	os.Exit(code)
}

var (
	mainRunning atomic.Bool

	serverOnce sync.Once
	srv        *server
	srvErr     error
)

// server is where per-test databases are created: TEST_DATABASE_URL or our own cluster.
type server struct {
	url        *url.URL // maintenance database; per-test URLs swap the path
	admin      *pgxpool.Pool
	createOpts string   // appended to CREATE DATABASE
	cluster    *cluster // nil when the server is not ours
}

func getServer(t testing.TB) (*server, error) {
	serverOnce.Do(func() {
		start := time.Now()
		srv, srvErr = newServer()
		if srvErr == nil && srv.cluster != nil {
			t.Logf("testdb: started PostgreSQL cluster on port %d in %v (%s)",
				srv.cluster.port, time.Since(start).Round(time.Millisecond), srv.cluster.how)
		}
	})
	return srv, srvErr
}

func shutdown() {
	// Claiming the Once here means a straggling goroutine cannot start a cluster after we stop.
	serverOnce.Do(func() { srvErr = errors.New("Postgres called after testdb.Main finished") })
	if srv == nil {
		return
	}
	srv.admin.Close()
	if srv.cluster != nil {
		if err := srv.cluster.stop(); err != nil {
			fmt.Fprintf(os.Stderr, "testdb: %v\n", err)
		}
	}
}

func newServer() (*server, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	var c *cluster
	raw := os.Getenv(EnvURL)
	if raw == "" {
		var err error
		if c, err = startCluster(ctx, false); err != nil {
			return nil, err
		}
		raw = c.url("postgres")
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		return nil, fmt.Errorf("%s must be a postgres:// URL, got %q", EnvURL, raw)
	}
	admin, err := pgxpool.New(ctx, raw)
	if err == nil {
		err = admin.Ping(ctx)
	}
	if err != nil {
		if c != nil {
			c.stop()
		}
		return nil, fmt.Errorf("connect to %s: %w", u.Redacted(), err)
	}

	s := &server{url: u, admin: admin, cluster: c}
	if c != nil {
		// FILE_COPY checkpoints, nearly free with fsync=off, then copies the template's
		// files whole; the default WAL_LOG writes every block through the WAL. Measured per
		// database: 8 ms vs 10 ms on tmpfs, 80 ms vs 255 ms on disk. Not used on
		// TEST_DATABASE_URL, where the checkpoints would be real.
		var v int
		if err := admin.QueryRow(ctx, "SELECT current_setting('server_version_num')::int").Scan(&v); err == nil && v >= 150000 {
			s.createOpts = " STRATEGY FILE_COPY"
		}
	}
	return s, nil
}

// cluster is a private PostgreSQL server living in a temporary directory.
type cluster struct {
	syncCommit bool   // commits wait for the WAL (fault tests: see Cluster)
	dir        string // holds data/, sock/ and postgres.log; removed by stop
	port       int
	how        string // how the data directory was made, for the start-up log line
	cmd        *exec.Cmd
	exited     chan struct{} // closed once postgres has exited
}

// runPrefix starts the names of cluster directories; the owner's pid follows, so a later
// process can remove the directories of processes that died without running Main.
const runPrefix = "claimdesk-pg-run-"

func startCluster(ctx context.Context, syncCommit bool) (*cluster, error) {
	bin, err := PostgresBinDir()
	if err != nil {
		return nil, err
	}
	cred, err := serverCredential()
	if err != nil {
		return nil, err
	}
	version, err := serverVersion(bin)
	if err != nil {
		return nil, err
	}
	sweepDeadRuns()

	dir, err := makeRunDir()
	if err != nil {
		return nil, err
	}
	c := &cluster{dir: dir, syncCommit: syncCommit}
	fail := func(err error) (*cluster, error) {
		c.stop()
		return nil, err
	}
	sock := filepath.Join(dir, "sock")
	if err := os.Mkdir(sock, 0o700); err != nil {
		return fail(err)
	}
	for _, p := range []string{dir, sock} {
		if err := chown(p, cred); err != nil {
			return fail(err)
		}
	}

	data := filepath.Join(dir, "data")
	tmpl, err := ensureTemplate(bin, version, cred)
	if err == nil {
		err = run(exec.Command("cp", "-a", tmpl, data))
	}
	if err == nil {
		c.how = "copied template " + tmpl
		if err = c.start(ctx, bin, cred); err == nil {
			return c, nil
		}
		// A template that is there but does not start (say, a /tmp cleaner removed some of
		// its files) would break every later run too; set it aside so the next process
		// rebuilds it, then build this cluster from scratch.
		discardTemplate(tmpl)
	}
	fromTemplateErr := err

	if err := os.RemoveAll(data); err != nil {
		return fail(err)
	}
	if err := initdb(bin, data, cred, true); err != nil {
		return fail(fmt.Errorf("%w (template: %v)", err, fromTemplateErr))
	}
	c.how = "fresh initdb, template failed: " + fromTemplateErr.Error()
	if err := c.start(ctx, bin, cred); err != nil {
		return fail(err)
	}
	return c, nil
}

func (c *cluster) url(db string) string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/%s?sslmode=disable", c.port, db)
}

// start launches postgres, retrying on a new port when another process took the free port we
// picked (test binaries of several packages start clusters at the same time).
func (c *cluster) start(ctx context.Context, bin string, cred *syscall.Credential) error {
	for attempt := 1; ; attempt++ {
		err := c.launch(ctx, bin, cred)
		if err == nil || !errors.Is(err, errPortTaken) || attempt == 5 {
			return err
		}
	}
}

var errPortTaken = errors.New("port taken")

func (c *cluster) launch(ctx context.Context, bin string, cred *syscall.Credential) error {
	// A restarted cluster keeps its port, so its clients can reconnect.
	port := c.port
	if port == 0 {
		var err error
		if port, err = freePort(); err != nil {
			return err
		}
	}
	logPath := filepath.Join(c.dir, "postgres.log")
	logFile, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o644)
	if err != nil {
		return err
	}
	defer logFile.Close() // the child holds its own descriptor

	cmd := exec.Command(filepath.Join(bin, "postgres"),
		"-D", filepath.Join(c.dir, "data"),
		"-k", filepath.Join(c.dir, "sock"),
		"-p", strconv.Itoa(port),
		"-c", "listen_addresses=127.0.0.1",
		// Durability is worthless for data thrown away at the end of the run. fsync=off alone
		// survives a crash of postgres (the OS keeps what it was given); a Cluster that a
		// test stops on purpose keeps synchronous commits, or acknowledged commits are lost.
		"-c", "fsync=off",
		"-c", "synchronous_commit="+map[bool]string{true: "on", false: "off"}[c.syncCommit],
		"-c", "full_page_writes=off",
	)
	// Extra settings for profiling runs, e.g. CLAIMDESK_TEST_PG_SETTINGS=shared_preload_libraries=pg_stat_statements.
	for _, kv := range strings.Fields(os.Getenv(EnvSettings)) {
		cmd.Args = append(cmd.Args, "-c", kv)
	}
	cmd.Dir = c.dir // the test's working directory may be closed to the postgres user
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.SysProcAttr = &syscall.SysProcAttr{
		Credential: cred,
		// If the test binary dies without running Main (panic, timeout, kill -9), the
		// cluster goes with it. SIGQUIT is an immediate shutdown that still releases
		// shared memory, unlike SIGKILL.
		Pdeathsig: syscall.SIGQUIT,
		// Ctrl-C goes to the test binary, not straight to postgres, so tests in flight
		// fail on the interrupt rather than on a vanished server.
		Setpgid: true,
	}

	// Pdeathsig fires when the thread that forked the child exits, not the process, and Go
	// ends threads whose goroutine exits while locked to them. Fork from a goroutine locked
	// to its thread for as long as postgres lives, so no other goroutine can ever take that
	// thread and end it.
	started := make(chan error, 1)
	exited := make(chan struct{})
	go func() {
		runtime.LockOSThread()
		if err := cmd.Start(); err != nil {
			started <- err
			return
		}
		started <- nil
		cmd.Wait()
		close(exited)
	}()
	if err := <-started; err != nil {
		return fmt.Errorf("start postgres: %w", err)
	}
	c.cmd, c.exited, c.port = cmd, exited, port

	if err := c.waitReady(ctx); err != nil {
		c.kill()
		log := readTail(logPath, 2000)
		if strings.Contains(log, "could not bind") || strings.Contains(log, "already in use") {
			c.port = 0
			return fmt.Errorf("%w: %d", errPortTaken, port)
		}
		return fmt.Errorf("postgres did not start: %w\n%s", err, log)
	}
	return nil
}

func (c *cluster) waitReady(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	for {
		attempt, cancelAttempt := context.WithTimeout(ctx, time.Second)
		conn, err := pgx.Connect(attempt, c.url("postgres"))
		cancelAttempt()
		if err == nil {
			return conn.Close(ctx)
		}
		select {
		case <-c.exited:
			return errors.New("postgres exited")
		case <-ctx.Done():
			return fmt.Errorf("%w (last error: %v)", ctx.Err(), err)
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// kill stops postgres and waits for it; the data is not worth a clean shutdown.
func (c *cluster) kill() {
	if c.cmd == nil {
		return
	}
	c.cmd.Process.Signal(syscall.SIGQUIT)
	select {
	case <-c.exited:
	case <-time.After(10 * time.Second):
		c.cmd.Process.Kill()
		<-c.exited
	}
	c.cmd = nil
}

func (c *cluster) stop() error {
	c.kill()
	if err := os.RemoveAll(c.dir); err != nil {
		return fmt.Errorf("remove cluster directory: %w", err)
	}
	return nil
}

// ensureTemplate returns a data directory initialised once per machine and server version,
// building it under a file lock if it is missing. It is created under a temporary name and
// renamed into place, so its existence means it is complete.
func ensureTemplate(bin, version string, cred *syscall.Credential) (string, error) {
	tmpl := filepath.Join(os.TempDir(), fmt.Sprintf("claimdesk-pg-template-%s-uid%d", version, ownerUID(cred)))
	if _, err := os.Stat(tmpl); err == nil {
		return tmpl, nil
	}

	lock, err := os.OpenFile(tmpl+".lock", os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return "", err
	}
	defer lock.Close()
	// The postgres user running tests by hand must be able to take a lock root created.
	if err := chown(lock.Name(), cred); err != nil {
		return "", err
	}
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX); err != nil {
		return "", fmt.Errorf("lock %s: %w", lock.Name(), err)
	}
	defer syscall.Flock(int(lock.Fd()), syscall.LOCK_UN)

	if _, err := os.Stat(tmpl); err == nil {
		return tmpl, nil // built by another process while we waited
	}
	tmp := fmt.Sprintf("%s.tmp-%d", tmpl, os.Getpid())
	os.RemoveAll(tmp)
	// Synced, unlike a throwaway cluster's: the template outlives crashes and reboots.
	if err := initdb(bin, tmp, cred, false); err != nil {
		os.RemoveAll(tmp)
		return "", err
	}
	if err := os.Rename(tmp, tmpl); err != nil {
		os.RemoveAll(tmp)
		return "", err
	}
	return tmpl, nil
}

func discardTemplate(tmpl string) {
	// Rename first, so processes see either the whole template or none.
	trash := fmt.Sprintf("%s.broken-%d", tmpl, os.Getpid())
	if os.Rename(tmpl, trash) == nil {
		os.RemoveAll(trash)
	}
}

func initdb(bin, data string, cred *syscall.Credential, noSync bool) error {
	var err error
	// C.UTF-8 sorts and cases like the servers we deploy to; plain C is the fallback for
	// systems without that locale.
	for _, locale := range []string{"C.UTF-8", "C"} {
		args := []string{"-D", data, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--locale=" + locale}
		if noSync {
			args = append(args, "--no-sync")
		}
		cmd := exec.Command(filepath.Join(bin, "initdb"), args...)
		cmd.Dir = filepath.Dir(data)
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
		if err = run(cmd); err == nil {
			return nil
		}
		os.RemoveAll(data)
	}
	return err
}

// shmDir is tried first for cluster directories: copying the template to the ext4 disk of a
// test VM took 0.75-0.95 s of kernel time, to tmpfs 0.05 s, and the server's own writes get
// cheaper too. A cluster needs about 40 MB, so a small /dev/shm (Docker's default is 64 MB,
// shared with postgres's dynamic shared memory) is passed over for the temp directory.
const (
	shmDir      = "/dev/shm"
	shmMinFree  = 1 << 30
	runDirsGlob = runPrefix + "*"
)

func makeRunDir() (string, error) {
	pattern := runPrefix + strconv.Itoa(os.Getpid()) + "-"
	var st syscall.Statfs_t
	if syscall.Statfs(shmDir, &st) == nil && st.Bavail*uint64(st.Bsize) >= shmMinFree {
		if dir, err := os.MkdirTemp(shmDir, pattern); err == nil {
			return dir, nil
		}
	}
	return os.MkdirTemp("", pattern)
}

// sweepDeadRuns removes cluster directories left by test processes that died without Main.
func sweepDeadRuns() {
	shm, _ := filepath.Glob(filepath.Join(shmDir, runDirsGlob))
	tmp, _ := filepath.Glob(filepath.Join(os.TempDir(), runDirsGlob))
	for _, dir := range append(shm, tmp...) {
		pid, err := strconv.Atoi(strings.SplitN(strings.TrimPrefix(filepath.Base(dir), runPrefix), "-", 2)[0])
		if err != nil || alive(pid) {
			continue
		}
		// Its postgres should have died with it; leave it alone if it somehow did not.
		if b, err := os.ReadFile(filepath.Join(dir, "data", "postmaster.pid")); err == nil {
			if pm, err := strconv.Atoi(strings.SplitN(string(b), "\n", 2)[0]); err == nil && alive(pm) {
				continue
			}
		}
		os.RemoveAll(dir)
	}
}

// alive reports whether pid is a running process. Zombies count as dead: in containers
// whose init does not reap orphans, a killed test binary lingers as one for good.
func alive(pid int) bool {
	if syscall.Kill(pid, 0) == syscall.ESRCH {
		return false
	}
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return true // no /proc to ask: assume the worst and keep the directory
	}
	// "pid (comm) state ...": comm may hold spaces and parentheses, so cut at the last ')'.
	rest := stat[bytes.LastIndexByte(stat, ')')+1:]
	return !bytes.HasPrefix(bytes.TrimSpace(rest), []byte("Z"))
}

// serverCredential says whom to run initdb and postgres as: both refuse to run as root.
func serverCredential() (*syscall.Credential, error) {
	if os.Geteuid() != 0 {
		return nil, nil
	}
	u, err := user.Lookup("postgres")
	if err != nil {
		return nil, fmt.Errorf("running as root and there is no postgres user to run the server as: %w", err)
	}
	uid, _ := strconv.ParseUint(u.Uid, 10, 32)
	gid, _ := strconv.ParseUint(u.Gid, 10, 32)
	return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}, nil
}

func ownerUID(cred *syscall.Credential) int {
	if cred == nil {
		return os.Geteuid()
	}
	return int(cred.Uid)
}

func chown(path string, cred *syscall.Credential) error {
	if cred == nil {
		return nil
	}
	return os.Chown(path, int(cred.Uid), int(cred.Gid))
}

// serverVersion returns the version number postgres reports, e.g. "15.18", which keys the
// template: a data directory only works with the major version that created it.
func serverVersion(bin string) (string, error) {
	out, err := exec.Command(filepath.Join(bin, "postgres"), "--version").Output()
	if err != nil {
		return "", fmt.Errorf("%s/postgres --version: %w", bin, err)
	}
	// "postgres (PostgreSQL) 15.18 (Debian 15.18-0+deb12u1)"
	f := strings.Fields(string(out))
	if len(f) < 3 {
		return "", fmt.Errorf("unexpected postgres --version output %q", out)
	}
	return strings.Map(func(r rune) rune {
		if r >= '0' && r <= '9' || r == '.' {
			return r
		}
		return '_'
	}, f[2]), nil
}

// PostgresBinDir returns the directory holding the PostgreSQL server programs (initdb,
// postgres, pg_ctl): $PG_BIN if set, else the newest /usr/lib/postgresql/*/bin (Debian),
// else wherever initdb is on PATH.
func PostgresBinDir() (string, error) {
	if dir := os.Getenv("PG_BIN"); dir != "" {
		if !hasServer(dir) {
			return "", fmt.Errorf("PostgreSQL server not found in PG_BIN=%s: %s", dir, installHint)
		}
		return dir, nil
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	dirs = slices.DeleteFunc(dirs, func(d string) bool { return !hasServer(d) })
	if len(dirs) > 0 {
		// Numerically, so 10 sorts after 9.
		major := func(d string) int { n, _ := strconv.Atoi(filepath.Base(filepath.Dir(d))); return n }
		return slices.MaxFunc(dirs, func(a, b string) int { return major(a) - major(b) }), nil
	}
	if p, err := exec.LookPath("initdb"); err == nil {
		if p, err = filepath.EvalSymlinks(p); err == nil && hasServer(filepath.Dir(p)) {
			return filepath.Dir(p), nil
		}
	}
	return "", errors.New("PostgreSQL server not found: " + installHint)
}

// PsqlPath returns the psql client matching the server in PostgresBinDir, or the one on PATH.
func PsqlPath() (string, error) {
	if dir, err := PostgresBinDir(); err == nil {
		if p := filepath.Join(dir, "psql"); isExecutable(p) {
			return p, nil
		}
	}
	p, err := exec.LookPath("psql")
	if err != nil {
		return "", errors.New("psql not found: install it with `apt-get install -y postgresql-client`")
	}
	return p, nil
}

func hasServer(dir string) bool {
	return isExecutable(filepath.Join(dir, "initdb")) && isExecutable(filepath.Join(dir, "postgres"))
}

func isExecutable(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && !fi.IsDir() && fi.Mode()&0o111 != 0
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// run runs cmd and folds its output into the error, which is where initdb explains itself.
func run(cmd *exec.Cmd) error {
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("%s: %w\n%s", strings.Join(cmd.Args, " "), err, bytes.TrimSpace(out))
	}
	return nil
}

func readTail(path string, n int64) string {
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	if fi, err := f.Stat(); err == nil && fi.Size() > n {
		f.Seek(-n, io.SeekEnd)
	}
	b, _ := io.ReadAll(f)
	return string(b)
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// Cluster is a private PostgreSQL server of one test, which the test may stop and start again:
// for fault tests (the database goes away under a running service and comes back).
type Cluster struct {
	c    *cluster
	bin  string
	cred *syscall.Credential
}

// NewCluster starts a private cluster for t, removed at t.Cleanup.
func NewCluster(t testing.TB) *Cluster {
	t.Helper()
	bin, err := PostgresBinDir()
	if err == nil {
		var cred *syscall.Credential
		if cred, err = serverCredential(); err == nil {
			var c *cluster
			if c, err = startCluster(context.Background(), true); err == nil {
				cl := &Cluster{c: c, bin: bin, cred: cred}
				t.Cleanup(func() { c.stop() })
				return cl
			}
		}
	}
	t.Fatalf("testdb: %v", err)
	return nil
}

// URL is the address of the cluster's postgres database.
func (c *Cluster) URL() string { return c.c.url("postgres") }

// Stop stops the server at once, as a crash would (committed data stays on disk).
func (c *Cluster) Stop() { c.c.kill() }

// Start starts the stopped server again on the same port and waits until it answers.
func (c *Cluster) Start(t testing.TB) {
	t.Helper()
	if err := c.c.launch(context.Background(), c.bin, c.cred); err != nil {
		t.Fatalf("testdb: restart: %v", err)
	}
}
