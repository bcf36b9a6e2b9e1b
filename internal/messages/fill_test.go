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
