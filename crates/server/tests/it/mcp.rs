//! The MCP server: streamable HTTP driven with raw JSON-RPC, the bearer
//! guard, and the official Python SDK over stdio (when
//! `FLUXION_TEST_PYTHON` names a Python with `mcp` installed; `scripts/test.sh`
//! sets it up).

use std::net::SocketAddr;
use std::sync::Arc;

use fluxion::app;
use fluxion::clock::{parse_now, Clock};
use fluxion::mcp;
use fluxion::store::{DatabaseUrl, NoticePolicy, NotifyChannel, Store, Tenant};
use fluxion_core::booking::{Channel, Repository, Vertical};
use serde_json::{json, Value};

use crate::NOW;

/// Protocol revision the raw JSON-RPC client speaks (the newest with an
/// `initialize` handshake).
const PROTOCOL: &str = "2025-11-25";

/// `serve_http` on 127.0.0.1:0 over a fresh seeded database.
struct McpApp {
    url: String,
    store: Store,
    tenant: Tenant,
    client: reqwest::Client,
    _dir: tempfile::TempDir,
    _stop: tokio::sync::oneshot::Sender<()>,
}

async fn seeded() -> (tempfile::TempDir, Store, Tenant) {
    crate::seeded_sqlite(Vertical::Salone).await
}

fn clock() -> Clock {
    Clock::Fixed(parse_now(NOW, &jiff::tz::TimeZone::get("Europe/Rome").expect("tz")).expect("now"))
}

impl McpApp {
    async fn spawn(bearer: Option<&str>) -> Self {
        let (dir, store, tenant) = seeded().await;
        let engine = Arc::new(app::build_engine(tenant.clone(), Channel::Staff).await.expect("engine"));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr: SocketAddr = listener.local_addr().expect("addr");
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        tokio::spawn(mcp::serve_http(listener, engine, clock(), bearer.map(String::from), async {
            let _ = rx.await;
        }));
        McpApp { url: format!("http://{addr}{}", mcp::HTTP_PATH), store, tenant, client: reqwest::Client::new(), _dir: dir, _stop: tx }
    }

    fn post(&self, body: &Value) -> reqwest::RequestBuilder {
        self.client
            .post(&self.url)
            .header("accept", "application/json, text/event-stream")
            .header("mcp-protocol-version", PROTOCOL)
            .json(body)
    }

    /// One JSON-RPC request; returns the whole response object.
    async fn rpc(&self, id: u64, method: &str, params: Value) -> Value {
        let r = self.post(&json!({ "jsonrpc": "2.0", "id": id, "method": method, "params": params })).send().await.expect("request");
        assert_eq!(r.status(), 200, "{method}");
        let v: Value = r.json().await.expect("json body");
        assert_eq!(v["id"], id, "{method}: {v}");
        v
    }

    /// `tools/call`; returns (isError, the tool's JSON).
    async fn call(&self, id: u64, name: &str, arguments: Value) -> (bool, Value) {
        let v = self.rpc(id, "tools/call", json!({ "name": name, "arguments": arguments })).await;
        let result = &v["result"];
        let text = result["content"][0]["text"].as_str().unwrap_or_else(|| panic!("{name}: no text content: {v}"));
        let body: Value = serde_json::from_str(text).expect("tool text is JSON");
        eprintln!("{name} {arguments} -> {body}");
        (result["isError"] == true, body)
    }

    async fn initialize(&self) -> Value {
        let v = self
            .rpc(
                1,
                "initialize",
                json!({ "protocolVersion": PROTOCOL, "capabilities": {}, "clientInfo": { "name": "fluxion-it", "version": "0" } }),
            )
            .await;
        let r = self.post(&json!({ "jsonrpc": "2.0", "method": "notifications/initialized" })).send().await.expect("notify");
        assert_eq!(r.status(), 202);
        v
    }

    async fn count(&self, sql: &str) -> i64 {
        sqlx::query_scalar(sql).fetch_one(self.store.pool_for_tests()).await.expect("count")
    }
}

#[tokio::test]
async fn http_lists_tools_and_resources_and_books() {
    let app = McpApp::spawn(None).await;
    let init = app.initialize().await;
    let result = &init["result"];
    assert_eq!(result["serverInfo"]["name"], "fluxion", "{init}");
    assert_eq!(result["serverInfo"]["version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(result["protocolVersion"], PROTOCOL);
    assert!(result["capabilities"]["tools"].is_object() && result["capabilities"]["resources"].is_object(), "{init}");
    assert!(result["instructions"].as_str().is_some_and(|s| !s.is_empty()));

    let tools = app.rpc(2, "tools/list", json!({})).await;
    let tools = tools["result"]["tools"].as_array().expect("tools").clone();
    assert_eq!(tools.len(), 11);
    let names: Vec<&str> = tools.iter().filter_map(|t| t["name"].as_str()).collect();
    for seed in ["search_clienti", "create_appuntamento", "get_disponibilita", "get_faq"] {
        assert!(names.contains(&seed), "{seed} missing from {names:?}");
    }
    for t in &tools {
        assert_eq!(t["inputSchema"]["type"], "object", "{t}");
        assert!(t["description"].as_str().is_some_and(|d| !d.is_empty()), "{t}");
    }

    let resources = app.rpc(3, "resources/list", json!({})).await;
    let mut uris: Vec<&str> =
        resources["result"]["resources"].as_array().expect("resources").iter().filter_map(|r| r["uri"].as_str()).collect();
    uris.sort_unstable();
    assert_eq!(uris, ["fluxion://clienti", "fluxion://faq", "fluxion://servizi"]);

    let read = app.rpc(4, "resources/read", json!({ "uri": "fluxion://servizi" })).await;
    let contents = &read["result"]["contents"][0];
    assert_eq!(contents["mimeType"], "application/json");
    let services: Value = serde_json::from_str(contents["text"].as_str().expect("text")).expect("json");
    let piega = services["services"].as_array().expect("services").iter().find(|s| s["name"] == "Piega").expect("Piega").clone();
    assert!(piega["duration_min"].as_u64().is_some_and(|m| m > 0) && piega["price_cents"].as_i64().is_some_and(|c| c > 0));
    assert!(!piega["operators"].as_array().expect("operators").is_empty());

    let clients = app.rpc(5, "resources/read", json!({ "uri": "fluxion://clienti" })).await;
    let clients: Value = serde_json::from_str(clients["result"]["contents"][0]["text"].as_str().expect("text")).expect("json");
    let first = &clients["clients"][0];
    assert!(first["phone"].is_string() && first.get("email").is_some() && first["loyalty_points"].is_i64(), "{first}");

    let faq = app.rpc(6, "resources/read", json!({ "uri": "fluxion://faq" })).await;
    let faq: Value = serde_json::from_str(faq["result"]["contents"][0]["text"].as_str().expect("text")).expect("json");
    assert!(faq["faq"].as_array().is_some_and(|f| !f.is_empty() && f[0]["answer"].is_string()), "{faq}");

    let unknown = app.rpc(7, "resources/read", json!({ "uri": "fluxion://nope" })).await;
    assert_eq!(unknown["error"]["code"], -32002, "{unknown}");

    let (is_error, slots) = app.call(8, "get_disponibilita", json!({ "servizio": "Piega", "quando": "2027-03-11" })).await;
    assert!(!is_error, "{slots}");
    let orari = slots["orari"].as_array().expect("orari");
    assert!(!orari.is_empty(), "{slots}");
    assert!(orari.iter().all(|o| o["inizio"].as_str().is_some_and(|s| s.starts_with("2027-03-11"))), "{slots}");
    let start = orari[0]["inizio"].as_str().expect("inizio").to_string();

    let (is_error, err) = app.call(9, "create_appuntamento", json!({ "quando": start, "confermato": true })).await;
    assert!(is_error);
    assert_eq!(err["errore"], "argomenti_non_validi");
    let (is_error, err) = app.call(10, "no_such_tool", json!({})).await;
    assert!(is_error);
    assert_eq!(err["errore"], "tool_sconosciuto");
    assert_eq!(app.count("SELECT COUNT(*) FROM appointments").await, 0);

    let (is_error, booked) = app
        .call(
            11,
            "create_appuntamento",
            json!({ "servizio": "Piega", "quando": start, "nome": "Grace Hopper", "telefono": "+393331112233", "confermato": true }),
        )
        .await;
    assert!(!is_error, "{booked}");
    assert_eq!(booked["appuntamento"]["inizio"], start.as_str());
    let sql = "SELECT COUNT(*) FROM appointments a JOIN clients c ON c.id = a.client_id \
               JOIN services s ON s.id = a.service_id \
               WHERE c.phone = '+393331112233' AND s.name = 'Piega' AND a.status = 'booked' \
               AND a.local_date = '2027-03-11' AND a.channel = 'staff'";
    assert_eq!(app.count(sql).await, 1);

    // The same slot again: taken, reported as a tool error with nothing written.
    let (is_error, taken) = app
        .call(
            12,
            "create_appuntamento",
            json!({ "servizio": "Piega", "quando": start, "nome": "Ada Lovelace", "telefono": "+393471234567", "confermato": true, "operatore": booked["appuntamento"]["operatore"] }),
        )
        .await;
    assert!(is_error, "{taken}");
    assert_eq!(app.count("SELECT COUNT(*) FROM appointments").await, 1);
}

#[tokio::test]
async fn http_bearer_token_is_required() {
    let app = McpApp::spawn(Some("s3cret-token")).await;
    let init = json!({ "jsonrpc": "2.0", "id": 1, "method": "initialize",
        "params": { "protocolVersion": PROTOCOL, "capabilities": {}, "clientInfo": { "name": "it", "version": "0" } } });

    let r = app.post(&init).send().await.expect("request");
    assert_eq!(r.status(), 401);
    assert_eq!(r.headers().get("www-authenticate").and_then(|v| v.to_str().ok()), Some("Bearer"));

    let r = app.post(&init).bearer_auth("s3cret-tokem").send().await.expect("request");
    assert_eq!(r.status(), 401);
    let r = app.post(&init).header("authorization", "Basic s3cret-token").send().await.expect("request");
    assert_eq!(r.status(), 401);

    let r = app.post(&init).bearer_auth("s3cret-token").send().await.expect("request");
    assert_eq!(r.status(), 200);
    let v: Value = r.json().await.expect("json");
    assert_eq!(v["result"]["serverInfo"]["name"], "fluxion");
}

#[tokio::test]
async fn http_refuses_a_public_address_without_a_token() {
    let (_dir, _store, tenant) = seeded().await;
    let engine = Arc::new(app::build_engine(tenant, Channel::Staff).await.expect("engine"));
    let listener = tokio::net::TcpListener::bind("0.0.0.0:0").await.expect("bind");
    let err = mcp::serve_http(listener, engine, clock(), None, async {}).await.expect_err("must refuse");
    assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput);
}

/// The official Python SDK (`mcp` on PyPI) against `fluxion mcp` over stdio.
#[tokio::test]
async fn python_sdk_over_stdio() {
    let Some(python) = std::env::var_os("FLUXION_TEST_PYTHON") else {
        eprintln!("skipped: FLUXION_TEST_PYTHON is not set (scripts/test.sh sets it to a venv with the Python `mcp` package)");
        return;
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let db = dir.path().join("fluxion.db");
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/mcp_client.py");
    let out = tokio::process::Command::new(&python)
        .arg(script)
        .arg(env!("CARGO_BIN_EXE_fluxion"))
        .arg(&db)
        .env("RUST_LOG", "warn")
        .output()
        .await
        .expect("run python");
    eprintln!("{}\n{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "mcp_client.py failed: {}", out.status);

    let store = Store::open(&DatabaseUrl::Sqlite(db)).await.expect("open db");
    let booked: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM appointments a JOIN clients c ON c.id = a.client_id JOIN services s ON s.id = a.service_id \
         WHERE c.phone = '+393471234567' AND c.name = 'Ada Lovelace' AND s.name = 'Piega' \
         AND a.status = 'booked' AND a.local_date = '2027-03-11'",
    )
    .fetch_one(store.pool_for_tests())
    .await
    .expect("count");
    assert_eq!(booked, 1);
}

#[tokio::test]
async fn staff_write_to_a_client_only_on_a_channel_they_consented_to() {
    let app = McpApp::spawn(None).await;
    app.initialize().await;
    let policy =
        NoticePolicy { order: vec![NotifyChannel::Sms, NotifyChannel::Email], owner: None, owner_channels: vec![], webhooks: vec![] };
    app.store.set_notice_policy(Some(policy));
    let ada = app.tenant.upsert_client("Ada Neri", "+393471110000", Some("ada@example.it")).await.expect("client");
    let messages = "SELECT COUNT(*) FROM outbox WHERE kind = 'message'";
    let sms = json!({ "telefono": "+39 347 111 0000", "testo": "Il salone resta chiuso lunedì.", "confermato": true });

    let (err, body) = app.call(10, "send_sms", sms.clone()).await;
    assert!(err, "no consent yet: {body}");
    assert_eq!(body["errore"], "non_consentito", "{body}");
    assert_eq!(app.count(messages).await, 0, "nothing queued without consent");

    assert!(app.tenant.set_notify_consent(ada.id, None, Some(true), None).await.expect("consent"));
    let (err, body) = app.call(11, "send_sms", sms.clone()).await;
    assert!(!err, "{body}");
    assert_eq!((body["ok"].as_bool(), body["stato"].as_str()), (Some(true), Some("in_coda")), "{body}");
    let (err, body) = app.call(12, "send_sms", sms).await;
    assert_eq!((err, body["stato"].as_str()), (false, Some("gia_in_coda")), "the same message is queued once: {body}");
    let row: (String, String, Option<i64>, String) =
        sqlx::query_as("SELECT recipient, channel, client_id, payload FROM outbox WHERE kind = 'message'")
            .fetch_one(app.store.pool_for_tests())
            .await
            .expect("row");
    assert_eq!((row.0.as_str(), row.1.as_str(), row.2), ("+393471110000", "sms", Some(ada.id)));
    assert!(row.3.contains("chiuso lunedì"), "{}", row.3);

    // Consent to SMS is not consent to e-mail; a channel the deployment lacks is refused.
    let (err, body) = app.call(13, "send_email", json!({ "email": "ada@example.it", "testo": "Promo", "confermato": true })).await;
    assert_eq!((err, body["errore"].as_str()), (true, Some("non_consentito")), "{body}");
    let (err, body) = app.call(14, "send_whatsapp", json!({ "telefono": "+393471110000", "testo": "Ciao", "confermato": true })).await;
    assert_eq!((err, body["errore"].as_str()), (true, Some("non_consentito")), "{body}");
    assert!(body["messaggio"].as_str().is_some_and(|m| m.contains("non può inviare")), "{body}");
    let (err, body) = app.call(15, "send_sms", json!({ "telefono": "abc", "testo": "Ciao", "confermato": true })).await;
    assert_eq!((err, body["errore"].as_str()), (true, Some("argomenti_non_validi")), "{body}");
    assert_eq!(app.count(messages).await, 1);
}
