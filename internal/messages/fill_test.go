package messages

import (
	"strings"
	"testing"
)

// fill is what a strings.Replacer of the params does.
func TestFillIsReplacer(t *testing.T) {
	params := map[string]string{"window": "kakao_t/taxi {max}", "max": "100", "a": "", "ab": "x"}
	var args []string
	for k, v := range params {
		args = append(args, "{"+k+"}", v)
	}
	r := strings.NewReplacer(args...)
	for _, s := range []string{"", "plain", "{window}", "a {max} b {window} c", "{a{ab}}", "{unknown} {max", "{", "}{max}{", "{{max}}", "창 {window} 최대 {max}원"} {
		if got, want := fill(s, params), r.Replace(s); got != want {
			t.Errorf("fill(%q) = %q, want %q", s, got, want)
		}
	}
}

// TextPairs is Text with the pairs made a map; a trailing name without a value is dropped.
func TestTextPairs(t *testing.T) {
	params := map[string]string{"field": "이메일", "max": "100"}
	for _, key := range Keys() {
		for _, lang := range []Lang{Ko, En} {
			if got, want := TextPairs(lang, key, "field", "이메일", "max", "100", "dangling"), Text(lang, key, params); got != want {
				t.Errorf("%s %v: %q, want %q", key, lang, got, want)
			}
			if got, want := TextPairs(lang, key), Text(lang, key, nil); got != want {
				t.Errorf("%s %v without pairs: %q, want %q", key, lang, got, want)
			}
		}
	}
	if got := TextPairs(En, "no_such_key", "a", "b"); got != "no_such_key" {
		t.Errorf("unknown key: %q", got)
	}
}
