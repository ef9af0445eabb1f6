//! Conversations for the console's Chiamate page: every phone call (the
//! call log) and every chat session (chat-history turns whose session is
//! not a call: web chat, WhatsApp, the HTTP voice query) as one list, and
//! one conversation's transcript turn by turn with the NLU layer that
//! answered and the reply latency.

use fluxion_core::booking::{Id, StoreError};
use jiff::Timestamp;
use serde::Serialize;

use super::calls::CallOutcome;
use super::{parse_ts, store_error, Tenant};

/// A call or chat session, as listed.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Conversation {
    /// Session id: the call SID for calls, the chat's id otherwise.
    pub session_id: String,
    /// `voice`, `chat`, `whatsapp` or `staff`.
    pub channel: String,
    /// Row id in the call log (calls only).
    pub call_id: Option<Id>,
    /// First instant (call start, first turn).
    pub started_at: Timestamp,
    /// Last instant (call end, last turn); `None` for a call in progress.
    pub ended_at: Option<Timestamp>,
    /// Duration, ms (calls: audio time; chats: first to last turn).
    pub duration_ms: Option<i64>,
    /// The caller's number (E.164) when known.
    pub caller: Option<String>,
    /// The client, when recognised.
    pub client_id: Option<Id>,
    /// Their name.
    pub client_name: Option<String>,
    /// How it ended (calls).
    pub outcome: Option<CallOutcome>,
    /// Caller turns.
    pub turns: i64,
    /// Whether the call was recorded.
    pub recorded: bool,
}

/// One turn of a transcript.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct TranscriptTurn {
    /// `user` (the caller) or `assistant` (the receptionist).
    pub role: String,
    /// What was said.
    pub text: String,
    /// Intent understood (caller turns).
    pub intent: Option<String>,
    /// NLU layer that produced the reply, `L0`…`L4` (both turns of an
    /// exchange carry it: the caller turn as stored, the reply from it).
    pub layer: Option<String>,
    /// Processing time of the exchange, ms (µs / 1000).
    pub latency_ms: f64,
    /// Language model used (L4 turns).
    pub model: Option<String>,
    /// When.
    pub at: Timestamp,
}

#[derive(sqlx::FromRow)]
struct CallRow {
    call_sid: String,
    id: i64,
    started_at: String,
    ended_at: Option<String>,
    duration_ms: Option<i64>,
    caller: Option<String>,
    outcome: Option<String>,
    turns: i64,
    recorded: i64,
    client_id: Option<i64>,
    client_name: Option<String>,
}

#[derive(sqlx::FromRow)]
struct ChatRow {
    session_id: String,
    channel: String,
    first_at: String,
    last_at: String,
    turns: i64,
    client_id: Option<i64>,
    client_name: Option<String>,
    client_phone: Option<String>,
}

#[derive(sqlx::FromRow)]
struct TurnRow {
    role: String,
    text: String,
    intent: Option<String>,
    layer: Option<String>,
    latency_us: i64,
    model: Option<String>,
    created_at: String,
}

impl TryFrom<CallRow> for Conversation {
    type Error = StoreError;

    fn try_from(r: CallRow) -> Result<Self, StoreError> {
        Ok(Conversation {
            session_id: r.call_sid,
            channel: "voice".into(),
            call_id: Some(r.id),
            started_at: parse_ts(&r.started_at)?,
            ended_at: r.ended_at.as_deref().map(parse_ts).transpose()?,
            duration_ms: r.duration_ms,
            caller: r.caller,
            client_id: r.client_id,
            client_name: r.client_name,
            outcome: r.outcome.as_deref().and_then(CallOutcome::parse),
            turns: r.turns,
            recorded: r.recorded != 0,
        })
    }
}

impl TryFrom<ChatRow> for Conversation {
    type Error = StoreError;

    fn try_from(r: ChatRow) -> Result<Self, StoreError> {
        let (first, last) = (parse_ts(&r.first_at)?, parse_ts(&r.last_at)?);
        // A WhatsApp chat's id is `wa:<digits>`: the number, when no client is linked.
        let wa = r.session_id.strip_prefix("wa:").filter(|d| !d.is_empty() && d.chars().all(|c| c.is_ascii_digit()));
        Ok(Conversation {
            caller: r.client_phone.or_else(|| wa.map(|d| format!("+{d}"))),
            session_id: r.session_id,
            channel: r.channel,
            call_id: None,
            started_at: first,
            ended_at: Some(last),
            duration_ms: Some(last.duration_since(first).as_millis() as i64),
            client_id: r.client_id,
            client_name: r.client_name,
            outcome: None,
            turns: r.turns,
            recorded: false,
        })
    }
}

/// The lower bound of every stored instant, and the upper.
const ALWAYS: (&str, &str) = ("0000", "9999");

impl Tenant {
    /// Calls started and chat sessions with a turn in UTC instants `[from,
    /// to)` (stored text form), or only session `session` when given; newest
    /// first, at most `limit`.
    async fn conversations_where(&self, from: &str, to: &str, session: Option<&str>, limit: u32) -> Result<Vec<Conversation>, StoreError> {
        let calls: Vec<CallRow> = sqlx::query_as(
            "SELECT c.call_sid, c.id, c.started_at, c.ended_at, c.duration_ms, c.caller, c.outcome, c.turns, \
             CAST(CASE WHEN c.recording_path IS NULL THEN 0 ELSE 1 END AS BIGINT) AS recorded, k.id AS client_id, k.name AS client_name \
             FROM calls c LEFT JOIN clients k ON k.business_id = c.business_id AND k.phone = c.caller \
             WHERE c.business_id = $1 AND c.started_at >= $2 AND c.started_at < $3 AND ($4 IS NULL OR c.call_sid = $4) \
             ORDER BY c.started_at DESC, c.id DESC LIMIT $5",
        )
        .bind(self.id())
        .bind(from)
        .bind(to)
        .bind(session)
        .bind(i64::from(limit))
        .fetch_all(self.pool())
        .await
        .map_err(store_error)?;
        let chats: Vec<ChatRow> = sqlx::query_as(
            "SELECT s.session_id, s.channel, s.first_at, s.last_at, s.turns, k.id AS client_id, k.name AS client_name, k.phone AS client_phone \
             FROM (SELECT h.session_id, MIN(h.channel) AS channel, MIN(h.created_at) AS first_at, MAX(h.created_at) AS last_at, \
                   SUM(CASE WHEN h.role = 'user' THEN 1 ELSE 0 END) AS turns, MAX(h.client_id) AS client_id \
                   FROM chat_history h WHERE h.business_id = $1 AND h.created_at >= $2 AND h.created_at < $3 \
                   AND ($4 IS NULL OR h.session_id = $4) \
                   AND NOT EXISTS (SELECT 1 FROM calls c WHERE c.business_id = h.business_id AND c.call_sid = h.session_id) \
                   GROUP BY h.session_id) s \
             LEFT JOIN clients k ON k.business_id = $1 AND k.id = s.client_id \
             ORDER BY s.first_at DESC LIMIT $5",
        )
        .bind(self.id())
        .bind(from)
        .bind(to)
        .bind(session)
        .bind(i64::from(limit))
        .fetch_all(self.pool())
        .await
        .map_err(store_error)?;
        let mut all = calls
            .into_iter()
            .map(Conversation::try_from)
            .chain(chats.into_iter().map(Conversation::try_from))
            .collect::<Result<Vec<_>, _>>()?;
        all.sort_by(|a, b| b.started_at.cmp(&a.started_at));
        all.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
        Ok(all)
    }

    /// Calls started and chat sessions active in UTC instants `[from, to)`
    /// (stored text form), newest first, at most `limit`.
    ///
    /// # Errors
    /// Database errors.
    pub async fn conversations(&self, from: &str, to: &str, limit: u32) -> Result<Vec<Conversation>, StoreError> {
        self.conversations_where(from, to, None, limit).await
    }

    /// Conversation `session_id` with its transcript, in order; `None` when
    /// the business has none with that id.
    ///
    /// # Errors
    /// Database errors.
    pub async fn conversation(&self, session_id: &str) -> Result<Option<(Conversation, Vec<TranscriptTurn>)>, StoreError> {
        let Some(c) = self.conversations_where(ALWAYS.0, ALWAYS.1, Some(session_id), 1).await?.into_iter().next() else {
            return Ok(None);
        };
        let rows: Vec<TurnRow> = sqlx::query_as(
            "SELECT role, text, intent, layer, latency_us, model, created_at FROM chat_history WHERE business_id = $1 AND session_id = $2 \
             ORDER BY id",
        )
        .bind(self.id())
        .bind(session_id)
        .fetch_all(self.pool())
        .await
        .map_err(store_error)?;
        let mut turns = Vec::with_capacity(rows.len());
        let mut answering: Option<String> = None;
        for r in rows {
            // The caller turn stores the layer that understood it; its reply follows.
            if r.role == "user" {
                answering = r.layer.clone();
            }
            turns.push(TranscriptTurn {
                layer: r.layer.or_else(|| answering.clone()),
                role: r.role,
                text: r.text,
                intent: r.intent,
                latency_ms: r.latency_us as f64 / 1000.0,
                model: r.model,
                at: parse_ts(&r.created_at)?,
            });
        }
        Ok(Some((c, turns)))
    }

    /// The caller-side recording file of call `call_id`, when it has one.
    ///
    /// # Errors
    /// Database errors.
    pub async fn call_recording(&self, call_id: Id) -> Result<Option<String>, StoreError> {
        let path: Option<Option<String>> = sqlx::query_scalar("SELECT recording_path FROM calls WHERE id = $1 AND business_id = $2")
            .bind(call_id)
            .bind(self.id())
            .fetch_optional(self.pool())
            .await
            .map_err(store_error)?;
        Ok(path.flatten())
    }
}
