//! Several instances over one database (issue 12): the turns of one HTTP
//! conversation land on different instances, as behind a round-robin load
//! balancer, and the conversation still completes its booking; two turns of
//! one conversation sent at once to two instances are both answered, one
//! after the other; erasing the client deletes the stored conversation; the
//! store's leases (busy, lapsed, lost) and the purge of idle conversations.
//! On one SQLite file and on one PostgreSQL database (when one answers).

use std::net::SocketAddr;
use std::sync::Arc;

use fluxion::app::{self, AppState, Engines};
use fluxion::seed::SeedData;
use fluxion::store::{DatabaseUrl, Store, Tenant};
use fluxion_core::booking::{Channel, Vertical};
use serde_json::{json, Value};

use crate::{bearer_client, count, test_clock};

/// One server over its own pool on the shared database.
struct Instance {
    addr: SocketAddr,
    _stop: tokio::sync::oneshot::Sender<()>,
}

async fn instance(url: &DatabaseUrl) -> Instance {
    let store = Store::open(url).await.expect("open the shared database");
    let engines = Engines::with_llm(store, Channel::Chat, None).await.expect("engines");
    let state: Arc<AppState> = AppState::with_engines(engines, test_clock());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(app::serve(listener, state, async {
        let _ = stopped.await;
    }));
    Instance { addr, _stop: stop }
}

/// Three instances over the seeded database at `url`, and a client with the
/// business's trusted token.
async fn cluster(store: &Store) -> (Tenant, Vec<Instance>, reqwest::Client) {
    let tenant = SeedData::demo(Vertical::Salone).expect("seed").load(store, false).await.expect("load seed");
    let (_, token) = fluxion::auth::create_token(&tenant, "tests", true).await.expect("token");
    let mut instances = Vec::new();
    for _ in 0..3 {
        instances.push(instance(store.url()).await);
    }
    (tenant, instances, bearer_client(&token))
}

async fn say(client: &reqwest::Client, to: &Instance, session: &str, text: &str) -> Value {
    let r = client
        .post(format!("http://{}/api/voice/query", to.addr))
        .json(&json!({ "session_id": session, "text": text }))
        .send()
        .await
        .expect("request");
    assert_eq!(r.status(), 200, "turn '{text}' failed on {}", to.addr);
    let v: Value = r.json().await.expect("json");
    eprintln!("[{}] > {text}\n< {} [{} {}]", to.addr, v["reply"], v["intent"], v["layer"]);
    v
}

fn reply(v: &Value) -> String {
    v["reply"].as_str().unwrap_or_default().to_lowercase()
}

/// The booking of `conversations::books_an_appointment_for_a_new_caller`,
/// one turn per instance in turn (1, 2, 3, 1, 2), then the race and the
/// erasure.
async fn alternate(store: &Store) {
    let (tenant, n, client) = cluster(store).await;
    let s = "round-robin";
    let v = say(&client, &n[0], s, "vorrei prenotare un taglio donna").await;
    assert!(v["booking"].is_null());
    let v = say(&client, &n[1], s, "domani alle 15").await;
    assert!(reply(&v).contains("nome"), "the second instance knows the service: {}", reply(&v));
    let v = say(&client, &n[2], s, "mi chiamo Paolo Verdi").await;
    assert!(reply(&v).contains("telefono"), "{}", reply(&v));
    let v = say(&client, &n[0], s, "il mio numero è 347 111 2233").await;
    assert!(reply(&v).contains("domani alle quindici"), "reads back in words: {}", reply(&v));
    let v = say(&client, &n[1], s, "sì, confermo").await;
    assert_eq!(v["booking"]["start"], "2027-03-11T15:00:00");
    assert_eq!(v["booking"]["service"], "Taglio donna");

    let booked: Vec<(String, String, String, String)> = sqlx::query_as(
        "SELECT c.phone, s.name, a.start_utc, a.status FROM appointments a JOIN clients c ON c.id = a.client_id \
         JOIN services s ON s.id = a.service_id",
    )
    .fetch_all(store.pool_for_tests())
    .await
    .expect("appointments");
    let want = ("+393471112233".to_string(), "Taglio donna".to_string(), "2027-03-11T14:00:00Z".to_string(), "booked".to_string());
    assert_eq!(booked, vec![want], "exactly one booking, the one asked for");
    assert_eq!(count(store, "SELECT COUNT(*) FROM chat_history WHERE session_id = 'round-robin' AND role = 'assistant'").await, 5);
    assert_eq!(count(store, "SELECT revision FROM dialogue_sessions WHERE session_id = 'round-robin'").await, 5);

    // Two turns of one conversation at once on two instances: both answered, in turn.
    let (a, b) = tokio::join!(say(&client, &n[1], "race", "buongiorno"), say(&client, &n[2], "race", "che orari fate sabato?"));
    assert!(!reply(&a).is_empty() && !reply(&b).is_empty());
    assert_eq!(count(store, "SELECT revision FROM dialogue_sessions WHERE session_id = 'race'").await, 2);
    assert_eq!(count(store, "SELECT COUNT(*) FROM chat_history WHERE session_id = 'race'").await, 4);
    assert_eq!(count(store, "SELECT COUNT(*) FROM dialogue_sessions WHERE lease_token IS NOT NULL").await, 0, "no lease left");

    // Erasing the client deletes the stored conversation, whatever instance held it.
    let paolo: i64 =
        sqlx::query_scalar("SELECT id FROM clients WHERE phone = '+393471112233'").fetch_one(store.pool_for_tests()).await.expect("Paolo");
    let erased = tenant.erase_client(paolo, jiff::Timestamp::now()).await.expect("erase").expect("exists");
    assert_eq!(erased.dialogues, 1);
    assert_eq!(count(store, "SELECT COUNT(*) FROM dialogue_sessions WHERE session_id = 'round-robin'").await, 0);
    let v = say(&client, &n[2], s, "sì").await;
    assert!(v["booking"].is_null(), "an erased conversation starts afresh: {v}");
}

#[tokio::test]
async fn turns_alternating_between_instances_on_one_sqlite_file_book_once() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Store::open(&DatabaseUrl::Sqlite(dir.path().join("fluxion.db"))).await.expect("open db");
    alternate(&store).await;
}

#[tokio::test]
async fn turns_alternating_between_instances_on_one_postgres_database_book_once() {
    let Some(db) = crate::pg::fresh("instances").await else { return };
    alternate(&db.store).await;
}

/// The store's side: a held conversation is busy for another turn; a lapsed
/// lease is taken over and the first turn's save is refused; idle rows are
/// purged.
async fn leases(store: &Store) {
    use fluxion::store::dialogues::{Claim, ClaimRequest};
    use jiff::{SignedDuration, Timestamp};

    let tenant = SeedData::demo(Vertical::Salone).expect("seed").load(store, false).await.expect("load seed");
    let now = Timestamp::now();
    let later = now + SignedDuration::from_secs(60);
    let claim = |token: &'static str, now: Timestamp, until: Timestamp| ClaimRequest { key: "k", session_id: "s", token, now, until };
    let Claim::Held(first) = tenant.claim_dialogue(claim("a", now, later)).await.expect("claim") else { panic!("new row held") };
    assert_eq!((first.state.as_deref(), first.revision), (None, 0));
    assert_eq!(tenant.claim_dialogue(claim("b", now, later)).await.expect("claim"), Claim::Busy);
    assert_eq!(tenant.save_dialogue(&first, "{\"version\":1}", Some(7), now).await.expect("save"), Some(1));
    let Claim::Held(second) = tenant.claim_dialogue(claim("b", now, later)).await.expect("claim") else { panic!("free again") };
    assert_eq!((second.state.as_deref(), second.revision), (Some("{\"version\":1}"), 1));
    // "b" stalls past its lease: "c" takes over, and "b"'s save is refused.
    let after = later + SignedDuration::from_secs(1);
    let Claim::Held(third) = tenant.claim_dialogue(claim("c", after, after + SignedDuration::from_secs(60))).await.expect("claim") else {
        panic!("a lapsed lease is taken over")
    };
    assert_eq!(tenant.save_dialogue(&second, "{}", None, after).await.expect("save"), None, "lost lease: not saved");
    tenant.release_dialogue(&third).await.expect("release");
    assert_eq!(tenant.stored_dialogue("k").await.expect("load"), Some((Some("{\"version\":1}".to_string()), 1)));
    assert_eq!(count(store, "SELECT client_id FROM dialogue_sessions WHERE session_key = 'k'").await, 7);
    assert_eq!(store.purge_idle_dialogues(now, now).await.expect("purge"), 0, "not idle yet");
    assert_eq!(store.purge_idle_dialogues(after, after).await.expect("purge"), 1);
    assert_eq!(tenant.stored_dialogue("k").await.expect("load"), None);
}

#[tokio::test]
async fn dialogue_leases_on_sqlite() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Store::open(&DatabaseUrl::Sqlite(dir.path().join("fluxion.db"))).await.expect("open db");
    leases(&store).await;
}

#[tokio::test]
async fn dialogue_leases_on_postgres() {
    let Some(db) = crate::pg::fresh("leases").await else { return };
    leases(&db.store).await;
}
