-- Lists are ordered `received_at DESC, id DESC`. Every index ends with the rowid (`id`) in
-- ascending order, so an index declared `received_at DESC` gives `received_at DESC, id ASC`:
-- SQLite then sorts each run of equal dates in a temporary b-tree ("USE TEMP B-TREE FOR RIGHT
-- PART OF ORDER BY"), and a row handed to the sorter has all its columns computed, the receipt
-- subquery included, for every row the OFFSET skips. Ascending indexes read backwards give
-- exactly `received_at DESC, id DESC`: no sorter, and skipped rows cost an index step.
DROP INDEX messages_folder_date;
DROP INDEX messages_received;
CREATE INDEX messages_folder_received ON messages (folder_id, received_at);
CREATE INDEX messages_received_at ON messages (received_at);
