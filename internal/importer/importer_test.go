package importer_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/claimdesk/claimdesk/internal/claims"
	"github.com/claimdesk/claimdesk/internal/importer"
	"github.com/claimdesk/claimdesk/internal/seed"
	"github.com/claimdesk/claimdesk/internal/store"
	"github.com/claimdesk/claimdesk/internal/testdb"
	"github.com/claimdesk/claimdesk/models"
)

func TestMain(m *testing.M) { testdb.Main(m) }

var testNow = time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)

type fixture struct {
	st     *store.Store
	im     *importer.Importer
	caseID int64
}

func newFixture(t *testing.T, dialect string) *fixture {
	t.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, testdb.URL(t, dialect))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if err := st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := seed.Ensure(ctx, st, seed.Kakao2022); err != nil {
		t.Fatal(err)
	}
	cs, err := st.Case(ctx, seed.Kakao2022)
	if err != nil {
		t.Fatal(err)
	}
	svc := &claims.Service{Store: st, Now: func() time.Time { return testNow }}
	return &fixture{st: st, im: &importer.Importer{Store: st, Claims: svc, BatchSize: 3}, caseID: cs.ID}
}

// run imports body and returns the finished import.
func (f *fixture) run(t *testing.T, format, body string, mod func(*importer.NewImport)) *models.Import {
	t.Helper()
	ctx := context.Background()
	n := importer.NewImport{CaseID: f.caseID, Format: format, CreatedBy: "test"}
	if mod != nil {
		mod(&n)
	}
	imp, err := f.im.Receive(ctx, n, strings.NewReader(body), importer.DefaultMaxBytes, false)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.im.Run(ctx, imp.ID); err != nil {
		t.Fatal(err)
	}
	out, err := f.st.Import(ctx, imp.ID)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func (f *fixture) errors(t *testing.T, id int64) []models.ImportError {
	t.Helper()
	var out []models.ImportError
	err := f.st.EachImportError(context.Background(), id, func(e *models.ImportError) error { out = append(out, *e); return nil })
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func eachDB(t *testing.T, fn func(t *testing.T, f *fixture)) {
	for _, d := range testdb.Dialects() {
		t.Run(d, func(t *testing.T) {
			t.Parallel()
			fn(t, newFixture(t, d))
		})
	}
}

const header = "claim_ref,claimant_name,email,phone,kind,service,feature,occurred_at,ended_at,failure,purpose,expected_fare_krw,alternative_cost_krw,amount_krw,loss_krw,documented,description\n"

const goodCSV = header +
	"A-1,홍길동,hong@example.com,010-1234-5678,taxi_booking,kakao_t,taxi,2022-10-15 18:30,,booking_failed,,12000,31000,,,y,\n" +
	"A-1,홍길동,hong@example.com,010-1234-5678,payment,kakao_pay,,2022-10-15 19:00,,double_charged,,,,50000,,1,\n" +
	"A-2,김영희,,010-2222-3333,message,kakaotalk,,2022-10-15 16:00,2022-10-15 20:00,,business,,,,400000,false,\"거래처 연락 불가, \"\"긴급\"\"\"\n" +
	"A-3,이철수,lee@example.com,,other,daum,mail,2022-10-17 09:00,,,,,,,10000,n,메일 수신 불가\n"

func TestImportCSV(t *testing.T) {
	eachDB(t, func(t *testing.T, f *fixture) {
		imp := f.run(t, importer.FormatCSV, "\ufeff"+strings.ReplaceAll(goodCSV, "\n", "\r\n"), nil)
		if imp.Status != store.ImportSucceeded || imp.RowsRead != 4 || imp.ClaimsCreated != 3 || imp.RowsRejected != 0 {
			t.Fatalf("import %+v, errors %+v", imp, f.errors(t, imp.ID))
		}
		var n int64
		f.st.Gorm().Model(&models.ClaimItem{}).Count(&n)
		if n != 4 {
			t.Fatalf("%d items stored, want 4", n)
		}
		// The same file again: everything unchanged.
		again := f.run(t, importer.FormatCSV, goodCSV, nil)
		if again.ClaimsCreated != 0 || again.ClaimsUnchanged != 3 {
			t.Fatalf("second run %+v", again)
		}
	})
}
