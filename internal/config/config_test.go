package config

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/claimdesk/claimdesk/internal/auth"
	"github.com/claimdesk/claimdesk/internal/claims"
	"github.com/claimdesk/claimdesk/internal/export"
	"github.com/claimdesk/claimdesk/internal/importer"
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

// TestMovedSettings covers the settings once read where they were used (imports, jobs, review,
// report fonts): defaults, values passed through, and a bad value refused at start with an
// error naming the variable.
func TestMovedSettings(t *testing.T) {
	c, err := FromEnv()
	if err != nil {
		t.Fatal(err)
	}
	if c.ImportMaxBytes != importer.DefaultMaxBytes || c.JobLease != 30*time.Second || c.JobPoll != time.Second ||
		c.WebSubmitEvery != 20*time.Second || c.WebSubmitBurst != 10 ||
		c.FontDir != export.DefaultFontDir || c.Review.DuplicateWindowSeconds != claims.DefaultReviewConfig().DuplicateWindowSeconds {
		t.Errorf("defaults: %d %v %v %q %d", c.ImportMaxBytes, c.JobLease, c.JobPoll, c.FontDir, c.Review.DuplicateWindowSeconds)
	}

	t.Setenv("CLAIMDESK_IMPORT_MAX_BYTES", " 1048576 ")
	t.Setenv("CLAIMDESK_JOB_LEASE", "2s")
	t.Setenv("CLAIMDESK_JOB_POLL", "100ms")
	t.Setenv("CLAIMDESK_WEB_SUBMIT_EVERY", "2s")
	t.Setenv("CLAIMDESK_WEB_SUBMIT_BURST", "50")
	t.Setenv("CLAIMDESK_REVIEW_CONFIG", `{"duplicate_window_seconds": 60, "cases": {"kakao-2022": {"duplicate_window_seconds": 600}}}`)
	t.Setenv("CLAIMDESK_FONT_DIR", "/opt/fonts")
	if c, err = FromEnv(); err != nil {
		t.Fatal(err)
	}
	if c.ImportMaxBytes != 1<<20 || c.JobLease != 2*time.Second || c.JobPoll != 100*time.Millisecond || c.FontDir != "/opt/fonts" ||
		c.WebSubmitEvery != 2*time.Second || c.WebSubmitBurst != 50 ||
		c.Review.DuplicateWindowSeconds != 60 || c.Review.For("kakao-2022").DuplicateWindowSeconds != 600 {
		t.Errorf("set: %d %v %v %q %d %d", c.ImportMaxBytes, c.JobLease, c.JobPoll, c.FontDir,
			c.Review.DuplicateWindowSeconds, c.Review.For("kakao-2022").DuplicateWindowSeconds)
	}

	for _, tc := range []struct{ key, value string }{
		{"CLAIMDESK_IMPORT_MAX_BYTES", "2GiB"},
		{"CLAIMDESK_IMPORT_MAX_BYTES", "0"},
		{"CLAIMDESK_IMPORT_MAX_BYTES", "-5"},
		{"CLAIMDESK_JOB_LEASE", "30"},
		{"CLAIMDESK_JOB_LEASE", "0s"},
		{"CLAIMDESK_JOB_POLL", "-1s"},
		{"CLAIMDESK_WEB_SUBMIT_EVERY", "20"},
		{"CLAIMDESK_WEB_SUBMIT_BURST", "0"},
		{"CLAIMDESK_WEB_SUBMIT_BURST", "many"},
		{"CLAIMDESK_REVIEW_CONFIG", `{"duplicate_window_seconds": "an hour"}`},
		{"CLAIMDESK_REVIEW_CONFIG", `not json`},
	} {
		t.Run(tc.key+"="+tc.value, func(t *testing.T) {
			t.Setenv(tc.key, tc.value)
			if _, err := FromEnv(); err == nil || !strings.Contains(err.Error(), tc.key) {
				t.Errorf("error %v, want one naming %s", err, tc.key)
			}
		})
	}
}

// TestSecureCookies: off unless set; a value that is not a boolean is refused at start rather
// than read as off.
func TestSecureCookies(t *testing.T) {
	for _, tc := range []struct {
		value string
		want  bool
		ok    bool
	}{{"", false, true}, {"true", true, true}, {" 1 ", true, true}, {"false", false, true}, {"yes", false, false}, {"on", false, false}} {
		t.Run(tc.value, func(t *testing.T) {
			t.Setenv("CLAIMDESK_SECURE_COOKIES", tc.value)
			c, err := FromEnv()
			if !tc.ok {
				if err == nil || !strings.Contains(err.Error(), "CLAIMDESK_SECURE_COOKIES") {
					t.Errorf("error %v, want one naming CLAIMDESK_SECURE_COOKIES", err)
				}
				return
			}
			if err != nil || c.SecureCookies != tc.want {
				t.Errorf("SecureCookies %v, %v; want %v", c.SecureCookies, err, tc.want)
			}
		})
	}
}
