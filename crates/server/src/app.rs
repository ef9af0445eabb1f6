//! The HTTP application: shared state, the router, and serving on a bound
//! listener until a shutdown signal.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};
use axum::Router;
use tokio::net::TcpListener;

use fluxion_core::booking::desk::FrontDesk;
use fluxion_core::booking::{Channel, Repository, StoreError};
use fluxion_core::dialogue::session::Engine;
use fluxion_core::dialogue::{BusinessInfo, Dialogue};
use fluxion_core::nlu::{Pipeline, PipelineConfig};

use crate::api;
use crate::assistant::{Assistant, Prompts, DEFAULT_CACHE_TTL, L4};
use crate::clock::Clock;
use crate::llm::{LlmClient, LlmConfig};
use crate::store::SqliteStore;

/// Largest accepted request body, bytes.
pub const MAX_BODY_BYTES: usize = 64 * 1024;
/// Conversations idle longer than this are forgotten.
pub const SESSION_IDLE: Duration = Duration::from_secs(30 * 60);
/// At most this many live conversations are kept; the idlest go first.
pub const MAX_SESSIONS: usize = 10_000;

/// The engine type the server runs.
pub type ServerEngine = Engine<SqliteStore, L4>;

/// Live conversations by session id.
#[derive(Default)]
pub struct Sessions {
    map: Mutex<HashMap<String, (Arc<tokio::sync::Mutex<Dialogue>>, Instant)>>,
}

impl Sessions {
    /// The conversation with this id, created when unknown (or expired).
    /// Returns it and whether it is new.
    pub fn get_or_create(&self, id: &str, create: impl FnOnce() -> Dialogue) -> (Arc<tokio::sync::Mutex<Dialogue>>, bool) {
        let mut map = self.map.lock().unwrap_or_else(|p| p.into_inner());
        let now = Instant::now();
        if let Some((d, seen)) = map.get_mut(id) {
            if now.duration_since(*seen) < SESSION_IDLE {
                *seen = now;
                return (d.clone(), false);
            }
        }
        if map.len() >= MAX_SESSIONS {
            map.retain(|_, (_, seen)| now.duration_since(*seen) < SESSION_IDLE);
            if map.len() >= MAX_SESSIONS {
                if let Some(oldest) = map.iter().min_by_key(|(_, (_, s))| *s).map(|(k, _)| k.clone()) {
                    map.remove(&oldest);
                }
            }
        }
        let d = Arc::new(tokio::sync::Mutex::new(create()));
        map.insert(id.to_string(), (d.clone(), now));
        (d, true)
    }

    /// Number of live conversations.
    pub fn len(&self) -> usize {
        self.map.lock().map(|m| m.len()).unwrap_or(0)
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Everything a request handler needs.
pub struct AppState {
    /// The conversation engine (store, pipeline, business facts).
    pub engine: ServerEngine,
    /// The store, for the read endpoints.
    pub store: SqliteStore,
    /// Live conversations.
    pub sessions: Sessions,
    /// Source of "now".
    pub clock: Clock,
}

/// Builds the engine for the business in `store` with L4 configured from the
/// environment (`LLM_BASE_URL`, `LLM_API_KEY`, `LLM_MODEL`, `GROQ_API_KEY`,
/// `OPENAI_API_KEY`; none set: no model, Fluxion answers without one).
///
/// # Errors
/// The database is not seeded or fails, the time zone is unknown, or the
/// model configuration is invalid.
pub async fn build_engine(store: SqliteStore, channel: Channel) -> anyhow::Result<ServerEngine> {
    build_engine_with(store, channel, LlmConfig::from_env(|k| std::env::var(k).ok())).await
}

/// [`build_engine`] with an explicit model configuration (`None`: no L4).
///
/// # Errors
/// As [`build_engine`].
pub async fn build_engine_with(store: SqliteStore, channel: Channel, llm: Option<LlmConfig>) -> anyhow::Result<ServerEngine> {
    let business = store.business().await?;
    let services = store.services().await?;
    let operators = store.operators().await?;
    let faqs = store.faqs().await?;
    let vertical = business.vertical;
    let pipeline = Arc::new(Pipeline::new(vertical, &services, &operators, &faqs, PipelineConfig::default())?);
    let info = Arc::new(BusinessInfo::new(business, services, operators)?);
    let l4 = match llm {
        None => L4::Off,
        Some(cfg) => {
            tracing::info!(model = %cfg.model, base_url = %cfg.base_url, "L4 language model configured");
            let client = Arc::new(LlmClient::new(cfg)?);
            let prompts_dir = std::env::var_os("FLUXION_PROMPTS_DIR").map(std::path::PathBuf::from);
            let prompts = Prompts::load(vertical, prompts_dir.as_deref());
            let desk = FrontDesk::new(store.clone(), info.clone(), channel);
            L4::Model(Box::new(Assistant::new(client, desk, pipeline.clone(), prompts, DEFAULT_CACHE_TTL)))
        }
    };
    Ok(Engine::new(store, l4, pipeline, info, channel))
}

impl AppState {
    /// State over a seeded store.
    ///
    /// # Errors
    /// See [`build_engine`].
    pub async fn new(store: SqliteStore, clock: Clock) -> anyhow::Result<Arc<Self>> {
        let engine = build_engine(store.clone(), Channel::Chat).await?;
        Ok(Self::from_engine(engine, store, clock))
    }

    /// State over an engine built elsewhere (tests, other channels).
    pub fn from_engine(engine: ServerEngine, store: SqliteStore, clock: Clock) -> Arc<Self> {
        Arc::new(AppState { engine, store, sessions: Sessions::default(), clock })
    }

    /// Whether the database answers.
    pub async fn db_ok(&self) -> Result<(), StoreError> {
        self.store.ping().await
    }
}

/// The router with every endpoint.
pub fn router(state: Arc<AppState>) -> Router {
    Router::new()
        .route("/health", get(api::health::health))
        .route("/ready", get(api::health::ready))
        .route("/metrics", get(api::health::metrics))
        .route("/api/voice/query", post(api::voice::query))
        .route("/api/appointments", get(api::read::appointments))
        .route("/api/slots", get(api::read::slots))
        .route("/api/services", get(api::read::services))
        .route("/api/clients", get(api::read::clients))
        .fallback(api::not_found)
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(tower_http::trace::TraceLayer::new_for_http())
        .with_state(state)
}

/// Serves on an already bound listener until `shutdown` resolves.
///
/// # Errors
/// The listener fails.
pub async fn serve(
    listener: TcpListener,
    state: Arc<AppState>,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    serve_router(listener, router(state), shutdown).await
}

/// Serves `router` (the app's router, possibly merged with others) on an
/// already bound listener until `shutdown` resolves.
///
/// # Errors
/// The listener fails.
pub async fn serve_router(
    listener: TcpListener,
    router: Router,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    crate::observability::metrics_handle();
    axum::serve(listener, router).with_graceful_shutdown(shutdown).await
}
