package export_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"path/filepath"
	"testing"

	"github.com/xuri/excelize/v2"

	"github.com/claimdesk/claimdesk/internal/export"
	"github.com/claimdesk/claimdesk/internal/store"
	"github.com/claimdesk/claimdesk/internal/testdb"
	"github.com/claimdesk/claimdesk/internal/testdb/casedb"
	"github.com/claimdesk/claimdesk/internal/testdb/gen"
)

// cellFormat returns the number format of a cell: its built-in id, or its custom code.
func cellFormat(t *testing.T, f *excelize.File, sheet, cell string) (int, string) {
	t.Helper()
	id, err := f.GetCellStyle(sheet, cell)
	if err != nil {
		t.Fatal(err)
	}
	st, err := f.GetStyle(id)
	if err != nil {
		t.Fatal(err)
	}
	custom := ""
	if st.CustomNumFmt != nil {
		custom = *st.CustomNumFmt
	}
	return st.NumFmt, custom
}

func TestItemsXLSX(t *testing.T) {
	eachDB(t, func(t *testing.T, fx *fixture) {
		var buf bytes.Buffer
		o := opts(export.XLSX)
		o.MaxSheetRows = 5 // header + 4 rows a sheet: 10 items continue on three sheets
		o.Filters = map[string]string{"status": "any"}
		if _, err := export.Items(context.Background(), fx.st, fx.cs, store.ExportFilter{ClaimFilter: store.ClaimFilter{CaseID: fx.cs.ID}}, &buf, o); err != nil {
			t.Fatal(err)
		}
		f, err := excelize.OpenReader(&buf)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		if got, want := f.GetSheetList(), []string{"요약", "청구 항목", "청구 항목 (2)", "청구 항목 (3)"}; !equal(got, want) {
			t.Fatalf("sheets %q, want %q", got, want)
		}

		// Summary first.
		summary, err := f.GetRows("요약")
		if err != nil {
			t.Fatal(err)
		}
		if summary[0][0] != "사건" || summary[6][0] != "행 수" || summary[6][1] != "10" {
			t.Errorf("summary: %q", summary)
		}

		// Header styled and frozen on every data sheet.
		for _, sheet := range []string{"청구 항목", "청구 항목 (2)", "청구 항목 (3)"} {
			panes, err := f.GetPanes(sheet)
			if err != nil {
				t.Fatal(err)
			}
			if !panes.Freeze || panes.YSplit != 1 || panes.TopLeftCell != "A2" {
				t.Errorf("%s: panes %+v, want the header row frozen", sheet, panes)
			}
			if v, _ := f.GetCellValue(sheet, "A1"); v != "청구 번호" {
				t.Errorf("%s A1 = %q", sheet, v)
			}
			id, _ := f.GetCellStyle(sheet, "A1")
			st, _ := f.GetStyle(id)
			if st.Font == nil || !st.Font.Bold {
				t.Errorf("%s: header not bold", sheet)
			}
		}
		rows3, _ := f.GetRows("청구 항목 (3)")
		if len(rows3) != 3 { // header + items 9 and 10
			t.Errorf("third sheet has %d rows, want 3", len(rows3))
		}

		// Row 2 of the first sheet is CD-TEST-0001's taxi item. Check types and formats cell
		// by cell: text, numbers as numbers (#,##0 for won), times and dates as dates.
		const sheet = "청구 항목"
		for _, tc := range []struct {
			cell   string
			typ    excelize.CellType
			raw    string
			numFmt int
			custom string
		}{
			{"A2", excelize.CellTypeInlineString, "CD-TEST-0001", 0, ""},
			{"E2", excelize.CellTypeInlineString, "홍길동", 0, ""},
			{"G2", excelize.CellTypeInlineString, "+82 10-1234-5678", 0, ""},               // typed text: no formula quote in XLSX
			{"D2", excelize.CellTypeUnset, "44854.50283564815", 0, "yyyy-mm-dd hh:mm:ss"},  // 2022-10-20 12:04:05 KST
			{"L2", excelize.CellTypeUnset, "44849.770833333336", 0, "yyyy-mm-dd hh:mm:ss"}, // 2022-10-15 18:30 KST
			{"P2", excelize.CellTypeUnset, "12000", 3, ""},
			{"Q2", excelize.CellTypeUnset, "31000", 3, ""},
			{"Y2", excelize.CellTypeUnset, "19000", 3, ""},
			{"Z2", excelize.CellTypeUnset, "1778", 3, ""},
			{"AA2", excelize.CellTypeUnset, "1", 1, ""},
			{"AB2", excelize.CellTypeUnset, "45214", 0, "yyyy-mm-dd"}, // 2023-10-15
		} {
			typ, err := f.GetCellType(sheet, tc.cell)
			if err != nil {
				t.Fatal(err)
			}
			raw, _ := f.GetCellValue(sheet, tc.cell, excelize.Options{RawCellValue: true})
			numFmt, custom := cellFormat(t, f, sheet, tc.cell)
			if typ != tc.typ || raw != tc.raw || numFmt != tc.numFmt || custom != tc.custom {
				t.Errorf("%s: type %v value %q format %d %q; want type %v value %q format %d %q",
					tc.cell, typ, raw, numFmt, custom, tc.typ, tc.raw, tc.numFmt, tc.custom)
			}
		}
		// Formatted as Excel shows it.
		if v, _ := f.GetCellValue(sheet, "P2"); v != "12,000" {
			t.Errorf("P2 shows %q, want 12,000", v)
		}
		if v, _ := f.GetCellValue(sheet, "L2"); v != "2022-10-15 18:30:00" {
			t.Errorf("L2 shows %q", v)
		}
		// A null (no end time, no window) is an empty cell.
		if v, _ := f.GetCellValue(sheet, "M2"); v != "" {
			t.Errorf("M2 = %q, want empty", v)
		}
	})
}

func TestPlaintiffsXLSX(t *testing.T) {
	eachDB(t, func(t *testing.T, fx *fixture) {
		var buf bytes.Buffer
		if _, err := export.Plaintiffs(context.Background(), fx.st, fx.cs, store.ExportFilter{ClaimFilter: store.ClaimFilter{CaseID: fx.cs.ID}}, &buf, opts(export.XLSX)); err != nil {
			t.Fatal(err)
		}
		f, err := excelize.OpenReader(&buf)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		rows, err := f.GetRows("원고 목록")
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, r := range rows[1 : len(rows)-1] {
			names = append(names, r[1])
		}
		// Korean collation order; formulas are plain text in XLSX.
		want := []string{"-1+2", `=HYPERLINK("http://x.test","열기")`, `가나, "다"`, "남궁민수", "홍길동"}
		if !equal(names, want) {
			t.Errorf("names %q, want %q", names, want)
		}
		total := rows[len(rows)-1]
		if total[1] != "합계" || total[8] != "526,445" {
			t.Errorf("total row %q", total)
		}
		if typ, _ := f.GetCellType("원고 목록", "I7"); typ != excelize.CellTypeUnset {
			t.Errorf("total is not a number: %v", typ)
		}
		if _, custom := cellFormat(t, f, "원고 목록", "J2"); custom != "yyyy-mm-dd hh:mm:ss" {
			t.Errorf("consent time format %q", custom)
		}
	})
}

func equal(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// TestXLSXStoppedLeavesNoTempFiles: an XLSX export that stops before its end (the client went
// away, the context was cancelled) removes the temporary file excelize keeps a sheet's rows in
// past 16 MiB; it used to stay in TMPDIR for good, one per stopped export. Not parallel:
// TMPDIR is the process's.
func TestXLSXStoppedLeavesNoTempFiles(t *testing.T) {
	for _, d := range testdb.Dialects() {
		t.Run(d, func(t *testing.T) {
			ctx := context.Background()
			st, cs := casedb.Open(t, d)
			// 150,000 items of 50,000 claimants: either export's sheet passes 16 MiB.
			if err := gen.Items(ctx, st, cs.ID, 150_000); err != nil {
				t.Fatal(err)
			}
			var tmp string
			spilled := func() []string {
				m, err := filepath.Glob(filepath.Join(tmp, "excelize-*"))
				if err != nil {
					t.Fatal(err)
				}
				return m
			}
			for _, run := range []struct {
				name string
				fn   func(context.Context, *store.Store, *store.Case, store.ExportFilter, io.Writer, export.Options) (export.Result, error)
			}{{"items", export.Items}, {"plaintiffs", export.Plaintiffs}} {
				tmp = t.TempDir()
				t.Setenv("TMPDIR", tmp) // excelize creates its files in os.TempDir()
				ctx, cancel := context.WithCancel(ctx)
				o := opts(export.XLSX)
				var saw bool
				// Stopped once the rows went to a temporary file: a client hanging up.
				o.Progress = func(int64) {
					if len(spilled()) > 0 {
						saw = true
						cancel()
					}
				}
				_, err := run.fn(ctx, st, cs, store.ExportFilter{ClaimFilter: store.ClaimFilter{CaseID: cs.ID}}, io.Discard, o)
				cancel()
				if !errors.Is(err, context.Canceled) || !saw {
					t.Fatalf("%s: %v, temporary file seen: %v", run.name, err, saw)
				}
				if left := spilled(); len(left) != 0 {
					t.Errorf("%s: temporary files left: %v", run.name, left)
				}
			}
		})
	}
}
