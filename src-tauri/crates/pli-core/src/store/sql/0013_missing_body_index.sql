-- Every sync asks, per folder, whether a message still waits for its body (`body_state = 0`).
-- Without an index on the state that question walked the folder's rows through the UID index,
-- reading (and decrypting) every row of a fully fetched folder: on a no-change resync of
-- 10,000 messages in 20 folders, most of the time spent outside the login. This partial index
-- holds only the messages without a body (none, once a folder is fetched), so the question
-- costs one page read; the body fetch walks it newest first.
CREATE INDEX messages_missing_body ON messages (folder_id, uid) WHERE body_state = 0;
