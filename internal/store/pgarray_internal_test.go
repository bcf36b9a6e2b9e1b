package store

import (
	"bytes"
	"context"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/claimdesk/claimdesk/internal/testdb"
)

type pgArrayCase struct {
	name  string
	oid   uint32
	pgx   any // the same values as Go pgx encodes itself
	build func(a *pgArray)
}

// pgArrayCases are arrays of every element type: NULLs, empty and Korean text, quotes and
// backslashes, times before 1970 and below a microsecond, extremes.
func pgArrayCases() []pgArrayCase {
	s := func(v string) *string { return &v }
	i8 := func(v int64) *int64 { return &v }
	i := func(v int) *int { return &v }
	tm := func(v time.Time) *time.Time { return &v }
	seoul := time.FixedZone("KST", 9*3600)
	times := []time.Time{
		time.Date(2022, 10, 15, 15, 33, 0, 0, seoul),
		time.Date(2022, 10, 15, 6, 33, 0, 123456789, time.UTC),
		time.Date(1969, 12, 31, 23, 59, 59, 999999999, time.UTC),
		time.Date(1900, 1, 1, 0, 0, 0, 500, time.UTC),
		time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC),
	}
	odd := []string{"", "CD-ABCD-EFGH-JKLM", "판교 데이터센터 화재로 택시 호출 실패", `say "hi", {x}`, `C:\dir\`, "NULL", " padded "}
	return []pgArrayCase{
		{"text", pgtype.TextArrayOID, odd, func(a *pgArray) {
			for _, v := range odd {
				a.text(v)
			}
		}},
		{"text with NULL", pgtype.TextArrayOID, []*string{s("web-1"), nil, s("")}, func(a *pgArray) {
			a.textPtr(s("web-1"))
			a.textPtr(nil)
			a.textPtr(s(""))
		}},
		{"bytea", pgtype.ByteaArrayOID, [][]byte{{0, 1, 2, 255}, nil, {}}, func(a *pgArray) {
			a.bytea([]byte{0, 1, 2, 255})
			a.bytea(nil)
			a.bytea([]byte{})
		}},
		{"int8", pgtype.Int8ArrayOID, []int64{0, -1, 1 << 62, -9223372036854775808, 20_000_000}, func(a *pgArray) {
			for _, v := range []int64{0, -1, 1 << 62, -9223372036854775808, 20_000_000} {
				a.int8(v)
			}
		}},
		{"int8 with NULL", pgtype.Int8ArrayOID, []*int64{nil, i8(42), i8(-7)}, func(a *pgArray) {
			a.int8Ptr(nil)
			a.int8Ptr(i8(42))
			a.int8Ptr(i8(-7))
		}},
		{"int4", pgtype.Int4ArrayOID, []int32{0, 2, -2147483648, 2147483647}, func(a *pgArray) {
			for _, v := range []int32{0, 2, -2147483648, 2147483647} {
				a.int4(v)
			}
		}},
		{"int4 with NULL", pgtype.Int4ArrayOID, []*int{i(3), nil}, func(a *pgArray) {
			a.int4Ptr(i(3))
			a.int4Ptr(nil)
		}},
		{"bool", pgtype.BoolArrayOID, []bool{true, false}, func(a *pgArray) {
			a.bool(true)
			a.bool(false)
		}},
		{"timestamptz", pgtype.TimestamptzArrayOID, times, func(a *pgArray) {
			for _, v := range times {
				a.timestamptz(v)
			}
		}},
		{"timestamptz with NULL", pgtype.TimestamptzArrayOID, []*time.Time{tm(times[1]), nil, tm(times[2])}, func(a *pgArray) {
			a.timestamptzPtr(tm(times[1]))
			a.timestamptzPtr(nil)
			a.timestamptzPtr(tm(times[2]))
		}},
		{"empty", pgtype.TextArrayOID, []string{}, func(*pgArray) {}},
		{"NULLs only", pgtype.TimestamptzArrayOID, []*time.Time{nil, nil}, func(a *pgArray) {
			a.timestamptzPtr(nil)
			a.timestamptzPtr(nil)
		}},
	}
}

// TestPGArrayEncodesAsPgx holds pgArray to the bytes pgx's own codecs write for the same values.
func TestPGArrayEncodesAsPgx(t *testing.T) {
	m := pgtype.NewMap()
	registerPGArrays(m)
	for _, c := range pgArrayCases() {
		t.Run(c.name, func(t *testing.T) {
			want, err := m.Encode(c.oid, pgtype.BinaryFormatCode, c.pgx, nil)
			if err != nil {
				t.Fatal(err)
			}
			var a pgArray
			c.build(&a)
			got, err := m.Encode(c.oid, pgtype.BinaryFormatCode, &a, nil)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want) {
				t.Fatalf("pgArray wrote\n%x\npgx writes\n%x", got, want)
			}
		})
	}
}

func TestPGArrayRefusesAnotherType(t *testing.T) {
	m := pgtype.NewMap()
	registerPGArrays(m)
	var a pgArray
	a.int8(1)
	if _, err := m.Encode(pgtype.TextArrayOID, pgtype.BinaryFormatCode, &a, nil); err == nil {
		t.Fatal("an int8 array encoded as text[]")
	}
	var mixed pgArray
	mixed.text("x")
	mixed.int8(1)
	if _, err := m.Encode(pgtype.TextArrayOID, pgtype.BinaryFormatCode, &mixed, nil); err == nil {
		t.Fatal("an array of text and int8 encoded")
	}
	// Other values still go through pgx's own codec.
	if _, err := m.Encode(pgtype.TextArrayOID, pgtype.BinaryFormatCode, []string{"x"}, nil); err != nil {
		t.Fatal(err)
	}
}

// TestPGArrayInEveryExecMode sends each array to a real PostgreSQL in every mode pgx can send
// parameters in (binary through the codec, text through Value) and holds what the server
// read to what it reads of pgx's own encoding of the same Go values.
func TestPGArrayInEveryExecMode(t *testing.T) {
	ctx := context.Background()
	url := testdb.Postgres(t)
	connect := func(mode pgx.QueryExecMode) *pgx.Conn {
		cfg, err := pgx.ParseConfig(url)
		if err != nil {
			t.Fatal(err)
		}
		cfg.DefaultQueryExecMode = mode
		c, err := pgx.ConnectConfig(ctx, cfg)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close(ctx) })
		registerPGArrays(c.TypeMap())
		return c
	}
	plain := connect(pgx.QueryExecModeCacheStatement) // pgx's default
	types := map[uint32]string{pgtype.TextArrayOID: "text[]", pgtype.ByteaArrayOID: "bytea[]", pgtype.Int8ArrayOID: "bigint[]",
		pgtype.Int4ArrayOID: "int[]", pgtype.BoolArrayOID: "bool[]", pgtype.TimestamptzArrayOID: "timestamptz[]"}
	for _, mode := range []pgx.QueryExecMode{pgx.QueryExecModeCacheStatement, pgx.QueryExecModeCacheDescribe,
		pgx.QueryExecModeDescribeExec, pgx.QueryExecModeExec, pgx.QueryExecModeSimpleProtocol} {
		conn := connect(mode)
		for _, c := range pgArrayCases() {
			q := "SELECT $1::" + types[c.oid] + "::text, cardinality($1::" + types[c.oid] + ")"
			var want, got string
			var wantN, gotN int
			if err := plain.QueryRow(ctx, q, c.pgx).Scan(&want, &wantN); err != nil {
				t.Fatalf("%s: pgx's own: %v", c.name, err)
			}
			var a pgArray
			c.build(&a)
			if err := conn.QueryRow(ctx, q, &a).Scan(&got, &gotN); err != nil {
				t.Fatalf("%s, %s: %v", mode, c.name, err)
			}
			if got != want || gotN != wantN {
				t.Errorf("%s, %s: the server read %s (%d), want %s (%d)", mode, c.name, got, gotN, want, wantN)
			}
		}
	}
}

func TestPGArrayOutOfRange(t *testing.T) {
	m := pgtype.NewMap()
	registerPGArrays(m)
	big := math.MaxInt32 + 1
	var a pgArray
	a.int4Ptr(&big)
	if _, err := m.Encode(pgtype.Int4ArrayOID, pgtype.BinaryFormatCode, &a, nil); err == nil {
		t.Error("2^31 encoded into an int[]")
	}
	if _, err := a.Value(); err == nil {
		t.Error("2^31 given as text for an int[]")
	}
}

// FuzzPGArrayText holds the text form of text arrays, which carries claimants' words to the
// server in the text modes, to what pgx's own parser of array literals reads back: no text can
// end its element early or add one.
func FuzzPGArrayText(f *testing.F) {
	f.Add("택시", `say "hi", {x}`, `C:\dir\`)
	f.Add("", "NULL", " ")
	f.Add(`\`, `"`, "}{,")
	m := pgtype.NewMap()
	f.Fuzz(func(t *testing.T, x, y, z string) {
		// PostgreSQL's text holds neither invalid UTF-8 nor NUL (intake refuses both): such
		// input is made text, not thrown away.
		text := strings.NewReplacer("\x00", "\uFFFD")
		x, y, z = text.Replace(strings.ToValidUTF8(x, "\uFFFD")), text.Replace(strings.ToValidUTF8(y, "\uFFFD")), text.Replace(strings.ToValidUTF8(z, "\uFFFD"))
		var a pgArray
		a.text(x)
		a.text(y)
		a.text(z)
		v, err := a.Value()
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		if err := m.Scan(pgtype.TextArrayOID, pgtype.TextFormatCode, []byte(v.(string)), &got); err != nil {
			t.Fatalf("%q: %v", v, err)
		}
		if len(got) != 3 || got[0] != x || got[1] != y || got[2] != z {
			t.Fatalf("%q read back as %q", v, got)
		}
	})
}
