-- Delivery and read reports received (RFC 3464 DSN, RFC 8098 MDN; Ref#2 ECO.3.1.6), tied to
-- the message they report on by its Message-ID, so a sent message shows, per recipient,
-- "remis", "lu" or "échec" (including Mon espace santé bounces). One row per recipient.
CREATE TABLE reports (
    id                  INTEGER PRIMARY KEY,
    message_pk          INTEGER NOT NULL REFERENCES messages(id) ON DELETE CASCADE, -- the report
    original_message_id TEXT NOT NULL,            -- without angle brackets
    kind                TEXT NOT NULL,            -- read, delivered, failed, delayed, other
    recipient           TEXT,                     -- lower case
    detail              TEXT,                     -- disposition, or DSN status code
    at                  INTEGER                   -- the report's date
);
CREATE INDEX reports_original ON reports (original_message_id);
CREATE INDEX reports_message ON reports (message_pk);
