//! The console's live announcements ([`crate::events`]) across instances on
//! one PostgreSQL database, through `LISTEN`/`NOTIFY` on channel
//! [`CHANNEL`].
//!
//! - **Publishing**: a store on PostgreSQL builds its [`Events`] with a
//!   relay; one task per store takes every local announcement, in order,
//!   and sends it with `pg_notify` as JSON `{"origin", "tenant", "kind",
//!   "id", "action"}` (about 80 bytes; PostgreSQL's limit is 8000).
//!   `origin` is a random number drawn when the store opens.
//! - **Listening** ([`Store::relay_events`], started by `fluxion serve`):
//!   one dedicated connection `LISTEN`s and hands every announcement whose
//!   origin is another store to the local subscribers
//!   ([`Events::deliver`]). The publishing instance already delivered its
//!   own announcements locally, so nobody sees one twice.
//!
//! Best effort, like the announcements themselves: a notification is sent
//! after its write commits, so one lost with the connection (the listener
//! reconnects within a second, PostgreSQL does not replay) leaves the page
//! to its next re-read. On SQLite there is one instance and nothing to
//! relay.

use std::future::Future;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use sqlx::postgres::PgListener;
use sqlx::AnyPool;
use tokio::sync::mpsc;

use super::{DatabaseUrl, Store};
use crate::events::{Action, Event, Events, Kind};
use fluxion_core::booking::Id;

/// The notification channel.
pub const CHANNEL: &str = "fluxion_events";

/// Pause before the listener tries again after losing its connection.
const RETRY: Duration = Duration::from_secs(1);

/// One announcement on the wire.
#[derive(Debug, Serialize, Deserialize)]
struct Wire {
    /// The publishing store (see the module docs).
    origin: u64,
    tenant: Id,
    kind: Kind,
    id: Id,
    action: Action,
}

/// Events whose announcements are also published on `pool` (PostgreSQL),
/// tagged with `origin`. Spawns the publishing task; it ends when the last
/// [`Events`] clone is dropped.
pub(super) fn publishing(pool: AnyPool, origin: u64) -> Events {
    let (tx, mut rx) = mpsc::unbounded_channel::<Event>();
    tokio::spawn(async move {
        while let Some(e) = rx.recv().await {
            let wire = Wire { origin, tenant: e.tenant, kind: e.kind, id: e.id, action: e.action };
            let Ok(payload) = serde_json::to_string(&wire) else { continue };
            // pg_notify returns `void`, which the Any driver cannot decode: count the row instead.
            let sent: Result<i64, sqlx::Error> = sqlx::query_scalar("SELECT COUNT(*) FROM (SELECT pg_notify($1, $2)) AS sent")
                .bind(CHANNEL)
                .bind(payload)
                .fetch_one(&pool)
                .await;
            if let Err(err) = sent {
                tracing::warn!(tenant = e.tenant, kind = e.kind.as_str(), id = e.id, error = %err, "could not publish an announcement to the other instances");
            }
        }
    });
    Events::relayed(tx)
}

/// A random origin tag for a store (never 0).
pub(super) fn new_origin() -> u64 {
    let mut bytes = [0u8; 8];
    if getrandom::getrandom(&mut bytes).is_err() {
        // No randomness: the process id and the clock still tell instances apart.
        let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.subsec_nanos());
        return (u64::from(std::process::id()) << 32) | u64::from(nanos) | 1;
    }
    u64::from_le_bytes(bytes).max(1)
}

/// Decodes a notification's payload; `None` for this store's own
/// announcements and for payloads that are not announcements.
fn decode(payload: &str, own: u64) -> Option<Event> {
    let w: Wire = serde_json::from_str(payload).ok()?;
    (w.origin != own).then_some(Event { tenant: w.tenant, kind: w.kind, id: w.id, action: w.action })
}

impl Store {
    /// Delivers the announcements of the other instances on this database
    /// to this store's subscribers until `stop` completes. On SQLite it
    /// returns at once. A lost connection is logged and re-opened after
    /// a second; announcements made meanwhile are not replayed.
    pub async fn relay_events(&self, stop: impl Future<Output = ()>) {
        let DatabaseUrl::Postgres(url) = self.url.as_ref() else { return };
        let connect_url = url.connect_url().to_string();
        tokio::select! {
            () = listen(&connect_url, &self.events, self.origin) => {}
            () = stop => {}
        }
    }
}

/// Listens on [`CHANNEL`] for ever, handing the announcements of stores
/// other than `own` to `events`; reconnects after a lost connection.
async fn listen(connect_url: &str, events: &Events, own: u64) {
    loop {
        let mut listener = match PgListener::connect(connect_url).await {
            Ok(l) => l,
            Err(e) => {
                tracing::warn!(error = %e, "cannot listen for other instances' announcements; retrying");
                tokio::time::sleep(RETRY).await;
                continue;
            }
        };
        if let Err(e) = listener.listen(CHANNEL).await {
            tracing::warn!(error = %e, "LISTEN {CHANNEL} failed; retrying");
            tokio::time::sleep(RETRY).await;
            continue;
        }
        tracing::info!(channel = CHANNEL, "relaying announcements between instances");
        loop {
            match listener.try_recv().await {
                Ok(Some(n)) => {
                    if let Some(e) = decode(n.payload(), own) {
                        events.deliver(e);
                    }
                }
                // The connection was lost; the listener reconnects and listens again.
                Ok(None) => tracing::warn!("announcement relay: connection lost; reconnecting"),
                Err(e) => {
                    tracing::warn!(error = %e, "announcement relay: connection failed; retrying");
                    tokio::time::sleep(RETRY).await;
                    break;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn own_announcements_are_not_delivered_twice() {
        let wire = Wire { origin: 7, tenant: 2, kind: Kind::Appointment, id: 41, action: Action::Booked };
        let payload = serde_json::to_string(&wire).expect("json");
        assert_eq!(payload, r#"{"origin":7,"tenant":2,"kind":"appointment","id":41,"action":"booked"}"#);
        assert_eq!(decode(&payload, 7), None);
        assert_eq!(decode(&payload, 8), Some(Event { tenant: 2, kind: Kind::Appointment, id: 41, action: Action::Booked }));
        assert_eq!(decode("not json", 8), None);
    }
}
