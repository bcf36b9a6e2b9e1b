package export

import (
	"archive/zip"
	"compress/flate"
	"fmt"
	"io"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/claimdesk/claimdesk/internal/messages"
)

// ExcelMaxRows is the number of rows of an Excel sheet.
const ExcelMaxRows = 1_048_576

// xlsxWriter streams rows into sheets with excelize's StreamWriter (rows go to a temporary
// file past a small buffer, so memory stays flat). The summary sheet comes first: it is an
// ordinary sheet, created before the data sheets and filled when the rows are done.
type xlsxWriter struct {
	out     io.Writer
	f       *excelize.File
	columns []Column
	title   string
	opts    Options
	lang    messages.Lang

	sw        *excelize.StreamWriter
	sheets    []string
	sheetRow  int // rows written to the current sheet, header included
	styles    map[Kind]int
	header    int
	totalText int
	totalWon  int
	row       []any
	xcells    []excelize.Cell
	closed    bool
}

// Sheet names are at most 31 characters and unique.
func newXLSXWriter(w io.Writer, columns []Column, title string, opts Options) (*xlsxWriter, error) {
	if opts.MaxSheetRows <= 1 || opts.MaxSheetRows > ExcelMaxRows {
		opts.MaxSheetRows = ExcelMaxRows
	}
	f := excelize.NewFile()
	xw := &xlsxWriter{out: w, f: f, columns: columns, title: title, opts: opts, lang: opts.Lang,
		row: make([]any, len(columns)), xcells: make([]excelize.Cell, len(columns))}
	summary := messages.Text(opts.Lang, "export_sheet_summary", nil)
	if err := f.SetSheetName("Sheet1", summary); err != nil {
		f.Close()
		return nil, err
	}
	if err := xw.makeStyles(); err != nil {
		f.Close()
		return nil, err
	}
	if err := xw.newSheet(); err != nil {
		f.Close()
		return nil, err
	}
	return xw, nil
}

func (xw *xlsxWriter) makeStyles() error {
	border := []excelize.Border{{Type: "bottom", Color: "4A5568", Style: 2}}
	var err error
	if xw.header, err = xw.f.NewStyle(&excelize.Style{Font: &excelize.Font{Bold: true, Color: "FFFFFF"},
		Fill:      excelize.Fill{Type: "pattern", Pattern: 1, Color: []string{"2F4F7F"}},
		Alignment: &excelize.Alignment{Vertical: "center", WrapText: true}, Border: border}); err != nil {
		return err
	}
	dateTime := "yyyy-mm-dd hh:mm:ss"
	date := "yyyy-mm-dd"
	xw.styles = map[Kind]int{}
	for k, st := range map[Kind]*excelize.Style{
		Won:   {NumFmt: 3}, // #,##0
		Count: {NumFmt: 1}, // 0
		Time:  {CustomNumFmt: &dateTime},
		Date:  {CustomNumFmt: &date},
	} {
		if xw.styles[k], err = xw.f.NewStyle(st); err != nil {
			return err
		}
	}
	bold := &excelize.Font{Bold: true}
	top := []excelize.Border{{Type: "top", Color: "000000", Style: 1}}
	if xw.totalText, err = xw.f.NewStyle(&excelize.Style{Font: bold, Border: top}); err != nil {
		return err
	}
	xw.totalWon, err = xw.f.NewStyle(&excelize.Style{Font: bold, Border: top, NumFmt: 3})
	return err
}

// newSheet finishes the current data sheet and starts the next, with its header.
func (xw *xlsxWriter) newSheet() error {
	if xw.sw != nil {
		if err := xw.sw.Flush(); err != nil {
			return err
		}
	}
	name := truncateSheetName(xw.title)
	if n := len(xw.sheets); n > 0 {
		name = truncateSheetName(fmt.Sprintf("%s (%d)", xw.title, n+1))
	}
	if _, err := xw.f.NewSheet(name); err != nil {
		return err
	}
	sw, err := xw.f.NewStreamWriter(name)
	if err != nil {
		return err
	}
	for i, c := range xw.columns {
		width := c.Width
		if width == 0 {
			width = map[Kind]float64{Text: 16, Won: 14, Count: 8, Time: 20, Date: 12}[c.Kind]
		}
		if err := sw.SetColWidth(i+1, i+1, width); err != nil {
			return err
		}
	}
	if err := sw.SetPanes(&excelize.Panes{Freeze: true, YSplit: 1, TopLeftCell: "A2", ActivePane: "bottomLeft"}); err != nil {
		return err
	}
	head := make([]any, len(xw.columns))
	for i, c := range xw.columns {
		head[i] = excelize.Cell{StyleID: xw.header, Value: label(xw.lang, c.Key)}
	}
	if err := sw.SetRow("A1", head, excelize.RowOpts{Height: 30}); err != nil {
		return err
	}
	xw.sw, xw.sheetRow = sw, 1
	xw.sheets = append(xw.sheets, name)
	return nil
}

func truncateSheetName(s string) string {
	r := []rune(s)
	if len(r) > 31 {
		r = r[:31]
	}
	return string(r)
}

func (xw *xlsxWriter) Row(cells []Cell) error { return xw.write(cells, false) }

func (xw *xlsxWriter) Total(cells []Cell) error { return xw.write(cells, true) }

func (xw *xlsxWriter) write(cells []Cell, total bool) error {
	if xw.sheetRow >= xw.opts.MaxSheetRows {
		if err := xw.newSheet(); err != nil {
			return err
		}
	}
	for i := range cells {
		c, kind := &cells[i], xw.columns[i].Kind
		xc := &xw.xcells[i]
		xc.StyleID, xc.Value = xw.styles[kind], nil
		switch {
		case c.Null:
		case kind == Won || kind == Count:
			xc.Value = c.N
		case kind == Time:
			xc.Value = excelTime(c.T.In(xw.opts.Location))
		case kind == Date:
			if t, err := time.Parse(time.DateOnly, c.S); err == nil {
				xc.Value = excelTime(t)
			} else {
				xc.Value, xc.StyleID = c.S, 0
			}
		default:
			xc.Value = c.S
		}
		if total {
			xc.StyleID = xw.totalText
			if kind == Won {
				xc.StyleID = xw.totalWon
			}
		}
		xw.row[i] = *xc
	}
	xw.sheetRow++
	ref, err := excelize.CoordinatesToCellName(1, xw.sheetRow)
	if err != nil {
		return err
	}
	return xw.sw.SetRow(ref, xw.row)
}

// excelEpoch is day 0 of Excel's 1900 date system as it counts after February 1900.
var excelEpoch = time.Date(1899, 12, 30, 0, 0, 0, 0, time.UTC)

// excelTime is the serial number of a wall-clock time: Excel has no zones, so the cell shows
// the time of the case zone (the header says which zone).
func excelTime(t time.Time) float64 {
	wall := time.Date(t.Year(), t.Month(), t.Day(), t.Hour(), t.Minute(), t.Second(), t.Nanosecond(), time.UTC)
	return float64(wall.Sub(excelEpoch)) / float64(24*time.Hour)
}

// Abort drops the workbook, and with it excelize's temporary files: each sheet's rows go to
// one (excelize-*, in os.TempDir) past 16 MiB.
func (xw *xlsxWriter) Abort() {
	if !xw.closed {
		xw.closed = true
		xw.f.Close()
	}
}

// Close fills the summary sheet and writes the workbook.
func (xw *xlsxWriter) Close(summary []SummaryLine) error {
	defer xw.Abort()
	if err := xw.sw.Flush(); err != nil {
		return err
	}
	sheet := xw.f.GetSheetName(0)
	if err := xw.f.SetColWidth(sheet, "A", "A", 28); err != nil {
		return err
	}
	if err := xw.f.SetColWidth(sheet, "B", "B", 60); err != nil {
		return err
	}
	bold, err := xw.f.NewStyle(&excelize.Style{Font: &excelize.Font{Bold: true}})
	if err != nil {
		return err
	}
	for i, l := range summary {
		row := i + 1
		a, _ := excelize.CoordinatesToCellName(1, row)
		b, _ := excelize.CoordinatesToCellName(2, row)
		if err := xw.f.SetCellStr(sheet, a, l.Label); err != nil {
			return err
		}
		xw.f.SetCellStyle(sheet, a, a, bold)
		v := l.Value
		switch {
		case v.Null:
		case l.Kind == Won || l.Kind == Count:
			err = xw.f.SetCellInt(sheet, b, v.N)
			xw.f.SetCellStyle(sheet, b, b, xw.styles[l.Kind])
		case l.Kind == Time:
			err = xw.f.SetCellFloat(sheet, b, excelTime(v.T.In(xw.opts.Location)), -1, 64)
			xw.f.SetCellStyle(sheet, b, b, xw.styles[Time])
		default:
			err = xw.f.SetCellStr(sheet, b, v.S)
		}
		if err != nil {
			return err
		}
	}
	// The summary sheet is active as the first sheet. Do not call SetActiveSheet: it reads
	// every worksheet back, and a streamed one means parsing the whole sheet into memory.
	//
	// File.WriteTo builds the whole zip in a bytes.Buffer before writing it (134 MB for a
	// million items). A zip writer of our own makes it write straight to out instead; the
	// buffer it then copies stays empty. (What excelize does to that buffer afterwards only
	// concerns sheets over 4 GiB uncompressed, which the sheet row limit keeps us under.)
	// BestSpeed deflate: a fraction of the CPU of the default level for a file about 40 %
	// larger, the better trade for a download made while the lawyer waits.
	xw.f.SetZipWriter(func(io.Writer) excelize.ZipWriter {
		zw := zip.NewWriter(xw.out)
		zw.RegisterCompressor(zip.Deflate, func(w io.Writer) (io.WriteCloser, error) { return flate.NewWriter(w, flate.BestSpeed) })
		return zw
	})
	_, err = xw.f.WriteTo(xw.out)
	return err
}
