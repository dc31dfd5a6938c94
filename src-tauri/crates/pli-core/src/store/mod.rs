//! The local cache: SQLite (encrypted at rest), migrations, messages, folders, FTS5 search,
//! operations journal, outbox and audit log. Built by the IMAP sync work (issue 5).
