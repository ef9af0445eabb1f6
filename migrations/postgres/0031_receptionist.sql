-- The receptionist's settings of a business, as migrations/sqlite/0031.
CREATE TABLE receptionist_settings (
    business_id BIGINT PRIMARY KEY REFERENCES business(id) ON DELETE CASCADE,
    greeting TEXT,
    transfer_number TEXT,
    record_calls BIGINT CHECK (record_calls IN (0, 1)),
    updated_at TEXT COLLATE "C" NOT NULL
);
