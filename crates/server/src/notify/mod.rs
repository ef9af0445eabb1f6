//! Notifications, exactly once: the persisted outbox (`store::outbox`), the
//! worker that sends it ([`worker`]), the channels behind one port
//! ([`sender::Sender`]: WhatsApp, SMS through Twilio or Plivo, e-mail
//! through SMTP), what the messages say ([`render`]), and what puts rows in
//! it: booking confirmations, changes and cancellations (queued by the
//! store in the booking's own transaction, on the channel the client
//! consented to, WhatsApp > SMS > e-mail by default), reminders
//! ([`queue_reminders`], a configurable time before the appointment, outside
//! quiet hours), notices to the business (callback requests) and signed
//! webhooks for automations ([`webhook`]).
//!
//! `fluxion serve` starts it with [`start`]; tests drive [`worker::Worker::tick`]
//! and [`queue_reminders`] with explicit instants.

pub mod config;
pub mod email;
pub mod quiet;
pub mod render;
pub mod sender;
pub mod webhook;
pub mod worker;

use std::sync::Arc;
use std::time::Duration;

use fluxion_core::booking::StoreError;
use jiff::{SignedDuration, Timestamp};

pub use config::{NotifyConfig, QuietHours};
pub use sender::{SendError, Sender};
pub use worker::{Tick, Worker};

use crate::clock::Clock;
use crate::store::{NoticePolicy, Store};

/// How often reminders are looked for.
pub const REMINDER_SCAN: Duration = Duration::from_secs(300);
/// How far past the reminder lead a scan looks, so a reminder is queued
/// before it is due even when a scan is late.
pub const REMINDER_AHEAD: SignedDuration = SignedDuration::from_hours(2);

/// Queues the reminders due within [`REMINDER_AHEAD`] of `now` (see
/// [`Store::queue_reminders`]), each moved out of the quiet hours.
///
/// # Errors
/// Database errors.
pub async fn queue_reminders(store: &Store, config: &NotifyConfig, now: Timestamp) -> Result<usize, StoreError> {
    let lead = SignedDuration::try_from(config.reminder_lead).unwrap_or(SignedDuration::from_hours(24));
    let q = config.quiet;
    store.queue_reminders(now, lead, REMINDER_AHEAD, |due, start, tz| quiet::schedule(due, start, tz, q)).await
}

/// The client notice policy of `config` over the channels `sender` can use.
pub fn policy(config: &NotifyConfig, sender: &Sender) -> NoticePolicy {
    use crate::store::NotifyChannel;
    let owner_channels = sender.available(&[NotifyChannel::Email, NotifyChannel::Whatsapp, NotifyChannel::Sms]);
    let owner = crate::store::outbox::owner_route(&owner_channels, config.owner_email.as_deref(), config.owner_phone.as_deref());
    NoticePolicy { order: sender.available(&config.order), owner, owner_channels, webhooks: sender.webhook_urls() }
}

/// Starts the notifications: sets the store's notice policy (the channels
/// configured, in the order of preference), then runs the outbox worker
/// and the reminder scan (every [`REMINDER_SCAN`], on `clock`) until
/// `shutdown` resolves.
pub fn start<F>(store: &Store, config: NotifyConfig, sender: Sender, clock: Clock, shutdown: impl Fn() -> F)
where
    F: std::future::Future<Output = ()> + Send + 'static,
{
    let policy = policy(&config, &sender);
    tracing::info!(
        channels = %policy.order.iter().map(|c| c.as_str()).collect::<Vec<_>>().join(","),
        reminder_hours = config.reminder_lead.as_secs() / 3600,
        "notifications on"
    );
    store.set_notice_policy(Some(policy));
    let worker = Worker::new(store.clone(), Arc::new(sender), config.clone());
    tokio::spawn(worker.run(shutdown()));
    let store = store.clone();
    let stop = shutdown();
    tokio::spawn(async move {
        tokio::pin!(stop);
        let mut every = tokio::time::interval(REMINDER_SCAN);
        every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = every.tick() => {}
                () = &mut stop => return,
            }
            match queue_reminders(&store, &config, clock.now()).await {
                Ok(0) => {}
                Ok(n) => tracing::info!(queued = n, "reminders queued"),
                Err(e) => tracing::error!(error = %e, "reminders: scan failed; trying again at the next one"),
            }
        }
    });
}
