-- Read receipts asked by senders (Disposition-Notification-To, RFC 8098; Ref#2 ECO.3.1.6):
-- where to send the MDN, whether that address differs from Return-Path (the user is warned),
-- and what the user decided (0 not yet, 1 sent, 2 declined). Filled by the sync from headers.
ALTER TABLE messages ADD COLUMN mdn_to TEXT;
ALTER TABLE messages ADD COLUMN mdn_differs INTEGER NOT NULL DEFAULT 0;
ALTER TABLE messages ADD COLUMN mdn_state INTEGER NOT NULL DEFAULT 0;
