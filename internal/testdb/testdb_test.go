package testdb_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/claimdesk/claimdesk/internal/testdb"
)

func TestMain(m *testing.M) { testdb.Main(m) }

func TestPostgres(t *testing.T) {
	t.Parallel()

	var (
		mu   sync.Mutex
		urls = map[string]string{} // current_database() -> URL
	)
	// The group returns only when both parallel subtests and their cleanups are done.
	t.Run("group", func(t *testing.T) {
		for _, sub := range []string{"a", "b"} {
			t.Run(sub, func(t *testing.T) {
				t.Parallel()
				url := testdb.Postgres(t)
				ctx := t.Context()
				conn, err := pgx.Connect(ctx, url)
				if err != nil {
					t.Fatalf("connect: %v", err)
				}
				defer conn.Close(context.Background())

				var one int
				if err := conn.QueryRow(ctx, "SELECT 1").Scan(&one); err != nil || one != 1 {
					t.Fatalf("SELECT 1 = %d, %v", one, err)
				}
				var tables int
				if err := conn.QueryRow(ctx, "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'").Scan(&tables); err != nil {
					t.Fatal(err)
				}
				if tables != 0 {
					t.Errorf("new database has %d tables in public, want 0", tables)
				}
				// Fails in whichever subtest comes second if both were given the same database.
				if _, err := conn.Exec(ctx, "CREATE TABLE probe (id int)"); err != nil {
					t.Fatalf("create table: %v", err)
				}
				var name string
				if err := conn.QueryRow(ctx, "SELECT current_database()").Scan(&name); err != nil {
					t.Fatal(err)
				}
				mu.Lock()
				urls[name] = url
				mu.Unlock()
			})
		}
	})
	if len(urls) != 2 {
		t.Fatalf("got databases %v, want two distinct ones", urls)
	}

	for name, url := range urls {
		_, err := pgx.Connect(t.Context(), url)
		var pgErr *pgconn.PgError
		if !errors.As(err, &pgErr) || pgErr.Code != "3D000" { // invalid_catalog_name
			t.Errorf("connect to %s after its test ended: got %v, want database does not exist", name, err)
		}
	}
}

func TestSQLite(t *testing.T) {
	t.Parallel()
	a, b := testdb.SQLite(t), testdb.SQLite(t)
	if a == b {
		t.Fatalf("SQLite returned %s twice", a)
	}
	for _, p := range []string{a, b} {
		if _, err := os.Stat(p); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s exists already (stat: %v)", p, err)
		}
		entries, err := os.ReadDir(filepath.Dir(p))
		if err != nil || len(entries) != 0 {
			t.Errorf("directory of %s: %d entries, %v; want an empty directory", p, len(entries), err)
		}
	}
}

func TestURL(t *testing.T) {
	t.Parallel()
	for _, dialect := range testdb.Dialects() {
		t.Run(dialect, func(t *testing.T) {
			t.Parallel()
			got := testdb.URL(t, dialect)
			switch {
			case dialect == "postgres" && !strings.HasPrefix(got, "postgres"):
				t.Errorf("URL(postgres) = %q, want a postgres URL", got)
			case dialect == "sqlite" && !filepath.IsAbs(got):
				t.Errorf("URL(sqlite) = %q, want a file path", got)
			}
		})
	}
}

// Not parallel: it sets PG_BIN, which a cluster starting at the same time would read.
func TestPostgresBinDir(t *testing.T) {
	t.Run("missing", func(t *testing.T) {
		t.Setenv("PG_BIN", t.TempDir())
		_, err := testdb.PostgresBinDir()
		if err == nil || !strings.Contains(err.Error(), "apt-get install -y postgresql") {
			t.Errorf("PostgresBinDir() with an empty PG_BIN: got %v, want an error saying what to install", err)
		}
	})

	dir, err := testdb.PostgresBinDir()
	if err != nil {
		t.Fatal(err)
	}
	for _, prog := range []string{"initdb", "postgres"} {
		if _, err := os.Stat(filepath.Join(dir, prog)); err != nil {
			t.Errorf("PostgresBinDir() = %s, but: %v", dir, err)
		}
	}
}
