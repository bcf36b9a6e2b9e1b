package web

import (
	"testing"
)

func TestParseWon(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want int64
		ok   bool
		nil  bool
	}{
		{"", 0, true, true}, {"12,000", 12000, true, false}, {" 12 000 ", 12000, true, false}, {"12000원", 12000, true, false},
		{"₩1,234,567", 1234567, true, false}, {"0", 0, true, false}, {"12.5", 0, false, true}, {"abc", 0, false, true}, {"-5", -5, true, false},
	} {
		n, ok := parseWon(tc.in)
		if ok != tc.ok || (n == nil) != tc.nil || (n != nil && *n != tc.want) {
			t.Errorf("parseWon(%q) = %v, %v", tc.in, n, ok)
		}
	}
}

func TestSniff(t *testing.T) {
	heic := append([]byte{0, 0, 0, 24}, []byte("ftypheic\x00\x00\x00\x00mif1heic")...)
	heif := append([]byte{0, 0, 0, 24}, []byte("ftypmif1\x00\x00\x00\x00mif1heix")...)
	avif := append([]byte{0, 0, 0, 24}, []byte("ftypavif\x00\x00\x00\x00mif1avif")...)
	for name, tc := range map[string]struct {
		b    []byte
		want string
	}{
		"jpeg": {[]byte{0xFF, 0xD8, 0xFF, 0xE0, 0, 0x10, 'J', 'F', 'I', 'F'}, "image/jpeg"},
		"png":  {[]byte("\x89PNG\r\n\x1a\n\x00\x00\x00\x0dIHDR"), "image/png"},
		"pdf":  {[]byte("%PDF-1.7\n"), "application/pdf"},
		"heic": {heic, "image/heic"}, "heif with heic brand": {heif, "image/heic"},
		"avif": {avif, ""}, "text": {[]byte("hello"), ""}, "html": {[]byte("<html><script>"), ""}, "empty": {nil, ""},
		"gif": {[]byte("GIF89a"), ""},
	} {
		if got := sniff(tc.b); got != tc.want {
			t.Errorf("%s: sniff = %q, want %q", name, got, tc.want)
		}
	}
}

func FuzzParseWon(f *testing.F) {
	for _, s := range []string{"12,000", "₩1", "원", "9223372036854775808"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) { parseWon(s) })
}

func FuzzSniff(f *testing.F) {
	f.Add([]byte("%PDF-"))
	f.Add([]byte{0, 0, 0, 24, 'f', 't', 'y', 'p', 'm', 'i', 'f', '1'})
	f.Fuzz(func(t *testing.T, b []byte) { sniff(b) })
}

func FuzzDecodeDraft(f *testing.F) {
	f.Add(newDraft().encode())
	f.Add("e30")
	f.Fuzz(func(t *testing.T, s string) { decodeDraft(s) })
}
