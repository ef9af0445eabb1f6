-- A business's own integrations, set by its owner in the console
-- (Impostazioni → Integrazioni): the phone provider, WhatsApp Cloud API,
-- SMTP e-mail and the language model. NULL: follow the server's
-- configuration (TWILIO_*/PLIVO_*, META_*, SMTP_*, LLM_*/GROQ_API_KEY). The
-- secret columns (*_token, *_secret, *_password, *_key) are written by the
-- owner and never sent back to a browser; they are stored as written (the
-- database file has mode 600; see README "Integrations").
CREATE TABLE integration_settings (
    business_id INTEGER PRIMARY KEY REFERENCES business(id) ON DELETE CASCADE,
    phone_provider TEXT CHECK (phone_provider IN ('twilio', 'plivo', 'exotel', 'sip')),
    phone_account_id TEXT,
    phone_auth_token TEXT,
    whatsapp_phone_number_id TEXT,
    whatsapp_access_token TEXT,
    whatsapp_app_secret TEXT,
    whatsapp_verify_token TEXT,
    smtp_host TEXT,
    smtp_port INTEGER CHECK (smtp_port BETWEEN 1 AND 65535),
    smtp_user TEXT,
    smtp_password TEXT,
    smtp_from TEXT,
    llm_provider TEXT CHECK (llm_provider IN ('groq', 'openai')),
    llm_model TEXT,
    llm_api_key TEXT,
    updated_at TEXT NOT NULL
);
