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

use std::sync::{Arc, RwLock};

use fluxion_core::booking::{Id, StoreError};
use jiff::{SignedDuration, Timestamp};
use serde::Serialize;
use serde_json::{json, Value};
use sqlx::AnyConnection;

use super::{parse_ts, store_error, ts_text, Store, Tenant};

/// How a notification travels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum NotifyChannel {
    /// WhatsApp (Meta Cloud API): text inside the 24-hour window, a template outside it.
    Whatsapp,
    /// SMS (Twilio or Plivo Messaging API).
    Sms,
    /// E-mail (SMTP).
    Email,
    /// A signed HTTP POST to an automation endpoint.
    Webhook,
}

impl NotifyChannel {
    /// Every channel.
    pub const ALL: [NotifyChannel; 4] = [NotifyChannel::Whatsapp, NotifyChannel::Sms, NotifyChannel::Email, NotifyChannel::Webhook];

    /// The database (and configuration) spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            NotifyChannel::Whatsapp => "whatsapp",
            NotifyChannel::Sms => "sms",
            NotifyChannel::Email => "email",
            NotifyChannel::Webhook => "webhook",
        }
    }

    /// Parses the database (and configuration) spelling.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.as_str() == s)
    }
}

/// What a notification is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum NoticeKind {
    /// A new booking, to the client.
    BookingConfirmed,
    /// A booking moved, to the client.
    BookingChanged,
    /// A booking cancelled, to the client.
    BookingCancelled,
    /// The reminder before an appointment, to the client.
    Reminder,
    /// A caller asked to be called back, to the business.
    CallbackRequested,
    /// An automation event (webhook delivery).
    Event,
    /// A client's points reached the business's reward threshold, to the client.
    LoyaltyReward,
    /// The receipt of completed work, e-mailed to the client with its PDF.
    Receipt,
}

impl NoticeKind {
    /// Every kind.
    pub const ALL: [NoticeKind; 8] = [
        NoticeKind::BookingConfirmed,
        NoticeKind::BookingChanged,
        NoticeKind::BookingCancelled,
        NoticeKind::Reminder,
        NoticeKind::CallbackRequested,
        NoticeKind::Event,
        NoticeKind::LoyaltyReward,
        NoticeKind::Receipt,
    ];

    /// The database spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            NoticeKind::BookingConfirmed => "booking_confirmed",
            NoticeKind::BookingChanged => "booking_changed",
            NoticeKind::BookingCancelled => "booking_cancelled",
            NoticeKind::Reminder => "reminder",
            NoticeKind::CallbackRequested => "callback_requested",
            NoticeKind::Event => "event",
            NoticeKind::LoyaltyReward => "loyalty_reward",
            NoticeKind::Receipt => "receipt",
        }
    }

    /// Parses the database spelling.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.as_str() == s)
    }

    /// Whether it goes to a client (consent and quiet hours apply).
    pub fn to_client(self) -> bool {
        matches!(
            self,
            NoticeKind::BookingConfirmed
                | NoticeKind::BookingChanged
                | NoticeKind::BookingCancelled
                | NoticeKind::Reminder
                | NoticeKind::LoyaltyReward
                | NoticeKind::Receipt
        )
    }
}

/// Where a row is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum OutboxState {
    /// Waiting for its next attempt.
    Pending,
    /// Claimed by a worker until its lease expires.
    Sending,
    /// Accepted by the provider.
    Sent,
    /// Given up after the last attempt or a permanent error.
    Failed,
    /// No longer relevant (a reminder of a cancelled appointment).
    Dropped,
}

impl OutboxState {
    /// Every state.
    pub const ALL: [OutboxState; 5] =
        [OutboxState::Pending, OutboxState::Sending, OutboxState::Sent, OutboxState::Failed, OutboxState::Dropped];

    /// The database spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            OutboxState::Pending => "pending",
            OutboxState::Sending => "sending",
            OutboxState::Sent => "sent",
            OutboxState::Failed => "failed",
            OutboxState::Dropped => "dropped",
        }
    }

    /// Parses the database spelling.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.as_str() == s)
    }
}

/// A notification to queue.
#[derive(Debug, Clone, PartialEq)]
pub struct NewNotice {
    /// The client it is for, when it is for one (erasure removes their rows).
    pub client_id: Option<Id>,
    /// E.164 number, e-mail address or URL, as the channel needs.
    pub recipient: String,
    /// How it travels.
    pub channel: NotifyChannel,
    /// What it is.
    pub kind: NoticeKind,
    /// What the message is made from (rendered when sent).
    pub payload: Value,
    /// Unique per business: queuing a notice with a key already present does nothing.
    pub key: String,
    /// Not sent before this instant.
    pub not_before: Timestamp,
}

/// A queued notification.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OutboxEntry {
    /// Row id.
    pub id: Id,
    /// The business.
    pub business_id: Id,
    /// The client, if any.
    pub client_id: Option<Id>,
    /// Where it goes.
    pub recipient: String,
    /// How.
    pub channel: NotifyChannel,
    /// What.
    pub kind: NoticeKind,
    /// Its data.
    pub payload: Value,
    /// The idempotency key.
    pub key: String,
    /// Its state.
    pub state: OutboxState,
    /// Attempts made (claims), including the current one while `sending`.
    pub attempts: u32,
    /// When it is (or was) due.
    pub next_attempt_at: Timestamp,
    /// Why the last attempt failed.
    pub last_error: Option<String>,
    /// The provider's id of the sent message.
    pub provider_id: Option<String>,
    /// Queued at.
    pub created_at: Timestamp,
}

const ENTRY_COLS: &str = "id, business_id, client_id, recipient, channel, kind, payload, idempotency_key, state, attempts, \
                          next_attempt_at, last_error, provider_id, created_at";

#[derive(sqlx::FromRow)]
struct EntryRow {
    id: i64,
    business_id: i64,
    client_id: Option<i64>,
    recipient: String,
    channel: String,
    kind: String,
    payload: String,
    idempotency_key: String,
    state: String,
    attempts: i64,
    next_attempt_at: String,
    last_error: Option<String>,
    provider_id: Option<String>,
    created_at: String,
}

impl TryFrom<EntryRow> for OutboxEntry {
    type Error = StoreError;

    fn try_from(r: EntryRow) -> Result<Self, StoreError> {
        let bad = |what: &str, v: &str| StoreError::fatal(format!("bad {what} '{v}' in the outbox table"));
        Ok(OutboxEntry {
            id: r.id,
            business_id: r.business_id,
            client_id: r.client_id,
            channel: NotifyChannel::parse(&r.channel).ok_or_else(|| bad("channel", &r.channel))?,
            kind: NoticeKind::parse(&r.kind).ok_or_else(|| bad("kind", &r.kind))?,
            state: OutboxState::parse(&r.state).ok_or_else(|| bad("state", &r.state))?,
            payload: serde_json::from_str(&r.payload).map_err(|e| StoreError::fatal(format!("bad outbox payload: {e}")))?,
            recipient: r.recipient,
            key: r.idempotency_key,
            attempts: u32::try_from(r.attempts).unwrap_or(u32::MAX),
            next_attempt_at: parse_ts(&r.next_attempt_at)?,
            last_error: r.last_error,
            provider_id: r.provider_id,
            created_at: parse_ts(&r.created_at)?,
        })
    }
}

/// Which client notices the deployment sends and on which channels, in
/// order of preference (default WhatsApp, SMS, e-mail): a notice goes on the
/// first channel of the list the client consented to and has an address
/// for. Set once at start by `serve` ([`Store::set_notice_policy`]); without
/// one no client notice is queued.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoticePolicy {
    /// Channels in order of preference (only the configured ones).
    pub order: Vec<NotifyChannel>,
    /// Where notices to the business go (callback requests), if anywhere,
    /// when the business did not choose its own recipients.
    pub owner: Option<(NotifyChannel, String)>,
    /// The channels that can carry a notice to the business, in order of
    /// preference (e-mail, WhatsApp, SMS: only the configured ones), for
    /// the recipients a business chose in its receptionist settings.
    pub owner_channels: Vec<NotifyChannel>,
    /// Automation endpoints that get every event (signed webhooks).
    pub webhooks: Vec<String>,
}

/// The automation events a webhook endpoint receives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum Event {
    /// `booking.created`.
    BookingCreated,
    /// `booking.updated` (moved).
    BookingUpdated,
    /// `booking.cancelled`.
    BookingCancelled,
    /// `booking.completed` (the work was done).
    BookingCompleted,
    /// `call.ended`.
    CallEnded,
    /// `callback.requested`.
    CallbackRequested,
    /// `message.received` (WhatsApp).
    MessageReceived,
}

impl Event {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Event::BookingCreated => "booking.created",
            Event::BookingUpdated => "booking.updated",
            Event::BookingCancelled => "booking.cancelled",
            Event::BookingCompleted => "booking.completed",
            Event::CallEnded => "call.ended",
            Event::CallbackRequested => "callback.requested",
            Event::MessageReceived => "message.received",
        }
    }
}

/// Queues `event` about `id` with `data` for every webhook endpoint of the
/// policy, on `conn` (inside the change's transaction where there is one).
/// Returns how many rows were queued.
pub(super) async fn event_notices(
    policy: &PolicySlot,
    conn: &mut AnyConnection,
    business_id: Id,
    client_id: Option<Id>,
    event: Event,
    id: &str,
    data: Value,
) -> Result<usize, StoreError> {
    let urls = policy.read().unwrap_or_else(|p| p.into_inner()).as_ref().map(|p| p.webhooks.clone()).unwrap_or_default();
    let now = Timestamp::now();
    let mut queued = 0;
    for (i, url) in urls.into_iter().enumerate() {
        let notice = NewNotice {
            client_id,
            recipient: url,
            channel: NotifyChannel::Webhook,
            kind: NoticeKind::Event,
            payload: json!({ "event": event.as_str(), "data": data }),
            key: format!("{}:{id}:{i}", event.as_str()),
            not_before: now,
        };
        if insert(conn, business_id, &notice, now).await? {
            queued += 1;
        }
    }
    Ok(queued)
}

/// The policy slot a [`Store`] carries.
pub(super) type PolicySlot = Arc<RwLock<Option<NoticePolicy>>>;

/// A client's addresses and consents.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct ClientContact {
    /// Client id.
    pub id: i64,
    /// Name.
    pub name: String,
    /// E.164 number.
    pub phone: String,
    /// E-mail address.
    pub email: Option<String>,
    /// Consent to WhatsApp service messages (0/1).
    pub notify_whatsapp: i64,
    /// Consent to SMS service messages (0/1).
    pub notify_sms: i64,
    /// Consent to e-mail service messages (0/1).
    pub notify_email: i64,
}

impl ClientContact {
    /// The first channel of `order` the client consented to and has an
    /// address for, with that address; `None`: do not write to them.
    pub fn route(&self, order: &[NotifyChannel]) -> Option<(NotifyChannel, String)> {
        let phone = Some(self.phone.trim()).filter(|p| p.starts_with('+') && p.len() > 4);
        let email = self.email.as_deref().map(str::trim).filter(|e| e.contains('@'));
        order.iter().find_map(|c| match c {
            NotifyChannel::Whatsapp if self.notify_whatsapp != 0 => phone.map(|p| (*c, p.to_string())),
            NotifyChannel::Sms if self.notify_sms != 0 => phone.map(|p| (*c, p.to_string())),
            NotifyChannel::Email if self.notify_email != 0 => email.map(|e| (*c, e.to_string())),
            _ => None,
        })
    }
}

/// Inserts `n` for business `business_id` on `conn` (a transaction's
/// connection or a pooled one); `false` when its key is already queued.
pub(super) async fn insert(conn: &mut AnyConnection, business_id: Id, n: &NewNotice, now: Timestamp) -> Result<bool, StoreError> {
    let payload = serde_json::to_string(&n.payload).map_err(|e| StoreError::fatal(format!("outbox payload: {e}")))?;
    let done = sqlx::query(
        "INSERT INTO outbox (business_id, client_id, recipient, channel, kind, payload, idempotency_key, state, attempts, next_attempt_at, \
         created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, 'pending', 0, $8, $9, $9) \
         ON CONFLICT (business_id, idempotency_key) DO NOTHING",
    )
    .bind(business_id)
    .bind(n.client_id)
    .bind(&n.recipient)
    .bind(n.channel.as_str())
    .bind(n.kind.as_str())
    .bind(payload)
    .bind(&n.key)
    .bind(ts_text(n.not_before))
    .bind(ts_text(now))
    .execute(&mut *conn)
    .await
    .map_err(store_error)?;
    Ok(done.rows_affected() == 1)
}

/// An appointment as a notice describes it: who, what, with whom, when, where.
pub(super) async fn appointment_facts(
    conn: &mut AnyConnection,
    business_id: Id,
    appointment_id: Id,
) -> Result<Option<(ClientContact, Value)>, StoreError> {
    #[derive(sqlx::FromRow)]
    struct Facts {
        start_utc: String,
        end_utc: String,
        status: String,
        service: String,
        operator: String,
        business: String,
        timezone: String,
        address: String,
        business_phone: String,
    }
    let facts: Option<Facts> = sqlx::query_as(
        "SELECT a.start_utc, a.end_utc, a.status, s.name AS service, o.name AS operator, b.name AS business, b.timezone, b.address, \
         b.phone AS business_phone FROM appointments a JOIN services s ON s.id = a.service_id JOIN operators o ON o.id = a.operator_id \
         JOIN business b ON b.id = a.business_id WHERE a.id = $1 AND a.business_id = $2",
    )
    .bind(appointment_id)
    .bind(business_id)
    .fetch_optional(&mut *conn)
    .await
    .map_err(store_error)?;
    let Some(f) = facts else { return Ok(None) };
    let client: Option<ClientContact> = sqlx::query_as(
        "SELECT c.id, c.name, c.phone, c.email, c.notify_whatsapp, c.notify_sms, c.notify_email FROM clients c \
         JOIN appointments a ON a.client_id = c.id WHERE a.id = $1 AND a.business_id = $2",
    )
    .bind(appointment_id)
    .bind(business_id)
    .fetch_optional(&mut *conn)
    .await
    .map_err(store_error)?;
    let Some(client) = client else { return Ok(None) };
    let payload = json!({
        "appointment_id": appointment_id,
        "client_name": client.name,
        "service": f.service,
        "operator": f.operator,
        "start_utc": f.start_utc,
        "end_utc": f.end_utc,
        "status": f.status,
        "business": f.business,
        "timezone": f.timezone,
        "address": f.address,
        "business_phone": f.business_phone,
    });
    Ok(Some((client, payload)))
}

/// The idempotency key of a booking notice: one confirmation and one
/// cancellation per appointment, one change notice per new start.
pub fn booking_key(kind: NoticeKind, appointment_id: Id, start_utc: &str) -> String {
    match kind {
        NoticeKind::BookingChanged | NoticeKind::Reminder => format!("appointment:{appointment_id}:{}:{start_utc}", kind.as_str()),
        _ => format!("appointment:{appointment_id}:{}", kind.as_str()),
    }
}

/// Queues the `kind` notice of appointment `appointment_id` to its client on
/// `conn` (inside the booking write's transaction), when a policy is set
/// and the client consented to a channel of it. Returns whether a row was
/// queued.
pub(super) async fn booking_notice(
    policy: &PolicySlot,
    conn: &mut AnyConnection,
    business_id: Id,
    appointment_id: Id,
    kind: NoticeKind,
) -> Result<bool, StoreError> {
    let Some(order) = policy.read().unwrap_or_else(|p| p.into_inner()).as_ref().map(|p| p.order.clone()) else {
        return Ok(false);
    };
    let Some((client, payload)) = appointment_facts(conn, business_id, appointment_id).await? else { return Ok(false) };
    let start = payload["start_utc"].as_str().unwrap_or_default().to_string();
    let event = match kind {
        NoticeKind::BookingCancelled => Some(Event::BookingCancelled),
        NoticeKind::BookingChanged => Some(Event::BookingUpdated),
        NoticeKind::BookingConfirmed => Some(Event::BookingCreated),
        _ => None,
    };
    if let Some(event) = event {
        let mut data = payload.clone();
        data["client_id"] = json!(client.id);
        data["client_phone"] = json!(client.phone);
        let id = if event == Event::BookingUpdated { format!("{appointment_id}:{start}") } else { appointment_id.to_string() };
        event_notices(policy, conn, business_id, Some(client.id), event, &id, data).await?;
    }
    let Some((channel, recipient)) = client.route(&order) else {
        tracing::debug!(appointment = appointment_id, kind = kind.as_str(), "no consented channel: no notice queued");
        return Ok(false);
    };
    let now = Timestamp::now();
    let notice = NewNotice {
        client_id: Some(client.id),
        recipient,
        channel,
        kind,
        payload,
        key: booking_key(kind, appointment_id, &start),
        not_before: now,
    };
    insert(conn, business_id, &notice, now).await
}

/// Queues the notice of callback request `request_id` to the business
/// (on `conn`, inside the request's transaction), when the policy names
/// where such notices go.
pub(super) async fn callback_notice(
    policy: &PolicySlot,
    conn: &mut AnyConnection,
    business_id: Id,
    request_id: Id,
    r: &fluxion_core::history::CallbackRequest,
) -> Result<bool, StoreError> {
    let data = json!({ "request_id": request_id, "name": r.name, "phone": r.phone, "reason": r.reason, "kind": r.kind.as_str(),
                       "client_id": r.client_id, "created_at": ts_text(r.created_at) });
    event_notices(policy, conn, business_id, r.client_id, Event::CallbackRequested, &request_id.to_string(), data.clone()).await?;
    let Some(policy) = policy.read().unwrap_or_else(|p| p.into_inner()).clone() else { return Ok(false) };
    let Some((channel, recipient)) = owner_recipient(conn, business_id, &policy).await? else { return Ok(false) };
    let now = Timestamp::now();
    let notice = NewNotice {
        client_id: r.client_id,
        recipient,
        channel,
        kind: NoticeKind::CallbackRequested,
        payload: data,
        key: format!("callback:{request_id}"),
        not_before: now,
    };
    insert(conn, business_id, &notice, now).await
}

/// Where business `business_id` is told of a callback request: the first
/// channel of `policy.owner_channels` with an address among the recipients
/// the business chose (`notify_email` for e-mail, `notify_phone` for
/// WhatsApp and SMS), or, when it chose none, the deployment's
/// `policy.owner`.
async fn owner_recipient(
    conn: &mut AnyConnection,
    business_id: Id,
    policy: &NoticePolicy,
) -> Result<Option<(NotifyChannel, String)>, StoreError> {
    let chosen: Option<(Option<String>, Option<String>)> =
        sqlx::query_as("SELECT notify_email, notify_phone FROM receptionist_settings WHERE business_id = $1")
            .bind(business_id)
            .fetch_optional(&mut *conn)
            .await
            .map_err(store_error)?;
    match chosen {
        Some((email, phone)) if email.is_some() || phone.is_some() => {
            Ok(owner_route(&policy.owner_channels, email.as_deref(), phone.as_deref()))
        }
        _ => Ok(policy.owner.clone()),
    }
}

/// The first of `channels` with an address for the business: `email` for
/// e-mail, `phone` for WhatsApp and SMS.
pub fn owner_route(channels: &[NotifyChannel], email: Option<&str>, phone: Option<&str>) -> Option<(NotifyChannel, String)> {
    channels.iter().find_map(|&c| {
        let to = if c == NotifyChannel::Email { email } else { phone };
        to.map(|to| (c, to.to_owned()))
    })
}

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
