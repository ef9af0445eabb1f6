-- Phone calls (issue: phone calls over provider media streams). The caller's
-- number is stored in full (it is the business's own customer record) and
-- masked in logs. The call SID is also the chat_history session_id, which
-- links a call to its transcript turns.
CREATE TABLE calls (
    id INTEGER PRIMARY KEY,
    provider TEXT NOT NULL CHECK (provider IN ('twilio', 'plivo', 'exotel')),
    call_sid TEXT NOT NULL,
    direction TEXT NOT NULL DEFAULT 'inbound' CHECK (direction IN ('inbound', 'outbound')),
    caller TEXT,
    called TEXT,
    started_at TEXT NOT NULL,
    ended_at TEXT,
    duration_ms INTEGER,
    outcome TEXT CHECK (outcome IN ('booked', 'rescheduled', 'cancelled', 'answered_faq', 'transferred', 'abandoned', 'failed', 'completed')),
    hangup_reason TEXT,
    provider_status TEXT,
    turns INTEGER NOT NULL DEFAULT 0,
    recording_path TEXT,
    UNIQUE (provider, call_sid)
);
CREATE INDEX idx_calls_started ON calls(started_at);
