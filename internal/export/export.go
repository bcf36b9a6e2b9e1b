// Package export writes what lawyers file and negotiate with: the claim items as CSV, XLSX or
// NDJSON, the plaintiff list (원고 목록) as CSV or XLSX, and the case report as PDF or
// printable HTML with its charts drawn server-side.
//
// Every tabular export is a sequence of typed cells (text, won, count, instant, date) that a
// Writer renders for its format: CSV neutralises formulas and quotes per RFC 4180, XLSX writes
// numbers as numbers and times as dates, NDJSON writes JSON values. Rows are streamed from the
// store one at a time, so memory stays flat however many items a case has; the plaintiff list
// is the exception that holds one small record per claimant, because claimants are merged
// across claims and sorted by name.
package export

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/claimdesk/claimdesk/internal/messages"
)

// Kind is the type of a column's cells.
type Kind int

const (
	Text  Kind = iota
	Won        // an amount in whole won: #,##0 in XLSX
	Count      // a whole number without separators
	Time       // an instant, shown in the case zone with its offset
	Date       // a calendar date (YYYY-MM-DD)
)

// Column is one column of an export: Key names it in CSV and NDJSON headers (stable), and
// the catalogue entry "export_col_<Key>" labels it for people (XLSX).
type Column struct {
	Key   string
	Kind  Kind
	Width float64 // XLSX column width; 0 for the default
}

// Cell is one value. Null cells are empty (CSV, XLSX) or null (NDJSON).
type Cell struct {
	S    string
	N    int64
	T    time.Time
	Null bool
}

// Format is an output format.
type Format string

const (
	CSV    Format = "csv"
	XLSX   Format = "xlsx"
	NDJSON Format = "ndjson"
	PDF    Format = "pdf"
	HTML   Format = "html"
)

// ContentType returns the media type of a format.
func (f Format) ContentType() string {
	switch f {
	case CSV:
		return "text/csv; charset=utf-8"
	case XLSX:
		return "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
	case NDJSON:
		return "application/x-ndjson"
	case PDF:
		return "application/pdf"
	case HTML:
		return "text/html; charset=utf-8"
	}
	return "application/octet-stream"
}

// Options are the choices of one export.
type Options struct {
	Format Format
	// BOM starts a CSV with a UTF-8 byte order mark, so Excel reads it as UTF-8.
	BOM bool
	// Redact masks names, emails and phones for sharing outside the firm.
	Redact bool
	// Lang is the language of labels (XLSX headers, sheet names, report texts).
	Lang messages.Lang
	// Location is the case zone: instants are shown in it with their offset.
	Location *time.Location
	// MaxSheetRows is the number of rows of an XLSX sheet, header included; past it the rows
	// continue on a new sheet. 0 means Excel's limit, 1,048,576.
	MaxSheetRows int
	// Now is when the export is made (shown in its summary).
	Now time.Time
	// Filters describes the selection, for the summary (name -> value as given).
	Filters map[string]string
	// Progress, when set, is told the rows written so far every few thousand rows (background
	// exports show it).
	Progress func(rows int64)
}

// SummaryLine is one label and value of an export's summary (first XLSX sheet).
type SummaryLine struct {
	Label string
	Value Cell
	Kind  Kind
}

// Writer renders rows in one format.
type Writer interface {
	// Row writes one row; cells has one entry per column, in order. The slice may be reused.
	Row(cells []Cell) error
	// Total writes the closing total row (the plaintiff list's); formats without one skip it.
	Total(cells []Cell) error
	// Close finishes the output; summary lines go to the XLSX summary sheet.
	Close(summary []SummaryLine) error
	// Abort gives up an output that will not be finished (an error, a client gone): it frees
	// what the writer holds, such as XLSX's temporary files, which would otherwise stay on
	// disk for good. It does nothing after Close, so a writer can be aborted by a defer.
	Abort()
}

// NewWriter starts an export of columns to w in opts.Format. title names the data sheets.
func NewWriter(w io.Writer, columns []Column, title string, opts Options) (Writer, error) {
	if opts.Location == nil {
		opts.Location = time.UTC
	}
	switch opts.Format {
	case CSV:
		return newCSVWriter(w, columns, opts)
	case XLSX:
		return newXLSXWriter(w, columns, title, opts)
	case NDJSON:
		return newNDJSONWriter(w, columns, opts), nil
	}
	return nil, fmt.Errorf("export: format %q has no table writer", opts.Format)
}

// label returns the people's name of a column.
func label(lang messages.Lang, key string) string { return messages.Text(lang, "export_col_"+key, nil) }

// checkEvery is how many rows go by between checks of the context: a client that hung up
// stops a long export.
const checkEvery = 4096

func cancelled(ctx context.Context, n int64) error {
	if n%checkEvery == 0 {
		return ctx.Err()
	}
	return nil
}

// progress reports n rows written every checkEvery rows.
func (o *Options) progress(n int64) {
	if o.Progress != nil && n%checkEvery == 0 {
		o.Progress(n)
	}
}
