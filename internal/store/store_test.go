package store_test

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"gorm.io/gorm"

	"github.com/claimdesk/claimdesk/damages"
	"github.com/claimdesk/claimdesk/internal/apperr"
	"github.com/claimdesk/claimdesk/internal/seed"
	"github.com/claimdesk/claimdesk/internal/store"
	"github.com/claimdesk/claimdesk/internal/testdb"
	"github.com/claimdesk/claimdesk/internal/testdb/casedb"
	"github.com/claimdesk/claimdesk/models"
)

func TestMain(m *testing.M) { testdb.Main(m) }

// seededCase loads the Kakao 2022 case into st (if it is not there yet) and returns it.
func seededCase(t *testing.T, st *store.Store) *store.Case {
	t.Helper()
	ctx := context.Background()
	if _, err := seed.Ensure(ctx, st, seed.Kakao2022); err != nil {
		t.Fatal(err)
	}
	cs, err := st.Case(ctx, seed.Kakao2022)
	if err != nil {
		t.Fatal(err)
	}
	return cs
}

// allModels lists every gorm model; a new table without an entry here fails
// TestModelsMatchSchema.
var allModels = []any{&models.Case{}, &models.CaseService{}, &models.CaseFeature{}, &models.OutageWindow{},
	&models.Claim{}, &models.ClaimItem{}, &models.APIToken{}, &models.RuleSet{},
	&models.Import{}, &models.ImportChunk{}, &models.ImportError{}, &models.Job{},
	&models.AuditEvent{}, &models.Export{}, &models.ExportChunk{},
	&models.Evidence{}, &models.EvidenceBlob{},
	&models.ClaimTransition{}, &models.ClaimDuplicate{}, &models.ClaimSignal{}, &models.User{}, &models.Session{},
	&models.ClaimReviewPending{}}

func TestMigrateFromEmpty(t *testing.T) {
	for _, d := range testdb.Dialects() {
		t.Run(d, func(t *testing.T) {
			t.Parallel()
			st := casedb.Migrated(t, d)
			sts, err := st.MigrationStatuses(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if len(sts) == 0 {
				t.Fatal("no migrations")
			}
			for _, m := range sts {
				if !m.Applied {
					t.Errorf("migration %d not applied", m.Version)
				}
			}
			// Applying again is a no-op.
			if err := st.Migrate(context.Background()); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// TestModelsMatchSchema checks that every column of every model exists in the migrated schema
// and every column of those tables has a model field: the SQL files and the Go structs cannot
// drift apart silently.
func TestModelsMatchSchema(t *testing.T) {
	for _, d := range testdb.Dialects() {
		t.Run(d, func(t *testing.T) {
			t.Parallel()
			db := casedb.Migrated(t, d).Gorm()
			for _, m := range allModels {
				stmt := db.Model(m).Statement
				if err := stmt.Parse(m); err != nil {
					t.Fatal(err)
				}
				table := stmt.Schema.Table
				var fromModel []string
				for _, f := range stmt.Schema.Fields {
					if f.DBName != "" {
						fromModel = append(fromModel, f.DBName)
					}
				}
				cols, err := db.Migrator().ColumnTypes(table)
				if err != nil {
					t.Fatalf("%s: %v", table, err)
				}
				var fromDB []string
				for _, c := range cols {
					fromDB = append(fromDB, c.Name())
				}
				sort.Strings(fromModel)
				sort.Strings(fromDB)
				if diff := cmp.Diff(fromDB, fromModel); diff != "" {
					t.Errorf("table %s: schema (-) vs model (+):\n%s", table, diff)
				}
			}
			var tables []string
			if d == "postgres" {
				db.Raw("SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'goose_db_version'").Scan(&tables)
			} else {
				db.Raw("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name <> 'goose_db_version'").Scan(&tables)
			}
			known := map[string]bool{}
			for _, m := range allModels {
				stmt := db.Model(m).Statement
				_ = stmt.Parse(m)
				known[stmt.Schema.Table] = true
			}
			for _, tb := range tables {
				if !known[tb] && !strings.HasPrefix(tb, "river_") {
					t.Errorf("table %s has no model in allModels", tb)
				}
			}
		})
	}
}

func TestSeedCase(t *testing.T) {
	for _, d := range testdb.Dialects() {
		t.Run(d, func(t *testing.T) {
			t.Parallel()
			st := casedb.Migrated(t, d)
			ctx := context.Background()
			created, err := seed.Ensure(ctx, st, seed.Kakao2022)
			if err != nil || !created {
				t.Fatalf("first load: %v %v", created, err)
			}
			if created, err := seed.Ensure(ctx, st, seed.Kakao2022); err != nil || created {
				t.Fatalf("second load: %v %v", created, err)
			}
			c, err := st.Case(ctx, seed.Kakao2022)
			if err != nil {
				t.Fatal(err)
			}
			if probs := damages.ValidateWindows(c.DomainWindows(), c.Domain()); len(probs) > 0 {
				t.Errorf("shipped windows are invalid: %+v", probs)
			}
			// Instants are stored in UTC and read back equal on both engines.
			var taxi *models.OutageWindow
			for i := range c.Windows {
				if c.Windows[i].Service == "kakao_t" && c.Windows[i].Feature == "taxi" {
					taxi = &c.Windows[i]
				}
			}
			if taxi == nil || !taxi.StartAt.Equal(time.Date(2022, 10, 15, 6, 30, 0, 0, time.UTC)) || taxi.StartAt.Location() != time.UTC {
				t.Errorf("taxi window %+v", taxi)
			}
			wantServices := []string{"kakaotalk", "kakao_t", "kakao_pay", "daum", "kakao_map"}
			var got []string
			for _, s := range c.Services {
				got = append(got, s.Slug)
			}
			if diff := cmp.Diff(wantServices, got); diff != "" {
				t.Errorf("services: %s", diff)
			}
			if _, err := st.Case(ctx, "nope"); !apperr.Is(err, apperr.NotFound) {
				t.Errorf("unknown case: %v", err)
			}
		})
	}
}

func TestTokens(t *testing.T) {
	for _, d := range testdb.Dialects() {
		t.Run(d, func(t *testing.T) {
			t.Parallel()
			st := casedb.Migrated(t, d)
			ctx := context.Background()
			if ok, _ := st.HasLiveAdminToken(ctx); ok {
				t.Fatal("admin token in an empty database")
			}
			tok := &models.APIToken{Name: "env", Role: "admin", TokenHash: []byte("0123456789abcdef0123456789abcdef")}
			// Each change is audited with it; nothing changed, nothing recorded.
			var changes []string
			ev := func(before, after *models.APIToken) (*models.AuditEvent, error) {
				action := "create"
				if before != nil {
					action = "update"
				}
				changes = append(changes, action)
				return &models.AuditEvent{At: time.Now().UTC(), ActorKind: "system", Action: action, Entity: "token", EntityID: fmt.Sprint(after.ID)}, nil
			}
			if created, err := st.EnsureToken(ctx, tok, ev); err != nil || !created {
				t.Fatalf("ensure: %v %v", created, err)
			}
			if created, err := st.EnsureToken(ctx, &models.APIToken{Name: "env", Role: "admin", TokenHash: tok.TokenHash}, ev); err != nil || created {
				t.Fatalf("ensure again: %v %v", created, err)
			}
			var audited int64
			if err := st.Gorm().Model(&models.AuditEvent{}).Where("entity = ? AND entity_id = ?", "token", fmt.Sprint(tok.ID)).Count(&audited).Error; err != nil || audited != 1 || strings.Join(changes, ",") != "create" {
				t.Errorf("audit after create and no-op: %d records, changes %v, %v", audited, changes, err)
			}
			if ok, _ := st.HasLiveAdminToken(ctx); !ok {
				t.Fatal("no live admin token")
			}
			if err := st.RevokeToken(ctx, tok.ID, nil); err != nil {
				t.Fatal(err)
			}
			if _, err := st.TokenByHash(ctx, tok.TokenHash); !apperr.Is(err, apperr.NotFound) {
				t.Errorf("revoked token found: %v", err)
			}
			// Setting the same value in the environment again does not revive it: see
			// TestEnsureTokenKeepsRevocation.
			dup := &models.APIToken{Name: "dup", Role: "lawyer", TokenHash: tok.TokenHash}
			if err := st.CreateToken(ctx, dup); !apperr.Is(err, apperr.Conflict) {
				t.Errorf("duplicate hash: %v", err)
			}
		})
	}
}

// TestRefreshStats: claim tables that grew past half their size get their statistics from a
// quick sample (quickStatsTarget), and the connection's own target is put back.
func TestRefreshStats(t *testing.T) {
	for _, d := range testdb.Dialects() {
		t.Run(d, func(t *testing.T) {
			t.Parallel()
			st := casedb.Migrated(t, d)
			ctx := context.Background()
			if _, err := seed.Ensure(ctx, st, seed.Kakao2022); err != nil {
				t.Fatal(err)
			}
			if st.Dialect() != store.Postgres {
				if err := st.RefreshStats(ctx); err != nil {
					t.Fatalf("SQLite keeps no statistics, yet: %v", err)
				}
				return
			}
			db := st.Gorm()
			err := db.Exec(`INSERT INTO claims (case_id, reference, access_code_hash, content_hash, channel, claimant_name,
	consent_at, consent_version, submitted_at, updated_at)
SELECT (SELECT id FROM cases LIMIT 1), 'CD-T-' || g, '\x00', 'h' || g, 'api', 'name ' || (g % 4000), now(), 'v1', now(), now()
FROM generate_series(1, 20000) g`).Error
			if err != nil {
				t.Fatal(err)
			}
			// The insert reaches pg_stat_user_tables when its backend flushes its counters.
			var bounds int
			for deadline := time.Now().Add(10 * time.Second); bounds == 0 && time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
				if err := st.RefreshStats(ctx); err != nil {
					t.Fatal(err)
				}
				err := db.Raw(`SELECT COALESCE(MAX(array_length(histogram_bounds, 1)), 0) FROM pg_stats
WHERE tablename = 'claims' AND attname = 'claimant_name'`).Scan(&bounds).Error
				if err != nil {
					t.Fatal(err)
				}
			}
			// A target of t gives at most t+1 bounds; PostgreSQL's default (100), 101.
			if bounds == 0 || bounds > 11 {
				t.Fatalf("claims.claimant_name has %d histogram bounds after RefreshStats; want 1 to 11 (target 10)", bounds)
			}
			var target string
			for i := 0; i < 8; i++ {
				if err := db.Raw("SHOW default_statistics_target").Scan(&target).Error; err != nil {
					t.Fatal(err)
				}
				if target != "100" {
					t.Fatalf("a pool connection kept default_statistics_target = %s", target)
				}
			}
		})
	}
}

// Text PostgreSQL cannot hold (a NUL in text or jsonb, bytes that are not UTF-8) is the
// client's fault: an Invalid error, not an internal one (a 500), wherever the edges missed it.
func TestUnstorableTextIsInvalid(t *testing.T) {
	st := casedb.Migrated(t, "postgres")
	for _, c := range []struct{ sql, arg string }{
		{"SELECT CAST(? AS TEXT)", "a\x00b"},
		{"SELECT CAST(? AS TEXT)", "a\xffb"},
		{"SELECT CAST(? AS JSONB)", `"\u0000"`},
	} {
		err := st.InTx(context.Background(), func(tx *gorm.DB) error { return tx.Exec(c.sql, c.arg).Error })
		if !apperr.Is(err, apperr.Invalid) {
			t.Errorf("%s with %q: %v, want an Invalid error", c.sql, c.arg, err)
		}
	}
}
