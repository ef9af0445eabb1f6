//! Live changes for the console: every appointment, call and callback
//! request written through the store is announced on one in-process
//! broadcast channel ([`Events`]), and `GET /api/events` streams a
//! business's announcements as server-sent events, so an open calendar
//! updates within moments of a booking by phone, chat or hand.
//!
//! Announcements are best effort and carry only ids (the page re-reads what
//! it shows); with several instances on PostgreSQL each instance announces
//! its own writes.

use serde::Serialize;
use tokio::sync::broadcast;

use fluxion_core::booking::Id;

/// Announcements buffered per subscriber; a slower page misses older ones
/// (and re-reads everything on the `lagged` event).
pub const CAPACITY: usize = 256;

/// What changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// An appointment was booked, moved or cancelled.
    Appointment,
    /// A call started or ended.
    Call,
    /// A callback request was made or handled.
    Callback,
}

impl Kind {
    /// The SSE event name.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Appointment => "appointment",
            Kind::Call => "call",
            Kind::Callback => "callback",
        }
    }
}

/// One announcement.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Event {
    /// The business.
    pub tenant: Id,
    /// What changed.
    pub kind: Kind,
    /// The row's id.
    pub id: Id,
    /// `booked`, `moved`, `cancelled`, `started`, `ended`, `created`, `done`.
    pub action: &'static str,
}

/// The broadcast channel. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Events {
    tx: broadcast::Sender<Event>,
}

impl Default for Events {
    fn default() -> Self {
        Events { tx: broadcast::channel(CAPACITY).0 }
    }
}

impl Events {
    /// Announces a change (nobody listening is fine).
    pub fn send(&self, tenant: Id, kind: Kind, id: Id, action: &'static str) {
        let _nobody_listening = self.tx.send(Event { tenant, kind, id, action });
    }

    /// A new subscription to every business's announcements.
    pub fn subscribe(&self) -> broadcast::Receiver<Event> {
        self.tx.subscribe()
    }
}
