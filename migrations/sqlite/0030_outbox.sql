-- The notification outbox: every message Fluxion must send (a booking
-- notice, a reminder, a notice to the business, a webhook) is a row,
-- written in the same transaction as the change it announces where there
-- is one. A worker claims due rows (state 'sending' with a lease that a
-- restarted worker reclaims once it expires), sends them and records the
-- outcome; `idempotency_key` makes enqueuing the same notice twice a no-op.
-- Instants are UTC text 'YYYY-MM-DDTHH:MM:SSZ'; payload is JSON text.
CREATE TABLE outbox (
    id INTEGER PRIMARY KEY,
    business_id INTEGER NOT NULL REFERENCES business(id) ON DELETE CASCADE,
    client_id INTEGER,
    recipient TEXT NOT NULL,
    channel TEXT NOT NULL CHECK (channel IN ('whatsapp', 'sms', 'email', 'webhook')),
    kind TEXT NOT NULL CHECK (kind IN ('booking_confirmed', 'booking_changed', 'booking_cancelled', 'reminder', 'callback_requested', 'event')),
    payload TEXT NOT NULL,
    idempotency_key TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('pending', 'sending', 'sent', 'failed', 'dropped')),
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TEXT NOT NULL,
    lease_until TEXT,
    last_error TEXT,
    provider_id TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    UNIQUE (business_id, idempotency_key)
);
CREATE INDEX idx_outbox_due ON outbox(state, next_attempt_at);
CREATE INDEX idx_outbox_business ON outbox(business_id, state, created_at);

-- Which channels a client agreed to receive service messages on
-- (confirmations, reminders); nothing is sent on a channel without it.
ALTER TABLE clients ADD COLUMN notify_whatsapp INTEGER NOT NULL DEFAULT 0 CHECK (notify_whatsapp IN (0, 1));
ALTER TABLE clients ADD COLUMN notify_sms INTEGER NOT NULL DEFAULT 0 CHECK (notify_sms IN (0, 1));
ALTER TABLE clients ADD COLUMN notify_email INTEGER NOT NULL DEFAULT 0 CHECK (notify_email IN (0, 1));
