//! The notification outbox, for the console and automations:
//! `GET /api/notifications[?state=failed][&limit=N]` lists what was queued,
//! sent, given up (`failed`: surfaced to the owner) or dropped, and
//! `POST /api/notifications/{id}/retry` sends a failed one again.

use std::sync::Arc;

use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::settings::invalid;
use super::ApiError;
use crate::app::AppState;
use crate::auth::Principal;
use crate::store::{OutboxEntry, OutboxState};
use fluxion_core::booking::Id;

/// Most rows one request lists.
pub const MAX_LIMIT: u32 = 500;

/// `?state=&limit=`.
#[derive(Debug, Deserialize, IntoParams)]
pub struct Filter {
    /// `pending`, `sending`, `sent`, `failed` or `dropped` (absent: all).
    pub state: Option<String>,
    /// At most this many (default 100; 0 counts as 1, more than 500 as 500).
    pub limit: Option<u32>,
}

/// `{"notifications": […]}`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct NotificationList {
    /// Newest first.
    pub notifications: Vec<OutboxEntry>,
}

/// `POST /api/notifications/{id}/retry` answer.
#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
pub struct Requeued {
    /// The notification.
    pub id: Id,
    /// Always `pending`.
    pub state: OutboxState,
}

/// `GET /api/notifications[?state=][&limit=]` → `{"notifications": [{id,
/// business_id, client_id, recipient, channel, kind, payload, key, state,
/// attempts, next_attempt_at, last_error, provider_id, created_at}]}`,
/// newest first.
///
/// Errors: 400 for an unknown state.
pub async fn list(
    State(state): State<Arc<AppState>>,
    p: Principal,
    q: Result<Query<Filter>, QueryRejection>,
) -> Result<Json<NotificationList>, ApiError> {
    let Query(q) = q?;
    let wanted = match q.state.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        None => None,
        Some(s) => Some(
            OutboxState::parse(s).ok_or_else(|| invalid(format!("stato '{s}' sconosciuto (pending, sending, sent, failed, dropped)")))?,
        ),
    };
    let rows = p.tenant(&state).outbox(wanted, q.limit.unwrap_or(100).clamp(1, MAX_LIMIT)).await?;
    Ok(Json(NotificationList { notifications: rows }))
}

/// `POST /api/notifications/{id}/retry` → `{"id", "state": "pending"}`: a
/// failed notification is queued again, due now, with a fresh set of
/// attempts.
///
/// Errors: 403 staff; 404 no such notification; 409 it has not failed
/// (pending, being sent, sent or dropped).
pub async fn retry(State(state): State<Arc<AppState>>, p: Principal, Path(id): Path<Id>) -> Result<Json<Requeued>, ApiError> {
    p.require_owner()?;
    let t = p.tenant(&state);
    // The outbox runs on the system clock (as its worker does), not on the
    // business clock a test or `serve --now` may set.
    if t.retry_notification(id, jiff::Timestamp::now()).await? {
        return Ok(Json(Requeued { id, state: OutboxState::Pending }));
    }
    Err(if t.notification(id).await?.is_some() {
        ApiError::Conflict(format!("la notifica {id} non è fallita"))
    } else {
        ApiError::NotFound(format!("notifica {id} inesistente"))
    })
}
