-- More of the receptionist's settings, chosen by the owner in the console:
-- how many hours before an appointment the client's reminder goes (0: no
-- reminders; NULL: REMINDER_HOURS_BEFORE), and where the business is told
-- of callback requests (an e-mail address and/or a phone number for
-- WhatsApp or SMS; NULL: NOTIFY_OWNER_EMAIL / NOTIFY_OWNER_PHONE).
ALTER TABLE receptionist_settings ADD COLUMN reminder_hours INTEGER CHECK (reminder_hours BETWEEN 0 AND 168);
ALTER TABLE receptionist_settings ADD COLUMN notify_email TEXT;
ALTER TABLE receptionist_settings ADD COLUMN notify_phone TEXT;
