//! Login rate limits: at most [`PER_USERNAME_PER_MINUTE`] attempts per
//! user name and [`PER_ADDRESS_PER_MINUTE`] per remote address (GCRA, the
//! `governor` crate), so guessing passwords is slow whichever is varied.

use std::net::{IpAddr, SocketAddr};
use std::num::NonZeroU32;

use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::request::Parts;
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

/// Login attempts allowed per user name per minute (the eleventh is refused).
pub const PER_USERNAME_PER_MINUTE: u32 = 10;
/// Login attempts allowed per remote address per minute.
pub const PER_ADDRESS_PER_MINUTE: u32 = 30;
/// Keys kept before old ones are swept.
const MAX_KEYS: usize = 10_000;

/// The login limiter of a server.
pub struct LoginLimiter {
    by_username: DefaultKeyedRateLimiter<String>,
    by_address: DefaultKeyedRateLimiter<IpAddr>,
}

impl Default for LoginLimiter {
    fn default() -> Self {
        let quota = |n: u32| Quota::per_minute(NonZeroU32::new(n).unwrap_or(NonZeroU32::MIN));
        LoginLimiter {
            by_username: RateLimiter::keyed(quota(PER_USERNAME_PER_MINUTE)),
            by_address: RateLimiter::keyed(quota(PER_ADDRESS_PER_MINUTE)),
        }
    }
}

impl LoginLimiter {
    /// Counts one attempt for `username` (case-insensitive) from `address`;
    /// whether it may go ahead.
    pub fn allow(&self, username: &str, address: Option<IpAddr>) -> bool {
        if self.by_username.len() > MAX_KEYS {
            self.by_username.retain_recent();
        }
        if self.by_address.len() > MAX_KEYS {
            self.by_address.retain_recent();
        }
        let user_ok = self.by_username.check_key(&username.trim().to_lowercase()).is_ok();
        let address_ok = address.is_none_or(|a| self.by_address.check_key(&a).is_ok());
        user_ok && address_ok
    }
}

/// The remote address of a request, when the server was started with
/// connection info (`app::serve_router` is).
#[derive(Debug, Clone, Copy)]
pub struct ClientAddr(pub Option<IpAddr>);

impl<S: Send + Sync> FromRequestParts<S> for ClientAddr {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Ok(ClientAddr(parts.extensions.get::<ConnectInfo<SocketAddr>>().map(|c| c.0.ip())))
    }
}
