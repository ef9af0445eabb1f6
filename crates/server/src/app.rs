//! The HTTP application: shared state, the HTTP and WhatsApp conversations
//! kept in the database between turns ([`Sessions`]), the per-business
//! conversation engines ([`Engines`]), the router, and serving on a bound
//! listener until a shutdown signal.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use axum::extract::DefaultBodyLimit;
use axum::routing::get;
use axum::Router;
use jiff::Timestamp;
use tokio::net::TcpListener;

use fluxion_core::booking::desk::FrontDesk;
use fluxion_core::booking::{Channel, Id, Repository, StoreError};
use fluxion_core::dialogue::session::Engine;
use fluxion_core::dialogue::{BusinessInfo, Dialogue, DialogueState};
use fluxion_core::nlu::{Pipeline, PipelineConfig};

use crate::api;
use crate::assistant::{Assistant, Prompts, DEFAULT_CACHE_TTL, L4};
use crate::clock::Clock;
use crate::guard::HttpGuard;
use crate::llm::{LlmClient, LlmConfig};
use crate::store::dialogues::{Claim, ClaimRequest, ClaimedDialogue};
use crate::store::{NumberKind, Store, Tenant};

/// Largest accepted request body, bytes.
pub const MAX_BODY_BYTES: usize = 64 * 1024;
/// Conversations idle longer than this start afresh (and are purged).
pub const SESSION_IDLE: Duration = Duration::from_secs(30 * 60);
/// How long one turn may hold its conversation; a turn of the same
/// conversation arriving meanwhile waits, and after this a lease left by a
/// crashed instance lapses.
pub const TURN_LEASE: Duration = Duration::from_secs(60);
/// Longest a turn waits for its conversation held by another turn.
pub const CLAIM_WAIT: Duration = Duration::from_secs(65);

/// The engine type the server runs: one business's store, pipeline and facts.
pub type ServerEngine = Engine<Tenant, L4>;

/// The HTTP and WhatsApp conversations. Their state lives in the database
/// between turns (`dialogue_sessions`, see [`crate::store::dialogues`]), so
/// any instance over the same database continues a conversation another
/// began; nothing is cached here. A turn [`Sessions::open`]s its
/// conversation (waiting while another turn of it runs, on any instance),
/// runs, and [`Held::save`]s it before its reply goes out. Phone calls keep
/// their dialogue in the call's task instead.
#[derive(Default)]
pub struct Sessions {
    in_progress: Arc<AtomicUsize>,
}

/// Why a conversation could not be opened or saved.
#[derive(Debug, thiserror::Error)]
pub enum SessionError {
    /// The database failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Another turn of the conversation held it for all of [`CLAIM_WAIT`].
    #[error("the conversation is busy with another turn")]
    Busy,
    /// The turn held the conversation past [`TURN_LEASE`] and another turn
    /// took it, or the conversation was erased meanwhile: the turn's state
    /// was not saved.
    #[error("the conversation's state was not saved: the turn no longer held it")]
    LeaseLost,
}

/// A conversation held by one turn, until [`Held::save`] (dropped unsaved:
/// released in the background, the stored state unchanged).
pub struct Held {
    tenant: Tenant,
    claim: Option<ClaimedDialogue>,
    in_progress: Arc<AtomicUsize>,
}

impl Sessions {
    /// Opens business `tenant`'s conversation `key` (whose chat-history id
    /// is `session_id`) for one turn, waiting up to [`CLAIM_WAIT`] while
    /// another turn holds it. Returns the hold and the conversation resumed
    /// over `info`, or `None` when it is new, idle for `idle` or longer
    /// (`idle` longer than [`SESSION_IDLE`] is cut to it), or its stored
    /// state is unreadable (another version, corrupt: logged): the caller
    /// starts a new dialogue then.
    ///
    /// # Errors
    /// [`SessionError::Store`], [`SessionError::Busy`].
    pub async fn open(
        &self,
        tenant: &Tenant,
        key: &str,
        session_id: &str,
        idle: Duration,
        info: &Arc<BusinessInfo>,
    ) -> Result<(Held, Option<Dialogue>), SessionError> {
        let token = lease_token();
        let started = Instant::now();
        let mut pause = Duration::from_millis(10);
        let claim = loop {
            let now = Timestamp::now();
            let until = now.checked_add(TURN_LEASE).unwrap_or(Timestamp::MAX);
            let request = ClaimRequest { key, session_id, token: &token, now, until };
            match tenant.claim_dialogue(request).await? {
                Claim::Held(c) => break c,
                Claim::Busy if started.elapsed() >= CLAIM_WAIT => return Err(SessionError::Busy),
                Claim::Busy => {
                    tokio::time::sleep(pause).await;
                    pause = (pause * 2).min(Duration::from_millis(200));
                }
            }
        };
        self.in_progress.fetch_add(1, Ordering::Relaxed);
        let idle = idle.min(SESSION_IDLE);
        let fresh = claim.updated_at.checked_add(idle).ok().is_none_or(|until| Timestamp::now() < until);
        let resumed = match claim.state.as_deref() {
            Some(_) if !fresh => None,
            Some(json) => match DialogueState::from_json(json) {
                Ok(state) => Some(Dialogue::resume(info.clone(), state)),
                Err(e) => {
                    tracing::warn!(tenant = tenant.id(), session = %session_id, error = %e, "stored conversation unreadable: starting afresh");
                    None
                }
            },
            None => None,
        };
        let held = Held { tenant: tenant.clone(), claim: Some(claim), in_progress: self.in_progress.clone() };
        Ok((held, resumed))
    }

    /// Turns in progress on this instance.
    pub fn len(&self) -> usize {
        self.in_progress.load(Ordering::Relaxed)
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl Held {
    /// Saves `dialogue` as the conversation's state and lets the next turn
    /// have it. Returns the conversation's revision (turns saved).
    ///
    /// # Errors
    /// [`SessionError::Store`]; [`SessionError::LeaseLost`] when the turn no
    /// longer held the conversation. Nothing is saved then.
    pub async fn save(mut self, dialogue: &Dialogue) -> Result<i64, SessionError> {
        let Some(claim) = self.claim.take() else { return Err(SessionError::LeaseLost) };
        self.in_progress.fetch_sub(1, Ordering::Relaxed);
        let state = dialogue.state();
        let saved = match state.to_json() {
            Ok(json) => self.tenant.save_dialogue(&claim, &json, state.client_id(), Timestamp::now()).await,
            Err(e) => Err(StoreError::fatal(format!("conversation state not serialisable: {e}"))),
        };
        match saved {
            Ok(Some(revision)) => Ok(revision),
            Ok(None) => Err(SessionError::LeaseLost),
            Err(e) => {
                if let Err(e) = self.tenant.release_dialogue(&claim).await {
                    tracing::warn!(error = %e, "conversation lease not released: it lapses on its own");
                }
                Err(e.into())
            }
        }
    }
}

impl Drop for Held {
    fn drop(&mut self) {
        let Some(claim) = self.claim.take() else { return };
        self.in_progress.fetch_sub(1, Ordering::Relaxed);
        let tenant = self.tenant.clone();
        if let Ok(rt) = tokio::runtime::Handle::try_current() {
            rt.spawn(async move {
                if let Err(e) = tenant.release_dialogue(&claim).await {
                    tracing::warn!(error = %e, "conversation lease not released: it lapses on its own");
                }
            });
        }
    }
}

/// A lease token no other turn, on any instance, has: process id, wall
/// clock in ns, and a counter.
fn lease_token() -> String {
    static N: AtomicU64 = AtomicU64::new(0);
    format!("{:x}-{:x}-{}", std::process::id(), Timestamp::now().as_nanosecond(), N.fetch_add(1, Ordering::Relaxed))
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
    /// The HTTP and WhatsApp conversations (stored in the database).
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
    let llm = crate::llm::for_business(llm, &tenant.integrations().await?.llm);
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
    /// phone-number id, also as named in a business's WhatsApp integration)
    /// routes to, with the fallback of
    /// [`AppState::tenant_for_called`].
    ///
    /// # Errors
    /// Database errors.
    pub async fn tenant_for(&self, kind: NumberKind, number: Option<&str>) -> Result<Option<Tenant>, StoreError> {
        if let Some(number) = number.map(str::trim).filter(|n| !n.is_empty()) {
            if let Some(t) = self.store.tenant_by_number(kind, number).await? {
                return Ok(Some(t));
            }
            if kind == NumberKind::Whatsapp {
                if let Some(t) = self.store.tenant_by_whatsapp_integration(number).await? {
                    return Ok(Some(t));
                }
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
