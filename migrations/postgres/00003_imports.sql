-- +goose Up
-- Batch imports (issue 4): the upload itself (in chunks, so any instance can run it and a
-- restart resumes it), its status and counters, the rejected rows, and the job queue that
-- runs imports in the background.
CREATE TABLE imports (
    id               BIGSERIAL PRIMARY KEY,
    case_id          BIGINT NOT NULL REFERENCES cases (id),
    token_id         BIGINT,
    created_by       TEXT NOT NULL DEFAULT '',
    format           TEXT NOT NULL CHECK (format IN ('csv', 'ndjson')),
    dry_run          BOOLEAN NOT NULL DEFAULT FALSE,
    max_error_rate   DOUBLE PRECISION CHECK (max_error_rate >= 0 AND max_error_rate <= 1),
    attestation      TEXT NOT NULL,
    status           TEXT NOT NULL CHECK (status IN ('receiving', 'queued', 'running', 'succeeded', 'failed', 'cancelled')),
    reason           TEXT NOT NULL DEFAULT '',
    reason_params    TEXT NOT NULL DEFAULT '',
    header           TEXT NOT NULL DEFAULT '',
    size_bytes       BIGINT NOT NULL DEFAULT 0 CHECK (size_bytes >= 0),
    rows_read        BIGINT NOT NULL DEFAULT 0,
    claims_created   BIGINT NOT NULL DEFAULT 0,
    claims_unchanged BIGINT NOT NULL DEFAULT 0,
    claims_rejected  BIGINT NOT NULL DEFAULT 0,
    rows_rejected    BIGINT NOT NULL DEFAULT 0,
    cancel_requested BOOLEAN NOT NULL DEFAULT FALSE,
    attempts         INT NOT NULL DEFAULT 0,
    created_at       TIMESTAMPTZ NOT NULL,
    started_at       TIMESTAMPTZ,
    finished_at      TIMESTAMPTZ
);
CREATE INDEX imports_token ON imports (token_id, id);

CREATE TABLE import_chunks (
    import_id BIGINT NOT NULL REFERENCES imports (id) ON DELETE CASCADE,
    seq       INT NOT NULL,
    data      BYTEA NOT NULL,
    PRIMARY KEY (import_id, seq)
);

CREATE TABLE import_errors (
    id           BIGSERIAL PRIMARY KEY,
    import_id    BIGINT NOT NULL REFERENCES imports (id) ON DELETE CASCADE,
    error_row    BIGINT NOT NULL,
    error_column TEXT NOT NULL DEFAULT '',
    error_code   TEXT NOT NULL DEFAULT '',
    message_key  TEXT NOT NULL DEFAULT '',
    params       TEXT NOT NULL DEFAULT '',
    raw          TEXT NOT NULL DEFAULT ''
);
CREATE INDEX import_errors_import ON import_errors (import_id, id);

-- jobs is the work queue: claimed with FOR UPDATE SKIP LOCKED under a lease (unix ms), so
-- several instances share it and the job of a dead worker is taken over when its lease ends.
CREATE TABLE jobs (
    id           BIGSERIAL PRIMARY KEY,
    kind         TEXT NOT NULL,
    ref_id       BIGINT NOT NULL,
    status       TEXT NOT NULL CHECK (status IN ('queued', 'running', 'done', 'failed')),
    attempts     INT NOT NULL DEFAULT 0,
    run_after    BIGINT NOT NULL DEFAULT 0,
    locked_by    TEXT NOT NULL DEFAULT '',
    locked_until BIGINT NOT NULL DEFAULT 0,
    last_error   TEXT NOT NULL DEFAULT '',
    created_at   TIMESTAMPTZ NOT NULL,
    finished_at  TIMESTAMPTZ
);
CREATE INDEX jobs_pending ON jobs (status, id) WHERE status IN ('queued', 'running');

-- +goose Down
DROP TABLE jobs;
DROP TABLE import_errors;
DROP TABLE import_chunks;
DROP TABLE imports;
