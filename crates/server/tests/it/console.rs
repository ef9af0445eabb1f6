//! The console's JSON API: changes reach the receptionist on the next turn
//! (a new service is bookable, an absence removes slots), hand-made
//! appointments follow the booking rules (409 with the reason), live events,
//! clients CSV, staff limits, and set-up mode on an empty database.

use std::time::Duration;

use fluxion::app::{self, AppState, Engines};
use fluxion::store::{DatabaseUrl, Role, Store};
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::{bearer_client, test_clock, TestApp};

async fn send(app: &TestApp, method: reqwest::Method, path: &str, body: Option<Value>) -> (StatusCode, Value) {
    let mut r = app.client.request(method, app.url(path));
    if let Some(b) = body {
        r = r.json(&b);
    }
    let r = r.send().await.expect("request");
    let s = r.status();
    (s, r.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn a_service_added_through_the_api_is_bookable_on_the_next_turn() {
    let app = TestApp::spawn().await;
    let (s, v) = send(
        &app,
        reqwest::Method::POST,
        "/api/services",
        Some(json!({ "name": "Laminazione sopracciglia", "synonyms": ["laminazione"], "duration_min": 60, "price_cents": 8000 })),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let v = app.say("k", None, "quanto costa la laminazione sopracciglia?").await;
    assert!(v["reply"].as_str().unwrap_or_default().contains("ottanta euro"), "priced at once: {v}");
    let v = app.say("k2", Some("+393471110099"), "vorrei prenotare una laminazione sopracciglia domani alle 11, sono Lia Verdi").await;
    let v = if v["booking"].is_null() { app.say("k2", None, "sì").await } else { v };
    assert_eq!(v["booking"]["service"], "Laminazione sopracciglia", "booked without a restart: {v}");
}

#[tokio::test]
async fn an_absence_removes_the_operators_slots() {
    let app = TestApp::spawn().await;
    let (_, ops) = send(&app, reqwest::Method::GET, "/api/operators", None).await;
    let ops = ops["operators"].as_array().cloned().unwrap_or_default();
    let (_, services) = send(&app, reqwest::Method::GET, "/api/services", None).await;
    let piega = services["services"].as_array().into_iter().flatten().find(|s| s["name"].as_str().is_some_and(|n| n.contains("Piega")));
    let piega_id = piega.and_then(|s| s["id"].as_i64()).expect("piega");
    let who = ops.iter().find(|o| o["service_ids"].as_array().is_some_and(|s| s.contains(&json!(piega_id)))).expect("an operator");
    let (id, name) = (who["id"].as_i64().expect("id"), who["name"].as_str().expect("name").to_string());
    let path = format!("/api/slots?service=piega&date=2027-03-11&operator={id}");
    let (_, before) = send(&app, reqwest::Method::GET, &path, None).await;
    assert!(!before["slots"].as_array().map_or(true, Vec::is_empty), "{name} has slots before: {before}");
    let (s, v) = send(
        &app,
        reqwest::Method::POST,
        &format!("/api/operators/{id}/absences"),
        Some(json!({ "from": "2027-03-11", "to": "2027-03-11", "reason": "malattia" })),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let (_, after) = send(&app, reqwest::Method::GET, &path, None).await;
    assert_eq!(after["slots"].as_array().map(Vec::len), Some(0), "{name}'s slots gone: {after}");
    let (_, list) = send(&app, reqwest::Method::GET, &format!("/api/operators/{id}/absences"), None).await;
    assert!(list["absences"].as_array().into_iter().flatten().any(|a| a["reason"] == "malattia" && a["from"] == "2027-03-11"), "{list}");
}

#[tokio::test]
async fn hand_made_appointments_follow_the_booking_rules_and_are_announced() {
    let app = TestApp::spawn().await;
    let events = app.client.get(app.url("/api/events")).send().await.expect("events");
    assert_eq!(events.status(), StatusCode::OK);
    let mut stream = events.bytes_stream();

    let (_, services) = send(&app, reqwest::Method::GET, "/api/services", None).await;
    let service = &services["services"][0];
    let service_id = service["id"].as_i64().expect("id");
    let client = json!({ "name": "Ada Neri", "phone": "347 555 0101" });
    let body = json!({ "client": client, "service_id": service_id, "start": "2027-03-11T10:00" });
    let (s, a) = send(&app, reqwest::Method::POST, "/api/appointments", Some(body.clone())).await;
    assert_eq!(s, StatusCode::CREATED, "{a}");
    assert_eq!(a["channel"], "staff");
    let operator = a["operator_id"].as_i64().expect("operator");

    // The same operator at the same time: refused with the reason.
    let clash = json!({ "client": client, "service_id": service_id, "operator_id": operator, "start": "2027-03-11T10:00" });
    let (s, v) = send(&app, reqwest::Method::POST, "/api/appointments", Some(clash)).await;
    assert_eq!(s, StatusCode::CONFLICT, "{v}");
    assert!(v["error"].as_str().unwrap_or_default().contains("sovrappone"), "{v}");
    // Sunday: closed.
    let closed = json!({ "client": client, "service_id": service_id, "start": "2027-03-14T10:00" });
    let (s, v) = send(&app, reqwest::Method::POST, "/api/appointments", Some(closed)).await;
    assert_eq!(s, StatusCode::CONFLICT, "{v}");
    assert!(v["error"].as_str().is_some_and(|e| !e.is_empty()));

    let id = a["id"].as_i64().expect("id");
    let (s, moved) =
        send(&app, reqwest::Method::PATCH, &format!("/api/appointments/{id}"), Some(json!({ "start": "2027-03-11T15:00" }))).await;
    assert_eq!(s, StatusCode::OK, "{moved}");
    assert_eq!(moved["start"], "2027-03-11T15:00:00");
    let (s, day) = send(&app, reqwest::Method::GET, "/api/appointments?from=2027-03-11&to=2027-03-12", None).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(day["appointments"].as_array().map(Vec::len), Some(1));
    let (s, c) = send(&app, reqwest::Method::DELETE, &format!("/api/appointments/{id}"), None).await;
    assert_eq!((s, c["status"].as_str()), (StatusCode::OK, Some("cancelled")));
    let (s, _) = send(&app, reqwest::Method::DELETE, &format!("/api/appointments/{id}"), None).await;
    assert_eq!(s, StatusCode::CONFLICT);

    // The receptionist's booking is announced too.
    app.say("e", Some("+393471112233"), "vorrei una piega domani alle 10, sono Ugo Neri").await;
    app.say("e", None, "sì").await;
    use futures::StreamExt;
    let mut seen = String::new();
    while seen.matches("event: appointment").count() < 4 {
        let chunk = tokio::time::timeout(Duration::from_secs(5), stream.next()).await.expect("an event within 5 s");
        seen.push_str(&String::from_utf8_lossy(&chunk.expect("open").expect("bytes")));
    }
    for action in ["\"booked\"", "\"moved\"", "\"cancelled\""] {
        assert!(seen.contains(action), "{action} announced: {seen}");
    }
}

#[tokio::test]
async fn clients_csv_round_trip_and_staff_limits() {
    let app = TestApp::spawn().await;
    let csv = "Nome;Cellulare;Email\nGiulia Bianchi;333 765 4321;giulia@example.it\nSenza Numero;;\n";
    let r = app.client.post(app.url("/api/clients/import")).header("content-type", "text/csv").body(csv).send().await.expect("import");
    assert_eq!(r.status(), StatusCode::OK);
    let v: Value = r.json().await.expect("json");
    assert_eq!((v["imported"].as_i64(), v["skipped"].as_array().map(Vec::len)), (Some(1), Some(1)), "{v}");
    let (_, found) = send(&app, reqwest::Method::GET, "/api/clients?q=bianchi", None).await;
    assert_eq!(found["clients"][0]["phone"], "+393337654321");
    let out = app.client.get(app.url("/api/clients.csv")).send().await.expect("export").text().await.expect("text");
    assert!(out.starts_with("nome,telefono,email"), "{out}");
    assert!(out.contains("Giulia Bianchi,+393337654321,giulia@example.it"), "{out}");

    // Staff manage the agenda but not the settings.
    fluxion::auth::create_user(&app.tenant, "banco", "password del banco", Role::Staff).await.expect("staff");
    let r = app
        .anon
        .post(app.url("/api/login"))
        .json(&json!({ "username": "banco", "password": "password del banco" }))
        .send()
        .await
        .expect("login");
    let cookie =
        r.headers().get("set-cookie").and_then(|v| v.to_str().ok()).unwrap_or_default().split(';').next().unwrap_or_default().to_string();
    let csrf = r.json::<Value>().await.expect("json")["csrf_token"].as_str().unwrap_or_default().to_string();
    let staff = |m: reqwest::Method, path: &str| app.anon.request(m, app.url(path)).header("cookie", &cookie).header("x-csrf-token", &csrf);
    let s = staff(reqwest::Method::POST, "/api/services")
        .json(&json!({ "name": "X", "duration_min": 30, "price_cents": 1 }))
        .send()
        .await
        .expect("s");
    assert_eq!(s.status(), StatusCode::FORBIDDEN);
    let s = staff(reqwest::Method::PUT, "/api/hours").json(&json!({ "hours": [] })).send().await.expect("h");
    assert_eq!(s.status(), StatusCode::FORBIDDEN);
    assert_eq!(staff(reqwest::Method::GET, "/api/receptionist").send().await.expect("r").status(), StatusCode::FORBIDDEN);
    assert_eq!(staff(reqwest::Method::POST, "/api/notifications/1/retry").send().await.expect("n").status(), StatusCode::FORBIDDEN);
    let s = staff(reqwest::Method::POST, "/api/services/import").header("content-type", "text/csv").body("nome,durata,prezzo\nX,30,1\n");
    assert_eq!(s.send().await.expect("i").status(), StatusCode::FORBIDDEN);
    assert_eq!(staff(reqwest::Method::GET, "/api/appointments").send().await.expect("a").status(), StatusCode::OK);
}

#[tokio::test]
async fn the_price_list_comes_in_and_goes_out_as_csv_and_is_quoted_at_once() {
    let app = TestApp::spawn().await;
    // A salon-software export: semicolons, euro signs, decimal commas, an
    // update of a service already on the list and a row that cannot be read.
    let csv = "Servizio;Durata;Prezzo;Sinonimi\n\
               Laminazione ciglia;1h;€ 45,50;laminazione|lash lifting\n\
               piega;40 min;30;\n\
               Trattamento misterioso;un po';gratis;\n";
    let r = app.client.post(app.url("/api/services/import")).header("content-type", "text/csv").body(csv).send().await.expect("import");
    assert_eq!(r.status(), StatusCode::OK);
    let v: Value = r.json().await.expect("json");
    assert_eq!((v["imported"].as_i64(), v["skipped"][0]["line"].as_i64()), (Some(2), Some(4)), "{v}");
    let (_, list) = send(&app, reqwest::Method::GET, "/api/services", None).await;
    let named = |n: &str| {
        list["services"].as_array().into_iter().flatten().find(|s| s["name"].as_str().is_some_and(|x| x.eq_ignore_ascii_case(n))).cloned()
    };
    let lam = named("Laminazione ciglia").expect("imported");
    assert_eq!((lam["duration_min"].as_i64(), lam["price_cents"].as_i64()), (Some(60), Some(4550)), "{lam}");
    assert!(lam["operators"].as_array().is_some_and(|o| !o.is_empty()), "performed by the staff: {lam}");
    let piega = named("Piega").expect("the existing piega");
    assert_eq!((piega["duration_min"].as_i64(), piega["price_cents"].as_i64()), (Some(40), Some(3000)), "updated: {piega}");
    assert!(piega["synonyms"].as_array().is_some_and(|s| s.contains(&json!("messa in piega"))), "synonyms kept: {piega}");

    let v = app.say("csv", None, "quanto costa il lash lifting?").await;
    assert!(v["reply"].as_str().unwrap_or_default().contains("quarantacinque euro"), "priced on the next turn: {v}");

    let out = app.client.get(app.url("/api/services.csv")).send().await.expect("export").text().await.expect("text");
    assert!(out.starts_with("nome,durata_min,prezzo_euro,sinonimi"), "{out}");
    assert!(out.contains("Laminazione ciglia,60,\"45,50\",laminazione|lash lifting"), "{out}");
    let bad =
        app.client.post(app.url("/api/services/import")).header("content-type", "text/csv").body("a,b\n1,2\n").send().await.expect("bad");
    assert_eq!(bad.status(), StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn the_owners_greeting_and_transfer_number_reach_the_next_call() {
    let app = TestApp::spawn().await;
    let (s, v) = send(&app, reqwest::Method::GET, "/api/receptionist", None).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert!(v["greeting"].is_null() && v["transfer_number"].is_null() && v["record_calls"].is_null(), "nothing set yet: {v}");
    let standard = v["default_greeting"].as_str().expect("default greeting").to_string();
    let engine = app.state.engines.get(app.tenant.id()).await.expect("engine");
    let mut d = engine.dialogue();
    assert_eq!(engine.start(&mut d, "g0", None, app.state.clock.now()).await, standard);

    let bad = json!({ "transfer_number": "chiedete di Mario" });
    let (s, v) = send(&app, reqwest::Method::PUT, "/api/receptionist", Some(bad)).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    let long = json!({ "greeting": "Buongiorno ".repeat(40) });
    assert_eq!(send(&app, reqwest::Method::PUT, "/api/receptionist", Some(long)).await.0, StatusCode::UNPROCESSABLE_ENTITY);

    for bad in [json!({ "reminder_hours": 200 }), json!({ "notify_email": "giulia chiocciola salone" }), json!({ "notify_phone": "no" })] {
        assert_eq!(
            send(&app, reqwest::Method::PUT, "/api/receptionist", Some(bad.clone())).await.0,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{bad}"
        );
    }

    let good = json!({ "greeting": "  Salone Giulia, buongiorno!  Sono l'assistente, come posso aiutarla? ", "transfer_number": "347 123 4567",
                       "record_calls": false, "reminder_hours": 3, "notify_email": " giulia@salone.example.it ", "notify_phone": "" });
    let (s, v) = send(&app, reqwest::Method::PUT, "/api/receptionist", Some(good)).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["transfer_number"], "+393471234567");
    assert_eq!(v["record_calls"], false);
    assert_eq!((v["reminder_hours"].as_u64(), v["notify_email"].as_str()), (Some(3), Some("giulia@salone.example.it")));
    assert!(v["notify_phone"].is_null(), "{v}");
    let engine = app.state.engines.get(app.tenant.id()).await.expect("engine");
    let mut d = engine.dialogue();
    let greeting = engine.start(&mut d, "g1", None, app.state.clock.now()).await;
    assert_eq!(greeting, "Salone Giulia, buongiorno! Sono l'assistente, come posso aiutarla?", "the next caller hears the owner's words");
    // Calls follow the owner's choices over the server's configuration.
    let server =
        fluxion::telephony::TelephonyConfig { transfer_number: Some("+390612345678".into()), record_calls: true, ..Default::default() };
    let call = server.for_tenant(&app.tenant).await;
    assert_eq!((call.transfer_number.as_deref(), call.record_calls), (Some("+393471234567"), false));

    let cleared = json!({ "greeting": "", "transfer_number": null });
    let (s, v) = send(&app, reqwest::Method::PUT, "/api/receptionist", Some(cleared)).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert!(v["greeting"].is_null() && v["transfer_number"].is_null() && v["record_calls"].is_null(), "{v}");
    let engine = app.state.engines.get(app.tenant.id()).await.expect("engine");
    let mut d = engine.dialogue();
    assert_eq!(engine.start(&mut d, "g2", None, app.state.clock.now()).await, standard);
    let call = server.for_tenant(&app.tenant).await;
    assert_eq!((call.transfer_number.as_deref(), call.record_calls), (Some("+390612345678"), true), "unset: the server's configuration");
}

#[tokio::test]
async fn settings_hours_closures_and_faq_reach_the_receptionist() {
    let app = TestApp::spawn().await;
    let (s, v) = send(&app, reqwest::Method::PUT, "/api/business", Some(json!({ "name": "Salone Nuovo Nome" }))).await;
    assert_eq!((s, v["name"].as_str()), (StatusCode::OK, Some("Salone Nuovo Nome")), "{v}");
    assert_eq!(app.state.engines.get(app.tenant.id()).await.expect("engine").info().business.name, "Salone Nuovo Nome");
    let bad = json!({ "hours": [{ "weekday": "monday", "range": { "start": "13:00", "end": "09:00" } }] });
    assert_eq!(send(&app, reqwest::Method::PUT, "/api/hours", Some(bad)).await.0, StatusCode::UNPROCESSABLE_ENTITY);
    let (s, c) = send(
        &app,
        reqwest::Method::POST,
        "/api/closures",
        Some(json!({ "from": "2027-03-11", "to": "2027-03-11", "reason": "Inventario" })),
    )
    .await;
    assert_eq!(s, StatusCode::CREATED, "{c}");
    let (_, slots) = send(&app, reqwest::Method::GET, "/api/slots?service=piega&date=2027-03-11", None).await;
    assert_eq!(slots["slots"].as_array().map(Vec::len), Some(0), "closed that day: {slots}");
    let cid = c["id"].as_i64().expect("id");
    assert_eq!(send(&app, reqwest::Method::DELETE, &format!("/api/closures/{cid}"), None).await.0, StatusCode::NO_CONTENT);
    let (_, slots) = send(&app, reqwest::Method::GET, "/api/slots?service=piega&date=2027-03-11", None).await;
    assert!(slots["slots"].as_array().is_some_and(|s| !s.is_empty()), "open again: {slots}");

    let faq = json!({ "category": "pagamenti", "questions": ["posso pagare in bitcoin?", "accettate criptovalute?"], "answer": "No, le criptovalute non sono accettate." });
    let (s, _) = send(&app, reqwest::Method::POST, "/api/faq", Some(faq)).await;
    assert_eq!(s, StatusCode::CREATED);
    let v = app.say("f", None, "posso pagare in bitcoin?").await;
    assert!(v["reply"].as_str().unwrap_or_default().contains("criptovalute non sono accettate"), "{v}");
}

#[tokio::test]
async fn an_empty_database_starts_in_set_up_mode() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Store::open(&DatabaseUrl::Sqlite(dir.path().join("empty.db"))).await.expect("open");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let setup = tokio::spawn(fluxion::setup::http::serve(listener, store.clone(), axum::Router::new(), std::future::pending()));
    let http = reqwest::Client::new();
    let url = |p: &str| format!("http://{addr}{p}");
    let v: Value = http.get(url("/api/setup/status")).send().await.expect("status").json().await.expect("json");
    assert_eq!(v["setup_mode"], true);
    assert_eq!(http.get(url("/api/clients")).send().await.expect("clients").status(), StatusCode::SERVICE_UNAVAILABLE);
    let t: Value = http.get(url("/api/setup/template?vertical=salone")).send().await.expect("template").json().await.expect("json");
    assert!(t["services"].as_array().is_some_and(|s| s.len() >= 8));
    let req = json!({
        "name": "Barberia Da Enzo", "vertical": "salone", "address": "Via Roma 1, Bari", "phone_numbers": ["080 123 4567"],
        "hours": [{ "weekday": "tuesday", "range": { "start": "09:00", "end": "13:00" } }, { "weekday": "tuesday", "range": { "start": "15:00", "end": "19:00" } }],
        "services": [{ "name": "Barba", "duration_min": 30, "price_cents": 1500 }],
        "operators": [{ "name": "Enzo" }],
        "owner": { "username": "enzo", "password": "corto" }
    });
    let r = http.post(url("/api/setup")).json(&req).send().await.expect("setup");
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY, "a short password is refused, nothing written");
    assert!(!store.is_seeded().await.expect("seeded"));
    let mut req = req;
    req["owner"]["password"] = json!("una password lunga");
    let r = http.post(url("/api/setup")).json(&req).send().await.expect("setup");
    assert_eq!(r.status(), StatusCode::CREATED);
    let listener = tokio::time::timeout(Duration::from_secs(10), setup).await.expect("set-up mode ends").expect("task").expect("io");
    let listener = listener.expect("the listener handed back");

    let engines = Engines::with_llm(store.clone(), fluxion_core::booking::Channel::Chat, None).await.expect("engines");
    let state = AppState::with_engines(engines, test_clock());
    tokio::spawn(app::serve(listener, state, std::future::pending()));
    // A new client: the set-up server closed the old one's connections.
    let http = reqwest::Client::new();
    let v: Value = http.get(url("/api/setup/status")).send().await.expect("status").json().await.expect("json");
    assert_eq!(v["setup_mode"], false);
    let tenant = store.default_tenant().await.expect("tenant").expect("created");
    assert_eq!(store.user_by_username("enzo").await.expect("user").map(|u| u.role), Some(Role::Owner));
    let (_, token) = fluxion::auth::create_token(&tenant, "t", true).await.expect("token");
    let v: Value = bearer_client(&token).get(url("/api/services")).send().await.expect("services").json().await.expect("json");
    assert_eq!(v["services"].as_array().map(Vec::len), Some(1), "{v}");
    assert_eq!(v["services"][0]["name"], "Barba");
    let b: Value = bearer_client(&token).get(url("/api/business")).send().await.expect("business").json().await.expect("json");
    assert_eq!(b["phone"], "+390801234567");
    assert_eq!(b["numbers"][0]["value"], "+390801234567");
    assert_eq!(http.post(url("/api/setup")).json(&req).send().await.expect("again").status(), StatusCode::UNAUTHORIZED);
    let again = bearer_client(&token).post(url("/api/setup")).json(&req).send().await.expect("again");
    assert_eq!(again.status(), StatusCode::CONFLICT);
}

#[tokio::test]
async fn the_owner_sends_a_failed_notification_again() {
    use fluxion::store::{NewNotice, NoticeKind, NotifyChannel};
    let app = TestApp::spawn().await;
    let now = jiff::Timestamp::now();
    let notice = NewNotice {
        client_id: None,
        recipient: "+393491234567".into(),
        channel: NotifyChannel::Sms,
        kind: NoticeKind::CallbackRequested,
        payload: json!({ "reason": "richiamare" }),
        key: "test:retry".into(),
        not_before: now,
    };
    assert!(app.tenant.enqueue(&notice).await.expect("queued"));
    let claimed = app.state.store.claim_due(now, jiff::SignedDuration::from_secs(60), 10).await.expect("claim");
    let id = claimed.iter().find(|n| n.key == "test:retry").expect("claimed").id;
    assert_eq!(
        send(&app, reqwest::Method::POST, &format!("/api/notifications/{id}/retry"), None).await.0,
        StatusCode::CONFLICT,
        "not failed"
    );
    app.state.store.outbox_failed(id, "401 Unauthorized", now).await.expect("failed");
    let (s, v) = send(&app, reqwest::Method::GET, "/api/notifications?state=failed", None).await;
    assert_eq!((s, v["notifications"][0]["id"].as_i64()), (StatusCode::OK, Some(id)), "{v}");

    let (s, v) = send(&app, reqwest::Method::POST, &format!("/api/notifications/{id}/retry"), None).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["state"], "pending");
    let row = app.tenant.notification(id).await.expect("read").expect("row");
    assert_eq!((row.attempts, row.state), (0, fluxion::store::OutboxState::Pending));
    // Due again at once: the worker claims it on its next tick.
    let again = app.state.store.claim_due(jiff::Timestamp::now(), jiff::SignedDuration::from_secs(60), 10).await.expect("claim");
    assert!(again.iter().any(|n| n.id == id), "{again:?}");
    assert_eq!(send(&app, reqwest::Method::POST, "/api/notifications/999999/retry", None).await.0, StatusCode::NOT_FOUND);
}
