-- +goose Up
-- Nothing to do: SQLite's LIKE already ignores the case of ASCII letters, which is what the
-- PostgreSQL migration's index gives the claims list's name search there. This file keeps the
-- two version lists aligned.
SELECT 1;

-- +goose Down
SELECT 1;
