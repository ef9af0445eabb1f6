-- The state of HTTP and WhatsApp conversations between turns, so that any
-- instance behind a load balancer continues a conversation another began.
-- session_key: what the conversation is found by (the HTTP principal with
-- the client's session id, or wa:<digits>); session_id: its id in
-- chat_history (what erasing a client matches); client_id: the client the
-- conversation identified, if any. state: the dialogue's JSON (versioned
-- inside; NULL until the first turn is saved); revision: turns saved.
-- A turn holds its conversation from load to save: lease_token says which
-- turn, lease_until (UTC) until when, so two turns of one conversation run
-- one after the other whatever instance each lands on; a lease left by a
-- crashed instance lapses. Rows idle longer than the session idle time are
-- purged.
CREATE TABLE dialogue_sessions (
    business_id INTEGER NOT NULL REFERENCES business(id) ON DELETE CASCADE,
    session_key TEXT NOT NULL,
    session_id TEXT NOT NULL,
    client_id INTEGER,
    state TEXT,
    revision INTEGER NOT NULL DEFAULT 0,
    lease_token TEXT,
    lease_until TEXT,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (business_id, session_key)
);
CREATE INDEX dialogue_sessions_by_session ON dialogue_sessions (business_id, session_id);
CREATE INDEX dialogue_sessions_by_update ON dialogue_sessions (updated_at);
