// Package casedb gives tests and benchmarks a database ready to use: a fresh one from
// internal/testdb, migrated, with the shipped Kakao 2022 case loaded.
package casedb

import (
	"context"
	"testing"
	"time"

	"github.com/claimdesk/claimdesk/internal/audit"
	"github.com/claimdesk/claimdesk/internal/auth"
	"github.com/claimdesk/claimdesk/internal/seed"
	"github.com/claimdesk/claimdesk/internal/staff"
	"github.com/claimdesk/claimdesk/internal/store"
	"github.com/claimdesk/claimdesk/internal/testdb"
	"github.com/claimdesk/claimdesk/models"
)

// Open returns a store on a new database of dialect ("postgres" or "sqlite"), migrated, with
// the Kakao 2022 case loaded, and that case. The store is closed when the test ends.
func Open(tb testing.TB, dialect string) (*store.Store, *store.Case) {
	tb.Helper()
	return OpenURL(tb, testdb.URL(tb, dialect))
}

// OpenURL is Open on a database the caller made (when it needs the URL too).
func OpenURL(tb testing.TB, url string) (*store.Store, *store.Case) {
	tb.Helper()
	ctx := context.Background()
	st := MigratedURL(tb, url)
	if _, err := seed.Ensure(ctx, st, seed.Kakao2022); err != nil {
		tb.Fatal(err)
	}
	c, err := st.Case(ctx, seed.Kakao2022)
	if err != nil {
		tb.Fatal(err)
	}
	return st, c
}

// Migrated returns a store on a new database of dialect, migrated and empty (no case), closed
// when the test ends.
func Migrated(tb testing.TB, dialect string) *store.Store {
	tb.Helper()
	return MigratedURL(tb, testdb.URL(tb, dialect))
}

// MigratedURL is Migrated on a database the caller made.
func MigratedURL(tb testing.TB, url string) *store.Store {
	tb.Helper()
	st, err := store.Open(context.Background(), url)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { st.Close() })
	if err := st.Migrate(context.Background()); err != nil {
		tb.Fatal(err)
	}
	return st
}

// Token stores a live API token of role named name and returns its secret.
func Token(tb testing.TB, st *store.Store, role auth.Role, name string) string {
	tb.Helper()
	secret := auth.NewToken()
	if err := st.CreateToken(context.Background(), &models.APIToken{Name: name, Role: string(role), TokenHash: auth.Hash(secret)}); err != nil {
		tb.Fatal(err)
	}
	return secret
}

// User creates a staff user through the one path the API and the CLI use (internal/staff),
// at now, and returns it.
func User(tb testing.TB, st *store.Store, email string, role auth.Role, password string, now time.Time) *models.User {
	tb.Helper()
	u, _, err := staff.Create(context.Background(), st, email, string(role), password, audit.Actor{Kind: audit.ActorCLI, Name: "test"}, now)
	if err != nil {
		tb.Fatal(err)
	}
	return u
}
