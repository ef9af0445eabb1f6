-- WhatsApp messages (Meta Cloud API): every message received (deduplicated
-- by Meta's message id, since Meta retries webhooks) and every message sent
-- (its delivery status follows Meta's status webhooks: sent, delivered,
-- read, failed). `peer` is the client's WhatsApp number (wa_id, digits).
CREATE TABLE whatsapp_messages (
    id INTEGER PRIMARY KEY,
    business_id INTEGER NOT NULL REFERENCES business(id) ON DELETE CASCADE,
    wa_message_id TEXT NOT NULL UNIQUE,
    direction TEXT NOT NULL CHECK (direction IN ('inbound', 'outbound')),
    peer TEXT NOT NULL,
    kind TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('received', 'sent', 'delivered', 'read', 'failed')),
    error TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX idx_whatsapp_messages_business ON whatsapp_messages(business_id, created_at);
