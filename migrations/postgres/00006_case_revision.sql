-- +goose Up
-- revision counts the changes of a case's windows and rules. A claim is stored only if the
-- revision it was decided under is still current (see store.CreateClaim), so no claim can be
-- decided against windows or rules that changed meanwhile.
ALTER TABLE cases ADD COLUMN revision BIGINT NOT NULL DEFAULT 1;

-- Foreign keys to hot parent rows make every insert take FOR KEY SHARE on the same row (the
-- case, the window), and concurrent key-share lockers of one row go through MultiXacts, which
-- capped intake throughput (measured: see internal/loadtest). Cases are never deleted, and a
-- window's items are re-pointed in the transaction that replaces it, so these keys guard
-- nothing the application does not already guarantee. claim_items.claim_id keeps its key.
ALTER TABLE claims DROP CONSTRAINT claims_case_id_fkey;
ALTER TABLE claim_items DROP CONSTRAINT claim_items_case_id_fkey;
ALTER TABLE claim_items DROP CONSTRAINT claim_items_window_id_fkey;

-- +goose Down
ALTER TABLE claim_items ADD CONSTRAINT claim_items_window_id_fkey FOREIGN KEY (window_id) REFERENCES outage_windows (id) ON DELETE SET NULL;
ALTER TABLE claim_items ADD CONSTRAINT claim_items_case_id_fkey FOREIGN KEY (case_id) REFERENCES cases (id);
ALTER TABLE claims ADD CONSTRAINT claims_case_id_fkey FOREIGN KEY (case_id) REFERENCES cases (id);
ALTER TABLE cases DROP COLUMN revision;
