//! `POST /api/login`, `POST /api/logout`, `GET /api/me`: browser sessions
//! for the console (see [`crate::auth`]).

use std::sync::Arc;

use axum::extract::rejection::JsonRejection;
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use fluxion_core::booking::Repository;
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::ApiError;
use crate::app::AppState;
use crate::auth::limit::ClientAddr;
use crate::auth::{self, secret, Principal, Who, SESSION_COOKIE};

/// `POST /api/login` body.
#[derive(Debug, Deserialize, ToSchema)]
pub struct LoginRequest {
    /// Login name.
    pub username: String,
    /// Password.
    #[schema(format = Password, write_only)]
    pub password: String,
}

/// `POST /api/login` answer (with the session cookie).
#[derive(Debug, Serialize, ToSchema)]
pub struct LoginAnswer {
    /// To send as `X-CSRF-Token` on POST, PUT, PATCH and DELETE.
    pub csrf_token: String,
    /// Login name.
    pub username: String,
    /// What the account may do.
    pub role: crate::store::Role,
}

/// `GET /api/me` answer.
#[derive(Debug, Serialize, ToSchema)]
pub struct Me {
    /// The business (tenant id).
    pub tenant: fluxion_core::booking::Id,
    /// The business's name (`null` when it cannot be read).
    pub business: Option<String>,
    /// The account or token.
    pub who: Who,
    /// The account's login name (`null` for a token).
    pub username: Option<String>,
    /// What the credentials may do.
    pub role: crate::store::Role,
    /// Whether a `phone` the credentials send is the caller's verified identity.
    pub trusted: bool,
    /// The session's CSRF token (`null` for tokens).
    pub csrf_token: Option<String>,
}

/// `POST /api/login {"username","password"}` → 200 `{"csrf_token",
/// "username", "role"}` with the session cookie.
///
/// Errors: 401 wrong name or password (one message for both); 429 more
/// than 10 attempts for one name (or 30 from one address) in a minute.
pub async fn login(
    State(state): State<Arc<AppState>>,
    ClientAddr(addr): ClientAddr,
    body: Result<Json<LoginRequest>, JsonRejection>,
) -> Result<Response, ApiError> {
    let Json(req) = body?;
    if !state.login_limit.allow(&req.username, addr) {
        tracing::warn!(remote = ?addr, "login refused: too many attempts");
        return Err(ApiError::TooManyRequests("troppi tentativi di accesso: riprovi fra un minuto".into()));
    }
    let user = state.store.user_by_username(&req.username).await?;
    let password = req.password;
    let ok = tokio::task::spawn_blocking({
        let hash = user.as_ref().map(|u| u.password_hash.clone());
        move || match hash {
            Some(h) => secret::verify_password(&password, &h),
            None => {
                secret::verify_nothing(&password);
                false
            }
        }
    })
    .await
    .unwrap_or(false);
    let Some(user) = user.filter(|_| ok) else {
        tracing::info!(remote = ?addr, "login failed");
        return Err(ApiError::Unauthorized("nome utente o password non validi".into()));
    };
    let now = Timestamp::now();
    if let Err(e) = state.store.purge_sessions(now).await {
        tracing::warn!(error = %e, "expired sessions not purged");
    }
    let tenant = state.store.tenant(user.business_id);
    let (sid, csrf) = auth::open_session(&tenant, user.id, now).await?;
    tracing::info!(user = user.id, tenant = user.business_id, "login");
    let body = Json(LoginAnswer { csrf_token: csrf, username: user.username, role: user.role });
    Ok(([(header::SET_COOKIE, auth::session_cookie(Some(&sid)))], body).into_response())
}

/// `POST /api/logout`: ends the browser session (a bearer token stays
/// valid: revoke it with `fluxion token revoke`). 204, cookie cleared.
pub async fn logout(State(state): State<Arc<AppState>>, _p: Principal, headers: HeaderMap) -> Result<Response, ApiError> {
    if let Some(sid) = auth::cookie(&headers, SESSION_COOKIE) {
        state.store.delete_session(&secret::digest(sid)).await?;
    }
    Ok((StatusCode::NO_CONTENT, [(header::SET_COOKIE, auth::session_cookie(None))]).into_response())
}

/// `GET /api/me` → `{"tenant", "business", "who": {"kind": "user"|"token",
/// …}, "role", "trusted", "csrf_token"}` (`csrf_token` null for tokens).
pub async fn me(State(state): State<Arc<AppState>>, p: Principal) -> Result<Json<Me>, ApiError> {
    let business = p.tenant(&state).business().await.map(|b| b.name).ok();
    let username = match &p.who {
        Who::User { username, .. } => Some(username.clone()),
        Who::Token { .. } => None,
    };
    let role = p.role();
    Ok(Json(Me { tenant: p.tenant, business, who: p.who, username, role, trusted: p.trusted, csrf_token: p.csrf_token }))
}
