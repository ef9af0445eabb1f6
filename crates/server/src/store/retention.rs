//! Retention of personal data (seeds 000 and 003: 90 days): chat history
//! (which holds the call transcripts: a call's turns are its chat-history
//! session), call records and the WhatsApp message log (who wrote when)
//! older than the retention are deleted, for every business, by
//! [`Store::purge_before`], which [`run_daily`] calls once at start and then
//! every 24 hours ([`run_every`] with [`PURGE_INTERVAL`]). Recordings expire
//! on their own (`RECORDING_RETENTION_DAYS`). The same runs delete the
//! stored state of conversations idle longer than [`crate::app::SESSION_IDLE`]
//! (which a turn would not resume anyway). Appointments and client records
//! are the business's register and are not purged here.

use std::time::Duration;

use fluxion_core::booking::StoreError;
use jiff::{SignedDuration, Timestamp};

use super::{store_error, ts_text, Store};
use crate::clock::Clock;

/// Default retention, days (`DATA_RETENTION_DAYS`).
pub const DEFAULT_RETENTION_DAYS: u32 = 90;

/// How often the purge runs.
pub const PURGE_INTERVAL: Duration = Duration::from_secs(24 * 60 * 60);

/// Rows deleted by one purge.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Purged {
    /// Chat-history turns (chats, messages, call transcripts).
    pub chat_turns: u64,
    /// Call records.
    pub calls: u64,
    /// WhatsApp message-log rows.
    pub whatsapp_messages: u64,
}

/// The retention from `DATA_RETENTION_DAYS` (absent: [`DEFAULT_RETENTION_DAYS`]).
///
/// # Errors
/// Not a whole number of days, or 0.
pub fn retention_days(value: Option<&str>) -> Result<u32, String> {
    match value.map(str::trim).filter(|v| !v.is_empty()) {
        None => Ok(DEFAULT_RETENTION_DAYS),
        Some(v) => match v.parse::<u32>() {
            Ok(0) | Err(_) => Err(format!("DATA_RETENTION_DAYS: '{v}' is not a whole number of days greater than 0")),
            Ok(days) => Ok(days),
        },
    }
}

impl Store {
    /// Deletes, in every business, chat-history turns and WhatsApp messages
    /// created and calls started before `cutoff`, in one transaction.
    ///
    /// # Errors
    /// The database fails (nothing is deleted then).
    pub async fn purge_before(&self, cutoff: Timestamp) -> Result<Purged, StoreError> {
        let cutoff = ts_text(cutoff);
        let mut tx = self.begin_write().await?;
        let chat_turns =
            sqlx::query("DELETE FROM chat_history WHERE created_at < $1").bind(&cutoff).execute(&mut *tx).await.map_err(store_error)?;
        let calls = sqlx::query("DELETE FROM calls WHERE started_at < $1").bind(&cutoff).execute(&mut *tx).await.map_err(store_error)?;
        let whatsapp = sqlx::query("DELETE FROM whatsapp_messages WHERE created_at < $1")
            .bind(&cutoff)
            .execute(&mut *tx)
            .await
            .map_err(store_error)?;
        tx.commit().await.map_err(store_error)?;
        Ok(Purged { chat_turns: chat_turns.rows_affected(), calls: calls.rows_affected(), whatsapp_messages: whatsapp.rows_affected() })
    }

    /// [`Store::purge_before`] `days` days before `now`.
    ///
    /// # Errors
    /// As [`Store::purge_before`].
    pub async fn purge_expired(&self, now: Timestamp, days: u32) -> Result<Purged, StoreError> {
        let cutoff = now.checked_sub(SignedDuration::from_hours(24 * i64::from(days))).unwrap_or(Timestamp::MIN);
        self.purge_before(cutoff).await
    }
}

/// Purges expired rows now and then every [`PURGE_INTERVAL`] until
/// `shutdown` resolves (see [`run_every`]).
pub async fn run_daily(store: Store, clock: Clock, days: u32, shutdown: impl std::future::Future<Output = ()>) {
    run_every(store, clock, days, PURGE_INTERVAL, shutdown).await;
}

/// Purges rows older than `days` days (by `clock`) now and then every
/// `interval` until `shutdown` resolves; a failed purge is logged and
/// retried at the next run. A run that overruns delays the next one.
pub async fn run_every(store: Store, clock: Clock, days: u32, interval: Duration, shutdown: impl std::future::Future<Output = ()>) {
    let mut every = tokio::time::interval(interval);
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            _ = every.tick() => {}
            () = &mut shutdown => return,
        }
        match store.purge_expired(clock.now(), days).await {
            Ok(p) => tracing::info!(
                days,
                chat_turns = p.chat_turns,
                calls = p.calls,
                whatsapp_messages = p.whatsapp_messages,
                "retention: expired personal data purged"
            ),
            Err(e) => tracing::error!(error = %e, days, "retention: purge failed; retrying at the next run"),
        }
        // Conversation states idle past the session idle time are never resumed.
        let now = Timestamp::now();
        let cutoff = now.checked_sub(crate::app::SESSION_IDLE).unwrap_or(Timestamp::MIN);
        match store.purge_idle_dialogues(cutoff, now).await {
            Ok(n) => tracing::info!(dialogues = n, "retention: idle conversation states purged"),
            Err(e) => tracing::error!(error = %e, "retention: idle conversation states not purged; retrying at the next run"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_retention() {
        assert_eq!(retention_days(None), Ok(90));
        assert_eq!(retention_days(Some(" 30 ")), Ok(30));
        assert!(retention_days(Some("0")).is_err());
        assert!(retention_days(Some("tre mesi")).is_err());
    }
}
