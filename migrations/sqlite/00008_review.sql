-- +goose Up
-- The lawyer workspace (issue 5): the status lifecycle of claims with its history, duplicate
-- candidates, fraud signals, and users who sign in with a password and a session cookie.

-- cure_deadline is set while a claim is deficient; duplicate_of names the claim it duplicates;
-- fraud_score is the sum of the weights of its signals (claim_signals), kept here to filter on.
ALTER TABLE claims ADD COLUMN cure_deadline DATETIME;
ALTER TABLE claims ADD COLUMN duplicate_of BIGINT;
ALTER TABLE claims ADD COLUMN fraud_score INT NOT NULL DEFAULT 0;
CREATE INDEX claims_deficient_deadline ON claims (cure_deadline) WHERE status = 'deficient';
CREATE INDEX claims_case_score ON claims (case_id, fraud_score, id);
-- Duplicate detection and fraud signals look claims up by contact, IP, name and external_ref.
CREATE INDEX claims_case_email ON claims (case_id, claimant_email) WHERE claimant_email <> '';
CREATE INDEX claims_case_phone ON claims (case_id, claimant_phone) WHERE claimant_phone <> '';
CREATE INDEX claims_case_ip ON claims (case_id, consent_ip, submitted_at) WHERE consent_ip <> '';
CREATE INDEX claims_case_name ON claims (case_id, claimant_name);
CREATE INDEX claims_case_external_ref_lower ON claims (case_id, lower(external_ref)) WHERE external_ref IS NOT NULL;
CREATE INDEX claims_import ON claims (import_id) WHERE import_id IS NOT NULL;
CREATE INDEX claim_items_case_description ON claim_items (case_id, description) WHERE description <> '';

-- Every change of status, with who made it, why and when. Append-only like the audit trail.
CREATE TABLE claim_transitions (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    claim_id      BIGINT NOT NULL REFERENCES claims (id) ON DELETE CASCADE,
    case_id       BIGINT NOT NULL,
    from_status   TEXT NOT NULL,
    to_status     TEXT NOT NULL,
    reasons       TEXT NOT NULL DEFAULT '',
    note          TEXT NOT NULL DEFAULT '',
    cure_deadline DATETIME,
    duplicate_of  BIGINT,
    actor_kind    TEXT NOT NULL,
    actor_id      BIGINT,
    actor_name    TEXT NOT NULL DEFAULT '',
    at            DATETIME NOT NULL
);
CREATE INDEX claim_transitions_claim ON claim_transitions (claim_id, id);

-- Candidate duplicate pairs: claim_id arrived after other_claim_id (the one kept by default).
-- matched lists the rules that matched (email, phone, external_ref), comma-separated.
CREATE TABLE claim_duplicates (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    case_id        BIGINT NOT NULL,
    claim_id       BIGINT NOT NULL REFERENCES claims (id) ON DELETE CASCADE,
    other_claim_id BIGINT NOT NULL REFERENCES claims (id) ON DELETE CASCADE,
    matched        TEXT NOT NULL,
    status         TEXT NOT NULL DEFAULT 'candidate' CHECK (status IN ('candidate', 'duplicate', 'not_duplicate')),
    decided_by     TEXT NOT NULL DEFAULT '',
    decided_at     DATETIME,
    created_at     DATETIME NOT NULL,
    UNIQUE (claim_id, other_claim_id, matched),
    CHECK (claim_id <> other_claim_id)
);
CREATE INDEX claim_duplicates_case ON claim_duplicates (case_id, status, id);

-- Fraud signals of a claim: one row per signal code, with its weight when it was raised.
CREATE TABLE claim_signals (
    claim_id   BIGINT NOT NULL REFERENCES claims (id) ON DELETE CASCADE,
    case_id    BIGINT NOT NULL,
    code       TEXT NOT NULL,
    weight     INT NOT NULL,
    detail     TEXT NOT NULL DEFAULT '',
    created_at DATETIME NOT NULL,
    PRIMARY KEY (claim_id, code)
);
CREATE INDEX claim_signals_case_code ON claim_signals (case_id, code, claim_id);
CREATE INDEX claim_signals_created ON claim_signals (case_id, created_at);

CREATE TABLE users (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    email           TEXT NOT NULL UNIQUE,
    role            TEXT NOT NULL CHECK (role IN ('admin', 'lawyer')),
    password_hash   TEXT NOT NULL,
    created_at      DATETIME NOT NULL,
    disabled_at     DATETIME,
    last_sign_in_at DATETIME
);

-- Sessions are stored as the SHA-256 of the cookie's secret.
CREATE TABLE sessions (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id      BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    token_hash   BLOB NOT NULL UNIQUE,
    created_at   DATETIME NOT NULL,
    last_seen_at DATETIME NOT NULL,
    ip           TEXT NOT NULL DEFAULT ''
);
CREATE INDEX sessions_user ON sessions (user_id);

-- +goose Down
DROP TABLE sessions;
DROP TABLE users;
DROP TABLE claim_signals;
DROP TABLE claim_duplicates;
DROP TABLE claim_transitions;
DROP INDEX claim_items_case_description;
DROP INDEX claims_import;
DROP INDEX claims_case_external_ref_lower;
DROP INDEX claims_case_name;
DROP INDEX claims_case_ip;
DROP INDEX claims_case_phone;
DROP INDEX claims_case_email;
DROP INDEX claims_case_score;
DROP INDEX claims_deficient_deadline;
ALTER TABLE claims DROP COLUMN fraud_score;
ALTER TABLE claims DROP COLUMN duplicate_of;
ALTER TABLE claims DROP COLUMN cure_deadline;
