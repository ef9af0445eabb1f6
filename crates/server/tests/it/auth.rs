//! Authentication of the API: no route answers without a session or token,
//! browser sessions with CSRF, the login rate limit, tokens per business
//! (tenant isolation), trusted and untrusted phones, `fluxion token create`
//! and `fluxion user add`, and the store's auth queries on both databases.

use fluxion::auth::{self, secret};
use fluxion::seed::SeedData;
use fluxion::store::{Role, Store};
use fluxion_core::booking::Vertical;
use jiff::{SignedDuration, Timestamp};
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::{bearer_client, pg, TestApp};

/// Every `/api/*` route that needs credentials, from the router's own
/// catalogue, with its parameters filled in: (method, path).
fn api_routes() -> Vec<(&'static str, String)> {
    let ops = fluxion::api::catalog::api();
    let routes: Vec<_> = ops
        .operations()
        .iter()
        .filter(|op| !op.public)
        .map(|op| (op.verb.as_str(), op.path.replace("{id}", "1").replace("{session}", "s1")))
        .collect();
    assert!(routes.len() > 40, "the catalogue lists the API: {routes:?}");
    routes
}

#[tokio::test]
async fn no_api_route_answers_without_credentials() {
    let app = TestApp::spawn().await;
    let forged = bearer_client("flx_not-a-real-token");
    for (method, path) in api_routes() {
        for (who, client) in [("anonymous", &app.anon), ("forged token", &forged)] {
            let m = reqwest::Method::from_bytes(method.as_bytes()).expect("method");
            let r = client.request(m, app.url(&path)).json(&json!({ "text": "ciao" })).send().await.expect("request");
            assert_eq!(r.status(), StatusCode::UNAUTHORIZED, "{who}: {method} {path}");
        }
    }
    let (s, _) = (app.anon.get(app.url("/health")).send().await.expect("health").status(), ());
    assert_eq!(s, StatusCode::OK, "/health stays public");
    let r = app.client.get(app.url("/api/me")).send().await.expect("me");
    assert_eq!(r.status(), StatusCode::OK);
    let me: Value = r.json().await.expect("json");
    assert_eq!(
        (me["who"]["kind"].as_str(), me["trusted"].as_bool(), me["tenant"].as_i64()),
        (Some("token"), Some(true), Some(app.tenant.id()))
    );
}

async fn login(app: &TestApp, client: &reqwest::Client, username: &str, password: &str) -> reqwest::Response {
    client.post(app.url("/api/login")).json(&json!({ "username": username, "password": password })).send().await.expect("login")
}

#[tokio::test]
async fn a_browser_session_needs_its_csrf_token_for_writes_and_ends_at_logout() {
    let app = TestApp::spawn().await;
    auth::create_user(&app.tenant, "titolare@salone.it", "una password lunga", Role::Owner).await.expect("user");
    let browser = &app.anon;
    assert_eq!(login(&app, &browser, "titolare@salone.it", "sbagliata!!").await.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(login(&app, &browser, "nessuno", "una password lunga").await.status(), StatusCode::UNAUTHORIZED);
    let r = login(&app, &browser, "titolare@salone.it", "una password lunga").await;
    assert_eq!(r.status(), StatusCode::OK);
    let cookie = r.headers().get("set-cookie").and_then(|v| v.to_str().ok()).unwrap_or_default().to_string();
    for attr in ["fluxion_session=", "HttpOnly", "SameSite=Strict", "Path=/"] {
        assert!(cookie.contains(attr), "{attr} in {cookie}");
    }
    assert!(!cookie.contains("Secure"), "no Secure flag without an https PUBLIC_URL: {cookie}");
    let csrf = r.json::<Value>().await.expect("json")["csrf_token"].as_str().expect("csrf").to_string();
    // A browser sends the cookie back on every request.
    let session = cookie.split(';').next().unwrap_or_default().to_string();
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert(reqwest::header::COOKIE, session.parse().expect("cookie header"));
    let browser = reqwest::Client::builder().default_headers(headers).build().expect("client");

    let me: Value = browser.get(app.url("/api/me")).send().await.expect("me").json().await.expect("json");
    assert_eq!((me["username"].as_str(), me["role"].as_str()), (Some("titolare@salone.it"), Some("owner")));
    assert_eq!(me["csrf_token"].as_str(), Some(csrf.as_str()));

    let turn = json!({ "session_id": "c", "text": "buongiorno" });
    let r = browser.post(app.url("/api/voice/query")).json(&turn).send().await.expect("no csrf");
    assert_eq!(r.status(), StatusCode::FORBIDDEN, "a write by cookie without the CSRF token is refused");
    let r = browser.post(app.url("/api/voice/query")).header("x-csrf-token", "forged").json(&turn).send().await.expect("bad csrf");
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let r = browser.post(app.url("/api/voice/query")).header("x-csrf-token", &csrf).json(&turn).send().await.expect("csrf");
    assert_eq!(r.status(), StatusCode::OK);

    let r = browser.post(app.url("/api/logout")).send().await.expect("logout without csrf");
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let r = browser.post(app.url("/api/logout")).header("x-csrf-token", &csrf).send().await.expect("logout");
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    assert_eq!(browser.get(app.url("/api/me")).send().await.expect("me").status(), StatusCode::UNAUTHORIZED);
    assert_eq!(app.count("SELECT COUNT(*) FROM user_sessions").await, 0);
}

#[tokio::test]
async fn the_eleventh_login_attempt_in_a_minute_is_refused() {
    let app = TestApp::spawn().await;
    auth::create_user(&app.tenant, "anna", "password giusta", Role::Staff).await.expect("user");
    for i in 0..10 {
        let r = login(&app, &app.anon, "anna", &format!("tentativo {i}")).await;
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED, "attempt {}", i + 1);
    }
    let r = login(&app, &app.anon, "anna", "password giusta").await;
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS, "the eleventh attempt is refused, even with the right password");
    assert!(r.json::<Value>().await.expect("json")["error"].as_str().is_some_and(|e| e.contains("troppi tentativi")));
}

#[tokio::test]
async fn a_token_sees_only_its_own_business() {
    let app = TestApp::spawn().await;
    app.say("a", Some("+393471112233"), "vorrei una piega domani alle 10, sono Ugo Neri").await;
    app.say("a", None, "sì").await;
    let other = SeedData::demo(Vertical::Medical).expect("seed").add_tenant(&app.store).await.expect("second business");
    let (_, token) = auth::create_token(&other, "b", true).await.expect("token");
    let b = bearer_client(&token);

    let mine: Value = app.client.get(app.url("/api/clients")).send().await.expect("a").json().await.expect("json");
    let theirs: Value = b.get(app.url("/api/clients")).send().await.expect("b").json().await.expect("json");
    let phones = |v: &Value| -> Vec<String> {
        v["clients"].as_array().into_iter().flatten().filter_map(|c| c["phone"].as_str().map(str::to_string)).collect()
    };
    assert!(phones(&mine).contains(&"+393471112233".to_string()));
    assert!(!phones(&theirs).contains(&"+393471112233".to_string()), "B's token reads A's clients: {theirs}");

    let a_day: Value = app.client.get(app.url("/api/appointments?date=2027-03-11")).send().await.expect("a").json().await.expect("json");
    let b_day: Value = b.get(app.url("/api/appointments?date=2027-03-11")).send().await.expect("b").json().await.expect("json");
    assert_eq!(a_day["appointments"].as_array().map(Vec::len), Some(1));
    assert_eq!(b_day["appointments"].as_array().map(Vec::len), Some(0), "B sees A's appointment: {b_day}");
    let b_services: Value = b.get(app.url("/api/services")).send().await.expect("b").json().await.expect("json");
    assert!(b_services.to_string().to_lowercase().contains("visita"), "B's own price list: {b_services}");
    assert!(!b_services.to_string().to_lowercase().contains("piega"), "{b_services}");

    // B's conversations run on B's business and book nothing of A's.
    let r = b.post(app.url("/api/voice/query")).json(&json!({ "session_id": "a", "text": "buongiorno" })).send().await.expect("turn");
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(app.count(&format!("SELECT COUNT(*) FROM appointments WHERE business_id = {}", other.id())).await, 0);
}

#[tokio::test]
async fn a_phone_is_the_callers_identity_only_for_trusted_clients() {
    let app = TestApp::spawn().await;
    let anna = "+393401122334";
    let text = "buongiorno, devo spostare il mio appuntamento";
    let v = app.say("t-1", Some(anna), text).await;
    assert!(v["reply"].as_str().unwrap_or_default().to_lowercase().contains("anna"), "trusted: {v}");

    let (_, widget) = auth::create_token(&app.tenant, "widget", false).await.expect("token");
    let r = bearer_client(&widget)
        .post(app.url("/api/voice/query"))
        .json(&json!({ "session_id": "t-2", "phone": anna, "text": text }))
        .send()
        .await
        .expect("turn");
    assert_eq!(r.status(), StatusCode::OK);
    let v: Value = r.json().await.expect("json");
    assert!(!v["reply"].as_str().unwrap_or_default().to_lowercase().contains("anna"), "an untrusted phone unlocked Anna: {v}");
}

/// `fluxion user add` and `fluxion token create` on a database file: the
/// token is alone on the last line and works; a revoked token does not.
#[tokio::test]
async fn token_and_user_commands() {
    let app = TestApp::spawn().await;
    let file = app.db_file();
    let fluxion = |args: &[&str], stdin: &str| {
        use std::io::Write;
        let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_fluxion"))
            .args(args)
            .env_remove("DATABASE_URL")
            .env("FLUXION_DB", &file)
            .env("RUST_LOG", "warn")
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("run fluxion");
        child.stdin.take().expect("stdin").write_all(stdin.as_bytes()).expect("write");
        let out = child.wait_with_output().expect("wait");
        assert!(out.status.success(), "fluxion {args:?}: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let out = fluxion(&["token", "create", "--name", "n8n"], "");
    let token = out.lines().last().expect("a last line").to_string();
    assert!(token.starts_with(secret::TOKEN_PREFIX) && !token.contains(' '), "the token alone on the last line: {out}");
    let client = bearer_client(&token);
    assert_eq!(client.get(app.url("/api/services")).send().await.expect("services").status(), StatusCode::OK);
    let stored = app.count(&format!("SELECT COUNT(*) FROM api_tokens WHERE token_hash = '{}'", secret::digest(&token))).await;
    assert_eq!(stored, 1, "stored as its digest");
    assert_eq!(app.count(&format!("SELECT COUNT(*) FROM api_tokens WHERE token_hash = '{token}'")).await, 0);

    let id = app.tenant.tokens().await.expect("tokens").iter().find(|t| t.name == "n8n").map(|t| t.id).expect("listed");
    fluxion(&["token", "revoke", &id.to_string()], "");
    assert_eq!(client.get(app.url("/api/services")).send().await.expect("services").status(), StatusCode::UNAUTHORIZED);

    fluxion(&["user", "add", "--username", "mario", "--role", "staff", "--password-stdin"], "segreto-di-mario\n");
    let r = login(&app, &app.anon, "mario", "segreto-di-mario").await;
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.json::<Value>().await.expect("json")["role"], "staff");
    let hash: String = sqlx::query_scalar("SELECT password_hash FROM users WHERE username = 'mario'")
        .fetch_one(app.store.pool_for_tests())
        .await
        .expect("hash");
    assert!(hash.starts_with("$argon2id$"), "{hash}");
}

/// The store's auth queries, the same on SQLite and PostgreSQL.
async fn auth_contract(store: &Store) {
    let a = SeedData::demo(Vertical::Salone).expect("seed").load(store, false).await.expect("a");
    let b = SeedData::demo(Vertical::Auto).expect("seed").add_tenant(store).await.expect("b");
    let uid = a.add_user("ada", "$argon2id$fake", Role::Owner).await.expect("user");
    assert!(b.add_user("ada", "$argon2id$x", Role::Staff).await.is_err(), "user names are unique across businesses");
    let u = store.user_by_username("ada").await.expect("lookup").expect("ada");
    assert_eq!((u.id, u.business_id, u.role), (uid, a.id(), Role::Owner));
    assert_eq!(store.user_count().await.expect("count"), 1);

    let tid = b.add_token("bot", "digest-b", false).await.expect("token");
    let t = store.token_by_digest("digest-b").await.expect("lookup").expect("token");
    assert_eq!((t.id, t.business_id, t.trusted), (tid, b.id(), false));
    assert!(!a.revoke_token(tid).await.expect("revoke"), "A cannot revoke B's token");
    assert!(b.revoke_token(tid).await.expect("revoke"));
    assert!(store.token_by_digest("digest-b").await.expect("lookup").is_none(), "revoked");
    assert_eq!(b.tokens().await.expect("list").len(), 1);
    assert!(a.tokens().await.expect("list").is_empty());

    let now = Timestamp::now();
    b.add_session(uid, "sid-b", "csrf", now + SignedDuration::from_hours(1)).await.expect("session of another business");
    assert!(store.session_by_digest("sid-b", now).await.expect("lookup").is_none(), "no session for another business's user");
    a.add_session(uid, "sid-a", "csrf-a", now + SignedDuration::from_hours(1)).await.expect("session");
    let s = store.session_by_digest("sid-a", now).await.expect("lookup").expect("live");
    assert_eq!((s.business_id, s.user_id, s.csrf_token.as_str()), (a.id(), uid, "csrf-a"));
    assert!(store.session_by_digest("sid-a", now + SignedDuration::from_hours(2)).await.expect("lookup").is_none(), "expired");
    assert_eq!(store.purge_sessions(now + SignedDuration::from_hours(2)).await.expect("purge"), 1);
    a.add_session(uid, "sid-2", "c", now + SignedDuration::from_hours(1)).await.expect("session");
    store.delete_session("sid-2").await.expect("logout");
    assert!(store.session_by_digest("sid-2", now).await.expect("lookup").is_none());
}

#[tokio::test]
async fn auth_store_on_sqlite() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Store::open(&fluxion::store::DatabaseUrl::Sqlite(dir.path().join("a.db"))).await.expect("open");
    auth_contract(&store).await;
}

#[tokio::test]
async fn auth_store_on_postgres() {
    let Some(db) = pg::fresh("auth").await else { return };
    auth_contract(&db.store).await;
}
