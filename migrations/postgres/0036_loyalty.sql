-- Loyalty and receipts, as migrations/sqlite/0036.
CREATE TABLE loyalty_rules (
    business_id BIGINT PRIMARY KEY REFERENCES business(id) ON DELETE CASCADE,
    points_per_visit BIGINT NOT NULL DEFAULT 0 CHECK (points_per_visit >= 0),
    points_per_euro BIGINT NOT NULL DEFAULT 0 CHECK (points_per_euro >= 0),
    reward_threshold BIGINT NOT NULL DEFAULT 0 CHECK (reward_threshold >= 0),
    reward_text TEXT NOT NULL DEFAULT '',
    updated_at TEXT COLLATE "C" NOT NULL
);

ALTER TABLE appointments ADD COLUMN price_cents BIGINT CHECK (price_cents >= 0);
ALTER TABLE appointments ADD COLUMN completed_at TEXT COLLATE "C";

ALTER TABLE outbox DROP CONSTRAINT outbox_kind_check;
ALTER TABLE outbox ADD CONSTRAINT outbox_kind_check CHECK (kind IN ('booking_confirmed', 'booking_changed', 'booking_cancelled', 'reminder',
                                                                     'callback_requested', 'event', 'loyalty_reward', 'receipt'));
