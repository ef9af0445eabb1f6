//! The call log: one row per phone call of a business, written when the
//! stream starts and completed when it ends (so a killed process leaves a
//! row without an end, never a lost call). Provider, direction, outcome and
//! hang-up reason are enums down to the column (`CHECK` constraints).

use jiff::Timestamp;
use serde::Serialize;

use fluxion_core::booking::{Id, StoreError};

use super::{parse_ts, store_error, ts_text, Tenant};
use crate::telephony::Provider;
use crate::voice::HangupReason;

/// How a call went, from the business's point of view.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum CallOutcome {
    /// An appointment was booked.
    Booked,
    /// An appointment was moved.
    Rescheduled,
    /// An appointment was cancelled.
    Cancelled,
    /// Questions were answered, nothing booked.
    AnsweredFaq,
    /// Handed to a person.
    Transferred,
    /// The caller left before anything was done.
    Abandoned,
    /// Fluxion failed (an error, repeated recognition failures).
    Failed,
    /// A conversation that ended normally without any of the above.
    Completed,
}

impl CallOutcome {
    /// Every outcome.
    pub const ALL: [CallOutcome; 8] = [
        CallOutcome::Booked,
        CallOutcome::Rescheduled,
        CallOutcome::Cancelled,
        CallOutcome::AnsweredFaq,
        CallOutcome::Transferred,
        CallOutcome::Abandoned,
        CallOutcome::Failed,
        CallOutcome::Completed,
    ];

    /// The database spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            CallOutcome::Booked => "booked",
            CallOutcome::Rescheduled => "rescheduled",
            CallOutcome::Cancelled => "cancelled",
            CallOutcome::AnsweredFaq => "answered_faq",
            CallOutcome::Transferred => "transferred",
            CallOutcome::Abandoned => "abandoned",
            CallOutcome::Failed => "failed",
            CallOutcome::Completed => "completed",
        }
    }

    /// Parses the database spelling.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|o| o.as_str() == s)
    }
}

/// Who placed the call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum CallDirection {
    /// A caller phoned the business.
    Inbound,
    /// Fluxion phoned out (a callback, a confirmation).
    Outbound,
}

impl CallDirection {
    /// The database spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            CallDirection::Inbound => "inbound",
            CallDirection::Outbound => "outbound",
        }
    }

    /// Parses the database spelling.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "inbound" => Some(CallDirection::Inbound),
            "outbound" => Some(CallDirection::Outbound),
            _ => None,
        }
    }
}

/// A call as stored.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct CallRecord {
    /// Row id.
    pub id: Id,
    /// The telephony provider.
    pub provider: Provider,
    /// The provider's call id; also the chat-history session id.
    pub call_sid: String,
    /// Who placed it.
    pub direction: CallDirection,
    /// Caller number (E.164), in full.
    pub caller: Option<String>,
    /// Called number.
    pub called: Option<String>,
    /// Start.
    pub started_at: Timestamp,
    /// End, once ended.
    pub ended_at: Option<Timestamp>,
    /// Duration, ms.
    pub duration_ms: Option<i64>,
    /// Outcome, once ended.
    pub outcome: Option<CallOutcome>,
    /// Why the call ended, once ended.
    pub hangup_reason: Option<HangupReason>,
    /// The provider's last status callback, in the provider's words
    /// (`completed`, `busy`, `no-answer`, …).
    pub provider_status: Option<String>,
    /// Caller turns answered.
    pub turns: i64,
    /// WAV recording, when recording is enabled.
    pub recording_path: Option<String>,
}

#[derive(sqlx::FromRow)]
struct CallRow {
    id: i64,
    provider: String,
    call_sid: String,
    direction: String,
    caller: Option<String>,
    called: Option<String>,
    started_at: String,
    ended_at: Option<String>,
    duration_ms: Option<i64>,
    outcome: Option<String>,
    hangup_reason: Option<String>,
    provider_status: Option<String>,
    turns: i64,
    recording_path: Option<String>,
}

const CALL_COLS: &str = "id, provider, call_sid, direction, caller, called, started_at, ended_at, duration_ms, outcome, hangup_reason, \
                         provider_status, turns, recording_path";

impl TryFrom<CallRow> for CallRecord {
    type Error = StoreError;

    fn try_from(r: CallRow) -> Result<Self, StoreError> {
        let bad = |what: &str, v: &str| StoreError::fatal(format!("bad {what} '{v}' in the calls table"));
        Ok(CallRecord {
            id: r.id,
            provider: r.provider.parse().map_err(|_| bad("provider", &r.provider))?,
            direction: CallDirection::parse(&r.direction).ok_or_else(|| bad("direction", &r.direction))?,
            call_sid: r.call_sid,
            caller: r.caller,
            called: r.called,
            started_at: parse_ts(&r.started_at)?,
            ended_at: r.ended_at.as_deref().map(parse_ts).transpose()?,
            duration_ms: r.duration_ms,
            outcome: r.outcome.as_deref().map(|o| CallOutcome::parse(o).ok_or_else(|| bad("outcome", o))).transpose()?,
            hangup_reason: r
                .hangup_reason
                .as_deref()
                .map(|h| HangupReason::parse(h).ok_or_else(|| bad("hang-up reason", h)))
                .transpose()?,
            provider_status: r.provider_status,
            turns: r.turns,
            recording_path: r.recording_path,
        })
    }
}

/// How a call ended, for [`Tenant::end_call`].
#[derive(Debug, Clone, PartialEq)]
pub struct CallEnd {
    /// When.
    pub ended_at: Timestamp,
    /// Call audio, ms.
    pub duration_ms: u64,
    /// The outcome.
    pub outcome: CallOutcome,
    /// Why it ended.
    pub hangup_reason: HangupReason,
    /// Caller turns answered.
    pub turns: u32,
    /// The WAV recording, when made.
    pub recording_path: Option<String>,
}

impl Tenant {
    /// Records the start of a call; a repeated start for the same call keeps
    /// the first row. Returns the row id.
    ///
    /// # Errors
    /// Database errors.
    pub async fn start_call(
        &self,
        provider: Provider,
        call_sid: &str,
        direction: CallDirection,
        caller: Option<&str>,
        called: Option<&str>,
        at: Timestamp,
    ) -> Result<Id, StoreError> {
        let id = sqlx::query_scalar(
            "INSERT INTO calls (business_id, provider, call_sid, direction, caller, called, started_at) VALUES ($1, $2, $3, $4, $5, $6, $7) \
             ON CONFLICT (provider, call_sid) DO UPDATE SET caller = COALESCE(calls.caller, excluded.caller) \
             WHERE calls.business_id = excluded.business_id RETURNING id",
        )
        .bind(self.id())
        .bind(provider.as_str())
        .bind(call_sid)
        .bind(direction.as_str())
        .bind(caller)
        .bind(called)
        .bind(ts_text(at))
        .fetch_optional(self.pool())
        .await
        .map_err(store_error)?
        .ok_or_else(|| StoreError::fatal(format!("call {call_sid} belongs to another business")))?;
        self.announce(crate::events::Kind::Call, id, crate::events::Action::Started);
        Ok(id)
    }

    /// Completes a call's row.
    ///
    /// # Errors
    /// Database errors.
    pub async fn end_call(&self, id: Id, end: &CallEnd) -> Result<(), StoreError> {
        let mut tx = self.store().begin_write().await?;
        let done = sqlx::query(
            "UPDATE calls SET ended_at = $1, duration_ms = $2, outcome = $3, hangup_reason = $4, turns = $5, recording_path = $6 \
             WHERE id = $7 AND business_id = $8",
        )
        .bind(ts_text(end.ended_at))
        .bind(i64::try_from(end.duration_ms).unwrap_or(i64::MAX))
        .bind(end.outcome.as_str())
        .bind(end.hangup_reason.as_str())
        .bind(i64::from(end.turns))
        .bind(&end.recording_path)
        .bind(id)
        .bind(self.id())
        .execute(&mut *tx)
        .await
        .map_err(store_error)?;
        if done.rows_affected() == 1 {
            let data = serde_json::json!({
                "call_id": id, "ended_at": ts_text(end.ended_at), "duration_ms": end.duration_ms, "outcome": end.outcome.as_str(),
                "hangup_reason": end.hangup_reason.as_str(), "turns": end.turns,
            });
            self.queue_event(&mut tx, None, super::outbox::Event::CallEnded, &id.to_string(), data).await?;
        }
        tx.commit().await.map_err(store_error)?;
        self.announce(crate::events::Kind::Call, id, crate::events::Action::Ended);
        Ok(())
    }

    /// Stores a provider's status callback for `call_sid` (creating the row
    /// when the stream never started, e.g. a busy or unanswered call).
    ///
    /// # Errors
    /// Database errors.
    pub async fn call_status(&self, provider: Provider, call_sid: &str, status: &str, at: Timestamp) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO calls (business_id, provider, call_sid, started_at, provider_status) VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (provider, call_sid) DO UPDATE SET provider_status = excluded.provider_status \
             WHERE calls.business_id = excluded.business_id",
        )
        .bind(self.id())
        .bind(provider.as_str())
        .bind(call_sid)
        .bind(ts_text(at))
        .bind(status)
        .execute(self.pool())
        .await
        .map_err(store_error)?;
        Ok(())
    }

    /// The business's most recent calls, newest first.
    ///
    /// # Errors
    /// Database errors.
    pub async fn recent_calls(&self, limit: u32) -> Result<Vec<CallRecord>, StoreError> {
        let rows: Vec<CallRow> = sqlx::query_as(&format!("SELECT {CALL_COLS} FROM calls WHERE business_id = $1 ORDER BY id DESC LIMIT $2"))
            .bind(self.id())
            .bind(i64::from(limit))
            .fetch_all(self.pool())
            .await
            .map_err(store_error)?;
        rows.into_iter().map(CallRecord::try_from).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outcomes_round_trip() {
        for o in CallOutcome::ALL {
            assert_eq!(CallOutcome::parse(o.as_str()), Some(o));
        }
        assert_eq!(CallOutcome::parse("won"), None);
        assert_eq!(CallDirection::parse("outbound"), Some(CallDirection::Outbound));
    }
}
