//! Per-address rate limits (the `governor` crate, GCRA): each client
//! ([`super::client_key`]) may send [`RateQuota::per_second`] requests per
//! second with bursts of [`RateQuota::burst`]; beyond that it gets 429 Too
//! Many Requests with `Retry-After` (seconds), while other addresses are
//! served as usual. The probe paths ([`super::PROBE_PATHS`]) are not limited.
//! The client is the TCP peer (`ConnectInfo`, set by [`super::accept`]); a
//! request without one is not limited.

use std::net::{IpAddr, SocketAddr};
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use axum::extract::{ConnectInfo, Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Json;
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use serde_json::json;

use crate::observability::REJECTED_TOTAL;

/// Requests allowed per client.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateQuota {
    /// Sustained rate, requests per second.
    pub per_second: NonZeroU32,
    /// Requests allowed at once above the sustained rate.
    pub burst: NonZeroU32,
}

impl RateQuota {
    /// One request per second, no burst.
    pub const MIN: RateQuota = RateQuota { per_second: NonZeroU32::MIN, burst: NonZeroU32::MIN };

    /// `per_second` requests per second with bursts of `burst`; `None` when
    /// either is zero.
    pub fn new(per_second: u32, burst: u32) -> Option<Self> {
        Some(RateQuota { per_second: super::non_zero(per_second)?, burst: super::non_zero(burst)? })
    }
}

/// How often (in checked requests) the state of clients that are back to a
/// full allowance is dropped, so the table does not grow with every address
/// ever seen.
const SWEEP_EVERY: u64 = 4_096;

/// The limiter shared by every request.
pub struct RateLimit {
    limiter: DefaultKeyedRateLimiter<IpAddr>,
    checked: AtomicU64,
}

impl std::fmt::Debug for RateLimit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RateLimit").field("clients", &self.limiter.len()).finish()
    }
}

impl RateLimit {
    /// A limiter with `quota` per client.
    pub fn new(quota: RateQuota) -> Self {
        RateLimit { limiter: RateLimiter::keyed(Quota::per_second(quota.per_second).allow_burst(quota.burst)), checked: AtomicU64::new(0) }
    }

    /// `Ok` when `ip` may send a request now, else how long it must wait, ms.
    ///
    /// # Errors
    /// Over the quota: the wait in ms.
    pub fn check(&self, ip: IpAddr) -> Result<(), u64> {
        if self.checked.fetch_add(1, Ordering::Relaxed) % SWEEP_EVERY == SWEEP_EVERY - 1 {
            self.limiter.retain_recent();
            self.limiter.shrink_to_fit();
        }
        self.limiter.check_key(&super::client_key(ip)).map_err(|not_until| {
            let wait = not_until.wait_time_from(DefaultClock::default().now());
            u64::try_from(wait.as_millis()).unwrap_or(u64::MAX)
        })
    }
}

/// The middleware: 429 with `Retry-After` when the client is over its quota.
pub async fn limit(State(rate): State<Arc<RateLimit>>, request: Request, next: Next) -> Response {
    let peer = request.extensions().get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip());
    let Some(ip) = peer.filter(|_| !super::is_probe(request.uri().path())) else {
        return next.run(request).await;
    };
    match rate.check(ip) {
        Ok(()) => next.run(request).await,
        Err(wait_ms) => {
            metrics::counter!(REJECTED_TOTAL, "reason" => "rate_limited").increment(1);
            tracing::debug!(path = %request.uri().path(), wait_ms, "request over the per-address rate limit");
            let retry_after = wait_ms.div_ceil(1000).max(1);
            let mut response =
                (StatusCode::TOO_MANY_REQUESTS, Json(json!({ "error": "too many requests from this address; retry later" })))
                    .into_response();
            if let Ok(v) = HeaderValue::from_str(&retry_after.to_string()) {
                response.headers_mut().insert(header::RETRY_AFTER, v);
            }
            response
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_each_client_apart() {
        let rate = RateLimit::new(RateQuota::new(1, 3).expect("quota"));
        let a: IpAddr = "192.0.2.1".parse().expect("ip");
        let b: IpAddr = "192.0.2.2".parse().expect("ip");
        let allowed = (0..10).filter(|_| rate.check(a).is_ok()).count();
        assert!((3..=4).contains(&allowed), "{allowed} of 10 allowed");
        assert!(rate.check(a).is_err());
        assert!(rate.check(b).is_ok(), "another client is served");
        assert!(RateQuota::new(0, 5).is_none());
    }
}
