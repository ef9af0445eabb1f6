//! The FAQ the receptionist answers from: `GET/POST /api/faq`,
//! `PUT/DELETE /api/faq/{id}`. Writes are the owner's and rebuild the
//! engine (its FAQ index), so a new answer is given on the next turn.

use std::sync::Arc;

use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use fluxion_core::booking::{Id, Repository};
use fluxion_core::faq::Faq;

use super::settings::invalid;
use super::{reload, ApiError, IdAnswer};
use crate::app::AppState;
use crate::auth::Principal;

/// `{"faq": […]}`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct FaqList {
    /// The entries.
    pub faq: Vec<Faq>,
}

/// `GET /api/faq` → `{"faq": [{id, category, questions, answer}]}`.
pub async fn list(State(state): State<Arc<AppState>>, p: Principal) -> Result<Json<FaqList>, ApiError> {
    Ok(Json(FaqList { faq: p.tenant(&state).faqs().await? }))
}

/// An entry as the console sends it.
#[derive(Debug, Deserialize, ToSchema)]
pub struct FaqBody {
    /// Category ("pagamenti").
    #[serde(default)]
    pub category: String,
    /// Ways of asking (at least one not blank).
    pub questions: Vec<String>,
    /// The answer, in Italian (not blank).
    pub answer: String,
}

impl FaqBody {
    fn validated(self) -> Result<Faq, ApiError> {
        let questions: Vec<String> = self.questions.iter().map(|q| q.trim().to_string()).filter(|q| !q.is_empty()).collect();
        if questions.is_empty() || self.answer.trim().is_empty() {
            return Err(invalid("servono almeno una domanda e la risposta"));
        }
        Ok(Faq { id: 0, category: self.category.trim().to_string(), questions, answer: self.answer.trim().to_string() })
    }
}

/// `POST /api/faq` → 201 `{"id"}`.
pub async fn create(
    State(state): State<Arc<AppState>>,
    p: Principal,
    body: Result<Json<FaqBody>, JsonRejection>,
) -> Result<(StatusCode, Json<IdAnswer>), ApiError> {
    p.require_owner()?;
    let Json(body) = body?;
    let id = p.tenant(&state).add_faq(&body.validated()?).await?;
    reload(&state, &p).await?;
    Ok((StatusCode::CREATED, Json(IdAnswer { id })))
}

/// `PUT /api/faq/{id}` → `{"id"}`.
pub async fn update(
    State(state): State<Arc<AppState>>,
    p: Principal,
    Path(id): Path<Id>,
    body: Result<Json<FaqBody>, JsonRejection>,
) -> Result<Json<IdAnswer>, ApiError> {
    p.require_owner()?;
    let Json(body) = body?;
    if !p.tenant(&state).update_faq(id, &body.validated()?).await? {
        return Err(ApiError::NotFound(format!("domanda {id} inesistente")));
    }
    reload(&state, &p).await?;
    Ok(Json(IdAnswer { id }))
}

/// `DELETE /api/faq/{id}` → 204.
pub async fn delete(State(state): State<Arc<AppState>>, p: Principal, Path(id): Path<Id>) -> Result<StatusCode, ApiError> {
    p.require_owner()?;
    if !p.tenant(&state).delete_faq(id).await? {
        return Err(ApiError::NotFound(format!("domanda {id} inesistente")));
    }
    reload(&state, &p).await?;
    Ok(StatusCode::NO_CONTENT)
}
