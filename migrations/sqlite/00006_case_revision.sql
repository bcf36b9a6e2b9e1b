-- +goose Up
-- revision counts the changes of a case's windows and rules. A claim is stored only if the
-- revision it was decided under is still current (see store.CreateClaim), so no claim can be
-- decided against windows or rules that changed meanwhile.
ALTER TABLE cases ADD COLUMN revision BIGINT NOT NULL DEFAULT 1;

-- +goose Down
ALTER TABLE cases DROP COLUMN revision;
