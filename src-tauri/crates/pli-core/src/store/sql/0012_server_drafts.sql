-- Drafts are also kept on the server, in the sending mailbox's Drafts folder (decision 0031),
-- so that the webmail and another workstation see them. The cache row stays the copy the
-- compose window works on; the server copy follows it, replaced as a whole (IMAP has no
-- "edit"): APPEND the new version, then delete the previous one through the journal.
--
-- revision          counts the saves; a save after an upload makes the row dirty again
-- upload_*          the MIME composed from revision upload_revision, waiting for APPEND in
--                   upload_account's Drafts folder (composed by the engine, appended by the
--                   account's next sync pass)
-- server_*          where the server copy is: the revision it holds, folder, UIDVALIDITY, UID,
--                   Message-ID (to find it again after a UIDVALIDITY change) and mailbox
ALTER TABLE drafts ADD COLUMN revision INTEGER NOT NULL DEFAULT 1;
ALTER TABLE drafts ADD COLUMN upload_account TEXT;
ALTER TABLE drafts ADD COLUMN upload_raw BLOB;
ALTER TABLE drafts ADD COLUMN upload_revision INTEGER;
ALTER TABLE drafts ADD COLUMN server_revision INTEGER NOT NULL DEFAULT 0;
ALTER TABLE drafts ADD COLUMN server_account TEXT;
ALTER TABLE drafts ADD COLUMN server_folder TEXT;
ALTER TABLE drafts ADD COLUMN server_uidvalidity INTEGER;
ALTER TABLE drafts ADD COLUMN server_uid INTEGER;
ALTER TABLE drafts ADD COLUMN server_message_id TEXT;
