package claims_test

import (
	"testing"
	"time"

	"github.com/claimdesk/claimdesk/internal/claims"
)

// TestWindowInputsRoundTrip: windows written out (the audit trail, the form a lawyer starts
// from) read back as the same instants, fractions of a second included (intake keeps
// microseconds; written as whole seconds, an edge at 01:31:00.5 moved to 01:31:00).
func TestWindowInputsRoundTrip(t *testing.T) {
	c := kakao(t)
	ws := c.Windows[:2]
	ws[0].StartAt = ws[0].StartAt.Add(500 * time.Millisecond)
	ws[1].EndAt = ws[1].EndAt.Add(123456 * time.Microsecond)
	back, err := claims.ParseWindows(claims.WindowInputs(ws, c.Location), c)
	if err != nil {
		t.Fatal(err)
	}
	for i := range ws {
		if !back[i].StartAt.Equal(ws[i].StartAt) || !back[i].EndAt.Equal(ws[i].EndAt) {
			t.Errorf("window %d: [%v, %v) read back as [%v, %v)", i, ws[i].StartAt, ws[i].EndAt, back[i].StartAt, back[i].EndAt)
		}
	}
}
