//! GDPR requests on one client: the export holds everything about them;
//! after erasure no column of any table (enumerated from the database's own
//! catalogue, so a table added later is covered without touching this test)
//! holds their name or number, on SQLite and on PostgreSQL; their recording
//! files are gone; their appointments are kept without them; other clients
//! keep their data; staff may do neither.

use std::path::Path;

use fluxion::store::{CallDirection, CallEnd, CallOutcome, Dialect, MessageDirection, Role, Store, Tenant};
use fluxion::telephony::Provider;
use fluxion::voice::HangupReason;
use fluxion_core::booking::{Channel, Id, NewAppointment, Repository, Vertical};
use fluxion_core::history::{CallbackRequest, ChatTurn, RequestKind, Role as Speaker, WaitlistEntry};
use jiff::{SignedDuration, Timestamp};
use serde_json::Value;

use crate::{pg, TestApp};

const NAME: &str = "Ada Lovelace";
const PHONE: &str = "+393471112233";
/// Every form the client's name and number may take in a row.
const TRACES: [&str; 4] = ["Lovelace", "+393471112233", "393471112233", "3471112233"];

fn ts(s: &str) -> Timestamp {
    s.parse().expect("instant")
}

fn turn(session: &str, client_id: Option<Id>, text: &str, channel: Channel) -> ChatTurn {
    ChatTurn {
        session_id: session.into(),
        client_id,
        role: Speaker::User,
        text: text.into(),
        intent: None,
        layer: None,
        latency_us: 900,
        timings: None,
        model_use: None,
        at: ts("2027-03-09T09:00:00Z"),
        channel,
    }
}

/// The client Ada with something in every table that can name her, and Bea
/// with an appointment and a conversation. Returns (Ada, Bea).
async fn fixture(t: &Tenant, recordings: &Path) -> (Id, Id) {
    let ada = t.upsert_client(NAME, PHONE, Some("ada@example.it")).await.expect("ada").id;
    let bea = t.upsert_client("Bea Rossi", "+393470000009", None).await.expect("bea").id;
    let ops = t.operators().await.expect("operators");
    let op = ops.iter().find(|o| !o.service_ids.is_empty()).expect("an operator with services");
    let service = op.service_ids[0];
    for (client, start) in [(ada, "2027-03-11T09:00:00Z"), (ada, "2027-03-01T09:00:00Z"), (bea, "2027-03-11T13:00:00Z")] {
        let start = ts(start);
        let new = NewAppointment {
            client_id: client,
            operator_id: op.id,
            service_id: service,
            start,
            end: start + SignedDuration::from_mins(30),
            channel: Channel::Voice,
        };
        t.book(new, 0).await.expect("book");
    }
    // A chat where she gave her name before being recognised, then was.
    t.record_turn(&turn("chat-1", None, "buongiorno, sono Ada Lovelace", Channel::Chat)).await.expect("turn");
    t.record_turn(&turn("chat-1", Some(ada), "vorrei un taglio", Channel::Chat)).await.expect("turn");
    // A recorded phone call from her number.
    let call =
        t.start_call(Provider::Twilio, "CA-ada", CallDirection::Inbound, Some(PHONE), Some("+390200000001"), ts("2027-03-09T08:00:00Z"));
    let call = call.await.expect("call");
    t.record_turn(&turn("CA-ada", None, "pronto, chiamo per un appuntamento", Channel::Voice)).await.expect("turn");
    let caller_wav = recordings.join("CA-ada-caller.wav");
    for f in [caller_wav.clone(), recordings.join("CA-ada-agent.wav")] {
        std::fs::write(&f, b"RIFF").expect("recording file");
    }
    let end = CallEnd {
        ended_at: ts("2027-03-09T08:02:00Z"),
        duration_ms: 120_000,
        outcome: CallOutcome::Booked,
        hangup_reason: HangupReason::Completed,
        turns: 1,
        recording_path: Some(caller_wav.display().to_string()),
    };
    t.end_call(call, &end).await.expect("end call");
    // A callback request by name and number, from a session of its own.
    let request = CallbackRequest {
        kind: RequestKind::Callback,
        client_id: None,
        name: Some(NAME.into()),
        phone: Some(PHONE.into()),
        session_id: "chat-2".into(),
        reason: "mi richiamate?".into(),
        created_at: ts("2027-03-09T10:00:00Z"),
    };
    t.add_callback_request(&request).await.expect("callback");
    t.record_turn(&turn("chat-2", None, "Ada Lovelace, mi richiamate?", Channel::Chat)).await.expect("turn");
    let wait = WaitlistEntry {
        client_id: Some(ada),
        service_id: service,
        operator_id: None,
        preference: "di mattina".into(),
        created_at: ts("2027-03-09T10:00:00Z"),
    };
    t.add_waitlist(&wait).await.expect("waitlist");
    // WhatsApp: the message record and the conversation.
    t.record_message("wamid.ada1", MessageDirection::Inbound, "393471112233", "text", ts("2027-03-09T11:00:00Z")).await.expect("message");
    t.record_turn(&turn("wa:393471112233", None, "ciao", Channel::Whatsapp)).await.expect("turn");
    // Bea's conversation.
    t.record_turn(&turn("chat-bea", Some(bea), "sono Bea, vorrei una piega", Channel::Chat)).await.expect("turn");
    (ada, bea)
}

/// `(table, column, needle)` for every column that holds one of `needles`,
/// over every table of the database (its catalogue, not a list kept here).
pub async fn traces_of(store: &Store, needles: &[&'static str]) -> Vec<(String, String, &'static str)> {
    let catalogue = match store.dialect() {
        Dialect::Sqlite => {
            "SELECT m.name, p.name FROM sqlite_master m JOIN pragma_table_info(m.name) p \
             WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%' AND m.name NOT LIKE '_sqlx%'"
        }
        Dialect::Postgres => {
            "SELECT CAST(table_name AS TEXT), CAST(column_name AS TEXT) FROM information_schema.columns \
             WHERE table_schema = 'public' AND table_name NOT LIKE '_sqlx%'"
        }
    };
    let columns: Vec<(String, String)> = sqlx::query_as(catalogue).fetch_all(store.pool_for_tests()).await.expect("catalogue");
    assert!(columns.iter().any(|(t, _)| t == "clients") && columns.len() > 50, "the catalogue lists the schema: {columns:?}");
    let mut found = Vec::new();
    for (table, column) in columns {
        for &needle in needles {
            let sql = format!("SELECT COUNT(*) FROM \"{table}\" WHERE CAST(\"{column}\" AS TEXT) LIKE $1");
            let n: i64 = sqlx::query_scalar(&sql).bind(format!("%{needle}%")).fetch_one(store.pool_for_tests()).await.expect("scan");
            if n > 0 {
                found.push((table.clone(), column.clone(), needle));
            }
        }
    }
    found
}

async fn traces(store: &Store) -> Vec<(String, String, &'static str)> {
    traces_of(store, &TRACES).await
}

/// The fixture leaves traces, erasure removes them all, and keeps Bea's data
/// and the appointments (without Ada).
async fn erasure_leaves_nothing(store: &Store, t: &Tenant) {
    let dir = tempfile::tempdir().expect("tempdir");
    let (ada, bea) = fixture(t, dir.path()).await;
    let before = traces(store).await;
    for table in ["clients", "chat_history", "calls", "callback_requests", "whatsapp_messages"] {
        assert!(before.iter().any(|(t, _, _)| t == table), "the fixture names Ada in {table}: {before:?}");
    }
    let appointments: Vec<_> = t.appointments_between("2027-03-01", "2027-03-31", None).await.expect("appointments");
    let erased = t.erase_client(ada, ts("2027-03-10T09:00:00Z")).await.expect("erase").expect("Ada exists");
    assert_eq!(
        (erased.appointments_anonymised, erased.calls, erased.callbacks, erased.waitlist, erased.whatsapp_messages),
        (2, 1, 1, 1, 1)
    );
    assert_eq!(erased.chat_turns, 5, "chat-1 (both turns), the call's, chat-2's and the WhatsApp chat's");
    assert_eq!(erased.recordings.len(), 1);
    assert_eq!(traces(store).await, vec![], "nothing names Ada after erasure");
    let after = t.appointments_between("2027-03-01", "2027-03-31", None).await.expect("appointments");
    assert_eq!(after.len(), appointments.len(), "appointments are kept for the statistics");
    let anonymous: Vec<_> = after.iter().filter(|a| a.client_id != bea).collect();
    assert_eq!(anonymous.len(), 2);
    assert!(anonymous.iter().all(|a| a.client_id != ada), "they no longer point at Ada");
    assert!(
        anonymous.iter().all(|a| a.start < ts("2027-03-10T09:00:00Z") || a.status == fluxion_core::booking::AppointmentStatus::Cancelled),
        "her upcoming appointment is cancelled: {anonymous:?}"
    );
    assert!(t.clients().await.expect("clients").iter().all(|c| c.id == bea || c.name != fluxion::store::gdpr::ANONYMOUS_NAME));
    assert!(t.search_clients("", 50).await.expect("search").iter().all(|c| c.name != fluxion::store::gdpr::ANONYMOUS_NAME));
    assert!(t.client_export(bea).await.expect("bea").is_some_and(|e| e.chat_history.len() == 1 && e.appointments.len() == 1));
    assert!(t.erase_client(ada, Timestamp::now()).await.expect("again").is_none());
    // A second erasure reuses the business's one anonymous client.
    t.erase_client(bea, ts("2027-03-10T09:00:00Z")).await.expect("erase bea").expect("bea");
    let ids: std::collections::BTreeSet<Id> =
        t.appointments_between("2027-03-01", "2027-03-31", None).await.expect("appointments").iter().map(|a| a.client_id).collect();
    assert_eq!(ids.len(), 1, "one anonymous client per business");
}

#[tokio::test]
async fn erasure_leaves_nothing_on_sqlite() {
    let (_dir, store, t) = crate::seeded_sqlite(Vertical::Salone).await;
    erasure_leaves_nothing(&store, &t).await;
}

#[tokio::test]
async fn erasure_leaves_nothing_on_postgres() {
    let Some(db) = pg::fresh("gdpr").await else { return };
    let t = fluxion::seed::SeedData::demo(Vertical::Salone).expect("seed").add_tenant(&db.store).await.expect("tenant");
    erasure_leaves_nothing(&db.store, &t).await;
}

#[tokio::test]
async fn the_owner_exports_then_erases_a_client_over_the_api() {
    let app = TestApp::spawn().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let (ada, _bea) = fixture(&app.tenant, dir.path()).await;

    // Staff may do neither.
    crate::web::add_user(&app, "banco", Role::Staff).await;
    let staff = crate::web::login(&app, "banco").await;
    let r = app.anon.get(app.url(&format!("/api/clients/{ada}/export"))).header("cookie", &staff).send().await.expect("staff export");
    assert_eq!(r.status(), 403);

    let r = app.client.get(app.url(&format!("/api/clients/{ada}/export"))).send().await.expect("export");
    assert_eq!(r.status(), 200);
    let disposition = r.headers().get("content-disposition").and_then(|v| v.to_str().ok()).unwrap_or_default().to_string();
    assert_eq!(disposition, format!("attachment; filename=\"cliente-{ada}.json\""));
    let export: Value = r.json().await.expect("json");
    assert_eq!((export["client"]["name"].as_str(), export["client"]["phone"].as_str()), (Some(NAME), Some(PHONE)));
    assert_eq!(export["client"]["email"], "ada@example.it");
    assert_eq!((export["consents"]["marketing"].as_bool(), export["consents"]["recording"].as_bool()), (Some(false), Some(false)));
    let len = |k: &str| export[k].as_array().map(Vec::len).unwrap_or(usize::MAX);
    assert_eq!(
        [len("appointments"), len("calls"), len("chat_history"), len("callbacks"), len("waitlist"), len("whatsapp_messages")],
        [2, 1, 5, 1, 1, 1],
        "{export:#}"
    );
    assert_eq!(export["calls"][0]["recorded"], 1);
    assert!(!export.to_string().contains("sono Bea"), "nothing of another client");

    let r = app.client.delete(app.url(&format!("/api/clients/{ada}"))).send().await.expect("erase");
    assert_eq!(r.status(), 200);
    let body: Value = r.json().await.expect("json");
    assert_eq!((body["erased"].as_bool(), body["appointments_anonymised"].as_u64()), (Some(true), Some(2)));
    assert!(!dir.path().join("CA-ada-caller.wav").exists() && !dir.path().join("CA-ada-agent.wav").exists(), "recording files deleted");
    assert_eq!(traces(&app.store).await, vec![]);
    assert_eq!(app.client.get(app.url(&format!("/api/clients/{ada}/export"))).send().await.expect("gone").status(), 404);
    assert_eq!(app.client.delete(app.url(&format!("/api/clients/{ada}"))).send().await.expect("gone").status(), 404);
    let (_, list) = app.get("/api/clients").await;
    let names: Vec<&str> = list["clients"].as_array().expect("clients").iter().filter_map(|c| c["name"].as_str()).collect();
    assert!(names.contains(&"Bea Rossi") && !names.contains(&NAME) && !names.contains(&fluxion::store::gdpr::ANONYMOUS_NAME), "{names:?}");
}
