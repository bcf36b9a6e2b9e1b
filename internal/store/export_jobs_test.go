package store_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/claimdesk/claimdesk/internal/store"
	"github.com/claimdesk/claimdesk/internal/testdb"
	"github.com/claimdesk/claimdesk/internal/testdb/casedb"
	"github.com/claimdesk/claimdesk/models"
)

// TestExportRunTakenOver: two runs of one background export interleaved, as when a worker
// presumed dead is still writing after another claimed its job. The first run's chunks and
// its finish are refused once the second has started, and the file is the second's alone.
func TestExportRunTakenOver(t *testing.T) {
	for _, d := range testdb.Dialects() {
		t.Run(d, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			st := casedb.Migrated(t, d)
			cs := seededCase(t, st)
			now := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
			e := &models.Export{CaseID: cs.ID, CreatedBy: "lawyer", Entity: "claims", Format: "csv", CreatedAt: now, ExpiresAt: now.Add(24 * time.Hour)}
			if err := st.CreateExport(ctx, e); err != nil {
				t.Fatal(err)
			}
			stale, err := st.StartExport(ctx, e.ID, now)
			if err != nil {
				t.Fatal(err)
			}
			if err := stale.AddChunk(ctx, 0, []byte("stale 0\n")); err != nil {
				t.Fatal(err)
			}
			// The second run starts on the same clock reading: it still gets a run of its own.
			live, err := st.StartExport(ctx, e.ID, now)
			if err != nil {
				t.Fatal(err)
			}
			if err := stale.AddChunk(ctx, 1, []byte("stale 1\n")); !errors.Is(err, store.ErrExportTakenOver) {
				t.Errorf("chunk of the stale run: %v", err)
			}
			if err := stale.Progress(ctx, 7); !errors.Is(err, store.ErrExportTakenOver) {
				t.Errorf("progress of the stale run: %v", err)
			}
			for i, c := range []string{"live 0\n", "live 1\n"} {
				if err := live.AddChunk(ctx, i, []byte(c)); err != nil {
					t.Fatal(err)
				}
			}
			if err := stale.Finish(ctx, 1, 16, now); !errors.Is(err, store.ErrExportTakenOver) {
				t.Errorf("finish of the stale run: %v", err)
			}
			if got, _ := st.Export(ctx, e.ID); got.Status != store.ExportRunning {
				t.Fatalf("export %s after the stale run's finish", got.Status)
			}
			if err := live.Finish(ctx, 2, 14, now); err != nil {
				t.Fatal(err)
			}
			var file string
			if err := st.StreamExportChunks(ctx, e.ID, func(b []byte) error { file += string(b); return nil }); err != nil {
				t.Fatal(err)
			}
			got, _ := st.Export(ctx, e.ID)
			if file != "live 0\nlive 1\n" || got.Status != store.ExportSucceeded || got.RowsDone != 2 || got.SizeBytes != 14 {
				t.Errorf("file %q, export %+v", file, got)
			}
			// A finished export is not started again, nor failed by a queue giving up late.
			if _, err := st.StartExport(ctx, e.ID, now); !errors.Is(err, store.ErrExportTakenOver) {
				t.Errorf("start of a finished export: %v", err)
			}
			if err := st.FailExport(ctx, e.ID, now, errors.New("gave up")); err != nil {
				t.Fatal(err)
			}
			if got, _ := st.Export(ctx, e.ID); got.Status != store.ExportSucceeded {
				t.Errorf("a failure replaced the success: %+v", got)
			}
		})
	}
}
