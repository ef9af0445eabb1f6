//! The `Host` and `Origin` check against DNS rebinding and cross-site
//! requests: a request is answered only when its `Host` is one of the
//! configured names ([`AllowedHosts`]: `PUBLIC_URL`'s host, the localhost
//! names, `ALLOWED_HOSTS`) — else 421 Misdirected Request — and, when it
//! carries an `Origin` (a browser), only when that origin's host is allowed
//! too or the origin is in `CORS_ALLOWED_ORIGINS` — else 403. The probe
//! paths ([`super::PROBE_PATHS`]) are not checked.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{header, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;

use crate::observability::REJECTED_TOTAL;

/// Host names always allowed: this machine.
pub const LOCAL_HOSTS: &[&str] = &["localhost", "127.0.0.1", "::1"];

/// The host names a request may address (lower case, without port).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AllowedHosts {
    names: Vec<String>,
}

impl Default for AllowedHosts {
    /// The localhost names only.
    fn default() -> Self {
        AllowedHosts { names: LOCAL_HOSTS.iter().map(|s| s.to_string()).collect() }
    }
}

impl AllowedHosts {
    /// The localhost names, `public_url`'s host and `extra` (names or
    /// addresses, a port is ignored).
    ///
    /// # Errors
    /// `public_url` is not a URL with a host.
    pub fn new(public_url: Option<&str>, extra: &[String]) -> Result<Self, String> {
        let mut hosts = AllowedHosts::default();
        if let Some(url) = public_url {
            let parsed = url::Url::parse(url).map_err(|e| format!("'{url}' is not a URL: {e}"))?;
            let host = parsed.host_str().ok_or_else(|| format!("'{url}' has no host"))?;
            hosts.push(host);
        }
        for name in extra {
            hosts.push(&strip_port(name));
        }
        Ok(hosts)
    }

    fn push(&mut self, name: &str) {
        let name = name.trim_start_matches('[').trim_end_matches(']').to_ascii_lowercase();
        if !name.is_empty() && !self.names.contains(&name) {
            self.names.push(name);
        }
    }

    /// The names (lower case, IPv6 without brackets).
    pub fn names(&self) -> &[String] {
        &self.names
    }

    /// Whether a `Host` header value (`name`, `name:port`, `[v6]:port`) is
    /// allowed; any `*.localhost` name is (RFC 6761: it is this machine).
    pub fn allows(&self, host: &str) -> bool {
        let name = strip_port(host).to_ascii_lowercase();
        let name = name.trim_end_matches('.');
        name.ends_with(".localhost") || self.names.iter().any(|n| n == name)
    }
}

/// A `Host` value without its port (and an IPv6 address without brackets).
fn strip_port(host: &str) -> String {
    let host = host.trim();
    if let Some(rest) = host.strip_prefix('[') {
        return rest.split(']').next().unwrap_or_default().to_string();
    }
    match host.rsplit_once(':') {
        // One colon: name:port. More: a bare IPv6 address.
        Some((name, port)) if !name.contains(':') && port.chars().all(|c| c.is_ascii_digit()) => name.to_string(),
        _ => host.to_string(),
    }
}

/// The host of a serialized origin (`scheme://host[:port]`), or `None`
/// when it is not one (`null`, no scheme).
pub fn origin_host(origin: &str) -> Option<String> {
    let parsed = url::Url::parse(origin.trim()).ok()?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return None;
    }
    parsed.host_str().map(|h| h.trim_start_matches('[').trim_end_matches(']').to_ascii_lowercase())
}

/// What the check compares against.
#[derive(Debug)]
pub struct HostCheck {
    /// Allowed `Host` names (and origin hosts).
    pub hosts: AllowedHosts,
    /// Origins allowed besides those of the allowed hosts.
    pub cors_origins: Vec<String>,
}

impl HostCheck {
    /// Whether a browser from `origin` may call the API.
    fn allows_origin(&self, origin: &str) -> bool {
        let trimmed = origin.trim().trim_end_matches('/');
        self.cors_origins.iter().any(|o| o.trim_end_matches('/').eq_ignore_ascii_case(trimmed))
            || origin_host(trimmed).is_some_and(|h| self.hosts.allows(&h))
    }
}

/// The middleware: 421 for a `Host` not allowed (400 without one), 403 for
/// an `Origin` not allowed.
pub async fn check(State(check): State<Arc<HostCheck>>, request: Request, next: Next) -> Response {
    if super::is_probe(request.uri().path()) {
        return next.run(request).await;
    }
    let host = request.headers().get(header::HOST).and_then(|v| v.to_str().ok()).map(str::to_string).or_else(|| {
        // HTTP/2 and absolute-form requests name the host in the URI.
        request.uri().authority().map(|a| a.as_str().to_string())
    });
    let Some(host) = host else {
        return refuse(StatusCode::BAD_REQUEST, "missing_host", "the request has no Host header");
    };
    if !check.hosts.allows(&host) {
        tracing::info!(path = %request.uri().path(), "request for a host name not configured (ALLOWED_HOSTS, PUBLIC_URL)");
        return refuse(StatusCode::MISDIRECTED_REQUEST, "host_not_allowed", "this server does not answer for that host name");
    }
    if let Some(origin) = request.headers().get(header::ORIGIN) {
        let allowed = origin.to_str().is_ok_and(|o| check.allows_origin(o));
        if !allowed {
            tracing::info!(path = %request.uri().path(), "cross-origin request refused (CORS_ALLOWED_ORIGINS)");
            return refuse(StatusCode::FORBIDDEN, "origin_not_allowed", "requests from that web origin are not allowed");
        }
    }
    next.run(request).await
}

fn refuse(status: StatusCode, reason: &'static str, message: &str) -> Response {
    metrics::counter!(REJECTED_TOTAL, "reason" => reason).increment(1);
    (status, Json(json!({ "error": message }))).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allows_configured_and_local_hosts_only() {
        let hosts = AllowedHosts::new(Some("https://salone.example.it"), &["fluxion.lan:8080".to_string(), "[fd00::5]".to_string()])
            .expect("hosts");
        for ok in [
            "localhost",
            "LOCALHOST:3002",
            "127.0.0.1:3002",
            "[::1]:3002",
            "::1",
            "salone.example.it",
            "app.localhost",
            "fluxion.lan",
            "[fd00::5]:80",
        ] {
            assert!(hosts.allows(ok), "{ok}");
        }
        for bad in ["evil.example", "salone.example.it.evil.example", "127.0.0.2", "localhost.evil.example", "", "10.0.0.1:3002"] {
            assert!(!hosts.allows(bad), "{bad}");
        }
        assert!(AllowedHosts::new(Some("not a url"), &[]).is_err());
    }

    #[test]
    fn checks_origins() {
        let check = HostCheck { hosts: AllowedHosts::default(), cors_origins: vec!["https://app.example.it".into()] };
        assert!(check.allows_origin("http://localhost:3002"));
        assert!(check.allows_origin("http://127.0.0.1:5173"));
        assert!(check.allows_origin("https://app.example.it"));
        assert!(!check.allows_origin("https://evil.example"));
        assert!(!check.allows_origin("null"));
        assert_eq!(origin_host("http://[::1]:3002").as_deref(), Some("::1"));
    }
}
