package importer_test

import (
	"context"
	"encoding/json"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/claimdesk/claimdesk/internal/apperr"
	"github.com/claimdesk/claimdesk/internal/claims"
	"github.com/claimdesk/claimdesk/internal/importer"
	"github.com/claimdesk/claimdesk/internal/store"
	"github.com/claimdesk/claimdesk/internal/testdb"
	"github.com/claimdesk/claimdesk/internal/testdb/casedb"
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
	st, cs := casedb.Open(t, dialect)
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
	imp, err := f.im.Receive(ctx, n, strings.NewReader(body), importer.DefaultMaxBytes)
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
		// Stored pending review with the import, taken off by its one detection pass.
		if pending, err := f.st.PendingReviews(context.Background(), time.Time{}, 10); err != nil || len(pending) != 0 {
			t.Errorf("claims still pending review after the import: %+v (%v)", pending, err)
		}
		// The same file again: everything unchanged.
		again := f.run(t, importer.FormatCSV, goodCSV, nil)
		if again.ClaimsCreated != 0 || again.ClaimsUnchanged != 3 {
			t.Fatalf("second run %+v", again)
		}
	})
}

func TestCancelRunning(t *testing.T) {
	eachDB(t, func(t *testing.T, f *fixture) {
		ctx := context.Background()
		var buf strings.Builder
		if _, err := importer.Generate(&buf, importer.GenOptions{Rows: 5000, Seed: 3}); err != nil {
			t.Fatal(err)
		}
		f.im.Live = importer.NewLive()
		f.im.BatchSize = 50
		imp, err := f.im.Receive(ctx, importer.NewImport{CaseID: f.caseID, Format: importer.FormatCSV}, strings.NewReader(buf.String()), importer.DefaultMaxBytes)
		if err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() { done <- f.im.Run(ctx, imp.ID) }()
		for f.im.Live.Get(imp.ID) == nil || f.im.Live.Get(imp.ID).Rows.Load() == 0 {
			select {
			case err := <-done:
				t.Fatalf("import ended before it could be cancelled: %v", err)
			default:
				time.Sleep(time.Millisecond)
			}
		}
		if !f.im.Live.Cancel(imp.ID) {
			t.Fatal("not running here")
		}
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		got, _ := f.st.Import(ctx, imp.ID)
		var n int64
		f.st.Gorm().Model(&models.Claim{}).Count(&n)
		if got.Status != store.ImportCancelled || got.FinishedAt == nil || n != 0 {
			t.Fatalf("after cancel: %+v, %d claims", got, n)
		}
		// Run again (a job retried after the cancel): nothing happens.
		if err := f.im.Run(ctx, imp.ID); err != nil {
			t.Fatal(err)
		}
	})
}

// TestCancelFromElsewhere: a cancel request that does not reach the worker's process (another
// instance answered DELETE /imports/{id}, and no heartbeat comes before the end) still stops
// the import before it stores anything, once it said it would (cancel_requested); else it is
// refused because the import has finished. The import used to commit its claims regardless
// when the request came after its heartbeat's last look. On SQLite the request waits for the
// import's transaction, which holds the write lock, and is refused after it.
func TestCancelFromElsewhere(t *testing.T) {
	eachDB(t, func(t *testing.T, f *fixture) {
		ctx := context.Background()
		var buf strings.Builder
		if _, err := importer.Generate(&buf, importer.GenOptions{Rows: 2000, Seed: 7, InvalidShare: -1}); err != nil {
			t.Fatal(err)
		}
		f.im.Live = importer.NewLive()
		f.im.BatchSize = 100
		f.im.Heartbeat = time.Hour
		for range 5 {
			imp, err := f.im.Receive(ctx, importer.NewImport{CaseID: f.caseID, Format: importer.FormatCSV}, strings.NewReader(buf.String()), importer.DefaultMaxBytes)
			if err != nil {
				t.Fatal(err)
			}
			done := make(chan error, 1)
			go func() { done <- f.im.Run(ctx, imp.ID) }()
			// Once it reads rows, it has looked for a request when it started.
			for p := f.im.Live.Get(imp.ID); p == nil || p.Rows.Load() == 0; p = f.im.Live.Get(imp.ID) {
				time.Sleep(time.Millisecond)
			}
			answer, cancelErr := f.st.CancelImport(ctx, imp.ID, time.Now())
			if err := <-done; err != nil {
				t.Fatal(err)
			}
			got, err := f.st.Import(ctx, imp.ID)
			if err != nil {
				t.Fatal(err)
			}
			var n int64
			f.st.Gorm().Model(&models.Claim{}).Where("import_id = ?", imp.ID).Count(&n)
			switch {
			case cancelErr == nil && answer.CancelRequested:
				if got.Status != store.ImportCancelled || n != 0 {
					t.Errorf("import %d asked to stop (%s) ended %s with %d claims stored", imp.ID, answer.Status, got.Status, n)
				}
			case apperr.Is(cancelErr, apperr.Conflict):
				if got.Status != store.ImportSucceeded || n != got.ClaimsCreated {
					t.Errorf("import %d: cancel refused as finished; it ended %s with %d claims stored", imp.ID, got.Status, n)
				}
			default:
				t.Fatalf("cancel: %+v %v", answer, cancelErr)
			}
		}
	})
}

func TestGeneratedFile(t *testing.T) {
	eachDB(t, func(t *testing.T, f *fixture) {
		var buf strings.Builder
		st, err := importer.Generate(&buf, importer.GenOptions{Rows: 600, Seed: 5, InvalidShare: 0.1})
		if err != nil {
			t.Fatal(err)
		}
		if st.Rows != 600 || st.InvalidClaims == 0 || strings.Count(buf.String(), "\n") < 601 {
			t.Fatalf("gen: %+v", st)
		}
		f.im.BatchSize = 500
		imp := f.run(t, importer.FormatCSV, buf.String(), nil)
		if imp.Status != store.ImportSucceeded || imp.RowsRead != 600 || imp.ClaimsRejected != int64(st.InvalidClaims) ||
			imp.ClaimsCreated != int64(st.Claims-st.InvalidClaims) {
			t.Fatalf("import of a generated file: %+v, generated %+v", imp, st)
		}
		if errs := f.errors(t, imp.ID); int64(len(errs)) < imp.RowsRejected {
			t.Errorf("%d error records for %d rejected rows", len(errs), imp.RowsRejected)
		}
	})
}

// TestImportOverErrorRateCreatesNothing: a file over its max_error_rate has its claims rolled
// back, so neither the import nor its audit record may say any were created.
func TestImportOverErrorRateCreatesNothing(t *testing.T) {
	eachDB(t, func(t *testing.T, f *fixture) {
		bad := goodCSV + "C-1,유나,,,other,daum,mail,2022-10-15 17:00,,,,,,,,n,\n" // no contact
		rate := 0.1
		imp := f.run(t, importer.FormatCSV, bad, func(n *importer.NewImport) { n.MaxErrorRate = &rate })
		if imp.Status != store.ImportFailed || imp.Reason != "max_error_rate_exceeded" {
			t.Fatalf("import %+v", imp)
		}
		if imp.ClaimsCreated != 0 || imp.ClaimsUnchanged != 0 || imp.ClaimsRejected != 1 || imp.RowsRejected != 1 {
			t.Errorf("figures of a rolled back import: created %d, unchanged %d, rejected %d claims (%d rows)",
				imp.ClaimsCreated, imp.ClaimsUnchanged, imp.ClaimsRejected, imp.RowsRejected)
		}
		var n int64
		f.st.Gorm().Model(&models.Claim{}).Count(&n)
		if n != 0 {
			t.Fatalf("%d claims stored", n)
		}
		evs, err := f.st.AuditEvents(context.Background(), "", 10)
		if err != nil {
			t.Fatal(err)
		}
		want := "import:" + strconv.FormatInt(imp.ID, 10)
		var after map[string]any
		for _, e := range evs {
			if e.EntityID == want && e.After != nil {
				if err := json.Unmarshal([]byte(*e.After), &after); err != nil {
					t.Fatal(err)
				}
			}
		}
		if after == nil || after["status"] != store.ImportFailed || after["created"] != 0.0 || after["unchanged"] != 0.0 || after["rejected"] != 1.0 {
			t.Errorf("audit record of the import: %v (events %d)", after, len(evs))
		}
	})
}
