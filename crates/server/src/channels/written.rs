//! One turn of a written conversation (WhatsApp, SMS): the client's
//! conversation is opened from the database (it may have been held by
//! another instance), the message runs through the dialogue, the state is
//! saved before the reply goes out. "ANNULLA", the reminders' reply
//! keyword, starts a cancellation that follows the dialogue's own rules.

use std::time::Duration;

use fluxion_core::booking::Channel;

use crate::app::AppState;
use crate::observability::mask_phone;
use crate::store::Tenant;

/// What the dialogue hears when a client answers a reminder with "ANNULLA":
/// a cancellation request, which then follows the dialogue's own rules
/// (which appointment, read-back, confirmation).
pub const CANCEL_REQUEST: &str = "vorrei disdire il mio appuntamento";

/// Whether the message is the reminder's reply keyword "ANNULLA" (any case,
/// surrounding spaces and punctuation ignored).
pub fn is_cancel_reply(text: &str) -> bool {
    text.trim().trim_matches(|c: char| c.is_ascii_punctuation() || c.is_whitespace()).eq_ignore_ascii_case("annulla")
}

/// A written message to run: who wrote, on which channel, in which conversation.
pub struct Written<'a> {
    /// The channel bookings are recorded with.
    pub channel: Channel,
    /// The conversation's key (`wa:<wa_id>`, `sms:<E.164>`).
    pub session_id: &'a str,
    /// The sender's number in E.164, verified by the channel (their caller ID).
    pub sender: &'a str,
    /// A conversation idle this long starts afresh.
    pub idle: Duration,
}

/// Runs `text` as one turn of `w`'s conversation with business `tenant`;
/// returns the reply.
///
/// # Errors
/// The engine could not be built, the conversation is held elsewhere past
/// its lease, or the database failed (the turn's state is saved even when
/// the turn itself failed; no reply is given then).
pub async fn turn(app: &AppState, tenant: &Tenant, w: &Written<'_>, text: &str) -> anyhow::Result<String> {
    let engine = app.engines.get_on(tenant.id(), w.channel).await?;
    let (held, resumed) = app.sessions.open(tenant, w.session_id, w.session_id, w.idle, engine.info()).await?;
    let cancel = is_cancel_reply(text);
    let mut dialogue = match resumed {
        Some(d) if !cancel => d,
        // "ANNULLA" starts afresh, whatever was under way.
        _ => engine.dialogue_for(Some(w.sender)).await,
    };
    let said = if cancel { CANCEL_REQUEST } else { text };
    // Saved even when the turn failed (what it wrote is in the dialogue);
    // the reply is given only once the state is saved.
    let turn = engine.turn(&mut dialogue, w.session_id, said, app.clock.now()).await;
    held.save(&dialogue).await?;
    let report = turn?;
    tracing::info!(
        channel = w.channel.as_str(),
        client = %mask_phone(w.sender),
        intent = report.intent.as_str(),
        layer = report.layer.as_str(),
        booked = report.booking.as_ref().map(|a| a.id),
        "written turn handled"
    );
    Ok(report.reply)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_reminder_reply_keyword() {
        assert!(is_cancel_reply("ANNULLA"));
        assert!(is_cancel_reply(" annulla! "));
        assert!(!is_cancel_reply("annulla la richiesta di prima e prenota"));
    }
}
