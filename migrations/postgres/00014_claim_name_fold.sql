-- +goose Up
-- The claims list's name search ignores the case of ASCII letters ("jane" finds "Jane Park"),
-- as on SQLite: it matches lower(claimant_name COLLATE "C"), which lowers ASCII letters only
-- whatever the database's locale, so both engines find the same claims (store.searchCond).
-- Detection finds namesakes through the same index (store.SameNameClaims compares the folded
-- names, then the names), so the exact-name index goes: every claim pays for each index of
-- claims at intake.
CREATE INDEX claims_case_name_fold ON claims (case_id, lower(claimant_name COLLATE "C") text_pattern_ops);
DROP INDEX claims_case_name_prefix;

-- +goose Down
CREATE INDEX claims_case_name_prefix ON claims (case_id, claimant_name text_pattern_ops);
DROP INDEX claims_case_name_fold;
