//! `GET /health`, `GET /ready`, `GET /metrics`.

use std::sync::Arc;
use std::time::Instant;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::Json;
use serde_json::json;

use crate::app::AppState;

/// `GET /health` (liveness) → `{"status": "ok"|"degraded", "service":
/// "fluxion", "version", "database": {"status", "latency_ms"}, "sessions",
/// "calls", "draining"}`. Always 200 while the process runs (also while it
/// drains); `status` says whether the database answers, `sessions` counts
/// the HTTP and WhatsApp turns in progress on this instance (their
/// conversations live in the database), `calls` the phone calls in progress.
pub async fn health(State(state): State<Arc<AppState>>) -> impl IntoResponse {
    let t = Instant::now();
    let db = state.db_ok().await;
    let latency_ms = t.elapsed().as_secs_f64() * 1000.0;
    let (status, db_status) = match &db {
        Ok(()) => ("ok", json!({ "status": "ok", "latency_ms": latency_ms })),
        Err(e) => ("degraded", json!({ "status": "error", "error": e.message })),
    };
    Json(json!({
        "status": status,
        "service": "fluxion",
        "version": env!("CARGO_PKG_VERSION"),
        "business": state.engine().info().business.name,
        "vertical": state.engine().info().business.vertical,
        "database": db_status,
        "sessions": state.sessions.len(),
        "calls": state.lifecycle.gate().calls(),
        "draining": state.lifecycle.is_draining(),
    }))
}

/// `GET /ready` (readiness) → 200 `{"ready": true}` when the database
/// answers and the instance is not draining; else 503 `{"ready": false,
/// "draining": true}` (from the moment a shutdown signal arrives) or
/// `{"ready": false, "error"}`.
pub async fn ready(State(state): State<Arc<AppState>>) -> impl IntoResponse {
    if state.lifecycle.is_draining() {
        return (StatusCode::SERVICE_UNAVAILABLE, Json(json!({ "ready": false, "draining": true })));
    }
    match state.db_ok().await {
        Ok(()) => (StatusCode::OK, Json(json!({ "ready": true }))),
        Err(e) => (StatusCode::SERVICE_UNAVAILABLE, Json(json!({ "ready": false, "error": e.message }))),
    }
}

/// `GET /metrics` → Prometheus text format.
pub async fn metrics() -> impl IntoResponse {
    ([(axum::http::header::CONTENT_TYPE, "text/plain; version=0.0.4")], crate::observability::metrics_handle().render())
}
