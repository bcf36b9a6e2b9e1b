package export

import (
	"bytes"
	"testing"

	"golang.org/x/text/collate"
	"golang.org/x/text/language"
	"golang.org/x/text/unicode/norm"
)

// TestDecomposeHangul: every syllable decomposes as NFD does, and names decomposed this way
// get the same collation key as the names themselves.
func TestDecomposeHangul(t *testing.T) {
	for r := rune(0xAC00); r <= 0xD7A3; r++ {
		s := string(r)
		if got, want := decomposeHangul(nil, s), norm.NFD.String(s); string(got) != want {
			t.Fatalf("%U: %q, want %q", r, got, want)
		}
	}
	col := collate.New(language.Korean)
	var a, b collate.Buffer
	for _, name := range []string{"홍길동", "남궁민수", "이수", "김", "Jane Doe", "=1+2", "가나, \"다\"", "홍길동123456", "Ｈｏｎｇ", "é홍", "漢字", ""} {
		want := col.KeyFromString(&a, name)
		got := col.Key(&b, decomposeHangul(nil, name))
		if !bytes.Equal(got, want) {
			t.Errorf("%q: key %x, want %x", name, got, want)
		}
		a.Reset()
		b.Reset()
	}
}
