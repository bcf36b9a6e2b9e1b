package importer_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/claimdesk/claimdesk/internal/apperr"
	"github.com/claimdesk/claimdesk/internal/audit"
	"github.com/claimdesk/claimdesk/internal/claims"
	"github.com/claimdesk/claimdesk/internal/importer"
	"github.com/claimdesk/claimdesk/internal/seed"
	"github.com/claimdesk/claimdesk/internal/store"
	"github.com/claimdesk/claimdesk/models"
)

// taxiRow is a taxi booking at 14:30 on 2022-10-16: after the shipped taxi window (it ends at
// 14:00), inside it once the window is extended to 15:00. With locale, it has the locale
// column (as files of `claimdesk gen` do).
func taxiRow(ref string, locale bool) string {
	loc := ""
	if locale {
		loc = "ko,"
	}
	return ref + ",홍길동,hong@example.com,010-1234-5678," + loc + "taxi_booking,kakao_t,taxi,2022-10-16 14:30,,booking_failed,,12000,31000,,,y,\n"
}

// setTaxiEnd replaces the case's windows through svc, with the taxi window ending at end.
func setTaxiEnd(t *testing.T, st *store.Store, svc *claims.Service, end string) {
	t.Helper()
	ctx := context.Background()
	c, err := st.Case(ctx, seed.Kakao2022)
	if err != nil {
		t.Fatal(err)
	}
	in := claims.WindowInputs(c.Windows, c.Location)
	for i := range in {
		if in[i].Service == "kakao_t" && in[i].Feature == "taxi" {
			in[i].End = end
		}
	}
	// A change that would wait too long for a running import is refused with 503 (case_busy
	// on PostgreSQL after store.CaseLockWait, the busy timeout on SQLite) and sent again, as a
	// client would: whichever comes first, no claim may stay decided under the old windows.
	deadline := time.Now().Add(time.Minute)
	for {
		_, _, err := svc.ReplaceWindows(ctx, seed.Kakao2022, in, audit.Actor{Kind: audit.ActorSystem, Name: "test"})
		if err == nil {
			return
		}
		if !apperr.Is(err, apperr.Unavailable) || time.Now().After(deadline) {
			t.Fatal(err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// taxiItem returns the stored item of claim ref and the id of the case's taxi window now.
func taxiItem(t *testing.T, st *store.Store, ref string) (models.ClaimItem, int64) {
	t.Helper()
	var it models.ClaimItem
	if err := st.Gorm().Joins("JOIN claims ON claims.id = claim_items.claim_id").Where("claims.external_ref = ?", ref).Take(&it).Error; err != nil {
		t.Fatalf("item of %s: %v", ref, err)
	}
	var w models.OutageWindow
	if err := st.Gorm().Where("service = ? AND feature = ?", "kakao_t", "taxi").Take(&w).Error; err != nil {
		t.Fatal(err)
	}
	return it, w.ID
}

// TestImportFollowsWindowChange: an import stores its claims as decided under the windows
// current when it commits, never under older ones.
func TestImportFollowsWindowChange(t *testing.T) {
	eachDB(t, func(t *testing.T, f *fixture) {
		ctx := context.Background()
		svc := f.im.Claims
		// This process's snapshot of the case; the test clock is fixed, so it does not expire
		// by itself.
		stale, err := svc.Builder(ctx, seed.Kakao2022)
		if err != nil {
			t.Fatal(err)
		}
		// Another instance extends the taxi window to 15:00 (this process is not told).
		other := &claims.Service{Store: f.st, Now: func() time.Time { return testNow }}
		setTaxiEnd(t, f.st, other, "2022-10-16T15:00:00+09:00")
		if b, err := svc.Builder(ctx, seed.Kakao2022); err != nil || b.Case.Revision != stale.Case.Revision {
			t.Fatalf("the snapshot was refreshed by itself (%v): the test would prove nothing", err)
		}

		imp := f.run(t, importer.FormatCSV, header+taxiRow("T-1", false), nil)
		if imp.Status != store.ImportSucceeded || imp.ClaimsCreated != 1 {
			t.Fatalf("import %+v, errors %+v", imp, f.errors(t, imp.ID))
		}
		it, win := taxiItem(t, f.st, "T-1")
		if it.Eligibility != "eligible" || it.WindowID == nil || *it.WindowID != win || it.PrincipalKRW == nil {
			t.Fatalf("imported under the old windows: %s %s window %v principal %v, want eligible under window %d",
				it.Eligibility, it.EligibilityCode, it.WindowID, it.PrincipalKRW, win)
		}

		// A change of the windows while an import runs waits for it (on PostgreSQL for the case
		// lock, on SQLite for the write lock), then re-decides what it stored; or, when the
		// import outlasts the wait, is refused and sent again after it.
		var buf strings.Builder
		if _, err := importer.Generate(&buf, importer.GenOptions{Rows: 1000, Seed: 7, InvalidShare: -1}); err != nil {
			t.Fatal(err)
		}
		buf.WriteString(taxiRow("T-2", true))
		f.im.Live = importer.NewLive()
		f.im.BatchSize = 20
		run, err := f.im.Receive(ctx, importer.NewImport{CaseID: f.caseID, Format: importer.FormatCSV}, strings.NewReader(buf.String()), importer.DefaultMaxBytes)
		if err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() { done <- f.im.Run(ctx, run.ID) }()
		for p := f.im.Live.Get(run.ID); p == nil || p.Rows.Load() == 0; p = f.im.Live.Get(run.ID) {
			select {
			case err := <-done:
				t.Fatalf("import ended before the change could be made: %v", err)
			default:
				time.Sleep(time.Millisecond)
			}
		}
		issued := time.Now().UTC()
		setTaxiEnd(t, f.st, other, "2022-10-16T14:00:00+09:00") // back to the shipped window
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		got, err := f.st.Import(ctx, run.ID)
		if err != nil || got.Status != store.ImportSucceeded || got.FinishedAt == nil || got.FinishedAt.Before(issued) {
			t.Fatalf("import %+v (%v): it should have been running when the change was made", got, err)
		}
		it, win = taxiItem(t, f.st, "T-2")
		if it.Eligibility != "ineligible" || it.WindowID != nil || it.PrincipalKRW == nil || *it.PrincipalKRW != 0 {
			t.Errorf("after the change: %s %s window %v principal %v, want ineligible (taxi window %d ends at 14:00)",
				it.Eligibility, it.EligibilityCode, it.WindowID, it.PrincipalKRW, win)
		}
	})
}
