//! Read endpoints for the business's own tools: free slots and services,
//! and the helpers the console's endpoints share (the principal's engine,
//! dates).

use std::sync::Arc;

use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::Json;
use jiff::civil::Date;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};

use fluxion_core::booking::availability::{self, Query as SlotQuery};
use fluxion_core::booking::{Id, Repository};
use fluxion_core::text::fold;

use super::ApiError;
use crate::app::{AppState, ServerEngine};
use crate::auth::Principal;

/// `?date=YYYY-MM-DD`.
#[derive(Debug, Deserialize, IntoParams)]
pub struct DateParam {
    /// Local date, ISO 8601 `YYYY-MM-DD` (default: today in the business's
    /// time zone).
    #[param(format = Date)]
    pub date: Option<String>,
}

/// The principal's business's current engine.
///
/// # Errors
/// 503 when it cannot be built.
pub async fn engine(state: &AppState, p: &Principal) -> Result<Arc<ServerEngine>, ApiError> {
    state.engines.get(p.tenant).await.map_err(ApiError::engine)
}

/// A `YYYY-MM-DD` parameter; absent: today in the business's time zone.
///
/// # Errors
/// 400 for anything else.
pub fn parse_date(s: Option<&str>, state: &AppState, engine: &ServerEngine) -> Result<Date, ApiError> {
    match s {
        None => Ok(engine.info().local(state.clock.now()).date()),
        Some(s) => s.parse().map_err(|_| ApiError::bad(format!("date: '{s}' is not a date (expected YYYY-MM-DD)"))),
    }
}

/// The UTC instants (stored text form) from the start of local day `from`
/// to the start of the day after `to`, in the business's time zone.
///
/// # Errors
/// 400 when a day is out of range.
pub fn utc_days(engine: &ServerEngine, from: Date, to: Date) -> Result<(String, String), ApiError> {
    let tz = &engine.info().tz;
    let start = |d: Date| tz.to_timestamp(d.to_datetime(jiff::civil::Time::MIN)).map(crate::store::ts_text);
    let next = to.tomorrow().map_err(|e| ApiError::bad(e.to_string()))?;
    Ok((start(from).map_err(|e| ApiError::bad(e.to_string()))?, start(next).map_err(|e| ApiError::bad(e.to_string()))?))
}

/// `?service=…&date=…&operator=…`.
#[derive(Debug, Deserialize, IntoParams)]
pub struct SlotsParams {
    /// Service name, synonym or id (required: 400 without it).
    pub service: Option<String>,
    /// Local date, ISO 8601 `YYYY-MM-DD` (default today).
    #[param(format = Date)]
    pub date: Option<String>,
    /// Operator name or id (absent: any operator).
    pub operator: Option<String>,
}

/// A free slot.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SlotView {
    /// Local start, ISO 8601 without offset (`YYYY-MM-DDTHH:MM:SS`).
    pub start: String,
    /// Local end, ISO 8601 without offset.
    pub end: String,
    /// The operator's name.
    pub operator: Option<String>,
    /// The operator's id.
    pub operator_id: Id,
}

/// `GET /api/slots` answer.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SlotList {
    /// The service's name on the price list.
    pub service: String,
    /// The day, ISO 8601 `YYYY-MM-DD`.
    pub date: String,
    /// Free slots, by start.
    pub slots: Vec<SlotView>,
}

/// A service on the price list.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ServiceView {
    /// Row id.
    pub id: Id,
    /// Name on the price list.
    pub name: String,
    /// Other names callers use.
    pub synonyms: Vec<String>,
    /// Duration in minutes.
    pub duration_min: u32,
    /// Price in euro cents, VAT included.
    pub price_cents: i64,
    /// Names of the operators who perform it.
    pub operators: Vec<String>,
    /// Ids of the operators who perform it.
    pub operator_ids: Vec<Id>,
}

/// `{"services": […]}`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ServiceList {
    /// The price list.
    pub services: Vec<ServiceView>,
}

/// `GET /api/slots?service=…&date=YYYY-MM-DD[&operator=…]`: free slots of
/// that day, local times, each with the operator.
///
/// Errors: 400 without `service`, with an unknown service/operator or a bad
/// date.
pub async fn slots(
    State(state): State<Arc<AppState>>,
    p: Principal,
    q: Result<Query<SlotsParams>, QueryRejection>,
) -> Result<Json<SlotList>, ApiError> {
    let Query(q) = q?;
    let engine = engine(&state, &p).await?;
    let info = engine.info();
    let wanted = q.service.as_deref().map(str::trim).filter(|s| !s.is_empty()).ok_or_else(|| ApiError::bad("service: required"))?;
    let folded = fold(wanted);
    let service = info
        .services
        .iter()
        .find(|s| s.id.to_string() == wanted || fold(&s.name) == folded || s.synonyms.iter().any(|x| fold(x) == folded))
        .or_else(|| engine.pipeline().catalog().find_service(&folded).and_then(|n| info.services.iter().find(|s| s.name == n)))
        .ok_or_else(|| ApiError::bad(format!("service: unknown service '{wanted}'")))?;
    let operator = match q.operator.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        None => None,
        Some(o) => Some(
            info.operators
                .iter()
                .find(|x| x.id.to_string() == o || fold(&x.name) == fold(o))
                .ok_or_else(|| ApiError::bad(format!("operator: unknown operator '{o}'")))?
                .id,
        ),
    };
    let date = parse_date(q.date.as_deref(), &state, &engine)?;
    let now = state.clock.now();
    let from = info.tz.to_timestamp(date.to_datetime(jiff::civil::Time::MIN)).map_err(|e| ApiError::bad(e.to_string()))?;
    let to = info.tz.to_timestamp(date.to_datetime(jiff::civil::Time::MAX)).map_err(|e| ApiError::bad(e.to_string()))?;
    let booked = engine.repo().booked_between(from, to).await?;
    let query = SlotQuery { service, operator, from: date, to: date, now };
    let slots = availability::free_slots(&info.business, &info.operators, &booked, &query).map_err(|e| ApiError::bad(e.to_string()))?;
    let out: Vec<SlotView> = slots
        .iter()
        .map(|s| SlotView {
            start: info.local(s.start).to_string(),
            end: info.local(s.end).to_string(),
            operator: info.operators.iter().find(|o| o.id == s.operator_id).map(|o| o.name.clone()),
            operator_id: s.operator_id,
        })
        .collect();
    Ok(Json(SlotList { service: service.name.clone(), date: date.to_string(), slots: out }))
}

/// The services as JSON: `{"services": [{id, name, synonyms, duration_min,
/// price_cents (euro cents), operators}]}`; shared by `GET /api/services` and
/// the MCP resource `fluxion://servizi`.
pub fn services_json(info: &fluxion_core::dialogue::BusinessInfo) -> Value {
    serde_json::to_value(service_list(info)).unwrap_or_default()
}

/// The price list of `info` with each service's operators.
pub fn service_list(info: &fluxion_core::dialogue::BusinessInfo) -> ServiceList {
    let services = info
        .services
        .iter()
        .map(|s| {
            let ops = || info.operators.iter().filter(|o| o.service_ids.contains(&s.id));
            ServiceView {
                id: s.id,
                name: s.name.clone(),
                synonyms: s.synonyms.clone(),
                duration_min: s.duration_min,
                price_cents: s.price_cents,
                operators: ops().map(|o| o.name.clone()).collect(),
                operator_ids: ops().map(|o| o.id).collect(),
            }
        })
        .collect();
    ServiceList { services }
}

/// `GET /api/services`: see [`services_json`].
pub async fn services(State(state): State<Arc<AppState>>, p: Principal) -> Result<Json<ServiceList>, ApiError> {
    Ok(Json(service_list(engine(&state, &p).await?.info())))
}
