//! What the receptionist did, for the console: `GET /api/calls?date=`,
//! `GET /api/callbacks`, `PATCH /api/callbacks/{id} {"done": true}`,
//! `GET /api/waitlist`, `GET /api/stats?from=&to=`.

use std::sync::Arc;

use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};

use fluxion_core::booking::Id;

use super::read::{engine, parse_date, utc_days, DateParam};
use super::ApiError;
use crate::app::AppState;
use crate::auth::Principal;
use crate::events::{Action, Kind};

/// `GET /api/calls?date=YYYY-MM-DD` (default today) → `{"date", "calls":
/// [{id, provider, call_sid, direction, caller, called, started_at,
/// ended_at, duration_ms, outcome, hangup_reason, turns, recording_path}]}`
/// of that local day, newest first.
pub async fn calls(
    State(state): State<Arc<AppState>>,
    p: Principal,
    q: Result<Query<DateParam>, QueryRejection>,
) -> Result<Json<Value>, ApiError> {
    let Query(q) = q?;
    let engine = engine(&state, &p).await?;
    let date = parse_date(q.date.as_deref(), &state, &engine)?;
    let calls = p.tenant(&state).recent_calls(2_000).await?;
    let info = engine.info();
    let day: Vec<_> = calls.into_iter().filter(|c| info.local(c.started_at).date() == date).collect();
    Ok(Json(json!({ "date": date.to_string(), "calls": day })))
}

/// `GET /api/callbacks` → `{"callbacks": [{id, done, client_id, phone,
/// session_id, reason, created_at}]}`, oldest first.
pub async fn callbacks(State(state): State<Arc<AppState>>, p: Principal) -> Result<Json<Value>, ApiError> {
    let list = p.tenant(&state).callback_requests(false).await?;
    let out: Vec<Value> = list
        .into_iter()
        .map(|(id, r, open)| {
            json!({ "id": id, "done": !open, "client_id": r.client_id, "phone": r.phone, "session_id": r.session_id,
                    "reason": r.reason, "created_at": r.created_at })
        })
        .collect();
    Ok(Json(json!({ "callbacks": out })))
}

/// `PATCH /api/callbacks/{id}` body.
#[derive(Debug, Deserialize)]
pub struct CallbackPatch {
    /// Handled.
    pub done: bool,
}

/// `PATCH /api/callbacks/{id} {"done": true}` → `{"id", "done": true}`.
pub async fn close_callback(
    State(state): State<Arc<AppState>>,
    p: Principal,
    Path(id): Path<Id>,
    body: Result<Json<CallbackPatch>, JsonRejection>,
) -> Result<Json<Value>, ApiError> {
    let Json(b) = body?;
    if !b.done {
        return Err(ApiError::bad("done: only true is accepted"));
    }
    if !p.tenant(&state).close_callback_request(id).await? {
        return Err(ApiError::NotFound(format!("richiamata {id} inesistente")));
    }
    state.store.events().send(p.tenant, Kind::Callback, id, Action::Done);
    Ok(Json(json!({ "id": id, "done": true })))
}

/// `GET /api/waitlist` → `{"waitlist": [{id, client_id, service_id,
/// operator_id, preference, created_at}]}`.
pub async fn waitlist(State(state): State<Arc<AppState>>, p: Principal) -> Result<Json<Value>, ApiError> {
    let list = p.tenant(&state).waitlist().await?;
    let out: Vec<Value> = list
        .into_iter()
        .map(|(id, w)| {
            json!({ "id": id, "client_id": w.client_id, "service_id": w.service_id, "operator_id": w.operator_id,
                    "preference": w.preference, "created_at": w.created_at })
        })
        .collect();
    Ok(Json(json!({ "waitlist": out })))
}

/// `?from=YYYY-MM-DD&to=YYYY-MM-DD`.
#[derive(Debug, Deserialize)]
pub struct StatsParams {
    /// First day (default: 29 days before `to`).
    pub from: Option<String>,
    /// Last day (default today).
    pub to: Option<String>,
}

fn percentile(sorted: &[i64], q: f64) -> Option<f64> {
    if sorted.is_empty() {
        return None;
    }
    let i = ((sorted.len() - 1) as f64 * q).round() as usize;
    sorted.get(i).map(|us| *us as f64 / 1000.0)
}

/// `GET /api/stats?from=&to=` → `{"from", "to", "calls", "calls_booked",
/// "booking_rate", "calls_per_day": [[date, n]], "bookings_per_day",
/// "turns_per_layer": [[layer, n]], "latency_ms": {"p50", "p95"},
/// "calls_per_hour_utc": [[hour, n]]}`.
pub async fn stats(
    State(state): State<Arc<AppState>>,
    p: Principal,
    q: Result<Query<StatsParams>, QueryRejection>,
) -> Result<Json<Value>, ApiError> {
    let Query(q) = q?;
    let engine = engine(&state, &p).await?;
    let to = parse_date(q.to.as_deref(), &state, &engine)?;
    let from = match q.from.as_deref() {
        Some(f) => parse_date(Some(f), &state, &engine)?,
        None => to.checked_sub(jiff::Span::new().days(29)).map_err(|e| ApiError::bad(e.to_string()))?,
    };
    if to < from || (to - from).get_days() > 366 {
        return Err(ApiError::bad("from/to: at most 366 days, from before to"));
    }
    let (a, b) = utc_days(&engine, from, to)?;
    let s = p.tenant(&state).stats(&a, &b, &from.to_string(), &to.to_string()).await?;
    let rate = if s.calls > 0 { s.calls_booked as f64 / s.calls as f64 } else { 0.0 };
    Ok(Json(json!({
        "from": from.to_string(),
        "to": to.to_string(),
        "calls": s.calls,
        "calls_booked": s.calls_booked,
        "booking_rate": rate,
        "calls_per_day": s.calls_per_day,
        "bookings_per_day": s.bookings_per_day,
        "turns_per_layer": s.turns_per_layer,
        "latency_ms": { "p50": percentile(&s.latencies_us, 0.5), "p95": percentile(&s.latencies_us, 0.95) },
        "calls_per_hour_utc": s.calls_per_hour_utc,
    })))
}
