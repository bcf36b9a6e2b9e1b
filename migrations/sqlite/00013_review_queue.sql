-- +goose Up
-- See the PostgreSQL migration: claims waiting for their detection pass, and identical
-- descriptions found from the ends of an index.
CREATE TABLE claim_review_pending (
    claim_id   INTEGER PRIMARY KEY,
    case_id    INTEGER NOT NULL,
    created_at DATETIME NOT NULL
);
CREATE INDEX claim_items_case_description_claim ON claim_items (case_id, description, claim_id) WHERE description <> '';
DROP INDEX claim_items_case_description;

-- +goose Down
CREATE INDEX claim_items_case_description ON claim_items (case_id, description) WHERE description <> '';
DROP INDEX claim_items_case_description_claim;
DROP TABLE claim_review_pending;
