package export_test

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/claimdesk/claimdesk/internal/export"
	"github.com/claimdesk/claimdesk/internal/store"
	"github.com/claimdesk/claimdesk/models"
)

// TestExportJobTakenOver: a background export whose job another worker claimed while it still
// ran (it was presumed dead) must not finish the export: the other run has just started it
// over and its file is not written yet. The stale run ends quietly, leaving it to the other.
func TestExportJobTakenOver(t *testing.T) {
	eachDB(t, func(t *testing.T, fx *fixture) {
		ctx := context.Background()
		e := &models.Export{CaseID: fx.cs.ID, CreatedBy: "lawyer", Entity: "claims", Format: "csv", Params: `{"bom":false,"lang":"en"}`,
			CreatedAt: testNow, ExpiresAt: testNow.Add(24 * time.Hour)}
		if err := fx.st.CreateExport(ctx, e); err != nil {
			t.Fatal(err)
		}
		var live *store.ExportRun
		// The clock is read before the export starts and again when it is done, just before
		// it is marked finished: there the other worker starts its run.
		now := func() time.Time {
			if cur, _ := fx.st.Export(ctx, e.ID); live == nil && cur.Status == store.ExportRunning {
				var err error
				if live, err = fx.st.StartExport(ctx, e.ID, testNow); err != nil {
					t.Error(err)
				}
			}
			return testNow
		}
		stale := &export.Jobs{Store: fx.st, Now: now}
		if err := stale.Run(ctx, e.ID); err != nil {
			t.Fatalf("run taken over: %v", err)
		}
		if live == nil {
			t.Fatal("the export was not taken over")
		}
		got, _ := fx.st.Export(ctx, e.ID)
		var file bytes.Buffer
		fx.st.StreamExportChunks(ctx, e.ID, func(b []byte) error { file.Write(b); return nil })
		if got.Status != store.ExportRunning || file.Len() != 0 {
			t.Fatalf("after the stale run: export %s, %d bytes of file", got.Status, file.Len())
		}
		// The other run writes the file and finishes it.
		if err := live.AddChunk(ctx, 0, []byte("live\n")); err != nil {
			t.Fatal(err)
		}
		if err := live.Finish(ctx, 1, 5, testNow); err != nil {
			t.Fatal(err)
		}
		file.Reset()
		fx.st.StreamExportChunks(ctx, e.ID, func(b []byte) error { file.Write(b); return nil })
		if got, _ := fx.st.Export(ctx, e.ID); got.Status != store.ExportSucceeded || file.String() != "live\n" {
			t.Errorf("export %+v, file %q", got, file.String())
		}
	})
}
