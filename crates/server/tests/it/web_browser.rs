//! The console in a real browser: headless Debian Chromium driven through
//! chromedriver (WebDriver) with fantoccini, against the real server on a
//! free port. Logs in, opens the calendar, books an appointment by hand
//! through the dialog and sees it; then a booking made by the receptionist
//! over `POST /api/voice/query` appears in the open calendar without a
//! reload (server-sent events). Screenshots go to `target/web-screens/`.
//!
//! Needs `chromium` and `chromedriver` (Debian `chromium chromium-driver`,
//! installed by `scripts/test.sh`); without them the test says so and
//! skips, except on CI (`CI=true`), where their absence is a failure.
//! `FLUXION_CHROMIUM` / `FLUXION_CHROMEDRIVER` override the binaries.

use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use fantoccini::{Client, ClientBuilder, Locator};
use fluxion::store::Role;
use serde_json::json;

use crate::web::{add_user, PASSWORD};
use crate::TestApp;

/// Longest wait for something to appear on the page (the design target for
/// live updates is 2 s; this bound only keeps a broken run from hanging).
const WAIT: Duration = Duration::from_secs(20);

fn binary(env: &str, names: &[&str]) -> Option<PathBuf> {
    if let Some(p) = std::env::var_os(env) {
        return Some(PathBuf::from(p));
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path).flat_map(|dir| names.iter().map(move |n| dir.join(n))).find(|p| p.is_file())
}

/// Chromium and chromedriver, or `None` (skip) — a panic on CI.
fn browser() -> Option<(PathBuf, PathBuf)> {
    let chromium = binary("FLUXION_CHROMIUM", &["chromium", "chromium-browser", "google-chrome"]);
    let driver = binary("FLUXION_CHROMEDRIVER", &["chromedriver"]);
    match (chromium, driver) {
        (Some(c), Some(d)) => Some((c, d)),
        _ if std::env::var("CI").is_ok_and(|v| v == "true") => {
            panic!("chromium and chromedriver are required on CI (Debian: apt-get install chromium chromium-driver)")
        }
        _ => {
            eprintln!("browser test SKIPPED: chromium or chromedriver not found (Debian: apt-get install chromium chromium-driver; scripts/test.sh installs them)");
            None
        }
    }
}

/// A running chromedriver, killed on drop.
struct Driver {
    _child: tokio::process::Child,
    url: String,
}

async fn start_driver(driver: &PathBuf) -> Driver {
    let port = std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).expect("free port").port();
    let child = tokio::process::Command::new(driver)
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("start chromedriver");
    let url = format!("http://127.0.0.1:{port}");
    let http = reqwest::Client::new();
    for _ in 0..200 {
        if http.get(format!("{url}/status")).send().await.is_ok_and(|r| r.status().is_success()) {
            return Driver { _child: child, url };
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("chromedriver did not start on port {port}");
}

async fn open_browser(driver: &Driver, chromium: &PathBuf) -> Client {
    let mut caps = serde_json::Map::new();
    caps.insert(
        "goog:chromeOptions".into(),
        json!({
            "binary": chromium,
            "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1280,1000", "--lang=it-IT"],
        }),
    );
    // Two rustls crypto providers (ring, aws-lc-rs) are in the dependency tree:
    // name one for the WebDriver client (chromedriver is plain http on loopback anyway).
    let _ = rustls::crypto::ring::default_provider().install_default();
    let mut builder = ClientBuilder::rustls().expect("tls");
    builder.capabilities(caps);
    builder.connect(&driver.url).await.expect("connect to chromedriver")
}

async fn screenshot(c: &Client, name: &str) {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/web-screens");
    if let (Ok(()), Ok(png)) = (std::fs::create_dir_all(&dir), c.screenshot().await) {
        if let Err(e) = std::fs::write(dir.join(format!("{name}.png")), png) {
            eprintln!("screenshot {name}: {e}");
        }
    }
}

/// Waits until the calendar shows an appointment whose text contains `text`.
async fn wait_for_appointment(c: &Client, text: &str) {
    let xpath = format!("//div[@id='calendar']//*[contains(@class,'ev-line')][contains(., '{text}')]");
    c.wait()
        .at_most(WAIT)
        .for_element(Locator::XPath(&xpath))
        .await
        .unwrap_or_else(|e| panic!("'{text}' never appeared in the calendar: {e}"));
}

async fn set(c: &Client, id: &str, value: &str) {
    c.execute(
        "const el = document.getElementById(arguments[0]); el.value = arguments[1]; el.dispatchEvent(new Event('change'));",
        vec![json!(id), json!(value)],
    )
    .await
    .unwrap_or_else(|e| panic!("set #{id}: {e}"));
}

#[tokio::test]
async fn the_calendar_books_by_hand_and_updates_live() {
    let Some((chromium, driver)) = browser() else { return };
    let app = TestApp::spawn().await;
    add_user(&app, "titolare", Role::Owner).await;
    let driver = start_driver(&driver).await;
    let c = open_browser(&driver, &chromium).await;

    // Not logged in: the calendar sends us to the login page, which sends us back.
    c.goto(&app.url("/calendario?data=2027-03-11")).await.expect("open calendar");
    c.wait().at_most(WAIT).for_element(Locator::Css("#login-form")).await.expect("login form");
    screenshot(&c, "login").await;
    c.find(Locator::Css("#username")).await.expect("username").send_keys("titolare").await.expect("type");
    c.find(Locator::Css("#password")).await.expect("password").send_keys(PASSWORD).await.expect("type");
    c.find(Locator::Css("#login-form button[type=submit]")).await.expect("submit").click().await.expect("click");
    c.wait().at_most(WAIT).for_element(Locator::Css("#calendar .fc-timegrid")).await.expect("calendar drawn");
    c.wait().at_most(WAIT).for_element(Locator::Css("#live[data-state='on']")).await.expect("live updates connected");
    assert!(c.current_url().await.expect("url").as_str().contains("/calendario"), "back on the calendar after login");

    // By hand: the dialog, a service, a time, a client.
    c.find(Locator::Css("#new-appointment")).await.expect("button").click().await.expect("click");
    c.wait().at_most(WAIT).for_element(Locator::Css("dialog[open] #client-name")).await.expect("dialog");
    c.find(Locator::Css("#client-name")).await.expect("name").send_keys("Carla Manuale").await.expect("type");
    c.find(Locator::Css("#client-phone")).await.expect("phone").send_keys("+393330001122").await.expect("type");
    set(&c, "day", "2027-03-11").await;
    set(&c, "time", "15:00").await;
    screenshot(&c, "calendario-dialog").await;
    c.find(Locator::Css("#save-appointment")).await.expect("save").click().await.expect("click");
    wait_for_appointment(&c, "Carla Manuale").await;
    let text = c
        .find(Locator::XPath("//*[contains(@class,'ev-line')][contains(., 'Carla Manuale')]"))
        .await
        .expect("event")
        .text()
        .await
        .expect("text");
    assert!(text.contains("15:00") && text.contains("manuale"), "the appointment shows time and channel: {text}");

    // The receptionist books over the API: the open calendar updates by itself.
    let marker: String = c
        .execute("window.__no_reload = 'still here'; return window.__no_reload;", vec![])
        .await
        .expect("mark")
        .as_str()
        .unwrap_or_default()
        .into();
    assert_eq!(marker, "still here");
    let http = reqwest::Client::new();
    for text in ["vorrei una piega domani alle 10, sono Ugo Neri", "sì"] {
        let r = http
            .post(app.url("/api/voice/query"))
            .bearer_auth(&app.token)
            .json(&json!({ "session_id": "browser", "phone": "+393471112233", "text": text }))
            .send()
            .await
            .expect("turn");
        assert_eq!(r.status(), 200, "turn '{text}'");
    }
    wait_for_appointment(&c, "Ugo Neri").await;
    let still: serde_json::Value = c.execute("return window.__no_reload || null;", vec![]).await.expect("mark");
    assert_eq!(still, json!("still here"), "the page was not reloaded");
    screenshot(&c, "calendario").await;

    // The receptionist's conversation: listed on Chiamate, its transcript turn by turn.
    c.goto(&app.url("/chiamate?data=2027-03-10")).await.expect("calls page");
    let link = c
        .wait()
        .at_most(WAIT)
        .for_element(Locator::Css("a.transcript-link[data-session='browser']"))
        .await
        .expect("the conversation is listed");
    screenshot(&c, "chiamate-lista").await;
    link.click().await.expect("open the transcript");
    c.wait().at_most(WAIT).for_element(Locator::Css("#transcript .turn.agent")).await.expect("transcript drawn");
    let transcript = c.find(Locator::Css("#transcript")).await.expect("transcript").text().await.expect("text");
    assert!(transcript.contains("vorrei una piega") && transcript.contains("Receptionist"), "{transcript}");
    assert!(transcript.contains("livello L") && transcript.contains(" ms"), "each reply shows its layer and latency: {transcript}");
    screenshot(&c, "chiamata").await;

    // GDPR: the owner exports, then erases Ugo; nothing about him is left in any table.
    c.goto(&app.url("/clienti")).await.expect("clients page");
    c.wait().at_most(WAIT).for_element(Locator::Css("#q")).await.expect("search box");
    c.find(Locator::Css("#q")).await.expect("q").send_keys("Ugo").await.expect("type");
    c.find(Locator::Css("#search-form button[type=submit]")).await.expect("search").click().await.expect("click");
    let edit = "//tr[contains(., 'Ugo Neri')]//button[contains(., 'Modifica')]";
    // The list may be drawn again (the page's first load landing after the
    // search's): a button found in the old drawing is stale, so look again.
    for attempt in 1.. {
        let button = c.wait().at_most(WAIT).for_element(Locator::XPath(edit)).await.expect("Ugo listed");
        match button.click().await {
            Ok(()) => break,
            Err(e) if attempt < 5 && format!("{e:?}").contains("StaleElementReference") => continue,
            Err(e) => panic!("edit: {e:?}"),
        }
    }
    let name = c.wait().at_most(WAIT).for_element(Locator::Css("#f-name")).await.expect("the edit form has its fields");
    assert_eq!(name.prop("value").await.expect("value").as_deref(), Some("Ugo Neri"));
    let export = c.wait().at_most(WAIT).for_element(Locator::Css("#gdpr-export")).await.expect("export link");
    let href = export.attr("href").await.expect("href").unwrap_or_default();
    let r = http.get(app.url(&href)).bearer_auth(&app.token).send().await.expect("export");
    let data: serde_json::Value = r.json().await.expect("export json");
    assert_eq!(data["client"]["name"], "Ugo Neri", "{data}");
    screenshot(&c, "cliente-gdpr").await;
    c.find(Locator::XPath("//button[contains(., 'Cancella cliente')]")).await.expect("erase button").click().await.expect("click");
    let question = c.get_alert_text().await.expect("a confirmation is asked");
    assert!(question.contains("Ugo Neri") && question.contains("non si può annullare"), "{question}");
    c.accept_alert().await.expect("confirm");
    c.wait().at_most(WAIT).for_element(Locator::XPath("//*[@id='messages']//p[contains(., 'Cliente cancellato')]")).await.expect("erased");
    screenshot(&c, "cliente-cancellato").await;
    let left = crate::gdpr::traces_of(&app.store, &["Ugo Neri", "+393471112233", "3471112233"]).await;
    assert_eq!(left, vec![], "nothing about Ugo is left");

    // The other pages render without script errors in the browser.
    for p in fluxion::web::PAGES {
        c.goto(&app.url(p.path)).await.expect("page");
        c.wait().at_most(WAIT).for_element(Locator::Css("main h1")).await.expect("heading");
        screenshot(&c, p.name).await;
    }

    // Impostazioni → Integrazioni: a secret is written, shown as "impostato", never shown back.
    c.goto(&app.url("/impostazioni")).await.expect("settings");
    let state = "//span[@id='i-phone-auth_token-state']";
    c.wait().at_most(WAIT).for_element(Locator::XPath(&format!("{state}[text()='non impostato']"))).await.expect("token not set");
    set(&c, "i-phone-provider", "twilio").await;
    set(&c, "i-phone-account_id", "AC0011223344").await;
    set(&c, "i-phone-auth_token", "token-dal-browser-7781").await;
    c.find(Locator::Css("#integrations-form button[type=submit]")).await.expect("save").click().await.expect("click");
    c.wait().at_most(WAIT).for_element(Locator::XPath(&format!("{state}[text()='impostato']"))).await.expect("token set");
    let typed = c.find(Locator::Id("i-phone-auth_token")).await.expect("input").prop("value").await.expect("value");
    assert_eq!(typed.as_deref(), Some(""), "the password input is empty again");
    assert!(!c.source().await.expect("source").contains("token-dal-browser-7781"), "the page never shows the token");
    screenshot(&c, "impostazioni-integrazioni").await;
    c.close().await.expect("close browser");
}
