package export_test

import (
	"bytes"
	"github.com/claimdesk/claimdesk/internal/redact"
	"strings"
	"testing"
	"time"

	"github.com/claimdesk/claimdesk/internal/export"
)

func TestMasks(t *testing.T) {
	for _, tc := range []struct {
		fn       func(string) string
		in, want string
	}{
		{redact.MaskName, "홍길동", "홍*동"},
		{redact.MaskName, "홍길", "홍*"},
		{redact.MaskName, "남궁민수", "남**수"},
		{redact.MaskName, "김", "*"},
		{redact.MaskName, "", ""},
		{redact.MaskName, "Jane Doe", "J******e"},
		{redact.MaskEmail, "hong@example.com", "h***@example.com"},
		{redact.MaskEmail, "홍@example.com", "홍***@example.com"},
		{redact.MaskEmail, "", ""},
		{redact.MaskPhone, "+821012345678", "+82 10-****-5678"},
		{redact.MaskPhone, "+8221234567", "+82 2-***-4567"},
		{redact.MaskPhone, "+14155550123", "********0123"},
		{redact.MaskPhone, "", ""},
		{redact.FormatPhone, "+821012345678", "+82 10-1234-5678"},
		{redact.FormatPhone, "+82311234567", "+82 31-123-4567"},
		{redact.FormatPhone, "+14155550123", "+14155550123"},
	} {
		if got := tc.fn(tc.in); got != tc.want {
			t.Errorf("mask(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestFormulaInjection(t *testing.T) {
	for in, want := range map[string]string{
		"=1+2": "'=1+2", "+82 10": "'+82 10", "-3": "'-3", "@SUM(A1)": "'@SUM(A1)", "\t=x": "'\t=x", "\r=x": "'\r=x",
		"홍길동": "홍길동", "a=b": "a=b", "": "",
	} {
		if got := export.Neutralize(in); got != want {
			t.Errorf("Neutralize(%q) = %q, want %q", in, got, want)
		}
	}
	// Through the writer: quoted where RFC 4180 needs it, numbers untouched.
	cols := []export.Column{{Key: "name", Kind: export.Text}, {Key: "amount", Kind: export.Won}}
	var buf bytes.Buffer
	w, err := export.NewWriter(&buf, cols, "t", export.Options{Format: export.CSV, Location: time.UTC})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range [][]export.Cell{{{S: `=HYPERLINK("http://evil")`}, {N: -5}}, {{S: "\r\n=cmd|' /C calc'!A0"}, {N: 1000}}, {{S: " lead"}, {Null: true}}} {
		if err := w.Row(r); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(nil); err != nil {
		t.Fatal(err)
	}
	want := "name,amount\r\n" +
		`"'=HYPERLINK(""http://evil"")",-5` + "\r\n" +
		"\"'\r\n=cmd|' /C calc'!A0\",1000\r\n" +
		"\" lead\",\r\n"
	if got := buf.String(); got != want {
		t.Errorf("CSV\n%q\nwant\n%q", got, want)
	}
	if strings.HasPrefix(buf.String(), "\uFEFF") {
		t.Error("BOM written although not asked for")
	}
}
