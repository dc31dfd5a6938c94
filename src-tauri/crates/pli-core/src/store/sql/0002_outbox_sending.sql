-- Sending (issue 7): what the drain needs to submit a queued message exactly once, and the
-- exchanges with patients ended locally (X-MSS-MES: FIN, Ref#2 ECO.2.2.8).
ALTER TABLE outbox ADD COLUMN message_id TEXT;
ALTER TABLE outbox ADD COLUMN envelope_from TEXT;
ALTER TABLE outbox ADD COLUMN recipients TEXT;           -- JSON array of addresses
ALTER TABLE outbox ADD COLUMN dsn INTEGER NOT NULL DEFAULT 0;
ALTER TABLE outbox ADD COLUMN next_attempt_at INTEGER NOT NULL DEFAULT 0;
ALTER TABLE outbox ADD COLUMN submitted_at INTEGER;      -- set once the server accepted DATA
ALTER TABLE outbox ADD COLUMN refused TEXT;              -- JSON [{address, reply}] per recipient
CREATE INDEX outbox_due ON outbox (state, next_attempt_at);

CREATE TABLE ended_exchanges (
    id          INTEGER PRIMARY KEY,
    account_id  INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    patient_ins TEXT NOT NULL,
    ended_at    INTEGER NOT NULL,
    message_id  TEXT NOT NULL,
    UNIQUE (account_id, patient_ins, message_id)
);
CREATE INDEX ended_exchanges_patient ON ended_exchanges (account_id, patient_ins);
