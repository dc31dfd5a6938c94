-- Lists are ordered by arrival (INTERNALDATE, always given by the server): newest first straight
-- from an index, for one folder (messages_folder_date) and across folders (the unified inbox).
CREATE INDEX messages_received ON messages (received_at DESC);
