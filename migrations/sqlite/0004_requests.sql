-- Requests for the owner recorded by the receptionist: a callback (the
-- caller wants a person), a complaint (with its reason) or a privacy request
-- (erase my data, withdraw consent). The caller's name as given, when the
-- caller is not a known client.
ALTER TABLE callback_requests ADD COLUMN kind TEXT NOT NULL DEFAULT 'callback' CHECK (kind IN ('callback', 'complaint', 'privacy'));
ALTER TABLE callback_requests ADD COLUMN name TEXT;
