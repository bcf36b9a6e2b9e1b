package claims

import (
	"context"
	"errors"

	"github.com/claimdesk/claimdesk/internal/apperr"
	"github.com/claimdesk/claimdesk/internal/store"
)

// staleAttempts bounds how often a bulk write is decided again because the case changed
// under it: a change of windows or rules is a rare, deliberate act, so more than a couple in
// a row means something is wrong, and the caller is told to try later.
const staleAttempts = 3

// WithBuilder runs fn with a Builder of the case, as the bulk paths (imports, the batch
// endpoint) need: fn decides its claims with the Builder and stores them with
// store.BeginBulk at the Builder's Case.Revision. When fn returns store.ErrStale (the windows
// or rules changed since the snapshot, possibly through another instance), the snapshot is
// dropped and fn runs again with a fresh Builder, a bounded number of times; then the error is
// unavailable (503: send again).
func (s *Service) WithBuilder(ctx context.Context, caseSlug string, fn func(*Builder) error) error {
	for range staleAttempts {
		b, err := s.Builder(ctx, caseSlug)
		if err != nil {
			return err
		}
		err = fn(b)
		if !errors.Is(err, store.ErrStale) {
			return err
		}
		s.forget(caseSlug)
	}
	return apperr.Wrap(apperr.Unavailable, "", store.ErrStale)
}
