package admin

import (
	"testing"
	"time"

	"github.com/claimdesk/claimdesk/api/web"
	"github.com/claimdesk/claimdesk/internal/intake"
)

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

// TestLocalInputRoundTrip: a window's edge as the dashboard's form writes it reads back as the
// same instant (an edge at 14:00:00.5 came back at 14:00:00, and an item at 14:00:00.2 left
// the window when a lawyer saved the form for another change).
func TestLocalInputRoundTrip(t *testing.T) {
	for _, s := range []string{"2022-10-15T06:30:00Z", "2022-10-15T06:30:07Z", "2022-10-16T05:00:00.5Z", "2022-10-16T05:00:00.000001Z"} {
		at, _ := time.Parse(time.RFC3339Nano, s)
		in := localInput(at, web.Seoul)
		back, err := intake.ParseInstant(in, web.Seoul)
		if err != nil || !back.Equal(at) {
			t.Errorf("%s written %q, read back %v (%v)", s, in, back, err)
		}
	}
}
