//! What the receptionist did, for the console: `GET /api/calls?date=`,
//! `GET /api/callbacks`, `PATCH /api/callbacks/{id} {"done": true}`,
//! `GET /api/waitlist`, `GET /api/stats?from=&to=`.

use std::sync::Arc;

use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::Json;
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use fluxion_core::booking::Id;

use super::read::{engine, parse_date, utc_days, DateParam};
use super::ApiError;
use crate::app::AppState;
use crate::auth::Principal;
use crate::events::{Action, Kind};
use crate::store::CallRecord;

/// `GET /api/calls` answer.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CallList {
    /// The local day, `YYYY-MM-DD`.
    pub date: String,
    /// Its calls, newest first.
    pub calls: Vec<CallRecord>,
}

/// A request for the owner: a callback, a complaint or a privacy request.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CallbackView {
    /// Row id.
    pub id: Id,
    /// Handled.
    pub done: bool,
    /// The client, when known.
    pub client_id: Option<Id>,
    /// Number to call back (E.164), when known.
    pub phone: Option<String>,
    /// Conversation it came from.
    pub session_id: String,
    /// Why (the caller's last words).
    pub reason: String,
    /// When it was asked, RFC 3339 UTC.
    pub created_at: Timestamp,
}

/// `{"callbacks": […]}`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CallbackList {
    /// Oldest first.
    pub callbacks: Vec<CallbackView>,
}

/// `PATCH /api/callbacks/{id}` answer.
#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
pub struct CallbackClosed {
    /// Row id.
    pub id: Id,
    /// Always `true`.
    pub done: bool,
}

/// A waitlist entry.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct WaitlistView {
    /// Row id.
    pub id: Id,
    /// The client, when known.
    pub client_id: Option<Id>,
    /// Service wanted.
    pub service_id: Id,
    /// Preferred operator.
    pub operator_id: Option<Id>,
    /// Preferred local day (`YYYY-MM-DD`) or free text.
    pub preference: String,
    /// When it was asked, RFC 3339 UTC.
    pub created_at: Timestamp,
}

/// `{"waitlist": […]}`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Waitlist {
    /// The entries.
    pub waitlist: Vec<WaitlistView>,
}

/// `GET /api/calls?date=YYYY-MM-DD` (default today) → `{"date", "calls":
/// [{id, provider, call_sid, direction, caller, called, started_at,
/// ended_at, duration_ms, outcome, hangup_reason, turns, recording_path}]}`
/// of that local day, newest first.
pub async fn calls(
    State(state): State<Arc<AppState>>,
    p: Principal,
    q: Result<Query<DateParam>, QueryRejection>,
) -> Result<Json<CallList>, ApiError> {
    let Query(q) = q?;
    let engine = engine(&state, &p).await?;
    let date = parse_date(q.date.as_deref(), &state, &engine)?;
    let calls = p.tenant(&state).recent_calls(2_000).await?;
    let info = engine.info();
    let day: Vec<_> = calls.into_iter().filter(|c| info.local(c.started_at).date() == date).collect();
    Ok(Json(CallList { date: date.to_string(), calls: day }))
}

/// `GET /api/callbacks` → `{"callbacks": [{id, done, client_id, phone,
/// session_id, reason, created_at}]}`, oldest first.
pub async fn callbacks(State(state): State<Arc<AppState>>, p: Principal) -> Result<Json<CallbackList>, ApiError> {
    let list = p.tenant(&state).callback_requests(false).await?;
    let callbacks = list
        .into_iter()
        .map(|(id, r, open)| CallbackView {
            id,
            done: !open,
            client_id: r.client_id,
            phone: r.phone,
            session_id: r.session_id,
            reason: r.reason,
            created_at: r.created_at,
        })
        .collect();
    Ok(Json(CallbackList { callbacks }))
}

/// `PATCH /api/callbacks/{id}` body.
#[derive(Debug, Deserialize, ToSchema)]
pub struct CallbackPatch {
    /// Handled (only `true` is accepted).
    pub done: bool,
}

/// `PATCH /api/callbacks/{id} {"done": true}` → `{"id", "done": true}`.
pub async fn close_callback(
    State(state): State<Arc<AppState>>,
    p: Principal,
    Path(id): Path<Id>,
    body: Result<Json<CallbackPatch>, JsonRejection>,
) -> Result<Json<CallbackClosed>, ApiError> {
    let Json(b) = body?;
    if !b.done {
        return Err(ApiError::bad("done: only true is accepted"));
    }
    if !p.tenant(&state).close_callback_request(id).await? {
        return Err(ApiError::NotFound(format!("richiamata {id} inesistente")));
    }
    state.store.events().send(p.tenant, Kind::Callback, id, Action::Done);
    Ok(Json(CallbackClosed { id, done: true }))
}

/// `GET /api/waitlist` → `{"waitlist": [{id, client_id, service_id,
/// operator_id, preference, created_at}]}`.
pub async fn waitlist(State(state): State<Arc<AppState>>, p: Principal) -> Result<Json<Waitlist>, ApiError> {
    let list = p.tenant(&state).waitlist().await?;
    let waitlist = list
        .into_iter()
        .map(|(id, w)| WaitlistView {
            id,
            client_id: w.client_id,
            service_id: w.service_id,
            operator_id: w.operator_id,
            preference: w.preference,
            created_at: w.created_at,
        })
        .collect();
    Ok(Json(Waitlist { waitlist }))
}

/// `?from=YYYY-MM-DD&to=YYYY-MM-DD`.
#[derive(Debug, Deserialize, IntoParams)]
pub struct StatsParams {
    /// First day, ISO 8601 `YYYY-MM-DD` (default: 29 days before `to`).
    #[param(format = Date)]
    pub from: Option<String>,
    /// Last day, inclusive (default today; at most 366 days after `from`).
    #[param(format = Date)]
    pub to: Option<String>,
}

/// Reply latency percentiles, milliseconds (`null` without turns).
#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
pub struct Latency {
    /// Median, ms.
    pub p50: Option<f64>,
    /// 95th percentile, ms.
    pub p95: Option<f64>,
}

/// `GET /api/stats` answer. Pairs are `[key, count]`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct StatsView {
    /// First day, `YYYY-MM-DD`.
    pub from: String,
    /// Last day (inclusive), `YYYY-MM-DD`.
    pub to: String,
    /// Calls in the span.
    pub calls: i64,
    /// Calls that ended with a booking.
    pub calls_booked: i64,
    /// `calls_booked / calls` in `[0, 1]` (0 without calls).
    pub booking_rate: f64,
    /// `[local date, calls]` per day with calls.
    pub calls_per_day: Vec<(String, i64)>,
    /// `[local date, appointments]` per day, by the day they were made for.
    pub bookings_per_day: Vec<(String, i64)>,
    /// `[layer, caller turns]`: the NLU layer (L0–L4) that answered.
    pub turns_per_layer: Vec<(String, i64)>,
    /// Reply latencies.
    pub latency_ms: Latency,
    /// `[UTC hour "HH", calls]`.
    pub calls_per_hour_utc: Vec<(String, i64)>,
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
) -> Result<Json<StatsView>, ApiError> {
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
    Ok(Json(StatsView {
        from: from.to_string(),
        to: to.to_string(),
        calls: s.calls,
        calls_booked: s.calls_booked,
        booking_rate: rate,
        latency_ms: Latency { p50: percentile(&s.latencies_us, 0.5), p95: percentile(&s.latencies_us, 0.95) },
        calls_per_day: s.calls_per_day,
        bookings_per_day: s.bookings_per_day,
        turns_per_layer: s.turns_per_layer,
        calls_per_hour_utc: s.calls_per_hour_utc,
    }))
}
