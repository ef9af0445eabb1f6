//! Notifications through the persisted outbox, against fake peers over
//! real sockets (wiremock for the Graph API and Twilio, mailin-embedded for
//! SMTP): a confirmation that meets a 429 is retried and sent once; a
//! reminder goes once, 24 h before, never at night and never without
//! consent; an e-mail arrives with its text, HTML and `.ics`; and a real
//! `fluxion serve` killed with SIGKILL between queueing and sending sends
//! each notification exactly once after a restart.

use std::io::Write;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use jiff::{SignedDuration, Timestamp};
use serde_json::{json, Value};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use fluxion::channels::whatsapp::WhatsappConfig;
use fluxion::notify::{self, NotifyConfig, Sender, Tick, Worker};
use fluxion::store::{NoticeKind, NotifyChannel, OutboxState, ReceptionistSettings, Store, Tenant};
use fluxion_core::booking::{Appointment, Channel, Id, NewAppointment, Repository, Vertical};

use crate::{bearer_client, count, seeded_sqlite};

const NUMBER_ID: &str = "106540352242922";

fn lookup(pairs: Vec<(&'static str, String)>) -> impl Fn(&str) -> Option<String> {
    move |k| pairs.iter().find(|(n, _)| *n == k).map(|(_, v)| v.clone())
}

fn whatsapp_config(graph: &str) -> WhatsappConfig {
    WhatsappConfig::from_lookup(lookup(vec![
        ("META_ACCESS_TOKEN", "graph-token".into()),
        ("META_GRAPH_URL", format!("{graph}/v21.0")),
        ("PHONE_NUMBER_ID", NUMBER_ID.into()),
    ]))
    .expect("whatsapp config")
}

/// A worker over `store` with `env`, whose policy is set on the store.
fn worker(store: &Store, env: Vec<(&'static str, String)>, graph: &str) -> Worker {
    let config = NotifyConfig::from_lookup(lookup(env)).expect("notify config");
    let sender = Sender::new(&config, &whatsapp_config(graph)).expect("sender");
    store.set_notice_policy(Some(notify::policy(&config, &sender)));
    Worker::new(store.clone(), Arc::new(sender), config)
}

/// A client of `tenant` who consented to `channels`.
pub(crate) async fn client(tenant: &Tenant, name: &str, phone: &str, email: Option<&str>, channels: &[NotifyChannel]) -> Id {
    let c = tenant.upsert_client(name, phone, email).await.expect("client");
    let has = |ch| Some(channels.contains(&ch));
    assert!(tenant
        .set_notify_consent(c.id, has(NotifyChannel::Whatsapp), has(NotifyChannel::Sms), has(NotifyChannel::Email))
        .await
        .expect("consent"));
    c.id
}

/// Books the first service with the first operator at `start` (UTC).
async fn book(tenant: &Tenant, client_id: Id, start: &str) -> Appointment {
    let service = tenant.services().await.expect("services").into_iter().next().expect("a service");
    let operator = tenant.operators().await.expect("operators").into_iter().next().expect("an operator");
    let start: Timestamp = start.parse().expect("instant");
    let end = start + SignedDuration::from_mins(i64::from(service.duration_min));
    let new = NewAppointment { client_id, operator_id: operator.id, service_id: service.id, start, end, channel: Channel::Staff };
    tenant.book(new, 0).await.expect("booked")
}

fn at(s: &str) -> Timestamp {
    s.parse().expect("instant")
}

fn graph_ok(id: &str) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(json!({"messaging_product": "whatsapp", "messages": [{"id": id}]}))
}

async fn bodies(server: &MockServer) -> Vec<Value> {
    server.received_requests().await.unwrap_or_default().iter().map(|r| serde_json::from_slice(&r.body).unwrap_or(Value::Null)).collect()
}

#[tokio::test]
async fn a_confirmation_meeting_429_is_retried_and_sent_once() {
    let (_dir, store, tenant) = seeded_sqlite(Vertical::Salone).await;
    let graph = MockServer::start().await;
    let url = format!("/v21.0/{NUMBER_ID}/messages");
    Mock::given(method("POST"))
        .and(path(url.as_str()))
        .respond_with(ResponseTemplate::new(429))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&graph)
        .await;
    Mock::given(method("POST")).and(path(url.as_str())).respond_with(graph_ok("wamid.conf-1")).with_priority(2).mount(&graph).await;
    let worker = worker(&store, vec![], &graph.uri());

    let sara = client(&tenant, "Sara Neri", "+393491234567", None, &[NotifyChannel::Whatsapp]).await;
    let nobody = client(&tenant, "Luca Galli", "+393491111111", Some("luca@example.it"), &[]).await;
    let a = book(&tenant, sara, "2027-03-11T14:00:00Z").await;
    book(&tenant, nobody, "2027-03-11T16:00:00Z").await;
    let queued = tenant.outbox(None, 10).await.expect("outbox");
    assert_eq!(queued.len(), 1, "queued with the booking, and only for the client who consented: {queued:?}");
    assert_eq!(
        (queued[0].channel, queued[0].kind, queued[0].state),
        (NotifyChannel::Whatsapp, NoticeKind::BookingConfirmed, OutboxState::Pending)
    );
    assert_eq!(queued[0].key, format!("appointment:{}:booking_confirmed", a.id));

    let t0 = at("2027-03-10T09:00:00Z");
    assert_eq!(worker.tick(t0).await.expect("tick"), Tick { claimed: 1, retried: 1, ..Tick::default() });
    let row = &tenant.outbox(None, 1).await.expect("outbox")[0];
    assert_eq!((row.state, row.attempts), (OutboxState::Pending, 1));
    assert!(row.last_error.as_deref().unwrap_or_default().contains("429"), "{row:?}");
    assert!(row.next_attempt_at >= t0 + SignedDuration::from_secs(30), "backed off: {row:?}");
    assert_eq!(worker.tick(t0).await.expect("tick").claimed, 0, "not before its next attempt");
    assert_eq!(worker.tick(t0 + SignedDuration::from_hours(2)).await.expect("tick"), Tick { claimed: 1, sent: 1, ..Tick::default() });
    assert_eq!(worker.tick(t0 + SignedDuration::from_hours(3)).await.expect("tick").claimed, 0, "sent once");

    let sent = bodies(&graph).await;
    assert_eq!(sent.len(), 2, "one 429, one accepted: {sent:?}");
    // No message from the client in the last 24 h: an approved template, in Italian.
    let t = &sent[1]["template"];
    assert_eq!(
        (sent[1]["to"].as_str(), t["name"].as_str(), t["language"]["code"].as_str()),
        (Some("393491234567"), Some("conferma_appuntamento"), Some("it"))
    );
    let params: Vec<&str> =
        t["components"][0]["parameters"].as_array().expect("params").iter().filter_map(|p| p["text"].as_str()).collect();
    assert_eq!(params[0], "Sara");
    assert_eq!(&params[2..], ["giovedì 11 marzo", "15:00"]);
    let row = &tenant.outbox(Some(OutboxState::Sent), 1).await.expect("outbox")[0];
    assert_eq!((row.attempts, row.provider_id.as_deref()), (2, Some("wamid.conf-1")));
}

#[tokio::test]
async fn the_last_attempt_gives_up_and_is_listed() {
    let (_dir, store, tenant) = seeded_sqlite(Vertical::Salone).await;
    let graph = MockServer::start().await;
    Mock::given(method("POST")).respond_with(ResponseTemplate::new(503)).mount(&graph).await;
    let worker = worker(&store, vec![("NOTIFY_MAX_ATTEMPTS", "2".into())], &graph.uri());
    let sara = client(&tenant, "Sara Neri", "+393491234567", None, &[NotifyChannel::Whatsapp]).await;
    book(&tenant, sara, "2027-03-11T14:00:00Z").await;
    let t0 = at("2027-03-10T09:00:00Z");
    assert_eq!(worker.tick(t0).await.expect("tick").retried, 1);
    assert_eq!(worker.tick(t0 + SignedDuration::from_hours(2)).await.expect("tick").failed, 1);
    let failed = tenant.outbox(Some(OutboxState::Failed), 10).await.expect("failed");
    assert_eq!(failed.len(), 1);
    assert!(failed[0].last_error.as_deref().unwrap_or_default().contains("503"), "{failed:?}");
    assert_eq!(worker.tick(t0 + SignedDuration::from_hours(9)).await.expect("tick").claimed, 0, "given up for good");
    assert_eq!(graph.received_requests().await.map(|r| r.len()), Some(2));
}

#[tokio::test]
async fn reminders_go_once_a_day_before_never_at_night_never_without_consent() {
    let (_dir, store, tenant) = seeded_sqlite(Vertical::Salone).await;
    let graph = MockServer::start().await;
    Mock::given(method("POST")).and(path(format!("/v21.0/{NUMBER_ID}/messages"))).respond_with(graph_ok("wamid.rem")).mount(&graph).await;
    let twilio = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/2010-04-01/Accounts/ACtest/Messages.json"))
        .respond_with(ResponseTemplate::new(201).set_body_json(json!({"sid": "SM123", "status": "queued"})))
        .mount(&twilio)
        .await;

    let sara = client(&tenant, "Sara Neri", "+393491234567", None, &[NotifyChannel::Whatsapp]).await;
    let anna = client(&tenant, "Anna Riva", "+393492222222", None, &[NotifyChannel::Sms]).await;
    let luca = client(&tenant, "Luca Galli", "+393491111111", Some("luca@example.it"), &[]).await;
    // Booked before notifications were on: no confirmations, only reminders.
    let afternoon = book(&tenant, sara, "2027-03-12T14:00:00Z").await; // 15:00 in Rome
    let early = book(&tenant, anna, "2027-03-12T06:30:00Z").await; // 07:30 in Rome: 24 h before is night
    book(&tenant, luca, "2027-03-12T15:00:00Z").await; // no consent
    let env = vec![
        ("TWILIO_ACCOUNT_SID", "ACtest".into()),
        ("TWILIO_AUTH_TOKEN", "twilio-token".into()),
        ("TWILIO_FROM_NUMBER", "+390200000000".into()),
        ("TWILIO_API_BASE", twilio.uri()),
    ];
    let config = NotifyConfig::from_lookup(lookup(env.clone())).expect("config");
    let worker = worker(&store, env, &graph.uri());

    // 06:00 in Rome: Anna's reminder is queued for 08:00, when the night ends.
    assert_eq!(notify::queue_reminders(&store, &config, at("2027-03-11T05:00:00Z")).await.expect("scan"), 1);
    assert_eq!(worker.tick(at("2027-03-11T06:45:00Z")).await.expect("tick").claimed, 0, "07:45 in Rome is still night");
    assert_eq!(worker.tick(at("2027-03-11T07:00:00Z")).await.expect("tick").sent, 1);
    let sms = twilio.received_requests().await.unwrap_or_default();
    assert_eq!(sms.len(), 1);
    let form: Vec<(String, String)> = url::form_urlencoded::parse(&sms[0].body).into_owned().collect();
    let field = |k: &str| form.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str()).unwrap_or_default();
    assert_eq!((field("To"), field("From")), ("+393492222222", "+390200000000"));
    assert!(field("Body").contains("le ricordiamo l'appuntamento") && field("Body").contains("venerdì 12 marzo alle 07:30"), "{form:?}");
    assert!(sms[0].headers.get("authorization").is_some(), "basic auth");

    // 14:00 in Rome: Sara's, due at 15:00 (24 h before); Anna's is not queued again.
    assert_eq!(notify::queue_reminders(&store, &config, at("2027-03-11T13:00:00Z")).await.expect("scan"), 1);
    assert_eq!(worker.tick(at("2027-03-11T13:59:00Z")).await.expect("tick").claimed, 0);
    assert_eq!(worker.tick(at("2027-03-11T14:00:00Z")).await.expect("tick").sent, 1);
    assert_eq!(notify::queue_reminders(&store, &config, at("2027-03-11T14:05:00Z")).await.expect("scan"), 0, "sent once");
    assert_eq!(worker.tick(at("2027-03-11T20:00:00Z")).await.expect("tick").claimed, 0);
    let wa = bodies(&graph).await;
    assert_eq!(wa.len(), 1, "{wa:?}");
    assert_eq!(wa[0]["template"]["name"], "promemoria_appuntamento");
    assert_eq!(wa[0]["template"]["components"][0]["parameters"][3]["text"], "15:00");

    let rows = tenant.outbox(None, 10).await.expect("outbox");
    assert_eq!(rows.len(), 2, "none for the client without consent: {rows:?}");
    assert!(rows.iter().all(|r| r.kind == NoticeKind::Reminder && r.state == OutboxState::Sent));
    assert!(rows.iter().any(|r| r.key == format!("appointment:{}:reminder:2027-03-12T14:00:00Z", afternoon.id)));
    assert!(rows.iter().any(|r| r.key == format!("appointment:{}:reminder:2027-03-12T06:30:00Z", early.id)));
}

#[tokio::test]
async fn a_reminder_of_a_cancelled_appointment_is_dropped() {
    let (_dir, store, tenant) = seeded_sqlite(Vertical::Salone).await;
    let graph = MockServer::start().await;
    Mock::given(method("POST")).respond_with(graph_ok("wamid.x")).mount(&graph).await;
    let sara = client(&tenant, "Sara Neri", "+393491234567", None, &[NotifyChannel::Whatsapp]).await;
    let a = book(&tenant, sara, "2027-03-12T14:00:00Z").await;
    let config = NotifyConfig::from_lookup(|_| None).expect("config");
    let worker = worker(&store, vec![], &graph.uri());
    assert_eq!(notify::queue_reminders(&store, &config, at("2027-03-11T13:00:00Z")).await.expect("scan"), 1);
    tenant.cancel(a.id).await.expect("cancelled");
    let tick = worker.tick(at("2027-03-11T14:00:00Z")).await.expect("tick");
    // The cancellation notice goes; the reminder does not.
    assert_eq!((tick.sent, tick.dropped), (1, 1), "{tick:?}");
    let sent = bodies(&graph).await;
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0]["template"]["name"], "disdetta_appuntamento");
}

/// What the SMTP server received.
#[derive(Clone, Default)]
struct Mailbox {
    current: Arc<Mutex<Vec<u8>>>,
    done: Arc<Mutex<Vec<(Vec<String>, String)>>>,
    to: Arc<Mutex<Vec<String>>>,
}

impl mailin_embedded::Handler for Mailbox {
    fn data_start(&mut self, _domain: &str, _from: &str, _is8bit: bool, to: &[String]) -> mailin_embedded::Response {
        *self.to.lock().expect("lock") = to.to_vec();
        self.current.lock().expect("lock").clear();
        mailin_embedded::response::OK
    }

    fn data(&mut self, buf: &[u8]) -> std::io::Result<()> {
        self.current.lock().expect("lock").write_all(buf)
    }

    fn data_end(&mut self) -> mailin_embedded::Response {
        let text = String::from_utf8_lossy(&self.current.lock().expect("lock")).into_owned();
        let to = self.to.lock().expect("lock").clone();
        self.done.lock().expect("lock").push((to, text));
        mailin_embedded::response::OK
    }
}

/// The decoded `Subject:` of a raw message: folded lines joined, RFC 2047
/// base64 words (as lettre writes non-ASCII words) decoded in place.
fn subject(mail: &str) -> String {
    use base64::Engine;
    let mut lines = mail.lines().skip_while(|l| !l.starts_with("Subject:"));
    let mut raw = lines.next().unwrap_or_default().trim_start_matches("Subject:").trim_start().to_string();
    for l in lines.take_while(|l| l.starts_with(' ') || l.starts_with('\t')) {
        raw.push_str(l);
    }
    let mut out = String::new();
    let mut rest = raw.as_str();
    while let Some(i) = rest.find("=?") {
        out.push_str(&rest[..i]);
        let word = &rest[i + 2..];
        let mut parts = word.splitn(3, '?');
        let (_charset, encoding, tail) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""), parts.next().unwrap_or(""));
        let Some(end) = tail.find("?=") else {
            out.push_str(&rest[i..]);
            rest = "";
            break;
        };
        let text = &tail[..end];
        if encoding.eq_ignore_ascii_case("b") {
            out.push_str(&String::from_utf8_lossy(&base64::engine::general_purpose::STANDARD.decode(text).unwrap_or_default()));
        } else {
            out.push_str(text);
        }
        rest = &tail[end + 2..];
    }
    out.push_str(rest);
    out
}

#[tokio::test]
async fn a_confirmation_e_mail_has_text_html_and_the_ics() {
    let (_dir, store, tenant) = seeded_sqlite(Vertical::Salone).await;
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let mailbox = Mailbox::default();
    let mut server = mailin_embedded::Server::new(mailbox.clone());
    server.with_name("smtp.test").with_tcp_listener(listener);
    std::thread::spawn(move || {
        if let Err(e) = server.serve() {
            eprintln!("SMTP test server stopped: {e}");
        }
    });

    let env = vec![
        ("SMTP_HOST", "127.0.0.1".to_string()),
        ("SMTP_PORT", port.to_string()),
        ("SMTP_TLS", "none".to_string()),
        ("SMTP_FROM", "Salone <prenotazioni@salone.example.it>".to_string()),
    ];
    // No WhatsApp or SMS here: e-mail is the channel that remains.
    let config = NotifyConfig::from_lookup(lookup(env)).expect("config");
    let sender = Sender::new(&config, &WhatsappConfig::from_lookup(|_| None).expect("wa")).expect("sender");
    store.set_notice_policy(Some(notify::policy(&config, &sender)));
    let worker = Worker::new(store.clone(), Arc::new(sender), config);
    let ada = client(&tenant, "Ada Riva", "+393493333333", Some("ada@example.it"), &[NotifyChannel::Whatsapp, NotifyChannel::Email]).await;
    let a = book(&tenant, ada, "2027-03-11T14:00:00Z").await;
    assert_eq!(worker.tick(Timestamp::now()).await.expect("tick"), Tick { claimed: 1, sent: 1, ..Tick::default() });

    let done = mailbox.done.lock().expect("lock").clone();
    assert_eq!(done.len(), 1);
    let (to, mail) = &done[0];
    assert_eq!(to, &vec!["ada@example.it".to_string()]);
    assert!(subject(mail).starts_with("Prenotazione confermata: "), "{mail}");
    assert!(subject(mail).ends_with("giovedì 11 marzo alle 15:00"), "{}", subject(mail));
    assert!(mail.contains(&format!("Message-ID: <appointment.{}.booking.confirmed@salone.example.it>", a.id)), "{mail}");
    assert!(mail.contains("text/plain") && mail.contains("text/html") && mail.contains("text/calendar"), "{mail}");
    assert!(mail.contains("appuntamento.ics") && mail.contains("BEGIN:VCALENDAR") && mail.contains("DTSTART:20270311T140000Z"), "{mail}");
    let row = &tenant.outbox(Some(OutboxState::Sent), 1).await.expect("outbox")[0];
    assert_eq!((row.channel, row.recipient.as_str()), (NotifyChannel::Email, "ada@example.it"));
}

/// A `fluxion serve` child process on an existing database.
struct Served {
    child: Child,
    base: String,
}

impl Served {
    fn start(db: &std::path::Path, graph: &str, dir: &std::path::Path, log: &str) -> Served {
        let port = std::net::TcpListener::bind("127.0.0.1:0").expect("port").local_addr().expect("addr").port();
        let log = std::fs::File::create(dir.join(log)).expect("log");
        let child = Command::new(env!("CARGO_BIN_EXE_fluxion"))
            .args(["serve", "--no-mcp", "--port", &port.to_string(), "--now", crate::NOW])
            .env_remove("DATABASE_URL")
            .env_remove("FLUXION_CONFIG")
            .env("FLUXION_DB", db)
            .env("FLUXION_CACHE_DIR", dir.join("cache"))
            .env("BACKUP_DAILY", "0")
            .env("META_ACCESS_TOKEN", "graph-token")
            .env("META_GRAPH_URL", format!("{graph}/v21.0"))
            .env("PHONE_NUMBER_ID", NUMBER_ID)
            .env("NOTIFY_LEASE_SECS", "2")
            .env("NOTIFY_POLL_MS", "100")
            .env("RUST_LOG", "info")
            .current_dir(dir)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("start fluxion");
        Served { child, base: format!("http://127.0.0.1:{port}") }
    }

    async fn wait_healthy(&self) {
        for _ in 0..600 {
            if reqwest::get(format!("{}/health", self.base)).await.is_ok_and(|r| r.status().is_success()) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("fluxion serve did not start");
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn wait_for(what: &str, mut check: impl AsyncFnMut() -> bool) {
    for _ in 0..1200 {
        if check().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("timed out waiting for {what}");
}

#[tokio::test]
async fn killed_between_queueing_and_sending_each_notice_goes_exactly_once() {
    let (dir, store, tenant) = seeded_sqlite(Vertical::Salone).await;
    let db = match store.url() {
        fluxion::store::DatabaseUrl::Sqlite(p) => p.clone(),
        fluxion::store::DatabaseUrl::Postgres(_) => unreachable!("sqlite"),
    };
    let phones = ["+393491000001", "+393491000002", "+393491000003"];
    let mut clients = Vec::new();
    for (i, p) in phones.iter().enumerate() {
        clients.push(client(&tenant, &format!("Cliente Prova{i}"), p, None, &[NotifyChannel::Whatsapp]).await);
    }
    let service = tenant.services().await.expect("services")[0].id;
    let (_, token) = fluxion::auth::create_token(&tenant, "tests", true).await.expect("token");
    store.close().await;

    // First life: the Graph API takes every request and never answers.
    let stalled = MockServer::start().await;
    Mock::given(method("POST")).respond_with(graph_ok("wamid.never").set_delay(Duration::from_secs(3600))).mount(&stalled).await;
    let mut first = Served::start(&db, &stalled.uri(), dir.path(), "first.log");
    first.wait_healthy().await;
    let api = bearer_client(&token);
    for (i, c) in clients.iter().enumerate() {
        let r = api
            .post(format!("{}/api/appointments", first.base))
            .json(&json!({"client_id": c, "service_id": service, "start": format!("2027-03-11T{:02}:00", 10 + i)}))
            .send()
            .await
            .expect("book");
        assert_eq!(r.status(), 201, "{}", r.text().await.unwrap_or_default());
    }
    wait_for("the worker to start sending", async || stalled.received_requests().await.is_some_and(|r| !r.is_empty())).await;
    first.child.kill().expect("SIGKILL"); // std's kill is SIGKILL on Unix
    first.child.wait().expect("reaped");

    let store = Store::open(&fluxion::store::DatabaseUrl::Sqlite(db.clone())).await.expect("reopen");
    assert_eq!(count(&store, "SELECT COUNT(*) FROM outbox WHERE kind = 'booking_confirmed'").await, 3, "queued with the bookings");
    assert_eq!(count(&store, "SELECT COUNT(*) FROM outbox WHERE state = 'sent'").await, 0, "nothing was accepted before the kill");
    assert!(count(&store, "SELECT COUNT(*) FROM outbox WHERE state = 'sending'").await >= 1, "killed while sending");

    // Second life: the Graph API answers; the held row is reclaimed once its lease expires.
    let graph = MockServer::start().await;
    Mock::given(method("POST")).respond_with(graph_ok("wamid.ok")).mount(&graph).await;
    let second = Served::start(&db, &graph.uri(), dir.path(), "second.log");
    second.wait_healthy().await;
    wait_for("every notice to be sent", async || count(&store, "SELECT COUNT(*) FROM outbox WHERE state = 'sent'").await == 3).await;
    let sent = bodies(&graph).await;
    let mut to: Vec<&str> = sent.iter().filter_map(|b| b["to"].as_str()).collect();
    to.sort_unstable();
    assert_eq!(to, ["393491000001", "393491000002", "393491000003"], "each exactly once");
    drop(second);
}

#[tokio::test]
async fn webhooks_carry_signed_events_through_the_outbox() {
    use fluxion::store::MessageDirection;
    use fluxion_core::history::{CallbackRequest, RequestKind};
    let (_dir, store, tenant) = seeded_sqlite(Vertical::Salone).await;
    let hook = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/n8n/fluxion"))
        .respond_with(ResponseTemplate::new(500))
        .up_to_n_times(1)
        .with_priority(1)
        .mount(&hook)
        .await;
    Mock::given(method("POST")).and(path("/n8n/fluxion")).respond_with(ResponseTemplate::new(200)).with_priority(2).mount(&hook).await;
    let url = format!("{}/n8n/fluxion", hook.uri());
    // A second endpoint with its own secret gets every event too.
    let make = MockServer::start().await;
    Mock::given(method("POST")).and(path("/make")).respond_with(ResponseTemplate::new(200)).mount(&make).await;
    let env = vec![
        ("WEBHOOK_URL", url.clone()),
        ("WEBHOOK_SECRET", "n8n-secret".into()),
        ("WEBHOOK_URL_2", format!("{}/make", make.uri())),
        ("WEBHOOK_SECRET_2", "make-secret".into()),
    ];
    let worker = worker(&store, env, "http://127.0.0.1:9");

    let luca = client(&tenant, "Luca Galli", "+393491111111", None, &[]).await;
    let a = book(&tenant, luca, "2027-03-11T14:00:00Z").await;
    tenant.cancel(a.id).await.expect("cancelled");
    let request = CallbackRequest {
        kind: RequestKind::Callback,
        client_id: Some(luca),
        name: Some("Luca Galli".into()),
        phone: Some("+393491111111".into()),
        session_id: "s-1".into(),
        reason: "preventivo".into(),
        created_at: at("2027-03-10T09:00:00Z"),
    };
    tenant.add_callback_request(&request).await.expect("callback");
    assert!(tenant
        .record_message("wamid.in-7", MessageDirection::Inbound, "393491111111", "text", at("2027-03-10T09:00:00Z"))
        .await
        .expect("message"));

    let t0 = Timestamp::now();
    let first = worker.tick(t0).await.expect("tick");
    assert_eq!((first.claimed, first.sent, first.retried), (8, 7, 1), "the first delivery meets a 500: {first:?}");
    assert_eq!(worker.tick(t0 + SignedDuration::from_hours(1)).await.expect("tick").sent, 1, "retried");
    assert_eq!(worker.tick(t0 + SignedDuration::from_hours(2)).await.expect("tick").claimed, 0);

    let requests = hook.received_requests().await.unwrap_or_default();
    assert_eq!(requests.len(), 5);
    let mut events = Vec::new();
    for r in &requests {
        let signature = r.headers.get("x-fluxion-signature").and_then(|v| v.to_str().ok()).expect("signed");
        assert_eq!(notify::webhook::verify("n8n-secret", &r.body, signature, Timestamp::now()), Ok(()));
        assert!(notify::webhook::verify("wrong", &r.body, signature, Timestamp::now()).is_err());
        let body: Value = serde_json::from_slice(&r.body).expect("json");
        assert_eq!(r.headers.get("x-fluxion-delivery").and_then(|v| v.to_str().ok()), body["id"].as_str());
        events.push((
            body["event"].as_str().unwrap_or_default().to_string(),
            body["data"].clone(),
            body["id"].as_str().unwrap_or_default().to_string(),
        ));
    }
    // The retried delivery keeps its id; each event is delivered once.
    let mut delivered: Vec<&str> = events.iter().skip(1).map(|(e, _, _)| e.as_str()).collect();
    delivered.sort_unstable();
    assert_eq!(delivered, ["booking.cancelled", "booking.created", "callback.requested", "message.received"]);
    assert_eq!(events[0].2, events.iter().skip(1).find(|(e, _, _)| *e == events[0].0).map(|(_, _, id)| id.clone()).unwrap_or_default());
    let created = events.iter().find(|(e, _, _)| e == "booking.created").expect("created");
    assert_eq!((created.1["appointment_id"].as_i64(), created.1["client_phone"].as_str()), (Some(a.id), Some("+393491111111")));
    assert!(tenant.outbox(Some(OutboxState::Sent), 10).await.expect("outbox").iter().all(|r| r.channel == NotifyChannel::Webhook));
    let second = make.received_requests().await.unwrap_or_default();
    let mut second_events: Vec<String> = second
        .iter()
        .map(|r| {
            let signature = r.headers.get("x-fluxion-signature").and_then(|v| v.to_str().ok()).expect("signed");
            assert_eq!(notify::webhook::verify("make-secret", &r.body, signature, Timestamp::now()), Ok(()));
            assert!(notify::webhook::verify("n8n-secret", &r.body, signature, Timestamp::now()).is_err(), "each endpoint its own secret");
            serde_json::from_slice::<Value>(&r.body).expect("json")["event"].as_str().unwrap_or_default().to_string()
        })
        .collect();
    second_events.sort_unstable();
    assert_eq!(second_events, ["booking.cancelled", "booking.created", "callback.requested", "message.received"]);
}

#[tokio::test]
async fn a_business_chooses_its_reminder_lead_and_who_hears_of_callbacks() {
    let (_dir, store, tenant) = seeded_sqlite(Vertical::Salone).await;
    let graph = MockServer::start().await;
    Mock::given(method("POST")).respond_with(graph_ok("wamid.own")).mount(&graph).await;
    let env = vec![("NOTIFY_OWNER_PHONE", "+390211111111".to_string())];
    let config = NotifyConfig::from_lookup(lookup(env.clone())).expect("config");
    let _worker = worker(&store, env, &graph.uri());
    let sara = client(&tenant, "Sara Neri", "+393491234567", None, &[NotifyChannel::Whatsapp]).await;
    let own =
        ReceptionistSettings { reminder_hours: Some(2), notify_phone: Some("+393470000001".into()), ..ReceptionistSettings::default() };
    tenant.set_receptionist_settings(&own, Timestamp::now()).await.expect("settings");
    let two_hours = book(&tenant, sara, "2027-03-12T14:00:00Z").await;
    // The server's 24 h would queue it now; the owner's 2 h does not until 12:00.
    assert_eq!(notify::queue_reminders(&store, &config, at("2027-03-11T13:00:00Z")).await.expect("scan"), 0);
    assert_eq!(notify::queue_reminders(&store, &config, at("2027-03-12T11:00:00Z")).await.expect("scan"), 1);
    let reminders = |rows: Vec<fluxion::store::OutboxEntry>| rows.into_iter().filter(|r| r.kind == NoticeKind::Reminder).count();
    assert_eq!(reminders(tenant.outbox(None, 20).await.expect("outbox")), 1);
    let key = format!("appointment:{}:reminder:2027-03-12T14:00:00Z", two_hours.id);
    assert!(tenant.outbox(None, 20).await.expect("outbox").iter().any(|r| r.key == key));

    // 0 hours: this business sends no reminders at all.
    tenant
        .set_receptionist_settings(&ReceptionistSettings { reminder_hours: Some(0), ..own.clone() }, Timestamp::now())
        .await
        .expect("off");
    book(&tenant, sara, "2027-03-13T14:00:00Z").await;
    assert_eq!(notify::queue_reminders(&store, &config, at("2027-03-13T12:30:00Z")).await.expect("scan"), 0);
    assert_eq!(reminders(tenant.outbox(None, 20).await.expect("outbox")), 1);

    // Callback requests go to the owner's own number, and back to the
    // server's once the owner clears it.
    let request = |phone: &str| fluxion_core::history::CallbackRequest {
        kind: fluxion_core::history::RequestKind::Callback,
        name: Some("Anna Riva".into()),
        client_id: None,
        phone: Some(phone.into()),
        session_id: "CAown".into(),
        reason: "vuole parlare con Giulia".into(),
        created_at: Timestamp::now(),
    };
    let callbacks = || async {
        let rows = tenant.outbox(None, 20).await.expect("outbox");
        rows.into_iter().filter(|r| r.kind == NoticeKind::CallbackRequested).map(|r| (r.channel, r.recipient)).collect::<Vec<_>>()
    };
    tenant.add_callback_request(&request("+393492222222")).await.expect("callback");
    assert_eq!(callbacks().await, vec![(NotifyChannel::Whatsapp, "+393470000001".to_string())]);
    tenant.set_receptionist_settings(&ReceptionistSettings::default(), Timestamp::now()).await.expect("cleared");
    tenant.add_callback_request(&request("+393493333333")).await.expect("callback");
    let mut got = callbacks().await;
    got.sort_by(|a, b| a.1.cmp(&b.1));
    assert_eq!(got, vec![(NotifyChannel::Whatsapp, "+390211111111".to_string()), (NotifyChannel::Whatsapp, "+393470000001".to_string())]);
}
