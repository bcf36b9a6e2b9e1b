-- +goose Up
CREATE TABLE cases (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    slug       TEXT NOT NULL UNIQUE,
    name_ko    TEXT NOT NULL,
    name_en    TEXT NOT NULL,
    time_zone  TEXT NOT NULL,
    created_at DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP
);

CREATE TABLE case_services (
    id       INTEGER PRIMARY KEY AUTOINCREMENT,
    case_id  BIGINT NOT NULL REFERENCES cases (id) ON DELETE CASCADE,
    slug     TEXT NOT NULL,
    name_ko  TEXT NOT NULL,
    name_en  TEXT NOT NULL,
    kinds    TEXT NOT NULL,
    position INTEGER NOT NULL DEFAULT 0,
    UNIQUE (case_id, slug)
);

CREATE TABLE case_features (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    service_id BIGINT NOT NULL REFERENCES case_services (id) ON DELETE CASCADE,
    slug       TEXT NOT NULL,
    name_ko    TEXT NOT NULL,
    name_en    TEXT NOT NULL,
    position   INTEGER NOT NULL DEFAULT 0,
    UNIQUE (service_id, slug)
);

CREATE TABLE outage_windows (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    case_id    BIGINT NOT NULL REFERENCES cases (id) ON DELETE CASCADE,
    service    TEXT NOT NULL,
    feature    TEXT NOT NULL,
    severity   TEXT NOT NULL CHECK (severity IN ('down', 'degraded')),
    start_at   DATETIME NOT NULL,
    end_at     DATETIME NOT NULL,
    source     TEXT NOT NULL DEFAULT '',
    confidence TEXT NOT NULL DEFAULT '',
    CHECK (end_at > start_at)
);
CREATE INDEX outage_windows_case ON outage_windows (case_id, service, feature, start_at);

CREATE TABLE claims (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    case_id          BIGINT NOT NULL REFERENCES cases (id),
    reference        TEXT NOT NULL UNIQUE,
    access_code_hash BLOB NOT NULL,
    external_ref     TEXT,
    content_hash     TEXT NOT NULL,
    status           TEXT NOT NULL DEFAULT 'received',
    channel          TEXT NOT NULL CHECK (channel IN ('web', 'api', 'import')),
    claimant_name    TEXT NOT NULL,
    claimant_email   TEXT NOT NULL DEFAULT '',
    claimant_phone   TEXT NOT NULL DEFAULT '',
    claimant_locale  TEXT NOT NULL DEFAULT 'ko',
    consent_at       DATETIME NOT NULL,
    consent_version  TEXT NOT NULL,
    consent_ip       TEXT NOT NULL DEFAULT '',
    import_id        BIGINT,
    rules_version    INTEGER,
    valued_as_of     TEXT,
    principal_krw    BIGINT CHECK (principal_krw >= 0),
    interest_krw     BIGINT CHECK (interest_krw >= 0),
    estimate_krw     BIGINT CHECK (estimate_krw >= 0),
    submitted_at     DATETIME NOT NULL,
    updated_at       DATETIME NOT NULL
);
CREATE UNIQUE INDEX claims_case_external_ref ON claims (case_id, external_ref) WHERE external_ref IS NOT NULL;
CREATE INDEX claims_case_id ON claims (case_id, id);
CREATE INDEX claims_case_status ON claims (case_id, status, id);
CREATE INDEX claims_case_submitted ON claims (case_id, submitted_at);

CREATE TABLE claim_items (
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
CREATE INDEX claim_items_case_service ON claim_items (case_id, service, eligibility);
CREATE INDEX claim_items_window ON claim_items (window_id);

CREATE TABLE api_tokens (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    name         TEXT NOT NULL,
    role         TEXT NOT NULL CHECK (role IN ('admin', 'lawyer', 'importer')),
    token_hash   BLOB NOT NULL UNIQUE,
    created_at   DATETIME NOT NULL,
    last_used_at DATETIME,
    revoked_at   DATETIME
);

CREATE TABLE rule_sets (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    case_id    BIGINT NOT NULL REFERENCES cases (id) ON DELETE CASCADE,
    version    INTEGER NOT NULL,
    rules      TEXT NOT NULL,
    created_at DATETIME NOT NULL,
    created_by TEXT NOT NULL,
    UNIQUE (case_id, version)
);

-- +goose Down
DROP TABLE rule_sets;
DROP TABLE api_tokens;
DROP TABLE claim_items;
DROP TABLE claims;
DROP TABLE outage_windows;
DROP TABLE case_features;
DROP TABLE case_services;
DROP TABLE cases;
