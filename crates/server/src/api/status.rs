//! `GET /api/status`: the checks of `fluxion doctor`, live, for the
//! console's Stato page: the database with this business's engine, then
//! every speech component and cloud service ([`crate::doctor`]). The
//! component checks load models and reach services, so one run at a time is
//! made and its result is shared for [`COMPONENTS_TTL`].

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::State;
use axum::Json;
use serde_json::{json, Value};

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

/// `GET /api/status` → `{"components": [{name, status (ok|FAIL|skip|info),
/// ok, detail}], "failed": n}`: the database check runs on every call, the
/// others at most once per [`COMPONENTS_TTL`].
pub async fn status(State(state): State<Arc<AppState>>, p: Principal) -> Result<Json<Value>, ApiError> {
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
    let out: Vec<Value> =
        checks.iter().map(|c| json!({ "name": c.component, "status": c.status, "ok": c.status == "ok", "detail": c.detail })).collect();
    Ok(Json(json!({ "components": out, "failed": failed })))
}
