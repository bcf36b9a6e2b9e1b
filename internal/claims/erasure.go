package claims

import (
	"context"
	"time"

	"github.com/claimdesk/claimdesk/internal/audit"
	"github.com/claimdesk/claimdesk/internal/lifecycle"
	"github.com/claimdesk/claimdesk/models"
)

// ActionErase is the audit action of removing a claim's personal data.
const ActionErase = "erase"

// Reasons a claim's personal data was erased (audit details).
const (
	EraseRequested  = "erasure_request" // an admin acting on the claimant's request (PIPA art. 36, GDPR art. 17)
	EraseWithdrawal = "withdrawal"      // the claimant withdrew the claim
	EraseRetention  = "retention"       // the retention period of a closed claim ran out
)

// ClosedStatuses are the statuses a claim no longer leaves: once the retention period has run
// out after a claim reached one, its personal data is erased.
var ClosedStatuses = []string{lifecycle.Approved, lifecycle.Rejected, lifecycle.Withdrawn, lifecycle.Duplicate}

// Erase removes a claim's personal data (see store.EraseClaim) and audits the act with the
// reason, but not the data. It reports whether anything was erased (false when it already was).
func (s *Service) Erase(ctx context.Context, cl *models.Claim, actor audit.Actor, reason string) (bool, error) {
	now := s.Now()
	return s.Store.EraseClaim(ctx, cl.ID, now, s.Store.DatabaseBlobs(), eraseEvent(cl.CaseID, actor, reason, now))
}

// eraseEvent makes the audit event of an erasure from the claim as it was.
func eraseEvent(caseID int64, actor audit.Actor, reason string, now time.Time) func(before *models.Claim) (*models.AuditEvent, error) {
	return func(before *models.Claim) (*models.AuditEvent, error) {
		return audit.Event{Actor: actor, CaseID: &caseID, Action: ActionErase, Entity: audit.EntityClaim, EntityID: before.Reference,
			Details: map[string]any{"reason": reason, "status": before.Status}}.Model(now)
	}
}

// EraseExpired erases the personal data of every closed claim last changed more than
// retention ago, as the system, and returns how many it erased. The rows imports rejected
// go by the same period from the end of their import (store.ClearRejectedRows): they hold
// the same data, and no erasure of a claim reaches them.
func (s *Service) EraseExpired(ctx context.Context, retention time.Duration) (int, error) {
	cutoff := s.Now().Add(-retention)
	if _, err := s.Store.ClearRejectedRows(ctx, cutoff); err != nil {
		return 0, err
	}
	return s.eraseClosed(ctx, ClosedStatuses, cutoff, EraseRetention)
}

// EraseWithdrawn erases, as the system, the personal data of every withdrawn claim that still
// holds it, and returns how many it erased. A withdrawal and its erasure commit together
// (Store.TransitionAndErase), but an earlier version made them two transactions and left a
// claim withdrawn with its data when the second failed; nothing else reaches such a claim
// before the retention period, which is off by default. The service runs it at start (and
// again every hour until it has succeeded once).
func (s *Service) EraseWithdrawn(ctx context.Context) (int, error) {
	return s.eraseClosed(ctx, []string{lifecycle.Withdrawn}, time.Time{}, EraseWithdrawal)
}

// eraseClosed erases for reason, as the system job of that name, every claim in one of
// statuses, last changed before cutoff (the zero time: whenever) and not erased yet, and
// returns how many it erased.
func (s *Service) eraseClosed(ctx context.Context, statuses []string, cutoff time.Time, reason string) (int, error) {
	cases, err := s.Store.Cases(ctx)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, c := range cases {
		for {
			due, err := s.Store.ClosedUnerased(ctx, c.ID, statuses, cutoff, 200)
			if err != nil {
				return n, err
			}
			if len(due) == 0 {
				break
			}
			for i := range due {
				erased, err := s.Erase(ctx, &due[i], audit.Actor{Kind: audit.ActorSystem, Name: reason}, reason)
				if err != nil {
					return n, err
				}
				if erased {
					n++
				}
			}
		}
	}
	return n, nil
}
