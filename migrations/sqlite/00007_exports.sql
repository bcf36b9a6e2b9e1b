-- +goose Up
-- Background exports (issue 6): a large export runs as a job on the jobs queue; its file is
-- kept in chunks (so any instance can serve the download) until it expires.
CREATE TABLE exports (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    case_id     BIGINT NOT NULL REFERENCES cases (id),
    token_id    BIGINT,
    created_by  TEXT NOT NULL DEFAULT '',
    entity      TEXT NOT NULL CHECK (entity IN ('claims', 'plaintiffs')),
    format      TEXT NOT NULL CHECK (format IN ('csv', 'xlsx', 'ndjson')),
    params      TEXT NOT NULL DEFAULT '{}',
    status      TEXT NOT NULL CHECK (status IN ('queued', 'running', 'succeeded', 'failed')),
    rows_total  BIGINT NOT NULL DEFAULT 0 CHECK (rows_total >= 0),
    rows_done   BIGINT NOT NULL DEFAULT 0 CHECK (rows_done >= 0),
    size_bytes  BIGINT NOT NULL DEFAULT 0 CHECK (size_bytes >= 0),
    error       TEXT NOT NULL DEFAULT '',
    created_at  DATETIME NOT NULL,
    started_at  DATETIME,
    finished_at DATETIME,
    expires_at  DATETIME NOT NULL
);
CREATE INDEX exports_token ON exports (token_id, id);

CREATE TABLE export_chunks (
    export_id BIGINT NOT NULL REFERENCES exports (id) ON DELETE CASCADE,
    seq       INTEGER NOT NULL,
    data      BLOB NOT NULL,
    PRIMARY KEY (export_id, seq)
);

-- +goose Down
DROP TABLE export_chunks;
DROP TABLE exports;
