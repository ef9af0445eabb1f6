//! Graceful shutdown of a real `fluxion serve` process: with a Twilio media
//! stream open, SIGTERM turns `/ready` false at once and new calls away
//! (busy TwiML), while the open call still gets its answers; the process
//! exits 0 once the call ends, or at the drain deadline
//! (`SHUTDOWN_DRAIN_MS`) when the call does not end; the daily backup is
//! written at start; the first case also runs on PostgreSQL. Speech: espeak-ng for
//! both sides, the OpenAI-compatible recogniser pointed at a fake server
//! that hears one fixed sentence.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fluxion::telephony::dial::{self, CallFacts, Ticket};
use fluxion::telephony::simulator::{simulate_stream, SimulatorOptions};
use fluxion::telephony::{Provider, TelephonyConfig};
use futures::SinkExt;
use serde_json::{json, Value};
use tokio_tungstenite::tungstenite::Message;

use crate::telephony::{caller_audio, STREAM_SECRET, TWILIO_TOKEN};

const LINE: &str = "vorrei prenotare un taglio";

/// A fake `POST /v1/audio/transcriptions` that hears [`LINE`] in every
/// upload; its base URL.
pub(crate) async fn fake_recogniser() -> String {
    let app = axum::Router::new().fallback(|| async { axum::Json(json!({ "text": LINE })) });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move { axum::serve(listener, app).await });
    format!("http://{addr}/v1")
}

/// A `fluxion serve` child process over a fresh SQLite file, or the
/// database of a `DATABASE_URL` among its settings.
pub(crate) struct Served {
    child: Child,
    /// `http://127.0.0.1:PORT`.
    pub(crate) base: String,
    /// The telephony settings it runs with (the provider signs with them).
    config: TelephonyConfig,
    pub(crate) dir: tempfile::TempDir,
}

impl Served {
    /// Starts the binary with `env` added to the test settings and waits
    /// until `/health` answers; `None` (skip) without espeak-ng.
    pub(crate) async fn start(env: &[(&str, String)]) -> Option<Served> {
        if which("espeak-ng").is_none() {
            assert!(std::env::var_os("FLUXION_REQUIRE_ESPEAK").is_none(), "espeak-ng is required");
            eprintln!("SKIP: espeak-ng absent");
            return None;
        }
        let dir = tempfile::tempdir().expect("tempdir");
        let port = std::net::TcpListener::bind("127.0.0.1:0").expect("port").local_addr().expect("addr").port();
        let base = format!("http://127.0.0.1:{port}");
        let mut settings: Vec<(&str, String)> = vec![
            ("FLUXION_DB", dir.path().join("fluxion.db").display().to_string()),
            ("FLUXION_CACHE_DIR", dir.path().join("cache").display().to_string()),
            ("BACKUP_DIR", dir.path().join("backups").display().to_string()),
            ("PUBLIC_URL", base.clone()),
            ("TWILIO_AUTH_TOKEN", TWILIO_TOKEN.to_string()),
            ("TWILIO_ACCOUNT_SID", "ACtest".to_string()),
            ("STREAM_TOKEN_SECRET", STREAM_SECRET.to_string()),
            ("TTS_ENGINE", "espeak".to_string()),
            ("VAD_ENGINE", "webrtc".to_string()),
            ("RUST_LOG", "info".to_string()),
        ];
        if env.iter().any(|(k, _)| *k == "DATABASE_URL") {
            // FLUXION_DB would win over DATABASE_URL.
            settings.retain(|(k, _)| *k != "FLUXION_DB");
        }
        settings.extend(env.iter().cloned());
        let log = std::fs::File::create(dir.path().join("serve.log")).expect("log file");
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_fluxion"));
        cmd.args(["serve", "--vertical", "salone", "--no-mcp", "--port", &port.to_string(), "--now", crate::NOW])
            .env_remove("DATABASE_URL")
            .env_remove("FLUXION_CONFIG")
            .env_remove("BACKUP_DIR")
            .current_dir(dir.path())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log);
        for (k, v) in &settings {
            cmd.env(k, v);
        }
        let child = cmd.spawn().expect("start fluxion serve");
        let config = TelephonyConfig::from_lookup(|k| settings.iter().find(|(n, _)| *n == k).map(|(_, v)| v.clone())).expect("telephony");
        let mut served = Served { child, base, config, dir };
        let started = Instant::now();
        loop {
            if let Ok(r) = reqwest::get(served.url("/health")).await {
                if r.status() == 200 {
                    break;
                }
            }
            if let Some(status) = served.child.try_wait().expect("wait") {
                panic!("fluxion serve exited early ({status}):\n{}", served.log());
            }
            assert!(started.elapsed() < Duration::from_secs(180), "fluxion serve did not come up:\n{}", served.log());
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        Some(served)
    }

    /// The server's process id.
    pub(crate) fn pid(&self) -> u32 {
        self.child.id()
    }

    pub(crate) fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// What the server logged so far.
    pub(crate) fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("serve.log")).unwrap_or_default()
    }

    /// Sends SIGTERM.
    pub(crate) fn terminate(&self) {
        let status = Command::new("kill").args(["-TERM", &self.child.id().to_string()]).status().expect("kill");
        assert!(status.success());
    }

    /// Waits up to `limit` for the process to exit; its exit status.
    pub(crate) async fn exited(&mut self, limit: Duration) -> std::process::ExitStatus {
        let started = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().expect("wait") {
                return status;
            }
            assert!(started.elapsed() < limit, "still running {limit:?} after SIGTERM:\n{}", self.log());
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// `GET path` → (status, JSON body).
    pub(crate) async fn get(&self, path: &str) -> (u16, Value) {
        let r = reqwest::get(self.url(path)).await.expect("request");
        (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
    }

    /// The webhook answer for a new Twilio call.
    pub(crate) async fn answer(&self, call_sid: &str) -> anyhow::Result<Ticket> {
        let facts = CallFacts { call_sid: call_sid.to_string(), caller: Some("+393401234567".to_string()), called: None };
        dial::answer(&reqwest::Client::new(), &self.base, &self.config, Provider::Twilio, &facts).await
    }

    /// Waits until `/health` counts `n` calls in progress.
    pub(crate) async fn calls_in_progress(&self, n: u64) {
        let started = Instant::now();
        while self.get("/health").await.1["calls"].as_u64() != Some(n) {
            assert!(started.elapsed() < Duration::from_secs(30), "{n} call(s) never in progress:\n{}", self.log());
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn which(program: &str) -> Option<std::path::PathBuf> {
    std::env::split_paths(&std::env::var_os("PATH")?).map(|d| d.join(program)).find(|p| p.is_file())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_refuses_new_calls_and_lets_the_open_call_finish() {
    sigterm_during_a_call(None).await;
}

/// The same on PostgreSQL: the instance's calls finish while it drains.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_during_a_call_on_postgres() {
    let Some(db) = crate::pg::empty("sigterm").await else { return };
    sigterm_during_a_call(Some(db.url.connect_url().to_string())).await;
}

/// SIGTERM while a call is in its greeting, over SQLite or the PostgreSQL
/// database at `database_url`.
async fn sigterm_during_a_call(database_url: Option<String>) {
    let stt = fake_recogniser().await;
    let mut env = vec![("STT_ENGINE", "openai".to_string()), ("STT_BASE_URL", stt), ("SHUTDOWN_DRAIN_MS", "120000".to_string())];
    env.extend(database_url.map(|u| ("DATABASE_URL", u)));
    let Some(mut served) = Served::start(&env).await else { return };
    assert_eq!(served.get("/ready").await, (200, json!({ "ready": true })));

    let ticket = served.answer("CAopen").await.expect("the first call is accepted");
    let options = SimulatorOptions {
        call_sid: "CAopen".to_string(),
        caller: Some("+393401234567".to_string()),
        ..SimulatorOptions::new(Provider::Twilio, served.base.clone(), served.config.clone())
    };
    let caller = caller_audio(&[LINE]).await;
    let stream_started = Instant::now();
    let call = tokio::spawn(async move { simulate_stream(&options, &ticket, &caller).await });
    served.calls_in_progress(1).await;

    // The call is in its greeting (several seconds of speech in real time) when the signal comes.
    served.terminate();
    let signalled = Instant::now();
    let mut ready = served.get("/ready").await;
    while ready.0 == 200 && signalled.elapsed() < Duration::from_secs(2) {
        ready = served.get("/ready").await;
    }
    assert_eq!(ready, (503, json!({ "ready": false, "draining": true })), "/ready turns false at once");
    let health = served.get("/health").await;
    assert_eq!((health.0, &health.1["draining"], &health.1["calls"]), (200, &json!(true), &json!(1)), "{}", health.1);
    let refused = served.answer("CAnew").await.expect_err("a new call is turned away");
    assert!(refused.to_string().contains("without a stream"), "busy TwiML, no stream: {refused:#}");

    assert!(served.child.try_wait().expect("wait").is_none(), "still running while the call goes on");

    let call = call.await.expect("task").expect("the open call runs to its end");
    eprintln!("the call: {:?}", call.said);
    assert!(call.said.len() >= 2, "the greeting and an answer to the caller: {:?}", call.said);
    // The simulator plays in real time: call time is wall time since the stream opened.
    let answered = stream_started + Duration::from_millis(call.said[1].0);
    assert!(answered > signalled, "the agent answered during the drain ({:?} after SIGTERM)", answered.checked_duration_since(signalled));
    let status = served.exited(Duration::from_secs(30)).await;
    assert!(status.success(), "exit status {status}:\n{}", served.log());
    assert!(served.log().contains("drained: no call in progress"), "{}", served.log());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_call_that_does_not_end_is_cut_at_the_drain_deadline() {
    let stt = fake_recogniser().await;
    let env = [("STT_ENGINE", "openai".to_string()), ("STT_BASE_URL", stt), ("SHUTDOWN_DRAIN_MS", "1500".to_string())];
    let Some(mut served) = Served::start(&env).await else { return };
    // The daily backup runs at start, dated by the server's clock (--now).
    let backup = served.dir.path().join("backups").join("fluxion-2027-03-10.db");
    let started = Instant::now();
    while !backup.exists() {
        assert!(started.elapsed() < Duration::from_secs(20), "no daily backup at start:\n{}", served.log());
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(std::fs::metadata(&backup).expect("backup").permissions().mode() & 0o777, 0o600);
    }
    let ticket = served.answer("CAstuck").await.expect("accepted");
    let mut ws = dial::connect(&ticket).await.expect("stream");
    let custom: serde_json::Map<String, Value> = ticket.params.iter().map(|(k, v)| (k.clone(), json!(v))).collect();
    let start = json!({"event": "start", "streamSid": "MZstuck", "start": {"streamSid": "MZstuck", "callSid": "CAstuck",
        "customParameters": custom, "mediaFormat": {"encoding": "audio/x-mulaw", "sampleRate": 8000, "channels": 1}}});
    ws.send(Message::Text(start.to_string().into())).await.expect("start");
    served.calls_in_progress(1).await;
    served.terminate();
    let signalled = Instant::now();
    let status = served.exited(Duration::from_secs(20)).await;
    let waited = signalled.elapsed();
    assert!(status.success(), "exit status {status}:\n{}", served.log());
    assert!(waited >= Duration::from_millis(1_400), "waited for the deadline ({waited:?})");
    assert!(served.log().contains("drain deadline reached"), "{}", served.log());
    drop(ws);
}
