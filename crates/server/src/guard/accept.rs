//! The accept loop: every connection is served by hyper's HTTP/1 connection
//! (WebSocket upgrades allowed) with a time limit on request headers, and
//! counted against a cap in total and per client ([`super::client_key`]);
//! a connection over a cap is closed at once, so the file descriptors of
//! slow or half-sent requests are bounded and the rest keep being served.
//! Each request carries the peer address as axum's `ConnectInfo`.
//!
//! Shutdown is graceful: when the signal comes the listener closes, idle
//! connections close, and requests in progress finish.

use std::collections::HashMap;
use std::future::Future;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::ConnectInfo;
use axum::http::Request;
use axum::Router;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use super::{client_key, HttpGuard};
use crate::observability::REJECTED_TOTAL;

/// Open connections, in total and per client.
#[derive(Debug)]
pub struct ConnectionLimits {
    max_total: usize,
    max_per_client: usize,
    open: Mutex<(usize, HashMap<IpAddr, usize>)>,
}

/// One admitted connection; dropping it frees its place.
#[derive(Debug)]
pub struct Admitted {
    limits: Arc<ConnectionLimits>,
    key: IpAddr,
}

/// Why a connection was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refused {
    /// [`HttpGuard::max_connections`] are open.
    Total,
    /// [`HttpGuard::max_connections_per_ip`] are open from this client.
    PerClient,
}

impl Refused {
    /// Metric label.
    pub fn as_str(self) -> &'static str {
        match self {
            Refused::Total => "connections_total",
            Refused::PerClient => "connections_per_ip",
        }
    }
}

impl ConnectionLimits {
    /// Caps of `max_total` connections, `max_per_client` from one client.
    pub fn new(max_total: usize, max_per_client: usize) -> Arc<Self> {
        Arc::new(ConnectionLimits { max_total, max_per_client, open: Mutex::new((0, HashMap::new())) })
    }

    /// A place for a connection from `ip`, or why there is none.
    ///
    /// # Errors
    /// A cap is reached.
    pub fn admit(self: &Arc<Self>, ip: IpAddr) -> Result<Admitted, Refused> {
        let key = client_key(ip);
        let mut open = self.open.lock().unwrap_or_else(|p| p.into_inner());
        let (total, per_client) = &mut *open;
        if *total >= self.max_total {
            return Err(Refused::Total);
        }
        let mine = per_client.entry(key).or_insert(0);
        if *mine >= self.max_per_client {
            return Err(Refused::PerClient);
        }
        *mine += 1;
        *total += 1;
        Ok(Admitted { limits: self.clone(), key })
    }

    /// Connections open now.
    pub fn open(&self) -> usize {
        self.open.lock().map(|o| o.0).unwrap_or(0)
    }
}

impl Drop for Admitted {
    fn drop(&mut self) {
        let mut open = self.limits.open.lock().unwrap_or_else(|p| p.into_inner());
        let (total, per_client) = &mut *open;
        *total = total.saturating_sub(1);
        if let Some(n) = per_client.get_mut(&self.key) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                per_client.remove(&self.key);
            }
        }
    }
}

/// Serves `router` on `listener` under `guard`'s connection limits until
/// `shutdown` resolves, then waits for requests in progress.
/// (`router` should already carry [`HttpGuard::layer`].)
///
/// # Errors
/// Never for a failing connection or accept (logged, the loop goes on); the
/// signature keeps `std::io::Result` for the callers of `axum::serve`.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    guard: &HttpGuard,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let limits = ConnectionLimits::new(guard.max_connections, guard.max_connections_per_ip);
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new()).header_read_timeout(guard.header_timeout);
    let stop = CancellationToken::new();
    let tasks = TaskTracker::new();
    tokio::pin!(shutdown);
    loop {
        let (stream, remote) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(pair) => pair,
                Err(e) => {
                    // Out of file descriptors (or a transient error): wait
                    // for connections to close rather than spin.
                    tracing::warn!(error = %e, open = limits.open(), "accept failed; retrying in 50 ms");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let admitted = match limits.admit(remote.ip()) {
            Ok(a) => a,
            Err(why) => {
                metrics::counter!(REJECTED_TOTAL, "reason" => why.as_str()).increment(1);
                tracing::debug!(reason = why.as_str(), "connection refused: limit reached");
                drop(stream);
                continue;
            }
        };
        // Small responses go out at once (Nagle off), as axum::serve does.
        let _ = stream.set_nodelay(true);
        let router = router.clone();
        let service = hyper::service::service_fn(move |mut request: Request<Incoming>| {
            request.extensions_mut().insert(ConnectInfo(remote));
            let mut router = router.clone();
            async move { tower_service::Service::call(&mut router, request).await }
        });
        let connection = http.serve_connection(TokioIo::new(stream), service).with_upgrades();
        let stop = stop.clone();
        tasks.spawn(async move {
            tokio::pin!(connection);
            let ended = tokio::select! {
                ended = connection.as_mut() => ended,
                () = stop.cancelled() => {
                    connection.as_mut().graceful_shutdown();
                    connection.await
                }
            };
            if let Err(e) = ended {
                tracing::debug!(error = %e, "connection ended with an error");
            }
            drop(admitted);
        });
    }
    drop(listener);
    stop.cancel();
    tasks.close();
    tasks.wait().await;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn caps_connections_in_total_and_per_client() {
        let limits = ConnectionLimits::new(3, 2);
        let a: IpAddr = "192.0.2.1".parse().expect("ip");
        let b: IpAddr = "192.0.2.2".parse().expect("ip");
        let first = limits.admit(a).expect("first");
        let _second = limits.admit(a).expect("second");
        assert_eq!(limits.admit(a).err(), Some(Refused::PerClient));
        let _third = limits.admit(b).expect("another client");
        assert_eq!(limits.admit(b).err(), Some(Refused::Total));
        drop(first);
        assert_eq!(limits.open(), 2);
        let _again = limits.admit(a).expect("a place was freed");
    }
}
