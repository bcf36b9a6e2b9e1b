-- +goose Up
-- Nothing to do: the claims list's name search matches lower(claimant_name), ASCII letters
-- only, as the PostgreSQL migration's index does; SQLite's sizes need no index for it.
SELECT 1;

-- +goose Down
SELECT 1;
