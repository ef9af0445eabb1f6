//! The outbox worker: claims due rows ([`crate::store::Store::claim_due`],
//! each with a lease), renders and sends them through the [`Sender`], and
//! records the outcome — `sent`; back to `pending` after an exponential
//! backoff (backon's builder: 30 s doubling up to 1 h, with jitter) when the
//! error is retryable (429, 5xx, time-outs, connection failures); `failed`
//! after [`NotifyConfig::max_attempts`] or a permanent error (logged at
//! error level, counted in [`NOTIFY_TOTAL`] with `outcome="failed"`, listed
//! by `GET /api/notifications?state=failed`); `dropped` when a reminder's
//! appointment was cancelled or moved meanwhile.
//!
//! Exactly once: a row is queued once (its idempotency key), claimed by one
//! worker at a time (the lease), and marked sent right after the provider
//! accepts it. A worker killed while holding rows leaves them `sending`;
//! they are claimed again when the lease expires. What no outbox can close
//! is a crash after the provider accepted a message and before the row was
//! marked: that message goes twice (e-mail carries a Message-ID from the key
//! which mail systems that deduplicate by Message-ID use to show it once).
//!
//! Leases and backoff are physical durations: the worker runs on the system
//! clock even when the server runs with a fixed `--now`.

use std::sync::Arc;
use std::time::Duration;

use backon::{BackoffBuilder, ExponentialBuilder};
use jiff::{SignedDuration, Timestamp};

use crate::observability::mask_phone;
use crate::store::{NoticeKind, NotifyChannel, OutboxEntry, Store};

use super::config::NotifyConfig;
use super::quiet;
use super::render::render;
use super::sender::{Context, SendError, Sender};

/// Metric: notifications by `channel`, `kind` and `outcome`
/// (`sent`, `retry`, `failed`, `dropped`).
pub const NOTIFY_TOTAL: &str = "fluxion_notifications_total";

/// Rows claimed per look at the outbox.
pub const BATCH: u32 = 16;

/// First retry delay.
pub const FIRST_RETRY: Duration = Duration::from_secs(30);
/// Longest retry delay.
pub const MAX_RETRY: Duration = Duration::from_secs(3600);

/// What one look at the outbox did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Tick {
    /// Rows claimed.
    pub claimed: usize,
    /// Sent.
    pub sent: usize,
    /// Put back for a later attempt.
    pub retried: usize,
    /// Given up.
    pub failed: usize,
    /// No longer relevant.
    pub dropped: usize,
}

/// The worker.
pub struct Worker {
    store: Store,
    sender: Arc<Sender>,
    config: NotifyConfig,
}

/// What to do with a claimed row.
enum Outcome {
    Sent(String),
    Retry(SendError, Timestamp),
    Failed(String),
    Dropped(String),
}

impl Worker {
    /// A worker over `store` sending through `sender`.
    pub fn new(store: Store, sender: Arc<Sender>, config: NotifyConfig) -> Self {
        Worker { store, sender, config }
    }

    /// The delay before attempt `attempts + 1` after `attempts` failed ones:
    /// 30 s, 60 s, 120 s, … up to 1 h, with jitter.
    pub fn backoff(attempts: u32) -> Duration {
        let mut delays = ExponentialBuilder::default()
            .with_min_delay(FIRST_RETRY)
            .with_max_delay(MAX_RETRY)
            .with_factor(2.0)
            .with_jitter()
            .without_max_times()
            .build();
        delays.nth(attempts.saturating_sub(1) as usize).unwrap_or(MAX_RETRY)
    }

    /// Claims the rows due at `now` and sends them, one after the other.
    ///
    /// # Errors
    /// The database fails while claiming (outcomes that cannot be recorded
    /// are logged; their rows come back when the lease expires).
    pub async fn tick(&self, now: Timestamp) -> Result<Tick, fluxion_core::booking::StoreError> {
        let lease = SignedDuration::try_from(self.config.lease).unwrap_or(SignedDuration::from_secs(120));
        let rows = self.store.claim_due(now, lease, BATCH).await?;
        let mut tick = Tick { claimed: rows.len(), ..Tick::default() };
        for row in rows {
            let outcome = self.attempt(&row, now).await;
            let (label, recorded) = match &outcome {
                Outcome::Sent(id) => {
                    tick.sent += 1;
                    tracing::info!(notification = row.id, channel = row.channel.as_str(), kind = row.kind.as_str(),
                        to = %masked(&row), attempts = row.attempts, "notification sent");
                    ("sent", self.store.outbox_sent(row.id, id, now).await)
                }
                Outcome::Retry(e, next) => {
                    tick.retried += 1;
                    tracing::warn!(notification = row.id, channel = row.channel.as_str(), attempts = row.attempts, error = %e,
                        next_attempt = %next, "notification not sent; will retry");
                    ("retry", self.store.outbox_retry(row.id, &e.message, *next, now).await)
                }
                Outcome::Failed(e) => {
                    tick.failed += 1;
                    tracing::error!(notification = row.id, business = row.business_id, channel = row.channel.as_str(),
                        kind = row.kind.as_str(), to = %masked(&row), attempts = row.attempts, error = %e, "notification given up");
                    ("failed", self.store.outbox_failed(row.id, e, now).await)
                }
                Outcome::Dropped(why) => {
                    tick.dropped += 1;
                    tracing::info!(notification = row.id, reason = %why, "notification dropped");
                    ("dropped", self.store.outbox_dropped(row.id, why, now).await)
                }
            };
            metrics::counter!(NOTIFY_TOTAL, "channel" => row.channel.as_str(), "kind" => row.kind.as_str(), "outcome" => label)
                .increment(1);
            if let Err(e) = recorded {
                tracing::error!(notification = row.id, outcome = label, error = %e,
                    "notification outcome not recorded; the row is claimed again when its lease expires");
            }
        }
        Ok(tick)
    }

    async fn attempt(&self, row: &OutboxEntry, now: Timestamp) -> Outcome {
        let tenant = self.store.tenant(row.business_id);
        let mut payload = row.payload.clone();
        if row.kind == NoticeKind::Reminder {
            // A reminder speaks of the appointment as it is now: cancelled or moved since → dropped.
            let appointment = payload["appointment_id"].as_i64().unwrap_or(0);
            match tenant.appointment_notice_facts(appointment).await {
                Ok(Some((_, current))) if current["status"] == "booked" && current["start_utc"] == payload["start_utc"] => {
                    payload = current;
                }
                Ok(_) => return Outcome::Dropped("the appointment was cancelled or moved".into()),
                Err(e) => return self.retry_or_fail(row, SendError::transient(format!("database: {e}")), now),
            }
            let tz = jiff::tz::TimeZone::get(payload["timezone"].as_str().unwrap_or("Europe/Rome")).unwrap_or(jiff::tz::TimeZone::UTC);
            let start = payload["start_utc"].as_str().and_then(|s| s.parse::<Timestamp>().ok());
            if quiet::is_quiet(now, &tz, self.config.quiet) {
                return match start.and_then(|s| quiet::next_allowed_before(now, s, &tz, self.config.quiet)) {
                    Some(next) => Outcome::Retry(SendError::transient("quiet hours"), next),
                    None => Outcome::Dropped("no time outside quiet hours before the appointment".into()),
                };
            }
            if start.is_some_and(|s| s <= now) {
                return Outcome::Dropped("the appointment has started".into());
            }
        }
        let number_id;
        let mut ctx = Context::default();
        if row.channel == NotifyChannel::Whatsapp {
            let peer: String = row.recipient.chars().filter(char::is_ascii_digit).collect();
            match tenant.last_inbound_whatsapp(&peer).await {
                Ok(last) => ctx.whatsapp_window_open = last.is_some_and(|t| now.duration_since(t) < SignedDuration::from_hours(24)),
                Err(e) => return self.retry_or_fail(row, SendError::transient(format!("database: {e}")), now),
            }
            number_id = tenant.whatsapp_number().await.ok().flatten();
            ctx.whatsapp_number_id = number_id.as_deref();
        }
        // A reminder by WhatsApp or SMS can be answered "ANNULLA" (channels::written, telephony::sms).
        let reply_cancel = matches!(row.channel, NotifyChannel::Whatsapp | NotifyChannel::Sms);
        let out = render(row.kind, &payload, &row.recipient, &row.key, reply_cancel);
        match self.sender.send(row.channel, &out, ctx).await {
            Ok(id) => Outcome::Sent(id),
            Err(e) => self.retry_or_fail(row, e, now),
        }
    }

    fn retry_or_fail(&self, row: &OutboxEntry, e: SendError, now: Timestamp) -> Outcome {
        if !e.retryable {
            return Outcome::Failed(e.message);
        }
        if row.attempts >= self.config.max_attempts {
            return Outcome::Failed(format!("{} (after {} attempts)", e.message, row.attempts));
        }
        let delay = SignedDuration::try_from(Self::backoff(row.attempts)).unwrap_or(SignedDuration::from_secs(3600));
        Outcome::Retry(e, now.checked_add(delay).unwrap_or(now))
    }

    /// Looks at the outbox every [`NotifyConfig::poll`] (system clock)
    /// until `shutdown` resolves; a batch in progress is finished first.
    pub async fn run(self, shutdown: impl std::future::Future<Output = ()>) {
        tokio::pin!(shutdown);
        let mut every = tokio::time::interval(self.config.poll);
        every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = every.tick() => {}
                () = &mut shutdown => return,
            }
            loop {
                match self.tick(Timestamp::now()).await {
                    // A full batch: more may be due at once.
                    Ok(t) if t.claimed == BATCH as usize => continue,
                    Ok(_) => break,
                    Err(e) => {
                        tracing::error!(error = %e, "outbox: claiming due notifications failed; trying again at the next look");
                        break;
                    }
                }
            }
        }
    }
}

/// The recipient as logs show it.
fn masked(row: &OutboxEntry) -> String {
    match row.channel {
        NotifyChannel::Whatsapp | NotifyChannel::Sms => mask_phone(&row.recipient).to_string(),
        NotifyChannel::Email => row.recipient.split_once('@').map(|(_, d)| format!("***@{d}")).unwrap_or_else(|| "***".into()),
        NotifyChannel::Webhook => row.recipient.split('?').next().unwrap_or("").to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_the_cap() {
        let first = Worker::backoff(1);
        assert!(first >= FIRST_RETRY && first <= FIRST_RETRY * 2, "{first:?}");
        let fourth = Worker::backoff(4);
        assert!(fourth >= FIRST_RETRY * 8, "{fourth:?}");
        assert!(Worker::backoff(40) <= MAX_RETRY * 2);
    }
}
