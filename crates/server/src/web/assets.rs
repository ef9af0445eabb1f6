//! The console's static files (own CSS and JS, vendored libraries with
//! their licences), embedded in the binary and served under `/static/`.
//!
//! Vendored files live under `vendor/<package>-<version>/` (see
//! `scripts/vendor-web.sh`): their URL changes with the version, so they are
//! cached for a year as immutable. Own files are cached for an hour and
//! revalidated with an `ETag` (SHA-256 of the bytes); pages also link them
//! with `?v=<`[`version`]`>` so a new build is fetched at once.

use std::sync::OnceLock;

use axum::extract::Path;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};

/// One embedded file.
struct Asset {
    /// Path under `/static/`.
    path: &'static str,
    /// The bytes.
    bytes: &'static [u8],
    /// `Content-Type`.
    mime: &'static str,
}

macro_rules! asset {
    ($path:literal, $mime:expr) => {
        Asset { path: $path, bytes: include_bytes!(concat!("static/", $path)), mime: $mime }
    };
}

const JS: &str = "text/javascript; charset=utf-8";
const CSS: &str = "text/css; charset=utf-8";
const TEXT: &str = "text/plain; charset=utf-8";

/// Every file served under `/static/`.
static ASSETS: &[Asset] = &[
    asset!("console.css", CSS),
    asset!("js/console.js", JS),
    asset!("js/login.js", JS),
    asset!("js/setup.js", JS),
    asset!("js/oggi.js", JS),
    asset!("js/calendario.js", JS),
    asset!("js/crud.js", JS),
    asset!("js/clienti.js", JS),
    asset!("js/chiamate.js", JS),
    asset!("js/chiamata.js", JS),
    asset!("js/servizi.js", JS),
    asset!("js/operatori.js", JS),
    asset!("js/orari.js", JS),
    asset!("js/faq.js", JS),
    asset!("js/impostazioni.js", JS),
    asset!("js/statistiche.js", JS),
    asset!("js/stato.js", JS),
    asset!("vendor/fullcalendar-6.1.22/index.global.min.js", JS),
    asset!("vendor/fullcalendar-6.1.22/it.global.min.js", JS),
    asset!("vendor/fullcalendar-6.1.22/LICENSE.md", TEXT),
    asset!("vendor/chart.js-4.6.2/chart.umd.min.js", JS),
    asset!("vendor/chart.js-4.6.2/LICENSE.md", TEXT),
    asset!("vendor/SHA256SUMS", TEXT),
];

fn find(path: &str) -> Option<&'static Asset> {
    ASSETS.iter().find(|a| a.path == path)
}

fn etag(bytes: &[u8]) -> String {
    let digest = Sha256::digest(bytes);
    let hex: String = digest.iter().take(10).map(|b| format!("{b:02x}")).collect();
    format!("\"{hex}\"")
}

/// A short fingerprint of every embedded file (hex), used as `?v=` in the
/// pages' links.
pub fn version() -> &'static str {
    static VERSION: OnceLock<String> = OnceLock::new();
    VERSION.get_or_init(|| {
        let mut h = Sha256::new();
        for a in ASSETS {
            h.update(a.path.as_bytes());
            h.update(a.bytes);
        }
        h.finalize().iter().take(6).map(|b| format!("{b:02x}")).collect()
    })
}

/// `GET /static/{*path}`: the embedded file with its type and cache headers;
/// 304 when `If-None-Match` names its current `ETag`; 404 otherwise.
pub async fn serve(Path(path): Path<String>, headers: HeaderMap) -> Response {
    let Some(asset) = find(&path) else {
        return (StatusCode::NOT_FOUND, [(header::CONTENT_TYPE, TEXT)], "file non trovato").into_response();
    };
    let tag = etag(asset.bytes);
    let cache = if asset.path.starts_with("vendor/") { "public, max-age=31536000, immutable" } else { "public, max-age=3600" };
    let fresh = headers.get(header::IF_NONE_MATCH).and_then(|v| v.to_str().ok()).is_some_and(|v| v.split(',').any(|t| t.trim() == tag));
    let mut response = if fresh { StatusCode::NOT_MODIFIED.into_response() } else { asset.bytes.into_response() };
    let h = response.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(asset.mime));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    if let Ok(v) = HeaderValue::from_str(&tag) {
        h.insert(header::ETAG, v);
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_asset_is_found_with_a_type() {
        for a in ASSETS {
            assert!(find(a.path).is_some());
            assert!(!a.bytes.is_empty(), "{} is empty", a.path);
            assert!([JS, CSS, TEXT].contains(&a.mime), "{}", a.path);
        }
        assert!(find("../Cargo.toml").is_none());
    }
}
