package intake

import (
	"errors"
	"strings"
)

var errPhone = errors.New("invalid phone number")

// NormalizePhone turns a phone number into E.164. Korean numbers are accepted in any common
// spelling ("010-1234-5678", "01012345678", "010 1234 5678", "(010)1234-5678", "+82 10-1234-5678",
// "82-10-1234-5678", "+82 (0)10 1234 5678"); other countries only with a leading "+".
func NormalizePhone(s string) (string, error) {
	s = strings.TrimSpace(s)
	plus := strings.HasPrefix(s, "+")
	var digits []byte
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= '0' && c <= '9':
			digits = append(digits, c)
		case c == '-' || c == ' ' || c == '.' || c == '(' || c == ')' || (c == '+' && i == 0):
		default:
			return "", errPhone
		}
	}
	d := string(digits)
	switch {
	case strings.HasPrefix(d, "82") && (plus || len(d) >= 11):
		national := strings.TrimPrefix(d[2:], "0") // "+82 (0)10 ..." keeps a trunk zero
		return korean("0" + national)
	case plus:
		if len(d) < 8 || len(d) > 15 || d[0] == '0' {
			return "", errPhone
		}
		return "+" + d, nil
	default:
		return korean(d)
	}
}

// korean validates a national Korean number (with its leading 0) and returns it in E.164.
// Mobile numbers are 010 plus 8 digits, or 011 and 016-019 plus 7 or 8; Seoul numbers 02 plus 7 or 8; other area codes
// 0XX plus 7 or 8.
func korean(d string) (string, error) {
	if len(d) < 9 || len(d) > 11 || d[0] != '0' {
		return "", errPhone
	}
	switch {
	case d[1] == '1':
		if !strings.ContainsRune("016789", rune(d[2])) || (len(d) != 10 && len(d) != 11) || (d[2] == '0' && len(d) != 11) {
			return "", errPhone
		}
	case d[1] == '2':
		if len(d) != 9 && len(d) != 10 {
			return "", errPhone
		}
	case d[1] >= '3' && d[1] <= '7':
		if len(d) != 10 && len(d) != 11 {
			return "", errPhone
		}
	default:
		return "", errPhone
	}
	return "+82" + d[1:], nil
}
