package intake

import (
	"errors"
	"strings"
	"time"
)

// localLayouts are the accepted spellings of a local time without an offset. They are read in
// the case's zone: a claimant in Seoul writes "2022-10-15 18:30" and means KST.
var localLayouts = []string{
	"2006-01-02T15:04:05",
	"2006-01-02T15:04",
	"2006-01-02 15:04:05",
	"2006-01-02 15:04",
}

var errTimeFormat = errors.New("invalid time")

// ParseInstant reads an RFC 3339 time with an offset, or a local time without one in loc.
// The result is in UTC. Fractions of a second are kept to the microsecond (what PostgreSQL
// stores), so a value reads back equal from either database.
func ParseInstant(s string, loc *time.Location) (time.Time, error) {
	s = strings.TrimSpace(s)
	// Only a time ending in a zone can be RFC 3339; a local time is not tried as one (a failed
	// parse allocates its error, and most claimants write local times).
	if n := len(s); n > 0 && (s[n-1] == 'Z' || s[n-1] == 'z' || n >= 6 && (s[n-6] == '+' || s[n-6] == '-')) {
		if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
			return t.UTC().Truncate(time.Microsecond), nil
		}
		// RFC 3339 allows a space instead of the T; people and spreadsheets use it.
		if len(s) > 10 && s[10] == ' ' {
			if t, err := time.Parse(time.RFC3339Nano, s[:10]+"T"+s[11:]); err == nil {
				return t.UTC().Truncate(time.Microsecond), nil
			}
		}
	}
	// The layouts differ in the T or the space and in the seconds (a second colon; a fraction
	// adds none), so the one the string looks like is the only one that can read it
	// (FuzzParseInstant holds this to trying every layout).
	layout := 0
	if strings.IndexByte(s, ' ') >= 0 {
		layout = 2
	}
	if strings.Count(s, ":") < 2 {
		layout++
	}
	// time.Parse takes a fraction after the seconds even where the layout has none (and with a
	// comma too): keep it to the microsecond like the RFC 3339 form.
	if t, err := time.ParseInLocation(localLayouts[layout], s, loc); err == nil {
		return t.UTC().Truncate(time.Microsecond), nil
	}
	return time.Time{}, errTimeFormat
}

// earliest is the first instant a claim may concern: nothing this service handles is older.
var earliest = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)
