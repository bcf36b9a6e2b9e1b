package importer

import (
	"errors"
	"io"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/claimdesk/claimdesk/internal/apperr"
	"github.com/claimdesk/claimdesk/internal/intake"
	"github.com/claimdesk/claimdesk/internal/messages"
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

// TestAmountBeyondInt64: an amount too large for int64 in a CSV cell or an NDJSON line is out of
// the range intake declares for the field, in the words intake uses for one just over the limit
// (the CSV reader wrote its own bounds; they now come from intake's one declaration, which
// the validator and the JSON decoder read too).
func TestAmountBeyondInt64(t *testing.T) {
	const header = "claim_ref,claimant_name,email,kind,service,feature,occurred_at,failure,purpose,expected_fare_krw,alternative_cost_krw,amount_krw,loss_krw\n"
	amountCols := []string{"expected_fare_krw", "alternative_cost_krw", "amount_krw", "loss_krw"}
	// csvRow is a taxi booking with text in the amount column col, the other amounts empty.
	csvRow := func(col, text string) string {
		amounts := make([]string, len(amountCols))
		amounts[slices.Index(amountCols, col)] = text
		return "A-1,홍길동,h@example.com,taxi_booking,kakao_t,taxi,2022-10-15 18:30,no_driver,," + strings.Join(amounts, ",") + "\n"
	}
	messagesOf := func(fe apperr.FieldError) [2]string {
		return [2]string{messages.Field(messages.Ko, fe), messages.Field(messages.En, fe)}
	}
	for _, col := range amountCols {
		// Just over the limit: the validator's words.
		g, err := newCSVSource(strings.NewReader(header + csvRow(col, strconv.Itoa(intake.MaxAmountKRW+1)))).next()
		if err != nil {
			t.Fatal(err)
		}
		_, verr := intake.Normalize(g.in, fuzzCase, fuzzNow)
		var ve *apperr.Error
		var want [2]string
		if errors.As(verr, &ve) {
			for _, f := range ve.Fields {
				if f.Path == "items[0]."+col && f.Code == apperr.FieldOutOfRange {
					want = messagesOf(f)
				}
			}
		}
		if want != [2]string{"0에서 1000000000 사이여야 합니다.", "Must be between 0 and 1000000000."} {
			t.Errorf("%s just over the limit: %q (%v)", col, want, verr)
		}
		for _, text := range []string{"99999999999999999999", "9223372036854775808", "-99999999999999999999"} {
			g, err := newCSVSource(strings.NewReader(header + csvRow(col, text))).next()
			if err != nil {
				t.Fatal(err)
			}
			var got [2]string
			for _, p := range g.problems {
				if p.column == col && p.fe.Code == apperr.FieldOutOfRange {
					got = messagesOf(p.fe)
				}
			}
			if got != want {
				t.Errorf("CSV %s = %s: %q, want %q (%+v)", col, text, got, want, g.problems)
			}
			line := `{"external_ref":"N-1","claimant":{"name":"홍길동","email":"h@example.com"},"items":[{"kind":"taxi_booking","service":"kakao_t","feature":"taxi","occurred_at":"2022-10-15 18:30","failure":"no_driver","` + col + `":` + text + `}]}`
			g = decodeNDJSON([]byte(line), 1)
			got = [2]string{}
			for _, p := range g.problems {
				if p.column == "items[0]."+col && p.fe.Code == apperr.FieldOutOfRange {
					got = messagesOf(p.fe)
				}
			}
			if got != want {
				t.Errorf("NDJSON %s = %s: %q, want %q (%+v)", col, text, got, want, g.problems)
			}
		}
	}
}
