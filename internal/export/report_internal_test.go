package export

import (
	"testing"
	"time"
)

// TestHourOf: the hourly chart's bars hold the instants of their hour, and nothing from before
// the first bar or after the last.
func TestHourOf(t *testing.T) {
	start := time.Date(2022, 10, 15, 6, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		at   time.Duration
		h    int
		want bool
	}{
		{-30 * time.Minute, 0, false},
		{-time.Nanosecond, 0, false},
		{0, 0, true},
		{59 * time.Minute, 0, true},
		{time.Hour, 1, true},
		{3*time.Hour - time.Nanosecond, 2, true},
		{3 * time.Hour, 0, false},
	} {
		h, ok := hourOf(start.Add(c.at), start, 3)
		if ok != c.want || ok && h != c.h {
			t.Errorf("%v after the start: bar %d, %v; want %d, %v", c.at, h, ok, c.h, c.want)
		}
	}
}
