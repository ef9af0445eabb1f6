-- Written messages the tools ask for (send_sms, send_whatsapp, send_email,
-- POST /api/messages) are notices of kind 'message'.
ALTER TABLE outbox DROP CONSTRAINT outbox_kind_check;
ALTER TABLE outbox ADD CONSTRAINT outbox_kind_check CHECK (kind IN ('booking_confirmed', 'booking_changed', 'booking_cancelled', 'reminder',
                                                                     'callback_requested', 'event', 'loyalty_reward', 'receipt', 'message'));
