//! The staff: `GET/POST /api/operators`, `PUT/DELETE /api/operators/{id}`,
//! `GET/POST /api/operators/{id}/absences`. An operator has working hours
//! (empty: the business's), the services it performs and absences. Writes
//! are the owner's and rebuild the receptionist's engine: an absence
//! removes its slots on the next turn.

use std::sync::Arc;

use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use fluxion_core::booking::{Closure, Id, Operator, Repository, WeeklyHours};

use super::settings::{check_closure, check_hours, closure_view, invalid, ClosureView};
use super::{reload, ApiError, IdAnswer};
use crate::app::AppState;
use crate::auth::Principal;
use crate::store::NewOperator;

/// `{"operators": […]}`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct OperatorList {
    /// The operators on the rota.
    pub operators: Vec<Operator>,
}

/// `{"absences": […]}`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AbsenceList {
    /// By first day.
    pub absences: Vec<ClosureView>,
}

/// `GET /api/operators` → `{"operators": [{id, name, service_ids, hours,
/// absences}]}` (operators on the rota).
pub async fn list(State(state): State<Arc<AppState>>, p: Principal) -> Result<Json<OperatorList>, ApiError> {
    let operators = p.tenant(&state).operators().await?;
    Ok(Json(OperatorList { operators }))
}

/// An operator as the console sends it.
#[derive(Debug, Deserialize, ToSchema)]
pub struct OperatorBody {
    /// First name as callers say it (1–80 characters).
    pub name: String,
    /// Services performed.
    #[serde(default)]
    pub service_ids: Vec<Id>,
    /// Working hours (empty: the business's).
    #[serde(default)]
    pub hours: Vec<WeeklyHours>,
}

impl OperatorBody {
    fn validated(&self, absences: Vec<Closure>) -> Result<NewOperator, ApiError> {
        let name = self.name.trim();
        if name.is_empty() || name.chars().count() > 80 {
            return Err(invalid("nome dell'operatore: obbligatorio (al massimo 80 caratteri)"));
        }
        check_hours(&self.hours)?;
        Ok(NewOperator { name: name.to_string(), service_ids: self.service_ids.clone(), hours: self.hours.clone(), absences })
    }
}

/// `POST /api/operators` → 201 `{"id"}`.
pub async fn create(
    State(state): State<Arc<AppState>>,
    p: Principal,
    body: Result<Json<OperatorBody>, JsonRejection>,
) -> Result<(StatusCode, Json<IdAnswer>), ApiError> {
    p.require_owner()?;
    let Json(body) = body?;
    let id = p.tenant(&state).add_operator(&body.validated(Vec::new())?).await?;
    reload(&state, &p).await?;
    Ok((StatusCode::CREATED, Json(IdAnswer { id })))
}

/// `PUT /api/operators/{id}` (name, services, hours; absences are kept) →
/// `{"id"}`.
pub async fn update(
    State(state): State<Arc<AppState>>,
    p: Principal,
    Path(id): Path<Id>,
    body: Result<Json<OperatorBody>, JsonRejection>,
) -> Result<Json<IdAnswer>, ApiError> {
    p.require_owner()?;
    let Json(body) = body?;
    let t = p.tenant(&state);
    let absences = t.absences(id).await?.ok_or_else(|| ApiError::NotFound(format!("operatore {id} inesistente")))?;
    let new = body.validated(absences.into_iter().map(|(_, c)| c).collect())?;
    if !t.update_operator(id, &new).await? {
        return Err(ApiError::NotFound(format!("operatore {id} inesistente")));
    }
    reload(&state, &p).await?;
    Ok(Json(IdAnswer { id }))
}

/// `DELETE /api/operators/{id}` → 204: off the rota (appointments stay).
pub async fn delete(State(state): State<Arc<AppState>>, p: Principal, Path(id): Path<Id>) -> Result<StatusCode, ApiError> {
    p.require_owner()?;
    if !p.tenant(&state).set_operator_active(id, false).await? {
        return Err(ApiError::NotFound(format!("operatore {id} inesistente")));
    }
    reload(&state, &p).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `GET /api/operators/{id}/absences` → `{"absences": [{id, from, to,
/// range, reason}]}`.
pub async fn absences(State(state): State<Arc<AppState>>, p: Principal, Path(id): Path<Id>) -> Result<Json<AbsenceList>, ApiError> {
    let list = p.tenant(&state).absences(id).await?.ok_or_else(|| ApiError::NotFound(format!("operatore {id} inesistente")))?;
    Ok(Json(AbsenceList { absences: list.iter().map(|(i, c)| closure_view(*i, c)).collect() }))
}

/// `POST /api/operators/{id}/absences {from, to, range?, reason}` → 201.
/// Staff may record absences too.
pub async fn add_absence(
    State(state): State<Arc<AppState>>,
    p: Principal,
    Path(id): Path<Id>,
    body: Result<Json<Closure>, JsonRejection>,
) -> Result<(StatusCode, Json<ClosureView>), ApiError> {
    let Json(c) = body?;
    check_closure(&c)?;
    let aid = p.tenant(&state).add_absence(id, &c).await?.ok_or_else(|| ApiError::NotFound(format!("operatore {id} inesistente")))?;
    reload(&state, &p).await?;
    Ok((StatusCode::CREATED, Json(closure_view(aid, &c))))
}
