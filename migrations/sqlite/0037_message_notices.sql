-- Written messages the tools ask for (send_sms, send_whatsapp, send_email,
-- POST /api/messages) are notices of kind 'message'. SQLite cannot change
-- a CHECK constraint in place: the table is rebuilt with the same columns
-- and indexes (as in 0036).
CREATE TABLE outbox_new (
    id INTEGER PRIMARY KEY,
    business_id INTEGER NOT NULL REFERENCES business(id) ON DELETE CASCADE,
    client_id INTEGER,
    recipient TEXT NOT NULL,
    channel TEXT NOT NULL CHECK (channel IN ('whatsapp', 'sms', 'email', 'webhook')),
    kind TEXT NOT NULL CHECK (kind IN ('booking_confirmed', 'booking_changed', 'booking_cancelled', 'reminder', 'callback_requested', 'event',
                                       'loyalty_reward', 'receipt', 'message')),
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
INSERT INTO outbox_new (id, business_id, client_id, recipient, channel, kind, payload, idempotency_key, state, attempts, next_attempt_at,
                        lease_until, last_error, provider_id, created_at, updated_at)
    SELECT id, business_id, client_id, recipient, channel, kind, payload, idempotency_key, state, attempts, next_attempt_at,
           lease_until, last_error, provider_id, created_at, updated_at FROM outbox;
DROP TABLE outbox;
ALTER TABLE outbox_new RENAME TO outbox;
CREATE INDEX idx_outbox_due ON outbox(state, next_attempt_at);
CREATE INDEX idx_outbox_business ON outbox(business_id, state, created_at);
