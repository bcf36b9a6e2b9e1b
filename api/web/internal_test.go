package web

import (
	"errors"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/claimdesk/claimdesk/internal/intake"
)

func TestParseWon(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want int64
		err  error // nil, strconv.ErrSyntax or strconv.ErrRange
		nil  bool
	}{
		{"", 0, nil, true}, {"12,000", 12000, nil, false}, {" 12 000 ", 12000, nil, false}, {"12000원", 12000, nil, false},
		{"₩1,234,567", 1234567, nil, false}, {"0", 0, nil, false}, {"12.5", 0, strconv.ErrSyntax, true}, {"abc", 0, strconv.ErrSyntax, true},
		{"-5", -5, nil, false}, {"1e30", 0, strconv.ErrSyntax, true}, {"9,223,372,036,854,775,807원", 9223372036854775807, nil, false},
		{"9,223,372,036,854,775,808원", 0, strconv.ErrRange, true}, {"-99999999999999999999", 0, strconv.ErrRange, true},
	} {
		n, err := parseWon(tc.in)
		if !errors.Is(err, tc.err) || (err == nil) != (tc.err == nil) || (n == nil) != tc.nil || (n != nil && *n != tc.want) {
			t.Errorf("parseWon(%q) = %v, %v", tc.in, n, err)
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

// FuzzParseWon: any text is an amount, nothing, or refused as not a number or as out of the
// amount's range, never a panic.
func FuzzParseWon(f *testing.F) {
	for _, s := range []string{"12,000", "₩1", "원", "9223372036854775808", "-99,999,999,999,999,999,999원"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, err := parseWon(s)
		if err != nil && (n != nil || !errors.Is(err, strconv.ErrSyntax) && !errors.Is(err, strconv.ErrRange)) {
			t.Fatalf("parseWon(%q) = %v, %v", s, n, err)
		}
	})
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

// TestLargestDraftFits: the largest draft the form accepts (MaxItems items, each described at
// the longest, in Hangul, one more being edited) posts within MaxFormBytes with the step's own
// fields: over it, the post was refused (413) and the claimant's draft lost with it.
func TestLargestDraftFits(t *testing.T) {
	long := strings.Repeat("한", intake.MaxDescription)
	it := itemForm{Kind: intake.KindMessage, Target: "kakaotalk/text", OccurredAt: "2022-10-15 18:30", EndedAt: "2022-10-16 03:00",
		Failure: "message_not_delivered", Purpose: "business", Loss: "1,000,000,000원", Documented: true, Description: long}
	d := &draft{ID: strings.Repeat("x", 24), Step: steps[len(steps)-1], Editing: &it, EditIndex: -1,
		Claimant: contactForm{Name: strings.Repeat("김", 100), Email: strings.Repeat("a", 240) + "@example.com", Phone: "010-1234-5678"}, Consent: true}
	for range intake.MaxItems {
		d.Items = append(d.Items, it)
	}
	form := url.Values{"csrf": {strings.Repeat("c", 43)}, "draft": {d.encode()}, "action": {"save_item"}, "description": {long}}
	if n := len(form.Encode()); n > MaxFormBytes {
		t.Errorf("the largest draft posts %d bytes, over MaxFormBytes (%d)", n, MaxFormBytes)
	}
}
