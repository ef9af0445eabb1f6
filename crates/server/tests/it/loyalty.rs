//! Loyalty and receipts: the owner's loyalty rule over the API (staff may
//! not change it), completing an appointment (points, exactly one reward
//! notice when the threshold is reached, 409 on a second attempt or before
//! the start, staff allowed), the receipt / estimate PDF read back with
//! `pdftotext` (accents and "€" intact, VAT split, total), the car
//! workshop's receipt e-mail with the PDF attached, and the same store
//! operations on SQLite and PostgreSQL.

use jiff::{SignedDuration, Timestamp};
use serde_json::{json, Value};

use fluxion::notify::render::render;
use fluxion::seed::SeedData;
use fluxion::store::{CompletionError, LoyaltyRule, NoticeKind, NoticePolicy, NotifyChannel, OutboxEntry, Role, Store, Tenant};
use fluxion_core::booking::{Appointment, AppointmentStatus, Channel, Id, NewAppointment, Repository, Vertical};

use crate::notify::client;
use crate::{pg, seeded_sqlite, TestApp};

/// Every client channel, and `webhooks`.
fn policy(store: &Store, webhooks: Vec<String>) {
    store.set_notice_policy(Some(NoticePolicy {
        order: vec![NotifyChannel::Whatsapp, NotifyChannel::Sms, NotifyChannel::Email],
        owner: None,
        owner_channels: vec![],
        webhooks,
    }));
}

/// Books the first service with the first operator at `start` (UTC); its price in cents.
async fn book(tenant: &Tenant, client_id: Id, start: &str) -> (Appointment, i64) {
    let service = tenant.services().await.expect("services").into_iter().next().expect("a service");
    let operator = tenant.operators().await.expect("operators").into_iter().next().expect("an operator");
    let start: Timestamp = start.parse().expect("instant");
    let end = start + SignedDuration::from_mins(i64::from(service.duration_min));
    let new = NewAppointment { client_id, operator_id: operator.id, service_id: service.id, start, end, channel: Channel::Staff };
    (tenant.book(new, 0).await.expect("booked"), service.price_cents)
}

async fn points(tenant: &Tenant, client_id: Id) -> i64 {
    tenant.client(client_id).await.expect("client").expect("found").loyalty_points
}

async fn notices(tenant: &Tenant, kind: NoticeKind) -> Vec<OutboxEntry> {
    tenant.outbox(None, 100).await.expect("outbox").into_iter().filter(|e| e.kind == kind).collect()
}

/// Logs `username` (made with `role`) in: a client sending its session cookie and CSRF token.
async fn browser(app: &TestApp, username: &str, role: Role) -> reqwest::Client {
    crate::web::add_user(app, username, role).await;
    let r = reqwest::Client::new()
        .post(app.url("/api/login"))
        .json(&json!({ "username": username, "password": crate::web::PASSWORD }))
        .send()
        .await
        .expect("login");
    assert_eq!(r.status(), 200);
    let cookie = r.headers().get("set-cookie").and_then(|v| v.to_str().ok()).and_then(|c| c.split(';').next()).expect("cookie").to_string();
    let csrf = r.json::<Value>().await.expect("json")["csrf_token"].as_str().expect("csrf").to_string();
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert("cookie", cookie.parse().expect("header"));
    headers.insert("x-csrf-token", csrf.parse().expect("header"));
    reqwest::Client::builder().default_headers(headers).build().expect("client")
}

async fn send(req: reqwest::RequestBuilder) -> (u16, Value) {
    let r = req.send().await.expect("request");
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn the_rule_gives_points_on_completion_and_one_reward_at_the_threshold() {
    let app = TestApp::spawn().await;
    policy(&app.store, vec![]);
    let staff = browser(&app, "banco", Role::Staff).await;

    // The rule: off by default, checked in Italian, the owner's.
    let (status, rule) = app.get("/api/loyalty").await;
    assert_eq!((status, rule), (200, json!({"points_per_visit": 0, "points_per_euro": 0, "reward_threshold": 0, "reward_text": ""})));
    let (status, body) = send(app.client.put(app.url("/api/loyalty")).json(&json!({"points_per_visit": -1}))).await;
    assert_eq!(status, 422);
    assert_eq!(body["error"], "punti per visita: il valore non può essere negativo");
    let (status, body) = send(app.client.put(app.url("/api/loyalty")).json(&json!({"points_per_visit": 1, "reward_threshold": 10}))).await;
    assert_eq!(status, 422);
    assert!(body["error"].as_str().unwrap_or_default().contains("indicare il premio"), "{body}");
    assert_eq!(send(staff.get(app.url("/api/loyalty"))).await.0, 403);
    assert_eq!(send(staff.put(app.url("/api/loyalty")).json(&json!({"points_per_visit": 100}))).await.0, 403);

    let ada =
        client(&app.tenant, "Ada Neri", "+393471110000", Some("ada@example.it"), &[NotifyChannel::Whatsapp, NotifyChannel::Email]).await;
    let (first, price) = book(&app.tenant, ada, "2027-03-09T09:00:00Z").await;
    let (second, _) = book(&app.tenant, ada, "2027-03-10T07:00:00Z").await;
    let (future, _) = book(&app.tenant, ada, "2027-03-11T09:00:00Z").await;
    let per_visit = 5 + price / 100;
    let threshold = per_visit + 1;
    let (status, rule) = send(app.client.put(app.url("/api/loyalty")).json(&json!({
        "points_per_visit": 5, "points_per_euro": 1, "reward_threshold": threshold, "reward_text": "  una piega   in omaggio "
    })))
    .await;
    assert_eq!(status, 200, "{rule}");
    assert_eq!(rule["reward_text"], "una piega in omaggio");
    assert_eq!(app.get("/api/loyalty").await.1["reward_threshold"], threshold);

    // Staff complete the first: points, no reward yet.
    let (status, done) = send(staff.post(app.url(&format!("/api/appointments/{}/complete", first.id)))).await;
    assert_eq!(status, 200, "{done}");
    assert_eq!(done["appointment"]["status"], "completed");
    assert_eq!(done["price_cents"], price);
    assert_eq!((done["loyalty"]["earned"].as_i64(), done["loyalty"]["points"].as_i64()), (Some(per_visit), Some(per_visit)));
    assert_eq!(done["loyalty"]["reward"], false);
    assert_eq!(done["receipt"]["emailed"], false, "no receipt e-mail outside the car workshop");
    assert_eq!(points(&app.tenant, ada).await, per_visit);

    // Again: 409, nothing more.
    let (status, body) = send(app.client.post(app.url(&format!("/api/appointments/{}/complete", first.id)))).await;
    assert_eq!(status, 409);
    assert_eq!(body["error"], format!("l'appuntamento {} è già completato", first.id));
    assert_eq!(points(&app.tenant, ada).await, per_visit);

    // The second crosses the threshold: one reward notice, on WhatsApp (the first consented channel).
    let (status, done) = send(app.client.post(app.url(&format!("/api/appointments/{}/complete", second.id)))).await;
    assert_eq!(status, 200, "{done}");
    assert_eq!((done["loyalty"]["reward"].as_bool(), done["loyalty"]["reward_notice"].as_bool()), (Some(true), Some(true)));
    assert_eq!(points(&app.tenant, ada).await, 2 * per_visit);
    assert_eq!(send(app.client.post(app.url(&format!("/api/appointments/{}/complete", second.id)))).await.0, 409);
    let rewards = notices(&app.tenant, NoticeKind::LoyaltyReward).await;
    assert_eq!(rewards.len(), 1, "{rewards:?}");
    assert_eq!((rewards[0].channel, rewards[0].recipient.as_str()), (NotifyChannel::Whatsapp, "+393471110000"));
    assert_eq!(rewards[0].payload["reward_text"], "una piega in omaggio");
    assert_eq!(rewards[0].payload["points"], 2 * per_visit);
    let text = render(NoticeKind::LoyaltyReward, &rewards[0].payload, &rewards[0].recipient, &rewards[0].key, true).text;
    assert!(text.contains("Gentile Ada") && text.contains("una piega in omaggio"), "{text}");
    assert!(notices(&app.tenant, NoticeKind::Receipt).await.is_empty(), "a salon sends no receipt e-mail");

    // Not before it starts; not an unknown one.
    let (status, body) = send(app.client.post(app.url(&format!("/api/appointments/{}/complete", future.id)))).await;
    assert_eq!(status, 409);
    assert!(body["error"].as_str().unwrap_or_default().contains("non è ancora iniziato"), "{body}");
    assert_eq!(app.tenant.appointment(future.id).await.expect("get").map(|a| a.status), Some(AppointmentStatus::Booked));
    assert_eq!(send(app.client.post(app.url("/api/appointments/999999/complete"))).await.0, 404);
    assert_eq!(points(&app.tenant, ada).await, 2 * per_visit);
    let cancelled = app.tenant.cancel(future.id).await.expect("cancel");
    assert_eq!(send(app.client.post(app.url(&format!("/api/appointments/{}/complete", cancelled.id)))).await.0, 409);
}

/// The PDF's text as `pdftotext -layout` extracts it; `None` (with a
/// message) when poppler-utils is absent outside CI.
fn pdf_text(pdf: &[u8]) -> Option<String> {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("doc.pdf");
    std::fs::write(&file, pdf).expect("write pdf");
    match std::process::Command::new("pdftotext").arg("-layout").arg("-enc").arg("UTF-8").arg(&file).arg("-").output() {
        Ok(out) => {
            assert!(out.status.success(), "pdftotext failed: {}", String::from_utf8_lossy(&out.stderr));
            Some(String::from_utf8(out.stdout).expect("utf-8 text"))
        }
        Err(e) if std::env::var("CI").as_deref() != Ok("true") => {
            eprintln!("pdftotext (poppler-utils) absent ({e}): the PDF's text was not checked");
            None
        }
        Err(e) => panic!("pdftotext (poppler-utils) is needed on CI: {e}"),
    }
}

async fn receipt(app: &TestApp, id: Id) -> (String, String, Vec<u8>) {
    let r = app.client.get(app.url(&format!("/api/appointments/{id}/receipt.pdf"))).send().await.expect("receipt");
    assert_eq!(r.status(), 200);
    let header = |n: &str| r.headers().get(n).and_then(|v| v.to_str().ok()).unwrap_or_default().to_string();
    let (kind, disposition) = (header("content-type"), header("content-disposition"));
    (kind, disposition, r.bytes().await.expect("body").to_vec())
}

#[tokio::test]
async fn the_receipt_pdf_shows_business_service_vat_and_total_with_accents() {
    let app = TestApp::spawn().await;
    let (status, _) = send(app.client.put(app.url("/api/business")).json(&json!({
        "name": "Salone Bellezza è Più", "address": "Via Garibaldi 3, Forlì", "phone": "0543 123456"
    })))
    .await;
    assert_eq!(status, 200);
    let niccolo = client(&app.tenant, "Niccolò Bianchi", "+393471112222", None, &[]).await;
    let (a, _) = book(&app.tenant, niccolo, "2027-03-10T07:00:00Z").await;
    sqlx::query("UPDATE services SET name = 'Trattamento cheratina più piega', price_cents = 123450 WHERE id = $1")
        .bind(a.service_id)
        .execute(app.store.pool_for_tests())
        .await
        .expect("price");

    let (kind, disposition, pdf) = receipt(&app, a.id).await;
    assert_eq!(kind, "application/pdf");
    assert_eq!(disposition, format!("inline; filename=\"preventivo-{}.pdf\"", a.id));
    assert!(pdf.starts_with(b"%PDF-"));
    if let Some(text) = pdf_text(&pdf) {
        assert!(text.contains(&format!("Preventivo n. {}", a.id)), "{text}");
    }

    assert_eq!(send(app.client.post(app.url(&format!("/api/appointments/{}/complete", a.id)))).await.0, 200);
    let (_, disposition, pdf) = receipt(&app, a.id).await;
    assert_eq!(disposition, format!("inline; filename=\"ricevuta-{}.pdf\"", a.id));
    assert!(pdf.starts_with(b"%PDF-"));
    let Some(text) = pdf_text(&pdf) else { return };
    eprintln!("{text}");
    let lines: Vec<String> = text.lines().map(|l| l.split_whitespace().collect::<Vec<_>>().join(" ")).collect();
    let line =
        |start: &str| lines.iter().find(|l| l.starts_with(start)).cloned().unwrap_or_else(|| panic!("no line '{start}' in:\n{text}"));
    for expected in [
        "Salone Bellezza è Più".to_string(),
        "Via Garibaldi 3, Forlì".to_string(),
        "Tel. +390543123456".to_string(),
        format!("Ricevuta n. {}", a.id),
        "Cliente: Niccolò Bianchi".to_string(),
        "Data: 10/03/2027 ore 08:00".to_string(),
        "Trattamento cheratina più piega € 1.234,50".to_string(),
        "Imponibile € 1.011,89".to_string(),
        "IVA 22% € 222,61".to_string(),
        "Totale € 1.234,50".to_string(),
        "Documento non fiscale".to_string(),
    ] {
        assert_eq!(line(&expected), expected);
    }

    assert_eq!(app.client.get(app.url("/api/appointments/999999/receipt.pdf")).send().await.expect("unknown").status(), 404);
}

#[tokio::test]
async fn a_car_workshop_e_mails_the_receipt_with_the_pdf_and_announces_the_completion() {
    let app = TestApp::spawn_with(Vertical::Auto).await;
    policy(&app.store, vec!["http://127.0.0.1:9/n8n".into()]);
    let mario =
        client(&app.tenant, "Mario Rossi", "+393471113333", Some("mario@example.it"), &[NotifyChannel::Whatsapp, NotifyChannel::Email])
            .await;
    let luca = client(&app.tenant, "Luca Verdi", "+393471114444", Some("luca@example.it"), &[NotifyChannel::Sms]).await;
    let (a, price) = book(&app.tenant, mario, "2027-03-09T09:00:00Z").await;
    let (b, _) = book(&app.tenant, luca, "2027-03-10T07:00:00Z").await;

    let (status, done) = send(app.client.post(app.url(&format!("/api/appointments/{}/complete", a.id)))).await;
    assert_eq!(status, 200, "{done}");
    assert_eq!((done["receipt"]["emailed"].as_bool(), done["loyalty"]["earned"].as_i64()), (Some(true), Some(0)), "no rule: no points");
    let (status, done) = send(app.client.post(app.url(&format!("/api/appointments/{}/complete", b.id)))).await;
    assert_eq!(status, 200);
    assert_eq!(done["receipt"]["emailed"], false, "no e-mail without consent to e-mail");
    assert_eq!(send(app.client.post(app.url(&format!("/api/appointments/{}/complete", a.id)))).await.0, 409);

    let receipts = notices(&app.tenant, NoticeKind::Receipt).await;
    assert_eq!(receipts.len(), 1, "{receipts:?}");
    let row = &receipts[0];
    assert_eq!((row.channel, row.recipient.as_str(), row.client_id), (NotifyChannel::Email, "mario@example.it", Some(mario)));
    let out = render(row.kind, &row.payload, &row.recipient, &row.key, false);
    assert!(out.subject.starts_with(&format!("Ricevuta n. {}", a.id)), "{}", out.subject);
    assert!(out.text.contains("Gentile Mario") && out.text.contains(&fluxion::receipt::euro(price)), "{}", out.text);
    let (name, bytes) = out.pdf.expect("the PDF is attached");
    assert_eq!(name, format!("ricevuta-{}.pdf", a.id));
    assert!(bytes.starts_with(b"%PDF-"));
    if let Some(text) = pdf_text(&bytes) {
        assert!(text.contains("Mario Rossi") && text.contains("Documento non fiscale"), "{text}");
    }
    assert!(notices(&app.tenant, NoticeKind::LoyaltyReward).await.is_empty());

    let events: Vec<String> = notices(&app.tenant, NoticeKind::Event)
        .await
        .iter()
        .filter(|e| e.payload["event"] == "booking.completed")
        .map(|e| e.payload["data"]["appointment_id"].to_string())
        .collect();
    assert_eq!(events.len(), 2, "one booking.completed per appointment: {events:?}");
}

/// Completion through the store: points, one reward, refused twice and
/// before the start.
async fn completion_contract(store: &Store) {
    let t = SeedData::demo(Vertical::Salone).expect("seed").add_tenant(store).await.expect("tenant");
    policy(store, vec![]);
    let rule = LoyaltyRule { points_per_visit: 3, points_per_euro: 0, reward_threshold: 5, reward_text: "un caffè".into() };
    t.set_loyalty_rule(&rule, Timestamp::now()).await.expect("rule");
    assert_eq!(t.loyalty_rule().await.expect("rule"), rule);
    let ada = client(&t, "Ada Neri", "+393471110000", None, &[NotifyChannel::Sms]).await;
    let (a, _) = book(&t, ada, "2027-03-09T09:00:00Z").await;
    let (b, _) = book(&t, ada, "2027-03-10T07:00:00Z").await;
    let now: Timestamp = "2027-03-10T09:00:00Z".parse().expect("now");

    let done = t.complete(a.id, now).await.expect("complete");
    assert_eq!((done.points_earned, done.points, done.reward), (3, 3, false));
    assert!(matches!(t.complete(a.id, now).await, Err(CompletionError::NotBooked(_, AppointmentStatus::Completed))));
    assert!(matches!(t.complete(b.id, "2027-03-10T06:59:59Z".parse().expect("now")).await, Err(CompletionError::NotStarted(_))));
    assert!(matches!(t.complete(999_999, now).await, Err(CompletionError::NotFound(_))));
    let done = t.complete(b.id, now).await.expect("complete");
    assert_eq!((done.points, done.reward, done.reward_notice), (6, true, true));
    assert_eq!(points(&t, ada).await, 6);
    let rewards = notices(&t, NoticeKind::LoyaltyReward).await;
    assert_eq!(
        rewards.iter().map(|r| (r.channel, r.key.clone())).collect::<Vec<_>>(),
        vec![(NotifyChannel::Sms, format!("loyalty:{}", b.id))]
    );
    let (status, receipt) = t.receipt(b.id).await.expect("receipt").expect("found");
    assert_eq!(
        (status, receipt.kind, receipt.client_name.as_str()),
        (AppointmentStatus::Completed, fluxion::receipt::DocumentKind::Receipt, "Ada Neri")
    );
}

#[tokio::test]
async fn completion_on_sqlite() {
    let (_dir, store, _) = seeded_sqlite(Vertical::Medical).await;
    completion_contract(&store).await;
}

#[tokio::test]
async fn completion_on_postgres() {
    let Some(db) = pg::fresh("loyalty").await else { return };
    completion_contract(&db.store).await;
}
