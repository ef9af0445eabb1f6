-- Tenancy: every row belongs to one business. Client phones are unique per
-- business; appointments, chat turns, waitlist entries and callback requests
-- point at their client, operator and service through (business_id, id)
-- pairs, so a row can never join another business's rows. Numbers route
-- calls and messages to their business. Existing rows go to the first
-- business (the only one before tenancy).
--
-- SQLite cannot add table constraints in place, so tables are rebuilt
-- (create new, copy, drop old, rename). This runs inside the migrator's
-- transaction with foreign keys on, so the order matters: the tables that
-- reference clients are copied aside and dropped first, then clients is
-- rebuilt, then they are recreated from their copies.

CREATE UNIQUE INDEX uq_services_business_id ON services(business_id, id);
CREATE UNIQUE INDEX uq_operators_business_id ON operators(business_id, id);
CREATE INDEX idx_services_business ON services(business_id);
CREATE INDEX idx_operators_business ON operators(business_id);
CREATE INDEX idx_faq_business ON faq_entries(business_id);

CREATE TEMP TABLE appointments_copy AS SELECT * FROM appointments;
CREATE TEMP TABLE chat_history_copy AS SELECT * FROM chat_history;
CREATE TEMP TABLE waitlist_copy AS SELECT * FROM waitlist;
CREATE TEMP TABLE callback_requests_copy AS SELECT * FROM callback_requests;
DROP TABLE appointments;
DROP TABLE chat_history;
DROP TABLE waitlist;
DROP TABLE callback_requests;

CREATE TABLE clients_new (
    id INTEGER PRIMARY KEY,
    business_id INTEGER NOT NULL REFERENCES business(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    name_folded TEXT NOT NULL DEFAULT '',
    phone TEXT NOT NULL,
    email TEXT,
    consent_marketing INTEGER NOT NULL DEFAULT 0 CHECK (consent_marketing IN (0, 1)),
    consent_recording INTEGER NOT NULL DEFAULT 0 CHECK (consent_recording IN (0, 1)),
    loyalty_points INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    UNIQUE (business_id, phone),
    UNIQUE (business_id, id)
);
INSERT INTO clients_new (id, business_id, name, name_folded, phone, email, consent_marketing, consent_recording, loyalty_points, created_at, updated_at)
    SELECT id, (SELECT MIN(id) FROM business), name, name_folded, phone, email, consent_marketing != 0, consent_recording != 0, loyalty_points, created_at, updated_at
    FROM clients WHERE EXISTS (SELECT 1 FROM business);
DROP TABLE clients;
ALTER TABLE clients_new RENAME TO clients;
CREATE INDEX idx_clients_name ON clients(business_id, name_folded);

CREATE TABLE appointments (
    id INTEGER PRIMARY KEY,
    business_id INTEGER NOT NULL REFERENCES business(id) ON DELETE CASCADE,
    client_id INTEGER NOT NULL,
    operator_id INTEGER NOT NULL,
    service_id INTEGER NOT NULL,
    start_utc TEXT NOT NULL,
    end_utc TEXT NOT NULL,
    local_date TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('booked', 'cancelled', 'completed', 'no_show')),
    channel TEXT NOT NULL CHECK (channel IN ('voice', 'chat', 'whatsapp', 'staff')),
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    CHECK (end_utc > start_utc),
    FOREIGN KEY (business_id, client_id) REFERENCES clients(business_id, id),
    FOREIGN KEY (business_id, operator_id) REFERENCES operators(business_id, id),
    FOREIGN KEY (business_id, service_id) REFERENCES services(business_id, id)
);
INSERT INTO appointments (id, business_id, client_id, operator_id, service_id, start_utc, end_utc, local_date, status, channel, created_at, updated_at)
    SELECT a.id, o.business_id, a.client_id, a.operator_id, a.service_id, a.start_utc, a.end_utc, a.local_date, a.status, a.channel, a.created_at, a.updated_at
    FROM temp.appointments_copy a JOIN operators o ON o.id = a.operator_id;
DROP TABLE temp.appointments_copy;
CREATE INDEX idx_appointments_date_operator ON appointments(business_id, local_date, operator_id);
CREATE INDEX idx_appointments_operator_start ON appointments(operator_id, start_utc);
CREATE INDEX idx_appointments_client_start ON appointments(client_id, start_utc);
CREATE INDEX idx_appointments_start ON appointments(business_id, start_utc);
CREATE UNIQUE INDEX uq_appointments_operator_start_booked ON appointments(operator_id, start_utc) WHERE status = 'booked';

CREATE TABLE chat_history (
    id INTEGER PRIMARY KEY,
    business_id INTEGER NOT NULL REFERENCES business(id) ON DELETE CASCADE,
    session_id TEXT NOT NULL,
    client_id INTEGER,
    role TEXT NOT NULL CHECK (role IN ('user', 'assistant')),
    text TEXT NOT NULL,
    intent TEXT,
    layer TEXT,
    latency_us INTEGER NOT NULL DEFAULT 0,
    layer_timings TEXT,
    model TEXT,
    tokens INTEGER,
    tool_calls TEXT,
    channel TEXT NOT NULL CHECK (channel IN ('voice', 'chat', 'whatsapp', 'staff')),
    created_at TEXT NOT NULL,
    FOREIGN KEY (business_id, client_id) REFERENCES clients(business_id, id)
);
INSERT INTO chat_history (id, business_id, session_id, client_id, role, text, intent, layer, latency_us, layer_timings, model, tokens, tool_calls, channel, created_at)
    SELECT id, (SELECT MIN(id) FROM business), session_id, client_id, role, text, intent, layer, latency_us, layer_timings, model, tokens, tool_calls, channel, created_at
    FROM temp.chat_history_copy WHERE EXISTS (SELECT 1 FROM business);
DROP TABLE temp.chat_history_copy;
CREATE INDEX idx_chat_history_client ON chat_history(client_id, created_at);
CREATE INDEX idx_chat_history_session ON chat_history(business_id, session_id, id);

CREATE TABLE integrations_new (
    id INTEGER PRIMARY KEY,
    business_id INTEGER NOT NULL REFERENCES business(id) ON DELETE CASCADE,
    integration_type TEXT NOT NULL,
    config TEXT NOT NULL DEFAULT '{}',
    status TEXT NOT NULL DEFAULT 'inactive' CHECK (status IN ('active', 'inactive', 'error')),
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
INSERT INTO integrations_new (id, business_id, integration_type, config, status, created_at, updated_at)
    SELECT id, (SELECT MIN(id) FROM business), integration_type, config, status, created_at, updated_at
    FROM integrations WHERE EXISTS (SELECT 1 FROM business);
DROP TABLE integrations;
ALTER TABLE integrations_new RENAME TO integrations;
CREATE INDEX idx_integrations_type ON integrations(business_id, integration_type);

CREATE TABLE waitlist (
    id INTEGER PRIMARY KEY,
    business_id INTEGER NOT NULL REFERENCES business(id) ON DELETE CASCADE,
    client_id INTEGER,
    service_id INTEGER NOT NULL,
    operator_id INTEGER,
    preference TEXT NOT NULL DEFAULT '',
    created_at TEXT NOT NULL,
    FOREIGN KEY (business_id, client_id) REFERENCES clients(business_id, id),
    FOREIGN KEY (business_id, service_id) REFERENCES services(business_id, id),
    FOREIGN KEY (business_id, operator_id) REFERENCES operators(business_id, id)
);
INSERT INTO waitlist (id, business_id, client_id, service_id, operator_id, preference, created_at)
    SELECT w.id, s.business_id, w.client_id, w.service_id, w.operator_id, w.preference, w.created_at
    FROM temp.waitlist_copy w JOIN services s ON s.id = w.service_id;
DROP TABLE temp.waitlist_copy;
CREATE INDEX idx_waitlist_business ON waitlist(business_id, created_at);

CREATE TABLE callback_requests (
    id INTEGER PRIMARY KEY,
    business_id INTEGER NOT NULL REFERENCES business(id) ON DELETE CASCADE,
    client_id INTEGER,
    phone TEXT,
    session_id TEXT NOT NULL,
    reason TEXT NOT NULL DEFAULT '',
    status TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'done')),
    created_at TEXT NOT NULL,
    FOREIGN KEY (business_id, client_id) REFERENCES clients(business_id, id)
);
INSERT INTO callback_requests (id, business_id, client_id, phone, session_id, reason, status, created_at)
    SELECT id, (SELECT MIN(id) FROM business), client_id, phone, session_id, reason, status, created_at
    FROM temp.callback_requests_copy WHERE EXISTS (SELECT 1 FROM business);
DROP TABLE temp.callback_requests_copy;
CREATE INDEX idx_callback_requests_business ON callback_requests(business_id, status, created_at);

CREATE TABLE calls_new (
    id INTEGER PRIMARY KEY,
    business_id INTEGER NOT NULL REFERENCES business(id) ON DELETE CASCADE,
    provider TEXT NOT NULL CHECK (provider IN ('twilio', 'plivo', 'exotel')),
    call_sid TEXT NOT NULL,
    direction TEXT NOT NULL DEFAULT 'inbound' CHECK (direction IN ('inbound', 'outbound')),
    caller TEXT,
    called TEXT,
    started_at TEXT NOT NULL,
    ended_at TEXT,
    duration_ms INTEGER,
    outcome TEXT CHECK (outcome IN ('booked', 'rescheduled', 'cancelled', 'answered_faq', 'transferred', 'abandoned', 'failed', 'completed')),
    hangup_reason TEXT CHECK (hangup_reason IN ('completed', 'caller_hung_up', 'silence', 'max_duration', 'not_understood', 'transferred', 'session_failed')),
    provider_status TEXT,
    turns INTEGER NOT NULL DEFAULT 0,
    recording_path TEXT,
    UNIQUE (provider, call_sid)
);
INSERT INTO calls_new (id, business_id, provider, call_sid, direction, caller, called, started_at, ended_at, duration_ms, outcome, hangup_reason, provider_status, turns, recording_path)
    SELECT id, (SELECT MIN(id) FROM business), provider, call_sid, direction, caller, called, started_at, ended_at, duration_ms, outcome,
           CASE WHEN hangup_reason IN ('completed', 'caller_hung_up', 'silence', 'max_duration', 'not_understood', 'transferred', 'session_failed')
                THEN hangup_reason END,
           provider_status, turns, recording_path
    FROM calls WHERE EXISTS (SELECT 1 FROM business);
DROP TABLE calls;
ALTER TABLE calls_new RENAME TO calls;
CREATE INDEX idx_calls_started ON calls(business_id, started_at);

-- The numbers a business is reached on: the phone numbers callers dial
-- (telephony `To`, E.164) and WhatsApp Business phone-number ids.
CREATE TABLE business_numbers (
    id INTEGER PRIMARY KEY,
    business_id INTEGER NOT NULL REFERENCES business(id) ON DELETE CASCADE,
    kind TEXT NOT NULL CHECK (kind IN ('phone', 'whatsapp')),
    value TEXT NOT NULL,
    UNIQUE (kind, value)
);
CREATE INDEX idx_business_numbers_business ON business_numbers(business_id);

