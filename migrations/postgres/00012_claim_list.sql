-- +goose Up
-- The claims list (the lawyers' page and GET /claims): filter by channel, order by estimate,
-- and free-text search by the beginning of a name, an email address or a phone number, each
-- answered from an index on a million items (text_pattern_ops: LIKE 'prefix%' whatever the
-- database's collation).
CREATE INDEX claims_case_channel ON claims (case_id, channel, id);
CREATE INDEX claims_case_estimate ON claims (case_id, (COALESCE(estimate_krw, 0)), id);
-- Item filters by kind (service and eligibility have claim_items_case_service); without the id,
-- so that the index deduplicates to a few entries and a kind no item has is found at once.
CREATE INDEX claim_items_case_kind ON claim_items (case_id, kind, eligibility);
CREATE INDEX claims_case_name_prefix ON claims (case_id, claimant_name text_pattern_ops);
CREATE INDEX claims_case_email_prefix ON claims (case_id, claimant_email text_pattern_ops);
CREATE INDEX claims_case_phone_prefix ON claims (case_id, claimant_phone text_pattern_ops);

-- +goose Down
DROP INDEX claims_case_phone_prefix;
DROP INDEX claims_case_email_prefix;
DROP INDEX claims_case_name_prefix;
DROP INDEX claim_items_case_kind;
DROP INDEX claims_case_estimate;
DROP INDEX claims_case_channel;
