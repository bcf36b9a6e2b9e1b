package config

import (
	"slices"
	"strings"
	"testing"

	"github.com/claimdesk/claimdesk/internal/auth"
)

func TestRedactRoles(t *testing.T) {
	t.Setenv("CLAIMDESK_EXPORT_REDACT_ROLES", " lawyer, ,admin")
	c, err := FromEnv()
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(c.RedactRoles, []auth.Role{auth.Lawyer, auth.Admin}) {
		t.Errorf("RedactRoles %v", c.RedactRoles)
	}

	t.Setenv("CLAIMDESK_EXPORT_REDACT_ROLES", "")
	if c, err := FromEnv(); err != nil || len(c.RedactRoles) != 0 {
		t.Errorf("unset: %v, %v", c.RedactRoles, err)
	}

	// importer has no exports, and a typo must not silently leave data unmasked.
	for _, bad := range []string{"importer", "lawyers"} {
		t.Setenv("CLAIMDESK_EXPORT_REDACT_ROLES", bad)
		if _, err := FromEnv(); err == nil || !strings.Contains(err.Error(), "CLAIMDESK_EXPORT_REDACT_ROLES") {
			t.Errorf("%q: error %v", bad, err)
		}
	}
}
