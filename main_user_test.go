package main

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/claimdesk/claimdesk/internal/auth"
	"github.com/claimdesk/claimdesk/internal/config"
	"github.com/claimdesk/claimdesk/internal/store"
	"github.com/claimdesk/claimdesk/models"
)

func TestUserCreate(t *testing.T) {
	ctx := context.Background()
	cfg := config.Config{DatabaseURL: filepath.Join(t.TempDir(), "c.db")}
	var out bytes.Buffer
	err := userCmd(ctx, cfg, []string{"create", "--email", "Kim@Example.com", "--role", "lawyer"}, strings.NewReader("a long enough password\n"), &out)
	if err != nil || !strings.Contains(out.String(), "kim@example.com (lawyer)") {
		t.Fatalf("%v %s", err, out.String())
	}
	for _, tc := range []struct {
		args  []string
		stdin string
		want  string
	}{
		{[]string{"create", "--email", "x@example.com", "--role", "importer"}, "a long enough password\n", "--role"},
		{[]string{"create", "--email", "nope", "--role", "admin"}, "a long enough password\n", "--email"},
		{[]string{"create", "--email", "y@example.com", "--role", "admin"}, "short\n", "12 to 72"},
		{[]string{"create", "--email", "kim@example.com", "--role", "admin"}, "a long enough password\n", "conflict"},
		{[]string{"delete"}, "", "usage"},
	} {
		if err := userCmd(ctx, cfg, tc.args, strings.NewReader(tc.stdin), &out); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: %v, want %q", tc.args, err, tc.want)
		}
	}
	st, err := store.Open(ctx, cfg.DatabaseURL)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	u, err := st.UserByEmail(ctx, "kim@example.com")
	if err != nil || u == nil || !auth.CheckPassword(u.PasswordHash, "a long enough password") {
		t.Fatalf("%+v %v", u, err)
	}
	var n int64
	st.Gorm().Model(&models.AuditEvent{}).Where("entity = 'user' AND actor_kind = 'cli'").Count(&n)
	if n != 1 {
		t.Fatalf("%d audit events", n)
	}
}
