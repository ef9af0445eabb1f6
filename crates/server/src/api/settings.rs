//! The business's settings for its owner: details and booking rules
//! (`GET/PUT /api/business`), opening hours with breaks (`GET/PUT
//! /api/hours`) and closures (`GET/POST /api/closures`, `DELETE
//! /api/closures/{id}`). Writes are the owner's (403 for staff) and rebuild
//! the receptionist's engine, so the next turn uses them.

use std::sync::Arc;

use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use fluxion_core::booking::{BookingRules, Closure, Id, Repository, TimeRange, Vertical, WeeklyHours};

use super::{reload, ApiError};
use crate::app::AppState;
use crate::auth::Principal;

/// A number that routes to the business.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct NumberView {
    /// `phone` (a number callers dial) or `whatsapp` (a WhatsApp
    /// phone-number id).
    pub kind: crate::store::NumberKind,
    /// The number (E.164) or id.
    pub value: String,
}

/// The business as `GET /api/business` shows it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct BusinessView {
    /// The business (tenant id).
    pub id: Id,
    /// Public name.
    pub name: String,
    /// Kind of business.
    pub vertical: Vertical,
    /// IANA time zone (`Europe/Rome`).
    pub timezone: String,
    /// Street address as spoken to callers.
    pub address: String,
    /// Business phone, E.164.
    pub phone: String,
    /// Booking rules.
    pub rules: BookingRules,
    /// Numbers that route calls and messages to it.
    pub numbers: Vec<NumberView>,
}

/// `GET /api/business` → `{id, name, vertical, timezone, address, phone,
/// rules: {buffer_min, min_notice_min, horizon_days, slot_step_min,
/// closed_on_public_holidays}, numbers: [{kind, value}]}`.
pub async fn business(State(state): State<Arc<AppState>>, p: Principal) -> Result<Json<BusinessView>, ApiError> {
    let t = p.tenant(&state);
    let b = t.business().await.map_err(|e| ApiError::NotFound(e.to_string()))?;
    let numbers: Vec<NumberView> = state
        .store
        .tenants()
        .await?
        .into_iter()
        .filter(|x| x.id == p.tenant)
        .flat_map(|x| x.numbers)
        .map(|(kind, value)| NumberView { kind, value })
        .collect();
    Ok(Json(BusinessView {
        id: p.tenant,
        name: b.name,
        vertical: b.vertical,
        timezone: b.timezone,
        address: b.address,
        phone: b.phone,
        rules: b.rules,
        numbers,
    }))
}

/// `PUT /api/business` body: the fields to change (absent: unchanged).
#[derive(Debug, Deserialize, ToSchema)]
pub struct BusinessUpdate {
    /// Public name (not empty).
    pub name: Option<String>,
    /// Street address.
    pub address: Option<String>,
    /// Business phone (E.164 or Italian national format; empty: unchanged).
    pub phone: Option<String>,
    /// IANA time zone (`Europe/Rome`).
    pub timezone: Option<String>,
    /// Booking rules (all of them; `slot_step_min` and `horizon_days`
    /// positive).
    pub rules: Option<BookingRules>,
}

/// `PUT /api/business` → the business as `GET` shows it.
///
/// Errors: 403 staff; 422 an empty name, an unknown time zone or a bad phone.
pub async fn update_business(
    State(state): State<Arc<AppState>>,
    p: Principal,
    body: Result<Json<BusinessUpdate>, JsonRejection>,
) -> Result<Json<BusinessView>, ApiError> {
    p.require_owner()?;
    let Json(u) = body?;
    let t = p.tenant(&state);
    let mut b = t.business().await.map_err(|e| ApiError::NotFound(e.to_string()))?;
    if let Some(n) = u.name.map(|n| n.trim().to_string()) {
        if n.is_empty() {
            return Err(invalid("il nome dell'attività non può essere vuoto"));
        }
        b.name = n;
    }
    if let Some(a) = u.address {
        b.address = a.trim().to_string();
    }
    if let Some(ph) = u.phone.filter(|x| !x.trim().is_empty()) {
        b.phone = fluxion_core::nlu::l2_slots::normalize_phone(&ph).ok_or_else(|| invalid(format!("numero non valido: '{ph}'")))?;
    }
    if let Some(tz) = u.timezone {
        jiff::tz::TimeZone::get(tz.trim()).map_err(|_| invalid(format!("fuso orario sconosciuto: '{tz}'")))?;
        b.timezone = tz.trim().to_string();
    }
    if let Some(r) = u.rules {
        if r.slot_step_min == 0 || r.horizon_days == 0 {
            return Err(invalid("passo degli orari e orizzonte di prenotazione devono essere positivi"));
        }
        b.rules = r;
    }
    t.update_business(&b).await?;
    reload(&state, &p).await?;
    business(State(state), p).await
}

/// A 422 with an Italian message.
pub fn invalid(m: impl Into<String>) -> ApiError {
    ApiError::BadRequest { status: StatusCode::UNPROCESSABLE_ENTITY, message: m.into() }
}

/// `GET /api/hours` → `{"hours": [{"weekday": "monday", "range": {"start":
/// "09:00:00", "end": "13:00:00"}}, …]}` (several per day for breaks).
pub async fn hours(State(state): State<Arc<AppState>>, p: Principal) -> Result<Json<HoursBody>, ApiError> {
    let b = p.tenant(&state).business().await.map_err(|e| ApiError::NotFound(e.to_string()))?;
    Ok(Json(HoursBody { hours: b.hours }))
}

/// The opening hours: `PUT /api/hours` body and the answer of both.
#[derive(Debug, Deserialize, Serialize, ToSchema)]
pub struct HoursBody {
    /// The whole week: intervals per weekday, several a day for breaks; a
    /// weekday without one is closed.
    pub hours: Vec<WeeklyHours>,
}

/// `PUT /api/hours {"hours": […]}` replaces the opening hours.
///
/// Errors: 403 staff; 422 an interval that ends before it starts or
/// overlaps another of its day.
pub async fn set_hours(
    State(state): State<Arc<AppState>>,
    p: Principal,
    body: Result<Json<HoursBody>, JsonRejection>,
) -> Result<Json<HoursBody>, ApiError> {
    p.require_owner()?;
    let Json(HoursBody { hours }) = body?;
    check_hours(&hours)?;
    p.tenant(&state).set_opening_hours(&hours).await?;
    reload(&state, &p).await?;
    Ok(Json(HoursBody { hours }))
}

/// Checks weekly intervals: each ends after it starts, none overlaps
/// another of its day.
///
/// # Errors
/// 422 naming the bad interval.
pub fn check_hours(hours: &[WeeklyHours]) -> Result<(), ApiError> {
    for (i, h) in hours.iter().enumerate() {
        if h.range.end <= h.range.start {
            return Err(invalid(format!("orario {}–{}: la fine deve seguire l'inizio", h.range.start, h.range.end)));
        }
        if hours[..i].iter().any(|o| o.weekday == h.weekday && o.range.start < h.range.end && h.range.start < o.range.end) {
            return Err(invalid(format!("orario {}–{} sovrapposto a un altro dello stesso giorno", h.range.start, h.range.end)));
        }
    }
    Ok(())
}

/// Checks a closure or absence: the last day is not before the first, a
/// part-day range ends after it starts.
///
/// # Errors
/// 422.
pub fn check_closure(c: &Closure) -> Result<(), ApiError> {
    if c.to < c.from {
        return Err(invalid(format!("dal {} al {}: la fine precede l'inizio", c.from, c.to)));
    }
    if c.range.is_some_and(|r| r.end <= r.start) {
        return Err(invalid("la fascia oraria deve finire dopo l'inizio"));
    }
    Ok(())
}

/// A closure or absence with its id.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ClosureView {
    /// Row id.
    pub id: Id,
    /// First closed day (inclusive), ISO 8601 `YYYY-MM-DD`.
    pub from: jiff::civil::Date,
    /// Last closed day (inclusive), ISO 8601 `YYYY-MM-DD`.
    pub to: jiff::civil::Date,
    /// Part of each day closed; `null`: the whole day.
    pub range: Option<TimeRange>,
    /// Why ("Ferie estive").
    pub reason: String,
}

/// `{"closures": […]}`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ClosureList {
    /// By first day.
    pub closures: Vec<ClosureView>,
}

/// A closure or absence with its id.
pub fn closure_view(id: Id, c: &Closure) -> ClosureView {
    ClosureView { id, from: c.from, to: c.to, range: c.range, reason: c.reason.clone() }
}

/// `GET /api/closures` → `{"closures": [{id, from, to, range, reason}]}`.
pub async fn closures(State(state): State<Arc<AppState>>, p: Principal) -> Result<Json<ClosureList>, ApiError> {
    let list = p.tenant(&state).closures_with_ids().await?;
    Ok(Json(ClosureList { closures: list.iter().map(|(id, c)| closure_view(*id, c)).collect() }))
}

/// `POST /api/closures {from, to, range?: {start, end}, reason}` → 201
/// `{id, …}`.
pub async fn add_closure(
    State(state): State<Arc<AppState>>,
    p: Principal,
    body: Result<Json<Closure>, JsonRejection>,
) -> Result<(StatusCode, Json<ClosureView>), ApiError> {
    p.require_owner()?;
    let Json(c) = body?;
    check_closure(&c)?;
    let id = p.tenant(&state).add_closure(&c).await?;
    reload(&state, &p).await?;
    Ok((StatusCode::CREATED, Json(closure_view(id, &c))))
}

/// `DELETE /api/closures/{id}` → 204; 404 when the business has none such.
pub async fn delete_closure(State(state): State<Arc<AppState>>, p: Principal, Path(id): Path<Id>) -> Result<StatusCode, ApiError> {
    p.require_owner()?;
    if !p.tenant(&state).delete_closure(id).await? {
        return Err(ApiError::NotFound(format!("chiusura {id} inesistente")));
    }
    reload(&state, &p).await?;
    Ok(StatusCode::NO_CONTENT)
}
