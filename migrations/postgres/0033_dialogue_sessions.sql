-- The state of HTTP and WhatsApp conversations between turns, as
-- migrations/sqlite/0033.
CREATE TABLE dialogue_sessions (
    business_id BIGINT NOT NULL REFERENCES business(id) ON DELETE CASCADE,
    session_key TEXT NOT NULL,
    session_id TEXT NOT NULL,
    client_id BIGINT,
    state TEXT,
    revision BIGINT NOT NULL DEFAULT 0,
    lease_token TEXT,
    lease_until TEXT COLLATE "C",
    updated_at TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (business_id, session_key)
);
CREATE INDEX dialogue_sessions_by_session ON dialogue_sessions (business_id, session_id);
CREATE INDEX dialogue_sessions_by_update ON dialogue_sessions (updated_at);
