//! The server's lifecycle: serving, then draining. On SIGTERM (or Ctrl-C)
//! `fluxion serve` starts draining: `/ready` answers 503 at once (a load
//! balancer stops routing to the instance), the telephony webhooks turn new
//! calls away as busy, and calls in progress go on until they end or the
//! drain deadline ([`drain_from`]: `SHUTDOWN_DRAIN_MS`, default 10 minutes,
//! the maximum call length) passes; then the servers stop and the process
//! exits 0. A second signal during the drain stops at once.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::telephony::limits::Gate;

/// Default drain deadline, ms: the maximum call length (10 minutes).
pub const DEFAULT_DRAIN_MS: u64 = 600_000;

/// How often the drain looks at the open calls, ms.
const DRAIN_POLL_MS: u64 = 100;

/// Whether the instance is draining, and the media streams it still holds.
/// One per server, shared by the HTTP handlers and the telephony routes.
#[derive(Debug, Default)]
pub struct Lifecycle {
    draining: AtomicBool,
    gate: Arc<Gate>,
}

/// How a drain ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Drained {
    /// No media stream was open any more, after this long.
    Idle(Duration),
    /// The deadline passed with this many media streams still open.
    DeadlineReached {
        /// Streams still open (their calls are cut when the process exits).
        streams_left: usize,
    },
}

impl Lifecycle {
    /// Whether a drain has started (new calls are refused, `/ready` is false).
    pub fn is_draining(&self) -> bool {
        self.draining.load(Ordering::Acquire)
    }

    /// Starts draining; returns whether this call started it (false when it
    /// was already draining).
    pub fn start_draining(&self) -> bool {
        !self.draining.swap(true, Ordering::AcqRel)
    }

    /// The media streams' gate: open streams and calls in progress.
    pub fn gate(&self) -> Arc<Gate> {
        self.gate.clone()
    }

    /// Waits until no media stream is open (a stream whose webhook was
    /// accepted just before the drain still connects and counts), or until
    /// `deadline` has passed, polling every 100 ms.
    pub async fn drained(&self, deadline: Duration) -> Drained {
        let started = Instant::now();
        loop {
            let open = self.gate.streams();
            if open == 0 {
                return Drained::Idle(started.elapsed());
            }
            let elapsed = started.elapsed();
            if elapsed >= deadline {
                return Drained::DeadlineReached { streams_left: open };
            }
            let wait = Duration::from_millis(DRAIN_POLL_MS).min(deadline - elapsed);
            tokio::time::sleep(wait).await;
        }
    }
}

/// The drain deadline from `SHUTDOWN_DRAIN_MS` (ms; `None` or empty: the
/// default, [`DEFAULT_DRAIN_MS`]; 0 stops without waiting).
///
/// # Errors
/// A value that is not a whole number of milliseconds, naming the variable.
pub fn drain_from(raw: Option<&str>) -> Result<Duration, String> {
    match raw.map(str::trim).filter(|v| !v.is_empty()) {
        None => Ok(Duration::from_millis(DEFAULT_DRAIN_MS)),
        Some(v) => v
            .parse::<u64>()
            .map(Duration::from_millis)
            .map_err(|_| format!("SHUTDOWN_DRAIN_MS must be a whole number of milliseconds (got {v:?})")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::telephony::limits::StreamLimits;

    #[test]
    fn reads_the_deadline() {
        assert_eq!(drain_from(None), Ok(Duration::from_secs(600)));
        assert_eq!(drain_from(Some(" ")), Ok(Duration::from_secs(600)));
        assert_eq!(drain_from(Some("1500")), Ok(Duration::from_millis(1500)));
        assert_eq!(drain_from(Some("0")), Ok(Duration::ZERO));
        assert!(drain_from(Some("10m")).is_err());
        assert!(drain_from(Some("-1")).is_err());
    }

    #[test]
    fn draining_starts_once() {
        let life = Lifecycle::default();
        assert!(!life.is_draining());
        assert!(life.start_draining());
        assert!(!life.start_draining(), "a second signal does not start it again");
        assert!(life.is_draining());
    }

    #[tokio::test]
    async fn waits_for_open_streams_up_to_the_deadline() {
        let life = Lifecycle::default();
        assert!(matches!(life.drained(Duration::from_secs(5)).await, Drained::Idle(_)), "nothing open: at once");

        let limits = StreamLimits::default();
        let mut call = life.gate().admit(None, &limits).expect("stream");
        call.prove(&limits).expect("call");
        let started = Instant::now();
        assert_eq!(life.drained(Duration::from_millis(300)).await, Drained::DeadlineReached { streams_left: 1 });
        assert!(started.elapsed() >= Duration::from_millis(300), "waited for the deadline");

        let ends = tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(200)).await;
            drop(call);
        });
        let started = Instant::now();
        let outcome = life.drained(Duration::from_secs(30)).await;
        assert!(matches!(outcome, Drained::Idle(_)), "{outcome:?}");
        assert!(started.elapsed() < Duration::from_secs(5), "ended as soon as the call did");
        ends.await.expect("task");
    }
}
