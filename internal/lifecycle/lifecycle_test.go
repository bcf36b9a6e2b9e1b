package lifecycle

import (
	"slices"
	"testing"
	"time"

	"github.com/claimdesk/claimdesk/internal/apperr"
	"github.com/claimdesk/claimdesk/internal/messages"
)

// TestTable checks every pair of statuses against the lifecycle of issue 5.
func TestTable(t *testing.T) {
	now := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	past := now.Add(-time.Hour)
	allowed := map[[2]string]bool{
		{Received, UnderReview}: true, {UnderReview, Approved}: true, {UnderReview, Rejected}: true,
		{UnderReview, Deficient}: true, {Deficient, Cured}: true, {Cured, UnderReview}: true, {Deficient, Rejected}: true,
	}
	for _, open := range OpenStatuses {
		allowed[[2]string{open, Withdrawn}] = true
		allowed[[2]string{open, Duplicate}] = true
	}
	for _, from := range Statuses {
		for _, to := range Statuses {
			req := Request{To: to, Reasons: []string{ReasonOther}, Note: "n"}
			if to == Duplicate {
				req.DuplicateOf = "CD-0000-0000-0000"
			}
			_, err := Check(Current{Status: from, CureDeadline: &past}, req, now)
			if got := err == nil; got != allowed[[2]string{from, to}] {
				t.Errorf("%s -> %s: allowed %v, err %v", from, to, got, err)
			}
			if err != nil && !apperr.Is(err, apperr.InvalidTransition) {
				t.Errorf("%s -> %s: %v", from, to, err)
			}
		}
	}
}

func TestDeficiencyDeadline(t *testing.T) {
	now := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	d, err := Check(Current{Status: UnderReview}, Request{To: Deficient, Reasons: []string{ReasonMissingEvidence}}, now)
	if err != nil || !d.CureDeadline.Equal(now.AddDate(0, 0, DefaultCureDays)) {
		t.Fatalf("%v %v", d, err)
	}
	future := now.Add(time.Hour)
	_, err = Check(Current{Status: Deficient, CureDeadline: &future}, Request{To: Rejected, Reasons: []string{ReasonCureDeadlinePassed}}, now)
	if !apperr.Is(err, apperr.InvalidTransition) {
		t.Fatalf("rejected during the cure period: %v", err)
	}
	days := 0
	if _, err := Check(Current{Status: UnderReview}, Request{To: Deficient, Reasons: []string{ReasonMissingEvidence}, CureDays: &days}, now); !apperr.Is(err, apperr.Invalid) {
		t.Fatalf("0 cure days: %v", err)
	}
}

// Every reason code has texts in both languages.
func TestReasonTexts(t *testing.T) {
	for _, r := range Reasons() {
		if !messages.Has("reason_" + r) {
			t.Errorf("no text for reason %s", r)
		}
	}
	if !slices.IsSorted(Reasons()) {
		t.Error("reasons not sorted")
	}
}

// AllowedAt is what Check accepts: rejection of a deficient claim only after its deadline.
func TestAllowedAt(t *testing.T) {
	now := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	later, earlier := now.Add(time.Hour), now.Add(-time.Hour)
	for _, c := range []struct {
		cur      Current
		rejected bool
	}{
		{Current{Status: Deficient, CureDeadline: &later}, false},
		{Current{Status: Deficient, CureDeadline: &earlier}, true},
		{Current{Status: UnderReview}, true},
	} {
		got := AllowedAt(c.cur, now)
		if slices.Contains(got, Rejected) != c.rejected {
			t.Errorf("%+v: %v", c.cur, got)
		}
		for _, to := range Allowed(c.cur.Status) {
			req := Request{To: to, Reasons: ReasonsFor(to)[:1], DuplicateOf: "CD-0000-0000-0000"}
			if to != Duplicate {
				req.DuplicateOf = ""
			}
			_, err := Check(c.cur, req, now)
			if allowed := slices.Contains(got, to); allowed != (err == nil || !apperr.Is(err, apperr.InvalidTransition)) {
				t.Errorf("%+v -> %s: AllowedAt says %v, Check says %v", c.cur, to, allowed, err)
			}
		}
	}
}
