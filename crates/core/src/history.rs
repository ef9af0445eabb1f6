//! Records the conversation leaves behind: chat turns, waitlist entries,
//! callback requests, messages to send.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::booking::{Channel, Id};
use crate::nlu::{Intent, Layer, LayerTimings};

/// Who spoke.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// The caller / chat user.
    User,
    /// Fluxion.
    Assistant,
}

impl Role {
    /// Database spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::User => "user",
            Role::Assistant => "assistant",
        }
    }
}

/// One line of the chat history.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChatTurn {
    /// Conversation id (HTTP `session_id`, call SID…).
    pub session_id: String,
    /// Known client, if any.
    pub client_id: Option<Id>,
    /// Speaker.
    pub role: Role,
    /// What was said.
    pub text: String,
    /// Intent understood (user turns).
    pub intent: Option<Intent>,
    /// Layer that answered (user turns).
    pub layer: Option<Layer>,
    /// Processing time of the turn in µs.
    pub latency_us: u64,
    /// Time spent in each NLU layer (user turns).
    pub timings: Option<LayerTimings>,
    /// The language model that answered (L4 turns).
    pub model_use: Option<ModelUse>,
    /// When it was said.
    pub at: Timestamp,
    /// Channel of the conversation.
    pub channel: Channel,
}

/// What an L4 turn used of the language model.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ModelUse {
    /// Model name.
    pub model: String,
    /// Tokens (prompt + completion), when reported.
    pub tokens: Option<u32>,
    /// Tools called, in order.
    pub tool_calls: Vec<String>,
}

/// Somebody wanted a slot and none fitted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WaitlistEntry {
    /// Client, when known.
    pub client_id: Option<Id>,
    /// Service wanted.
    pub service_id: Id,
    /// Preferred operator.
    pub operator_id: Option<Id>,
    /// Preferred local day (YYYY-MM-DD) or free text.
    pub preference: String,
    /// When it was asked.
    pub created_at: Timestamp,
}

/// What a request for the owner is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RequestKind {
    /// The caller wants a person to call back.
    #[default]
    Callback,
    /// A complaint; the reason says what about.
    Complaint,
    /// Erase my data / withdraw consent (GDPR), for the owner to carry out.
    Privacy,
}

impl RequestKind {
    /// The column value: `callback`, `complaint`, `privacy`.
    pub fn as_str(self) -> &'static str {
        match self {
            RequestKind::Callback => "callback",
            RequestKind::Complaint => "complaint",
            RequestKind::Privacy => "privacy",
        }
    }
    /// Parses a column value; `None` when unknown.
    pub fn parse(s: &str) -> Option<Self> {
        [RequestKind::Callback, RequestKind::Complaint, RequestKind::Privacy].into_iter().find(|k| k.as_str() == s)
    }
}

/// A request the owner must act on: a callback, a complaint, a privacy
/// request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CallbackRequest {
    /// What it is about.
    #[serde(default)]
    pub kind: RequestKind,
    /// Client, when known.
    pub client_id: Option<Id>,
    /// The caller's name as given, when not a known client.
    #[serde(default)]
    pub name: Option<String>,
    /// Number to call back (E.164), when known.
    pub phone: Option<String>,
    /// Conversation it came from.
    pub session_id: String,
    /// Why (last user text).
    pub reason: String,
    /// When it was asked.
    pub created_at: Timestamp,
}

/// The written channel of a message a tool asks to send.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MessageChannel {
    /// SMS to an E.164 number.
    Sms,
    /// WhatsApp to an E.164 number.
    Whatsapp,
    /// E-mail to an address.
    Email,
}

impl MessageChannel {
    /// The spelling shared with the outbox: `sms`, `whatsapp`, `email`.
    pub fn as_str(self) -> &'static str {
        match self {
            MessageChannel::Sms => "sms",
            MessageChannel::Whatsapp => "whatsapp",
            MessageChannel::Email => "email",
        }
    }

    /// The channel's name as the receptionist says it ("SMS", "WhatsApp", "e-mail").
    pub fn spoken(self) -> &'static str {
        match self {
            MessageChannel::Sms => "SMS",
            MessageChannel::Whatsapp => "WhatsApp",
            MessageChannel::Email => "e-mail",
        }
    }
}

/// A written message to a client that a tool (the language model's
/// `send_sms` / `send_whatsapp` / `send_email`, or an MCP client) asks to
/// send. The store queues it in the notification outbox, which sends it once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MessageRequest {
    /// How it travels.
    pub channel: MessageChannel,
    /// E.164 number (SMS, WhatsApp) or e-mail address.
    pub recipient: String,
    /// The subject line (e-mail only).
    pub subject: Option<String>,
    /// The text, plain.
    pub text: String,
    /// The recipient asked for this very message and confirmed it in the
    /// conversation (a caller's own number or address): that request is the
    /// consent. When `false` (staff writing to a client) the client's stored
    /// consent to the channel is required.
    pub requested_by_recipient: bool,
    /// Conversation it came from (part of the idempotency key: the same text
    /// to the same recipient from one conversation is queued once).
    pub session_id: String,
    /// When it was asked.
    pub created_at: Timestamp,
}

/// What became of a [`MessageRequest`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MessageQueued {
    /// Queued in the outbox (row id): it will be sent once.
    Queued(Id),
    /// The same message from the same conversation was already queued.
    AlreadyQueued,
    /// The client did not consent to this channel: nothing queued.
    NoConsent,
    /// This deployment cannot send on the channel (not configured): nothing queued.
    ChannelUnavailable,
}
