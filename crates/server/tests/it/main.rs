//! Integration tests: the real server on a free port, a real SQLite file.

mod api;
mod booking_race;
mod conversations;
mod l4;
mod mcp;
mod nlu_eval;
mod speech_cloud;
mod telephony;
mod voice;

use std::net::SocketAddr;
use std::sync::Arc;

use fluxion::app::{self, AppState};
use fluxion::clock::{parse_now, Clock};
use fluxion::seed::SeedData;
use fluxion::store::SqliteStore;
use fluxion_core::booking::Vertical;
use serde_json::{json, Value};

/// Wednesday 10 March 2027, 10:00 in Rome: "domani" is Thursday 11.
pub const NOW: &str = "2027-03-10T10:00:00";

/// A server running on 127.0.0.1:0 over a fresh seeded database.
pub struct TestApp {
    pub addr: SocketAddr,
    pub store: SqliteStore,
    pub client: reqwest::Client,
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
        let dir = tempfile::tempdir().expect("tempdir");
        let store = SqliteStore::open(&dir.path().join("fluxion.db")).await.expect("open db");
        SeedData::demo(vertical).expect("seed").load(&store, false).await.expect("load seed");
        let tz = jiff::tz::TimeZone::get("Europe/Rome").expect("tz");
        let clock = Clock::Fixed(parse_now(NOW, &tz).expect("now"));
        let engine = app::build_engine_with(store.clone(), fluxion_core::booking::Channel::Chat, llm).await.expect("engine");
        let state: Arc<AppState> = AppState::from_engine(engine, store.clone(), clock);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        tokio::spawn(app::serve(listener, state.clone(), async {
            let _ = rx.await;
        }));
        TestApp { addr, store, client: reqwest::Client::new(), state, _dir: dir, shutdown: Some(tx) }
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
        sqlx::query_scalar(sql).fetch_one(self.store.pool()).await.expect("count")
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}
