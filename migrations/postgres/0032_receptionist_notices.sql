-- More of the receptionist's settings, as migrations/sqlite/0032.
ALTER TABLE receptionist_settings ADD COLUMN reminder_hours BIGINT CHECK (reminder_hours BETWEEN 0 AND 168);
ALTER TABLE receptionist_settings ADD COLUMN notify_email TEXT;
ALTER TABLE receptionist_settings ADD COLUMN notify_phone TEXT;
