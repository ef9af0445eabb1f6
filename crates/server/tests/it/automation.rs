//! An automation (an n8n workflow holding a bearer token) writes to a client
//! through `POST /api/messages`: queued once per `Idempotency-Key`, only on a
//! channel the client consented to and the deployment can send on.

use fluxion::store::{NoticePolicy, NotifyChannel};
use fluxion_core::booking::Repository;
use serde_json::{json, Value};

use crate::TestApp;

async fn post(app: &TestApp, key: Option<&str>, body: Value) -> (u16, Value) {
    let mut r = app.client.post(app.url("/api/messages")).json(&body);
    if let Some(k) = key {
        r = r.header("Idempotency-Key", k);
    }
    let r = r.send().await.expect("request");
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn a_workflow_writes_to_a_client_once_and_only_with_consent() {
    let app = TestApp::spawn().await;
    let policy =
        NoticePolicy { order: vec![NotifyChannel::Sms, NotifyChannel::Email], owner: None, owner_channels: vec![], webhooks: vec![] };
    app.store.set_notice_policy(Some(policy));
    let ada = app.tenant.upsert_client("Ada Neri", "+393471110000", Some("ada@example.it")).await.expect("client");
    let ready = json!({ "canale": "sms", "telefono": "347 111 0000", "testo": "La sua auto è pronta, può passare a ritirarla." });
    let messages = "SELECT COUNT(*) FROM outbox WHERE kind = 'message'";

    let (status, body) = post(&app, Some("job-41"), ready.clone()).await;
    assert_eq!(status, 403, "no consent to SMS yet: {body}");
    assert_eq!(app.count(messages).await, 0);

    assert!(app.tenant.set_notify_consent(ada.id, None, Some(true), None).await.expect("consent"));
    let (status, body) = post(&app, Some("job-41"), ready.clone()).await;
    assert_eq!((status, body["stato"].as_str()), (202, Some("in_coda")), "{body}");
    let (status, body) = post(&app, Some("job-41"), ready.clone()).await;
    assert_eq!((status, body["stato"].as_str()), (200, Some("gia_in_coda")), "a workflow's retry is queued once: {body}");
    let (status, _) = post(&app, Some("job-42"), ready.clone()).await;
    assert_eq!(status, 202, "another run of the workflow is another message");
    assert_eq!(app.count(messages).await, 2);
    assert_eq!(app.count("SELECT COUNT(*) FROM outbox WHERE kind = 'message' AND recipient = '+393471110000'").await, 2);

    for (bad, why) in [
        (json!({ "canale": "fax", "telefono": "3471110000", "testo": "x" }), "unknown channel"),
        (json!({ "canale": "sms", "telefono": "ciao", "testo": "x" }), "bad number"),
        (json!({ "canale": "sms", "telefono": "3471110000", "testo": "  " }), "empty text"),
        (json!({ "canale": "sms", "telefono": "3471110000", "testo": "x".repeat(1001) }), "too long"),
        (json!({ "canale": "email", "email": "ada@", "testo": "x" }), "bad address"),
        (json!({ "canale": "sms", "testo": "x", "priorita": 1 }), "unknown field"),
    ] {
        let (status, body) = post(&app, None, bad).await;
        assert!(status == 422 || status == 400, "{why}: {status} {body}");
    }
    let (status, body) = post(&app, None, json!({ "canale": "whatsapp", "telefono": "3471110000", "testo": "x" })).await;
    assert_eq!(status, 403, "WhatsApp is not configured here: {body}");

    let r = app.anon.post(app.url("/api/messages")).json(&ready).send().await.expect("request");
    assert_eq!(r.status(), 401, "no token, no message");
    assert_eq!(app.count(messages).await, 2);
}
