package store_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/claimdesk/claimdesk/internal/apperr"
	"github.com/claimdesk/claimdesk/internal/store"
	"github.com/claimdesk/claimdesk/internal/testdb"
	"github.com/claimdesk/claimdesk/internal/testdb/casedb"
	"github.com/claimdesk/claimdesk/models"
)

// TestEnsureTokenKeepsRevocation: the environment's admin token, once revoked, stays revoked
// however often EnsureToken sees its value again (each restart), and nothing is recorded as
// changed; a live token with another role still gets its role back.
func TestEnsureTokenKeepsRevocation(t *testing.T) {
	for _, d := range testdb.Dialects() {
		t.Run(d, func(t *testing.T) {
			t.Parallel()
			st := casedb.Migrated(t, d)
			ctx := context.Background()
			var changes []string
			ev := func(before, after *models.APIToken) (*models.AuditEvent, error) {
				action := "create"
				if before != nil {
					action = "update " + before.Role + "->" + after.Role
				}
				changes = append(changes, action)
				return &models.AuditEvent{At: time.Now().UTC(), ActorKind: "system", Action: "update", Entity: "token", EntityID: fmt.Sprint(after.ID)}, nil
			}
			env := func(hash string) *models.APIToken {
				return &models.APIToken{Name: "env", Role: "admin", TokenHash: []byte(hash)}
			}
			leaked := env("leaked-0123456789abcdef0123456789")
			if _, err := st.EnsureToken(ctx, leaked, ev); err != nil {
				t.Fatal(err)
			}
			if err := st.RevokeToken(ctx, leaked.ID, nil); err != nil {
				t.Fatal(err)
			}
			for restart := 1; restart <= 2; restart++ {
				again := env(string(leaked.TokenHash))
				created, err := st.EnsureToken(ctx, again, ev)
				if !errors.Is(err, store.ErrTokenRevoked) || created || again.ID != leaked.ID {
					t.Fatalf("restart %d: created %v, id %d (want %d), err %v; want ErrTokenRevoked", restart, created, again.ID, leaked.ID, err)
				}
				if _, err := st.TokenByHash(ctx, leaked.TokenHash); !apperr.Is(err, apperr.NotFound) {
					t.Errorf("restart %d: the revoked token authenticates again (%v)", restart, err)
				}
			}
			if ok, _ := st.HasLiveAdminToken(ctx); ok {
				t.Error("a live admin token after revoking the only one")
			}

			// A live token whose role differs is put back to the configured role.
			other := &models.APIToken{Name: "env", Role: "lawyer", TokenHash: []byte("other-0123456789abcdef0123456789")}
			if err := st.CreateToken(ctx, other); err != nil {
				t.Fatal(err)
			}
			if _, err := st.EnsureToken(ctx, env(string(other.TokenHash)), ev); err != nil {
				t.Fatal(err)
			}
			if got, err := st.TokenByHash(ctx, other.TokenHash); err != nil || got.Role != "admin" {
				t.Errorf("role not restored: %+v %v", got, err)
			}
			if want := "create,update lawyer->admin"; strings.Join(changes, ",") != want {
				t.Errorf("audited changes %v, want %s", changes, want)
			}
		})
	}
}
