-- +goose Up
-- Nothing to do: SQLite keeps claim_items_window, which its foreign key from claim_items to
-- outage_windows (ON DELETE SET NULL) needs to find a removed window's items. This file keeps
-- the two version lists aligned.
SELECT 1;

-- +goose Down
SELECT 1;
