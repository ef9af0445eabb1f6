//! Retention: chat history, call records and the WhatsApp message log older
//! than the retention are purged, younger rows are untouched, on SQLite and
//! PostgreSQL; the scheduler `fluxion serve` runs purges at start and then
//! on every interval.

use std::time::{Duration, Instant};

use fluxion::clock::Clock;
use fluxion::seed::SeedData;
use fluxion::store::retention::{self, DEFAULT_RETENTION_DAYS, PURGE_INTERVAL};
use fluxion::store::{CallDirection, MessageDirection, Store};
use fluxion::telephony::Provider;
use fluxion_core::booking::{Channel, Repository, Vertical};
use fluxion_core::history::{ChatTurn, Role};
use jiff::{SignedDuration, Timestamp};

use crate::pg;

fn turn(session: &str, at: Timestamp) -> ChatTurn {
    ChatTurn {
        session_id: session.into(),
        client_id: None,
        role: Role::User,
        text: "il mio numero è +393471110000".into(),
        intent: None,
        layer: None,
        latency_us: 100,
        timings: None,
        model_use: None,
        at,
        channel: Channel::Voice,
    }
}

async fn rows(store: &Store, table: &str) -> Vec<String> {
    let sql = match table {
        "chat_history" => "SELECT session_id FROM chat_history ORDER BY session_id",
        "whatsapp_messages" => "SELECT wa_message_id FROM whatsapp_messages ORDER BY wa_message_id",
        _ => "SELECT call_sid FROM calls ORDER BY call_sid",
    };
    sqlx::query_scalar(sql).fetch_all(store.pool_for_tests()).await.expect("rows")
}

/// Two businesses, rows 91 and 89 days old (and one a second either side of
/// the cutoff): the older go, the younger stay.
async fn purges_only_expired_rows(store: &Store) {
    let a = SeedData::demo(Vertical::Salone).expect("seed").add_tenant(store).await.expect("a");
    let b = SeedData::demo(Vertical::Medical).expect("seed").add_tenant(store).await.expect("b");
    let now: Timestamp = "2027-03-10T09:00:00Z".parse().expect("now");
    let days = |d: i64| now - SignedDuration::from_hours(24 * d);
    let cutoff = days(i64::from(DEFAULT_RETENTION_DAYS));
    for (t, tag) in [(&a, "a"), (&b, "b")] {
        t.record_turn(&turn(&format!("{tag}-old"), days(91))).await.expect("old turn");
        t.record_turn(&turn(&format!("{tag}-edge-old"), cutoff - SignedDuration::from_secs(1))).await.expect("edge turn");
        t.record_turn(&turn(&format!("{tag}-edge-new"), cutoff + SignedDuration::from_secs(1))).await.expect("edge turn");
        t.record_turn(&turn(&format!("{tag}-new"), days(89))).await.expect("new turn");
        for (sid, at) in [(format!("{tag}-CA-old"), days(120)), (format!("{tag}-CA-new"), days(1))] {
            t.start_call(Provider::Twilio, &sid, CallDirection::Inbound, Some("+393471110000"), None, at).await.expect("call");
        }
        for (id, at) in [(format!("{tag}-wamid-old"), days(91)), (format!("{tag}-wamid-new"), days(89))] {
            t.record_message(&id, MessageDirection::Inbound, "393471110000", "text", at).await.expect("message");
        }
    }
    let purged = store.purge_expired(now, DEFAULT_RETENTION_DAYS).await.expect("purge");
    assert_eq!((purged.chat_turns, purged.calls, purged.whatsapp_messages), (4, 2, 2));
    assert_eq!(rows(store, "chat_history").await, ["a-edge-new", "a-new", "b-edge-new", "b-new"]);
    assert_eq!(rows(store, "calls").await, ["a-CA-new", "b-CA-new"]);
    assert_eq!(rows(store, "whatsapp_messages").await, ["a-wamid-new", "b-wamid-new"]);
    let again = store.purge_expired(now, DEFAULT_RETENTION_DAYS).await.expect("purge again");
    assert_eq!((again.chat_turns, again.calls, again.whatsapp_messages), (0, 0, 0), "a second run finds nothing");
}

#[tokio::test]
async fn retention_sqlite() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Store::open(&fluxion::store::DatabaseUrl::Sqlite(dir.path().join("f.db"))).await.expect("open");
    purges_only_expired_rows(&store).await;
}

#[tokio::test]
async fn retention_postgres() {
    let Some(db) = pg::fresh("retention").await else { return };
    purges_only_expired_rows(&db.store).await;
}

/// Polls `rows(store, table)` until it equals `want`; a generous deadline
/// (loaded CI machines), not a timing assertion.
async fn until_rows(store: &Store, table: &str, want: &[&str]) {
    let started = Instant::now();
    loop {
        let now = rows(store, table).await;
        if now == want {
            return;
        }
        assert!(started.elapsed() < Duration::from_secs(60), "{table}: {now:?}, expected {want:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The scheduler `fluxion serve` runs ([`retention::run_daily`] is
/// [`retention::run_every`] with [`PURGE_INTERVAL`]), on a short interval:
/// the run at start purges what is expired, a later run purges what expired
/// since (here: written already expired after the first run), rows younger
/// than the retention survive every run, and shutdown stops it.
#[tokio::test]
async fn the_scheduled_purge_runs_at_start_and_on_every_interval() {
    assert_eq!(PURGE_INTERVAL, Duration::from_secs(24 * 60 * 60), "the purge runs daily");
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Store::open(&fluxion::store::DatabaseUrl::Sqlite(dir.path().join("f.db"))).await.expect("open");
    let t = SeedData::demo(Vertical::Salone).expect("seed").add_tenant(&store).await.expect("tenant");
    let now = Clock::System.now();
    let days = |d: i64| now - SignedDuration::from_hours(24 * d);
    t.record_turn(&turn("old", days(91))).await.expect("old turn");
    t.record_turn(&turn("young", days(89))).await.expect("young turn");
    t.start_call(Provider::Twilio, "CA-old", CallDirection::Inbound, None, None, days(120)).await.expect("old call");
    t.start_call(Provider::Twilio, "CA-young", CallDirection::Inbound, None, None, days(1)).await.expect("young call");

    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let interval = Duration::from_millis(200);
    let scheduler = tokio::spawn(retention::run_every(store.clone(), Clock::System, DEFAULT_RETENTION_DAYS, interval, async {
        let _ = stopped.await;
    }));
    until_rows(&store, "chat_history", &["young"]).await;
    until_rows(&store, "calls", &["CA-young"]).await;

    // Written after the first run: only a later run can purge it.
    t.record_turn(&turn("later", days(100))).await.expect("later turn");
    t.record_message("wamid-later", MessageDirection::Inbound, "393471110000", "text", days(95)).await.expect("message");
    until_rows(&store, "chat_history", &["young"]).await;
    until_rows(&store, "whatsapp_messages", &[]).await;
    // Several more runs leave the young rows alone.
    tokio::time::sleep(interval * 3).await;
    assert_eq!(rows(&store, "chat_history").await, ["young"]);
    assert_eq!(rows(&store, "calls").await, ["CA-young"]);

    stop.send(()).expect("scheduler running");
    tokio::time::timeout(Duration::from_secs(30), scheduler).await.expect("the scheduler stops on shutdown").expect("task");
}
