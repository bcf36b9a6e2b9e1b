-- +goose Up
-- erased_at: when a claim's personal data was removed (an admin's erasure, the claimant's
-- withdrawal, or retention); the claim stays, anonymous, for the totals and the audit trail.
ALTER TABLE claims ADD COLUMN erased_at DATETIME;

-- +goose Down
ALTER TABLE claims DROP COLUMN erased_at;
