//! `GET /api/status`: the checks of `fluxion doctor`, live, for the
//! console's Stato page: the database with this business's engine, then
//! every speech component and cloud service ([`crate::doctor`]). The
//! component checks load models and reach services, so one run at a time is
//! made and its result is shared for [`COMPONENTS_TTL`].

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::State;
use axum::Json;
use serde::Serialize;
use utoipa::ToSchema;

use super::read::engine;
use super::ApiError;
use crate::app::AppState;
use crate::auth::Principal;
use crate::doctor::{self, Check};

/// How long the component checks' result is reused.
pub const COMPONENTS_TTL: Duration = Duration::from_secs(60);

/// The last component checks and when they ran.
static COMPONENTS: tokio::sync::Mutex<Option<(Instant, Vec<Check>)>> = tokio::sync::Mutex::const_new(None);

async fn components() -> Vec<Check> {
    let mut last = COMPONENTS.lock().await;
    if let Some((at, checks)) = last.as_ref() {
        if at.elapsed() < COMPONENTS_TTL {
            return checks.clone();
        }
    }
    let checks = doctor::components(&crate::speech::models_dir()).await;
    *last = Some((Instant::now(), checks.clone()));
    checks
}

/// One check.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ComponentCheck {
    /// What was checked (`database`, `vad silero`, `stt whisper`, …).
    pub name: String,
    /// `ok`, `FAIL`, `skip` (not configured) or `info`.
    pub status: String,
    /// `status` is `ok`.
    pub ok: bool,
    /// What was seen, or why it failed.
    pub detail: String,
}

/// `GET /api/status` answer.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct StatusView {
    /// The database first, then the speech components and cloud services.
    pub components: Vec<ComponentCheck>,
    /// How many failed.
    pub failed: usize,
}

/// `GET /api/status` → `{"components": [{name, status (ok|FAIL|skip|info),
/// ok, detail}], "failed": n}`: the database check runs on every call, the
/// others at most once per [`COMPONENTS_TTL`].
pub async fn status(State(state): State<Arc<AppState>>, p: Principal) -> Result<Json<StatusView>, ApiError> {
    let database = doctor::check(
        "database",
        async {
            state.db_ok().await.map_err(|e| anyhow::anyhow!(e.message))?;
            let engine = engine(&state, &p).await.map_err(|e| anyhow::anyhow!(e.to_string()))?;
            let info = engine.info();
            Ok(format!(
                "{} {} ({} servizi, {} operatori)",
                state.store.dialect().as_str(),
                info.business.name,
                info.services.len(),
                info.operators.len()
            ))
        }
        .await,
    );
    let checks: Vec<Check> = std::iter::once(database).chain(components().await).collect();
    let failed = checks.iter().filter(|c| c.failed()).count();
    let components = checks
        .iter()
        .map(|c| ComponentCheck { name: c.component.clone(), status: c.status.to_string(), ok: c.status == "ok", detail: c.detail.clone() })
        .collect();
    Ok(Json(StatusView { components, failed }))
}
