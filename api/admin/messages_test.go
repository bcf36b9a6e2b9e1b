package admin

import (
	"io/fs"
	"regexp"
	"testing"

	"github.com/claimdesk/claimdesk/internal/auth"
	"github.com/claimdesk/claimdesk/internal/claims"
	"github.com/claimdesk/claimdesk/internal/lifecycle"
	"github.com/claimdesk/claimdesk/internal/messages"
	"github.com/claimdesk/claimdesk/internal/store"
)

// TestTexts: every catalogue key a template names, and every key made of a prefix and a
// code (statuses, channels, roles, signals, orders, actions), has a text; a missing one would
// show the bare key on a page.
func TestTexts(t *testing.T) {
	keyRe := regexp.MustCompile(`\bT "([a-z0-9_]+)"`)
	files, _ := fs.Glob(templateFS, "templates/*.html")
	for _, f := range files {
		b, _ := fs.ReadFile(templateFS, f)
		for _, m := range keyRe.FindAllStringSubmatch(string(b), -1) {
			if !messages.Has(m[1]) {
				t.Errorf("%s: no text for %q", f, m[1])
			}
		}
	}
	var keys []string
	for _, s := range lifecycle.Statuses {
		keys = append(keys, "admin_status_"+s)
	}
	for _, s := range reviewTargets {
		keys = append(keys, "admin_action_"+s)
	}
	for _, r := range lifecycle.Reasons() {
		keys = append(keys, "reason_"+r)
	}
	for _, c := range claims.Channels {
		keys = append(keys, "admin_channel_"+c)
	}
	for _, r := range auth.Roles {
		keys = append(keys, "admin_role_"+string(r))
	}
	for _, s := range store.ClaimSorts {
		keys = append(keys, "admin_sort_"+string(s))
	}
	for _, s := range signalCodes {
		keys = append(keys, "admin_signal_"+s)
	}
	for _, e := range claims.Eligibilities {
		keys = append(keys, "badge_"+e)
	}
	for _, k := range keys {
		if !messages.Has(k) {
			t.Errorf("no text for %q", k)
		}
	}
}
