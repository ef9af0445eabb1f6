//! The HTTP guards on a real server: slow (half-sent) requests are dropped
//! and do not stop `/health`, connections are capped per address, one
//! address's flood is rate-limited while another is served, unknown `Host`
//! names and foreign origins are refused (also by the MCP server), CORS only
//! when configured, and WebSocket upgrades and graceful shutdown still work.
//!
//! A second address on this machine is 127.0.0.2 (Linux routes all of
//! 127.0.0.0/8 to loopback), bound as the client's source address.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use axum::extract::ws::{Message, WebSocketUpgrade};
use axum::routing::get;
use axum::Router;
use fluxion::app::{self, AppState, Engines};
use fluxion::guard::{HttpGuard, RateQuota};
use fluxion_core::booking::{Channel, Vertical};
use futures::{SinkExt, StreamExt};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};

/// Upper bound on waits that must end by themselves (a hung test fails
/// instead of hanging; nothing here measures time).
const SAFETY: Duration = Duration::from_secs(20);

/// A seeded server under `guard`; dropped: shut down.
struct Guarded {
    addr: SocketAddr,
    /// A trusted API token of the seeded business.
    token: String,
    _dir: tempfile::TempDir,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    served: Option<tokio::task::JoinHandle<std::io::Result<()>>>,
}

impl Guarded {
    async fn spawn(guard: HttpGuard) -> Self {
        let (dir, store, tenant) = crate::seeded_sqlite(Vertical::Salone).await;
        let (_, token) = fluxion::auth::create_token(&tenant, "tests", true).await.expect("token");
        let engines = Engines::with_llm(store, Channel::Chat, None).await.expect("engines");
        let state: Arc<AppState> = AppState::with_engines(engines, crate::test_clock());
        let router = app::router(state).route("/echo", get(echo));
        Self::serve(router, guard, dir, token).await
    }

    async fn serve(router: Router, guard: HttpGuard, dir: tempfile::TempDir, token: String) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let served = tokio::spawn(async move {
            app::serve_guarded(listener, router, &guard, async {
                let _ = rx.await;
            })
            .await
        });
        Guarded { addr, token, _dir: dir, stop: Some(tx), served: Some(served) }
    }

    fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// A TCP connection from `source` (127.0.0.1, 127.0.0.2, …).
    async fn connect_from(&self, source: &str) -> TcpStream {
        let socket = TcpSocket::new_v4().expect("socket");
        socket.bind(format!("{source}:0").parse().expect("source")).expect("bind source");
        socket.connect(self.addr).await.expect("connect")
    }
}

impl Drop for Guarded {
    fn drop(&mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
    }
}

/// A WebSocket echo, to check upgrades through the accept loop.
async fn echo(ws: WebSocketUpgrade) -> axum::response::Response {
    ws.on_upgrade(|mut socket| async move {
        while let Some(Ok(msg)) = socket.recv().await {
            if let Message::Text(t) = msg {
                if socket.send(Message::Text(t)).await.is_err() {
                    break;
                }
            }
        }
    })
}

/// A client from `source` sending `token` as its bearer token.
fn client_from(source: &str, token: &str) -> reqwest::Client {
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert(reqwest::header::AUTHORIZATION, format!("Bearer {token}").parse().expect("header"));
    reqwest::Client::builder().local_address(source.parse::<IpAddr>().ok()).default_headers(headers).build().expect("client")
}

async fn health_status(client: &reqwest::Client, app: &Guarded) -> u16 {
    tokio::time::timeout(SAFETY, client.get(app.url("/health")).send()).await.expect("/health answers").expect("request").status().as_u16()
}

/// Reads until the server closes the connection; true when it did (EOF or
/// reset) within [`SAFETY`].
async fn closed_by_server(stream: &mut TcpStream) -> bool {
    let mut buf = [0u8; 1024];
    let read_to_end = async {
        loop {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
        }
    };
    tokio::time::timeout(SAFETY, read_to_end).await.is_ok()
}

#[tokio::test]
async fn slow_clients_are_dropped_and_health_answers() {
    let guard = HttpGuard {
        header_timeout: Duration::from_millis(300),
        body_timeout: Duration::from_millis(300),
        rate: None,
        ..HttpGuard::default()
    };
    let app = Guarded::spawn(guard).await;
    let mut slow = Vec::new();
    for i in 0..150 {
        let mut s = app.connect_from("127.0.0.2").await;
        match i % 3 {
            // Headers half sent.
            0 => s.write_all(b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ").await.expect("write"),
            // A body promised and never sent.
            1 => s
                .write_all(b"POST /api/voice/query HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 500\r\n\r\n{\"session_id\":")
                .await
                .expect("write"),
            // Nothing at all.
            _ => {}
        }
        slow.push(s);
    }
    // A fresh connection per request: a pooled keep-alive connection left idle
    // while the slow clients are dropped is itself closed by the 300 ms header
    // timeout, and reusing it would fail with IncompleteMessage.
    let client = reqwest::Client::builder().pool_max_idle_per_host(0).build().expect("client");
    assert_eq!(health_status(&client, &app).await, 200, "/health answers while 150 slow clients are connected");
    for (i, s) in slow.iter_mut().enumerate() {
        assert!(closed_by_server(s).await, "slow client {i} was never dropped");
    }
    assert_eq!(health_status(&client, &app).await, 200);
}

#[tokio::test]
async fn connections_are_capped_per_address() {
    let guard = HttpGuard { max_connections_per_ip: 5, rate: None, ..HttpGuard::default() };
    let app = Guarded::spawn(guard).await;
    let mut held = Vec::new();
    for _ in 0..5 {
        let mut s = app.connect_from("127.0.0.2").await;
        s.write_all(b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n").await.expect("write");
        held.push(s);
    }
    let mut sixth = app.connect_from("127.0.0.2").await;
    let _ = sixth.write_all(b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n").await;
    let mut answer = Vec::new();
    let _ = tokio::time::timeout(SAFETY, sixth.read_to_end(&mut answer)).await.expect("the sixth connection is closed");
    assert!(answer.is_empty(), "the sixth connection from one address got an answer: {}", String::from_utf8_lossy(&answer));
    assert_eq!(health_status(&reqwest::Client::new(), &app).await, 200, "another address is served");
    drop(held);
}

#[tokio::test]
async fn a_flood_from_one_address_is_rate_limited_while_another_is_served() {
    let guard = HttpGuard { rate: RateQuota::new(1, 5), ..HttpGuard::default() };
    let app = Guarded::spawn(guard).await;
    let flood = client_from("127.0.0.2", &app.token);
    let mut limited = 0;
    for _ in 0..60 {
        let r = flood.get(app.url("/api/services")).send().await.expect("request");
        if r.status() == 429 {
            assert!(r.headers().contains_key("retry-after"));
            limited += 1;
        }
    }
    // 5 at once, then 1 per second: at least 30 of 60 are refused unless the
    // 60 requests took longer than 25 s.
    assert!(limited >= 30, "only {limited} of 60 flood requests were limited");
    let other = client_from("127.0.0.1", &app.token);
    let r = other.get(app.url("/api/services")).send().await.expect("request");
    assert_eq!(r.status(), 200, "another address is served");
    assert_eq!(health_status(&flood, &app).await, 200, "probes are never limited");
}

#[tokio::test]
async fn unknown_hosts_and_foreign_origins_are_refused() {
    let app = Guarded::spawn(HttpGuard { rate: None, ..HttpGuard::default() }).await;
    let c = client_from("127.0.0.1", &app.token);
    let status = |r: reqwest::Response| r.status().as_u16();
    assert_eq!(status(c.get(app.url("/api/services")).send().await.expect("req")), 200);
    assert_eq!(status(c.get(app.url("/api/services")).header("host", "localhost:3002").send().await.expect("req")), 200);
    let rebound = c.get(app.url("/api/clients")).header("host", "attacker.example:3002").send().await.expect("req");
    assert_eq!(status(rebound), 421, "DNS rebinding: a foreign Host is refused");
    let cross = c.post(app.url("/api/voice/query")).header("origin", "https://attacker.example").body("{}").send().await.expect("req");
    assert_eq!(status(cross), 403, "a foreign Origin is refused");
    let same = c.get(app.url("/api/services")).header("origin", format!("http://{}", app.addr)).send().await.expect("req");
    assert_eq!(same.status(), 200, "the same origin is served");
    assert!(same.headers().get("access-control-allow-origin").is_none(), "no CORS unless configured");
    assert_eq!(status(c.get(app.url("/health")).header("host", "10.1.2.3").send().await.expect("req")), 200, "probes answer any host");
}

#[tokio::test]
async fn cors_only_for_configured_origins() {
    let guard = HttpGuard { rate: None, cors_origins: vec!["https://app.example.it".into()], ..HttpGuard::default() };
    let app = Guarded::spawn(guard).await;
    let c = reqwest::Client::new();
    let preflight = c
        .request(reqwest::Method::OPTIONS, app.url("/api/voice/query"))
        .header("origin", "https://app.example.it")
        .header("access-control-request-method", "POST")
        .header("access-control-request-headers", "content-type")
        .send()
        .await
        .expect("preflight");
    assert!(preflight.status().is_success(), "{}", preflight.status());
    assert_eq!(preflight.headers().get("access-control-allow-origin").and_then(|v| v.to_str().ok()), Some("https://app.example.it"));
    let other = c.get(app.url("/api/services")).header("origin", "https://other.example").send().await.expect("req");
    assert_eq!(other.status(), 403);
}

#[tokio::test]
async fn websocket_upgrades_and_graceful_shutdown_work() {
    let mut app = Guarded::spawn(HttpGuard::default()).await;
    let (mut ws, _) = tokio_tungstenite::connect_async(format!("ws://{}/echo", app.addr)).await.expect("upgrade");
    ws.send(tokio_tungstenite::tungstenite::Message::text("ciao")).await.expect("send");
    let back = tokio::time::timeout(SAFETY, ws.next()).await.expect("echo").expect("a message").expect("ok");
    assert_eq!(back.into_text().expect("text").as_str(), "ciao");
    drop(ws);
    let served = app.served.take().expect("server task");
    drop(app);
    let ended = tokio::time::timeout(SAFETY, served).await.expect("the server stops on the signal");
    assert!(matches!(ended, Ok(Ok(()))), "{ended:?}");
}

#[tokio::test]
async fn mcp_refuses_foreign_origins() {
    let (_dir, _store, tenant) = crate::seeded_sqlite(Vertical::Salone).await;
    let engine = Arc::new(app::build_engine(tenant, Channel::Staff).await.expect("engine"));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let (_stop, rx) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(fluxion::mcp::serve_http(listener, engine, crate::test_clock(), None, async {
        let _ = rx.await;
    }));
    let body = serde_json::json!({"jsonrpc": "2.0", "id": 1, "method": "ping"});
    let post = |origin: Option<&str>| {
        let mut r = reqwest::Client::new()
            .post(format!("http://{addr}{}", fluxion::mcp::HTTP_PATH))
            .header("accept", "application/json, text/event-stream")
            .json(&body);
        if let Some(o) = origin {
            r = r.header("origin", o);
        }
        r.send()
    };
    assert_eq!(post(Some("https://attacker.example")).await.expect("req").status(), 403);
    assert_ne!(post(Some(&format!("http://localhost:{}", addr.port()))).await.expect("req").status(), 403);
    assert_ne!(post(None).await.expect("req").status(), 403, "clients without Origin (not browsers) pass");
}
