-- +goose Up
-- The last foreign key on the intake path goes the way of those 00006 dropped. Every item
-- inserted ran a check of its claim (a query and a FOR KEY SHARE lock on the claim's row) in
-- the statement that had just inserted that claim: about 15 µs of PostgreSQL's time per claim
-- of three items, 15% of intake throughput (measured with internal/loadtest's harness: 9.3-10.2k
-- against 10.6-11.1k claims/s sustained). It guards nothing the writers do not already
-- guarantee: items are written only with their claim, under the id that write took, in the
-- same statement (store.CreateClaims, for every submission) or the same transaction (the
-- import's COPY); and claims are never deleted (erasure and withdrawal anonymise in place), so
-- its ON DELETE CASCADE never fired. SQLite keeps its key: there the check is a rowid lookup,
-- and turning it off gained nothing measurable.
ALTER TABLE claim_items DROP CONSTRAINT claim_items_claim_id_fkey;

-- +goose Down
ALTER TABLE claim_items ADD CONSTRAINT claim_items_claim_id_fkey FOREIGN KEY (claim_id) REFERENCES claims (id) ON DELETE CASCADE;
