//! The price list: `POST /api/services`, `PUT/DELETE /api/services/{id}`
//! (the list itself is `GET /api/services`, in [`super::read`]). Prices are
//! euro cents, durations minutes. Writes are the owner's and rebuild the
//! receptionist's engine: a new service is bookable and priced on the next
//! turn.

use std::sync::Arc;

use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};

use fluxion_core::booking::{Id, Repository};

use super::settings::invalid;
use super::{reload, ApiError};
use crate::app::AppState;
use crate::auth::Principal;
use crate::store::NewService;

/// A service as the console sends it.
#[derive(Debug, Deserialize)]
pub struct ServiceBody {
    /// Name on the price list.
    pub name: String,
    /// Other names callers use.
    #[serde(default)]
    pub synonyms: Vec<String>,
    /// Minutes (5–600).
    pub duration_min: u32,
    /// Euro cents (≥ 0).
    pub price_cents: i64,
    /// Operators who perform it (absent: every operator).
    #[serde(default)]
    pub operator_ids: Option<Vec<Id>>,
}

impl ServiceBody {
    fn validated(&self) -> Result<NewService, ApiError> {
        let name = self.name.trim();
        if name.is_empty() || name.chars().count() > 120 {
            return Err(invalid("nome del servizio: obbligatorio (al massimo 120 caratteri)"));
        }
        if !(5..=600).contains(&self.duration_min) {
            return Err(invalid("durata: fra 5 e 600 minuti"));
        }
        if self.price_cents < 0 {
            return Err(invalid("il prezzo non può essere negativo"));
        }
        Ok(NewService {
            name: name.to_string(),
            synonyms: self.synonyms.iter().map(|s| s.trim().to_string()).filter(|s| !s.is_empty()).collect(),
            duration_min: self.duration_min,
            price_cents: self.price_cents,
        })
    }
}

async fn operators_for(state: &AppState, p: &Principal, body: &ServiceBody) -> Result<Vec<Id>, ApiError> {
    match &body.operator_ids {
        Some(ids) => Ok(ids.clone()),
        None => Ok(p.tenant(state).operators().await?.iter().map(|o| o.id).collect()),
    }
}

/// `POST /api/services` → 201 `{"id"}`.
///
/// Errors: 403 staff; 422 bad values; 409 a service of that name exists.
pub async fn create(
    State(state): State<Arc<AppState>>,
    p: Principal,
    body: Result<Json<ServiceBody>, JsonRejection>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    p.require_owner()?;
    let Json(body) = body?;
    let new = body.validated()?;
    let t = p.tenant(&state);
    let id = t.add_service(&new).await.map_err(|e| {
        if e.message.to_lowercase().contains("unique") {
            ApiError::Conflict(format!("esiste già un servizio '{}'", new.name))
        } else {
            ApiError::from(e)
        }
    })?;
    t.set_service_operators(id, &operators_for(&state, &p, &body).await?).await?;
    reload(&state, &p).await?;
    Ok((StatusCode::CREATED, Json(json!({ "id": id }))))
}

/// `PUT /api/services/{id}` → `{"id"}`; 404 when the business has none such.
pub async fn update(
    State(state): State<Arc<AppState>>,
    p: Principal,
    Path(id): Path<Id>,
    body: Result<Json<ServiceBody>, JsonRejection>,
) -> Result<Json<Value>, ApiError> {
    p.require_owner()?;
    let Json(body) = body?;
    let new = body.validated()?;
    let t = p.tenant(&state);
    if !t.update_service(id, &new).await? {
        return Err(ApiError::NotFound(format!("servizio {id} inesistente")));
    }
    if body.operator_ids.is_some() {
        t.set_service_operators(id, &operators_for(&state, &p, &body).await?).await?;
    }
    reload(&state, &p).await?;
    Ok(Json(json!({ "id": id })))
}

/// `DELETE /api/services/{id}` → 204: withdrawn from the price list (its
/// appointments stay).
pub async fn delete(State(state): State<Arc<AppState>>, p: Principal, Path(id): Path<Id>) -> Result<StatusCode, ApiError> {
    p.require_owner()?;
    if !p.tenant(&state).set_service_active(id, false).await? {
        return Err(ApiError::NotFound(format!("servizio {id} inesistente")));
    }
    reload(&state, &p).await?;
    Ok(StatusCode::NO_CONTENT)
}
