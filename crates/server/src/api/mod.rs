//! HTTP endpoints, one file per resource, and the JSON error shape they
//! share: `{"error": "…"}` with a fitting status code.

pub mod activity;
pub mod appointments;
pub mod auth;
pub mod catalog;
pub mod clients;
pub mod conversations;
pub mod csv_io;
pub mod events;
pub mod faq;
pub mod health;
pub mod integrations;
pub mod loyalty;
pub mod messages;
pub mod notifications;
pub mod operators;
pub mod read;
pub mod receptionist;
pub mod services;
pub mod settings;
pub mod status;
pub mod voice;

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Serialize;
use utoipa::ToSchema;

use crate::observability::REJECTED_TOTAL;

/// The body of every error answer: `{"error": "…"}`, with `"fields"` on a
/// 422 that names refused fields.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = Error)]
pub struct ErrorBody {
    /// What went wrong (Italian when meant for the owner).
    pub error: String,
    /// Refused fields (422 only, e.g. `PUT /api/integrations`): an Italian
    /// message per field, keyed by its dotted name (`"email.port"`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fields: Option<std::collections::BTreeMap<String, String>>,
}

/// `{"id"}`: the row a write created or changed.
#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
pub struct IdAnswer {
    /// Row id.
    pub id: fluxion_core::booking::Id,
}

/// An error answered to an HTTP client.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// Malformed or invalid input (400), or a body too large (413).
    #[error("{message}")]
    BadRequest {
        /// HTTP status (400, 413, 415, 422).
        status: StatusCode,
        /// What is wrong.
        message: String,
    },
    /// Nothing there (404).
    #[error("{0}")]
    NotFound(String),
    /// The database failed (503); the client may retry.
    #[error("database unavailable: {0}")]
    Unavailable(String),
    /// No valid credentials (401).
    #[error("{0}")]
    Unauthorized(String),
    /// Authenticated but not allowed, or a missing CSRF token (403).
    #[error("{0}")]
    Forbidden(String),
    /// The write contradicts the current state, e.g. a refused booking
    /// (409); the message is Italian, for the owner.
    #[error("{0}")]
    Conflict(String),
    /// Too many attempts (429).
    #[error("{0}")]
    TooManyRequests(String),
    /// Fields that were refused (422), each with an Italian message:
    /// `{"error": "…", "fields": {"email.port": "…"}}`.
    #[error("{}", .0.values().cloned().collect::<Vec<_>>().join("; "))]
    Fields(std::collections::BTreeMap<String, String>),
}

impl ApiError {
    /// A 400 with this message.
    pub fn bad(message: impl Into<String>) -> Self {
        ApiError::BadRequest { status: StatusCode::BAD_REQUEST, message: message.into() }
    }
}

impl From<fluxion_core::booking::StoreError> for ApiError {
    fn from(e: fluxion_core::booking::StoreError) -> Self {
        // A unique key the write would break (a second service with the
        // same name): the client's input, not the database, is at fault.
        if e.unique_violation {
            tracing::info!(error = %e, "write refused by a unique key");
            return ApiError::Conflict("Esiste già un elemento con lo stesso nome o codice.".to_string());
        }
        tracing::error!(error = %e, "database error");
        ApiError::Unavailable(e.message)
    }
}

/// Largest plain-text rejection body turned into JSON, in bytes.
const REJECTION_BODY_MAX: usize = 4 * 1024;

/// Every `/api/*` error is JSON ([`ErrorBody`]): axum's own rejections
/// (an id that is not a 64-bit integer in the path, a wrong content type, a
/// body over the limit) come as `text/plain`; their text becomes
/// `{"error": …}` with the same status.
pub async fn json_rejections(response: Response) -> Response {
    let plain =
        response.headers().get(axum::http::header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).is_some_and(|v| v.starts_with("text/plain"));
    if !plain || !response.status().is_client_error() {
        return response;
    }
    let (parts, body) = response.into_parts();
    let text = match axum::body::to_bytes(body, REJECTION_BODY_MAX).await {
        Ok(bytes) => String::from_utf8_lossy(&bytes).into_owned(),
        Err(_) => parts.status.canonical_reason().unwrap_or("bad request").to_string(),
    };
    (parts.status, Json(ErrorBody { error: text, fields: None })).into_response()
}

impl ApiError {
    /// A 503 for a failure to build or load a business's engine.
    pub fn engine(e: anyhow::Error) -> Self {
        tracing::error!(error = %e, "conversation engine unavailable");
        ApiError::Unavailable(e.to_string())
    }
}

impl From<axum::extract::rejection::JsonRejection> for ApiError {
    fn from(r: axum::extract::rejection::JsonRejection) -> Self {
        let status = match r.status() {
            StatusCode::PAYLOAD_TOO_LARGE => StatusCode::PAYLOAD_TOO_LARGE,
            StatusCode::UNSUPPORTED_MEDIA_TYPE => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            _ => StatusCode::BAD_REQUEST,
        };
        ApiError::BadRequest { status, message: r.body_text() }
    }
}

impl From<axum::extract::rejection::QueryRejection> for ApiError {
    fn from(r: axum::extract::rejection::QueryRejection) -> Self {
        ApiError::bad(r.body_text())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = match &self {
            ApiError::BadRequest { status, .. } => {
                metrics::counter!(REJECTED_TOTAL, "reason" => status.as_str().to_string()).increment(1);
                *status
            }
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Unauthorized(_) => {
                let body = Json(ErrorBody { error: self.to_string(), fields: None });
                return (StatusCode::UNAUTHORIZED, [(axum::http::header::WWW_AUTHENTICATE, "Bearer")], body).into_response();
            }
            ApiError::Forbidden(_) => StatusCode::FORBIDDEN,
            ApiError::Conflict(_) => StatusCode::CONFLICT,
            ApiError::TooManyRequests(_) => StatusCode::TOO_MANY_REQUESTS,
            ApiError::Fields(fields) => {
                metrics::counter!(REJECTED_TOTAL, "reason" => "422").increment(1);
                let body = Json(ErrorBody { error: self.to_string(), fields: Some(fields.clone()) });
                return (StatusCode::UNPROCESSABLE_ENTITY, body).into_response();
            }
        };
        (status, Json(ErrorBody { error: self.to_string(), fields: None })).into_response()
    }
}

/// Rebuilds the principal's business's engine after a change to what the
/// receptionist knows, so the next turn sees it.
///
/// # Errors
/// 503 when the engine cannot be rebuilt (the change is stored; the
/// previous engine stays until a rebuild succeeds).
pub async fn reload(state: &crate::app::AppState, p: &crate::auth::Principal) -> Result<(), ApiError> {
    state.engines.reload(p.tenant).await.map(|_| ()).map_err(ApiError::engine)
}

/// 404 for unknown paths, as JSON.
pub async fn not_found() -> ApiError {
    ApiError::NotFound("no such endpoint".into())
}
