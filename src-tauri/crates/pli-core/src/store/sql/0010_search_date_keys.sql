-- Full-text rowids in date order (decision 0026, revised). The index used messages.id as its
-- rowid, so a frequent word's newest matches could only be found by building the set of all
-- its matches (50,000–100,000 ids at 100,000 messages: p95 35 ms a page). Each message now
-- gets a search key that sorts like its INTERNALDATE:
--
--     key = (max(received_at, 0) << 20) | slot
--
-- slot 0..2^20-1 in order of insertion within the second (so, within a second, in id order
-- like the list's `received_at DESC, id DESC`), found as the second's largest key + 1: one
-- index lookup. Copies share their original's INTERNALDATE (COPY keeps it; the sync bench's
-- 10,000 messages have two distinct seconds), so a second must hold many: with 6 bits, the
-- first version's spill search made that sync 3.7x slower. Only beyond 2^20 messages in one
-- second does a message take the first free key above its second's range (a search along the
-- taken keys; it then sorts up to a second late). The index's rowid is the key, so
-- `ORDER BY rowid DESC LIMIT n` stops inside FTS5 after n matches, whatever the word.

DROP TRIGGER messages_search_ai;
DROP TRIGGER messages_search_bd;
DROP TRIGGER messages_search_bu;
DROP TRIGGER messages_search_au;
DROP TABLE search_fts;
DROP VIEW search_text;

CREATE TABLE search_keys (
    key        INTEGER PRIMARY KEY,
    message_pk INTEGER NOT NULL UNIQUE REFERENCES messages(id) ON DELETE CASCADE
);

-- The index's content, by key (the words are those of migration 0008).
CREATE VIEW search_text (key, id, subject, addresses, body, attachments) AS
SELECT k.key,
       m.id,
       m.subject,
       concat_ws(' ', m.from_addr, m.from_name, m.to_addrs, m.cc_addrs),
       b.text_body,
       concat_ws(' ',
           (SELECT group_concat(a.name, ' ' ORDER BY a.part) FROM attachments a
            WHERE a.message_pk = m.id AND a.name IS NOT NULL),
           b.document_text)
FROM search_keys k
JOIN messages m ON m.id = k.message_pk
LEFT JOIN bodies b ON b.message_pk = m.id;

CREATE VIRTUAL TABLE search_fts USING fts5(
    subject, addresses, body, attachments,
    content = 'search_text', content_rowid = 'key',
    tokenize = 'unicode61 remove_diacritics 2',
    prefix = '2 3'
);

-- A message's key follows its date: given back before the date changes, taken after, and
-- taken by a message that has none (insertion and this migration run that path). The message
-- leaves the index while its key and words are still the indexed ones, and comes back with
-- its new key. Exactly one pair of triggers re-indexes a row in any UPDATE: these when the
-- date changes (or there is no key yet), the header pair below otherwise.
CREATE TRIGGER messages_key_bu BEFORE UPDATE OF received_at ON messages
WHEN old.received_at IS NOT new.received_at BEGIN
    INSERT INTO search_fts (search_fts, rowid, subject, addresses, body, attachments)
    SELECT 'delete', key, subject, addresses, body, attachments FROM search_text WHERE id = old.id;
    DELETE FROM search_keys WHERE message_pk = old.id;
END;
CREATE TRIGGER messages_key_au AFTER UPDATE OF received_at ON messages
WHEN old.received_at IS NOT new.received_at
  OR NOT EXISTS (SELECT 1 FROM search_keys WHERE message_pk = new.id) BEGIN
    INSERT INTO search_keys (key, message_pk)
    SELECT CASE
               WHEN next < base + 1048576 THEN next
               -- The second's 2^20 slots are taken: the first free key above them.
               ELSE (SELECT min(k.key) + 1 FROM search_keys k
                     WHERE k.key >= base + 1048575
                       AND NOT EXISTS (SELECT 1 FROM search_keys n WHERE n.key = k.key + 1))
           END,
           new.id
    FROM (SELECT base,
                 coalesce((SELECT max(key) + 1 FROM search_keys
                           WHERE key >= base AND key < base + 1048576), base) AS next
          FROM (SELECT max(coalesce(new.received_at, 0), 0) << 20 AS base));
    INSERT INTO search_fts (rowid, subject, addresses, body, attachments)
    SELECT key, subject, addresses, body, attachments FROM search_text WHERE id = new.id;
END;
CREATE TRIGGER messages_search_ai AFTER INSERT ON messages BEGIN
    UPDATE messages SET received_at = received_at WHERE id = new.id;
END;
-- Before the row goes (its key row follows by ON DELETE CASCADE).
CREATE TRIGGER messages_search_bd BEFORE DELETE ON messages BEGIN
    INSERT INTO search_fts (search_fts, rowid, subject, addresses, body, attachments)
    SELECT 'delete', key, subject, addresses, body, attachments FROM search_text WHERE id = old.id;
END;
CREATE TRIGGER messages_search_bu BEFORE UPDATE OF subject, from_addr, from_name, to_addrs, cc_addrs
ON messages WHEN old.received_at IS new.received_at BEGIN
    INSERT INTO search_fts (search_fts, rowid, subject, addresses, body, attachments)
    SELECT 'delete', key, subject, addresses, body, attachments FROM search_text WHERE id = old.id;
END;
CREATE TRIGGER messages_search_au AFTER UPDATE OF subject, from_addr, from_name, to_addrs, cc_addrs
ON messages WHEN old.received_at IS new.received_at BEGIN
    INSERT INTO search_fts (rowid, subject, addresses, body, attachments)
    SELECT key, subject, addresses, body, attachments FROM search_text WHERE id = new.id;
END;

-- Every existing message, in id order (the triggers above key and index each one).
UPDATE messages SET received_at = received_at;
