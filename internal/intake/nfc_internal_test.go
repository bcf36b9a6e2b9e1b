package intake

import (
	"testing"

	"golang.org/x/text/unicode/norm"
)

// FuzzNFC: nfc gives what norm.NFC gives, its shortcut included: a Hangul syllable followed by
// a final consonant jamo composes, an accent composes with the ASCII letter before it.
func FuzzNFC(f *testing.F) {
	for _, s := range []string{"", "홍길동", "판교역에서 택시 호출이 되지 않음 (호출 12)", "Kim Min-jun", "가\u11a8", "\u1100\u1161",
		"e\u0301", "Éé", "\xff홍", "홍\xea\xb0", "カカオ", "\u212b"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := nfc(s), norm.NFC.String(s); got != want {
			t.Fatalf("nfc(%q) = %q, norm gives %q", s, got, want)
		}
	})
}
