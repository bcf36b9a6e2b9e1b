-- +goose Up
-- sessions_ended_at: when the claimant's status-page sessions of the claim were last ended (a
-- sign-out, the withdrawal, an erasure). A session is a signed cookie the server keeps no row
-- of, so without this a copy of it (another browser, a shared computer) stayed valid for its
-- 30 minutes after any of those; a cookie issued at or before this instant is now refused
-- (api/web claimOf, which loads the claim anyway). Microseconds, as timestamptz keeps them:
-- a sign-in and a sign-out within one second still end the session.
ALTER TABLE claims ADD COLUMN sessions_ended_at TIMESTAMPTZ;

-- +goose Down
ALTER TABLE claims DROP COLUMN sessions_ended_at;
