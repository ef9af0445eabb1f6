//! The notification outbox: every message to send is a row (recipient,
//! channel, kind, JSON payload, idempotency key, state, attempts, next
//! attempt), so nothing is lost when the process dies and nothing is queued
//! twice. Booking notices are written in the same transaction as the
//! booking change they announce ([`booking_notice`], called by the
//! [`Tenant`]'s booking writes); the worker in [`crate::notify`] claims due
//! rows with [`Store::claim_due`] and records each outcome.
//!
//! States: `pending` (waiting for `next_attempt_at`) → `sending` (claimed,
//! with a lease; a row whose lease expired is claimed again, which is how a
//! restarted worker picks up what a crashed one held) → `sent`, or back to
//! `pending` with a later attempt, or `failed` (given up: listed for the
//! owner) or `dropped` (no longer relevant: a reminder for an appointment
//! that was cancelled or moved).
//!
//! [`kinds`] holds the closed sets and rows, [`notices`] the policy and the
//! notices queued with the changes they announce, [`message`] the written
//! messages the language model's and MCP's `send_*` tools ask for.

mod kinds;
mod message;
mod notices;

use fluxion_core::booking::{Id, StoreError};
use jiff::{SignedDuration, Timestamp};
use serde_json::Value;
use sqlx::AnyConnection;

use kinds::{EntryRow, ENTRY_COLS};
pub use kinds::{NewNotice, NoticeKind, NotifyChannel, OutboxEntry, OutboxState};
pub(super) use message::message_notice;
use notices::event_notices;
pub(super) use notices::{appointment_facts, booking_notice, callback_notice, insert, PolicySlot};
pub use notices::{booking_key, owner_route, ClientContact, Event, NoticePolicy};

use super::{parse_ts, store_error, ts_text, Store, Tenant};

impl Tenant {
    /// Queues `event` for the business's webhook endpoints on `conn`.
    pub(super) async fn queue_event(
        &self,
        conn: &mut AnyConnection,
        client_id: Option<Id>,
        event: Event,
        id: &str,
        data: Value,
    ) -> Result<usize, StoreError> {
        event_notices(&self.store().notice_policy, conn, self.id(), client_id, event, id, data).await
    }
}

impl Store {
    /// Sets (or with `None` clears) which client notices are queued and on
    /// which channels.
    pub fn set_notice_policy(&self, policy: Option<NoticePolicy>) {
        *self.notice_policy.write().unwrap_or_else(|p| p.into_inner()) = policy;
    }

    /// The current policy.
    pub fn notice_policy(&self) -> Option<NoticePolicy> {
        self.notice_policy.read().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Claims up to `limit` rows of any business that are due at `now`
    /// (pending with `next_attempt_at <= now`, or sending with an expired
    /// lease): they become `sending` until `now + lease`, and their attempt
    /// count goes up by one. Two workers never claim the same row while its
    /// lease runs (the update re-checks the state).
    ///
    /// # Errors
    /// Database errors.
    pub async fn claim_due(&self, now: Timestamp, lease: SignedDuration, limit: u32) -> Result<Vec<OutboxEntry>, StoreError> {
        let now_s = ts_text(now);
        let until = ts_text(now.checked_add(lease).unwrap_or(now));
        let due = "((state = 'pending' AND next_attempt_at <= $1) OR (state = 'sending' AND lease_until <= $1))";
        let mut tx = self.begin_write().await?;
        let rows: Vec<EntryRow> = sqlx::query_as(&format!(
            "UPDATE outbox SET state = 'sending', lease_until = $2, attempts = attempts + 1, updated_at = $1 \
             WHERE id IN (SELECT id FROM outbox WHERE {due} ORDER BY next_attempt_at, id LIMIT $3) AND {due} RETURNING {ENTRY_COLS}"
        ))
        .bind(&now_s)
        .bind(until)
        .bind(i64::from(limit))
        .fetch_all(&mut *tx)
        .await
        .map_err(store_error)?;
        tx.commit().await.map_err(store_error)?;
        let mut out: Vec<OutboxEntry> = rows.into_iter().map(OutboxEntry::try_from).collect::<Result<_, _>>()?;
        out.sort_by_key(|e| (e.next_attempt_at, e.id));
        Ok(out)
    }

    /// Records that row `id` was accepted by the provider (its id `provider_id`).
    ///
    /// # Errors
    /// Database errors.
    pub async fn outbox_sent(&self, id: Id, provider_id: &str, now: Timestamp) -> Result<(), StoreError> {
        self.outbox_finish(id, "state = 'sent', provider_id = $2, last_error = NULL", Some(provider_id), now).await
    }

    /// Puts row `id` back to `pending` until `next` after a failed attempt.
    ///
    /// # Errors
    /// Database errors.
    pub async fn outbox_retry(&self, id: Id, error: &str, next: Timestamp, now: Timestamp) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE outbox SET state = 'pending', last_error = $2, next_attempt_at = $3, lease_until = NULL, updated_at = $4 \
             WHERE id = $1 AND state = 'sending'",
        )
        .bind(id)
        .bind(error)
        .bind(ts_text(next))
        .bind(ts_text(now))
        .execute(&self.pool)
        .await
        .map(|_| ())
        .map_err(store_error)
    }

    /// Gives row `id` up (`failed`) with `error`.
    ///
    /// # Errors
    /// Database errors.
    pub async fn outbox_failed(&self, id: Id, error: &str, now: Timestamp) -> Result<(), StoreError> {
        self.outbox_finish(id, "state = 'failed', last_error = $2", Some(error), now).await
    }

    /// Drops row `id` (no longer relevant) with `reason`.
    ///
    /// # Errors
    /// Database errors.
    pub async fn outbox_dropped(&self, id: Id, reason: &str, now: Timestamp) -> Result<(), StoreError> {
        self.outbox_finish(id, "state = 'dropped', last_error = $2", Some(reason), now).await
    }

    async fn outbox_finish(&self, id: Id, set: &str, text: Option<&str>, now: Timestamp) -> Result<(), StoreError> {
        sqlx::query(&format!("UPDATE outbox SET {set}, lease_until = NULL, updated_at = $3 WHERE id = $1 AND state = 'sending'"))
            .bind(id)
            .bind(text)
            .bind(ts_text(now))
            .execute(&self.pool)
            .await
            .map(|_| ())
            .map_err(store_error)
    }
}

impl Store {
    /// Queues the reminder of every booked appointment, of any business,
    /// that starts after `now` and no later than `now + lead + ahead`, was
    /// booked at least `lead` before its start (a later booking had its
    /// confirmation) and whose client consented to a channel of the policy
    /// (none set: nothing). `lead` is the business's own reminder lead
    /// (`receptionist_settings.reminder_hours`, 0: no reminders) or, unset,
    /// `default_lead`. Each reminder is due at `when(start - lead, start,
    /// business time zone)` and keyed by appointment and start, so running
    /// this again queues nothing new and a moved appointment gets one
    /// reminder for its new time. Returns how many were queued.
    ///
    /// # Errors
    /// Database errors.
    pub async fn queue_reminders(
        &self,
        now: Timestamp,
        default_lead: SignedDuration,
        ahead: SignedDuration,
        when: impl Fn(Timestamp, Timestamp, &jiff::tz::TimeZone) -> Timestamp,
    ) -> Result<usize, StoreError> {
        let Some(order) = self.notice_policy().map(|p| p.order) else { return Ok(0) };
        let longest = default_lead.max(SignedDuration::from_hours(i64::from(super::receptionist::REMINDER_MAX_HOURS)));
        let within = |lead: SignedDuration| now.checked_add(lead).and_then(|t| t.checked_add(ahead)).unwrap_or(now);
        let rows: Vec<(i64, i64, String, String, String, Option<i64>)> = sqlx::query_as(
            "SELECT a.business_id, a.id, a.start_utc, a.created_at, b.timezone, r.reminder_hours FROM appointments a \
             JOIN business b ON b.id = a.business_id LEFT JOIN receptionist_settings r ON r.business_id = a.business_id \
             WHERE a.status = 'booked' AND a.start_utc > $1 AND a.start_utc <= $2 ORDER BY a.start_utc",
        )
        .bind(ts_text(now))
        .bind(ts_text(within(longest)))
        .fetch_all(&self.pool)
        .await
        .map_err(store_error)?;
        let mut queued = 0;
        let mut conn = self.pool.acquire().await.map_err(store_error)?;
        for (business_id, appointment_id, start, created, tz, hours) in rows {
            let lead = hours.map_or(default_lead, SignedDuration::from_hours);
            let start_t = parse_ts(&start)?;
            if lead.is_zero() || start_t > within(lead) {
                continue;
            }
            let due = start_t.checked_sub(lead).unwrap_or(start_t);
            // Rows written before created_at was an instant are treated as old bookings.
            if created.parse::<Timestamp>().is_ok_and(|c| c > due) {
                continue;
            }
            let Some((client, payload)) = appointment_facts(&mut conn, business_id, appointment_id).await? else { continue };
            let Some((channel, recipient)) = client.route(&order) else { continue };
            let tz = jiff::tz::TimeZone::get(&tz).unwrap_or(jiff::tz::TimeZone::UTC);
            let notice = NewNotice {
                client_id: Some(client.id),
                recipient,
                channel,
                kind: NoticeKind::Reminder,
                payload,
                key: booking_key(NoticeKind::Reminder, appointment_id, &start),
                not_before: when(due, start_t, &tz),
            };
            if insert(&mut conn, business_id, &notice, Timestamp::now()).await? {
                queued += 1;
            }
        }
        Ok(queued)
    }
}

impl Tenant {
    /// The business's own WhatsApp phone-number id, when one routes to it.
    ///
    /// # Errors
    /// Database errors.
    pub async fn whatsapp_number(&self) -> Result<Option<String>, StoreError> {
        sqlx::query_scalar("SELECT value FROM business_numbers WHERE business_id = $1 AND kind = 'whatsapp' ORDER BY value LIMIT 1")
            .bind(self.id())
            .fetch_optional(self.pool())
            .await
            .map_err(store_error)
    }
}

impl Tenant {
    /// Queues `notice`; `false` when its key is already queued.
    ///
    /// # Errors
    /// Database errors.
    pub async fn enqueue(&self, notice: &NewNotice) -> Result<bool, StoreError> {
        let mut conn = self.pool().acquire().await.map_err(store_error)?;
        insert(&mut conn, self.id(), notice, Timestamp::now()).await
    }

    /// The business's queued notifications in `state` (all states: `None`),
    /// newest first, at most `limit`.
    ///
    /// # Errors
    /// Database errors.
    pub async fn outbox(&self, state: Option<OutboxState>, limit: u32) -> Result<Vec<OutboxEntry>, StoreError> {
        let rows: Vec<EntryRow> = sqlx::query_as(&format!(
            "SELECT {ENTRY_COLS} FROM outbox WHERE business_id = $1 AND ($2 = '' OR state = $2) ORDER BY id DESC LIMIT $3"
        ))
        .bind(self.id())
        .bind(state.map(OutboxState::as_str).unwrap_or(""))
        .bind(i64::from(limit))
        .fetch_all(self.pool())
        .await
        .map_err(store_error)?;
        rows.into_iter().map(OutboxEntry::try_from).collect()
    }

    /// The business's notification `id`, if it has one.
    ///
    /// # Errors
    /// Database errors.
    pub async fn notification(&self, id: Id) -> Result<Option<OutboxEntry>, StoreError> {
        let row: Option<EntryRow> = sqlx::query_as(&format!("SELECT {ENTRY_COLS} FROM outbox WHERE id = $1 AND business_id = $2"))
            .bind(id)
            .bind(self.id())
            .fetch_optional(self.pool())
            .await
            .map_err(store_error)?;
        row.map(OutboxEntry::try_from).transpose()
    }

    /// Sends failed notification `id` again: it goes back to `pending`, due
    /// at `now`, with a fresh set of attempts (the owner fixed what made it
    /// fail: an address, a provider key). `false` when the business has no
    /// such notification or it is not `failed`.
    ///
    /// # Errors
    /// Database errors.
    pub async fn retry_notification(&self, id: Id, now: Timestamp) -> Result<bool, StoreError> {
        let now = ts_text(now);
        let done = sqlx::query(
            "UPDATE outbox SET state = 'pending', attempts = 0, next_attempt_at = $3, lease_until = NULL, updated_at = $3 \
             WHERE id = $1 AND business_id = $2 AND state = 'failed'",
        )
        .bind(id)
        .bind(self.id())
        .bind(now)
        .execute(self.pool())
        .await
        .map_err(store_error)?;
        Ok(done.rows_affected() == 1)
    }

    /// Records which channels client `client_id` agreed to receive service
    /// messages on (`None` leaves a channel as it is); `false` when the
    /// business has no such client.
    ///
    /// # Errors
    /// Database errors.
    pub async fn set_notify_consent(
        &self,
        client_id: Id,
        whatsapp: Option<bool>,
        sms: Option<bool>,
        email: Option<bool>,
    ) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "UPDATE clients SET notify_whatsapp = COALESCE($3, notify_whatsapp), notify_sms = COALESCE($4, notify_sms), \
             notify_email = COALESCE($5, notify_email), updated_at = $6 WHERE id = $1 AND business_id = $2",
        )
        .bind(client_id)
        .bind(self.id())
        .bind(whatsapp.map(i64::from))
        .bind(sms.map(i64::from))
        .bind(email.map(i64::from))
        .bind(ts_text(Timestamp::now()))
        .execute(self.pool())
        .await
        .map_err(store_error)?;
        Ok(done.rows_affected() == 1)
    }

    /// Client `client_id`'s addresses and consents.
    ///
    /// # Errors
    /// Database errors.
    pub async fn client_contact(&self, client_id: Id) -> Result<Option<ClientContact>, StoreError> {
        sqlx::query_as(
            "SELECT id, name, phone, email, notify_whatsapp, notify_sms, notify_email FROM clients WHERE id = $1 AND business_id = $2",
        )
        .bind(client_id)
        .bind(self.id())
        .fetch_optional(self.pool())
        .await
        .map_err(store_error)
    }

    /// The facts a notice about appointment `appointment_id` is made of
    /// (its current state) and its client's contact.
    ///
    /// # Errors
    /// Database errors.
    pub async fn appointment_notice_facts(&self, appointment_id: Id) -> Result<Option<(ClientContact, Value)>, StoreError> {
        let mut conn = self.pool().acquire().await.map_err(store_error)?;
        appointment_facts(&mut conn, self.id(), appointment_id).await
    }

    /// When `peer` (WhatsApp wa_id, digits) last wrote to the business, if
    /// ever: WhatsApp's 24-hour customer-service window runs from there.
    ///
    /// # Errors
    /// Database errors.
    pub async fn last_inbound_whatsapp(&self, peer: &str) -> Result<Option<Timestamp>, StoreError> {
        let at: Option<String> = sqlx::query_scalar(
            "SELECT MAX(created_at) FROM whatsapp_messages WHERE business_id = $1 AND peer = $2 AND direction = 'inbound'",
        )
        .bind(self.id())
        .bind(peer)
        .fetch_one(self.pool())
        .await
        .map_err(store_error)?;
        at.as_deref().map(parse_ts).transpose()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn closed_sets_round_trip() {
        for c in NotifyChannel::ALL {
            assert_eq!(NotifyChannel::parse(c.as_str()), Some(c));
        }
        for k in NoticeKind::ALL {
            assert_eq!(NoticeKind::parse(k.as_str()), Some(k));
        }
        for s in OutboxState::ALL {
            assert_eq!(OutboxState::parse(s.as_str()), Some(s));
        }
    }

    #[test]
    fn routes_to_the_first_consented_channel() {
        let c = ClientContact {
            id: 1,
            name: "Ada".into(),
            phone: "+393471110000".into(),
            email: Some("ada@example.it".into()),
            notify_whatsapp: 0,
            notify_sms: 1,
            notify_email: 1,
        };
        let order = [NotifyChannel::Whatsapp, NotifyChannel::Sms, NotifyChannel::Email];
        assert_eq!(c.route(&order), Some((NotifyChannel::Sms, "+393471110000".into())));
        assert_eq!(c.route(&[NotifyChannel::Email, NotifyChannel::Sms]), Some((NotifyChannel::Email, "ada@example.it".into())));
        let none = ClientContact { notify_sms: 0, notify_email: 0, ..c.clone() };
        assert_eq!(none.route(&order), None, "never without consent");
        let no_mail = ClientContact { email: None, notify_sms: 0, ..c };
        assert_eq!(no_mail.route(&order), None, "consent without an address is no route");
    }
}
