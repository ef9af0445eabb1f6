-- Console accounts, API tokens and browser sessions (issue 9). Passwords are
-- Argon2id PHC strings; tokens and session ids are stored only as SHA-256
-- hex digests, so the database never holds a credential that works.
CREATE TABLE users (
    id INTEGER PRIMARY KEY,
    business_id INTEGER NOT NULL REFERENCES business(id) ON DELETE CASCADE,
    username TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    role TEXT NOT NULL DEFAULT 'owner' CHECK (role IN ('owner', 'staff')),
    created_at TEXT NOT NULL
);
CREATE INDEX idx_users_business ON users(business_id);

CREATE TABLE api_tokens (
    id INTEGER PRIMARY KEY,
    business_id INTEGER NOT NULL REFERENCES business(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    trusted INTEGER NOT NULL DEFAULT 1 CHECK (trusted IN (0, 1)),
    created_at TEXT NOT NULL,
    revoked_at TEXT
);
CREATE INDEX idx_api_tokens_business ON api_tokens(business_id);

CREATE TABLE user_sessions (
    id INTEGER PRIMARY KEY,
    business_id INTEGER NOT NULL REFERENCES business(id) ON DELETE CASCADE,
    user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    token_hash TEXT NOT NULL UNIQUE,
    csrf_token TEXT NOT NULL,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL
);
CREATE INDEX idx_user_sessions_user ON user_sessions(user_id);
