//! Incoming SMS: the reply path of SMS reminders ("risponda ANNULLA per
//! disdire") and a written conversation like WhatsApp's. The provider's
//! messaging webhook posts each message; its signature is checked like the
//! voice webhooks' (same auth token, same `PUBLIC_URL`), the business is the
//! one the number written to routes to, the text runs one turn of the
//! sender's conversation (`sms:<E.164>`, see [`crate::channels::written`])
//! and the reply goes back in the answer:
//!
//! - `POST /twilio/sms` (Twilio Messaging webhook: `From`, `To`, `Body`,
//!   `MessageSid`) → TwiML `<Response><Message>…</Message></Response>`
//!   (Twilio "TwiML for Programmable Messaging");
//! - `POST /plivo/sms` (Plivo message URL: `From`, `To`, `Text`,
//!   `MessageUUID`) → Plivo XML `<Response><Message src="To" dst="From"
//!   type="sms">…</Message></Response>` (Plivo "Message XML element").
//!
//! Also under `/webhooks/`. A bad signature gets 403 and nothing is run; a
//! message without sender or text gets an empty answer (no reply SMS).

use std::sync::Arc;

use axum::extract::{OriginalUri, State};
use axum::http::HeaderMap;
use axum::response::Response;
use axum::Form;
use fluxion_core::booking::Channel;
use fluxion_core::nlu::l2_slots::normalize_phone;

use super::webhooks::{check_plivo, check_twilio, param, xml, Params};
use super::wire::{xml_escape, XML_DECLARATION};
use super::Telephony;
use crate::channels::written::{self, Written};
use crate::observability::mask_phone;

/// Longest reply sent back by SMS, characters (longer replies are cut at a
/// sentence; the providers split what they send into segments).
pub const MAX_SMS_REPLY_CHARS: usize = 640;

/// Longest incoming text run, characters.
const MAX_SMS_TEXT_CHARS: usize = 1_600;

/// Answer when the turn could not be completed.
pub const FAILURE_SMS: &str = "Mi scusi, in questo momento non riesco a completare la richiesta. Riprovi tra qualche minuto.";

/// `POST /twilio/sms`: a message written to one of the business's numbers.
pub async fn twilio_sms(State(t): State<Arc<Telephony>>, uri: OriginalUri, headers: HeaderMap, Form(params): Form<Params>) -> Response {
    if let Some(r) = check_twilio(&t, &uri, &headers, &params).await {
        return r;
    }
    let reply = answer(&t, param(&params, "From"), param(&params, "To"), param(&params, "Body")).await;
    let body = match reply {
        Some(text) => format!("{XML_DECLARATION}<Response><Message>{}</Message></Response>", xml_escape(&text)),
        None => format!("{XML_DECLARATION}<Response/>"),
    };
    xml(body)
}

/// `POST /plivo/sms`: a message written to one of the business's numbers.
pub async fn plivo_sms(State(t): State<Arc<Telephony>>, uri: OriginalUri, headers: HeaderMap, Form(params): Form<Params>) -> Response {
    if let Some(r) = check_plivo(&t, &uri, &headers, &params).await {
        return r;
    }
    let (from, to) = (param(&params, "From"), param(&params, "To"));
    let reply = answer(&t, from, to, param(&params, "Text")).await;
    let body = match (reply, from, to) {
        (Some(text), Some(from), Some(to)) => format!(
            r#"{XML_DECLARATION}<Response><Message src="{}" dst="{}" type="sms">{}</Message></Response>"#,
            xml_escape(to),
            xml_escape(from),
            xml_escape(&text)
        ),
        _ => format!("{XML_DECLARATION}<Response/>"),
    };
    xml(body)
}

/// The reply to `text` from `from` written to `to`; `None` when there is
/// nothing to answer (no sender or text, a number no business owns).
async fn answer(t: &Telephony, from: Option<&str>, to: Option<&str>, text: Option<&str>) -> Option<String> {
    let sender = from.and_then(normalize_phone)?;
    let text: String = text.map(str::trim).filter(|s| !s.is_empty())?.chars().take(MAX_SMS_TEXT_CHARS).collect();
    let tenant = match t.app.tenant_for_called(to).await {
        Ok(Some(tenant)) => tenant,
        Ok(None) => {
            tracing::warn!(to = to.map(mask_phone).unwrap_or_default(), "SMS to a number no business answers on: ignored");
            return None;
        }
        Err(e) => {
            tracing::error!(error = %e, "SMS not handled: database unavailable");
            return Some(FAILURE_SMS.to_string());
        }
    };
    let session_id = format!("sms:{sender}");
    let w = Written { channel: Channel::Chat, session_id: &session_id, sender: &sender, idle: crate::app::SESSION_IDLE };
    match written::turn(&t.app, &tenant, &w, &text).await {
        Ok(reply) => Some(cut_at_sentence(&reply, MAX_SMS_REPLY_CHARS)),
        Err(e) => {
            tracing::error!(client = %mask_phone(&sender), error = %e, "SMS turn failed");
            Some(FAILURE_SMS.to_string())
        }
    }
}

/// `text` within `max` characters, cut after the last full sentence that fits.
fn cut_at_sentence(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_string();
    }
    let head: String = text.chars().take(max).collect();
    match head.rfind(['.', '?', '!']) {
        Some(i) if i > 0 => head[..=i].to_string(),
        _ => head,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_replies_are_cut_after_a_sentence() {
        assert_eq!(cut_at_sentence("Breve.", 100), "Breve.");
        assert_eq!(cut_at_sentence("Prima frase. Seconda frase lunga", 20), "Prima frase.");
        assert_eq!(cut_at_sentence("senzapunti", 5), "senza");
    }
}
