-- +goose Up
-- The claims list: filter by channel, order by estimate (see the PostgreSQL migration; SQLite's
-- LIKE is case-insensitive and uses no index, which its sizes do not need).
CREATE INDEX claims_case_channel ON claims (case_id, channel, id);
CREATE INDEX claims_case_estimate ON claims (case_id, (COALESCE(estimate_krw, 0)), id);
-- Item filters by kind (service and eligibility have claim_items_case_service); without the id,
-- so that the index deduplicates to a few entries and a kind no item has is found at once.
CREATE INDEX claim_items_case_kind ON claim_items (case_id, kind, eligibility);

-- +goose Down
DROP INDEX claim_items_case_kind;
DROP INDEX claims_case_estimate;
DROP INDEX claims_case_channel;
