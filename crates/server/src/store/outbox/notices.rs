//! What goes into the outbox and to whom: the deployment's notice policy,
//! a client's addresses and consents, and the notices queued inside the
//! transaction of the change they announce (bookings, callback requests,
//! automation events).

use std::sync::{Arc, RwLock};

use fluxion_core::booking::{Id, StoreError};
use jiff::Timestamp;
use serde::Serialize;
use serde_json::{json, Value};
use sqlx::AnyConnection;

use super::kinds::{NewNotice, NoticeKind, NotifyChannel};
use crate::store::{store_error, ts_text};

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
pub(in crate::store) async fn event_notices(
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
pub(in crate::store) type PolicySlot = Arc<RwLock<Option<NoticePolicy>>>;

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
pub(in crate::store) async fn insert(conn: &mut AnyConnection, business_id: Id, n: &NewNotice, now: Timestamp) -> Result<bool, StoreError> {
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
pub(in crate::store) async fn appointment_facts(
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
pub(in crate::store) async fn booking_notice(
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
pub(in crate::store) async fn callback_notice(
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
