package importer_test

import (
	"bytes"
	"context"
	"testing"

	"github.com/claimdesk/claimdesk/internal/importer"
)

func BenchmarkProfileRun(b *testing.B) {
	for _, d := range []string{"postgres"} {
		f := newFixture(&testing.T{}, d)
		_ = f
		var buf bytes.Buffer
		importer.Generate(&buf, importer.GenOptions{Rows: 100000, InvalidShare: -1, Seed: 1})
		f.im.BatchSize = 2000
		ctx := context.Background()
		imp, err := f.im.Receive(ctx, importer.NewImport{CaseID: f.caseID, Format: "csv"}, &buf, 1<<30, false)
		if err != nil {
			b.Fatal(err)
		}
		b.ResetTimer()
		if err := f.im.Run(ctx, imp.ID); err != nil {
			b.Fatal(err)
		}
	}
}
