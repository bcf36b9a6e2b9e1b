package importer

import (
	"io"
	"runtime"
	"strings"
	"testing"

	"github.com/claimdesk/claimdesk/internal/intake"
)

// TestTooManyRowsMemory: rows past the item limit of a claim are not held. A file of 100,000
// rows of one claim_ref (a partner's batch id on every row) used to be read whole into the
// first group (49 MiB more heap); it now comes as groups of at most
// MaxItems+1 rows, each reporting its rows at their own lines.
func TestTooManyRowsMemory(t *testing.T) {
	const rows = 100_000
	row := "B-1,홍길동,hong@example.com,010-1234-5678,taxi_booking,kakao_t,taxi,2022-10-15 18:30,,booking_failed,,12000,31000,,,y,\n"
	var b strings.Builder
	b.WriteString("claim_ref,claimant_name,email,phone,kind,service,feature,occurred_at,ended_at,failure,purpose,expected_fare_krw,alternative_cost_krw,amount_krw,loss_krw,documented,description\n")
	for range rows {
		b.WriteString(row)
	}
	b.WriteString(strings.Replace(row, "B-1", "B-2", 1))
	file := b.String()

	src := newCSVSource(strings.NewReader(file))
	heap := func() uint64 {
		runtime.GC()
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		return m.HeapAlloc
	}
	before := heap()
	g, err := src.next()
	if err != nil {
		t.Fatal(err)
	}
	grew := int64(heap()) - int64(before)
	runtime.KeepAlive(g)
	if grew > 4<<20 {
		t.Errorf("heap grew by %d MiB reading the first group of %d rows of one claim_ref", grew>>20, rows)
	}
	if g.ref != "B-1" || g.claimFirst != nil || len(g.rows) != intake.MaxItems+1 {
		t.Fatalf("first group %q of %d rows", g.ref, len(g.rows))
	}

	// The rest of the claim follows, every row once at its line, each group continuing it.
	line, n := g.rows[len(g.rows)-1].line, len(g.rows)
	for {
		g, err := src.next()
		if err != nil {
			t.Fatal(err)
		}
		if g.ref != "B-1" {
			if g.ref != "B-2" || g.claimFirst != nil || g.rows[0].line != line+1 {
				t.Fatalf("group after the claim: %q at line %d", g.ref, g.rows[0].line)
			}
			break
		}
		if g.claimFirst == nil || g.claimFirst.line != 2 || len(g.rows) > intake.MaxItems+1 || len(g.problems) != 0 {
			t.Fatalf("further rows of the claim: %d rows, first %+v, problems %+v", len(g.rows), g.claimFirst, g.problems)
		}
		for _, r := range g.rows {
			if r.line != line+1 {
				t.Fatalf("line %d after %d", r.line, line)
			}
			line = r.line
		}
		n += len(g.rows)
	}
	if n != rows {
		t.Errorf("%d rows of the claim read, want %d", n, rows)
	}
	if _, err := src.next(); err != io.EOF {
		t.Errorf("after the last group: %v", err)
	}
}
