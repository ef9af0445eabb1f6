//! WhatsApp messages of a business: received ones, deduplicated by Meta's
//! message id (Meta retries a webhook until it gets a 200, and a retry must
//! not run the dialogue twice), and sent ones with the delivery status that
//! Meta's status webhooks report.

use jiff::Timestamp;
use serde::Serialize;

use fluxion_core::booking::StoreError;

use super::{parse_ts, store_error, ts_text, Tenant};

/// Where a message went.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum MessageDirection {
    /// From the client to the business.
    Inbound,
    /// From Fluxion to the client.
    Outbound,
}

impl MessageDirection {
    /// The database spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            MessageDirection::Inbound => "inbound",
            MessageDirection::Outbound => "outbound",
        }
    }
}

/// A message's state: `received` for inbound ones; for outbound ones the
/// last status Meta reported (Cloud API webhook `statuses[].status`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum MessageStatus {
    /// An inbound message, stored.
    Received,
    /// Accepted by Meta.
    Sent,
    /// Delivered to the client's phone.
    Delivered,
    /// Read by the client.
    Read,
    /// Meta could not deliver it.
    Failed,
}

impl MessageStatus {
    /// Every status.
    pub const ALL: [MessageStatus; 5] =
        [MessageStatus::Received, MessageStatus::Sent, MessageStatus::Delivered, MessageStatus::Read, MessageStatus::Failed];

    /// The database (and Meta) spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            MessageStatus::Received => "received",
            MessageStatus::Sent => "sent",
            MessageStatus::Delivered => "delivered",
            MessageStatus::Read => "read",
            MessageStatus::Failed => "failed",
        }
    }

    /// Parses the database (and Meta) spelling.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|x| x.as_str() == s)
    }

    /// Order of the delivery states, so a late `delivered` never overwrites
    /// `read` (Meta does not promise the order of its status webhooks).
    fn rank(self) -> u8 {
        match self {
            MessageStatus::Received | MessageStatus::Sent => 0,
            MessageStatus::Delivered => 1,
            MessageStatus::Read => 2,
            MessageStatus::Failed => 3,
        }
    }
}

/// A stored message.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StoredMessage {
    /// Meta's message id (`wamid.…`).
    pub wa_message_id: String,
    /// Inbound or outbound.
    pub direction: String,
    /// The client's WhatsApp number (wa_id, digits only).
    pub peer: String,
    /// Message type (`text`, `audio`, `interactive`, `image`, …).
    pub kind: String,
    /// Current state.
    pub status: MessageStatus,
    /// Meta's error for a failed message.
    pub error: Option<String>,
    /// First seen.
    pub created_at: Timestamp,
    /// Last change.
    pub updated_at: Timestamp,
}

#[derive(sqlx::FromRow)]
struct MessageRow {
    wa_message_id: String,
    direction: String,
    peer: String,
    kind: String,
    status: String,
    error: Option<String>,
    created_at: String,
    updated_at: String,
}

impl TryFrom<MessageRow> for StoredMessage {
    type Error = StoreError;

    fn try_from(r: MessageRow) -> Result<Self, StoreError> {
        Ok(StoredMessage {
            status: MessageStatus::parse(&r.status)
                .ok_or_else(|| StoreError::fatal(format!("bad status '{}' in the whatsapp_messages table", r.status)))?,
            wa_message_id: r.wa_message_id,
            direction: r.direction,
            peer: r.peer,
            kind: r.kind,
            error: r.error,
            created_at: parse_ts(&r.created_at)?,
            updated_at: parse_ts(&r.updated_at)?,
        })
    }
}

impl Tenant {
    /// Records a message: an inbound one as `received`, an outbound one as
    /// `sent`. Returns `false` when a message with this id is already stored
    /// (a retried webhook: do not handle it again).
    ///
    /// # Errors
    /// Database errors.
    pub async fn record_message(
        &self,
        wa_message_id: &str,
        direction: MessageDirection,
        peer: &str,
        kind: &str,
        at: Timestamp,
    ) -> Result<bool, StoreError> {
        let status = match direction {
            MessageDirection::Inbound => MessageStatus::Received,
            MessageDirection::Outbound => MessageStatus::Sent,
        };
        let mut tx = self.store().begin_write().await?;
        let done = sqlx::query(
            "INSERT INTO whatsapp_messages (business_id, wa_message_id, direction, peer, kind, status, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $7) ON CONFLICT (wa_message_id) DO NOTHING",
        )
        .bind(self.id())
        .bind(wa_message_id)
        .bind(direction.as_str())
        .bind(peer)
        .bind(kind)
        .bind(status.as_str())
        .bind(ts_text(at))
        .execute(&mut *tx)
        .await
        .map_err(store_error)?;
        let new = done.rows_affected() == 1;
        if new && direction == MessageDirection::Inbound {
            let data = serde_json::json!({ "channel": "whatsapp", "message_id": wa_message_id, "from": peer, "kind": kind, "received_at": ts_text(at) });
            self.queue_event(&mut tx, None, super::outbox::Event::MessageReceived, wa_message_id, data).await?;
        }
        tx.commit().await.map_err(store_error)?;
        Ok(new)
    }

    /// The business's messages with `peer`, oldest first.
    ///
    /// # Errors
    /// Database errors.
    pub async fn messages_with(&self, peer: &str) -> Result<Vec<StoredMessage>, StoreError> {
        let rows: Vec<MessageRow> = sqlx::query_as(
            "SELECT wa_message_id, direction, peer, kind, status, error, created_at, updated_at FROM whatsapp_messages \
             WHERE business_id = $1 AND peer = $2 ORDER BY id",
        )
        .bind(self.id())
        .bind(peer)
        .fetch_all(self.pool())
        .await
        .map_err(store_error)?;
        rows.into_iter().map(StoredMessage::try_from).collect()
    }
}

impl Tenant {
    /// Applies a delivery status to the business's outbound message
    /// `wa_message_id`. A status never moves a message backwards
    /// (`delivered` after `read` is ignored). Returns `false` when the
    /// business sent no message with this id or the status is not newer than
    /// the stored one.
    ///
    /// # Errors
    /// Database errors.
    pub async fn message_status(
        &self,
        wa_message_id: &str,
        status: MessageStatus,
        error: Option<&str>,
        at: Timestamp,
    ) -> Result<bool, StoreError> {
        // Compare-and-set on the stored status; when another receipt for the
        // same message got in between (Meta sends `delivered` and `read`
        // close together, and they are handled concurrently), read it again
        // so the newer status is not lost.
        for _ in 0..MESSAGE_STATUS_ATTEMPTS {
            let current: Option<String> = sqlx::query_scalar(
                "SELECT status FROM whatsapp_messages WHERE wa_message_id = $1 AND direction = 'outbound' AND business_id = $2",
            )
            .bind(wa_message_id)
            .bind(self.id())
            .fetch_optional(self.pool())
            .await
            .map_err(store_error)?;
            let Some(current) = current.as_deref().and_then(MessageStatus::parse) else {
                return Ok(false);
            };
            if status.rank() < current.rank() || status == current {
                return Ok(false);
            }
            let done = sqlx::query(
                "UPDATE whatsapp_messages SET status = $1, error = $2, updated_at = $3 WHERE wa_message_id = $4 AND status = $5 AND business_id = $6",
            )
            .bind(status.as_str())
            .bind(error)
            .bind(ts_text(at))
            .bind(wa_message_id)
            .bind(current.as_str())
            .bind(self.id())
            .execute(self.pool())
            .await
            .map_err(store_error)?;
            if done.rows_affected() == 1 {
                return Ok(true);
            }
        }
        Ok(false)
    }
}

/// Compare-and-set rounds of [`Tenant::message_status`]: one per status a
/// message can still move through (sent, delivered, read, failed).
const MESSAGE_STATUS_ATTEMPTS: usize = 4;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_round_trip_and_never_go_back() {
        for s in MessageStatus::ALL {
            assert_eq!(MessageStatus::parse(s.as_str()), Some(s));
        }
        assert!(MessageStatus::Read.rank() > MessageStatus::Delivered.rank());
        assert!(MessageStatus::Delivered.rank() > MessageStatus::Sent.rank());
    }
}
