// Package messages is the one catalogue of human-readable texts in Korean and English: error
// messages of the API, field errors of imports and the web form, and eligibility explanations.
// Keys are the stable codes of apperr and damages; texts take {name} placeholders.
package messages

import (
	"net/http"
	"strings"

	"golang.org/x/text/language"
)

// Lang is a supported language. Korean is the default: most claimants are in Korea.
type Lang string

const (
	Ko Lang = "ko"
	En Lang = "en"
)

var (
	supported = []language.Tag{language.Korean, language.English}
	matcher   = language.NewMatcher(supported)
)

// Parse maps a language name or an Accept-Language header to a supported language. Anything it
// cannot match with some confidence falls back to Korean.
func Parse(s string) Lang {
	if s == "" {
		return Ko
	}
	tags, _, err := language.ParseAcceptLanguage(s)
	if err != nil || len(tags) == 0 {
		return Ko
	}
	_, idx, conf := matcher.Match(tags...)
	if conf == language.No {
		return Ko
	}
	if idx == 1 {
		return En
	}
	return Ko
}

// FromRequest picks the language of a request from Accept-Language.
func FromRequest(r *http.Request) Lang { return Parse(r.Header.Get("Accept-Language")) }

// Text returns the message for key in lang with params substituted. An unknown key returns the
// key itself, so a missing text shows up in tests instead of an empty string.
func Text(lang Lang, key string, params map[string]string) string {
	pair, ok := catalogue[key]
	if !ok {
		return key
	}
	s := pair[0]
	if lang == En {
		s = pair[1]
	}
	if len(params) == 0 || !strings.Contains(s, "{") {
		return s
	}
	return fill(s, params)
}

// TextPairs is Text with the params as name, value pairs, the way page templates pass them
// ({{.T "key" "name" "value"}}); a name without a value is ignored.
func TextPairs(lang Lang, key string, kv ...string) string {
	var params map[string]string
	if len(kv) > 1 {
		params = make(map[string]string, len(kv)/2)
		for i := 0; i+1 < len(kv); i += 2 {
			params[kv[i]] = kv[i+1]
		}
	}
	return Text(lang, key, params)
}

// fill replaces each {name} of s whose name is in params by its value, in one pass (a value is
// never read for names), and leaves other braces as they are. It is what a strings.Replacer
// of the params does, without building one for every message: lists render one per item.
func fill(s string, params map[string]string) string {
	var b strings.Builder
	b.Grow(len(s) + 32)
	for {
		i := strings.IndexByte(s, '{')
		if i < 0 {
			b.WriteString(s)
			return b.String()
		}
		b.WriteString(s[:i])
		s = s[i:]
		if j := strings.IndexByte(s, '}'); j > 0 {
			if v, ok := params[s[1:j]]; ok {
				b.WriteString(v)
				s = s[j+1:]
				continue
			}
		}
		b.WriteByte('{')
		s = s[1:]
	}
}

// add puts the texts of one part of the catalogue (its own file) in the catalogue, at init;
// a key defined twice is a programming error.
func add(part map[string][2]string) {
	for k, v := range part {
		if _, dup := catalogue[k]; dup {
			panic("messages: key " + k + " defined twice")
		}
		catalogue[k] = v
	}
}

// Has reports whether the catalogue has key.
func Has(key string) bool { _, ok := catalogue[key]; return ok }

// Keys lists every key, for tests that check completeness.
func Keys() []string {
	out := make([]string, 0, len(catalogue))
	for k := range catalogue {
		out = append(out, k)
	}
	return out
}
