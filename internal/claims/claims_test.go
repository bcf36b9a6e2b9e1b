package claims_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/claimdesk/claimdesk/internal/apperr"
	"github.com/claimdesk/claimdesk/internal/auth"
	"github.com/claimdesk/claimdesk/internal/claims"
	"github.com/claimdesk/claimdesk/internal/intake"
	"github.com/claimdesk/claimdesk/internal/seed"
	"github.com/claimdesk/claimdesk/internal/testdb/casedb"
	"github.com/claimdesk/claimdesk/models"
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

// TestSubmitBesideRunningImport: on PostgreSQL, a claim whose external_ref a running import has
// written and not committed waits a bounded time for it, then is refused as unavailable (503,
// database_busy: the client tries again), where it waited for the import to end (minutes),
// then failed as an internal error.
func TestSubmitBesideRunningImport(t *testing.T) {
	ctx := context.Background()
	st, cs := casedb.Open(t, "postgres")
	svc := &claims.Service{Store: st, Now: time.Now}
	ref := "LK-1"
	in := taxiClaim(intake.ClaimantInput{Name: "홍길동", Email: "hong@example.com"}, "")
	in.ExternalRef = &ref
	b, err := svc.Builder(ctx, seed.Kakao2022)
	if err != nil {
		t.Fatal(err)
	}
	m, err := b.Build(in, claims.Meta{Channel: claims.ChannelImport})
	if err != nil {
		t.Fatal(err)
	}
	m.Reference, m.AccessCodeHash = auth.NewReference(), auth.HashAccessCode(auth.NewAccessCode())
	bulk, err := st.BeginBulk(ctx, cs.ID, b.Case.Revision, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer bulk.Rollback()
	if _, err := bulk.Apply(ctx, []*models.Claim{m}); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	_, err = svc.Submit(ctx, seed.Kakao2022, in, claims.Meta{Channel: claims.ChannelAPI})
	var ae *apperr.Error
	if !errors.As(err, &ae) || ae.Code != apperr.Unavailable || ae.Message != "database_busy" {
		t.Fatalf("after %s: %v, want unavailable database_busy", time.Since(start).Round(time.Millisecond), err)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("refused after %s", d)
	}
}
