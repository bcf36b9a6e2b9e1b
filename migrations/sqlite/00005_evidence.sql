-- +goose Up
-- Evidence files claimants upload from the status page (issue 7): receipts and screenshots.
-- The row says what the file is; the bytes live behind a storage interface (the evidence_blobs
-- table by default, or files under the data directory), keyed by storage_key.
CREATE TABLE evidence (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    claim_id     BIGINT NOT NULL REFERENCES claims (id) ON DELETE CASCADE,
    case_id      BIGINT NOT NULL REFERENCES cases (id),
    file_name    TEXT NOT NULL DEFAULT '',
    content_type TEXT NOT NULL CHECK (content_type IN ('image/jpeg', 'image/png', 'application/pdf', 'image/heic')),
    size_bytes   BIGINT NOT NULL CHECK (size_bytes > 0),
    sha256       TEXT NOT NULL,
    storage_key  TEXT NOT NULL UNIQUE,
    uploaded_ip  TEXT NOT NULL DEFAULT '',
    created_at   DATETIME NOT NULL
);
CREATE INDEX evidence_claim ON evidence (claim_id, id);

CREATE TABLE evidence_blobs (
    storage_key TEXT PRIMARY KEY,
    content     BLOB NOT NULL
);

-- +goose Down
DROP TABLE evidence_blobs;
DROP TABLE evidence;
