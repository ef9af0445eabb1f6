//! The agenda by hand: `GET /api/appointments`, `POST /api/appointments`,
//! `PATCH /api/appointments/{id}` (move), `DELETE /api/appointments/{id}`
//! (cancel). A hand-made write follows the receptionist's rules
//! (opening hours, closures, absences, notice, horizon, buffers, no
//! overlap, checked by `availability::check_slot` and again by the store
//! inside its transaction); a refused write is 409 with the reason in
//! Italian. Times are local (`YYYY-MM-DDTHH:MM`) in the business's zone.

use std::sync::Arc;

use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::Json;
use jiff::civil::DateTime;
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use fluxion_core::booking::availability::{self, Unavailable};
use fluxion_core::booking::{AppointmentStatus, BookingError, Channel, Id, NewAppointment, Repository};
use fluxion_core::dialogue::BusinessInfo;

use super::read::{engine, parse_date};
use super::ApiError;
use crate::app::{AppState, ServerEngine};
use crate::auth::Principal;

/// `?from=YYYY-MM-DD&to=YYYY-MM-DD[&operator=ID]` or `?date=YYYY-MM-DD`.
#[derive(Debug, Deserialize, IntoParams)]
pub struct Span {
    /// One day, ISO 8601 `YYYY-MM-DD` (default today).
    #[param(format = Date)]
    pub date: Option<String>,
    /// First day, ISO 8601 `YYYY-MM-DD` (instead of `date`).
    #[param(format = Date)]
    pub from: Option<String>,
    /// Last day, inclusive (default `from`; at most 62 days after it).
    #[param(format = Date)]
    pub to: Option<String>,
    /// Only this operator's (id; spelled `i64` rather than [`Id`] so that
    /// the parameter's schema is a plain integer).
    pub operator: Option<i64>,
}

/// The client of an appointment.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ClientRef {
    /// Row id.
    pub id: Id,
    /// Full name.
    pub name: String,
    /// Phone, E.164.
    pub phone: String,
}

/// An appointment as the console shows it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AppointmentView {
    /// Row id.
    pub id: Id,
    /// Lifecycle state.
    pub status: AppointmentStatus,
    /// Where it was booked.
    pub channel: Channel,
    /// Service name.
    pub service: String,
    /// Service id.
    pub service_id: Id,
    /// Operator name.
    pub operator: String,
    /// Operator id.
    pub operator_id: Id,
    /// Local start in the business's time zone, ISO 8601 without offset.
    pub start: String,
    /// Local end, ISO 8601 without offset.
    pub end: String,
    /// UTC start, RFC 3339.
    pub start_utc: String,
    /// The client (`null` when unknown).
    pub client: Option<ClientRef>,
}

/// `GET /api/appointments` answer.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AppointmentList {
    /// First day, `YYYY-MM-DD`.
    pub from: String,
    /// Last day (inclusive), `YYYY-MM-DD`.
    pub to: String,
    /// Same as `from`.
    pub date: String,
    /// Every state, by start.
    pub appointments: Vec<AppointmentView>,
}

/// `GET /api/appointments?from=&to=[&operator=]` (or `?date=`) → `{"from",
/// "to", "date", "appointments": [{id, status, channel, service,
/// service_id, operator, operator_id, start, end, start_utc, client: {id,
/// name, phone}}]}`, every state, by start.
pub async fn list(
    State(state): State<Arc<AppState>>,
    p: Principal,
    q: Result<Query<Span>, QueryRejection>,
) -> Result<Json<AppointmentList>, ApiError> {
    let Query(q) = q?;
    let engine = engine(&state, &p).await?;
    let from = parse_date(q.from.as_deref().or(q.date.as_deref()), &state, &engine)?;
    let to = match q.to.as_deref() {
        Some(t) => parse_date(Some(t), &state, &engine)?,
        None => from,
    };
    if to < from || (to - from).get_days() > 62 {
        return Err(ApiError::bad("from/to: at most 62 days, from before to"));
    }
    let tenant = p.tenant(&state);
    let list = tenant.appointments_between(&from.to_string(), &to.to_string(), q.operator).await?;
    let mut out = Vec::with_capacity(list.len());
    for a in &list {
        let client = tenant.client(a.client_id).await?;
        out.push(appointment_view(engine.info(), a, client.as_ref()));
    }
    Ok(Json(AppointmentList { from: from.to_string(), to: to.to_string(), date: from.to_string(), appointments: out }))
}

pub(super) fn appointment_view(
    info: &BusinessInfo,
    a: &fluxion_core::booking::Appointment,
    client: Option<&fluxion_core::booking::Client>,
) -> AppointmentView {
    let b = super::voice::appointment_json(info, a);
    AppointmentView {
        id: a.id,
        status: a.status,
        channel: a.channel,
        service: b.service,
        service_id: a.service_id,
        operator: b.operator,
        operator_id: a.operator_id,
        start: b.start,
        end: b.end,
        start_utc: b.start_utc,
        client: client.map(|c| ClientRef { id: c.id, name: c.name.clone(), phone: c.phone.clone() }),
    }
}

/// A new client given with the appointment.
#[derive(Debug, Deserialize, ToSchema)]
pub struct NewClient {
    /// Full name (not blank).
    pub name: String,
    /// Phone: E.164 or Italian national format.
    pub phone: String,
    /// E-mail address.
    #[serde(default)]
    pub email: Option<String>,
}

/// `POST /api/appointments` body: `client_id` or `client`.
#[derive(Debug, Deserialize, ToSchema)]
pub struct CreateBody {
    /// An existing client…
    pub client_id: Option<Id>,
    /// …or a new (or known, by phone) one.
    pub client: Option<NewClient>,
    /// The service.
    pub service_id: Id,
    /// The operator (absent: the first free one who performs it).
    pub operator_id: Option<Id>,
    /// Local start in the business's time zone, ISO 8601 without offset
    /// (`YYYY-MM-DDTHH:MM`).
    #[schema(examples("2027-03-11T15:00"))]
    pub start: String,
}

/// Why a slot is refused, in Italian for the owner.
pub fn refusal(info: &BusinessInfo, e: &Unavailable) -> String {
    let name = |id: &Id| info.operator(*id).map_or_else(|| format!("l'operatore {id}"), |o| o.name.clone());
    match e {
        Unavailable::PublicHoliday(h) => format!("chiuso per festività: {h}"),
        Unavailable::Closed(r) => format!("l'attività è chiusa: {r}"),
        Unavailable::OutsideHours => "fuori dall'orario di apertura".to_string(),
        Unavailable::DstTransition => "orario inesistente per il cambio dell'ora legale".to_string(),
        Unavailable::OffGrid(n) => format!("l'inizio deve cadere su un multiplo di {n} minuti"),
        Unavailable::TooSoon(n) => format!("serve un preavviso di almeno {n} minuti"),
        Unavailable::TooFar(d) => format!("si prenota al massimo {d} giorni in anticipo"),
        Unavailable::OperatorOff(id) => format!("{} non lavora a quell'ora", name(id)),
        Unavailable::OperatorAbsent(id, r) => format!("{} è assente: {r}", name(id)),
        Unavailable::Taken => "l'orario si sovrappone a un altro appuntamento".to_string(),
        Unavailable::Invalid(e) => format!("richiesta non valida: {e}"),
    }
}

fn local_start(info: &BusinessInfo, s: &str) -> Result<Timestamp, ApiError> {
    let dt: DateTime = s.trim().parse().map_err(|_| super::settings::invalid(format!("inizio non valido: '{s}' (AAAA-MM-GGTHH:MM)")))?;
    info.tz.to_timestamp(dt).map_err(|e| super::settings::invalid(e.to_string()))
}

/// Checks `start` for `service_id` (and the operator) against the rules and
/// the agenda, ignoring appointment `ignore`; the slot or 409.
async fn checked_slot(
    state: &AppState,
    engine: &ServerEngine,
    service_id: Id,
    operator: Option<Id>,
    start: Timestamp,
    ignore: Option<Id>,
) -> Result<fluxion_core::booking::Slot, ApiError> {
    let info = engine.info();
    let service = info.service(service_id).ok_or_else(|| super::settings::invalid(format!("servizio {service_id} inesistente")))?;
    if let Some(op) = operator.filter(|op| info.operator(*op).is_none()) {
        return Err(super::settings::invalid(format!("operatore {op} inesistente")));
    }
    let day = jiff::SignedDuration::from_hours(24);
    let (from, to) = (start.checked_sub(day).unwrap_or(start), start.checked_add(day).unwrap_or(start));
    let mut booked = engine.repo().booked_between(from, to).await?;
    booked.retain(|a| Some(a.id) != ignore);
    availability::check_slot(&info.business, &info.operators, &booked, service, operator, start, state.clock.now())
        .map_err(|e| ApiError::Conflict(refusal(info, &e)))
}

fn write_error(e: BookingError) -> ApiError {
    match e {
        BookingError::SlotTaken => ApiError::Conflict("l'orario si sovrappone a un altro appuntamento".into()),
        BookingError::NotBookable(m) => ApiError::Conflict(format!("non prenotabile: {m}")),
        BookingError::NotFound(m) => ApiError::NotFound(format!("{m} inesistente")),
        BookingError::NotActive(id) => ApiError::Conflict(format!("l'appuntamento {id} non è più attivo")),
        BookingError::Store(e) => ApiError::from(e),
    }
}

/// `POST /api/appointments` → 201 with the appointment; 409 `{"error":
/// "<reason>"}` when the rules refuse it.
pub async fn create(
    State(state): State<Arc<AppState>>,
    p: Principal,
    body: Result<Json<CreateBody>, JsonRejection>,
) -> Result<(StatusCode, Json<AppointmentView>), ApiError> {
    let Json(body) = body?;
    let engine = engine(&state, &p).await?;
    let info = engine.info();
    let tenant = p.tenant(&state);
    let client = match (&body.client_id, &body.client) {
        (Some(id), _) => tenant.client(*id).await?.ok_or_else(|| super::settings::invalid(format!("cliente {id} inesistente")))?,
        (None, Some(c)) => {
            let phone = super::voice::caller_phone(&c.phone)?;
            if c.name.trim().is_empty() {
                return Err(super::settings::invalid("nome del cliente obbligatorio"));
            }
            tenant.upsert_client(c.name.trim(), &phone, c.email.as_deref().filter(|e| !e.trim().is_empty())).await?
        }
        (None, None) => return Err(super::settings::invalid("indicare client_id oppure client {name, phone}")),
    };
    let start = local_start(info, &body.start)?;
    let slot = checked_slot(&state, &engine, body.service_id, body.operator_id, start, None).await?;
    let new = NewAppointment {
        client_id: client.id,
        operator_id: slot.operator_id,
        service_id: body.service_id,
        start: slot.start,
        end: slot.end,
        channel: Channel::Staff,
    };
    let a = tenant.book(new, info.business.rules.buffer_min).await.map_err(write_error)?;
    Ok((StatusCode::CREATED, Json(appointment_view(info, &a, Some(&client)))))
}

/// `PATCH /api/appointments/{id}` body.
#[derive(Debug, Deserialize, ToSchema)]
pub struct MoveBody {
    /// New local start, ISO 8601 without offset (`YYYY-MM-DDTHH:MM`).
    #[schema(examples("2027-03-11T16:00"))]
    pub start: String,
    /// New operator (absent: the same).
    pub operator_id: Option<Id>,
}

/// `PATCH /api/appointments/{id} {"start", "operator_id"?}` → the moved
/// appointment; 409 with the reason when refused.
pub async fn move_to(
    State(state): State<Arc<AppState>>,
    p: Principal,
    Path(id): Path<Id>,
    body: Result<Json<MoveBody>, JsonRejection>,
) -> Result<Json<AppointmentView>, ApiError> {
    let Json(body) = body?;
    let engine = engine(&state, &p).await?;
    let info = engine.info();
    let tenant = p.tenant(&state);
    let current = tenant.appointment(id).await?.ok_or_else(|| ApiError::NotFound(format!("appuntamento {id} inesistente")))?;
    let start = local_start(info, &body.start)?;
    let operator = body.operator_id.unwrap_or(current.operator_id);
    let slot = checked_slot(&state, &engine, current.service_id, Some(operator), start, Some(id)).await?;
    let a = tenant.reschedule(id, slot.operator_id, slot.start, slot.end, info.business.rules.buffer_min).await.map_err(write_error)?;
    let client = tenant.client(a.client_id).await?;
    Ok(Json(appointment_view(info, &a, client.as_ref())))
}

/// `DELETE /api/appointments/{id}` → the cancelled appointment; 409 when it
/// is no longer booked.
pub async fn cancel(State(state): State<Arc<AppState>>, p: Principal, Path(id): Path<Id>) -> Result<Json<AppointmentView>, ApiError> {
    let engine = engine(&state, &p).await?;
    let tenant = p.tenant(&state);
    let a = tenant.cancel(id).await.map_err(write_error)?;
    let client = tenant.client(a.client_id).await?;
    Ok(Json(appointment_view(engine.info(), &a, client.as_ref())))
}
