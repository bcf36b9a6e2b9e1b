package store

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestSQLiteCheckpoints: what is committed reaches the database file while the store is open,
// through the store's own checkpoints (SQLite's would wait for sqliteAutoCheckpoint pages).
func TestSQLiteCheckpoints(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "ckpt.db")
	st, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	size := func() int64 {
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		return fi.Size()
	}
	if _, err := st.sqlDB.ExecContext(ctx, "CREATE TABLE big (b TEXT)"); err != nil {
		t.Fatal(err)
	}
	before := size()
	// About 2 MB, 500 pages: far below SQLite's own checkpoint.
	if _, err := st.sqlDB.ExecContext(ctx, "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 500) INSERT INTO big SELECT ? FROM n", strings.Repeat("x", 4000)); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(5 * time.Second); size() < before+2_000_000; {
		if time.Now().After(deadline) {
			t.Fatalf("database file %d bytes 5 s after the commit (%d before it): the log was not checkpointed", size(), before)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
