package importer

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/claimdesk/claimdesk/damages"
	"github.com/claimdesk/claimdesk/internal/intake"
)

var fuzzCase = &damages.Case{Slug: "kakao-2022", Location: time.FixedZone("KST", 9*3600), Services: []damages.Service{
	{Slug: "kakaotalk", Kinds: []string{"message", "other"}, Features: []string{"text", "media", "pc", "channel"}},
	{Slug: "kakao_t", Kinds: []string{"taxi_booking", "other"}, Features: []string{"taxi", "designated_driver"}},
	{Slug: "kakao_pay", Kinds: []string{"payment", "other"}, Features: []string{"payments", "transfers"}},
	{Slug: "daum", Kinds: []string{"other"}, Features: []string{"mail", "cafe"}},
}}

var fuzzNow = time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)

// drain reads every group of src and checks what must hold for any input: no panic, groups
// have rows with increasing line numbers, errors are file errors or the end, problems point at
// rows of their group, and a decoded claim can be validated.
func drain(t *testing.T, src source) {
	t.Helper()
	var last int64
	for i := 0; i < 100_000; i++ {
		g, err := src.next()
		if err == io.EOF {
			return
		}
		if err != nil {
			var fe *FileError
			if !errors.As(err, &fe) || fe.Reason == "" {
				t.Fatalf("error that is not a file error: %v", err)
			}
			return
		}
		if len(g.rows) == 0 {
			t.Fatal("group without rows")
		}
		for _, r := range g.rows {
			if r.line <= last {
				t.Fatalf("line %d after %d", r.line, last)
			}
			last = r.line
			_ = src.rawRow(r)
		}
		for _, p := range g.problems {
			if p.row < 0 || p.row >= len(g.rows) || p.fe.Code == "" {
				t.Fatalf("bad problem %+v in a group of %d rows", p, len(g.rows))
			}
		}
		if !g.malformed {
			intake.Normalize(g.in, fuzzCase, fuzzNow) // must not panic whatever was decoded
		}
		for _, path := range []string{"items[0].kind", "items[99].x", "claimant.name", "items", "items[", "items[-1]."} {
			i, _ := src.locate(g, path)
			if i < 0 || i >= len(g.rows) {
				t.Fatalf("locate(%q) = row %d of %d", path, i, len(g.rows))
			}
		}
	}
}

// FuzzCSVRow feeds one row (any bytes) under a full header.
func FuzzCSVRow(f *testing.F) {
	header := strings.Join(Columns, ",") + "\n"
	f.Add([]byte("A-1,홍길동,h@example.com,010-1234-5678,ko,taxi_booking,kakao_t,taxi,2022-10-15 18:30,,booking_failed,,12000,31000,,,y,설명\n"))
	f.Add([]byte("A-1,\"홍\"\"길동\",,,,message,kakaotalk,text,2022-10-15T16:00:00+09:00,2022-10-15 20:00,,business,,,,400000,1,\"a,\nb\"\n"))
	f.Add([]byte("A-1,x\n"))
	f.Add([]byte(",,,,,,,,,,,,,,,,,\n"))
	f.Add([]byte("A-1,홍,a,b,c,d,e,f,g,h,i,j,99999999999999999999,-1,1e3,0x10,maybe,\x00\n"))
	f.Add([]byte("\"unclosed,\n"))
	f.Fuzz(func(t *testing.T, row []byte) {
		drain(t, newCSVSource(bytes.NewReader(append([]byte(header), row...))))
	})
}

// FuzzCSVFile feeds a whole file, header included.
func FuzzCSVFile(f *testing.F) {
	f.Add([]byte("\ufeffclaim_ref,claimant_name,email,kind,occurred_at\r\nA,홍,a@example.com,other,2022-10-15 17:00\r\nA,홍,,other,2022-10-16 17:00\r\nB,김,b@example.com,other,x\r\n"))
	f.Add([]byte(""))
	f.Add([]byte("claim_ref,claim_ref\n"))
	f.Add([]byte("\xff\xfe\x00c\x00l"))
	f.Add([]byte("claim_ref,claimant_name,phone,kind,occurred_at\n\n\nA,홍,010,other,2022\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		drain(t, newCSVSource(bytes.NewReader(data)))
	})
}

// FuzzNDJSONLine feeds NDJSON lines.
func FuzzNDJSONLine(f *testing.F) {
	f.Add([]byte(`{"external_ref":"N-1","claimant":{"name":"홍길동","email":"h@example.com"},"items":[{"kind":"other","service":"daum","feature":"mail","occurred_at":"2022-10-16 09:00","loss_krw":1000}]}`))
	f.Add([]byte(`{"external_ref":7,"items":"x","consent":"yes"}`))
	f.Add([]byte(`{not json`))
	f.Add([]byte(`[]`))
	f.Add([]byte(`{"external_ref":"N","items":[{"expected_fare_krw":1e99,"documented":null}],"extra":{}}`))
	f.Add([]byte("{}\r\n{}\n\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		drain(t, newNDJSONSource(bytes.NewReader(data)))
	})
}
