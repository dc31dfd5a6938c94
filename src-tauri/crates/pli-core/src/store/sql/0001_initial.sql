-- Pli cache, schema 1. Times are Unix seconds (UTC). Addresses are stored lower-cased.

CREATE TABLE accounts (
    id           INTEGER PRIMARY KEY,
    address      TEXT NOT NULL UNIQUE,
    kind         TEXT NOT NULL,               -- PER / ORG / APP / CAB
    display_name TEXT,
    created_at   INTEGER NOT NULL
);

CREATE TABLE folders (
    id            INTEGER PRIMARY KEY,
    account_id    INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    name          TEXT NOT NULL,              -- server name (modified UTF-7 decoded by the server list)
    delimiter     TEXT,
    special_use   TEXT,                       -- \Sent, \Drafts, \Trash, \Archive, \Junk, \All, \Flagged
    selectable    INTEGER NOT NULL DEFAULT 1,
    uidvalidity   INTEGER,
    uidnext       INTEGER,                    -- UIDNEXT when the last sync finished
    highestmodseq INTEGER,                    -- HIGHESTMODSEQ when the last sync finished (CONDSTORE)
    fetched_below INTEGER,                    -- newest-first walk: every UID >= this is fetched
    last_full_scan INTEGER,                   -- time of the last full flag scan (no CONDSTORE)
    exists_count  INTEGER,
    UNIQUE (account_id, name)
);

CREATE TABLE messages (
    id            INTEGER PRIMARY KEY,
    folder_id     INTEGER NOT NULL REFERENCES folders(id) ON DELETE CASCADE,
    uid           INTEGER NOT NULL,
    message_id    TEXT,                       -- without angle brackets
    in_reply_to   TEXT,
    refs          TEXT,                       -- References, space separated
    thread_key    TEXT,                       -- first Reference, else In-Reply-To, else Message-ID
    from_addr     TEXT,
    from_name     TEXT,
    to_addrs      TEXT,                       -- comma separated
    cc_addrs      TEXT,
    subject       TEXT,
    sent_at       INTEGER,                    -- Date header
    received_at   INTEGER,                    -- INTERNALDATE
    flags         TEXT NOT NULL DEFAULT '',   -- server flags, space separated, sorted
    seen          INTEGER NOT NULL DEFAULT 0,
    flagged       INTEGER NOT NULL DEFAULT 0,
    size          INTEGER,
    modseq        INTEGER,
    snippet       TEXT,
    has_documents INTEGER NOT NULL DEFAULT 0, -- PDF, CDA or IHE XDM attached
    patient_ins   TEXT,                       -- X-MSS-INS when present
    body_state    INTEGER NOT NULL DEFAULT 0, -- 0 headers only, 1 body stored
    UNIQUE (folder_id, uid)
);
CREATE INDEX messages_folder_date ON messages (folder_id, received_at DESC);
CREATE INDEX messages_message_id ON messages (message_id);
CREATE INDEX messages_thread ON messages (thread_key);

CREATE TABLE bodies (
    message_pk INTEGER PRIMARY KEY REFERENCES messages(id) ON DELETE CASCADE,
    text_body  TEXT,
    html_body  TEXT
);

CREATE TABLE attachments (
    id         INTEGER PRIMARY KEY,
    message_pk INTEGER NOT NULL REFERENCES messages(id) ON DELETE CASCADE,
    part       INTEGER NOT NULL,              -- mail-parser part index
    name       TEXT,
    mime_type  TEXT,
    size       INTEGER,
    is_document INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX attachments_message ON attachments (message_pk);

-- What the search index sees, one row per message (the FTS5 external content table).
CREATE TABLE search_text (
    rowid       INTEGER PRIMARY KEY REFERENCES messages(id) ON DELETE CASCADE,
    subject     TEXT,
    addresses   TEXT,
    body        TEXT,
    attachments TEXT
);

CREATE VIRTUAL TABLE search_fts USING fts5(
    subject, addresses, body, attachments,
    content = 'search_text', content_rowid = 'rowid',
    tokenize = 'unicode61 remove_diacritics 2',
    prefix = '2 3'
);
CREATE TRIGGER search_text_ai AFTER INSERT ON search_text BEGIN
    INSERT INTO search_fts (rowid, subject, addresses, body, attachments)
    VALUES (new.rowid, new.subject, new.addresses, new.body, new.attachments);
END;
CREATE TRIGGER search_text_ad AFTER DELETE ON search_text BEGIN
    INSERT INTO search_fts (search_fts, rowid, subject, addresses, body, attachments)
    VALUES ('delete', old.rowid, old.subject, old.addresses, old.body, old.attachments);
END;
CREATE TRIGGER search_text_au AFTER UPDATE ON search_text BEGIN
    INSERT INTO search_fts (search_fts, rowid, subject, addresses, body, attachments)
    VALUES ('delete', old.rowid, old.subject, old.addresses, old.body, old.attachments);
    INSERT INTO search_fts (rowid, subject, addresses, body, attachments)
    VALUES (new.rowid, new.subject, new.addresses, new.body, new.attachments);
END;

-- Local changes not yet on the server (offline), replayed in id order.
CREATE TABLE operations (
    id          INTEGER PRIMARY KEY,
    account_id  INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    folder      TEXT NOT NULL,
    uidvalidity INTEGER NOT NULL,
    uid         INTEGER NOT NULL,
    message_id  TEXT,                         -- to remap after a UIDVALIDITY change
    kind        TEXT NOT NULL,                -- seen, unseen, flag, unflag, move, delete
    argument    TEXT,                         -- target folder of a move
    created_at  INTEGER NOT NULL,
    attempts    INTEGER NOT NULL DEFAULT 0,
    last_error  TEXT
);

CREATE TABLE outbox (
    id          INTEGER PRIMARY KEY,
    account_id  INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    raw         BLOB NOT NULL,
    created_at  INTEGER NOT NULL,
    state       TEXT NOT NULL DEFAULT 'pending', -- pending, sending, sent, failed
    attempts    INTEGER NOT NULL DEFAULT 0,
    last_error  TEXT
);

CREATE TABLE audit_log (
    id      INTEGER PRIMARY KEY,
    at      INTEGER NOT NULL,
    actor   TEXT NOT NULL,                    -- national id or 'pli' for the engine
    account TEXT,
    action  TEXT NOT NULL,
    request TEXT NOT NULL,                    -- the server request, without secrets
    outcome TEXT NOT NULL
);
CREATE INDEX audit_log_at ON audit_log (at);
