//! Live changes for the console: every appointment, call and callback
//! request written through the store is announced on one in-process
//! broadcast channel ([`Events`]), and `GET /api/events` streams a
//! business's announcements as server-sent events, so an open calendar
//! updates within moments of a booking by phone, chat or hand.
//!
//! Announcements are best effort and carry only ids (the page re-reads what
//! it shows). With several instances on PostgreSQL the store relays them
//! between instances (see `store::relay`): an [`Events`] built with a relay
//! hands every local announcement to it, and announcements of other
//! instances come back in through [`Events::deliver`], so a page connected
//! to any instance sees every instance's writes, each once.

use serde::{Deserialize, Serialize};
use tokio::sync::{broadcast, mpsc};

use fluxion_core::booking::Id;

/// Announcements buffered per subscriber; a slower page misses older ones
/// (and re-reads everything on the `lagged` event).
pub const CAPACITY: usize = 256;

/// What changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
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

/// What happened to the row (the SSE `data`'s `action`, lower case).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    /// An appointment was booked.
    Booked,
    /// An appointment was moved.
    Moved,
    /// An appointment was cancelled.
    Cancelled,
    /// An appointment was completed (the client came).
    Completed,
    /// Appointments were anonymised (the id is 0: re-read them all).
    Anonymised,
    /// A call started.
    Started,
    /// A call ended.
    Ended,
    /// A callback request was made.
    Created,
    /// A callback request was handled.
    Done,
}

/// One announcement.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Event {
    /// The business.
    pub tenant: Id,
    /// What changed.
    pub kind: Kind,
    /// The row's id.
    pub id: Id,
    /// What happened to it.
    pub action: Action,
}

/// The broadcast channel. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Events {
    tx: broadcast::Sender<Event>,
    /// Where local announcements go to reach the other instances, if anywhere.
    relay: Option<mpsc::UnboundedSender<Event>>,
}

impl Default for Events {
    /// In-process only (SQLite: one instance).
    fn default() -> Self {
        Events { tx: broadcast::channel(CAPACITY).0, relay: None }
    }
}

impl Events {
    /// Announcements that are also handed to `relay` (which publishes them
    /// to the other instances).
    pub fn relayed(relay: mpsc::UnboundedSender<Event>) -> Self {
        Events { relay: Some(relay), ..Events::default() }
    }

    /// Announces a change of this instance (nobody listening is fine): to
    /// the local subscribers and, when relayed, to the other instances.
    pub fn send(&self, tenant: Id, kind: Kind, id: Id, action: Action) {
        let event = Event { tenant, kind, id, action };
        if let Some(relay) = &self.relay {
            // A closed relay (its task ended with the runtime) leaves the local delivery.
            let _relay_gone = relay.send(event.clone());
        }
        self.deliver(event);
    }

    /// Hands an announcement of another instance to the local subscribers
    /// only.
    pub fn deliver(&self, event: Event) {
        let _nobody_listening = self.tx.send(event);
    }

    /// A new subscription to every business's announcements.
    pub fn subscribe(&self) -> broadcast::Receiver<Event> {
        self.tx.subscribe()
    }
}
