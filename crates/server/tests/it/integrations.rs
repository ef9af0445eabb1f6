//! A business's integrations (`GET/PUT /api/integrations`): secrets are
//! stored but never leave the server (not in the API's answers, not in the
//! console's HTML), staff cannot reach them, an empty secret keeps the
//! stored one and `clear` removes it, bad fields are 422 with an Italian
//! message each; and the consumers that read them do: a Twilio webhook
//! signed with the business's own auth token is accepted and one signed
//! with the server's token refused, and likewise for a WhatsApp delivery
//! and the business's app secret.

use std::sync::Arc;

use fluxion::app::{self, AppState, Engines};
use fluxion::channels::whatsapp::{self, WhatsApp, WhatsappConfig};
use fluxion::store::Role;
use fluxion::telephony::signature::twilio_signature;
use fluxion::telephony::{Telephony, TelephonyConfig};
use fluxion::voice::VoiceConfig;
use fluxion_core::booking::{Channel, Vertical};
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::{bearer_client, count, seeded_sqlite, test_clock};

const TOKEN: &str = "tok-proprio-9f3a7c21e5";
const KEY: &str = "gsk_chiave-segreta-4471";
const PASSWORD: &str = "pw smtp riservata 88";
const APP_SECRET: &str = "app-secret-del-salone-55";
const SERVER_TWILIO: &str = "server-twilio-token";
const SERVER_META: &str = "server-meta-secret";

/// The API, the phone webhooks and the WhatsApp webhook over one seeded
/// database, with the server's own Twilio token and Meta app secret.
struct App {
    base: String,
    store: fluxion::store::Store,
    tenant: fluxion::store::Tenant,
    owner: reqwest::Client,
    _dir: tempfile::TempDir,
}

async fn spawn() -> App {
    let (dir, store, tenant) = seeded_sqlite(Vertical::Salone).await;
    let engines = Engines::with_llm(store.clone(), Channel::Chat, None).await.expect("engines");
    let state: Arc<AppState> = AppState::with_engines(engines, test_clock());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    let public = base.clone();
    let phone = TelephonyConfig::from_lookup(|k| match k {
        "PUBLIC_URL" => Some(public.clone()),
        "TWILIO_AUTH_TOKEN" => Some(SERVER_TWILIO.to_string()),
        _ => None,
    })
    .expect("telephony config");
    let telephony = Telephony::new(state.clone(), phone, VoiceConfig::default(), Err("no speech in this test".into())).expect("telephony");
    let wa = WhatsappConfig::from_lookup(|k| (k == "META_APP_SECRET").then(|| SERVER_META.to_string())).expect("whatsapp config");
    let routes = app::router(state.clone()).merge(fluxion::telephony::router(telephony)).merge(whatsapp::router(WhatsApp::new(state, wa)));
    tokio::spawn(app::serve_router(listener, routes, std::future::pending()));
    let (_, token) = fluxion::auth::create_token(&tenant, "tests", true).await.expect("token");
    App { base, store, tenant, owner: bearer_client(&token), _dir: dir }
}

impl App {
    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    async fn put(&self, body: Value) -> (StatusCode, String) {
        let r = self.owner.put(self.url("/api/integrations")).json(&body).send().await.expect("put");
        (r.status(), r.text().await.expect("body"))
    }

    async fn get(&self) -> (StatusCode, String) {
        let r = self.owner.get(self.url("/api/integrations")).send().await.expect("get");
        (r.status(), r.text().await.expect("body"))
    }

    /// A console session of a new user with `role`: (cookie, CSRF token).
    async fn session(&self, name: &str, role: Role) -> (String, String) {
        fluxion::auth::create_user(&self.tenant, name, "una password lunga", role).await.expect("user");
        let r = reqwest::Client::new()
            .post(self.url("/api/login"))
            .json(&json!({ "username": name, "password": "una password lunga" }))
            .send()
            .await
            .expect("login");
        assert_eq!(r.status(), StatusCode::OK);
        let cookie = r
            .headers()
            .get("set-cookie")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .split(';')
            .next()
            .unwrap_or_default()
            .to_string();
        let csrf = r.json::<Value>().await.expect("json")["csrf_token"].as_str().unwrap_or_default().to_string();
        (cookie, csrf)
    }
}

fn full() -> Value {
    json!({
        "phone": { "provider": "twilio", "account_id": "AC0123456789abcdef", "auth_token": TOKEN },
        "whatsapp": { "phone_number_id": "106540352242922", "app_secret": APP_SECRET },
        "email": { "host": "smtp.salone.it", "port": 587, "user": "info@salone.it", "password": PASSWORD, "from": "Salone <info@salone.it>" },
        "llm": { "provider": "groq", "model": "llama-3.1-8b-instant", "api_key": KEY },
    })
}

fn assert_no_secret(body: &str, what: &str) {
    for s in [TOKEN, KEY, PASSWORD, APP_SECRET] {
        assert!(!body.contains(s), "{what} shows a secret: {body}");
    }
}

#[tokio::test]
async fn secrets_are_stored_but_never_sent_back() {
    let app = spawn().await;
    let (s, body) = app.put(full()).await;
    assert_eq!(s, StatusCode::OK, "{body}");
    assert_no_secret(&body, "PUT's answer");
    let v: Value = serde_json::from_str(&body).expect("json");
    assert_eq!(v["phone"]["auth_token"], json!({ "set": true }));
    assert_eq!(v["whatsapp"]["access_token"], json!({ "set": false }));
    assert_eq!(v["email"]["port"], 587);
    assert_eq!(v["email"]["from"], "Salone <info@salone.it>");
    let stored = count(&app.store, &format!("SELECT COUNT(*) FROM integration_settings WHERE phone_auth_token = '{TOKEN}'")).await;
    assert_eq!(stored, 1, "the token is stored");

    let (s, body) = app.get().await;
    assert_eq!(s, StatusCode::OK);
    assert_no_secret(&body, "GET");
    let v: Value = serde_json::from_str(&body).expect("json");
    assert_eq!(v["llm"]["api_key"], json!({ "set": true }));
    assert_eq!(v["llm"]["provider"], "groq");
    assert_eq!(v["phone"]["account_id"], "AC0123456789abcdef");

    // The console page, as the owner's browser gets it.
    let (cookie, _) = app.session("titolare", Role::Owner).await;
    let r = reqwest::Client::new().get(app.url("/impostazioni")).header("cookie", &cookie).send().await.expect("page");
    assert_eq!(r.status(), StatusCode::OK);
    let html = r.text().await.expect("html");
    assert!(html.contains("integrations-form"), "the page has the integrations form");
    assert_no_secret(&html, "the Impostazioni page");

    // An empty secret keeps the stored one; the non-secret fields are replaced.
    let (s, body) = app
        .put(json!({ "phone": { "provider": "twilio", "account_id": "AC99", "auth_token": "" }, "email": { "host": "mail.salone.it", "password": null } }))
        .await;
    assert_eq!(s, StatusCode::OK, "{body}");
    let v: Value = serde_json::from_str(&body).expect("json");
    assert_eq!((v["phone"]["auth_token"]["set"].as_bool(), v["phone"]["account_id"].as_str()), (Some(true), Some("AC99")));
    assert_eq!((v["email"]["password"]["set"].as_bool(), v["email"]["port"].is_null()), (Some(true), true), "{v}");
    assert_eq!(v["llm"]["api_key"]["set"], true, "a section left out is unchanged");
    let kept = count(&app.store, &format!("SELECT COUNT(*) FROM integration_settings WHERE phone_auth_token = '{TOKEN}'")).await;
    assert_eq!(kept, 1);

    // `clear` removes it.
    let (s, body) = app.put(json!({ "clear": ["phone_auth_token", "llm_api_key"] })).await;
    assert_eq!(s, StatusCode::OK, "{body}");
    let v: Value = serde_json::from_str(&body).expect("json");
    assert_eq!((v["phone"]["auth_token"]["set"].as_bool(), v["llm"]["api_key"]["set"].as_bool()), (Some(false), Some(false)));
    assert_eq!(v["email"]["password"]["set"], true);
    let gone = count(&app.store, "SELECT COUNT(*) FROM integration_settings WHERE phone_auth_token IS NULL AND llm_api_key IS NULL").await;
    assert_eq!(gone, 1);
}

#[tokio::test]
async fn bad_fields_are_422_in_italian_and_staff_are_kept_out() {
    let app = spawn().await;
    let (s, body) = app
        .put(json!({
            "phone": { "provider": "skype", "auth_token": TOKEN },
            "email": { "port": 70000, "from": "non è un indirizzo" },
            "llm": { "provider": "groq", "model": "due parole" },
        }))
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_no_secret(&body, "the 422");
    let v: Value = serde_json::from_str(&body).expect("json");
    for field in ["phone.provider", "email.port", "email.from", "llm.model"] {
        assert!(v["fields"][field].as_str().is_some_and(|m| !m.is_empty()), "{field} named: {v}");
    }
    assert!(v["fields"]["email.port"].as_str().unwrap_or_default().contains("porta"), "{v}");
    assert_eq!(count(&app.store, "SELECT COUNT(*) FROM integration_settings").await, 0, "nothing stored");
    let (s, _) = app.put(json!({ "phone": { "provider": "twilio", "nonsense": 1 } })).await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "unknown fields are refused");

    let (s, _) = app.put(full()).await;
    assert_eq!(s, StatusCode::OK);
    let (cookie, csrf) = app.session("banco", Role::Staff).await;
    let staff = reqwest::Client::new();
    let r = staff.get(app.url("/api/integrations")).header("cookie", &cookie).send().await.expect("get");
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert_no_secret(&r.text().await.expect("body"), "staff's 403");
    let r = staff
        .put(app.url("/api/integrations"))
        .header("cookie", &cookie)
        .header("x-csrf-token", &csrf)
        .json(&json!({ "clear": ["phone_auth_token"] }))
        .send()
        .await
        .expect("put");
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let r = staff.get(app.url("/impostazioni")).header("cookie", &cookie).send().await.expect("page");
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert_eq!(count(&app.store, "SELECT COUNT(*) FROM integration_settings WHERE phone_auth_token IS NOT NULL").await, 1, "still there");
}

#[tokio::test]
async fn the_webhooks_check_signatures_with_the_business_own_secrets() {
    let app = spawn().await;
    let status = |token: &'static str| {
        let url = app.url("/twilio/status");
        let params = [("CallSid", "CA0001"), ("CallStatus", "completed"), ("To", "+390212345678")];
        let owned: Vec<(String, String)> = params.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        let signature = twilio_signature(token, &url, &owned);
        reqwest::Client::new().post(url).form(&params).header("X-Twilio-Signature", signature).send()
    };
    let delivery = json!({ "object": "whatsapp_business_account", "entry": [{ "changes": [{ "field": "messages",
        "value": { "metadata": { "phone_number_id": "106540352242922" }, "statuses": [] } }] }] })
    .to_string();
    let deliver = |secret: &str| {
        reqwest::Client::new()
            .post(app.url("/webhooks/whatsapp"))
            .header("content-type", "application/json")
            .header("x-hub-signature-256", whatsapp::sign(secret, delivery.as_bytes()))
            .body(delivery.clone())
            .send()
    };

    // Nothing stored: the server's secrets.
    assert!(status(SERVER_TWILIO).await.expect("status").status().is_success());
    assert_eq!(status(TOKEN).await.expect("status").status(), StatusCode::FORBIDDEN);
    assert_eq!(deliver(SERVER_META).await.expect("delivery").status(), StatusCode::OK);
    assert_eq!(deliver(APP_SECRET).await.expect("delivery").status(), StatusCode::FORBIDDEN);

    // The business's own: only those, at once, without a restart.
    let (s, body) = app.put(full()).await;
    assert_eq!(s, StatusCode::OK, "{body}");
    assert!(status(TOKEN).await.expect("status").status().is_success(), "signed with the business's token");
    assert_eq!(status(SERVER_TWILIO).await.expect("status").status(), StatusCode::FORBIDDEN, "another token is refused");
    assert_eq!(status("un-altro-token").await.expect("status").status(), StatusCode::FORBIDDEN);
    assert_eq!(deliver(APP_SECRET).await.expect("delivery").status(), StatusCode::OK);
    assert_eq!(deliver(SERVER_META).await.expect("delivery").status(), StatusCode::FORBIDDEN);

    // Cleared: back to the server's.
    let (s, _) = app.put(json!({ "clear": ["phone_auth_token", "whatsapp_app_secret"] })).await;
    assert_eq!(s, StatusCode::OK);
    assert!(status(SERVER_TWILIO).await.expect("status").status().is_success());
    assert_eq!(status(TOKEN).await.expect("status").status(), StatusCode::FORBIDDEN);
    assert_eq!(deliver(SERVER_META).await.expect("delivery").status(), StatusCode::OK);
}

/// The integrations round-trip through the store on SQLite and, when a
/// server answers, PostgreSQL; each business sees only its own, and the
/// lookups that do not know the business (media-stream upgrade, WhatsApp
/// subscription check, routing by phone-number id) find them.
#[tokio::test]
async fn integrations_are_stored_per_business_on_both_databases() {
    use fluxion::seed::SeedData;
    use fluxion::store::{IntegrationsUpdate, PhoneProvider};

    let (_dir, sqlite, _) = seeded_sqlite(Vertical::Salone).await;
    let pg = crate::pg::fresh("integrations").await;
    let mut stores = vec![("sqlite", sqlite)];
    if let Some(db) = &pg {
        stores.push(("postgres", db.store.clone()));
    }
    for (name, store) in stores {
        let a = match store.default_tenant().await.expect("default") {
            Some(t) => t,
            None => SeedData::demo(Vertical::Salone).expect("seed").add_tenant(&store).await.expect("a"),
        };
        let b = SeedData::demo(Vertical::Medical).expect("seed").add_tenant(&store).await.expect("b");
        let update: IntegrationsUpdate = serde_json::from_value(full()).expect("update");
        let stored = update.apply(&a.integrations().await.expect("read")).expect("valid");
        a.set_integrations(&stored, jiff::Timestamp::now()).await.expect("write");
        assert_eq!(a.integrations().await.expect("read"), stored, "{name}: round trip");
        assert_eq!(b.integrations().await.expect("read"), Default::default(), "{name}: the other business has none");
        let tokens = store.phone_auth_tokens(PhoneProvider::Twilio).await.expect("tokens");
        assert_eq!(tokens.iter().map(|s| s.expose()).collect::<Vec<_>>(), [TOKEN], "{name}");
        assert!(store.phone_auth_tokens(PhoneProvider::Plivo).await.expect("tokens").is_empty(), "{name}");
        let routed = store.tenant_by_whatsapp_integration("106540352242922").await.expect("route").map(|t| t.id());
        assert_eq!(routed, Some(a.id()), "{name}");
        let cleared: IntegrationsUpdate = serde_json::from_value(json!({ "clear": ["phone_auth_token"] })).expect("clear");
        let next = cleared.apply(&stored).expect("valid");
        a.set_integrations(&next, jiff::Timestamp::now()).await.expect("write");
        assert!(store.phone_auth_tokens(PhoneProvider::Twilio).await.expect("tokens").is_empty(), "{name}");
        assert_eq!(a.integrations().await.expect("read").llm.api_key.map(|k| k.expose().to_string()), Some(KEY.to_string()), "{name}");
    }
}
