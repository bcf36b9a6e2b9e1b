package importer

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"errors"
	"io"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/claimdesk/claimdesk/internal/apperr"
	"github.com/claimdesk/claimdesk/internal/intake"
)

// MaxRecordBytes bounds one CSV record or NDJSON line. A claim row is a few hundred bytes (a
// description is at most 2,000 characters); anything much longer is a broken file, and the
// bound keeps memory flat whatever is sent.
const MaxRecordBytes = 1 << 20

// Columns are the CSV columns, in the order claimdesk writes them.
var Columns = []string{"claim_ref", "claimant_name", "email", "phone", "locale", "kind", "service", "feature",
	"occurred_at", "ended_at", "failure", "purpose", "expected_fare_krw", "alternative_cost_krw", "amount_krw",
	"loss_krw", "documented", "description"}

// requiredColumns must be in every CSV header (and email or phone).
var requiredColumns = []string{"claim_ref", "claimant_name", "kind", "occurred_at"}

// FileError is what makes a whole file unreadable: the import fails with Reason (a message
// key) and nothing is written.
type FileError struct {
	Reason string
	Params map[string]string
}

func (e *FileError) Error() string {
	s := e.Reason
	for _, k := range slices.Sorted(mapsKeys(e.Params)) {
		s += " " + k + "=" + e.Params[k]
	}
	return s
}

func mapsKeys(m map[string]string) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

func fileErr(reason string, kv ...string) *FileError {
	p := map[string]string{}
	for i := 0; i+1 < len(kv); i += 2 {
		p[kv[i]] = kv[i+1]
	}
	return &FileError{Reason: reason, Params: p}
}

// row is one record as sent.
type row struct {
	line   int64    // line number in the file where the record starts (the CSV header is line 1)
	fields []string // CSV: the fields in the file's column order
	raw    string   // NDJSON: the line
}

// problem is one error located in a row of a group: row index in the group, column (CSV
// column name, or JSON path for NDJSON) and the field error.
type problem struct {
	row    int
	column string
	fe     apperr.FieldError
}

// group is one claim as read: its rows, the input built from them and what was wrong while
// decoding them (cells that are not numbers, JSON of the wrong shape...).
type group struct {
	ref       string
	rows      []row
	in        intake.ClaimInput
	problems  []problem
	malformed bool // no claim could be read at all (NDJSON line not JSON)
	// claimFirst is set on the further rows of a claim rejected for having more than
	// intake.MaxItems rows: its first row (the group before held it). Such a group is only
	// rows to report as rejected with their claim; see csvSource.nextRejected.
	claimFirst *row
}

// source reads groups from a file.
type source interface {
	// next returns the next claim, io.EOF at the end, or a *FileError.
	next() (*group, error)
	// header is the CSV header line as sent ("" for NDJSON).
	header() string
	// rowsRead counts the records read so far.
	rowsRead() int64
	// locate maps a JSON path of the claim to a row of the group and a column.
	locate(g *group, path string) (int, string)
	// rawRow renders a row as it was sent.
	rawRow(r row) string
	// columnOfRef names the column of the claim's reference.
	columnOfRef() string
}

// limitReader fails a record longer than max bytes: reset is called after each record.
type limitReader struct {
	r   io.Reader
	n   int
	max int
}

var errRecordTooLong = errors.New("record too long")

func (l *limitReader) Read(p []byte) (int, error) {
	if l.n >= l.max {
		return 0, errRecordTooLong
	}
	if len(p) > l.max-l.n+1 {
		p = p[:l.max-l.n+1]
	}
	n, err := l.r.Read(p)
	l.n += n
	return n, err
}

func (l *limitReader) reset() { l.n = 0 }

// stripBOM drops a UTF-8 byte order mark at the start of r.
func stripBOM(r io.Reader) *bufio.Reader {
	br := bufio.NewReaderSize(r, 64<<10)
	if b, err := br.Peek(3); err == nil && bytes.Equal(b, []byte{0xEF, 0xBB, 0xBF}) {
		br.Discard(3)
	}
	return br
}

// sniff fails a file whose start holds NUL bytes: a binary file (an image, a spreadsheet in
// XLSX, a UTF-16 export), told apart from text before any row is read.
func sniff(br *bufio.Reader) error {
	b, _ := br.Peek(8 << 10)
	if i := bytes.IndexByte(b, 0); i >= 0 {
		return fileErr("file_binary", "line", strconv.Itoa(bytes.Count(b[:i], []byte("\n"))+1))
	}
	return nil
}

// checkText rejects text that is not UTF-8 or holds NUL bytes (a binary file).
func checkText(s string, line int64) error {
	if strings.IndexByte(s, 0) >= 0 {
		return fileErr("file_binary", "line", strconv.FormatInt(line, 10))
	}
	if !utf8.ValidString(s) {
		return fileErr("file_encoding", "line", strconv.FormatInt(line, 10))
	}
	return nil
}

// csvSource reads claims from a CSV file: one row per item, adjacent rows with the same
// claim_ref form one claim.
type csvSource struct {
	br      *bufio.Reader
	r       *csv.Reader
	lim     *limitReader
	cols    []string       // header as sent
	index   map[string]int // column name -> field index
	head    string
	pending *row
	n       int64
	eof     bool
	started bool
	// rejected is the first row of a claim rejected for too many rows whose further rows are
	// still being read (nil otherwise).
	rejected *row
}

func newCSVSource(r io.Reader) *csvSource {
	br := stripBOM(r)
	lim := &limitReader{r: br, max: MaxRecordBytes}
	cr := csv.NewReader(lim)
	cr.FieldsPerRecord = -1 // checked here, so a short row is a row error, not a broken file
	return &csvSource{br: br, r: cr, lim: lim}
}

func (s *csvSource) header() string  { return s.head }
func (s *csvSource) rowsRead() int64 { return s.n }

func (s *csvSource) rawRow(r row) string { return encodeCSV(r.fields) }
func (s *csvSource) columnOfRef() string { return "claim_ref" }

func encodeCSV(fields []string) string {
	var b strings.Builder
	w := csv.NewWriter(&b)
	w.Write(fields)
	w.Flush()
	return strings.TrimRight(b.String(), "\r\n")
}

// read returns the next record and the line it starts on.
func (s *csvSource) read() ([]string, int64, error) {
	rec, err := s.r.Read()
	s.lim.reset()
	if err == nil {
		line, _ := s.r.FieldPos(0)
		for _, f := range rec {
			if err := checkText(f, int64(line)); err != nil {
				return nil, 0, err
			}
		}
		return rec, int64(line), nil
	}
	if err == io.EOF {
		return nil, 0, err
	}
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		line := strconv.Itoa(pe.StartLine)
		switch {
		case errors.Is(pe.Err, errRecordTooLong):
			return nil, 0, fileErr("file_line_too_long", "line", line, "max", "1 MiB")
		case errors.Is(pe.Err, csv.ErrQuote):
			return nil, 0, fileErr("file_unclosed_quote", "line", line)
		case errors.Is(pe.Err, csv.ErrBareQuote):
			return nil, 0, fileErr("file_bare_quote", "line", strconv.Itoa(pe.Line))
		}
		return nil, 0, fileErr("file_csv_syntax", "line", line)
	}
	if errors.Is(err, errRecordTooLong) {
		return nil, 0, fileErr("file_line_too_long", "line", "-", "max", "1 MiB")
	}
	return nil, 0, err // the upload could not be read: not the sender's fault
}

func (s *csvSource) readHeader() error {
	s.started = true
	if err := sniff(s.br); err != nil {
		return err
	}
	rec, _, err := s.read()
	if err == io.EOF {
		return fileErr("file_empty")
	}
	if err != nil {
		return err
	}
	s.index = make(map[string]int, len(rec))
	s.cols = make([]string, len(rec))
	for i, name := range rec {
		name = strings.TrimSpace(name)
		s.cols[i] = name
		if !slices.Contains(Columns, name) {
			return fileErr("file_unknown_column", "column", truncate(name, 40), "allowed", strings.Join(Columns, ", "))
		}
		if _, dup := s.index[name]; dup {
			return fileErr("file_duplicate_column", "column", name)
		}
		s.index[name] = i
	}
	for _, name := range requiredColumns {
		if _, ok := s.index[name]; !ok {
			return fileErr("file_missing_column", "column", name)
		}
	}
	_, email := s.index["email"]
	_, phone := s.index["phone"]
	if !email && !phone {
		return fileErr("file_missing_column", "column", "email, phone")
	}
	s.head = encodeCSV(s.cols)
	return nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}

func (s *csvSource) cell(r row, name string) string {
	i, ok := s.index[name]
	if !ok || i >= len(r.fields) {
		return ""
	}
	return r.fields[i]
}

// ref is the claim_ref of r as intake stores it (intake.NormalizeRef): rows group by it, so
// the same reference typed decomposed (on a Mac) and composed is one claim, found stored.
func (s *csvSource) ref(r row) string { return intake.NormalizeRef(s.cell(r, "claim_ref")) }

func (s *csvSource) nextRow() (*row, error) {
	if s.pending != nil {
		r := s.pending
		s.pending = nil
		return r, nil
	}
	if s.eof {
		return nil, io.EOF
	}
	for {
		rec, line, err := s.read()
		if err == io.EOF {
			s.eof = true
			return nil, io.EOF
		}
		if err != nil {
			return nil, err
		}
		if blank(rec) {
			// A blank line, or a row of empty cells (",,,,,"): spreadsheets leave some at the
			// end. Not a claim, so not a claim_ref missing; the lines of the next rows come
			// from the reader, so they stay right.
			continue
		}
		s.n++
		return &row{line: line, fields: rec}, nil
	}
}

func (s *csvSource) next() (*group, error) {
	if !s.started {
		if err := s.readHeader(); err != nil {
			return nil, err
		}
		first, err := s.nextRow()
		if err == io.EOF {
			return nil, fileErr("file_no_rows")
		}
		if err != nil {
			return nil, err
		}
		s.pending = first
	}
	if s.rejected != nil {
		g, err := s.nextRejected()
		if g != nil || err != nil {
			return g, err
		}
	}
	first, err := s.nextRow()
	if err != nil {
		return nil, err
	}
	g := &group{ref: s.ref(*first), rows: []row{*first}}
	if err := s.fill(g, *first); err != nil {
		return nil, err
	}
	if len(g.rows) > intake.MaxItems {
		// Too many rows: the claim is rejected with all its rows. The rows past these come in
		// groups of their own (nextRejected), so that a file with one claim_ref on every row
		// (a partner's batch id) is read with flat memory like any other.
		first := g.rows[0]
		s.rejected = &first
	}
	s.build(g)
	return g, nil
}

// fill adds to g the rows that follow with its claim_ref (none when it has none), until g holds
// intake.MaxItems+1 rows: one past the limit is enough to reject the claim for it. The first
// row of another claim waits in s.pending. head is the claim's first row: a row whose
// claim_ref cell is the same as head's, as nearly every one is, is of the claim without being
// normalised (NormalizeRef is a function of the cell).
func (s *csvSource) fill(g *group, head row) error {
	raw := s.cell(head, "claim_ref")
	for g.ref != "" && len(g.rows) <= intake.MaxItems {
		r, err := s.nextRow()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		if cell := s.cell(*r, "claim_ref"); cell != raw && intake.NormalizeRef(cell) != g.ref {
			s.pending = r
			return nil
		}
		g.rows = append(g.rows, *r)
	}
	return nil
}

// nextRejected reads the next rows of the claim rejected for too many rows, at most
// intake.MaxItems+1 at a time, into a group that only reports them: nil when that claim has
// no more rows.
func (s *csvSource) nextRejected() (*group, error) {
	first := s.rejected
	g := &group{ref: s.ref(*first), claimFirst: first}
	if err := s.fill(g, *first); err != nil {
		return nil, err
	}
	if len(g.rows) <= intake.MaxItems {
		s.rejected = nil // its last rows
	}
	if len(g.rows) == 0 {
		return nil, nil
	}
	s.build(g)
	return g, nil
}

// blank reports whether every field of rec is empty or spaces.
func blank(rec []string) bool {
	for _, f := range rec {
		if strings.TrimSpace(f) != "" {
			return false
		}
	}
	return true
}

// build turns the rows of a group into a claim input, noting every cell that cannot be read.
func (s *csvSource) build(g *group) {
	add := func(i int, col, code string, params map[string]string, msg string) {
		g.problems = append(g.problems, problem{row: i, column: col, fe: apperr.FieldError{Code: code, Params: params, Message: msg}})
	}
	yes := true
	g.in.Consent = &yes // consent by the sender's attestation, recorded on the import
	if g.ref != "" {
		ref := g.ref
		g.in.ExternalRef = &ref
	} else {
		add(0, "claim_ref", apperr.FieldRequired, nil, "")
	}
	first := g.rows[0]
	if g.claimFirst != nil {
		first = *g.claimFirst
	}
	g.in.Claimant = s.claimant(first)
	firstCells := trimmedClaimant(g.in.Claimant)
	var firstClaimant *[len(claimantCells)]string // normalised when a row first differs from it
	g.in.Items = make([]intake.ItemInput, len(g.rows))
	for i, r := range g.rows {
		if len(r.fields) != len(s.cols) {
			add(i, "", apperr.FieldInvalidFormat, map[string]string{"want": strconv.Itoa(len(s.cols)), "got": strconv.Itoa(len(r.fields))}, "import_field_count")
		}
		if i > 0 || g.claimFirst != nil {
			// Further rows repeat the claimant or leave it out. What they repeat is compared
			// as intake stores it, so that another spelling of the same value is no difference.
			// Nearly every row repeats the first row's cells exactly: those are compared as
			// sent (the stored form is a function of the trimmed cell), and both sides are
			// normalised only where a cell differs.
			c := s.claimant(r)
			cells := trimmedClaimant(c)
			var v *[len(claimantCells)]string
			for k, col := range claimantCells {
				if cells[k] == "" || cells[k] == firstCells[k] {
					continue
				}
				if v == nil {
					n := sameClaimant(c)
					v = &n
				}
				if firstClaimant == nil {
					n := sameClaimant(g.in.Claimant)
					firstClaimant = &n
				}
				if v[k] != firstClaimant[k] {
					add(i, col, apperr.FieldInvalidValue, map[string]string{"line": strconv.FormatInt(first.line, 10)}, "import_claimant_differs")
				}
			}
		}
		it := intake.ItemInput{
			Kind: strings.TrimSpace(s.cell(r, "kind")), Service: s.cell(r, "service"), Feature: s.cell(r, "feature"),
			OccurredAt: s.cell(r, "occurred_at"), EndedAt: strings.TrimSpace(s.cell(r, "ended_at")), Failure: s.cell(r, "failure"),
			Purpose: s.cell(r, "purpose"), Description: s.cell(r, "description"),
		}
		for _, m := range []struct {
			col string
			dst **int64
		}{{"expected_fare_krw", &it.ExpectedFareKRW}, {"alternative_cost_krw", &it.AlternativeCostKRW}, {"amount_krw", &it.AmountKRW}, {"loss_krw", &it.LossKRW}} {
			v, fe := parseInt(m.col, s.cell(r, m.col))
			if fe != nil {
				add(i, m.col, fe.Code, fe.Params, "")
			}
			*m.dst = v
		}
		d, ok := ParseBool(s.cell(r, "documented"))
		if !ok {
			add(i, "documented", apperr.FieldInvalidFormat, map[string]string{"hint": "hint_documented"}, "")
		}
		it.Documented = d
		g.in.Items[i] = it
	}
}

// claimantCells are the columns of the claimant, in the order sameClaimant gives them.
var claimantCells = [...]string{"claimant_name", "email", "phone", "locale"}

// claimant is the claimant of row r as sent.
func (s *csvSource) claimant(r row) intake.ClaimantInput {
	return intake.ClaimantInput{Name: s.cell(r, "claimant_name"), Email: s.cell(r, "email"),
		Phone: s.cell(r, "phone"), Locale: strings.TrimSpace(s.cell(r, "locale"))}
}

// sameClaimant is c as intake.Normalize stores it (intake.NormalizeContact), in claimantCells
// order, empty where c has nothing: the name in NFC, the email in lower case, the phone number
// in its one form, or as sent when it does not read as one (intake refuses it on a claim's
// first row; on a further row it is a difference).
func sameClaimant(c intake.ClaimantInput) [len(claimantCells)]string {
	name, email, phone := intake.NormalizeContact(c.Name, c.Email, c.Phone)
	if phone == "" {
		phone = strings.TrimSpace(c.Phone)
	}
	return [...]string{name, email, phone, strings.TrimSpace(c.Locale)}
}

// trimmedClaimant is c's cells trimmed, in claimantCells order: empty exactly where
// sameClaimant's are, and equal wherever the cells are, so a row that repeats them is compared
// without normalising.
func trimmedClaimant(c intake.ClaimantInput) [len(claimantCells)]string {
	return [...]string{strings.TrimSpace(c.Name), strings.TrimSpace(c.Email), strings.TrimSpace(c.Phone), strings.TrimSpace(c.Locale)}
}

// parseInt reads the amount in won of column col (an item's field of that JSON name): digits
// only (an empty cell is no amount). A number too large for int64 is out of the field's range
// (intake.AmountTooLarge), as the NDJSON decoder says it.
func parseInt(col, s string) (*int64, *apperr.FieldError) {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, nil
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		if errors.Is(err, strconv.ErrRange) {
			fe := intake.AmountTooLarge("", col)
			return nil, &fe
		}
		return nil, &apperr.FieldError{Code: apperr.FieldInvalidFormat, Params: map[string]string{"type": "int"}}
	}
	return &n, nil
}

// ParseBool reads the documented column: true/false, 1/0, y/n in any case; empty is nil.
func ParseBool(s string) (*bool, bool) {
	var v bool
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "":
		return nil, true
	case "true", "1", "y":
		v = true
	case "false", "0", "n":
		v = false
	default:
		return nil, false
	}
	return &v, true
}

var claimantColumns = map[string]string{"claimant.name": "claimant_name", "claimant.email": "email", "claimant.phone": "phone",
	"claimant.locale": "locale", "external_ref": "claim_ref", "items": "claim_ref"}

// locate maps "items[2].occurred_at" to the third row and its occurred_at column; claim-level
// paths to the first row.
func (s *csvSource) locate(g *group, path string) (int, string) {
	if col, ok := claimantColumns[path]; ok {
		return 0, col
	}
	if rest, ok := strings.CutPrefix(path, "items["); ok {
		if end := strings.IndexByte(rest, ']'); end > 0 {
			i, err := strconv.Atoi(rest[:end])
			if err == nil && i >= 0 && i < len(g.rows) {
				return i, strings.TrimPrefix(rest[end+1:], ".")
			}
		}
	}
	return 0, ""
}

// ndjsonSource reads claims from NDJSON: one claim per line, the JSON of POST /claims with
// external_ref.
type ndjsonSource struct {
	r       *bufio.Reader
	line    int64
	n       int64
	started bool
	sniffed bool
}

func newNDJSONSource(r io.Reader) *ndjsonSource { return &ndjsonSource{r: stripBOM(r)} }

func (s *ndjsonSource) header() string                          { return "" }
func (s *ndjsonSource) rowsRead() int64                         { return s.n }
func (s *ndjsonSource) rawRow(r row) string                     { return r.raw }
func (s *ndjsonSource) columnOfRef() string                     { return "external_ref" }
func (s *ndjsonSource) locate(_ *group, p string) (int, string) { return 0, p }

// readLine returns the next line without its end, bounded by MaxRecordBytes.
func (s *ndjsonSource) readLine() ([]byte, error) {
	var buf []byte
	for {
		part, err := s.r.ReadSlice('\n')
		if len(buf)+len(part) > MaxRecordBytes+2 {
			return nil, fileErr("file_line_too_long", "line", strconv.FormatInt(s.line+1, 10), "max", "1 MiB")
		}
		buf = append(buf, part...)
		if err == bufio.ErrBufferFull {
			continue
		}
		if err == io.EOF && len(buf) > 0 {
			err = nil
		}
		if err != nil {
			return nil, err
		}
		s.line++
		return bytes.TrimRight(buf, "\r\n"), nil
	}
}

func (s *ndjsonSource) next() (*group, error) {
	if !s.sniffed {
		s.sniffed = true
		if err := sniff(s.r); err != nil {
			return nil, err
		}
	}
	for {
		line, err := s.readLine()
		if err == io.EOF {
			if !s.started {
				return nil, fileErr("file_empty")
			}
			return nil, io.EOF
		}
		if err != nil {
			return nil, err
		}
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		if err := checkText(string(line), s.line); err != nil {
			return nil, err
		}
		s.started = true
		s.n++
		return decodeNDJSON(line, s.line), nil
	}
}

// decodeNDJSON reads one line into a group.
func decodeNDJSON(line []byte, lineNo int64) *group {
	g := &group{rows: []row{{line: lineNo, raw: string(line)}}}
	err := decodeClaim(line, &g.in)
	if apperr.Is(err, apperr.Malformed) {
		g.malformed = true
		g.problems = append(g.problems, problem{fe: apperr.FieldError{Code: apperr.FieldInvalidFormat, Message: "import_bad_json"}})
		return g
	}
	var ae *apperr.Error
	if errors.As(err, &ae) {
		for _, f := range ae.Fields {
			g.problems = append(g.problems, problem{column: f.Path, fe: f})
		}
	}
	if g.in.Consent == nil {
		yes := true
		g.in.Consent = &yes // consent by the sender's attestation, recorded on the import
	}
	if g.in.ExternalRef != nil {
		g.ref = intake.NormalizeRef(*g.in.ExternalRef)
	}
	if g.ref == "" {
		g.problems = append(g.problems, problem{column: "external_ref", fe: apperr.FieldError{Path: "external_ref", Code: apperr.FieldRequired}})
	}
	return g
}
