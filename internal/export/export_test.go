package export_test

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/claimdesk/claimdesk/internal/claims"
	"github.com/claimdesk/claimdesk/internal/export"
	"github.com/claimdesk/claimdesk/internal/intake"
	"github.com/claimdesk/claimdesk/internal/messages"
	"github.com/claimdesk/claimdesk/internal/seed"
	"github.com/claimdesk/claimdesk/internal/store"
	"github.com/claimdesk/claimdesk/internal/testdb"
	"github.com/claimdesk/claimdesk/internal/testdb/casedb"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// testNow is the clock of the fixture: claims are filed at fixed times after it is set.
var testNow = time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)

// fixture is a case with a handful of claims chosen to exercise exports: merged claimants
// (same phone, same email in another case), excluded statuses, names that look like
// formulas or need quoting, a four-character and a two-character name.
type fixture struct {
	st  *store.Store
	cs  *store.Case
	svc *claims.Service
}

func i64(v int64) *int64 { return &v }
func yes() *bool         { b := true; return &b }

func newFixture(t *testing.T, dialect string) *fixture {
	t.Helper()
	ctx := context.Background()
	st, _ := casedb.Open(t, dialect)
	svc := &claims.Service{Store: st, Now: func() time.Time { return testNow }}
	taxi := func(at string) intake.ItemInput {
		return intake.ItemInput{Kind: "taxi_booking", Service: "kakao_t", Feature: "taxi", OccurredAt: at, Failure: "booking_failed",
			ExpectedFareKRW: i64(12000), AlternativeCostKRW: i64(31000), Documented: yes()}
	}
	payment := func(at string, amount int64) intake.ItemInput {
		return intake.ItemInput{Kind: "payment", Service: "kakao_pay", OccurredAt: at, Failure: "double_charged", AmountKRW: i64(amount)}
	}
	message := func(from, to string, loss int64) intake.ItemInput {
		return intake.ItemInput{Kind: "message", Service: "kakaotalk", OccurredAt: from, EndedAt: to, Purpose: "business", LossKRW: i64(loss)}
	}
	claimsIn := []struct {
		name, email, phone, status, channel string
		items                               []intake.ItemInput
	}{
		{"홍길동", "hong@example.com", "010-1234-5678", "received", claims.ChannelWeb, []intake.ItemInput{taxi("2022-10-15T18:30"), payment("2022-10-20T12:00", 50000)}},
		{"홍길동", "gildong@example.net", "+82 10-1234-5678", "under_review", claims.ChannelAPI, []intake.ItemInput{payment("2022-10-15 20:00", 120000)}},
		{"남궁민수", "Namgung@Example.com", "", "approved", claims.ChannelImport, []intake.ItemInput{message("2022-10-15T16:00", "2022-10-16T09:00", 400000)}},
		{"남궁 민수", "namgung@example.com", "02-123-4567", "received", claims.ChannelWeb, []intake.ItemInput{message("2022-10-16T02:00", "2022-10-16T05:00", 250000)}},
		{"=HYPERLINK(\"http://x.test\",\"열기\")", "formula@example.com", "", "received", claims.ChannelAPI, []intake.ItemInput{taxi("2022-10-15T17:00")}},
		{"가나, \"다\"", "comma@example.com", "010-2222-3333", "deficient", claims.ChannelWeb, []intake.ItemInput{taxi("2022-10-15T19:00")}},
		{"이수", "lee@example.com", "010-9999-0000", "withdrawn", claims.ChannelWeb, []intake.ItemInput{taxi("2022-10-15T19:30")}},
		{"박중복", "dup@example.com", "010-8888-7777", "duplicate", claims.ChannelImport, []intake.ItemInput{taxi("2022-10-15T20:30")}},
		{"-1+2", "minus@example.com", "010-4444-5555", "received", claims.ChannelWeb, []intake.ItemInput{payment("2022-10-15T16:10", 9000)}},
	}
	for i, c := range claimsIn {
		in := intake.ClaimInput{Claimant: intake.ClaimantInput{Name: c.name, Email: c.email, Phone: c.phone}, Consent: yes(), Items: c.items}
		res, err := svc.Submit(ctx, seed.Kakao2022, in, claims.Meta{Channel: c.channel, IP: "192.0.2.1"})
		if err != nil {
			t.Fatalf("claim %d: %v", i, err)
		}
		// Fixed references and times, so golden files do not change between runs.
		at := time.Date(2022, 10, 20+i, 3, 4, 5, 0, time.UTC)
		if err := st.Gorm().Exec("UPDATE claims SET reference = ?, status = ?, submitted_at = ?, consent_at = ?, consent_version = ? WHERE id = ?",
			fmt.Sprintf("CD-TEST-%04d", i+1), c.status, at, at, "2022-10-v1", res.Claim.ID).Error; err != nil {
			t.Fatal(err)
		}
	}
	cs, err := st.Case(ctx, seed.Kakao2022)
	if err != nil {
		t.Fatal(err)
	}
	return &fixture{st: st, cs: cs, svc: svc}
}

func eachDB(t *testing.T, fn func(t *testing.T, fx *fixture)) {
	for _, d := range testdb.Dialects() {
		t.Run(d, func(t *testing.T) {
			t.Parallel()
			fn(t, newFixture(t, d))
		})
	}
}

func opts(format export.Format) export.Options {
	return export.Options{Format: format, BOM: true, Lang: messages.Ko, Now: testNow}
}

// golden compares got with testdata/name, or rewrites it with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if diff := cmp.Diff(string(want), string(got)); diff != "" {
		t.Errorf("%s differs from the golden file (-want +got; go test -update to accept):\n%s", name, diff)
	}
}

func TestItemsCSV(t *testing.T) {
	eachDB(t, func(t *testing.T, fx *fixture) {
		ctx := context.Background()
		var buf bytes.Buffer
		res, err := export.Items(ctx, fx.st, fx.cs, store.ExportFilter{ClaimFilter: store.ClaimFilter{CaseID: fx.cs.ID}}, &buf, opts(export.CSV))
		if err != nil {
			t.Fatal(err)
		}
		if res.Rows != 10 {
			t.Errorf("rows = %d, want 10", res.Rows)
		}
		golden(t, "claims.csv", buf.Bytes())

		// Filters of the claims list: status selects claims, service and eligibility items.
		buf.Reset()
		res, err = export.Items(ctx, fx.st, fx.cs, store.ExportFilter{ClaimFilter: store.ClaimFilter{CaseID: fx.cs.ID, Service: "kakao_pay", Eligibility: "ineligible"}}, &buf, opts(export.CSV))
		if err != nil {
			t.Fatal(err)
		}
		if res.Rows != 1 || !bytes.Contains(buf.Bytes(), []byte("CD-TEST-0001,received,web")) {
			t.Errorf("kakao_pay ineligible: %d rows:\n%s", res.Rows, buf.Bytes())
		}

		// Without BOM, redacted.
		buf.Reset()
		o := opts(export.CSV)
		o.BOM, o.Redact = false, true
		if _, err := export.Items(ctx, fx.st, fx.cs, store.ExportFilter{ClaimFilter: store.ClaimFilter{CaseID: fx.cs.ID, Statuses: []string{"received"}}}, &buf, o); err != nil {
			t.Fatal(err)
		}
		golden(t, "claims-redacted.csv", buf.Bytes())
	})
}

func TestItemsNDJSON(t *testing.T) {
	eachDB(t, func(t *testing.T, fx *fixture) {
		var buf bytes.Buffer
		if _, err := export.Items(context.Background(), fx.st, fx.cs, store.ExportFilter{ClaimFilter: store.ClaimFilter{CaseID: fx.cs.ID}}, &buf, opts(export.NDJSON)); err != nil {
			t.Fatal(err)
		}
		golden(t, "claims.ndjson", buf.Bytes())
	})
}

func TestPlaintiffsCSV(t *testing.T) {
	eachDB(t, func(t *testing.T, fx *fixture) {
		var buf bytes.Buffer
		res, err := export.Plaintiffs(context.Background(), fx.st, fx.cs, store.ExportFilter{ClaimFilter: store.ClaimFilter{CaseID: fx.cs.ID}}, &buf, opts(export.CSV))
		if err != nil {
			t.Fatal(err)
		}
		// 홍길동 x2 (same phone) and 남궁민수 x2 (same email, any case) merge; withdrawn and
		// duplicate claims are left out: 7 eligible claims, 5 claimants.
		if res.Rows != 5 {
			t.Errorf("plaintiffs = %d, want 5", res.Rows)
		}
		golden(t, "plaintiffs.csv", buf.Bytes())
	})
}
