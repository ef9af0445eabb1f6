//! The HTTP application: shared state, the per-business conversation
//! engines ([`Engines`]), the router, and serving on a bound listener until
//! a shutdown signal.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use axum::extract::DefaultBodyLimit;
use axum::routing::get;
use axum::Router;
use tokio::net::TcpListener;

use fluxion_core::booking::desk::FrontDesk;
use fluxion_core::booking::{Channel, Id, Repository, StoreError};
use fluxion_core::dialogue::session::Engine;
use fluxion_core::dialogue::{BusinessInfo, Dialogue};
use fluxion_core::nlu::{Pipeline, PipelineConfig};

use crate::api;
use crate::assistant::{Assistant, Prompts, DEFAULT_CACHE_TTL, L4};
use crate::clock::Clock;
use crate::guard::HttpGuard;
use crate::llm::{LlmClient, LlmConfig};
use crate::store::{NumberKind, Store, Tenant};

/// Largest accepted request body, bytes.
pub const MAX_BODY_BYTES: usize = 64 * 1024;
/// Conversations idle longer than this are forgotten.
pub const SESSION_IDLE: Duration = Duration::from_secs(30 * 60);
/// At most this many live conversations are kept; the idlest go first.
pub const MAX_SESSIONS: usize = 10_000;

/// The engine type the server runs: one business's store, pipeline and facts.
pub type ServerEngine = Engine<Tenant, L4>;

/// A live conversation and when it was last used.
type Live = (Arc<tokio::sync::Mutex<Dialogue>>, Instant);

/// Live conversations by session id.
#[derive(Default)]
pub struct Sessions {
    map: Mutex<HashMap<String, Live>>,
}

impl Sessions {
    /// Business `tenant`'s conversation with this id, created when unknown
    /// (or expired). Returns it and whether it is new.
    pub fn get_or_create(&self, tenant: Id, id: &str, create: impl FnOnce() -> Dialogue) -> (Arc<tokio::sync::Mutex<Dialogue>>, bool) {
        self.get_or_create_within(tenant, id, SESSION_IDLE, create)
    }

    /// [`Sessions::get_or_create`] where a conversation idle for `idle` or
    /// longer starts afresh (a WhatsApp chat resumed the next day is a new
    /// conversation). `idle` longer than [`SESSION_IDLE`] is cut to it.
    pub fn get_or_create_within(
        &self,
        tenant: Id,
        id: &str,
        idle: Duration,
        create: impl FnOnce() -> Dialogue,
    ) -> (Arc<tokio::sync::Mutex<Dialogue>>, bool) {
        let key = format!("{tenant}:{id}");
        let mut map = self.map.lock().unwrap_or_else(|p| p.into_inner());
        let now = Instant::now();
        if let Some((d, seen)) = map.get_mut(&key) {
            if now.duration_since(*seen) < idle.min(SESSION_IDLE) {
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
        map.insert(key, (d.clone(), now));
        (d, true)
    }

    /// Forgets business `tenant`'s live conversations with these ids (their
    /// client was erased: the next turn starts afresh).
    pub fn forget(&self, tenant: Id, ids: &[String]) {
        let mut map = self.map.lock().unwrap_or_else(|p| p.into_inner());
        for id in ids {
            map.remove(&format!("{tenant}:{id}"));
        }
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

/// The conversation engines, one per business: built on first use, rebuilt
/// by [`Engines::reload`] when a business's configuration changes. A turn
/// takes the current engine when it starts, so the turn after a reload runs
/// on the new one while turns in flight finish on the old.
pub struct Engines {
    store: Store,
    channel: Channel,
    llm: Option<LlmConfig>,
    default: Id,
    /// The default business's engine.
    default_engine: RwLock<Arc<ServerEngine>>,
    /// The other engines, as built: other businesses on the default
    /// channel, and any business on another channel (phone, WhatsApp).
    others: RwLock<HashMap<(Id, Channel), Arc<ServerEngine>>>,
    /// One build at a time, so a slow build never overwrites a newer one.
    building: tokio::sync::Mutex<()>,
}

impl Engines {
    /// The engines of `store`'s businesses for `channel`, with L4 configured
    /// from the environment (see [`build_engine`]); the default business's
    /// engine is built now.
    ///
    /// # Errors
    /// The database holds no business or fails, or see [`build_engine`].
    pub async fn new(store: Store, channel: Channel) -> anyhow::Result<Self> {
        Self::with_llm(store, channel, LlmConfig::from_env(|k| std::env::var(k).ok())).await
    }

    /// [`Engines::new`] with an explicit model configuration (`None`: no L4).
    ///
    /// # Errors
    /// As [`Engines::new`].
    pub async fn with_llm(store: Store, channel: Channel, llm: Option<LlmConfig>) -> anyhow::Result<Self> {
        let default =
            store.default_tenant().await?.ok_or_else(|| anyhow::anyhow!("the database holds no business (run `fluxion db seed`)"))?;
        let engine = build_engine_with(default.clone(), channel, llm.clone()).await?;
        tracing::info!(tenant = default.id(), business = %engine.info().business.name, "conversation engine built");
        Ok(Engines {
            store,
            channel,
            llm,
            default: default.id(),
            default_engine: RwLock::new(Arc::new(engine)),
            others: RwLock::new(HashMap::new()),
            building: tokio::sync::Mutex::new(()),
        })
    }

    /// The default business (the first; the only one in single-business
    /// deployments).
    pub fn default_tenant(&self) -> Tenant {
        self.store.tenant(self.default)
    }

    /// The default business's current engine.
    pub fn default_engine(&self) -> Arc<ServerEngine> {
        self.default_engine.read().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Business `tenant`'s current engine on the default channel, built on
    /// first use.
    ///
    /// # Errors
    /// No such business, or see [`build_engine`].
    pub async fn get(&self, tenant: Id) -> anyhow::Result<Arc<ServerEngine>> {
        self.get_on(tenant, self.channel).await
    }

    /// Business `tenant`'s current engine for `channel` (what its bookings
    /// and transcript turns are recorded as), built on first use.
    ///
    /// # Errors
    /// No such business, or see [`build_engine`].
    pub async fn get_on(&self, tenant: Id, channel: Channel) -> anyhow::Result<Arc<ServerEngine>> {
        if tenant == self.default && channel == self.channel {
            return Ok(self.default_engine());
        }
        if let Some(e) = self.others.read().unwrap_or_else(|p| p.into_inner()).get(&(tenant, channel)) {
            return Ok(e.clone());
        }
        if channel == self.channel {
            return self.reload(tenant).await;
        }
        let _one_at_a_time = self.building.lock().await;
        if let Some(e) = self.others.read().unwrap_or_else(|p| p.into_inner()).get(&(tenant, channel)) {
            return Ok(e.clone());
        }
        let engine = Arc::new(build_engine_with(self.store.tenant(tenant), channel, self.llm.clone()).await?);
        self.others.write().unwrap_or_else(|p| p.into_inner()).insert((tenant, channel), engine.clone());
        Ok(engine)
    }

    /// Rebuilds business `tenant`'s engine from the database (after a
    /// configuration change) and makes it current; returns it. The
    /// business's engines on other channels are dropped and rebuilt on their
    /// next use.
    ///
    /// # Errors
    /// No such business, or see [`build_engine`]; the previous engine stays
    /// current then.
    pub async fn reload(&self, tenant: Id) -> anyhow::Result<Arc<ServerEngine>> {
        let _one_at_a_time = self.building.lock().await;
        let engine = Arc::new(build_engine_with(self.store.tenant(tenant), self.channel, self.llm.clone()).await?);
        if tenant == self.default {
            *self.default_engine.write().unwrap_or_else(|p| p.into_inner()) = engine.clone();
        } else {
            self.others.write().unwrap_or_else(|p| p.into_inner()).insert((tenant, self.channel), engine.clone());
        }
        self.others.write().unwrap_or_else(|p| p.into_inner()).retain(|(t, c), _| *t != tenant || *c == self.channel);
        tracing::info!(tenant, business = %engine.info().business.name, "conversation engine built");
        Ok(engine)
    }
}

/// Everything a request handler needs.
pub struct AppState {
    /// The conversation engines, per business.
    pub engines: Engines,
    /// The database.
    pub store: Store,
    /// Live conversations.
    pub sessions: Sessions,
    /// Source of "now".
    pub clock: Clock,
    /// Login attempts per user name and address.
    pub login_limit: crate::auth::limit::LoginLimiter,
    /// Serving or draining, and the calls in progress.
    pub lifecycle: crate::lifecycle::Lifecycle,
}

/// Builds the engine for business `tenant` with L4 configured from the
/// environment (`LLM_BASE_URL`, `LLM_API_KEY`, `LLM_MODEL`, `GROQ_API_KEY`,
/// `OPENAI_API_KEY`; none set: no model, Fluxion answers without one).
///
/// # Errors
/// The business does not exist or the database fails, the time zone is
/// unknown, or the model configuration is invalid.
pub async fn build_engine(tenant: Tenant, channel: Channel) -> anyhow::Result<ServerEngine> {
    build_engine_with(tenant, channel, LlmConfig::from_env(|k| std::env::var(k).ok())).await
}

/// [`build_engine`] with an explicit model configuration (`None`: no L4).
///
/// # Errors
/// As [`build_engine`].
pub async fn build_engine_with(tenant: Tenant, channel: Channel, llm: Option<LlmConfig>) -> anyhow::Result<ServerEngine> {
    let business = tenant.business().await?;
    let services = tenant.services().await?;
    let operators = tenant.operators().await?;
    let faqs = tenant.faqs().await?;
    let vertical = business.vertical;
    let pipeline = Arc::new(Pipeline::new(vertical, &services, &operators, &faqs, PipelineConfig::default())?);
    let greeting = tenant.receptionist_settings().await?.greeting;
    let info = Arc::new(BusinessInfo::new(business, services, operators)?.with_greeting(greeting));
    let l4 = match llm {
        None => L4::Off,
        Some(cfg) => {
            tracing::info!(model = %cfg.model, base_url = %cfg.base_url, "L4 language model configured");
            let client = Arc::new(LlmClient::new(cfg)?);
            let prompts_dir = std::env::var_os("FLUXION_PROMPTS_DIR").map(std::path::PathBuf::from);
            let prompts = Prompts::load(vertical, prompts_dir.as_deref());
            let desk = FrontDesk::new(tenant.clone(), info.clone(), channel);
            L4::Model(Box::new(Assistant::new(client, desk, pipeline.clone(), prompts, DEFAULT_CACHE_TTL)))
        }
    };
    Ok(Engine::new(tenant, l4, pipeline, info, channel))
}

impl AppState {
    /// State over a seeded store (chat channel, L4 from the environment).
    ///
    /// # Errors
    /// See [`Engines::new`].
    pub async fn new(store: Store, clock: Clock) -> anyhow::Result<Arc<Self>> {
        Ok(Self::with_engines(Engines::new(store, Channel::Chat).await?, clock))
    }

    /// State over engines built elsewhere (tests, other channels).
    pub fn with_engines(engines: Engines, clock: Clock) -> Arc<Self> {
        let store = engines.store.clone();
        Arc::new(AppState {
            engines,
            store,
            sessions: Sessions::default(),
            clock,
            login_limit: Default::default(),
            lifecycle: Default::default(),
        })
    }

    /// The default business's current engine.
    pub fn engine(&self) -> Arc<ServerEngine> {
        self.engines.default_engine()
    }

    /// The business a call to `called` (E.164, the telephony `To`) is for:
    /// the business that number routes to; with no such route, the only
    /// business when there is one; otherwise none (the call is refused: with
    /// several businesses an unrouted number belongs to nobody).
    ///
    /// # Errors
    /// Database errors.
    pub async fn tenant_for_called(&self, called: Option<&str>) -> Result<Option<Tenant>, StoreError> {
        self.tenant_for(NumberKind::Phone, called).await
    }

    /// The business a `kind` number (a called phone number, a WhatsApp
    /// phone-number id) routes to, with the fallback of
    /// [`AppState::tenant_for_called`].
    ///
    /// # Errors
    /// Database errors.
    pub async fn tenant_for(&self, kind: NumberKind, number: Option<&str>) -> Result<Option<Tenant>, StoreError> {
        if let Some(number) = number.map(str::trim).filter(|n| !n.is_empty()) {
            if let Some(t) = self.store.tenant_by_number(kind, number).await? {
                return Ok(Some(t));
            }
        }
        let tenants = self.store.tenants().await?;
        Ok(match tenants.as_slice() {
            [only] => Some(self.store.tenant(only.id)),
            _ => None,
        })
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
        .merge(api::catalog::api().into_router())
        .merge(crate::web::router())
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
/// already bound listener until `shutdown` resolves, under the default
/// [`HttpGuard`] (localhost names only; see [`serve_guarded`]).
///
/// # Errors
/// The listener fails.
pub async fn serve_router(
    listener: TcpListener,
    router: Router,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    serve_guarded(listener, router, &HttpGuard::default(), shutdown).await
}

/// Serves `router` on an already bound listener until `shutdown` resolves,
/// with `guard`'s request checks ([`HttpGuard::layer`]) and connection
/// limits ([`crate::guard::accept`]); WebSocket upgrades work, shutdown is
/// graceful.
///
/// # Errors
/// The listener fails.
pub async fn serve_guarded(
    listener: TcpListener,
    router: Router,
    guard: &HttpGuard,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    crate::observability::metrics_handle();
    crate::guard::accept::serve(listener, guard.layer(router), guard, shutdown).await
}
