//! Integration tests: the real server on a free port, a real SQLite file;
//! the store tests also run against PostgreSQL when one answers (see [`pg`]).

mod api;
mod auth;
mod automation;
mod backup;
mod booking_race;
mod call_memory;
mod console;
mod conversations;
mod deploy;
mod gdpr;
mod guard;
mod instances;
mod integrations;
mod l4;
mod loyalty;
mod mcp;
mod nlu_eval;
mod notify;
mod openapi;
mod pg;
mod processes;
mod retention;
mod scenarios;
mod shutdown;
mod sms;
mod speech_cloud;
mod store;
mod stream_auth;
mod telephony;
mod voice;
mod web;
mod web_browser;
mod whatsapp;
mod whisper_real;

use std::net::SocketAddr;
use std::sync::Arc;

use fluxion::app::{self, AppState, Engines};
use fluxion::clock::{parse_now, Clock};
use fluxion::seed::SeedData;
use fluxion::store::{DatabaseUrl, Store, Tenant};
use fluxion_core::booking::Vertical;
use serde_json::{json, Value};

/// Wednesday 10 March 2027, 10:00 in Rome: "domani" is Thursday 11.
pub const NOW: &str = "2027-03-10T10:00:00";

/// A server running on 127.0.0.1:0 over a fresh seeded database.
pub struct TestApp {
    pub addr: SocketAddr,
    /// The database.
    pub store: Store,
    /// The seeded (default) business.
    pub tenant: Tenant,
    /// Sends the seeded business's trusted API token on every request.
    pub client: reqwest::Client,
    /// Sends no credentials.
    pub anon: reqwest::Client,
    /// The trusted API token of `client` (made as `fluxion token create` does).
    pub token: String,
    pub state: Arc<AppState>,
    _dir: tempfile::TempDir,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
}

impl TestApp {
    pub async fn spawn() -> Self {
        Self::spawn_with(Vertical::Salone).await
    }

    pub async fn spawn_with(vertical: Vertical) -> Self {
        Self::spawn_full(vertical, None).await
    }

    /// A server whose L4 is the given model configuration.
    pub async fn spawn_with_llm(llm: fluxion::llm::LlmConfig) -> Self {
        Self::spawn_full(Vertical::Salone, Some(llm)).await
    }

    async fn spawn_full(vertical: Vertical, llm: Option<fluxion::llm::LlmConfig>) -> Self {
        let (dir, store, tenant) = seeded_sqlite(vertical).await;
        let engines = Engines::with_llm(store.clone(), fluxion_core::booking::Channel::Chat, llm).await.expect("engines");
        let state: Arc<AppState> = AppState::with_engines(engines, test_clock());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        tokio::spawn(app::serve(listener, state.clone(), async {
            let _ = rx.await;
        }));
        let (_, token) = fluxion::auth::create_token(&tenant, "tests", true).await.expect("token");
        let client = bearer_client(&token);
        TestApp { addr, store, tenant, client, anon: reqwest::Client::new(), token, state, _dir: dir, shutdown: Some(tx) }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    /// One turn; panics unless the server answers 200.
    pub async fn say(&self, session: &str, phone: Option<&str>, text: &str) -> Value {
        let mut body = json!({ "session_id": session, "text": text });
        if let Some(p) = phone {
            body["phone"] = json!(p);
        }
        let r = self.client.post(self.url("/api/voice/query")).json(&body).send().await.expect("request");
        assert_eq!(r.status(), 200, "turn '{text}' failed");
        let v: Value = r.json().await.expect("json");
        eprintln!("> {text}\n< {} [{} {}]", v["reply"], v["intent"], v["layer"]);
        v
    }

    pub async fn get(&self, path: &str) -> (u16, Value) {
        let r = self.client.get(self.url(path)).send().await.expect("request");
        let status = r.status().as_u16();
        (status, r.json().await.unwrap_or(Value::Null))
    }

    pub async fn count(&self, sql: &str) -> i64 {
        count(&self.store, sql).await
    }

    /// The SQLite file.
    pub fn db_file(&self) -> std::path::PathBuf {
        match self.store.url() {
            DatabaseUrl::Sqlite(path) => path.clone(),
            DatabaseUrl::Postgres(_) => unreachable!("TestApp runs on SQLite"),
        }
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

/// A client that sends `Authorization: Bearer <token>` on every request.
pub fn bearer_client(token: &str) -> reqwest::Client {
    let mut headers = reqwest::header::HeaderMap::new();
    let value = reqwest::header::HeaderValue::from_str(&format!("Bearer {token}")).expect("header");
    headers.insert(reqwest::header::AUTHORIZATION, value);
    reqwest::Client::builder().default_headers(headers).build().expect("client")
}

/// The fixed clock of the tests ([`NOW`] in Rome).
pub fn test_clock() -> Clock {
    let tz = jiff::tz::TimeZone::get("Europe/Rome").expect("tz");
    Clock::Fixed(parse_now(NOW, &tz).expect("now"))
}

/// A fresh SQLite file in a temporary folder, seeded with `vertical`'s demo business.
pub async fn seeded_sqlite(vertical: Vertical) -> (tempfile::TempDir, Store, Tenant) {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Store::open(&DatabaseUrl::Sqlite(dir.path().join("fluxion.db"))).await.expect("open db");
    let tenant = SeedData::demo(vertical).expect("seed").load(&store, false).await.expect("load seed");
    (dir, store, tenant)
}

/// A raw `SELECT COUNT(*) …` (test-only: production code goes through the store's interface).
pub async fn count(store: &Store, sql: &str) -> i64 {
    sqlx::query_scalar(sql).fetch_one(store.pool_for_tests()).await.expect("count")
}
