// Package redact masks personal data for people who may see that a value exists but not the
// value: exports shared outside the firm, and audit records, which outlive an erasure.
package redact

import (
	"strings"
	"unicode/utf8"
)

// MaskName keeps the first and last character of a name and stars the rest: 홍길동 -> 홍*동,
// 남궁민수 -> 남**수; a two-character name keeps its first (홍길 -> 홍*), a single character
// becomes *.
func MaskName(name string) string {
	r := []rune(strings.TrimSpace(name))
	switch len(r) {
	case 0:
		return ""
	case 1:
		return "*"
	case 2:
		return string(r[0]) + "*"
	}
	return string(r[0]) + strings.Repeat("*", len(r)-2) + string(r[len(r)-1])
}

// MaskEmail keeps the first character of the local part and the domain: h***@example.com.
func MaskEmail(email string) string {
	if email == "" {
		return ""
	}
	local, domain, ok := strings.Cut(email, "@")
	if !ok || local == "" {
		return "***"
	}
	_, n := utf8.DecodeRuneInString(local)
	return local[:n] + "***@" + domain
}

// FormatPhone writes an E.164 number for people: +821012345678 -> +82 10-1234-5678,
// +8221234567 -> +82 2-123-4567. Other countries stay as they are.
func FormatPhone(e164 string) string {
	d, ok := strings.CutPrefix(e164, "+82")
	if !ok || len(d) < 8 || !allDigits(d) {
		return e164
	}
	area := d[:2]
	if d[0] == '2' {
		area = d[:1]
	}
	rest := d[len(area):]
	return "+82 " + area + "-" + rest[:len(rest)-4] + "-" + rest[len(rest)-4:]
}

// MaskPhone keeps the country and area code and the last four digits: +82 10-****-5678.
// Other numbers keep their last four digits only.
func MaskPhone(e164 string) string {
	if e164 == "" {
		return ""
	}
	f := FormatPhone(e164)
	if f != e164 {
		i, j := strings.IndexByte(f, '-'), strings.LastIndexByte(f, '-')
		return f[:i+1] + strings.Repeat("*", j-i-1) + f[j:]
	}
	if len(e164) <= 4 {
		return "****"
	}
	return strings.Repeat("*", len(e164)-4) + e164[len(e164)-4:]
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// Search masks a free-text search, which is usually a name, an email or a phone number: an
// email as MaskEmail, anything else as MaskName (first and last character kept).
func Search(q string) string {
	if strings.Contains(q, "@") {
		return MaskEmail(q)
	}
	return MaskName(q)
}
