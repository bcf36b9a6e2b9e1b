package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"
	"testing"

	"gorm.io/gorm"
)

// execCounter counts the statement texts sqliteValues runs, on a real SQLite connection.
type execCounter struct {
	*sql.Tx
	texts map[string]int
}

func (e execCounter) ExecContext(ctx context.Context, q string, args ...any) (sql.Result, error) {
	e.texts[q]++
	return e.Tx.ExecContext(ctx, q, args...)
}

// cachedStmts is the number of statements db's connection keeps compiled.
func cachedStmts(t *testing.T, db *sql.DB) int {
	t.Helper()
	conn, err := db.Conn(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	n := -1
	if err := conn.Raw(func(dc any) error { n = len(dc.(*sqliteConn).stmts); return nil }); err != nil {
		t.Fatal(err)
	}
	return n
}

func openSQLite(t *testing.T) *Store {
	t.Helper()
	st, err := Open(context.Background(), filepath.Join(t.TempDir(), "conn.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	// One connection, so every statement below finds the statements the ones before it kept.
	st.sqlDB.SetMaxOpenConns(1)
	return st
}

// TestSQLiteValuesShapes checks that sqliteValues writes every row for any count, in statements
// of few shapes: full ones and powers of two, so each stays compiled on its connection.
func TestSQLiteValuesShapes(t *testing.T) {
	ctx := context.Background()
	st := openSQLite(t)
	if _, err := st.sqlDB.ExecContext(ctx, "CREATE TABLE v (a INTEGER, b TEXT, c INTEGER)"); err != nil {
		t.Fatal(err)
	}
	tx, err := st.sqlDB.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	ec := execCounter{Tx: tx, texts: map[string]int{}}
	per := sqliteParamsPerInsert / 3
	ns := []int{per - 1, per, per + 1, 2*per + per/2, 3*per + 5}
	for n := range 70 {
		ns = append(ns, n)
	}
	want := 0
	for _, n := range ns {
		err := sqliteValues(ctx, ec, "INSERT INTO v (a, b, c) VALUES ", "", nil, 3, n, func(args []any, i int) []any {
			return append(args, n, fmt.Sprint(i), i)
		})
		if err != nil {
			t.Fatalf("%d rows: %v", n, err)
		}
		want += n
	}
	var got, wrong int
	if err := tx.QueryRowContext(ctx, "SELECT COUNT(*), COUNT(*) FILTER (WHERE CAST(b AS INTEGER) != c) FROM v").Scan(&got, &wrong); err != nil {
		t.Fatal(err)
	}
	if got != want || wrong != 0 {
		t.Errorf("%d rows stored (%d with wrong values), want %d", got, wrong, want)
	}
	// At most one full shape, and one per power of two below it.
	shapes := 1
	for k := 1; k < per; k *= 2 {
		shapes++
	}
	if len(ec.texts) > shapes {
		t.Errorf("%d statement texts for %v rows, want at most %d", len(ec.texts), ns, shapes)
	}
}

// TestSQLiteStmtCache checks that a kept statement runs again after a failure (its
// constraint error still recognised), in and out of transactions, with other values, and that
// the connection keeps at most sqliteStmtCacheSize of them.
func TestSQLiteStmtCache(t *testing.T) {
	ctx := context.Background()
	st := openSQLite(t)
	if _, err := st.sqlDB.ExecContext(ctx, "CREATE TABLE u (k TEXT PRIMARY KEY, n INTEGER NOT NULL)"); err != nil {
		t.Fatal(err)
	}
	const ins = "INSERT INTO u (k, n) VALUES (?, ?)"
	if _, err := st.sqlDB.ExecContext(ctx, ins, "a", 1); err != nil {
		t.Fatal(err)
	}
	if _, err := st.sqlDB.ExecContext(ctx, ins, "a", 2); err == nil || !isUniqueViolation(err) {
		t.Fatalf("duplicate key: %v, want a unique violation", err)
	}
	// Through gorm, the dialector recognises the driver's error by its type (the alias of the
	// local module), not by its text.
	if err := st.db.WithContext(ctx).Exec(ins, "a", 3).Error; !errors.Is(err, gorm.ErrDuplicatedKey) {
		t.Fatalf("duplicate key through gorm: %v, want gorm.ErrDuplicatedKey", err)
	}
	tx, err := st.sqlDB.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.ExecContext(ctx, ins, "b", 2); err != nil {
		t.Fatal(err)
	}
	if err := tx.Rollback(); err != nil {
		t.Fatal(err)
	}
	res, err := st.sqlDB.ExecContext(ctx, ins, "c", 3)
	if err != nil {
		t.Fatal(err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		t.Errorf("rows affected %d, want 1", n)
	}
	var keys string
	if err := st.sqlDB.QueryRowContext(ctx, "SELECT group_concat(k || n, ',') FROM (SELECT k, n FROM u ORDER BY k)").Scan(&keys); err != nil {
		t.Fatal(err)
	}
	if keys != "a1,c3" {
		t.Errorf("stored %q, want a1,c3", keys)
	}

	// A statement of a table that changed is compiled again by SQLite, not run as it was.
	if _, err := st.sqlDB.ExecContext(ctx, "DROP TABLE u; CREATE TABLE u (n INTEGER NOT NULL, k TEXT PRIMARY KEY)"); err != nil {
		t.Fatal(err)
	}
	if _, err := st.sqlDB.ExecContext(ctx, ins, "d", 4); err != nil {
		t.Fatal(err)
	}
	if err := st.sqlDB.QueryRowContext(ctx, "SELECT k || n FROM u").Scan(&keys); err != nil || keys != "d4" {
		t.Errorf("after the table changed: stored %q (%v), want d4", keys, err)
	}

	for i := range 2 * sqliteStmtCacheSize {
		if _, err := st.sqlDB.ExecContext(ctx, fmt.Sprintf("UPDATE u SET n = n + %d WHERE k = ?", i), "d"); err != nil {
			t.Fatal(err)
		}
	}
	if n := cachedStmts(t, st.sqlDB); n != sqliteStmtCacheSize {
		t.Errorf("%d statements kept, want %d", n, sqliteStmtCacheSize)
	}
	var n int
	if err := st.sqlDB.QueryRowContext(ctx, "SELECT n FROM u WHERE k = 'd'").Scan(&n); err != nil || n != 4+(2*sqliteStmtCacheSize-1)*sqliteStmtCacheSize {
		t.Errorf("n = %d (%v), want %d", n, err, 4+(2*sqliteStmtCacheSize-1)*sqliteStmtCacheSize)
	}
}

// TestSQLiteTempStore: temporary files (statement journals) are kept in memory in a
// transaction, committed or rolled back, and on disk outside one, on the same connection.
func TestSQLiteTempStore(t *testing.T) {
	ctx := context.Background()
	st := openSQLite(t)
	st.sqlDB.SetMaxOpenConns(1) // every statement below on the one connection
	tempStore := func(q interface {
		QueryRowContext(context.Context, string, ...any) *sql.Row
	}) int {
		t.Helper()
		var n int
		if err := q.QueryRowContext(ctx, "PRAGMA temp_store").Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	if n := tempStore(st.sqlDB); n != 0 {
		t.Fatalf("outside a transaction: temp_store %d, want 0 (default: files)", n)
	}
	for _, commit := range []bool{true, false} {
		tx, err := st.sqlDB.BeginTx(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		if n := tempStore(tx); n != 2 {
			t.Errorf("in a transaction: temp_store %d, want 2 (memory)", n)
		}
		end := tx.Rollback
		if commit {
			end = tx.Commit
		}
		if err := end(); err != nil {
			t.Fatal(err)
		}
		if n := tempStore(st.sqlDB); n != 0 {
			t.Errorf("after the transaction (commit %v): temp_store %d, want 0", commit, n)
		}
	}
}
