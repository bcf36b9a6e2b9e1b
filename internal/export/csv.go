package export

import (
	"bufio"
	"io"
	"strconv"
	"strings"
	"time"
)

// csvWriter writes RFC 4180 CSV: CRLF line ends, fields quoted when they hold a comma, a
// quote, CR or LF (quotes doubled) or start with a space. Text cells that a spreadsheet would
// run as a formula (starting with = + - @, tab or CR) get a leading single quote, so opening an
// export can never run what a claimant typed (CSV injection).
type csvWriter struct {
	w       *bufio.Writer
	columns []Column
	loc     *time.Location
	buf     []byte
}

// bom is the UTF-8 byte order mark: Excel reads a CSV without it in the system code page
// (CP949 on Korean Windows) and garbles Hangul.
const bom = "\uFEFF"

func newCSVWriter(w io.Writer, columns []Column, opts Options) (*csvWriter, error) {
	cw := &csvWriter{w: bufio.NewWriterSize(w, 64<<10), columns: columns, loc: opts.Location, buf: make([]byte, 0, 64)}
	if opts.BOM {
		cw.w.WriteString(bom)
	}
	for i, c := range columns {
		if i > 0 {
			cw.w.WriteByte(',')
		}
		cw.field(c.Key)
	}
	_, err := cw.w.WriteString("\r\n")
	return cw, err
}

func (cw *csvWriter) Row(cells []Cell) error {
	for i := range cells {
		if i > 0 {
			cw.w.WriteByte(',')
		}
		c := &cells[i]
		if c.Null {
			continue
		}
		switch cw.columns[i].Kind {
		case Won, Count:
			cw.buf = strconv.AppendInt(cw.buf[:0], c.N, 10)
			cw.w.Write(cw.buf)
		case Time:
			cw.buf = c.T.In(cw.loc).AppendFormat(cw.buf[:0], time.RFC3339)
			cw.w.Write(cw.buf)
		default:
			cw.field(Neutralize(c.S))
		}
	}
	_, err := cw.w.WriteString("\r\n")
	return err
}

func (cw *csvWriter) Total(cells []Cell) error { return cw.Row(cells) }

func (cw *csvWriter) Abort() {} // holds nothing but w

func (cw *csvWriter) Close([]SummaryLine) error { return cw.w.Flush() }

// field writes one text field, quoted when RFC 4180 needs it.
func (cw *csvWriter) field(s string) {
	if !needsQuotes(s) {
		cw.w.WriteString(s)
		return
	}
	cw.w.WriteByte('"')
	for {
		i := strings.IndexByte(s, '"')
		if i < 0 {
			break
		}
		cw.w.WriteString(s[:i+1])
		cw.w.WriteByte('"')
		s = s[i+1:]
	}
	cw.w.WriteString(s)
	cw.w.WriteByte('"')
}

func needsQuotes(s string) bool {
	if s == "" {
		return false
	}
	if s[0] == ' ' || s[len(s)-1] == ' ' {
		return true
	}
	return strings.ContainsAny(s, ",\"\r\n")
}

// NeutralizeAll defuses every cell of a record in place (Neutralize) and returns it.
func NeutralizeAll(cells []string) []string {
	for i, c := range cells {
		cells[i] = Neutralize(c)
	}
	return cells
}

// Neutralize defuses a text cell that a spreadsheet would evaluate: one starting with = + - @,
// a tab or a carriage return gets a leading single quote (OWASP's advice for CSV injection).
func Neutralize(s string) string {
	if s == "" {
		return s
	}
	switch s[0] {
	case '=', '+', '-', '@', '\t', '\r':
		return "'" + s
	}
	return s
}
