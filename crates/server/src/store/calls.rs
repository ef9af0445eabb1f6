//! The calls table: one row per phone call, written when the stream starts
//! and completed when it ends (so a killed process leaves a row without
//! an end, never a lost call).

use jiff::Timestamp;
use serde::Serialize;

use fluxion_core::booking::StoreError;

use super::sqlite::SqliteStore;
use super::{store_error, ts_text};

/// How a call went, from the business's point of view.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
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
}

/// A call as stored.
#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
pub struct CallRecord {
    /// Row id.
    pub id: i64,
    /// `twilio`, `plivo`, `exotel` or `simulator`.
    pub provider: String,
    /// The provider's call id; also the chat-history session id.
    pub call_sid: String,
    /// `inbound` or `outbound`.
    pub direction: String,
    /// Caller number (E.164), in full.
    pub caller: Option<String>,
    /// Called number.
    pub called: Option<String>,
    /// Start (RFC 3339 UTC).
    pub started_at: String,
    /// End (RFC 3339 UTC), once ended.
    pub ended_at: Option<String>,
    /// Duration, ms.
    pub duration_ms: Option<i64>,
    /// Outcome, once ended.
    pub outcome: Option<String>,
    /// Why the call ended.
    pub hangup_reason: Option<String>,
    /// The provider's last status callback (`completed`, `busy`, …).
    pub provider_status: Option<String>,
    /// Caller turns answered.
    pub turns: i64,
    /// WAV recording, when recording is enabled.
    pub recording_path: Option<String>,
}

/// How a call ended, for [`SqliteStore::end_call`].
#[derive(Debug, Clone, PartialEq)]
pub struct CallEnd {
    /// When.
    pub ended_at: Timestamp,
    /// Call audio, ms.
    pub duration_ms: u64,
    /// The outcome.
    pub outcome: CallOutcome,
    /// Why it ended (`completed`, `caller_hung_up`, `silence`, …).
    pub hangup_reason: String,
    /// Caller turns answered.
    pub turns: u32,
    /// The WAV recording, when made.
    pub recording_path: Option<String>,
}

impl SqliteStore {
    /// Records the start of a call; a repeated `start` for the same call
    /// keeps the first row. Returns the row id.
    ///
    /// # Errors
    /// Database errors.
    pub async fn start_call(
        &self,
        provider: &str,
        call_sid: &str,
        direction: &str,
        caller: Option<&str>,
        called: Option<&str>,
        at: Timestamp,
    ) -> Result<i64, StoreError> {
        sqlx::query_scalar(
            "INSERT INTO calls (provider, call_sid, direction, caller, called, started_at) VALUES ($1, $2, $3, $4, $5, $6)
             ON CONFLICT (provider, call_sid) DO UPDATE SET caller = COALESCE(calls.caller, excluded.caller) RETURNING id",
        )
        .bind(provider)
        .bind(call_sid)
        .bind(direction)
        .bind(caller)
        .bind(called)
        .bind(ts_text(at))
        .fetch_one(self.pool())
        .await
        .map_err(store_error)
    }

    /// Completes a call's row.
    ///
    /// # Errors
    /// Database errors.
    pub async fn end_call(&self, id: i64, end: &CallEnd) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE calls SET ended_at = $1, duration_ms = $2, outcome = $3, hangup_reason = $4, turns = $5, recording_path = $6 WHERE id = $7",
        )
        .bind(ts_text(end.ended_at))
        .bind(end.duration_ms as i64)
        .bind(end.outcome.as_str())
        .bind(&end.hangup_reason)
        .bind(i64::from(end.turns))
        .bind(&end.recording_path)
        .bind(id)
        .execute(self.pool())
        .await
        .map_err(store_error)?;
        Ok(())
    }

    /// Stores a provider's status callback for `call_sid` (creating the row
    /// when the stream never started, e.g. a busy or unanswered call).
    ///
    /// # Errors
    /// Database errors.
    pub async fn call_status(&self, provider: &str, call_sid: &str, status: &str, at: Timestamp) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO calls (provider, call_sid, started_at, provider_status) VALUES ($1, $2, $3, $4)
             ON CONFLICT (provider, call_sid) DO UPDATE SET provider_status = excluded.provider_status",
        )
        .bind(provider)
        .bind(call_sid)
        .bind(ts_text(at))
        .bind(status)
        .execute(self.pool())
        .await
        .map_err(store_error)?;
        Ok(())
    }

    /// The most recent calls, newest first.
    ///
    /// # Errors
    /// Database errors.
    pub async fn recent_calls(&self, limit: u32) -> Result<Vec<CallRecord>, StoreError> {
        sqlx::query_as("SELECT * FROM calls ORDER BY id DESC LIMIT $1")
            .bind(i64::from(limit))
            .fetch_all(self.pool())
            .await
            .map_err(store_error)
    }
}
