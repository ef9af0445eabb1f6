//! What happens to a verified delivery: statuses update the messages
//! Fluxion sent; each new message from a client runs one dialogue turn in
//! that client's conversation and the reply goes back through the Graph API.
//! Voice notes are heard ([`super::voice_note`]) and run the same turn;
//! other media are answered with a short text asking the client to write.

use std::sync::Arc;

use fluxion_core::booking::Channel;

use super::graph::ReplyButton;
use super::payload::{Delivery, Message, Status};
use super::{WhatsApp, MESSAGES_TOTAL};
use crate::channels::written::{self, Written};
use crate::observability::mask_phone;
use crate::store::{MessageDirection, MessageStatus, NumberKind, Tenant};

/// Answer to a voice note when no speech-to-text engine runs here.
pub const AUDIO_REPLY: &str = super::voice_note::NO_SPEECH_REPLY;
/// Answer to images, stickers, locations and other messages without text.
pub const UNSUPPORTED_REPLY: &str = "Mi scusi, posso leggere solo messaggi di testo. Mi scriva pure cosa desidera: prenotare, spostare o disdire un appuntamento, oppure un'informazione.";
/// Answer when the turn could not be completed (database down).
pub const FAILURE_REPLY: &str =
    "Mi scusi, in questo momento ho un problema tecnico e non posso completare la richiesta. Riprovi tra qualche minuto, per favore.";

/// Handles one delivery (on its own task; errors are logged, never lost
/// silently: a message whose turn failed gets [`FAILURE_REPLY`]).
pub async fn handle(wa: Arc<WhatsApp>, delivery: Delivery) {
    for change in delivery.entry.iter().flat_map(|e| &e.changes) {
        if change.field != "messages" && !change.field.is_empty() {
            continue;
        }
        let value = &change.value;
        let number_id = value.metadata.as_ref().map(|m| m.phone_number_id.as_str()).or(wa.config.phone_number_id.as_deref());
        let tenant = match wa.app.tenant_for(NumberKind::Whatsapp, number_id).await {
            Ok(Some(t)) => t,
            Ok(None) => {
                tracing::warn!(phone_number_id = number_id.unwrap_or("-"), "WhatsApp delivery for a number no business owns: ignored");
                continue;
            }
            Err(e) => {
                tracing::error!(error = %e, "WhatsApp delivery not handled: database unavailable");
                continue;
            }
        };
        for status in &value.statuses {
            apply_status(&wa, &tenant, status).await;
        }
        let Some(from_id) = number_id else {
            tracing::warn!("WhatsApp messages without a phone-number id: cannot reply");
            continue;
        };
        for message in &value.messages {
            handle_message(&wa, &tenant, from_id, message).await;
        }
    }
}

async fn apply_status(wa: &WhatsApp, tenant: &Tenant, status: &Status) {
    let Some(s) = MessageStatus::parse(&status.status).filter(|s| *s != MessageStatus::Received) else {
        tracing::debug!(status = %status.status, "WhatsApp status not tracked");
        return;
    };
    let error = status.errors.first().map(|e| format!("{} {}", e.code, e.title));
    match tenant.message_status(&status.id, s, error.as_deref(), wa.app.clock.now()).await {
        Ok(true) => {
            if s == MessageStatus::Failed {
                tracing::warn!(message = %status.id, error = error.as_deref().unwrap_or(""), "WhatsApp message not delivered");
            }
        }
        Ok(false) => tracing::debug!(message = %status.id, status = s.as_str(), "WhatsApp status for no newer state of a message of ours"),
        Err(e) => tracing::error!(message = %status.id, error = %e, "WhatsApp status not stored"),
    }
}

async fn handle_message(wa: &WhatsApp, tenant: &Tenant, from_id: &str, message: &Message) {
    let now = wa.app.clock.now();
    let peer: String = message.from.chars().filter(char::is_ascii_digit).collect();
    if peer.is_empty() {
        tracing::warn!(message = %message.id, "WhatsApp message without a sender number: ignored");
        return;
    }
    match tenant.record_message(&message.id, MessageDirection::Inbound, &peer, &message.kind, now).await {
        Ok(true) => {}
        Ok(false) => {
            tracing::info!(message = %message.id, "WhatsApp message already handled (a retried delivery): ignored");
            return;
        }
        Err(e) => {
            // The delivery was already acknowledged (200), so Meta will not
            // retry it: tell the client it was not handled rather than stay silent.
            tracing::error!(message = %message.id, error = %e, "WhatsApp message not recorded: not handled");
            send(wa, tenant, from_id, &peer, FAILURE_REPLY).await;
            return;
        }
    }
    let heard = match (message.said(), &message.audio) {
        (None, Some(media)) if message.kind == "audio" => Some(hear(wa, tenant, &peer, media).await),
        _ => None,
    };
    let said = match &heard {
        Some(Ok(words)) => Some(words.as_str()),
        _ => message.said(),
    };
    let (reply, outcome) = match (said, &heard) {
        (Some(text), _) => match turn(wa, tenant, &peer, text).await {
            Ok(reply) => (reply, if heard.is_some() { "heard" } else { "answered" }),
            Err(e) => {
                tracing::error!(client = %mask_phone(&peer), error = %e, "WhatsApp turn failed");
                (FAILURE_REPLY.to_string(), "failed")
            }
        },
        (None, Some(Err(reply))) => (reply.to_string(), "audio"),
        (None, _) if message.kind == "audio" => (AUDIO_REPLY.to_string(), "audio"),
        (None, _) => (UNSUPPORTED_REPLY.to_string(), "unsupported"),
    };
    metrics::counter!(MESSAGES_TOTAL, "kind" => kind_label(&message.kind), "outcome" => outcome).increment(1);
    send(wa, tenant, from_id, &peer, &reply).await;
}

/// The words of a voice note, or the reply that says why it was not heard
/// (an empty recognition: [`super::voice_note::UNHEARD_REPLY`]).
async fn hear(wa: &WhatsApp, tenant: &Tenant, peer: &str, media: &super::payload::Media) -> Result<String, &'static str> {
    let prompt = match wa.app.engines.get_on(tenant.id(), Channel::Whatsapp).await {
        Ok(engine) => crate::voice::agent::stt_prompt(engine.info()),
        Err(_) => String::new(),
    };
    let started = std::time::Instant::now();
    match super::voice_note::hear(wa, media, &prompt).await {
        Ok(words) if words.trim().is_empty() => Err(super::voice_note::UNHEARD_REPLY),
        Ok(words) => {
            tracing::info!(client = %mask_phone(peer), elapsed_ms = started.elapsed().as_millis() as u64, "WhatsApp voice note heard");
            Ok(words)
        }
        Err(e) => {
            tracing::warn!(client = %mask_phone(peer), error = %e, "WhatsApp voice note not heard");
            Err(e.reply())
        }
    }
}

/// One dialogue turn of `peer`'s conversation (stored in the database
/// between turns, see [`crate::app::Sessions`]); returns the reply.
async fn turn(wa: &WhatsApp, tenant: &Tenant, peer: &str, text: &str) -> anyhow::Result<String> {
    let session_id = format!("wa:{peer}");
    // The sender's number is verified by WhatsApp: the caller ID of a chat.
    let sender = format!("+{peer}");
    // A chat idle for `session_idle` starts afresh (resumed the next day: a new conversation).
    let w = Written { channel: Channel::Whatsapp, session_id: &session_id, sender: &sender, idle: wa.config.session_idle };
    written::turn(&wa.app, tenant, &w, text).await
}

/// Sends `reply` (with Sì/No buttons when it asks for a confirmation) and
/// records it for its delivery receipts.
async fn send(wa: &WhatsApp, tenant: &Tenant, from_id: &str, peer: &str, reply: &str) {
    const YES_NO: [ReplyButton<'static>; 2] = [ReplyButton { id: "si", title: "Sì" }, ReplyButton { id: "no", title: "No" }];
    let graph = wa.graph_for(tenant).await;
    let sent = if asks_confirmation(reply) {
        graph.send_buttons(from_id, peer, reply, &YES_NO).await
    } else {
        graph.send_text(from_id, peer, reply).await
    };
    match sent {
        Ok(id) => {
            if let Err(e) = tenant.record_message(&id, MessageDirection::Outbound, peer, "text", wa.app.clock.now()).await {
                tracing::error!(message = %id, error = %e, "WhatsApp reply sent but not recorded");
            }
        }
        Err(e) => tracing::error!(client = %mask_phone(peer), error = %e, "WhatsApp reply not sent"),
    }
}

/// Whether the reply's last sentence asks the client to confirm.
fn asks_confirmation(reply: &str) -> bool {
    let reply = reply.trim_end();
    reply.ends_with('?') && reply.rsplit(['.', '!', '\n']).next().is_some_and(|last| last.to_lowercase().contains("conferm"))
}

/// A bounded label for the messages metric.
fn kind_label(kind: &str) -> &'static str {
    match kind {
        "text" => "text",
        "interactive" => "interactive",
        "button" => "button",
        "audio" => "audio",
        "image" => "image",
        "sticker" => "sticker",
        "location" => "location",
        _ => "other",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn confirmation_questions_get_buttons() {
        assert!(asks_confirmation("Ricapitolo: taglio domani alle 10. Confermo la prenotazione?"));
        assert!(asks_confirmation("Conferma?"));
        assert!(!asks_confirmation("Confermato. A che ora preferisce?"));
        assert!(!asks_confirmation("Prenotazione confermata."));
    }
}
