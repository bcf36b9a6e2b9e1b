-- +goose Up
-- An item is its claim's line: (claim_id, position) is its key (see the PostgreSQL migration).
-- SQLite cannot change a table's key in place, so the table is made again, WITHOUT ROWID: the
-- rows are stored in the key's b-tree, which was a separate unique index beside the rowid
-- table, so an item is written to one b-tree fewer, and AUTOINCREMENT's sqlite_sequence row is
-- no longer updated with it. The keys to cases and outage_windows go, as they went on
-- PostgreSQL in 00006 (cases are never deleted; revaluation re-points the items of a replaced
-- window in the transaction that replaces it), and with them claim_items_window, which only
-- the window key needed.
CREATE TABLE claim_items_new (
    claim_id             BIGINT NOT NULL REFERENCES claims (id) ON DELETE CASCADE,
    case_id              BIGINT NOT NULL,
    position             INTEGER NOT NULL,
    kind                 TEXT NOT NULL,
    service              TEXT NOT NULL,
    feature              TEXT NOT NULL,
    occurred_at          DATETIME NOT NULL,
    ended_at             DATETIME,
    failure              TEXT NOT NULL DEFAULT '',
    purpose              TEXT NOT NULL DEFAULT '',
    expected_fare_krw    BIGINT NOT NULL DEFAULT 0 CHECK (expected_fare_krw >= 0),
    alternative_cost_krw BIGINT NOT NULL DEFAULT 0 CHECK (alternative_cost_krw >= 0),
    amount_krw           BIGINT NOT NULL DEFAULT 0 CHECK (amount_krw >= 0),
    loss_krw             BIGINT NOT NULL DEFAULT 0 CHECK (loss_krw >= 0),
    documented           BOOLEAN NOT NULL DEFAULT 0,
    description          TEXT NOT NULL DEFAULT '',
    eligibility          TEXT NOT NULL CHECK (eligibility IN ('eligible', 'eligible_degraded', 'ineligible')),
    eligibility_code     TEXT NOT NULL,
    window_id            BIGINT,
    principal_krw        BIGINT CHECK (principal_krw >= 0),
    interest_krw         BIGINT CHECK (interest_krw >= 0),
    PRIMARY KEY (claim_id, position)
) WITHOUT ROWID;
INSERT INTO claim_items_new (claim_id, case_id, position, kind, service, feature, occurred_at, ended_at, failure, purpose,
    expected_fare_krw, alternative_cost_krw, amount_krw, loss_krw, documented, description, eligibility, eligibility_code,
    window_id, principal_krw, interest_krw)
SELECT claim_id, case_id, position, kind, service, feature, occurred_at, ended_at, failure, purpose,
    expected_fare_krw, alternative_cost_krw, amount_krw, loss_krw, documented, description, eligibility, eligibility_code,
    window_id, principal_krw, interest_krw
FROM claim_items;
DROP TABLE claim_items;
ALTER TABLE claim_items_new RENAME TO claim_items;
CREATE INDEX claim_items_case_service ON claim_items (case_id, service, eligibility);
CREATE INDEX claim_items_case_kind ON claim_items (case_id, kind, eligibility);
CREATE INDEX claim_items_case_description_claim ON claim_items (case_id, description, claim_id) WHERE description <> '';

-- +goose Down
-- The window key comes back: an item naming a window deleted meanwhile names none, as the
-- key's ON DELETE SET NULL would have left it.
CREATE TABLE claim_items_old (
    id                   INTEGER PRIMARY KEY AUTOINCREMENT,
    claim_id             BIGINT NOT NULL REFERENCES claims (id) ON DELETE CASCADE,
    case_id              BIGINT NOT NULL REFERENCES cases (id),
    position             INTEGER NOT NULL,
    kind                 TEXT NOT NULL,
    service              TEXT NOT NULL,
    feature              TEXT NOT NULL,
    occurred_at          DATETIME NOT NULL,
    ended_at             DATETIME,
    failure              TEXT NOT NULL DEFAULT '',
    purpose              TEXT NOT NULL DEFAULT '',
    expected_fare_krw    BIGINT NOT NULL DEFAULT 0 CHECK (expected_fare_krw >= 0),
    alternative_cost_krw BIGINT NOT NULL DEFAULT 0 CHECK (alternative_cost_krw >= 0),
    amount_krw           BIGINT NOT NULL DEFAULT 0 CHECK (amount_krw >= 0),
    loss_krw             BIGINT NOT NULL DEFAULT 0 CHECK (loss_krw >= 0),
    documented           BOOLEAN NOT NULL DEFAULT 0,
    description          TEXT NOT NULL DEFAULT '',
    eligibility          TEXT NOT NULL CHECK (eligibility IN ('eligible', 'eligible_degraded', 'ineligible')),
    eligibility_code     TEXT NOT NULL,
    window_id            BIGINT REFERENCES outage_windows (id) ON DELETE SET NULL,
    principal_krw        BIGINT CHECK (principal_krw >= 0),
    interest_krw         BIGINT CHECK (interest_krw >= 0),
    UNIQUE (claim_id, position)
);
INSERT INTO claim_items_old (claim_id, case_id, position, kind, service, feature, occurred_at, ended_at, failure, purpose,
    expected_fare_krw, alternative_cost_krw, amount_krw, loss_krw, documented, description, eligibility, eligibility_code,
    window_id, principal_krw, interest_krw)
SELECT claim_id, case_id, position, kind, service, feature, occurred_at, ended_at, failure, purpose,
    expected_fare_krw, alternative_cost_krw, amount_krw, loss_krw, documented, description, eligibility, eligibility_code,
    CASE WHEN window_id IN (SELECT id FROM outage_windows) THEN window_id END, principal_krw, interest_krw
FROM claim_items ORDER BY claim_id, position;
DROP TABLE claim_items;
ALTER TABLE claim_items_old RENAME TO claim_items;
CREATE INDEX claim_items_case_service ON claim_items (case_id, service, eligibility);
CREATE INDEX claim_items_window ON claim_items (window_id);
CREATE INDEX claim_items_case_kind ON claim_items (case_id, kind, eligibility);
CREATE INDEX claim_items_case_description_claim ON claim_items (case_id, description, claim_id) WHERE description <> '';
