-- Read and delivery reports folded into the message they report on (decision 0030). A
-- secretary's service mailbox receives one MDN or DSN per recipient of every message sent:
-- listed as mail, they would bury the mail people wrote and inflate the unread counts. A
-- report message is `folded` when every report it carries says `read` or `delivered` and the
-- message each report is about is in the cache: what it says is then shown on that message
-- (badge and per-recipient lines). Failures, delays, other dispositions and reports about a
-- message the cache does not hold stay listed and counted. Nothing is deleted or marked on the
-- server; search still finds folded reports.
--
-- Kept true by triggers, whatever the order in which reports and originals arrive or go.
ALTER TABLE messages ADD COLUMN folded INTEGER NOT NULL DEFAULT 0;

-- The side bar's counts seek (folder, folded = 0) and read the sender and seen flag from the
-- index alone, as migration 0007's index did.
DROP INDEX messages_folder_from_seen;
CREATE INDEX messages_folder_from_seen ON messages (folder_id, folded, from_addr, seen);

-- Whether the report message `id` is to be folded (see above).
CREATE VIEW report_foldable (id, foldable) AS
SELECT m.id,
       EXISTS (SELECT 1 FROM reports r WHERE r.message_pk = m.id)
       AND NOT EXISTS (SELECT 1 FROM reports r WHERE r.message_pk = m.id
                                                 AND r.kind NOT IN ('read', 'delivered'))
       AND NOT EXISTS (SELECT 1 FROM reports r WHERE r.message_pk = m.id
                          AND NOT EXISTS (SELECT 1 FROM messages o
                                          WHERE o.message_id = r.original_message_id
                                            AND o.id != m.id))
FROM messages m;

-- A report written or removed (a body stored again replaces its reports).
CREATE TRIGGER reports_fold_ai AFTER INSERT ON reports BEGIN
    UPDATE messages SET folded = (SELECT foldable FROM report_foldable WHERE id = NEW.message_pk)
    WHERE id = NEW.message_pk;
END;
CREATE TRIGGER reports_fold_ad AFTER DELETE ON reports BEGIN
    UPDATE messages SET folded = (SELECT foldable FROM report_foldable WHERE id = OLD.message_pk)
    WHERE id = OLD.message_pk AND folded != 0;
END;

-- An original arriving (Sent synced after the inbox), going (expunged: its reports come back
-- to the list) or changing its Message-ID.
CREATE TRIGGER messages_fold_ai AFTER INSERT ON messages WHEN NEW.message_id IS NOT NULL BEGIN
    UPDATE messages SET folded = (SELECT foldable FROM report_foldable v WHERE v.id = messages.id)
    WHERE id IN (SELECT message_pk FROM reports WHERE original_message_id = NEW.message_id);
END;
CREATE TRIGGER messages_fold_ad AFTER DELETE ON messages WHEN OLD.message_id IS NOT NULL BEGIN
    UPDATE messages SET folded = (SELECT foldable FROM report_foldable v WHERE v.id = messages.id)
    WHERE id IN (SELECT message_pk FROM reports WHERE original_message_id = OLD.message_id);
END;
CREATE TRIGGER messages_fold_au AFTER UPDATE OF message_id ON messages
WHEN OLD.message_id IS NOT NEW.message_id BEGIN
    UPDATE messages SET folded = (SELECT foldable FROM report_foldable v WHERE v.id = messages.id)
    WHERE id IN (SELECT message_pk FROM reports
                 WHERE original_message_id IN (OLD.message_id, NEW.message_id));
END;

-- Caches written before this migration.
UPDATE messages SET folded = 1
WHERE id IN (SELECT message_pk FROM reports)
  AND (SELECT foldable FROM report_foldable v WHERE v.id = messages.id);
