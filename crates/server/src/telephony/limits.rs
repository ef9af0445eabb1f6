//! Resource limits of the media streams: how many WebSocket connections are
//! open in total and per remote address, how many calls run at once, and the
//! wall-clock and frame limits of one stream.
//!
//! A connection takes a [`Permit`] from the [`Gate`] before it is upgraded
//! (refused with 503 when none is left) and holds it until it closes. The
//! per-address share of the permit is returned as soon as the stream has
//! proved it belongs to a call (its token was redeemed): providers connect
//! from a few addresses, so the per-address cap limits connections still
//! waiting for their proof, while proven calls are bounded by
//! `MAX_CONCURRENT_CALLS` (and the total by `MAX_MEDIA_STREAMS`).

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

/// Memory one call in progress may add to the server's resident set, bytes
/// (2 MiB): the voice session, its VAD and endpointer, the WebSocket and its
/// bounded queues. With the default `MAX_CONCURRENT_CALLS` (100) calls take
/// at most 200 MiB. Checked on a real `fluxion serve` process by the
/// integration test `call_memory` (resident memory with 40 calls streaming,
/// minus the baseline, per call), which fails above it; it measured 0.022 MB
/// per call on the test-profile build (2026-12-06; 5.4 MB before the
/// playback queue stopped keeping, in every 20 ms frame, the capacity of all
/// the audio after it).
pub const CALL_MEMORY_BUDGET_BYTES: u64 = 2 * 1024 * 1024;

/// Stream limits (environment names in brackets).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StreamLimits {
    /// No media for this long ends the call as abandoned, ms of wall time
    /// (`STREAM_IDLE_TIMEOUT_MS`, default 30 000).
    pub idle_timeout_ms: u64,
    /// A stream must send its `start` within this, ms (`STREAM_START_TIMEOUT_MS`, default 10 000).
    pub start_timeout_ms: u64,
    /// Grace after the session's maximum call length before the stream is
    /// closed regardless, ms of wall time (`STREAM_MAX_CALL_GRACE_MS`, default 30 000).
    pub max_call_grace_ms: u64,
    /// Open media-stream WebSockets, all addresses together (`MAX_MEDIA_STREAMS`, default 200).
    pub max_streams: usize,
    /// Open media-stream WebSockets per remote address that have not yet
    /// proved their call (`MAX_MEDIA_STREAMS_PER_IP`, default 50).
    pub max_streams_per_ip: usize,
    /// Calls in progress; above it the voice webhook answers "busy"
    /// (`MAX_CONCURRENT_CALLS`, default 100).
    pub max_concurrent_calls: usize,
    /// Binary or malformed messages tolerated per stream before it is closed
    /// (`MAX_BAD_FRAMES`, default 50).
    pub max_bad_frames: u32,
    /// Lifetime of a stream token, ms (`STREAM_TOKEN_TTL_MS`, default 120 000).
    pub token_ttl_ms: u64,
}

impl Default for StreamLimits {
    fn default() -> Self {
        StreamLimits {
            idle_timeout_ms: 30_000,
            start_timeout_ms: 10_000,
            max_call_grace_ms: 30_000,
            max_streams: 200,
            max_streams_per_ip: 50,
            max_concurrent_calls: 100,
            max_bad_frames: 50,
            token_ttl_ms: super::stream_token::DEFAULT_TTL_MS,
        }
    }
}

impl StreamLimits {
    /// The defaults overridden by the variables named on each field.
    ///
    /// # Errors
    /// A value that is not a positive whole number, naming the variable.
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Self, String> {
        let mut l = StreamLimits::default();
        fn read<T: std::str::FromStr + PartialOrd + Default>(
            get: &impl Fn(&str) -> Option<String>,
            name: &str,
            into: &mut T,
        ) -> Result<(), String> {
            if let Some(raw) = get(name) {
                match raw.trim().parse::<T>() {
                    Ok(v) if v > T::default() => *into = v,
                    _ => return Err(format!("{name} must be a positive whole number (got {raw:?})")),
                }
            }
            Ok(())
        }
        read(&get, "STREAM_IDLE_TIMEOUT_MS", &mut l.idle_timeout_ms)?;
        read(&get, "STREAM_START_TIMEOUT_MS", &mut l.start_timeout_ms)?;
        read(&get, "STREAM_MAX_CALL_GRACE_MS", &mut l.max_call_grace_ms)?;
        read(&get, "MAX_MEDIA_STREAMS", &mut l.max_streams)?;
        read(&get, "MAX_MEDIA_STREAMS_PER_IP", &mut l.max_streams_per_ip)?;
        read(&get, "MAX_CONCURRENT_CALLS", &mut l.max_concurrent_calls)?;
        read(&get, "MAX_BAD_FRAMES", &mut l.max_bad_frames)?;
        read(&get, "STREAM_TOKEN_TTL_MS", &mut l.token_ttl_ms)?;
        Ok(l)
    }
}

/// Why a connection was not let in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// `MAX_MEDIA_STREAMS` connections are open.
    TooManyStreams,
    /// `MAX_MEDIA_STREAMS_PER_IP` connections from this address await their proof.
    TooManyFromAddress,
    /// `MAX_CONCURRENT_CALLS` calls are in progress.
    Busy,
}

impl Refusal {
    /// Short name for logs and metric labels.
    pub fn as_str(self) -> &'static str {
        match self {
            Refusal::TooManyStreams => "too_many_streams",
            Refusal::TooManyFromAddress => "too_many_from_address",
            Refusal::Busy => "busy",
        }
    }
}

/// Counts open streams and calls in progress.
#[derive(Debug, Default)]
pub struct Gate {
    streams: AtomicUsize,
    calls: AtomicUsize,
    unproven: Mutex<HashMap<IpAddr, usize>>,
}

impl Gate {
    /// Calls in progress (streams whose token was redeemed).
    pub fn calls(&self) -> usize {
        self.calls.load(Ordering::Relaxed)
    }

    /// Open media-stream connections.
    pub fn streams(&self) -> usize {
        self.streams.load(Ordering::Relaxed)
    }

    /// Whether a new call would exceed `limits.max_concurrent_calls`.
    pub fn busy(&self, limits: &StreamLimits) -> bool {
        self.calls() >= limits.max_concurrent_calls
    }

    /// A permit for one connection from `addr` (`None`: address unknown,
    /// only the total applies).
    ///
    /// # Errors
    /// [`Refusal`] when a cap is reached.
    pub fn admit(self: &Arc<Self>, addr: Option<IpAddr>, limits: &StreamLimits) -> Result<Permit, Refusal> {
        let taken = self.streams.fetch_add(1, Ordering::AcqRel);
        if taken >= limits.max_streams {
            self.streams.fetch_sub(1, Ordering::AcqRel);
            return Err(Refusal::TooManyStreams);
        }
        let mut permit = Permit { gate: self.clone(), addr: None, call: false };
        if let Some(addr) = addr {
            let mut unproven = self.unproven.lock().unwrap_or_else(PoisonError::into_inner);
            let n = unproven.entry(addr).or_default();
            if *n >= limits.max_streams_per_ip {
                return Err(Refusal::TooManyFromAddress);
            }
            *n += 1;
            permit.addr = Some(addr);
        }
        Ok(permit)
    }
}

/// One admitted connection; dropping it gives its places back.
#[derive(Debug)]
pub struct Permit {
    gate: Arc<Gate>,
    addr: Option<IpAddr>,
    call: bool,
}

impl Permit {
    /// The stream proved its call: its address share is returned and it
    /// counts as a call in progress.
    ///
    /// # Errors
    /// [`Refusal::Busy`] when `limits.max_concurrent_calls` calls are in progress.
    pub fn prove(&mut self, limits: &StreamLimits) -> Result<(), Refusal> {
        self.release_addr();
        if !self.call {
            let taken = self.gate.calls.fetch_add(1, Ordering::AcqRel);
            if taken >= limits.max_concurrent_calls {
                self.gate.calls.fetch_sub(1, Ordering::AcqRel);
                return Err(Refusal::Busy);
            }
            self.call = true;
        }
        Ok(())
    }

    fn release_addr(&mut self) {
        if let Some(addr) = self.addr.take() {
            let mut unproven = self.gate.unproven.lock().unwrap_or_else(PoisonError::into_inner);
            if let Some(n) = unproven.get_mut(&addr) {
                *n = n.saturating_sub(1);
                if *n == 0 {
                    unproven.remove(&addr);
                }
            }
        }
    }
}

impl Drop for Permit {
    fn drop(&mut self) {
        self.release_addr();
        if self.call {
            self.gate.calls.fetch_sub(1, Ordering::AcqRel);
        }
        self.gate.streams.fetch_sub(1, Ordering::AcqRel);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn caps_and_release() {
        let limits = StreamLimits { max_streams: 3, max_streams_per_ip: 2, max_concurrent_calls: 1, ..StreamLimits::default() };
        let gate = Arc::new(Gate::default());
        let a: IpAddr = [10, 0, 0, 1].into();
        let b: IpAddr = [10, 0, 0, 2].into();
        let mut p1 = gate.admit(Some(a), &limits).expect("first");
        let _p2 = gate.admit(Some(a), &limits).expect("second");
        assert_eq!(gate.admit(Some(a), &limits).err(), Some(Refusal::TooManyFromAddress));
        assert_eq!(gate.streams(), 2, "a refused connection holds nothing");
        // A proven stream frees its address share.
        p1.prove(&limits).expect("a call");
        let p3 = gate.admit(Some(a), &limits).expect("third from a, after one proved");
        assert_eq!(gate.admit(Some(b), &limits).err(), Some(Refusal::TooManyStreams));
        let mut p3 = p3;
        assert_eq!(p3.prove(&limits), Err(Refusal::Busy));
        assert!(gate.busy(&limits));
        drop(p1);
        assert_eq!((gate.calls(), gate.streams()), (0, 2));
        assert!(gate.admit(None, &limits).is_ok());
    }

    #[test]
    fn settings() {
        let l = StreamLimits::from_lookup(|k| (k == "STREAM_IDLE_TIMEOUT_MS").then(|| "500".to_string())).unwrap();
        assert_eq!(l.idle_timeout_ms, 500);
        assert!(StreamLimits::from_lookup(|k| (k == "MAX_MEDIA_STREAMS").then(|| "0".to_string())).is_err());
        assert!(StreamLimits::from_lookup(|k| (k == "MAX_BAD_FRAMES").then(|| "x".to_string())).is_err());
    }
}
