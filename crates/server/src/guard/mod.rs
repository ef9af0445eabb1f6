//! Guards of the HTTP server against exhaustion and cross-site use, built
//! once from configuration ([`HttpGuard`]) and applied in one place
//! ([`crate::app::serve_guarded`]):
//!
//! - [`accept`]: the accept loop — a time limit on request headers (hyper's
//!   `header_read_timeout`) and a cap on open connections in total and per
//!   remote address, so slow or half-sent requests cannot hold the server's
//!   file descriptors;
//! - [`HttpGuard::layer`]: a time limit on request bodies, per-address rate
//!   limits ([`rate`], the `governor` crate), the `Host`/`Origin` check
//!   ([`host`]) and CORS only when `CORS_ALLOWED_ORIGINS` is set.
//!
//! Settings (environment or configuration file, see [`crate::config`]):
//! `HTTP_HEADER_TIMEOUT_MS`, `HTTP_BODY_TIMEOUT_MS` (30 000 each),
//! `HTTP_MAX_CONNECTIONS` (2 048), `HTTP_MAX_CONNECTIONS_PER_IP` (256),
//! `HTTP_RATE_PER_SECOND` (20 requests per second and address, 0 = no limit),
//! `HTTP_RATE_BURST` (200), `ALLOWED_HOSTS` and `CORS_ALLOWED_ORIGINS`
//! (comma-separated), `PUBLIC_URL` (its host is allowed).
//!
//! An IPv6 client counts as its /64 network (one subscriber's allocation),
//! an IPv4-mapped IPv6 address as the IPv4 address.

pub mod accept;
pub mod host;
pub mod rate;

use std::net::{IpAddr, Ipv6Addr};
use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

use axum::http::{header, HeaderValue, Method};
use axum::Router;

pub use host::AllowedHosts;
pub use rate::RateQuota;

/// Default time limit for a request's headers and for its body, ms.
pub const DEFAULT_TIMEOUT_MS: u64 = 30_000;
/// Default cap on open HTTP connections.
pub const DEFAULT_MAX_CONNECTIONS: usize = 2_048;
/// Default cap on open HTTP connections from one address.
pub const DEFAULT_MAX_CONNECTIONS_PER_IP: usize = 256;
/// Default sustained request rate per address, requests per second.
pub const DEFAULT_RATE_PER_SECOND: u32 = 20;
/// Default burst of requests per address above the sustained rate.
pub const DEFAULT_RATE_BURST: u32 = 200;

/// Paths never rate-limited nor host-checked: liveness and readiness probes
/// and the Prometheus scrape (they carry no personal data).
pub const PROBE_PATHS: &[&str] = &["/health", "/ready", "/metrics"];

/// The HTTP server's limits and checks.
#[derive(Debug, Clone)]
pub struct HttpGuard {
    /// Time a client has to send a request's headers (also an idle
    /// keep-alive connection's time to start the next request).
    pub header_timeout: Duration,
    /// Time a client has to send a request's body.
    pub body_timeout: Duration,
    /// Open connections in total; more are closed at once.
    pub max_connections: usize,
    /// Open connections per address (see [`client_key`]); more are closed at once.
    pub max_connections_per_ip: usize,
    /// Requests per address; `None`: no rate limit.
    pub rate: Option<RateQuota>,
    /// Host names the API and console answer to.
    pub hosts: AllowedHosts,
    /// Browser origins allowed cross-origin (CORS); empty: no CORS headers.
    pub cors_origins: Vec<String>,
}

impl Default for HttpGuard {
    /// The defaults above, hosts: the localhost names only.
    fn default() -> Self {
        HttpGuard {
            header_timeout: Duration::from_millis(DEFAULT_TIMEOUT_MS),
            body_timeout: Duration::from_millis(DEFAULT_TIMEOUT_MS),
            max_connections: DEFAULT_MAX_CONNECTIONS,
            max_connections_per_ip: DEFAULT_MAX_CONNECTIONS_PER_IP,
            rate: Some(RateQuota::new(DEFAULT_RATE_PER_SECOND, DEFAULT_RATE_BURST).unwrap_or(RateQuota::MIN)),
            hosts: AllowedHosts::default(),
            cors_origins: Vec::new(),
        }
    }
}

/// A guard setting that cannot be used.
#[derive(Debug, thiserror::Error)]
#[error("{name}: {message}")]
pub struct GuardError {
    /// The setting.
    pub name: &'static str,
    /// What is wrong with it.
    pub message: String,
}

impl HttpGuard {
    /// The guard configured by the environment (see the module docs).
    ///
    /// # Errors
    /// See [`HttpGuard::from_lookup`].
    pub fn from_env() -> Result<Self, GuardError> {
        Self::from_lookup(|k| std::env::var(k).ok())
    }

    /// The guard configured by `get` (setting name → value; absent or
    /// empty: the default).
    ///
    /// # Errors
    /// A number that does not parse or is zero where zero makes no sense,
    /// a `PUBLIC_URL` without a host, an origin without a scheme.
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Self, GuardError> {
        let get = |k: &str| get(k).map(|v| v.trim().to_string()).filter(|v| !v.is_empty());
        let number = |name: &'static str, default: u64| -> Result<u64, GuardError> {
            match get(name) {
                None => Ok(default),
                Some(v) => v.parse::<u64>().map_err(|_| GuardError { name, message: format!("'{v}' is not a whole number") }),
            }
        };
        let positive = |name: &'static str, default: u64| -> Result<u64, GuardError> {
            match number(name, default)? {
                0 => Err(GuardError { name, message: "must be greater than 0".into() }),
                n => Ok(n),
            }
        };
        let per_second = number("HTTP_RATE_PER_SECOND", u64::from(DEFAULT_RATE_PER_SECOND))?;
        let burst = positive("HTTP_RATE_BURST", u64::from(DEFAULT_RATE_BURST))?;
        let rate = match per_second {
            0 => None,
            n => Some(
                RateQuota::new(u32::try_from(n).unwrap_or(u32::MAX), u32::try_from(burst).unwrap_or(u32::MAX))
                    .ok_or(GuardError { name: "HTTP_RATE_PER_SECOND", message: "out of range".into() })?,
            ),
        };
        let list = |name: &str| -> Vec<String> {
            get(name).map(|v| v.split(',').map(|s| s.trim().to_string()).filter(|s| !s.is_empty()).collect()).unwrap_or_default()
        };
        let public = get("PUBLIC_URL");
        let hosts =
            AllowedHosts::new(public.as_deref(), &list("ALLOWED_HOSTS")).map_err(|message| GuardError { name: "PUBLIC_URL", message })?;
        let cors_origins = list("CORS_ALLOWED_ORIGINS");
        if let Some(bad) = cors_origins.iter().find(|o| host::origin_host(o).is_none()) {
            return Err(GuardError { name: "CORS_ALLOWED_ORIGINS", message: format!("'{bad}' is not an origin like https://example.it") });
        }
        let max = |name: &'static str, default: usize| -> Result<usize, GuardError> {
            positive(name, default as u64).map(|n| usize::try_from(n).unwrap_or(usize::MAX))
        };
        Ok(HttpGuard {
            header_timeout: Duration::from_millis(positive("HTTP_HEADER_TIMEOUT_MS", DEFAULT_TIMEOUT_MS)?),
            body_timeout: Duration::from_millis(positive("HTTP_BODY_TIMEOUT_MS", DEFAULT_TIMEOUT_MS)?),
            max_connections: max("HTTP_MAX_CONNECTIONS", DEFAULT_MAX_CONNECTIONS)?,
            max_connections_per_ip: max("HTTP_MAX_CONNECTIONS_PER_IP", DEFAULT_MAX_CONNECTIONS_PER_IP)?,
            rate,
            hosts,
            cors_origins,
        })
    }

    /// `router` with the request-level guards, outermost first: the
    /// `Host`/`Origin` check, the per-address rate limit, CORS (only with
    /// configured origins), the body time limit. Connection-level limits are
    /// applied by [`accept::serve`].
    pub fn layer(&self, router: Router) -> Router {
        let router = router.layer(tower_http::timeout::RequestBodyTimeoutLayer::new(self.body_timeout));
        let router = match self.cors() {
            Some(cors) => router.layer(cors),
            None => router,
        };
        let router = match self.rate {
            Some(quota) => router.layer(axum::middleware::from_fn_with_state(Arc::new(rate::RateLimit::new(quota)), rate::limit)),
            None => router,
        };
        let check = Arc::new(host::HostCheck { hosts: self.hosts.clone(), cors_origins: self.cors_origins.clone() });
        router.layer(axum::middleware::from_fn_with_state(check, host::check))
    }

    /// The CORS layer for the configured origins, or `None` (no CORS headers:
    /// browsers keep other sites out).
    fn cors(&self) -> Option<tower_http::cors::CorsLayer> {
        let origins: Vec<HeaderValue> =
            self.cors_origins.iter().filter_map(|o| HeaderValue::from_str(o.trim_end_matches('/')).ok()).collect();
        if origins.is_empty() {
            return None;
        }
        Some(
            tower_http::cors::CorsLayer::new()
                .allow_origin(origins)
                .allow_methods([Method::GET, Method::POST, Method::PUT, Method::PATCH, Method::DELETE])
                .allow_headers([header::CONTENT_TYPE, header::AUTHORIZATION])
                .max_age(Duration::from_secs(600)),
        )
    }

    /// The browser origins the MCP HTTP server accepts in `Origin` (the MCP
    /// specification asks servers to validate it against DNS rebinding):
    /// every allowed host on any port, over http and https, plus the CORS
    /// origins.
    pub fn mcp_origins(&self) -> Vec<String> {
        let mut out: Vec<String> = self
            .hosts
            .names()
            .iter()
            .flat_map(|h| {
                let h = if h.contains(':') { format!("[{h}]") } else { h.clone() };
                [format!("http://{h}:*"), format!("https://{h}:*")]
            })
            .collect();
        out.extend(self.cors_origins.iter().cloned());
        out
    }
}

/// The key one client is counted under: an IPv4 address, or an IPv6
/// address's /64 network (an IPv4-mapped IPv6 address is its IPv4 address).
pub fn client_key(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(_) => ip,
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let s = v6.segments();
                IpAddr::V6(Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0))
            }
        },
    }
}

/// Whether `path` is a probe path ([`PROBE_PATHS`]).
fn is_probe(path: &str) -> bool {
    PROBE_PATHS.contains(&path)
}

/// `n` as a non-zero `u32`, or `None` for zero.
fn non_zero(n: u32) -> Option<NonZeroU32> {
    NonZeroU32::new(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lookup<'a>(pairs: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
        move |k| pairs.iter().find(|(n, _)| *n == k).map(|(_, v)| v.to_string())
    }

    #[test]
    fn reads_settings_and_defaults() {
        let g = HttpGuard::from_lookup(lookup(&[])).expect("defaults");
        assert_eq!(g.header_timeout, Duration::from_secs(30));
        assert_eq!(g.body_timeout, Duration::from_secs(30));
        assert_eq!(g.max_connections, DEFAULT_MAX_CONNECTIONS);
        assert!(g.rate.is_some());
        assert!(g.cors_origins.is_empty());
        let g = HttpGuard::from_lookup(lookup(&[
            ("HTTP_HEADER_TIMEOUT_MS", "500"),
            ("HTTP_RATE_PER_SECOND", "0"),
            ("PUBLIC_URL", "https://Salone.Example.it/base"),
            ("ALLOWED_HOSTS", "fluxion.lan, 10.0.0.5"),
            ("CORS_ALLOWED_ORIGINS", "https://app.example.it"),
        ]))
        .expect("settings");
        assert_eq!(g.header_timeout, Duration::from_millis(500));
        assert!(g.rate.is_none());
        assert!(g.hosts.allows("salone.example.it"));
        assert!(g.hosts.allows("fluxion.lan:3002"));
        assert!(g.hosts.allows("10.0.0.5"));
        assert_eq!(g.cors_origins, ["https://app.example.it"]);
        assert!(g.mcp_origins().contains(&"http://localhost:*".to_string()));
        assert!(g.mcp_origins().contains(&"https://app.example.it".to_string()));
        for bad in [("HTTP_BODY_TIMEOUT_MS", "0"), ("HTTP_MAX_CONNECTIONS", "many"), ("CORS_ALLOWED_ORIGINS", "example.it")] {
            let err = HttpGuard::from_lookup(lookup(&[bad])).expect_err(bad.0);
            assert_eq!(err.name, bad.0);
        }
    }

    #[test]
    fn ipv6_clients_count_by_network() {
        let a: IpAddr = "2001:db8:1:2:aaaa::1".parse().expect("ip");
        let b: IpAddr = "2001:db8:1:2:bbbb::9".parse().expect("ip");
        let c: IpAddr = "2001:db8:1:3::1".parse().expect("ip");
        assert_eq!(client_key(a), client_key(b));
        assert_ne!(client_key(a), client_key(c));
        let mapped: IpAddr = "::ffff:192.0.2.7".parse().expect("ip");
        assert_eq!(client_key(mapped), "192.0.2.7".parse::<IpAddr>().expect("ip"));
    }
}
