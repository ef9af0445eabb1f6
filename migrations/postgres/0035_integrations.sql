-- A business's own integrations, as migrations/sqlite/0035.
CREATE TABLE integration_settings (
    business_id BIGINT PRIMARY KEY REFERENCES business(id) ON DELETE CASCADE,
    phone_provider TEXT CHECK (phone_provider IN ('twilio', 'plivo', 'exotel', 'sip')),
    phone_account_id TEXT,
    phone_auth_token TEXT,
    whatsapp_phone_number_id TEXT,
    whatsapp_access_token TEXT,
    whatsapp_app_secret TEXT,
    whatsapp_verify_token TEXT,
    smtp_host TEXT,
    smtp_port BIGINT CHECK (smtp_port BETWEEN 1 AND 65535),
    smtp_user TEXT,
    smtp_password TEXT,
    smtp_from TEXT,
    llm_provider TEXT CHECK (llm_provider IN ('groq', 'openai')),
    llm_model TEXT,
    llm_api_key TEXT,
    updated_at TEXT COLLATE "C" NOT NULL
);
