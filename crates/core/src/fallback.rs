//! The seam for L4: a language model (or anything else) that answers the
//! turns L0–L3 could not. The dialogue asks through
//! [`Action::Fallback`](crate::dialogue::Action::Fallback); the session fills
//! a [`FallbackRequest`] and feeds the [`FallbackReply`] back.

use std::future::Future;

use jiff::Timestamp;

use crate::booking::Appointment;
use crate::history::Role;

/// Lowest L3 score of an FAQ answer used as a stand-in when the model
/// cannot answer (seed 000: "return cached FAQ").
pub const FAQ_HINT_MIN_SCORE: f32 = 0.45;

/// What the fallback gets to answer one turn.
#[derive(Debug, Clone, Copy)]
pub struct FallbackRequest<'a> {
    /// The caller's words.
    pub text: &'a str,
    /// The conversation so far (oldest first), without this turn.
    pub history: &'a [(Role, String)],
    /// Conversation id.
    pub session_id: &'a str,
    /// The caller's phone (E.164), when known: tools may only touch this
    /// caller's appointments.
    pub caller_phone: Option<&'a str>,
    /// Whether this turn is the caller's confirmation ("sì", "confermo") of a
    /// read-back: writes are only allowed then.
    pub confirmed: bool,
    /// The best FAQ answer L3 found, even below the threshold (a cached
    /// answer for when the model fails).
    pub faq_hint: Option<&'a str>,
    /// Current instant.
    pub now: Timestamp,
}

/// The fallback's answer.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct FallbackReply {
    /// What to say.
    pub text: String,
    /// Which layer produced it: L4 for a model answer, L3 when the model
    /// failed and a cached FAQ answer was given instead.
    pub from_model: bool,
    /// Model name ("llama-3.1-8b-instant"), when a model answered.
    pub model: Option<String>,
    /// Tokens used (prompt + completion), when reported.
    pub tokens: Option<u32>,
    /// Names of the tools the model called, in order.
    pub tool_calls: Vec<String>,
    /// An appointment the tools created, moved or cancelled.
    pub booking: Option<Appointment>,
    /// The model asked to hand the caller to a person.
    pub transfer: bool,
}

/// Answers what L0–L3 could not.
pub trait Fallback: Send + Sync {
    /// A reply, or `None` when there is nothing to say (no model configured);
    /// the dialogue then asks the caller to rephrase or offers a person.
    fn answer(&self, request: FallbackRequest<'_>) -> impl Future<Output = Option<FallbackReply>> + Send;
}

/// No language model configured: always `None`.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoFallback;

impl Fallback for NoFallback {
    async fn answer(&self, _request: FallbackRequest<'_>) -> Option<FallbackReply> {
        None
    }
}
