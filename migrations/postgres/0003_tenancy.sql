-- Tenancy, as migrations/sqlite/0003: every row belongs to one business;
-- client phones are unique per business; rows point at their client,
-- operator and service through (business_id, id) pairs, so no row can join
-- another business's rows; numbers route calls and messages.
--
-- And no double booking, enforced by PostgreSQL itself: `span` is the
-- appointment's [start, end) as a tstzrange, kept by a trigger from the text
-- instants, and an exclusion constraint (btree_gist, for the `=` on the
-- operator) refuses two booked appointments of one operator that overlap,
-- whichever instance writes them.

CREATE EXTENSION IF NOT EXISTS btree_gist;

CREATE UNIQUE INDEX uq_services_business_id ON services(business_id, id);
CREATE UNIQUE INDEX uq_operators_business_id ON operators(business_id, id);
CREATE INDEX idx_services_business ON services(business_id);
CREATE INDEX idx_operators_business ON operators(business_id);
CREATE INDEX idx_faq_business ON faq_entries(business_id);

-- Existing rows (none on a new database) go to the first business.
ALTER TABLE clients ADD COLUMN business_id BIGINT REFERENCES business(id) ON DELETE CASCADE;
UPDATE clients SET business_id = (SELECT MIN(id) FROM business);
DELETE FROM clients WHERE business_id IS NULL;
ALTER TABLE clients ALTER COLUMN business_id SET NOT NULL;
ALTER TABLE clients DROP CONSTRAINT clients_phone_key;
ALTER TABLE clients ADD CONSTRAINT clients_business_phone_key UNIQUE (business_id, phone);
ALTER TABLE clients ADD CONSTRAINT clients_business_id_key UNIQUE (business_id, id);
ALTER TABLE clients ADD CONSTRAINT clients_consent_marketing_check CHECK (consent_marketing IN (0, 1));
ALTER TABLE clients ADD CONSTRAINT clients_consent_recording_check CHECK (consent_recording IN (0, 1));
DROP INDEX idx_clients_name;
CREATE INDEX idx_clients_name ON clients(business_id, name_folded);

ALTER TABLE appointments ADD COLUMN business_id BIGINT REFERENCES business(id) ON DELETE CASCADE;
UPDATE appointments a SET business_id = o.business_id FROM operators o WHERE o.id = a.operator_id;
ALTER TABLE appointments ALTER COLUMN business_id SET NOT NULL;
ALTER TABLE appointments DROP CONSTRAINT appointments_client_id_fkey;
ALTER TABLE appointments DROP CONSTRAINT appointments_operator_id_fkey;
ALTER TABLE appointments DROP CONSTRAINT appointments_service_id_fkey;
ALTER TABLE appointments ADD FOREIGN KEY (business_id, client_id) REFERENCES clients(business_id, id);
ALTER TABLE appointments ADD FOREIGN KEY (business_id, operator_id) REFERENCES operators(business_id, id);
ALTER TABLE appointments ADD FOREIGN KEY (business_id, service_id) REFERENCES services(business_id, id);
DROP INDEX idx_appointments_date_operator;
DROP INDEX idx_appointments_start;
CREATE INDEX idx_appointments_date_operator ON appointments(business_id, local_date, operator_id);
CREATE INDEX idx_appointments_start ON appointments(business_id, start_utc);

ALTER TABLE appointments ADD COLUMN span tstzrange;
CREATE FUNCTION fluxion_appointment_span() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.span := tstzrange(NEW.start_utc::timestamptz, NEW.end_utc::timestamptz, '[)');
    RETURN NEW;
END
$$;
CREATE TRIGGER appointments_span BEFORE INSERT OR UPDATE OF start_utc, end_utc ON appointments
    FOR EACH ROW EXECUTE FUNCTION fluxion_appointment_span();
UPDATE appointments SET start_utc = start_utc;
ALTER TABLE appointments ALTER COLUMN span SET NOT NULL;
ALTER TABLE appointments ADD CONSTRAINT appointments_no_overlap
    EXCLUDE USING gist (operator_id WITH =, span WITH &&) WHERE (status = 'booked');

ALTER TABLE chat_history ADD COLUMN business_id BIGINT REFERENCES business(id) ON DELETE CASCADE;
UPDATE chat_history SET business_id = (SELECT MIN(id) FROM business);
DELETE FROM chat_history WHERE business_id IS NULL;
ALTER TABLE chat_history ALTER COLUMN business_id SET NOT NULL;
ALTER TABLE chat_history DROP CONSTRAINT chat_history_client_id_fkey;
ALTER TABLE chat_history ADD FOREIGN KEY (business_id, client_id) REFERENCES clients(business_id, id);
ALTER TABLE chat_history ADD CONSTRAINT chat_history_channel_check CHECK (channel IN ('voice', 'chat', 'whatsapp', 'staff'));
DROP INDEX idx_chat_history_session;
CREATE INDEX idx_chat_history_session ON chat_history(business_id, session_id, id);

ALTER TABLE integrations ADD COLUMN business_id BIGINT REFERENCES business(id) ON DELETE CASCADE;
UPDATE integrations SET business_id = (SELECT MIN(id) FROM business);
DELETE FROM integrations WHERE business_id IS NULL;
ALTER TABLE integrations ALTER COLUMN business_id SET NOT NULL;
DROP INDEX idx_integrations_type;
CREATE INDEX idx_integrations_type ON integrations(business_id, integration_type);

ALTER TABLE waitlist ADD COLUMN business_id BIGINT REFERENCES business(id) ON DELETE CASCADE;
UPDATE waitlist w SET business_id = s.business_id FROM services s WHERE s.id = w.service_id;
ALTER TABLE waitlist ALTER COLUMN business_id SET NOT NULL;
ALTER TABLE waitlist DROP CONSTRAINT waitlist_client_id_fkey;
ALTER TABLE waitlist DROP CONSTRAINT waitlist_service_id_fkey;
ALTER TABLE waitlist DROP CONSTRAINT waitlist_operator_id_fkey;
ALTER TABLE waitlist ADD FOREIGN KEY (business_id, client_id) REFERENCES clients(business_id, id);
ALTER TABLE waitlist ADD FOREIGN KEY (business_id, service_id) REFERENCES services(business_id, id);
ALTER TABLE waitlist ADD FOREIGN KEY (business_id, operator_id) REFERENCES operators(business_id, id);
CREATE INDEX idx_waitlist_business ON waitlist(business_id, created_at);

ALTER TABLE callback_requests ADD COLUMN business_id BIGINT REFERENCES business(id) ON DELETE CASCADE;
UPDATE callback_requests SET business_id = (SELECT MIN(id) FROM business);
DELETE FROM callback_requests WHERE business_id IS NULL;
ALTER TABLE callback_requests ALTER COLUMN business_id SET NOT NULL;
ALTER TABLE callback_requests DROP CONSTRAINT callback_requests_client_id_fkey;
ALTER TABLE callback_requests ADD FOREIGN KEY (business_id, client_id) REFERENCES clients(business_id, id);
CREATE INDEX idx_callback_requests_business ON callback_requests(business_id, status, created_at);

ALTER TABLE calls ADD COLUMN business_id BIGINT REFERENCES business(id) ON DELETE CASCADE;
UPDATE calls SET business_id = (SELECT MIN(id) FROM business);
DELETE FROM calls WHERE business_id IS NULL;
ALTER TABLE calls ALTER COLUMN business_id SET NOT NULL;
ALTER TABLE calls ADD CONSTRAINT calls_hangup_reason_check
    CHECK (hangup_reason IN ('completed', 'caller_hung_up', 'silence', 'max_duration', 'not_understood', 'transferred', 'session_failed'));
DROP INDEX idx_calls_started;
CREATE INDEX idx_calls_started ON calls(business_id, started_at);

CREATE TABLE business_numbers (
    id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    business_id BIGINT NOT NULL REFERENCES business(id) ON DELETE CASCADE,
    kind TEXT NOT NULL CHECK (kind IN ('phone', 'whatsapp')),
    value TEXT NOT NULL,
    UNIQUE (kind, value)
);
CREATE INDEX idx_business_numbers_business ON business_numbers(business_id);
