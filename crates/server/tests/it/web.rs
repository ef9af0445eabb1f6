//! The web console's pages: every page answers in Italian to a logged-in
//! owner, redirects to `/login` without a session, is refused to staff when
//! it is the owner's; static files carry their types and cache headers;
//! a page never shows another business.

use fluxion::seed::SeedData;
use fluxion::store::Role;
use fluxion_core::booking::{Repository, Vertical};
use reqwest::header::{CACHE_CONTROL, CONTENT_TYPE, ETAG, IF_NONE_MATCH, LOCATION, SET_COOKIE};
use reqwest::redirect::Policy;
use serde_json::json;

use crate::TestApp;

/// Password of the accounts these tests make.
pub const PASSWORD: &str = "una-password-lunga";

/// A client that does not follow redirects.
fn raw() -> reqwest::Client {
    reqwest::Client::builder().redirect(Policy::none()).build().expect("client")
}

/// Makes account `username` with `role` in `app`'s business.
pub async fn add_user(app: &TestApp, username: &str, role: Role) {
    fluxion::auth::create_user(&app.tenant, username, PASSWORD, role).await.expect("user");
}

/// Logs `username` in; returns the `Cookie` header value of its session.
pub async fn login(app: &TestApp, username: &str) -> String {
    let r = raw().post(app.url("/api/login")).json(&json!({ "username": username, "password": PASSWORD })).send().await.expect("login");
    assert_eq!(r.status(), 200, "login of {username}");
    let set = r.headers().get(SET_COOKIE).and_then(|v| v.to_str().ok()).expect("session cookie").to_string();
    set.split(';').next().unwrap_or_default().to_string()
}

async fn page(app: &TestApp, path: &str, cookie: Option<&str>) -> (u16, Option<String>, String) {
    let mut req = raw().get(app.url(path));
    if let Some(c) = cookie {
        req = req.header("cookie", c);
    }
    let r = req.send().await.expect("page");
    let status = r.status().as_u16();
    let location = r.headers().get(LOCATION).and_then(|v| v.to_str().ok()).map(str::to_string);
    (status, location, r.text().await.unwrap_or_default())
}

#[tokio::test]
async fn every_page_redirects_to_login_without_a_session() {
    let app = TestApp::spawn().await;
    for p in fluxion::web::PAGES {
        let (status, location, _) = page(&app, p.path, None).await;
        assert_eq!(status, 303, "{}", p.path);
        let location = location.unwrap_or_default();
        assert!(location.starts_with("/login?next=%2F"), "{} → {location}", p.path);
    }
    let (_, location, _) = page(&app, "/calendario?data=2027-03-11", None).await;
    assert_eq!(location.as_deref(), Some("/login?next=%2Fcalendario%3Fdata%3D2027-03-11"));
    let (_, _, html) = page(&app, "/calendario", Some("fluxion_session=forged")).await;
    assert!(!html.contains("Calendario"), "a forged cookie shows nothing");
}

#[tokio::test]
async fn the_login_page_is_italian_and_keeps_next_on_this_site() {
    let app = TestApp::spawn().await;
    let (status, _, html) = page(&app, "/login?next=/calendario", None).await;
    assert_eq!(status, 200);
    assert!(html.contains("<html lang=\"it\">"));
    for text in ["Accesso", "Nome utente", "Password", "Entra", "data-next=\"&#x2f;calendario\""] {
        assert!(html.contains(text), "login page lacks {text}");
    }
    let (_, _, html) = page(&app, "/login?next=//evil.example/", None).await;
    assert!(html.contains("data-next=\"&#x2f;\""), "an off-site next becomes / (escaped)");
}

#[tokio::test]
async fn every_page_answers_a_logged_in_owner_in_italian() {
    let app = TestApp::spawn().await;
    add_user(&app, "titolare", Role::Owner).await;
    let cookie = login(&app, "titolare").await;
    let business = app.tenant.business().await.expect("business").name;
    for p in fluxion::web::PAGES {
        let (status, _, html) = page(&app, p.path, Some(&cookie)).await;
        assert_eq!(status, 200, "{}", p.path);
        assert!(html.contains("<html lang=\"it\">"), "{}", p.path);
        assert!(html.contains(&format!("<h1>{}</h1>", p.title)), "{} lacks its title", p.path);
        assert!(html.contains(&business), "{} lacks the business name", p.path);
        assert!(html.contains("aria-current=\"page\""), "{} marks no menu entry", p.path);
        let csrf = html.split("name=\"csrf-token\" content=\"").nth(1).and_then(|s| s.split('"').next()).unwrap_or_default();
        assert!(csrf.len() >= 16, "{} carries no CSRF token", p.path);
        assert!(html.contains(&format!("/static/js/{}.js", p.name)), "{} loads no script", p.path);
    }
    let (_, _, html) = page(&app, "/", Some(&cookie)).await;
    assert!(html.contains("mercoledì 10 marzo 2027"), "Oggi names the day in Italian");
    for text in ["Appuntamenti di oggi", "Chiamate", "Richiamate da fare", "Lista d'attesa", "Avvisi"] {
        assert!(html.contains(text), "Oggi lacks {text}");
    }
    let (_, _, html) = page(&app, "/calendario?data=2027-03-11", Some(&cookie)).await;
    assert!(html.contains("data-date=\"2027-03-11\""), "the calendar opens on ?data=");
    assert!(html.contains("fullcalendar-6.1.22/index.global.min.js") && html.contains("Nuovo appuntamento"));
    let (_, _, html) = page(&app, "/calendario?data=banana", Some(&cookie)).await;
    assert!(html.contains("data-date=\"2027-03-10\""), "a bad ?data= opens today");
    let (status, location, _) = page(&app, "/login", Some(&cookie)).await;
    assert_eq!((status, location.as_deref()), (303, Some("/")), "a logged-in visit to /login goes on");
    let (status, location, _) = page(&app, "/setup", Some(&cookie)).await;
    assert_eq!((status, location.as_deref()), (303, Some("/")), "no wizard once the business exists");
}

#[tokio::test]
async fn staff_do_not_reach_the_owners_pages() {
    let app = TestApp::spawn().await;
    add_user(&app, "banco", Role::Staff).await;
    let cookie = login(&app, "banco").await;
    for p in fluxion::web::PAGES {
        let (status, _, html) = page(&app, p.path, Some(&cookie)).await;
        if p.owner_only {
            assert_eq!(status, 403, "{}", p.path);
            assert!(html.contains("riservata al titolare"), "{}", p.path);
        } else {
            assert_eq!(status, 200, "{}", p.path);
            assert!(
                html.contains("href=\"&#x2f;calendario\"") && !html.contains("href=\"&#x2f;impostazioni\""),
                "staff's menu offers no settings"
            );
        }
    }
}

#[tokio::test]
async fn a_page_shows_only_its_own_business() {
    let app = TestApp::spawn().await;
    let other = SeedData::demo(Vertical::Auto).expect("seed").add_tenant(&app.store).await.expect("tenant");
    fluxion::auth::create_user(&other, "officina", PASSWORD, Role::Owner).await.expect("user");
    let cookie = login(&app, "officina").await;
    let mine = app.tenant.business().await.expect("business").name;
    let theirs = other.business().await.expect("business").name;
    assert_ne!(mine, theirs);
    let (status, _, html) = page(&app, "/", Some(&cookie)).await;
    assert_eq!(status, 200);
    assert!(html.contains(&theirs));
    assert!(!html.contains(&mine), "another business's name leaked");
}

#[tokio::test]
async fn static_files_have_types_licences_and_cache_headers() {
    let app = TestApp::spawn().await;
    let client = raw();
    let r = client.get(app.url("/static/js/console.js")).send().await.expect("js");
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()[CONTENT_TYPE], "text/javascript; charset=utf-8");
    assert_eq!(r.headers()[CACHE_CONTROL], "public, max-age=3600");
    let tag = r.headers()[ETAG].to_str().expect("etag").to_string();
    let r = client.get(app.url("/static/js/console.js")).header(IF_NONE_MATCH, &tag).send().await.expect("js again");
    assert_eq!(r.status(), 304, "a known ETag is not sent again");
    let r = client.get(app.url("/static/vendor/fullcalendar-6.1.22/index.global.min.js")).send().await.expect("vendor");
    assert_eq!(r.status(), 200);
    assert!(r.headers()[CACHE_CONTROL].to_str().unwrap_or_default().contains("immutable"));
    for licence in ["/static/vendor/fullcalendar-6.1.22/LICENSE.md", "/static/vendor/chart.js-4.6.2/LICENSE.md"] {
        let r = client.get(app.url(licence)).send().await.expect("licence");
        assert_eq!(r.status(), 200, "{licence}");
        assert!(r.text().await.unwrap_or_default().contains("MIT"), "{licence}");
    }
    let r = client.get(app.url("/static/css/../../Cargo.toml")).send().await.expect("traversal");
    assert_eq!(r.status(), 404);
    let r = client.get(app.url("/static/console.css")).send().await.expect("css");
    assert_eq!(r.headers()[CONTENT_TYPE], "text/css; charset=utf-8");
}

#[tokio::test]
async fn an_empty_database_shows_the_wizard() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = fluxion::store::Store::open(&fluxion::store::DatabaseUrl::Sqlite(dir.path().join("empty.db"))).await.expect("open");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let _setup = tokio::spawn(fluxion::setup::http::serve(listener, store, fluxion::web::setup_router(), std::future::pending()));
    let url = |p: &str| format!("http://{addr}{p}");
    for p in fluxion::web::PAGES.iter().map(|p| p.path).chain(["/login"]) {
        let r = raw().get(url(p)).send().await.expect("page");
        assert_eq!(r.status(), 303, "{p}");
        assert_eq!(r.headers().get(LOCATION).and_then(|v| v.to_str().ok()), Some("/setup"), "{p}");
    }
    let r = raw().get(url("/setup")).send().await.expect("wizard");
    assert_eq!(r.status(), 200);
    let html = r.text().await.unwrap_or_default();
    for text in ["Configurazione iniziale", "Nome dell'attività", "Orari di apertura", "Il suo account (titolare)", "/static/js/setup.js"]
    {
        assert!(html.contains(text), "the wizard lacks {text}");
    }
    let r = raw().get(url("/static/js/setup.js")).send().await.expect("script");
    assert_eq!(r.status(), 200);
}

/// The Chiamate page's data: calls and chat sessions of a day, one
/// conversation's transcript with the layer and latency of every reply, the
/// recording; staff see callers masked.
#[tokio::test]
async fn calls_and_chats_are_listed_with_their_transcripts() {
    use fluxion::store::{CallDirection, CallEnd, CallOutcome};
    let app = TestApp::spawn().await;
    app.tenant.upsert_client("Lia Verdi", "+393471112299", None).await.expect("client");
    app.say("chat-42", Some("+393471112299"), "buongiorno").await;
    app.say("chat-42", Some("+393471112299"), "quanto costa il taglio?").await;
    let dir = tempfile::tempdir().expect("tempdir");
    let wav = dir.path().join("CA42-caller.wav");
    std::fs::write(&wav, b"RIFF-test-audio").expect("wav");
    let at: jiff::Timestamp = "2027-03-10T08:00:00Z".parse().expect("ts");
    let t = &app.tenant;
    let call = t
        .start_call(fluxion::telephony::Provider::Twilio, "CA42", CallDirection::Inbound, Some("+393480000042"), None, at)
        .await
        .expect("call");
    let end = CallEnd {
        ended_at: at + jiff::SignedDuration::from_secs(95),
        duration_ms: 95_000,
        outcome: CallOutcome::AnsweredFaq,
        hangup_reason: fluxion::voice::HangupReason::Completed,
        turns: 1,
        recording_path: Some(wav.display().to_string()),
    };
    t.end_call(call, &end).await.expect("end");

    let (status, day) = app.get("/api/conversations?date=2027-03-10").await;
    assert_eq!(status, 200, "{day}");
    let list = day["conversations"].as_array().expect("list");
    let chat = list.iter().find(|c| c["session_id"] == "chat-42").expect("the chat is listed");
    assert_eq!((chat["channel"].as_str(), chat["turns"].as_i64()), (Some("chat"), Some(2)));
    assert_eq!((chat["caller"].as_str(), chat["client_name"].as_str()), (Some("+393471112299"), Some("Lia Verdi")), "{chat}");
    let phone = list.iter().find(|c| c["session_id"] == "CA42").expect("the call is listed");
    assert_eq!(
        (phone["channel"].as_str(), phone["outcome"].as_str(), phone["duration_ms"].as_i64()),
        (Some("voice"), Some("answered_faq"), Some(95_000))
    );
    assert_eq!(phone["recording_url"].as_str(), Some(format!("/api/calls/{call}/recording").as_str()));
    let (_, other_day) = app.get("/api/conversations?date=2027-03-09").await;
    assert_eq!(other_day["conversations"].as_array().map(Vec::len), Some(0), "another day lists nothing");

    let (status, detail) = app.get("/api/conversations/chat-42").await;
    assert_eq!(status, 200);
    let turns = detail["turns"].as_array().expect("turns");
    assert_eq!(turns.len(), 4, "{detail:#}");
    assert_eq!(turns[1]["role"], "assistant");
    assert!(turns[2]["text"].as_str().unwrap_or_default().contains("taglio"));
    for reply in turns.iter().filter(|t| t["role"] == "assistant") {
        let layer = reply["layer"].as_str().unwrap_or_default();
        assert!(["L0", "L1", "L2", "L3", "L4"].contains(&layer), "every reply names its layer: {reply}");
        assert!(reply["latency_ms"].as_f64().is_some_and(|ms| ms > 0.0), "and its latency: {reply}");
    }
    assert_eq!(app.get("/api/conversations/nessuna").await.0, 404);

    let r = app.client.get(app.url(&format!("/api/calls/{call}/recording"))).send().await.expect("recording");
    assert_eq!((r.status().as_u16(), r.headers()[CONTENT_TYPE].to_str().ok()), (200, Some("audio/wav")));
    assert_eq!(r.bytes().await.expect("bytes").as_ref(), b"RIFF-test-audio");

    add_user(&app, "titolare", Role::Owner).await;
    let cookie = login(&app, "titolare").await;
    let (status, _, html) = page(&app, "/chiamate/chat-42", Some(&cookie)).await;
    assert_eq!(status, 200);
    for text in ["<h1>Chiamata</h1>", "Trascrizione", "/static/js/chiamata.js", "aria-current=\"page\""] {
        assert!(html.contains(text), "the call page lacks {text}");
    }
    let (status, location, _) = page(&app, "/chiamate/chat-42", None).await;
    assert_eq!((status, location.as_deref()), (303, Some("/login?next=%2Fchiamate%2Fchat-42")));

    add_user(&app, "banco", Role::Staff).await;
    let staff = login(&app, "banco").await;
    let r = raw().get(app.url("/api/conversations?date=2027-03-10")).header("cookie", &staff).send().await.expect("staff");
    let v: serde_json::Value = r.json().await.expect("json");
    let phone = v["conversations"].as_array().and_then(|l| l.iter().find(|c| c["session_id"] == "CA42").cloned()).expect("call");
    assert_eq!(phone["caller"].as_str(), Some("+39348*****42"), "staff see the number masked");
}

/// The Stato page's data: the doctor's checks, the database first.
#[tokio::test]
async fn the_status_page_runs_the_doctor_checks() {
    let app = TestApp::spawn().await;
    let (status, s) = app.get("/api/status").await;
    assert_eq!(status, 200, "{s}");
    let components = s["components"].as_array().expect("components");
    assert_eq!(components[0]["name"], "database");
    assert_eq!(components[0]["ok"], true, "{s:#}");
    assert!(components[0]["detail"].as_str().unwrap_or_default().starts_with("sqlite "), "{s:#}");
    for name in ["vad webrtc", "vad silero"] {
        assert!(components.iter().any(|c| c["name"] == name), "{name} is checked: {s:#}");
    }
    assert!(components.iter().any(|c| c["name"].as_str().is_some_and(|n| n.starts_with("stt "))), "{s:#}");
    let failed = components.iter().filter(|c| c["status"] == "FAIL").count();
    assert_eq!(s["failed"].as_u64(), Some(failed as u64));
    assert_eq!(app.anon.get(app.url("/api/status")).send().await.expect("anonymous").status(), 401);
}
