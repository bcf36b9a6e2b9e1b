package export

import (
	"bufio"
	"encoding/json"
	"io"
	"strconv"
	"time"
)

// ndjsonWriter writes one JSON object per line, keyed by column keys: amounts are numbers,
// instants RFC 3339 strings with the case zone's offset, null cells null. It is for programs,
// so text is written as it is (no formula neutralising).
type ndjsonWriter struct {
	w       *bufio.Writer
	columns []Column
	keys    [][]byte
	loc     *time.Location
	buf     []byte
}

func newNDJSONWriter(w io.Writer, columns []Column, opts Options) *ndjsonWriter {
	nw := &ndjsonWriter{w: bufio.NewWriterSize(w, 64<<10), columns: columns, loc: opts.Location}
	for i, c := range columns {
		k, _ := json.Marshal(c.Key)
		sep := ","
		if i == 0 {
			sep = "{"
		}
		nw.keys = append(nw.keys, append(append([]byte(sep), k...), ':'))
	}
	return nw
}

func (nw *ndjsonWriter) Row(cells []Cell) error {
	for i := range cells {
		nw.w.Write(nw.keys[i])
		c := &cells[i]
		switch {
		case c.Null:
			nw.w.WriteString("null")
		case nw.columns[i].Kind == Won || nw.columns[i].Kind == Count:
			nw.buf = strconv.AppendInt(nw.buf[:0], c.N, 10)
			nw.w.Write(nw.buf)
		case nw.columns[i].Kind == Time:
			nw.buf = append(c.T.In(nw.loc).AppendFormat(append(nw.buf[:0], '"'), time.RFC3339), '"')
			nw.w.Write(nw.buf)
		default:
			b, err := json.Marshal(c.S)
			if err != nil {
				return err
			}
			nw.w.Write(b)
		}
	}
	_, err := nw.w.WriteString("}\n")
	return err
}

func (nw *ndjsonWriter) Total([]Cell) error { return nil }

func (nw *ndjsonWriter) Abort() {} // holds nothing but w

func (nw *ndjsonWriter) Close([]SummaryLine) error { return nw.w.Flush() }
