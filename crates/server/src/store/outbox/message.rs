//! Written messages the tools ask for (`send_sms`, `send_whatsapp`,
//! `send_email`: the language model's and MCP's): checked against the
//! client's consent and the channels this deployment can send on, then
//! queued in the outbox once per conversation, recipient and text.

use fluxion_core::booking::{Id, StoreError};
use fluxion_core::history::{MessageChannel, MessageQueued, MessageRequest};
use jiff::Timestamp;
use serde_json::json;
use sha2::{Digest, Sha256};
use sqlx::AnyConnection;

use super::kinds::{NewNotice, NoticeKind, NotifyChannel};
use super::notices::{insert, ClientContact, PolicySlot};
use crate::store::store_error;

/// The outbox channel of a tool's message channel.
pub fn channel_of(c: MessageChannel) -> NotifyChannel {
    match c {
        MessageChannel::Sms => NotifyChannel::Sms,
        MessageChannel::Whatsapp => NotifyChannel::Whatsapp,
        MessageChannel::Email => NotifyChannel::Email,
    }
}

/// Whether `contact` consented to messages on `channel`.
fn consented(contact: &ClientContact, channel: MessageChannel) -> bool {
    match channel {
        MessageChannel::Sms => contact.notify_sms != 0,
        MessageChannel::Whatsapp => contact.notify_whatsapp != 0,
        MessageChannel::Email => contact.notify_email != 0,
    }
}

/// The idempotency key: one row per conversation, channel, recipient and text.
fn message_key(r: &MessageRequest) -> String {
    let mut h = Sha256::new();
    for part in [r.channel.as_str(), r.recipient.as_str(), r.subject.as_deref().unwrap_or(""), r.text.as_str()] {
        h.update(part.as_bytes());
        h.update([0]);
    }
    let digest: String = h.finalize().iter().take(12).map(|b| format!("{b:02x}")).collect();
    format!("message:{}:{digest}", r.session_id)
}

/// Queues `r` for business `business_id` on `conn`: [`MessageQueued::ChannelUnavailable`]
/// when the deployment's policy has no such client channel,
/// [`MessageQueued::NoConsent`] when the recipient did not ask for it and is
/// not a client who consented to the channel; otherwise one outbox row
/// (the client's id on it when the recipient is a client, so erasure removes
/// it).
///
/// # Errors
/// Database errors.
pub(in crate::store) async fn message_notice(
    policy: &PolicySlot,
    conn: &mut AnyConnection,
    business_id: Id,
    r: &MessageRequest,
) -> Result<MessageQueued, StoreError> {
    let channel = channel_of(r.channel);
    let open = policy.read().unwrap_or_else(|p| p.into_inner()).as_ref().is_some_and(|p| p.order.contains(&channel));
    if !open {
        return Ok(MessageQueued::ChannelUnavailable);
    }
    let column = if r.channel == MessageChannel::Email { "lower(email)" } else { "phone" };
    let contact: Option<ClientContact> = sqlx::query_as(&format!(
        "SELECT id, name, phone, email, notify_whatsapp, notify_sms, notify_email FROM clients \
         WHERE business_id = $1 AND {column} = $2 ORDER BY id LIMIT 1"
    ))
    .bind(business_id)
    .bind(r.recipient.to_lowercase())
    .fetch_optional(&mut *conn)
    .await
    .map_err(store_error)?;
    if !r.requested_by_recipient && !contact.as_ref().is_some_and(|c| consented(c, r.channel)) {
        return Ok(MessageQueued::NoConsent);
    }
    let business: Option<(String, String, String)> = sqlx::query_as("SELECT name, address, phone FROM business WHERE id = $1")
        .bind(business_id)
        .fetch_optional(&mut *conn)
        .await
        .map_err(store_error)?;
    let (name, address, phone) = business.unwrap_or_default();
    let now = Timestamp::now();
    let notice = NewNotice {
        client_id: contact.map(|c| c.id),
        recipient: r.recipient.clone(),
        channel,
        kind: NoticeKind::Message,
        payload: json!({
            "text": r.text,
            "subject": r.subject,
            "business": name,
            "address": address,
            "business_phone": phone,
            "session_id": r.session_id,
            "requested_by_recipient": r.requested_by_recipient,
        }),
        key: message_key(r),
        not_before: now,
    };
    if !insert(conn, business_id, &notice, now).await? {
        return Ok(MessageQueued::AlreadyQueued);
    }
    let id: Id = sqlx::query_scalar("SELECT id FROM outbox WHERE business_id = $1 AND idempotency_key = $2")
        .bind(business_id)
        .bind(&notice.key)
        .fetch_one(&mut *conn)
        .await
        .map_err(store_error)?;
    Ok(MessageQueued::Queued(id))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(text: &str) -> MessageRequest {
        MessageRequest {
            channel: MessageChannel::Sms,
            recipient: "+393471110000".into(),
            subject: None,
            text: text.into(),
            requested_by_recipient: true,
            session_id: "call-1".into(),
            created_at: Timestamp::UNIX_EPOCH,
        }
    }

    #[test]
    fn one_key_per_conversation_recipient_and_text() {
        let a = message_key(&request("Via Roma 1"));
        assert_eq!(a, message_key(&request("Via Roma 1")));
        assert_ne!(a, message_key(&request("Via Roma 2")));
        assert_ne!(a, message_key(&MessageRequest { session_id: "call-2".into(), ..request("Via Roma 1") }));
        assert_ne!(a, message_key(&MessageRequest { channel: MessageChannel::Whatsapp, ..request("Via Roma 1") }));
        assert!(a.starts_with("message:call-1:"));
    }
}
