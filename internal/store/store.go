// Package store is every database query and transaction of claimdesk, on PostgreSQL or on the
// embedded SQLite. Database errors are translated here, at the edge, into apperr codes.
package store

import (
	"container/list"
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/glebarez/sqlite"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"gorm.io/driver/postgres"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"
	moderncsqlite "modernc.org/sqlite"

	"github.com/claimdesk/claimdesk/internal/apperr"
)

// Dialect names the database engine.
type Dialect string

const (
	Postgres Dialect = "postgres"
	SQLite   Dialect = "sqlite"
)

// Store is the database. It is safe for concurrent use.
type Store struct {
	db      *gorm.DB
	sqlDB   *sql.DB
	pool    *pgxpool.Pool // PostgreSQL only: bulk paths use pgx directly
	dialect Dialect
	writes  sync.Mutex // SQLite only: queues the writes of intake and detection (see writeLock)
	// SQLite only: stops the checkpoints (see checkpoints) and waits for them.
	stopCheckpoints func()
}

// DialectOf tells which engine a database URL names: postgres:// and postgresql:// are
// PostgreSQL; anything else is a SQLite file path (an optional sqlite:// or file: prefix is
// dropped).
func DialectOf(url string) Dialect {
	if strings.HasPrefix(url, "postgres://") || strings.HasPrefix(url, "postgresql://") {
		return Postgres
	}
	return SQLite
}

// Open connects to the database at url. It does not migrate: call Migrate.
func Open(ctx context.Context, url string) (*Store, error) {
	cfg := &gorm.Config{
		TranslateError: true,
		Logger:         logger.Default.LogMode(logger.Silent),
		NowFunc:        func() time.Time { return time.Now().UTC().Truncate(time.Microsecond) },
	}
	if DialectOf(url) == Postgres {
		pcfg, err := pgxpool.ParseConfig(url)
		if err != nil {
			return nil, fmt.Errorf("database url: %w", err)
		}
		// Every session in UTC, so timestamps never depend on the server's zone.
		pcfg.ConnConfig.RuntimeParams["timezone"] = "UTC"
		pcfg.AfterConnect = func(_ context.Context, c *pgx.Conn) error {
			registerPGArrays(c.TypeMap())
			return nil
		}
		// pgxpool's default (max(4, cores)) leaves requests queueing for a connection while
		// the database has capacity to spare: a request spends most of its time waiting on
		// the network, not on a CPU. A pool_max_conns in the URL still wins.
		if !strings.Contains(url, "pool_max_conns") {
			pcfg.MaxConns = int32(max(16, 4*runtime.NumCPU()))
		}
		pool, err := pgxpool.NewWithConfig(ctx, pcfg)
		if err != nil {
			return nil, fmt.Errorf("connect to postgres: %w", err)
		}
		sqlDB := stdlib.OpenDBFromPool(pool)
		db, err := gorm.Open(postgres.New(postgres.Config{Conn: sqlDB}), cfg)
		if err != nil {
			pool.Close()
			return nil, fmt.Errorf("open postgres: %w", err)
		}
		return &Store{db: db, sqlDB: sqlDB, pool: pool, dialect: Postgres}, nil
	}

	path := strings.TrimPrefix(strings.TrimPrefix(url, "sqlite://"), "file:")
	if i := strings.IndexByte(path, '?'); i >= 0 {
		path = path[:i]
	}
	if dir := filepath.Dir(path); dir != "." {
		if err := os.MkdirAll(dir, 0o750); err != nil {
			return nil, fmt.Errorf("create database directory: %w", err)
		}
	}
	// WAL lets readers go on while one writer writes; immediate transactions take the write
	// lock up front, so two writers wait for each other (busy_timeout) instead of deadlocking.
	// The log is copied back into the file by the store's own checkpoints (see checkpoints).
	// Times are written as the databases written by glebarez/go-sqlite hold them,
	// "2006-01-02 15:04:05.999999999-07:00" (modernc's default is time.Time.String, which
	// SQLite's date functions cannot read), and read back in UTC as that driver did
	// (TestSQLiteStoredTimeText).
	dsn := "file:" + path + "?_pragma=foreign_keys(1)&_pragma=journal_mode(WAL)&_pragma=busy_timeout(10000)&_pragma=synchronous(NORMAL)&_txlock=immediate" +
		"&_pragma=wal_autocheckpoint(" + strconv.Itoa(sqliteAutoCheckpoint) + ")" +
		"&_time_format=sqlite&_timezone=UTC"
	conn, err := moderncsqlite.NewConnector(dsn)
	if err != nil {
		return nil, sqliteOpenError(path, err)
	}
	sqlDB := sql.OpenDB(sqliteConnector{conn})
	db, err := gorm.Open(&sqlite.Dialector{Conn: sqlDB}, cfg)
	if err != nil {
		sqlDB.Close()
		return nil, sqliteOpenError(path, err)
	}
	// Every connection is kept: a new one parses the whole schema before its first statement
	// (database/sql keeps only two idle by default, and closed the others after each burst).
	sqlDB.SetMaxOpenConns(4)
	sqlDB.SetMaxIdleConns(4)
	if err := sqlDB.PingContext(ctx); err != nil {
		sqlDB.Close()
		return nil, sqliteOpenError(path, err)
	}
	st := &Store{db: db, sqlDB: sqlDB, dialect: SQLite}
	cctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		st.checkpoints(cctx, path+"-wal")
	}()
	st.stopCheckpoints = func() { cancel(); <-done }
	return st, nil
}

// sqliteConnector opens modernc's SQLite connections, each keeping the statements it
// executes compiled (sqliteConn).
type sqliteConnector struct{ driver.Connector }

func (c sqliteConnector) Connect(ctx context.Context) (driver.Conn, error) {
	conn, err := c.Connector.Connect(ctx)
	if err != nil {
		return nil, err
	}
	dc, ok := conn.(sqliteDriverConn)
	if !ok {
		conn.Close()
		return nil, fmt.Errorf("sqlite connection %T lacks a method database/sql needs", conn)
	}
	return &sqliteConn{sqliteDriverConn: dc, stmts: make(map[string]*list.Element)}, nil
}

// sqliteDriverConn is what database/sql uses of modernc's connection; sqliteConn passes it
// all on but ExecContext and Close.
type sqliteDriverConn interface {
	driver.Conn
	driver.ConnBeginTx
	driver.ConnPrepareContext
	driver.ExecerContext
	driver.QueryerContext
	driver.Pinger
	driver.SessionResetter
	driver.Validator
}

// sqliteStmtCacheSize bounds the compiled statements a connection keeps. The store's writes
// come in few shapes (sqliteValues: about 50 over every table it writes, intake, imports and
// revaluations together), gorm's in a few dozen more.
const sqliteStmtCacheSize = 128

// sqliteConn keeps the statements it executes compiled, the most recently used
// sqliteStmtCacheSize of them. database/sql hands an Exec, in a transaction or not, to the
// driver's ExecContext, which modernc's driver compiles and finalizes every time: compiling
// was 10-12% of the service's CPU under intake load (a multi-row INSERT into claims
// maintains a dozen indexes and is costly to compile). A prepared *sql.Stmt would keep it,
// but its compiled form lives on one connection and an Exec in a *sql.Tx would need the Stmt
// at hand. Queries are not cached: their statement stays busy while the rows are open, and
// another query of the same text may run meanwhile.
type sqliteConn struct {
	sqliteDriverConn
	stmts map[string]*list.Element // by SQL text, into lru
	lru   list.List                // of *sqliteStmt, most recently used first
}

type sqliteStmt struct {
	query string
	stmt  execStmt
}

// execStmt is what modernc's prepared statements are: they take a context.
type execStmt interface {
	driver.Stmt
	driver.StmtExecContext
}

// ExecContext runs query with the statement compiled for it on an earlier call, or compiles
// and keeps it. modernc's statement resets itself after each execution, failed or not, so it
// holds no lock and no binding between calls.
func (c *sqliteConn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	if e, ok := c.stmts[query]; ok {
		c.lru.MoveToFront(e)
		return c.exec(ctx, e, args)
	}
	st, err := c.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	e := c.lru.PushFront(&sqliteStmt{query: query, stmt: st.(execStmt)})
	c.stmts[query] = e
	if c.lru.Len() > sqliteStmtCacheSize {
		c.drop(c.lru.Back())
	}
	return c.exec(ctx, e, args)
}

// exec runs a kept statement. A statement whose run panicked (in the driver) may not have been
// reset, and so may hold a lock: it is finalized and forgotten before the panic goes on.
func (c *sqliteConn) exec(ctx context.Context, e *list.Element, args []driver.NamedValue) (driver.Result, error) {
	done := false
	defer func() {
		if !done {
			c.drop(e)
		}
	}()
	r, err := e.Value.(*sqliteStmt).stmt.ExecContext(ctx, args)
	done = true
	return r, err
}

// drop finalizes a kept statement and forgets it.
func (c *sqliteConn) drop(e *list.Element) {
	st := c.lru.Remove(e).(*sqliteStmt)
	delete(c.stmts, st.query)
	st.stmt.Close()
}

// BeginTx keeps the transaction's temporary files in memory (temp_store): every multi-row
// INSERT or UPDATE in a transaction keeps a statement journal, which SQLite writes to a
// temporary file past 64 KiB (11% of the service's CPU under intake load went to that file).
// Outside transactions they stay files: detection's searches over a whole import sort and
// deduplicate in temporary b-trees of hundreds of megabytes (a 1,000,000-row import peaked at
// 370 MiB with every temporary file in memory, 199 MiB without).
func (c *sqliteConn) BeginTx(ctx context.Context, opts driver.TxOptions) (driver.Tx, error) {
	if _, err := c.ExecContext(ctx, "PRAGMA temp_store = MEMORY", nil); err != nil {
		return nil, err
	}
	tx, err := c.sqliteDriverConn.BeginTx(ctx, opts)
	if err != nil {
		c.tempOnDisk()
		return nil, err
	}
	return sqliteTx{Tx: tx, c: c}, nil
}

// tempOnDisk puts temporary files back on disk once a transaction is over. Should it fail,
// the connection keeps them in memory, which costs memory, not correctness: the outcome of
// the transaction is what its caller gets.
func (c *sqliteConn) tempOnDisk() {
	c.ExecContext(context.Background(), "PRAGMA temp_store = DEFAULT", nil)
}

type sqliteTx struct {
	driver.Tx
	c *sqliteConn
}

func (t sqliteTx) Commit() error {
	defer t.c.tempOnDisk()
	return t.Tx.Commit()
}

func (t sqliteTx) Rollback() error {
	defer t.c.tempOnDisk()
	return t.Tx.Rollback()
}

// Close finalizes the kept statements first: SQLite cannot free a connection that still has
// statements, and modernc frees the connection's memory at Close.
func (c *sqliteConn) Close() error {
	for e := c.lru.Front(); e != nil; e = e.Next() {
		e.Value.(*sqliteStmt).stmt.Close()
	}
	c.lru.Init()
	clear(c.stmts)
	return c.sqliteDriverConn.Close()
}

// sqliteOpenError says what a failure to open the SQLite file most likely means.
func sqliteOpenError(path string, err error) error {
	hint := ""
	if strings.Contains(err.Error(), "unable to open") || strings.Contains(err.Error(), "readonly") {
		hint = " (SQLite needs to write the file and its directory: is the file system read-only or full?)"
	}
	return fmt.Errorf("open sqlite %s: %w%s", path, err, hint)
}

// Dialect returns the engine of the store.
func (s *Store) Dialect() Dialect { return s.dialect }

// Close closes every connection.
func (s *Store) Close() error {
	if s.stopCheckpoints != nil {
		s.stopCheckpoints()
	}
	err := s.sqlDB.Close()
	if s.pool != nil {
		s.pool.Close()
	}
	return err
}

// Ping checks that the database answers.
func (s *Store) Ping(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	if err := s.sqlDB.PingContext(ctx); err != nil {
		return apperr.Wrap(apperr.Unavailable, "", err)
	}
	return nil
}

// SQL returns the database/sql handle (pool statistics for metrics).
func (s *Store) SQL() *sql.DB { return s.sqlDB }

// Pool returns the pgx pool for bulk work (COPY), nil on SQLite.
func (s *Store) Pool() *pgxpool.Pool { return s.pool }

// Gorm returns the gorm handle, for tests of the models.
func (s *Store) Gorm() *gorm.DB { return s.db }

// InTx runs fn in one transaction: committed when fn returns nil, rolled back otherwise.
func (s *Store) InTx(ctx context.Context, fn func(tx *gorm.DB) error) error {
	return translate(s.db.WithContext(ctx).Transaction(fn))
}

// translate maps database errors to apperr codes. Unknown errors stay as they are and become
// internal errors at the API edge.
func translate(err error) error {
	var ae *apperr.Error
	switch {
	case err == nil:
		return nil
	case errors.As(err, &ae):
		return err
	case errors.Is(err, gorm.ErrRecordNotFound):
		return apperr.Wrap(apperr.NotFound, "", err)
	case errors.Is(err, gorm.ErrDuplicatedKey), isUniqueViolation(err):
		return apperr.Wrap(apperr.Conflict, "", err)
	case errors.Is(err, context.Canceled):
		return err
	case errors.Is(err, context.DeadlineExceeded), isLockTimeout(err):
		// The database did not answer in time: busy, not broken (the client retries).
		return apperr.Wrap(apperr.Unavailable, "database_busy", err)
	case isConnectionError(err):
		return apperr.Wrap(apperr.Unavailable, "", err)
	case isUnstorableText(err):
		return apperr.Wrap(apperr.Invalid, "invalid_text", err)
	}
	return err
}

// isLockTimeout recognises a statement PostgreSQL ended for waiting on a lock longer than its
// lock_timeout (55P03, lock_not_available).
func isLockTimeout(err error) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && pgErr.Code == "55P03"
}

// isUnstorableText recognises text PostgreSQL cannot hold: a NUL, or bytes that are not UTF-8
// (22021), or a \u0000 in jsonb (22P05). The edges refuse them (jsonshape, intake, the API's
// path and query check); this is the net under the rest, so a client's text is never a 500.
func isUnstorableText(err error) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && (pgErr.Code == "22021" || pgErr.Code == "22P05")
}

// isUniqueViolation recognises a unique violation from pgx or from database/sql on SQLite
// (the paths that do not go through gorm's translation).
func isUniqueViolation(err error) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && pgErr.Code == "23505" || strings.Contains(err.Error(), "UNIQUE constraint failed")
}

// isConnectionError recognises a database that is down, restarting or unreachable, so clients
// get 503 and retry rather than 500.
func isConnectionError(err error) bool {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		// Class 08: connection exception; 57P01-57P03: shutting down, crashed, starting up;
		// 53300: too many connections.
		return strings.HasPrefix(pgErr.Code, "08") || strings.HasPrefix(pgErr.Code, "57P") || pgErr.Code == "53300"
	}
	var connectErr *pgconn.ConnectError
	var netErr net.Error
	switch {
	case errors.As(err, &connectErr), errors.As(err, &netErr),
		errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF),
		errors.Is(err, driver.ErrBadConn), errors.Is(err, sql.ErrConnDone), errors.Is(err, syscall.ECONNRESET),
		errors.Is(err, syscall.ECONNREFUSED), errors.Is(err, syscall.EPIPE):
		return true
	}
	// pgx reports a connection closed under it, and SQLite a busy file, a full disk, a
	// read-only file system or a failing disk, only in words. None is the client's fault and
	// each may pass: 503, try again later.
	msg := err.Error()
	for _, s := range []string{"conn closed", "database is locked", "database or disk is full", "readonly database", "disk I/O error", "unable to open database file"} {
		if strings.Contains(msg, s) {
			return true
		}
	}
	return false
}
