-- Fluxion schema (SQLite). Instants are UTC text 'YYYY-MM-DDTHH:MM:SSZ';
-- local dates 'YYYY-MM-DD'; local times 'HH:MM'; money in euro cents;
-- weekdays 1 = Monday … 7 = Sunday.

CREATE TABLE business (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    vertical TEXT NOT NULL CHECK (vertical IN ('salone', 'wellness', 'medical', 'auto')),
    timezone TEXT NOT NULL DEFAULT 'Europe/Rome',
    address TEXT NOT NULL DEFAULT '',
    phone TEXT NOT NULL DEFAULT '',
    buffer_min INTEGER NOT NULL DEFAULT 0 CHECK (buffer_min >= 0),
    min_notice_min INTEGER NOT NULL DEFAULT 120 CHECK (min_notice_min >= 0),
    horizon_days INTEGER NOT NULL DEFAULT 60 CHECK (horizon_days >= 0),
    slot_step_min INTEGER NOT NULL DEFAULT 15 CHECK (slot_step_min > 0),
    closed_on_public_holidays INTEGER NOT NULL DEFAULT 1
);

CREATE TABLE opening_hours (
    id INTEGER PRIMARY KEY,
    business_id INTEGER NOT NULL REFERENCES business(id) ON DELETE CASCADE,
    weekday INTEGER NOT NULL CHECK (weekday BETWEEN 1 AND 7),
    start_time TEXT NOT NULL,
    end_time TEXT NOT NULL
);
CREATE INDEX idx_opening_hours_business ON opening_hours(business_id, weekday);

-- Holidays, ferie, lunch breaks on single days: whole days when start_time is NULL.
CREATE TABLE closures (
    id INTEGER PRIMARY KEY,
    business_id INTEGER NOT NULL REFERENCES business(id) ON DELETE CASCADE,
    from_date TEXT NOT NULL,
    to_date TEXT NOT NULL,
    start_time TEXT,
    end_time TEXT,
    reason TEXT NOT NULL DEFAULT ''
);

CREATE TABLE services (
    id INTEGER PRIMARY KEY,
    business_id INTEGER NOT NULL REFERENCES business(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    synonyms TEXT NOT NULL DEFAULT '[]',
    duration_min INTEGER NOT NULL CHECK (duration_min > 0),
    price_cents INTEGER NOT NULL CHECK (price_cents >= 0),
    active INTEGER NOT NULL DEFAULT 1,
    UNIQUE (business_id, name)
);

CREATE TABLE operators (
    id INTEGER PRIMARY KEY,
    business_id INTEGER NOT NULL REFERENCES business(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    active INTEGER NOT NULL DEFAULT 1
);

CREATE TABLE operator_services (
    operator_id INTEGER NOT NULL REFERENCES operators(id) ON DELETE CASCADE,
    service_id INTEGER NOT NULL REFERENCES services(id) ON DELETE CASCADE,
    PRIMARY KEY (operator_id, service_id)
);

CREATE TABLE operator_hours (
    id INTEGER PRIMARY KEY,
    operator_id INTEGER NOT NULL REFERENCES operators(id) ON DELETE CASCADE,
    weekday INTEGER NOT NULL CHECK (weekday BETWEEN 1 AND 7),
    start_time TEXT NOT NULL,
    end_time TEXT NOT NULL
);
CREATE INDEX idx_operator_hours_operator ON operator_hours(operator_id);

CREATE TABLE operator_absences (
    id INTEGER PRIMARY KEY,
    operator_id INTEGER NOT NULL REFERENCES operators(id) ON DELETE CASCADE,
    from_date TEXT NOT NULL,
    to_date TEXT NOT NULL,
    start_time TEXT,
    end_time TEXT,
    reason TEXT NOT NULL DEFAULT ''
);
CREATE INDEX idx_operator_absences_operator ON operator_absences(operator_id);

CREATE TABLE clients (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    name_folded TEXT NOT NULL DEFAULT '',
    phone TEXT NOT NULL UNIQUE,
    email TEXT,
    consent_marketing INTEGER NOT NULL DEFAULT 0,
    consent_recording INTEGER NOT NULL DEFAULT 0,
    loyalty_points INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
-- Seed 000: SELECT * FROM clienti WHERE telefono = ? (< 5 ms).
CREATE UNIQUE INDEX idx_clients_phone ON clients(phone);
CREATE INDEX idx_clients_name ON clients(name_folded);

CREATE TABLE appointments (
    id INTEGER PRIMARY KEY,
    client_id INTEGER NOT NULL REFERENCES clients(id),
    operator_id INTEGER NOT NULL REFERENCES operators(id),
    service_id INTEGER NOT NULL REFERENCES services(id),
    start_utc TEXT NOT NULL,
    end_utc TEXT NOT NULL,
    local_date TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('booked', 'cancelled', 'completed', 'no_show')),
    channel TEXT NOT NULL CHECK (channel IN ('voice', 'chat', 'whatsapp', 'staff')),
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    CHECK (end_utc > start_utc)
);
-- Seed 000: SELECT * FROM appuntamenti WHERE data = ? AND operatore_id = ? (< 10 ms).
CREATE INDEX idx_appointments_date_operator ON appointments(local_date, operator_id);
CREATE INDEX idx_appointments_operator_start ON appointments(operator_id, start_utc);
CREATE INDEX idx_appointments_client_start ON appointments(client_id, start_utc);
CREATE INDEX idx_appointments_start ON appointments(start_utc);
-- Last line of defence against double booking: one active booking per operator and start.
CREATE UNIQUE INDEX uq_appointments_operator_start_booked ON appointments(operator_id, start_utc) WHERE status = 'booked';

CREATE TABLE faq_entries (
    id INTEGER PRIMARY KEY,
    business_id INTEGER NOT NULL REFERENCES business(id) ON DELETE CASCADE,
    vertical TEXT NOT NULL,
    category TEXT NOT NULL,
    questions TEXT NOT NULL DEFAULT '[]',
    answer TEXT NOT NULL
);
-- Seed 000: SELECT * FROM faq_entries WHERE categoria_pmi = ? LIMIT 100 (< 20 ms).
CREATE INDEX idx_faq_vertical_category ON faq_entries(vertical, category);

CREATE TABLE chat_history (
    id INTEGER PRIMARY KEY,
    session_id TEXT NOT NULL,
    client_id INTEGER REFERENCES clients(id),
    role TEXT NOT NULL CHECK (role IN ('user', 'assistant')),
    text TEXT NOT NULL,
    intent TEXT,
    layer TEXT,
    latency_us INTEGER NOT NULL DEFAULT 0,
    -- Per-layer processing time of a user turn, JSON {"l0_us", "l1_us", "l2_us", "l3_us"}.
    layer_timings TEXT,
    -- L4 turns: model name, tokens used, tools called (JSON array of names).
    model TEXT,
    tokens INTEGER,
    tool_calls TEXT,
    channel TEXT NOT NULL,
    created_at TEXT NOT NULL
);
-- Seed 000: SELECT * FROM chat_history WHERE cliente_id = ? LIMIT 50 (< 15 ms).
CREATE INDEX idx_chat_history_client ON chat_history(client_id, created_at);
CREATE INDEX idx_chat_history_session ON chat_history(session_id, id);

CREATE TABLE integrations (
    id INTEGER PRIMARY KEY,
    integration_type TEXT NOT NULL,
    config TEXT NOT NULL DEFAULT '{}',
    status TEXT NOT NULL DEFAULT 'inactive' CHECK (status IN ('active', 'inactive', 'error')),
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX idx_integrations_type ON integrations(integration_type);

CREATE TABLE waitlist (
    id INTEGER PRIMARY KEY,
    client_id INTEGER REFERENCES clients(id),
    service_id INTEGER NOT NULL REFERENCES services(id),
    operator_id INTEGER REFERENCES operators(id),
    preference TEXT NOT NULL DEFAULT '',
    created_at TEXT NOT NULL
);

CREATE TABLE callback_requests (
    id INTEGER PRIMARY KEY,
    client_id INTEGER REFERENCES clients(id),
    phone TEXT,
    session_id TEXT NOT NULL,
    reason TEXT NOT NULL DEFAULT '',
    status TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'done')),
    created_at TEXT NOT NULL
);
