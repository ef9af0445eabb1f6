-- The receptionist's settings of a business, chosen by its owner in the
-- console (Impostazioni): the greeting for callers it does not know, the
-- number a caller who asks for a person is transferred to, and whether calls
-- are recorded (the caller hears a notice first). NULL: follow the server's
-- configuration (TRANSFER_NUMBER, RECORD_CALLS).
CREATE TABLE receptionist_settings (
    business_id INTEGER PRIMARY KEY REFERENCES business(id) ON DELETE CASCADE,
    greeting TEXT,
    transfer_number TEXT,
    record_calls INTEGER CHECK (record_calls IN (0, 1)),
    updated_at TEXT NOT NULL
);
