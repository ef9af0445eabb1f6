//! The outbox's closed sets and rows: channels, notice kinds, states, a
//! notice to queue and a queued one as read back.

use fluxion_core::booking::{Id, StoreError};
use jiff::Timestamp;
use serde::Serialize;
use serde_json::Value;

use crate::store::parse_ts;

/// How a notification travels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, utoipa::ToSchema)]
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
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, utoipa::ToSchema)]
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
    /// A written message a tool asked to send to a client (`send_sms`,
    /// `send_whatsapp`, `send_email`).
    Message,
    /// A client's points reached the business's reward threshold, to the client.
    LoyaltyReward,
    /// The receipt of completed work, e-mailed to the client with its PDF.
    Receipt,
}

impl NoticeKind {
    /// Every kind.
    pub const ALL: [NoticeKind; 9] = [
        NoticeKind::BookingConfirmed,
        NoticeKind::BookingChanged,
        NoticeKind::BookingCancelled,
        NoticeKind::Reminder,
        NoticeKind::CallbackRequested,
        NoticeKind::Event,
        NoticeKind::Message,
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
            NoticeKind::Message => "message",
            NoticeKind::LoyaltyReward => "loyalty_reward",
            NoticeKind::Receipt => "receipt",
        }
    }

    /// Parses the database spelling.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.as_str() == s)
    }

    /// Whether it goes to a client (consent applies; the text is signed
    /// with the business's name).
    pub fn to_client(self) -> bool {
        matches!(
            self,
            NoticeKind::BookingConfirmed
                | NoticeKind::BookingChanged
                | NoticeKind::BookingCancelled
                | NoticeKind::Reminder
                | NoticeKind::Message
                | NoticeKind::LoyaltyReward
                | NoticeKind::Receipt
        )
    }
}

/// Where a row is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, utoipa::ToSchema)]
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
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
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

pub(super) const ENTRY_COLS: &str = "id, business_id, client_id, recipient, channel, kind, payload, idempotency_key, state, attempts, \
                          next_attempt_at, last_error, provider_id, created_at";

#[derive(sqlx::FromRow)]
pub(super) struct EntryRow {
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
