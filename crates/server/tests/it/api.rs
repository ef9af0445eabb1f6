//! HTTP contract: health, readiness, metrics, read endpoints and bad input.

use serde_json::json;

use crate::TestApp;

#[tokio::test]
async fn health_ready_and_metrics() {
    let app = TestApp::spawn().await;
    let (s, v) = app.get("/health").await;
    assert_eq!(s, 200);
    assert_eq!(v["status"], "ok");
    assert_eq!(v["service"], "fluxion");
    assert_eq!(v["database"]["status"], "ok");
    assert!(v["version"].is_string());
    let (s, v) = app.get("/ready").await;
    assert_eq!((s, v["ready"].as_bool()), (200, Some(true)));
    app.say("m", None, "buongiorno").await;
    let text = app.client.get(app.url("/metrics")).send().await.expect("metrics").text().await.expect("body");
    assert!(text.contains("fluxion_turns_total"), "{text}");
    assert!(text.contains("fluxion_layer_duration_seconds"), "{text}");
}

#[tokio::test]
async fn read_endpoints() {
    let app = TestApp::spawn().await;
    let (s, v) = app.get("/api/services").await;
    assert_eq!(s, 200);
    assert!(v["services"].as_array().map_or(0, Vec::len) >= 8);
    let (s, v) = app.get("/api/clients").await;
    assert_eq!(s, 200);
    assert!(v["clients"][0]["phone"].as_str().is_some_and(|p| p.starts_with("+39")));
    let (s, v) = app.get("/api/slots?service=piega&date=2027-03-11").await;
    assert_eq!(s, 200);
    let slots = v["slots"].as_array().expect("slots");
    assert!(!slots.is_empty());
    assert!(slots.iter().all(|x| x["start"].as_str().is_some_and(|t| t.starts_with("2027-03-11T"))));
    let (s, _) = app.get("/api/slots?service=tagliando&date=2027-03-11").await;
    assert_eq!(s, 400);
    let (s, v) = app.get("/api/slots?service=piega&date=11-03-2027").await;
    assert_eq!(s, 400);
    assert!(v["error"].is_string());
    app.say("b", Some("+393471112233"), "vorrei una piega domani alle 10, sono Ugo Neri").await;
    app.say("b", None, "sì").await;
    let (s, v) = app.get("/api/appointments?date=2027-03-11").await;
    assert_eq!(s, 200);
    assert_eq!(v["appointments"].as_array().map(Vec::len), Some(1));
    assert_eq!(v["appointments"][0]["client"]["name"], "Ugo Neri");
    let (s, _) = app.get("/api/nope").await;
    assert_eq!(s, 404);
}

#[tokio::test]
async fn bad_input_gets_clear_errors_and_loses_nothing() {
    let app = TestApp::spawn().await;
    let post = |body: String| {
        let c = app.client.clone();
        let url = app.url("/api/voice/query");
        async move { c.post(url).header("content-type", "application/json").body(body).send().await.expect("request") }
    };
    let r = post("{not json".into()).await;
    assert_eq!(r.status(), 400);
    assert!(r.json::<serde_json::Value>().await.expect("json error")["error"].is_string());
    let r = post(json!({ "session_id": "x" }).to_string()).await;
    assert_eq!(r.status(), 400, "missing text");
    let r = post(json!({ "session_id": "x", "text": "   " }).to_string()).await;
    assert_eq!(r.status(), 400, "empty text");
    let r = post(json!({ "session_id": "x", "text": "a".repeat(2001) }).to_string()).await;
    assert_eq!(r.status(), 413, "text over 2000 characters");
    let r = post(json!({ "session_id": "x", "text": "ciao", "phone": "banana" }).to_string()).await;
    assert_eq!(r.status(), 400, "bad phone");
    let r = post(format!("{{\"text\": \"{}\"}}", "b".repeat(100_000))).await;
    assert_eq!(r.status(), 413, "oversized body");
    let r = app.client.post(app.url("/api/voice/query")).body("text=ciao").send().await.expect("request");
    assert_eq!(r.status(), 415, "not JSON");
    // No session id: a new one is made and returned.
    let r = post(json!({ "text": "buongiorno" }).to_string()).await;
    assert_eq!(r.status(), 200);
    let v: serde_json::Value = r.json().await.expect("json");
    assert!(v["session_id"].as_str().is_some_and(|s| !s.is_empty()));
    // Garbage text is answered, not crashed on.
    for junk in ["\u{0}\u{1}\u{2}", "🙂🙂🙂", "31/02/2027 alle 25:99", "++++----", "select * from clients;"] {
        let r = post(json!({ "session_id": "junk", "text": junk }).to_string()).await;
        assert_eq!(r.status(), 200, "{junk}");
    }
    let (s, v) = app.get("/health").await;
    assert_eq!((s, v["status"].as_str()), (200, Some("ok")));
    assert_eq!(app.count("SELECT COUNT(*) FROM appointments").await, 0);
}

#[cfg(unix)]
#[tokio::test]
async fn database_file_is_private() {
    use std::os::unix::fs::PermissionsExt;
    let app = TestApp::spawn().await;
    let mode = std::fs::metadata(app.db_file()).expect("db file").permissions().mode();
    assert_eq!(mode & 0o777, 0o600);
}

/// Every `/api/*` error is JSON, axum's own rejections included, and a
/// write that would break a unique key is a 409, not a 503 (both found by
/// schemathesis on the served description).
#[tokio::test]
async fn rejections_are_json_and_unique_clashes_are_conflicts() {
    let app = TestApp::spawn().await;
    let r = app.client.delete(app.url("/api/appointments/9223372036854775808")).send().await.expect("delete");
    assert_eq!(r.status(), 400);
    assert!(r.headers()["content-type"].to_str().unwrap_or("").starts_with("application/json"));
    let v: serde_json::Value = r.json().await.expect("json");
    assert!(v["error"].as_str().is_some_and(|e| e.contains("i64")), "{v}");

    let (_, services) = app.get("/api/services").await;
    let list = services["services"].as_array().expect("services");
    let (first, second) = (&list[0], &list[1]);
    let body = json!({ "name": second["name"], "duration_min": 30, "price_cents": 1500 });
    let r = app.client.put(app.url(&format!("/api/services/{}", first["id"]))).json(&body).send().await.expect("put");
    assert_eq!(r.status(), 409);
    let v: serde_json::Value = r.json().await.expect("json");
    assert!(v["error"].as_str().is_some_and(|e| e.contains("stesso nome")), "{v}");
    let (_, after) = app.get("/api/services").await;
    assert_eq!(after["services"][0]["name"], first["name"], "nothing was renamed");
}
