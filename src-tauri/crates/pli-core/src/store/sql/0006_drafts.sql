-- Drafts of the compose window, saved continuously into the encrypted cache (never into the
-- webview's own storage, which is not encrypted). One row per compose: a new message, or a
-- reply / forward of a given message (`key` is chosen by the UI). `content` is the JSON of the
-- typed fields; `files` the JSON of the attached files, updated only when they change.
CREATE TABLE drafts (
    key        TEXT PRIMARY KEY,
    account    TEXT,
    content    TEXT NOT NULL,
    files      TEXT,
    updated_at INTEGER NOT NULL
);
CREATE INDEX drafts_updated ON drafts(updated_at DESC);
