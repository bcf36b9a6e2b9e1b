-- +goose Up
-- Duplicate detection and fraud signals run after a claim is stored, in batches, by one worker
-- per process. A claim waits here until its pass is done, so a pass a crash cut short is run
-- later (the worker sweeps this table at start and every minute). No foreign key: a row of a
-- claim since deleted costs one empty pass.
CREATE TABLE claim_review_pending (
    claim_id   BIGINT PRIMARY KEY,
    case_id    BIGINT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL
);
-- Identical descriptions are found by their first and last claim: the claim id in the index
-- answers both from its ends instead of reading every item with the description.
CREATE INDEX claim_items_case_description_claim ON claim_items (case_id, description, claim_id) WHERE description <> '';
DROP INDEX claim_items_case_description;
-- Every claim stored updates every index of claims: the lookups by email, phone and name of
-- detection are served by the prefix indexes of the claims list (00012: text_pattern_ops
-- answers = as well as LIKE 'x%'), so their own indexes go.
DROP INDEX claims_case_email;
DROP INDEX claims_case_phone;
DROP INDEX claims_case_name;

-- +goose Down
CREATE INDEX claims_case_name ON claims (case_id, claimant_name);
CREATE INDEX claims_case_phone ON claims (case_id, claimant_phone) WHERE claimant_phone <> '';
CREATE INDEX claims_case_email ON claims (case_id, claimant_email) WHERE claimant_email <> '';
CREATE INDEX claim_items_case_description ON claim_items (case_id, description) WHERE description <> '';
DROP INDEX claim_items_case_description_claim;
DROP TABLE claim_review_pending;
