package admin

import "testing"

// TestParseWindowPath: the windows service's field paths lead to the form's row and input.
func TestParseWindowPath(t *testing.T) {
	for _, c := range []struct {
		path  string
		i     int
		field string
		ok    bool
	}{
		{"windows[0].start", 0, "start", true},
		{"windows[12].service", 12, "service", true},
		{"windows", 0, "", false},
		{"windows[].start", 0, "", false},
		{"windows[-1].start", 0, "", false},
		{"windows[x].start", 0, "", false},
		{"windows[3]", 0, "", false},
		{"rules[0].start", 0, "", false},
	} {
		i, field, ok := parseWindowPath(c.path)
		if i != c.i || field != c.field || ok != c.ok {
			t.Errorf("parseWindowPath(%q) = %d, %q, %v; want %d, %q, %v", c.path, i, field, ok, c.i, c.field, c.ok)
		}
	}
}
