-- +goose Up
-- Nothing reads claim items by window: revaluation walks a case's claims, and the foreign key
-- the index served was dropped in 00006. Every item paid for it at intake.
DROP INDEX claim_items_window;

-- +goose Down
CREATE INDEX claim_items_window ON claim_items (window_id);
