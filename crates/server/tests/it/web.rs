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
