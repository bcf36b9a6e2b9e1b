package store_test

import (
	"context"
	"database/sql"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/claimdesk/claimdesk/internal/store"
	"github.com/claimdesk/claimdesk/internal/testdb/casedb"
	"github.com/claimdesk/claimdesk/models"
)

// TestSQLiteStoredTimeText pins how values are stored in SQLite, as text the way
// glebarez/go-sqlite wrote them before the driver became modernc.org/sqlite: a database
// written by either must read the same, and its times compare as text (ORDER BY, range
// filters), so a change of the driver or of its DSN must not change them unseen.
func TestSQLiteStoredTimeText(t *testing.T) {
	ctx := context.Background()
	st := casedb.Migrated(t, "sqlite")
	cs := seededCase(t, st)
	at := time.Date(2023, 1, 2, 3, 4, 5, 123456000, time.UTC)
	ended := at.Add(90 * time.Minute)
	items := []models.ClaimItem{
		{CaseID: cs.ID, Kind: "other", Service: "kakao_t", Feature: "taxi", OccurredAt: at, EndedAt: &ended, AmountKRW: 1000, Documented: true, Eligibility: "ineligible"},
		{CaseID: cs.ID, Kind: "other", Service: "kakao_t", Feature: "taxi", OccurredAt: at.Add(time.Second), AmountKRW: 1000, Eligibility: "ineligible"},
	}
	c := newValuedClaim(cs.ID, "timetext", at, items...)
	// The group-commit path binds its values itself (sqliteInserter); gorm binds the others.
	if err := st.CreateClaims(ctx, cs.Revision, []store.NewClaim{{Claim: c}}); err != nil {
		t.Fatal(err)
	}
	seoul := time.FixedZone("KST", 9*3600)
	if err := st.Gorm().Exec("UPDATE claims SET cure_deadline = ? WHERE id = ?", at.In(seoul), c.ID).Error; err != nil {
		t.Fatal(err)
	}

	type stored struct{ Value, Type string }
	text := func(q string, args ...any) []stored {
		t.Helper()
		rows, err := st.SQL().QueryContext(ctx, q, args...)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		var out []stored
		for rows.Next() {
			var v sql.NullString
			var s stored
			if err := rows.Scan(&v, &s.Type); err != nil {
				t.Fatal(err)
			}
			s.Value = v.String
			out = append(out, s)
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		return out
	}
	// CAST: a column declared DATETIME is parsed into a time.Time by the driver, an expression
	// comes as it is stored.
	got := text(`SELECT CAST(submitted_at AS TEXT), typeof(submitted_at) FROM claims WHERE id = ?1
UNION ALL SELECT CAST(consent_at AS TEXT), typeof(consent_at) FROM claims WHERE id = ?1
UNION ALL SELECT CAST(cure_deadline AS TEXT), typeof(cure_deadline) FROM claims WHERE id = ?1
UNION ALL SELECT hex(access_code_hash), typeof(access_code_hash) FROM claims WHERE id = ?1`, c.ID)
	want := []stored{
		{"2023-01-02 03:04:05.123456+00:00", "text"},
		{"2023-01-02 03:04:05.123456+00:00", "text"},
		// A time in another zone is stored in UTC (_timezone=UTC): glebarez kept its offset,
		// and text comparisons between offsets do not order instants.
		{"2023-01-02 03:04:05.123456+00:00", "text"},
		{"01", "blob"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("claims columns as stored (-want +got):\n%s", diff)
	}
	got = text(`SELECT CAST(occurred_at AS TEXT), typeof(occurred_at) FROM claim_items WHERE claim_id = ?1
UNION ALL SELECT CAST(ended_at AS TEXT), typeof(ended_at) FROM claim_items WHERE claim_id = ?1
UNION ALL SELECT CAST(documented AS TEXT), typeof(documented) FROM claim_items WHERE claim_id = ?1`, c.ID)
	want = []stored{
		{"2023-01-02 03:04:05.123456+00:00", "text"}, {"2023-01-02 03:04:06.123456+00:00", "text"},
		{"2023-01-02 04:34:05.123456+00:00", "text"}, {"", "null"},
		{"1", "integer"}, {"0", "integer"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("claim_items columns as stored (-want +got):\n%s", diff)
	}

	// What the old driver wrote for a time in another zone (its offset kept) and what SQLite's
	// CURRENT_TIMESTAMP writes read back as the same instants, in UTC.
	if err := st.Gorm().Exec("UPDATE claims SET cure_deadline = '2023-01-02 12:04:05.123456+09:00', updated_at = '2023-01-02 03:04:05' WHERE id = ?", c.ID).Error; err != nil {
		t.Fatal(err)
	}
	back, err := st.ClaimByReference(ctx, c.Reference)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name      string
		got, want time.Time
	}{
		{"submitted_at", back.SubmittedAt, at},
		{"cure_deadline", *back.CureDeadline, at},
		{"updated_at", back.UpdatedAt, at.Truncate(time.Second)},
		{"occurred_at", back.Items[0].OccurredAt, at},
		{"ended_at", *back.Items[0].EndedAt, ended},
	} {
		if !tc.got.Equal(tc.want) || tc.got.Location() != time.UTC {
			t.Errorf("%s read back as %v (%v), want %v in UTC", tc.name, tc.got, tc.got.Location(), tc.want)
		}
	}
	if back.Items[1].EndedAt != nil || !back.Items[0].Documented || back.Items[1].Documented || string(back.AccessCodeHash) != "\x01" {
		t.Errorf("read back: ended_at %v, documented %v %v, access_code_hash %x", back.Items[1].EndedAt,
			back.Items[0].Documented, back.Items[1].Documented, back.AccessCodeHash)
	}
}
