//! Set-up mode: what `fluxion serve` answers while the database holds no
//! business. `GET /api/setup/status` → `{"setup_mode": true}`,
//! `GET /api/setup/template?vertical=V` (the vertical's services, operators,
//! hours and FAQ to start from), `POST /api/setup` (a [`SetupRequest`]: 201
//! `{"tenant", "csrf_token"}` with the owner's session cookie), `GET /health`;
//! every other `/api/*` path answers 503 with `"setup_mode": true`. When the
//! business exists (made here or by `fluxion setup` meanwhile) [`serve`]
//! stops and hands the listener back, and the full server starts on it.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use tokio::net::TcpListener;
use tokio::sync::{watch, Mutex};
use utoipa::ToSchema;

use fluxion_core::booking::Vertical;

use super::{SetupError, SetupRequest};
use crate::api::ApiError;
use crate::auth;
use crate::seed::SeedData;
use crate::store::Store;

/// How often set-up mode checks whether `fluxion setup` made the business.
const POLL: Duration = Duration::from_secs(2);

/// State of the set-up server.
pub struct SetupState {
    store: Store,
    /// One set-up at a time.
    one: Mutex<()>,
    done: watch::Sender<bool>,
}

/// `GET /api/setup/status` answer.
#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
pub struct SetupStatus {
    /// Whether the server waits for the business to be created.
    pub setup_mode: bool,
}

/// `POST /api/setup` answer (with the owner's session cookie).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SetupDone {
    /// The new business (tenant id).
    pub tenant: fluxion_core::booking::Id,
    /// To send as `X-CSRF-Token` on POST, PUT, PATCH and DELETE.
    pub csrf_token: String,
    /// The owner's login name.
    pub username: String,
}

/// `GET /api/setup/status` in set-up mode.
async fn status() -> Json<SetupStatus> {
    Json(SetupStatus { setup_mode: true })
}

/// `GET /api/setup/status` once the business exists (the full server).
pub async fn status_done() -> Json<SetupStatus> {
    Json(SetupStatus { setup_mode: false })
}

/// `POST /api/setup` once the business exists: 401 without credentials,
/// else 409.
pub async fn setup_done(_p: crate::auth::Principal) -> ApiError {
    ApiError::Conflict("l'attività è già configurata".into())
}

#[derive(Debug, Deserialize)]
struct TemplateParams {
    vertical: Option<String>,
}

/// `GET /api/setup/template?vertical=salone` → `{"vertical", "hours",
/// "services", "operators", "faqs"}` of the vertical's demo data.
async fn template(q: Result<Query<TemplateParams>, QueryRejection>) -> Result<Json<Value>, ApiError> {
    let Query(q) = q?;
    let vertical: Vertical = q.vertical.as_deref().unwrap_or("salone").parse().map_err(ApiError::bad)?;
    let seed = SeedData::demo(vertical).map_err(|e| ApiError::Unavailable(e.to_string()))?;
    let config = seed.config().map_err(|e| ApiError::Unavailable(e.to_string()))?;
    Ok(Json(json!({
        "vertical": vertical,
        "timezone": config.business.timezone,
        "hours": config.business.hours,
        "services": config.services,
        "operators": config.operators,
        "faqs": config.faqs,
    })))
}

async fn setup(State(state): State<Arc<SetupState>>, body: Result<Json<SetupRequest>, JsonRejection>) -> Result<Response, ApiError> {
    let Json(req) = body?;
    let _one = state.one.lock().await;
    let (tenant, owner) = super::create(&state.store, &req).await.map_err(|e| match e {
        SetupError::AlreadySetUp => ApiError::Conflict("l'attività è già configurata".into()),
        SetupError::Invalid(m) => ApiError::BadRequest { status: StatusCode::UNPROCESSABLE_ENTITY, message: m },
        SetupError::Failed(m) => ApiError::Unavailable(m),
    })?;
    let (sid, csrf) = auth::open_session(&tenant, owner, jiff::Timestamp::now()).await?;
    state.done.send_replace(true);
    let body = Json(SetupDone { tenant: tenant.id(), csrf_token: csrf, username: req.owner.username.trim().to_string() });
    Ok((StatusCode::CREATED, [(header::SET_COOKIE, auth::session_cookie(Some(&sid)))], body).into_response())
}

async fn health() -> Json<Value> {
    Json(json!({ "status": "ok", "service": "fluxion", "version": env!("CARGO_PKG_VERSION"), "setup_mode": true }))
}

async fn not_yet() -> Response {
    let body = Json(json!({ "error": "Fluxion è in configurazione: crei prima l'attività", "setup_mode": true }));
    (StatusCode::SERVICE_UNAVAILABLE, body).into_response()
}

/// The set-up mode router (the console's wizard pages merge theirs in).
pub fn router(state: Arc<SetupState>) -> Router {
    Router::new()
        .route("/health", get(health))
        .route("/api/setup/status", get(status))
        .route("/api/setup/template", get(template))
        .route("/api/setup", post(setup))
        .fallback(not_yet)
        .layer(axum::extract::DefaultBodyLimit::max(crate::app::MAX_BODY_BYTES))
        .with_state(state)
}

/// Serves set-up mode on `listener` until the business exists (returns the
/// listener, for the full server) or `shutdown` resolves (returns `None`).
/// `extra` is merged into the router (the wizard's pages).
///
/// # Errors
/// The listener or the database fails.
pub async fn serve(
    listener: TcpListener,
    store: Store,
    extra: Router,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<Option<TcpListener>> {
    let (done, mut done_rx) = watch::channel(false);
    let state = Arc::new(SetupState { store: store.clone(), one: Mutex::new(()), done: done.clone() });
    let std_listener = listener.into_std()?;
    let kept = std_listener.try_clone()?;
    let listener = TcpListener::from_std(std_listener)?;
    let app = router(state).merge(extra);
    // The business may also be made by `fluxion setup` in another process.
    let watcher = tokio::spawn({
        let done = done.clone();
        async move {
            loop {
                tokio::time::sleep(POLL).await;
                if store.is_seeded().await.unwrap_or(false) {
                    done.send_replace(true);
                    return;
                }
            }
        }
    });
    let (stop_tx, stop_rx) = watch::channel(false);
    let mut stop_rx2 = stop_rx.clone();
    let server = crate::app::serve_router(listener, app, async move {
        let _ = stop_rx2.wait_for(|s| *s).await;
    });
    tokio::pin!(server);
    tokio::pin!(shutdown);
    let finished = tokio::select! {
        r = &mut server => { r?; false }
        _ = done_rx.wait_for(|d| *d) => true,
        () = &mut shutdown => false,
    };
    stop_tx.send_replace(true);
    drop(stop_rx);
    if !finished {
        watcher.abort();
        return Ok(None);
    }
    server.await?;
    watcher.abort();
    kept.set_nonblocking(true)?;
    Ok(Some(TcpListener::from_std(kept)?))
}
