package store

import (
	"regexp"
	"slices"
	"strings"
	"testing"
)

// TestGroupInsertColumns: the group insert on PostgreSQL names the columns the other writers
// (imports, SQLite) write, table by table, so a column added to one cannot be left out of the
// other.
func TestGroupInsertColumns(t *testing.T) {
	for table, want := range map[string][]string{"claims": claimColumns, "claim_items": itemColumns,
		"claim_review_pending": pendingColumns, "audit_events": auditColumns} {
		m := regexp.MustCompile(`INSERT INTO ` + table + ` \(([^)]*)\)`).FindStringSubmatch(groupInsertPG)
		if m == nil {
			t.Errorf("%s: no INSERT in the group statement", table)
			continue
		}
		got := strings.Fields(strings.ReplaceAll(m[1], ",", " "))
		if !slices.Equal(got, want) {
			t.Errorf("%s: the group statement writes\n%v\nthe other writers\n%v", table, got, want)
		}
	}
}
