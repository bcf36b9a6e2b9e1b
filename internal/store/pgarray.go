package store

import (
	"database/sql/driver"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgtype"
)

// pgArray is a one-dimensional PostgreSQL array in the binary wire format, built element by
// element as the group insert gathers its rows (claimArrays and the others), and sent as it
// is. pgx's own array encoding of a []string or []*int64 boxes every element in an interface
// and encodes it through a plan: 5-7% of the service's CPU at saturation (issue 8's note).
// (The buffer pgx encodes parameters into starts small for every statement either way: a
// pgArray is copied into it too.) The encoding of each element is pgx's
// (TestPGArrayEncodesAsPgx holds them equal). The group insert reserves each array's bytes
// before filling it (reserve).
//
// A connection in a mode that sends parameters as text (default_query_exec_mode=exec or
// simple_protocol in the URL, as behind PgBouncer's transaction pooling) gets the array's text
// form from Value instead.
// The zero value is an empty array, of the type its first element (NULLs aside) gives it.
type pgArray struct {
	elem  uint32 // the element's type OID (0 until a typed element is added)
	n     int32
	nulls bool
	data  []byte // each element: its length (-1 for NULL), then its bytes
	err   error  // a value its type cannot hold
}

// element starts an element of type elem, size bytes long (-1: NULL, of any type). The first
// element that is not NULL gives the array its type; a column that mixes types is an error
// when it is sent.
func (a *pgArray) element(elem uint32, size int) {
	switch {
	case size < 0:
	case a.elem == 0:
		a.elem = elem
	case a.elem != elem && a.err == nil:
		a.err = fmt.Errorf("store: an element of type %d in an array of type %d", elem, a.elem)
	}
	a.n++
	a.data = binary.BigEndian.AppendUint32(a.data, uint32(int32(size)))
}

// reserve makes room in each of cols (a *pgArray each, as the args methods list a group's
// columns) for n more elements, so that a column is allocated once, not regrown from nil as
// it fills. An element is guessed at 16 bytes with its length word: an int8's or a
// timestamptz's exactly, a little more than an int4's or a bool's, and a text column whose
// values are longer (descriptions, hashes) grows once or twice from there. Guessed wider, the
// columns of numbers and times waste more than the text ones save (BenchmarkGroupCommit).
func reserve(cols []any, n int) {
	const width = 4 + 12
	for _, c := range cols {
		a := c.(*pgArray)
		a.data = slices.Grow(a.data, n*width)
	}
}

// orNull adds *v with put, or NULL when v is nil.
func orNull[T any](a *pgArray, v *T, put func(T)) {
	if v == nil {
		a.null()
		return
	}
	put(*v)
}

func (a *pgArray) null() {
	a.element(0, -1)
	a.nulls = true
}

func (a *pgArray) text(s string) {
	a.element(pgtype.TextOID, len(s))
	a.data = append(a.data, s...)
}

func (a *pgArray) textPtr(s *string) { orNull(a, s, a.text) }

func (a *pgArray) bytea(b []byte) {
	if b == nil {
		a.null()
		return
	}
	a.element(pgtype.ByteaOID, len(b))
	a.data = append(a.data, b...)
}

func (a *pgArray) int8(v int64) {
	a.element(pgtype.Int8OID, 8)
	a.data = binary.BigEndian.AppendUint64(a.data, uint64(v))
}

func (a *pgArray) int8Ptr(v *int64) { orNull(a, v, a.int8) }

func (a *pgArray) int4(v int32) {
	a.element(pgtype.Int4OID, 4)
	a.data = binary.BigEndian.AppendUint32(a.data, uint32(v))
}

func (a *pgArray) int4Ptr(v *int) {
	orNull(a, v, func(v int) {
		if v < math.MinInt32 || v > math.MaxInt32 {
			a.err = fmt.Errorf("store: %d is out of range for an integer column", v)
		}
		a.int4(int32(v))
	})
}

func (a *pgArray) bool(b bool) {
	a.element(pgtype.BoolOID, 1)
	if b {
		a.data = append(a.data, 1)
	} else {
		a.data = append(a.data, 0)
	}
}

// microsecondsToY2K is the offset of PostgreSQL's epoch, 2000-01-01 UTC, from Unix's.
const microsecondsToY2K = 946_684_800 * 1_000_000

// timestamptz encodes t as pgx does: microseconds since 2000-01-01 UTC, the nanoseconds
// below a microsecond dropped.
func (a *pgArray) timestamptz(t time.Time) {
	a.element(pgtype.TimestamptzOID, 8)
	a.data = binary.BigEndian.AppendUint64(a.data, uint64(t.Unix()*1_000_000+int64(t.Nanosecond())/1000-microsecondsToY2K))
}

func (a *pgArray) timestamptzPtr(t *time.Time) { orNull(a, t, a.timestamptz) }

// arrayOIDs are the array types the group insert sends, with their element types.
var arrayOIDs = map[uint32]uint32{
	pgtype.TextArrayOID:        pgtype.TextOID,
	pgtype.ByteaArrayOID:       pgtype.ByteaOID,
	pgtype.Int8ArrayOID:        pgtype.Int8OID,
	pgtype.Int4ArrayOID:        pgtype.Int4OID,
	pgtype.BoolArrayOID:        pgtype.BoolOID,
	pgtype.TimestamptzArrayOID: pgtype.TimestamptzOID,
}

// registerPGArrays makes the connection's type map send a *pgArray as it is, to a parameter
// of its array type; every other value goes through pgx's own codec as before. (One thing
// notices the wrapper: CopyFrom of a string into an array column, which pgx handles apart
// for a plain ArrayCodec. No table copied into has an array column.)
func registerPGArrays(m *pgtype.Map) {
	for oid, elem := range arrayOIDs {
		t, ok := m.TypeForOID(oid)
		if !ok {
			continue
		}
		m.RegisterType(&pgtype.Type{Name: t.Name, OID: oid, Codec: preEncodedArrays{Codec: t.Codec, elem: elem}})
	}
}

// preEncodedArrays is an array type's codec taking *pgArray values too.
type preEncodedArrays struct {
	pgtype.Codec
	elem uint32
}

func (c preEncodedArrays) PlanEncode(m *pgtype.Map, oid uint32, format int16, value any) pgtype.EncodePlan {
	if _, ok := value.(*pgArray); ok && format == pgtype.BinaryFormatCode {
		return pgArrayPlan{elem: c.elem}
	}
	return c.Codec.PlanEncode(m, oid, format, value)
}

type pgArrayPlan struct{ elem uint32 }

func (p pgArrayPlan) Encode(value any, buf []byte) ([]byte, error) {
	a := value.(*pgArray)
	if a.err != nil {
		return nil, a.err
	}
	if a.elem != 0 && a.elem != p.elem { // 0: empty, or NULLs only
		return nil, fmt.Errorf("store: an array of type %d sent to a parameter of type %d[]", a.elem, p.elem)
	}
	hasNull := uint32(0)
	if a.nulls {
		hasNull = 1
	}
	buf = binary.BigEndian.AppendUint32(buf, 1)
	buf = binary.BigEndian.AppendUint32(buf, hasNull)
	buf = binary.BigEndian.AppendUint32(buf, p.elem)
	buf = binary.BigEndian.AppendUint32(buf, uint32(a.n))
	buf = binary.BigEndian.AppendUint32(buf, 1) // lower bound
	return append(buf, a.data...), nil
}

// Value is the array's text form, for connections that send parameters as text.
func (a *pgArray) Value() (driver.Value, error) {
	if a.err != nil {
		return nil, a.err
	}
	var b strings.Builder
	b.WriteByte('{')
	data := a.data
	for i := range a.n {
		if i > 0 {
			b.WriteByte(',')
		}
		size := int32(binary.BigEndian.Uint32(data))
		data = data[4:]
		if size < 0 {
			b.WriteString("NULL")
			continue
		}
		v := data[:size]
		data = data[size:]
		var text string
		switch a.elem {
		case pgtype.TextOID:
			text = string(v)
		case pgtype.ByteaOID:
			text = `\x` + hex.EncodeToString(v)
		case pgtype.Int8OID:
			text = strconv.FormatInt(int64(binary.BigEndian.Uint64(v)), 10)
		case pgtype.Int4OID:
			text = strconv.FormatInt(int64(int32(binary.BigEndian.Uint32(v))), 10)
		case pgtype.BoolOID:
			text = strconv.FormatBool(v[0] == 1)
		case pgtype.TimestamptzOID:
			us := int64(binary.BigEndian.Uint64(v)) + microsecondsToY2K
			text = time.UnixMicro(us).UTC().Format("2006-01-02T15:04:05.999999Z")
		default:
			return nil, fmt.Errorf("store: no text form for arrays of type %d", a.elem)
		}
		// Every element quoted, so that empty strings, spaces, commas, braces and the word
		// NULL stay text.
		b.WriteByte('"')
		for _, r := range []byte(text) {
			if r == '"' || r == '\\' {
				b.WriteByte('\\')
			}
			b.WriteByte(r)
		}
		b.WriteByte('"')
	}
	b.WriteByte('}')
	return b.String(), nil
}
