-- Loyalty and receipts. A business's loyalty rule, chosen by its owner:
-- points for each completed appointment, points for each whole euro of its
-- price, and a reward (its text) each time a client's points reach a new
-- multiple of the threshold; all 0 (no points) until the owner sets it.
CREATE TABLE loyalty_rules (
    business_id INTEGER PRIMARY KEY REFERENCES business(id) ON DELETE CASCADE,
    points_per_visit INTEGER NOT NULL DEFAULT 0 CHECK (points_per_visit >= 0),
    points_per_euro INTEGER NOT NULL DEFAULT 0 CHECK (points_per_euro >= 0),
    reward_threshold INTEGER NOT NULL DEFAULT 0 CHECK (reward_threshold >= 0),
    reward_text TEXT NOT NULL DEFAULT '',
    updated_at TEXT NOT NULL
);

-- What a completed appointment cost (euro cents, VAT included: the
-- service's price when it was completed, shown on its receipt) and when it
-- was marked completed (UTC text).
ALTER TABLE appointments ADD COLUMN price_cents INTEGER CHECK (price_cents >= 0);
ALTER TABLE appointments ADD COLUMN completed_at TEXT;

-- Two more notices in the outbox: a client's loyalty reward and the
-- receipt e-mail with its PDF. SQLite cannot change a CHECK constraint in
-- place: the table is rebuilt with the same columns and indexes.
CREATE TABLE outbox_new (
    id INTEGER PRIMARY KEY,
    business_id INTEGER NOT NULL REFERENCES business(id) ON DELETE CASCADE,
    client_id INTEGER,
    recipient TEXT NOT NULL,
    channel TEXT NOT NULL CHECK (channel IN ('whatsapp', 'sms', 'email', 'webhook')),
    kind TEXT NOT NULL CHECK (kind IN ('booking_confirmed', 'booking_changed', 'booking_cancelled', 'reminder', 'callback_requested', 'event',
                                       'loyalty_reward', 'receipt')),
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
