package importer_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/claimdesk/claimdesk/internal/importer"
	"github.com/claimdesk/claimdesk/internal/store"
)

// tooManyRowsCSV is one claim of 130 rows (the limit is 50 items), some of them with cells
// that cannot be read, before the limit, past it and in the last, short, group of rows; then
// a claim that is fine.
func tooManyRowsCSV() string {
	var b strings.Builder
	b.WriteString(header)
	for i := range 130 {
		name, service, at, doc, amount, kind := "홍길동", "kakao_t", fmt.Sprintf("2022-10-15 18:%02d", i%60), "y", "12000", "taxi_booking"
		switch i {
		case 10:
			amount = "abc"
		case 60:
			service = "nope"
		case 75:
			name = "김철수"
		case 90:
			doc, at = "maybe", "yesterday"
		case 129:
			kind, amount = "rocket", "-"
		}
		row := fmt.Sprintf("P-1,%s,hong@example.com,010-1234-5678,%s,%s,taxi,%s,,booking_failed,,%s,31000,,,%s,\n", name, kind, service, at, amount, doc)
		if i == 101 {
			row = "P-1,홍길동,hong@example.com\n"
		}
		b.WriteString(row)
	}
	b.WriteString("P-2,김영희,,010-2222-3333,message,kakaotalk,,2022-10-15 16:00,2022-10-15 20:00,,business,,,,400000,false,\n")
	return b.String()
}

// TestImportTooManyRows: a claim over the item limit is rejected with every one of its rows,
// each at its own line, with what was wrong in its cells or as rejected with the claim, and
// the claim after it is imported. (The report is the one made when every row of the claim was
// held at once; TestTooManyRowsMemory checks they no longer are.)
func TestImportTooManyRows(t *testing.T) {
	want := map[int64]string{
		2:   `claim_ref|too_many||{"max":"50"}`,
		12:  `expected_fare_krw|invalid_format||{"type":"int"}`,
		77:  `claimant_name|invalid_value|import_claimant_differs|{"line":"2"}`,
		92:  `documented|invalid_format||{"hint":"hint_documented"}`,
		103: `|invalid_format|import_field_count|{"got":"3","want":"17"}`,
		131: `expected_fare_krw|invalid_format||{"type":"int"}`,
	}
	var report []string
	for line := int64(2); line <= 131; line++ {
		r, ok := want[line]
		if !ok {
			r = `||import_rejected_with_claim|{"line":"2"}`
		}
		report = append(report, fmt.Sprintf("%d|%s", line, r))
	}
	eachDB(t, func(t *testing.T, f *fixture) {
		imp := f.run(t, importer.FormatCSV, tooManyRowsCSV(), nil)
		if imp.Status != store.ImportSucceeded || imp.RowsRead != 131 || imp.ClaimsCreated != 1 || imp.ClaimsRejected != 1 || imp.RowsRejected != 130 {
			t.Errorf("import %+v", imp)
		}
		var got []string
		for _, e := range f.errors(t, imp.ID) {
			got = append(got, fmt.Sprintf("%d|%s|%s|%s|%s", e.ErrorRow, e.ErrorColumn, e.ErrorCode, e.MessageKey, e.Params))
		}
		if d := cmp.Diff(report, got); d != "" {
			t.Errorf("report (-want +got):\n%s", d)
		}
	})
}

// TestImportSkipsEmptyRows: rows of empty cells, which spreadsheets leave behind, are not
// claims (they used to be rejected for a missing claim_ref and count against
// max_error_rate), and the rows after them keep their lines.
func TestImportSkipsEmptyRows(t *testing.T) {
	lines := strings.SplitAfter(goodCSV, "\n")
	empty := strings.Repeat(",", 16) + "\n"
	body := lines[0] + lines[1] + empty + lines[2] + lines[3] + " , ,,\t\n" + lines[4] +
		"C-1,유나,,,other,daum,mail,2022-10-15 17:00,,,,,,,,n,\n" + // line 8: no contact
		empty + empty + ",\n"
	eachDB(t, func(t *testing.T, f *fixture) {
		rate := 0.2
		imp := f.run(t, importer.FormatCSV, body, func(n *importer.NewImport) { n.MaxErrorRate = &rate })
		if imp.Status != store.ImportSucceeded || imp.RowsRead != 5 || imp.ClaimsCreated != 3 || imp.RowsRejected != 1 {
			t.Fatalf("import %+v", imp)
		}
		errs := f.errors(t, imp.ID)
		if len(errs) != 1 || errs[0].ErrorRow != 8 || errs[0].ErrorColumn != "email" {
			t.Errorf("report %+v", errs)
		}
	})
}
