-- A message's body text was stored twice: in bodies.text_body (what the reader shows) and
-- again in search_text.body, the FTS5 external-content table (subject and addresses were
-- copies of messages columns as well). search_text becomes a view over messages, bodies and
-- attachments, so every text is stored once; search_fts stays an external-content index
-- whose content is that view (decision 0020-search-content-view).

-- The text of attached health documents lived only in search_text.attachments, after the
-- attachment names (joined by spaces in part order): it moves to bodies.document_text.
ALTER TABLE bodies ADD COLUMN document_text TEXT;
CREATE TEMP TABLE m0006_names AS
    SELECT message_pk, group_concat(name, ' ' ORDER BY part) AS names
    FROM attachments WHERE name IS NOT NULL GROUP BY message_pk;
UPDATE bodies SET document_text = (
    SELECT CASE
        WHEN s.attachments IS NULL OR s.attachments = '' THEN NULL
        WHEN n.names IS NULL THEN s.attachments
        WHEN s.attachments = n.names THEN NULL
        WHEN substr(s.attachments, 1, length(n.names) + 1) = n.names || ' '
            THEN substr(s.attachments, length(n.names) + 2)
        ELSE s.attachments                 -- unexpected shape: keep every word searchable
    END
    FROM search_text s LEFT JOIN m0006_names n ON n.message_pk = s.rowid
    WHERE s.rowid = bodies.message_pk);
DROP TABLE m0006_names;

DROP TRIGGER search_text_ai;
DROP TRIGGER search_text_ad;
DROP TRIGGER search_text_au;
DROP TABLE search_fts;
DROP TABLE search_text;

-- What the index sees, computed from where each text is stored. The words are the ones the
-- table used to hold (addresses: sender address and name, To, Cc; attachments: names, then
-- the documents' text).
CREATE VIEW search_text (id, subject, addresses, body, attachments) AS
SELECT m.id,
       m.subject,
       concat_ws(' ', m.from_addr, m.from_name, m.to_addrs, m.cc_addrs),
       b.text_body,
       concat_ws(' ',
           (SELECT group_concat(a.name, ' ' ORDER BY a.part) FROM attachments a
            WHERE a.message_pk = m.id AND a.name IS NOT NULL),
           b.document_text)
FROM messages m LEFT JOIN bodies b ON b.message_pk = m.id;

CREATE VIRTUAL TABLE search_fts USING fts5(
    subject, addresses, body, attachments,
    content = 'search_text', content_rowid = 'id',
    tokenize = 'unicode61 remove_diacritics 2',
    prefix = '2 3'
);
INSERT INTO search_fts (search_fts) VALUES ('rebuild');

-- Keeping the index in step with its content. An external-content index must be told the
-- exact words it holds to remove a row, so the row is removed from the index *before* its
-- words change or disappear, and added back after:
--  * a message enters the index when it is inserted and leaves it before it is deleted (also
--    through ON DELETE CASCADE from its folder or account);
--  * the indexed header columns never change after insertion; should they, the two UPDATE
--    triggers keep the index right;
--  * bodies and attachments are written by the store's write_body only, which removes the
--    message from the index first and adds it back after (store/messages.rs).
CREATE TRIGGER messages_search_ai AFTER INSERT ON messages BEGIN
    INSERT INTO search_fts (rowid, subject, addresses, body, attachments)
    SELECT id, subject, addresses, body, attachments FROM search_text WHERE id = new.id;
END;
CREATE TRIGGER messages_search_bd BEFORE DELETE ON messages BEGIN
    INSERT INTO search_fts (search_fts, rowid, subject, addresses, body, attachments)
    SELECT 'delete', id, subject, addresses, body, attachments FROM search_text WHERE id = old.id;
END;
CREATE TRIGGER messages_search_bu BEFORE UPDATE OF subject, from_addr, from_name, to_addrs, cc_addrs
ON messages BEGIN
    INSERT INTO search_fts (search_fts, rowid, subject, addresses, body, attachments)
    SELECT 'delete', id, subject, addresses, body, attachments FROM search_text WHERE id = old.id;
END;
CREATE TRIGGER messages_search_au AFTER UPDATE OF subject, from_addr, from_name, to_addrs, cc_addrs
ON messages BEGIN
    INSERT INTO search_fts (rowid, subject, addresses, body, attachments)
    SELECT id, subject, addresses, body, attachments FROM search_text WHERE id = new.id;
END;
