//! One client's data on request (GDPR): everything stored about them as one
//! document (art. 15 and 20, [`Tenant::client_export`]) and its erasure
//! (art. 17, [`Tenant::erase_client`]).
//!
//! What is "about a client": their row; their appointments; their
//! conversations, i.e. every session in which a turn was linked to them, the
//! phone calls placed from their number, the sessions of their callback
//! requests and their WhatsApp chat (`wa:<digits>`); the turns, call records,
//! callback requests of those sessions and the stored state of those still
//! under way; their waitlist entries; the WhatsApp messages exchanged with
//! their number.
//!
//! Erasure keeps the appointments for the business's statistics but moves
//! them to the business's one anonymous client (`clients.anonymous = 1`, no
//! name, no number), cancelling those still to come; everything else is
//! deleted. The call recordings' files are named in the answer for the
//! caller to delete after the commit (the store does no file I/O).

use fluxion_core::booking::{Id, StoreError};
use jiff::Timestamp;
use serde::Serialize;
use sqlx::any::AnyArguments;
use sqlx::query::{Query, QueryAs, QueryScalar};
use sqlx::{Any, AnyConnection};

use super::{store_error, ts_text, Tenant};

/// Name shown for the appointments of erased clients.
pub const ANONYMOUS_NAME: &str = "Cliente cancellato";
/// Number of the anonymous client: not a phone number, so no caller matches it.
const ANONYMOUS_PHONE: &str = "anonimo";

/// A client's row as stored.
#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct ExportedClient {
    /// Row id.
    pub id: i64,
    /// Full name.
    pub name: String,
    /// Phone, E.164.
    pub phone: String,
    /// E-mail.
    pub email: Option<String>,
    /// Loyalty points.
    pub loyalty_points: i64,
    /// Created, UTC `YYYY-MM-DDTHH:MM:SSZ`.
    pub created_at: String,
    /// Last changed, UTC.
    pub updated_at: String,
    #[serde(skip)]
    consent_marketing: i64,
    #[serde(skip)]
    consent_recording: i64,
}

/// The consents a client gave.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Consents {
    /// Reminders and marketing messages.
    pub marketing: bool,
    /// Recording of their calls.
    pub recording: bool,
}

/// An appointment, with the names of its service and operator.
#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct ExportedAppointment {
    /// Row id.
    pub id: i64,
    /// Service name.
    pub service: String,
    /// Operator name.
    pub operator: String,
    /// Start, UTC.
    pub start_utc: String,
    /// End, UTC.
    pub end_utc: String,
    /// `booked`, `cancelled`, `completed`, `no_show`.
    pub status: String,
    /// `voice`, `chat`, `whatsapp`, `staff`.
    pub channel: String,
    /// When it was made, UTC.
    pub created_at: String,
}

/// A phone call.
#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct ExportedCall {
    /// Row id.
    pub id: i64,
    /// Telephony provider.
    pub provider: String,
    /// Provider's call id (the session id of its turns).
    pub call_sid: String,
    /// `inbound` or `outbound`.
    pub direction: String,
    /// Caller number.
    pub caller: Option<String>,
    /// Called number.
    pub called: Option<String>,
    /// Start, UTC.
    pub started_at: String,
    /// End, UTC.
    pub ended_at: Option<String>,
    /// Duration, ms.
    pub duration_ms: Option<i64>,
    /// Outcome.
    pub outcome: Option<String>,
    /// Whether a recording was made.
    pub recorded: i64,
}

/// One turn of a conversation.
#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct ExportedTurn {
    /// Conversation id.
    pub session_id: String,
    /// `user` or `assistant`.
    pub role: String,
    /// What was said.
    pub text: String,
    /// Intent understood (user turns).
    pub intent: Option<String>,
    /// Channel.
    pub channel: String,
    /// When, UTC.
    pub created_at: String,
}

/// A request for the owner (callback, complaint, privacy).
#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct ExportedRequest {
    /// Row id.
    pub id: i64,
    /// `callback`, `complaint`, `privacy`.
    pub kind: String,
    /// Name as given.
    pub name: Option<String>,
    /// Number to call back.
    pub phone: Option<String>,
    /// Why.
    pub reason: String,
    /// `open` or `done`.
    pub status: String,
    /// When, UTC.
    pub created_at: String,
}

/// A waitlist entry.
#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct ExportedWaitlistEntry {
    /// Row id.
    pub id: i64,
    /// Service wanted.
    pub service: String,
    /// Preference in their words.
    pub preference: String,
    /// When, UTC.
    pub created_at: String,
}

/// A WhatsApp message's record (the text itself is in the turns).
#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct ExportedMessage {
    /// Meta's message id.
    pub wa_message_id: String,
    /// `inbound` or `outbound`.
    pub direction: String,
    /// Message type.
    pub kind: String,
    /// Delivery state.
    pub status: String,
    /// When, UTC.
    pub created_at: String,
}

/// Everything stored about one client (`GET /api/clients/{id}/export`).
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct ClientExport {
    /// The client's row.
    pub client: ExportedClient,
    /// Their consents.
    pub consents: Consents,
    /// Their appointments, by start.
    pub appointments: Vec<ExportedAppointment>,
    /// Their phone calls, by start.
    pub calls: Vec<ExportedCall>,
    /// The turns of their conversations, in order.
    pub chat_history: Vec<ExportedTurn>,
    /// Their callback requests, complaints and privacy requests.
    pub callbacks: Vec<ExportedRequest>,
    /// Their waitlist entries.
    pub waitlist: Vec<ExportedWaitlistEntry>,
    /// WhatsApp messages exchanged with their number.
    pub whatsapp_messages: Vec<ExportedMessage>,
}

/// What an erasure removed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Erasure {
    /// Appointments kept without the client (moved to the anonymous client).
    pub appointments_anonymised: u64,
    /// Chat-history turns deleted.
    pub chat_turns: u64,
    /// Call records deleted.
    pub calls: u64,
    /// Callback requests deleted.
    pub callbacks: u64,
    /// Waitlist entries deleted.
    pub waitlist: u64,
    /// WhatsApp message records deleted.
    pub whatsapp_messages: u64,
    /// Stored conversation states deleted (conversations under way).
    pub dialogues: u64,
    /// Caller-side files of the deleted calls' recordings (see
    /// `telephony::recording::delete`).
    #[serde(skip)]
    pub recordings: Vec<String>,
    /// The sessions whose turns were deleted.
    #[serde(skip)]
    pub sessions: Vec<String>,
}

/// `$first, $first+1, …` for `n` values; `NULL` (matches nothing) for none.
fn placeholders(first: usize, n: usize) -> String {
    if n == 0 {
        return "NULL".into();
    }
    (first..first + n).map(|i| format!("${i}")).collect::<Vec<_>>().join(", ")
}

/// Binds `values` after the parameters already bound.
fn bind_all<'q, T>(mut q: T, values: &'q [String], bind: impl Fn(T, &'q str) -> T) -> T {
    for v in values {
        q = bind(q, v.as_str());
    }
    q
}

/// The client in question: id, phone, and their conversations.
struct Subject {
    id: Id,
    phone: String,
    /// WhatsApp's form of the number (digits, no `+`).
    wa_peer: String,
    sessions: Vec<String>,
}

impl Subject {
    /// A condition on `column` matching the subject's sessions, whose
    /// parameters start at `$first` (bind them with [`bind_all`]).
    fn in_sessions(&self, column: &str, first: usize) -> String {
        format!("{column} IN ({})", placeholders(first, self.sessions.len()))
    }
}

type AnyQuery<'q> = Query<'q, Any, AnyArguments<'q>>;
type AnyQueryAs<'q, R> = QueryAs<'q, Any, R, AnyArguments<'q>>;
type AnyScalar<'q, T> = QueryScalar<'q, Any, T, AnyArguments<'q>>;

impl Tenant {
    /// Finds client `id` (never the anonymous one) and their sessions.
    async fn subject(&self, conn: &mut AnyConnection, id: Id) -> Result<Option<(Subject, ExportedClient)>, StoreError> {
        let client: Option<ExportedClient> = sqlx::query_as(
            "SELECT id, name, phone, email, loyalty_points, created_at, updated_at, consent_marketing, consent_recording \
             FROM clients WHERE id = $1 AND business_id = $2 AND anonymous = 0",
        )
        .bind(id)
        .bind(self.id())
        .fetch_optional(&mut *conn)
        .await
        .map_err(store_error)?;
        let Some(client) = client else { return Ok(None) };
        let wa_peer: String = client.phone.chars().filter(char::is_ascii_digit).collect();
        let mut sessions: Vec<String> = sqlx::query_scalar(
            "SELECT session_id FROM chat_history WHERE business_id = $1 AND client_id = $2 \
             UNION SELECT call_sid FROM calls WHERE business_id = $1 AND caller = $3 \
             UNION SELECT session_id FROM callback_requests WHERE business_id = $1 AND (client_id = $2 OR phone = $3)",
        )
        .bind(self.id())
        .bind(id)
        .bind(&client.phone)
        .fetch_all(&mut *conn)
        .await
        .map_err(store_error)?;
        let wa_session = format!("wa:{wa_peer}");
        if !wa_peer.is_empty() && !sessions.contains(&wa_session) {
            sessions.push(wa_session);
        }
        sessions.sort();
        Ok(Some((Subject { id, phone: client.phone.clone(), wa_peer, sessions }, client)))
    }

    /// Everything stored about client `id`; `None` when the business has no
    /// such client.
    ///
    /// # Errors
    /// Database errors.
    pub async fn client_export(&self, id: Id) -> Result<Option<ClientExport>, StoreError> {
        let mut conn = self.pool().acquire().await.map_err(store_error)?;
        let Some((s, client)) = self.subject(&mut conn, id).await? else { return Ok(None) };
        let appointments: Vec<ExportedAppointment> = sqlx::query_as(
            "SELECT a.id, s.name AS service, o.name AS operator, a.start_utc, a.end_utc, a.status, a.channel, a.created_at \
             FROM appointments a JOIN services s ON s.id = a.service_id JOIN operators o ON o.id = a.operator_id \
             WHERE a.business_id = $1 AND a.client_id = $2 ORDER BY a.start_utc, a.id",
        )
        .bind(self.id())
        .bind(id)
        .fetch_all(&mut *conn)
        .await
        .map_err(store_error)?;
        let sql = format!(
            "SELECT id, provider, call_sid, direction, caller, called, started_at, ended_at, duration_ms, outcome, \
             CAST(CASE WHEN recording_path IS NULL THEN 0 ELSE 1 END AS BIGINT) AS recorded FROM calls \
             WHERE business_id = $1 AND (caller = $2 OR {}) ORDER BY started_at, id",
            s.in_sessions("call_sid", 3)
        );
        let q: AnyQueryAs<'_, ExportedCall> = sqlx::query_as(&sql).bind(self.id()).bind(&s.phone);
        let calls = bind_all(q, &s.sessions, |q, v| q.bind(v)).fetch_all(&mut *conn).await.map_err(store_error)?;
        let sql = format!(
            "SELECT session_id, role, text, intent, channel, created_at FROM chat_history \
             WHERE business_id = $1 AND (client_id = $2 OR {}) ORDER BY created_at, id",
            s.in_sessions("session_id", 3)
        );
        let q: AnyQueryAs<'_, ExportedTurn> = sqlx::query_as(&sql).bind(self.id()).bind(id);
        let chat_history = bind_all(q, &s.sessions, |q, v| q.bind(v)).fetch_all(&mut *conn).await.map_err(store_error)?;
        let sql = format!(
            "SELECT id, kind, name, phone, reason, status, created_at FROM callback_requests \
             WHERE business_id = $1 AND (client_id = $2 OR phone = $3 OR {}) ORDER BY id",
            s.in_sessions("session_id", 4)
        );
        let q: AnyQueryAs<'_, ExportedRequest> = sqlx::query_as(&sql).bind(self.id()).bind(id).bind(&s.phone);
        let callbacks = bind_all(q, &s.sessions, |q, v| q.bind(v)).fetch_all(&mut *conn).await.map_err(store_error)?;
        let waitlist: Vec<ExportedWaitlistEntry> = sqlx::query_as(
            "SELECT w.id, s.name AS service, w.preference, w.created_at FROM waitlist w JOIN services s ON s.id = w.service_id \
             WHERE w.business_id = $1 AND w.client_id = $2 ORDER BY w.id",
        )
        .bind(self.id())
        .bind(id)
        .fetch_all(&mut *conn)
        .await
        .map_err(store_error)?;
        let whatsapp_messages: Vec<ExportedMessage> = sqlx::query_as(
            "SELECT wa_message_id, direction, kind, status, created_at FROM whatsapp_messages WHERE business_id = $1 AND peer = $2 \
             ORDER BY created_at, id",
        )
        .bind(self.id())
        .bind(&s.wa_peer)
        .fetch_all(&mut *conn)
        .await
        .map_err(store_error)?;
        let consents = Consents { marketing: client.consent_marketing != 0, recording: client.consent_recording != 0 };
        Ok(Some(ClientExport { client, consents, appointments, calls, chat_history, callbacks, waitlist, whatsapp_messages }))
    }

    /// Erases client `id` (see the module documentation), in one
    /// transaction; `None` when the business has no such client.
    ///
    /// # Errors
    /// Database errors (nothing is erased then).
    pub async fn erase_client(&self, id: Id, now: Timestamp) -> Result<Option<Erasure>, StoreError> {
        let mut tx = self.store().begin_write().await?;
        let Some((s, _)) = self.subject(&mut tx, id).await? else { return Ok(None) };
        let now = ts_text(now);
        let anonymous: Id = sqlx::query_scalar(
            "INSERT INTO clients (business_id, name, name_folded, phone, anonymous, created_at, updated_at) VALUES ($1, $2, '', $3, 1, $4, $4) \
             ON CONFLICT (business_id, phone) DO UPDATE SET anonymous = 1 RETURNING id",
        )
        .bind(self.id())
        .bind(ANONYMOUS_NAME)
        .bind(ANONYMOUS_PHONE)
        .bind(&now)
        .fetch_one(&mut *tx)
        .await
        .map_err(store_error)?;
        let mut out = Erasure { sessions: s.sessions.clone(), ..Erasure::default() };
        out.appointments_anonymised = sqlx::query(
            "UPDATE appointments SET client_id = $3, updated_at = $4, \
             status = CASE WHEN status = 'booked' AND start_utc > $4 THEN 'cancelled' ELSE status END \
             WHERE business_id = $1 AND client_id = $2",
        )
        .bind(self.id())
        .bind(id)
        .bind(anonymous)
        .bind(&now)
        .execute(&mut *tx)
        .await
        .map_err(store_error)?
        .rows_affected();
        let sql = format!(
            "SELECT recording_path FROM calls WHERE business_id = $1 AND (caller = $2 OR {}) AND recording_path IS NOT NULL",
            s.in_sessions("call_sid", 3)
        );
        let q: AnyScalar<'_, String> = sqlx::query_scalar(&sql).bind(self.id()).bind(&s.phone);
        out.recordings = bind_all(q, &s.sessions, |q, v| q.bind(v)).fetch_all(&mut *tx).await.map_err(store_error)?;
        let sql = format!("DELETE FROM chat_history WHERE business_id = $1 AND (client_id = $2 OR {})", s.in_sessions("session_id", 3));
        let q: AnyQuery<'_> = sqlx::query(&sql).bind(self.id()).bind(id);
        out.chat_turns = bind_all(q, &s.sessions, |q, v| q.bind(v)).execute(&mut *tx).await.map_err(store_error)?.rows_affected();
        let sql = format!(
            "DELETE FROM callback_requests WHERE business_id = $1 AND (client_id = $2 OR phone = $3 OR {})",
            s.in_sessions("session_id", 4)
        );
        let q: AnyQuery<'_> = sqlx::query(&sql).bind(self.id()).bind(id).bind(&s.phone);
        out.callbacks = bind_all(q, &s.sessions, |q, v| q.bind(v)).execute(&mut *tx).await.map_err(store_error)?.rows_affected();
        let sql = format!("DELETE FROM calls WHERE business_id = $1 AND (caller = $2 OR {})", s.in_sessions("call_sid", 3));
        let q: AnyQuery<'_> = sqlx::query(&sql).bind(self.id()).bind(&s.phone);
        out.calls = bind_all(q, &s.sessions, |q, v| q.bind(v)).execute(&mut *tx).await.map_err(store_error)?.rows_affected();
        out.waitlist = sqlx::query("DELETE FROM waitlist WHERE business_id = $1 AND client_id = $2")
            .bind(self.id())
            .bind(id)
            .execute(&mut *tx)
            .await
            .map_err(store_error)?
            .rows_affected();
        out.whatsapp_messages = sqlx::query("DELETE FROM whatsapp_messages WHERE business_id = $1 AND peer = $2")
            .bind(self.id())
            .bind(&s.wa_peer)
            .execute(&mut *tx)
            .await
            .map_err(store_error)?
            .rows_affected();
        // Conversations under way: the next turn of one starts afresh.
        let sql =
            format!("DELETE FROM dialogue_sessions WHERE business_id = $1 AND (client_id = $2 OR {})", s.in_sessions("session_id", 3));
        let q: AnyQuery<'_> = sqlx::query(&sql).bind(self.id()).bind(id);
        out.dialogues = bind_all(q, &s.sessions, |q, v| q.bind(v)).execute(&mut *tx).await.map_err(store_error)?.rows_affected();
        // Queued or sent notifications hold the client's number or address.
        sqlx::query("DELETE FROM outbox WHERE business_id = $1 AND client_id = $2")
            .bind(self.id())
            .bind(id)
            .execute(&mut *tx)
            .await
            .map_err(store_error)?;
        sqlx::query("DELETE FROM clients WHERE id = $1 AND business_id = $2")
            .bind(s.id)
            .bind(self.id())
            .execute(&mut *tx)
            .await
            .map_err(store_error)?;
        tx.commit().await.map_err(store_error)?;
        if out.appointments_anonymised > 0 {
            self.announce(crate::events::Kind::Appointment, 0, crate::events::Action::Anonymised);
        }
        Ok(Some(out))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_count_from_first() {
        assert_eq!(placeholders(3, 2), "$3, $4");
        assert_eq!(placeholders(4, 0), "NULL");
    }
}
