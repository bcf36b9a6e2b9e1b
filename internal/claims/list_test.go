package claims_test

import (
	"net/url"
	"testing"
	"time"

	"github.com/claimdesk/claimdesk/internal/apperr"
	"github.com/claimdesk/claimdesk/internal/claims"
)

// TestListFilterSubmittedDays: submitted_from and submitted_to are days in the case's zone,
// both included; a to before from is refused at submitted_to (it used to be compared as to+1,
// so the day before from passed and answered an empty list).
func TestListFilterSubmittedDays(t *testing.T) {
	c := kakao(t)
	day := func(s string) time.Time {
		d, err := time.ParseInLocation(time.DateOnly, s, c.Location)
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	for _, tc := range []struct {
		from, to   string
		ok         bool
		start, end string // the filter's [start, end) when ok
	}{
		{"2022-10-15", "2022-10-15", true, "2022-10-15", "2022-10-16"},
		{"2022-10-15", "2022-10-17", true, "2022-10-15", "2022-10-18"},
		{"2022-10-16", "2022-10-15", false, "", ""},
		{"2022-10-17", "2022-10-15", false, "", ""},
	} {
		f, err := claims.ListFilter(c, url.Values{"submitted_from": {tc.from}, "submitted_to": {tc.to}})
		if !tc.ok {
			e, isApp := err.(*apperr.Error)
			if !isApp || len(e.Fields) != 1 || e.Fields[0].Path != "submitted_to" || e.Fields[0].Code != apperr.FieldEndBeforeStart {
				t.Errorf("%s..%s: %v, want end_before_start at submitted_to", tc.from, tc.to, err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s..%s: %v", tc.from, tc.to, err)
			continue
		}
		if !f.SubmittedFrom.Equal(day(tc.start)) || !f.SubmittedBefore.Equal(day(tc.end)) {
			t.Errorf("%s..%s: [%v, %v), want [%s, %s)", tc.from, tc.to, f.SubmittedFrom, f.SubmittedBefore, tc.start, tc.end)
		}
	}
}
