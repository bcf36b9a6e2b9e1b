-- +goose Up
-- An item is its claim's line: (claim_id, position) is its key. The surrogate id cost every
-- item at intake a sequence step and an entry in an index of its own (claim_items_pkey), and
-- nothing found an item by it that the claim and the position do not find. Their unique
-- constraint gives way to the primary key on the same columns (a constraint's index cannot be
-- handed over to another constraint, so the index is built again, with the table locked:
-- intake waits for the build, a few seconds per million items).
ALTER TABLE claim_items
    DROP COLUMN id,
    DROP CONSTRAINT claim_items_claim_id_position_key,
    ADD CONSTRAINT claim_items_pkey PRIMARY KEY (claim_id, position);

-- +goose Down
ALTER TABLE claim_items DROP CONSTRAINT claim_items_pkey;
ALTER TABLE claim_items ADD CONSTRAINT claim_items_claim_id_position_key UNIQUE (claim_id, position);
ALTER TABLE claim_items ADD COLUMN id BIGSERIAL PRIMARY KEY;
