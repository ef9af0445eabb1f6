//! Several real `fluxion serve` processes on one PostgreSQL database (issue
//! 12), each on its own port, driven over HTTP with a token made by
//! `fluxion token create`, checked with SQL on the database:
//!
//! - 100 writers spread round-robin over three instances race for a few
//!   overlapping slots of two operators: exactly one booking per operator,
//!   as many bookings in the database as acknowledgements, no operator with
//!   two overlapping booked appointments, every refusal a 409;
//! - `kill -9` of one instance in the middle of a burst of bookings: every
//!   acknowledged booking is in the database, the other two instances go on
//!   serving;
//! - a booking on one instance reaches the console's live view (SSE) of
//!   another within 2 s, and each instance's page sees it once.
//!
//! Without PostgreSQL the tests print the skip message (see [`crate::pg`]).

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use eventsource_stream::Eventsource;
use fluxion::store::{DatabaseUrl, Store};
use futures::{Stream, StreamExt};
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::{bearer_client, pg};

/// One `fluxion serve` process.
struct Instance {
    child: Child,
    /// `http://127.0.0.1:PORT`.
    base: String,
    log: PathBuf,
}

impl Instance {
    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for Instance {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Instances on one throw-away database seeded with the demo salon. Fields
/// drop in order: the processes first, the database last.
struct Cluster {
    instances: Vec<Instance>,
    /// The database, for the checks.
    store: Store,
    /// Sends the trusted token of `fluxion token create`.
    client: reqwest::Client,
    _dir: tempfile::TempDir,
    _db: pg::PgEmpty,
}

impl Cluster {
    /// Seeds a fresh database with `fluxion db seed`, makes a token with
    /// `fluxion token create`, starts `n` instances and waits until each
    /// answers `/health` and listens for the others' announcements. `None`
    /// (skip) without PostgreSQL.
    async fn start(test: &str, n: usize) -> Option<Cluster> {
        let db = pg::empty(test).await?;
        let database_url = db.url.connect_url().to_string();
        let dir = tempfile::tempdir().expect("tempdir");
        let cli = |args: &[&str]| {
            let out = Command::new(env!("CARGO_BIN_EXE_fluxion"))
                .args(args)
                .env_remove("FLUXION_DB")
                .env_remove("FLUXION_CONFIG")
                .env("DATABASE_URL", &database_url)
                .env("RUST_LOG", "warn")
                .current_dir(dir.path())
                .output()
                .expect("run fluxion");
            assert!(out.status.success(), "fluxion {args:?}: {}", String::from_utf8_lossy(&out.stderr));
            String::from_utf8_lossy(&out.stdout).into_owned()
        };
        cli(&["db", "seed", "--vertical", "salone"]);
        let token = cli(&["token", "create", "--name", "instances"]).lines().last().expect("the token").trim().to_string();
        let mut instances = Vec::new();
        for i in 0..n {
            let port = std::net::TcpListener::bind("127.0.0.1:0").expect("port").local_addr().expect("addr").port();
            let log = dir.path().join(format!("serve-{i}.log"));
            let child = Command::new(env!("CARGO_BIN_EXE_fluxion"))
                .args(["serve", "--no-mcp", "--port", &port.to_string(), "--now", crate::NOW])
                .env_remove("FLUXION_DB")
                .env_remove("FLUXION_CONFIG")
                .env("DATABASE_URL", &database_url)
                .env("FLUXION_CACHE_DIR", dir.path().join(format!("cache-{i}")))
                // Every client of these tests is 127.0.0.1.
                .env("HTTP_RATE_PER_SECOND", "0")
                .env("RUST_LOG", "info")
                .current_dir(dir.path())
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(std::fs::File::create(&log).expect("log file"))
                .spawn()
                .expect("start fluxion serve");
            instances.push(Instance { child, base: format!("http://127.0.0.1:{port}"), log });
        }
        let started = Instant::now();
        for instance in &mut instances {
            loop {
                let healthy = reqwest::get(instance.url("/health")).await.is_ok_and(|r| r.status().is_success());
                if healthy && instance.log().contains("relaying announcements between instances") {
                    break;
                }
                if let Some(status) = instance.child.try_wait().expect("wait") {
                    panic!("fluxion serve exited early ({status}):\n{}", instance.log());
                }
                assert!(started.elapsed() < Duration::from_secs(120), "fluxion serve did not come up:\n{}", instance.log());
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
        let store = Store::open(&DatabaseUrl::Postgres(db.url.clone())).await.expect("open the database");
        Some(Cluster { instances, store, client: bearer_client(&token), _dir: dir, _db: db })
    }

    /// `POST /api/appointments` on instance `i`: the status and body, or
    /// the transport error (the instance is gone).
    async fn book(&self, i: usize, body: &Value) -> Result<(StatusCode, Value), reqwest::Error> {
        let r = self.client.post(self.instances[i].url("/api/appointments")).json(body).send().await?;
        let status = r.status();
        Ok((status, r.json().await.unwrap_or(Value::Null)))
    }

    /// The id of the service or operator called `name` (`what`: `services`
    /// or `operators`), asked of instance 0.
    async fn id_of(&self, what: &str, name: &str) -> i64 {
        let v: Value =
            self.client.get(self.instances[0].url(&format!("/api/{what}"))).send().await.expect(what).json().await.expect("json");
        v[what]
            .as_array()
            .into_iter()
            .flatten()
            .find(|x| x["name"] == name)
            .and_then(|x| x["id"].as_i64())
            .unwrap_or_else(|| panic!("{name}: {v}"))
    }

    /// The booked appointments: (id, operator, start, end).
    async fn booked(&self) -> Vec<(i64, i64, String, String)> {
        sqlx::query_as("SELECT id, operator_id, start_utc, end_utc FROM appointments WHERE status = 'booked' ORDER BY id")
            .fetch_all(self.store.pool_for_tests())
            .await
            .expect("booked appointments")
    }

    /// Pairs of booked appointments of one operator that overlap.
    async fn overlapping_pairs(&self) -> i64 {
        sqlx::query_scalar(
            "SELECT COUNT(*) FROM appointments a JOIN appointments b ON a.operator_id = b.operator_id AND a.id < b.id \
             WHERE a.status = 'booked' AND b.status = 'booked' AND a.start_utc < b.end_utc AND b.start_utc < a.end_utc",
        )
        .fetch_one(self.store.pool_for_tests())
        .await
        .expect("overlaps")
    }
}

/// The new client of booking `n` (phones differ, so clients never race).
fn new_client(n: usize) -> Value {
    json!({ "name": format!("Cliente {n}"), "phone": format!("+39347100{n:04}") })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hundred_writers_on_three_instances_never_double_book() {
    let Some(cluster) = Cluster::start("race", 3).await else { return };
    let cluster = Arc::new(cluster);
    let service = cluster.id_of("services", "Taglio donna").await;
    let operators = [cluster.id_of("operators", "Giulia").await, cluster.id_of("operators", "Martina").await];
    // Taglio donna lasts 45 minutes plus the 10-minute buffer: any two of these starts clash.
    let starts = ["2027-03-11T15:00", "2027-03-11T15:15", "2027-03-11T15:30", "2027-03-11T15:45"];
    let writers = 100;
    let barrier = Arc::new(tokio::sync::Barrier::new(writers));
    let tasks: Vec<_> = (0..writers)
        .map(|n| {
            let (cluster, barrier) = (cluster.clone(), barrier.clone());
            let body = json!({
                "client": new_client(n),
                "service_id": service,
                "operator_id": operators[n % 2],
                "start": starts[(n / 2) % starts.len()],
            });
            tokio::spawn(async move {
                barrier.wait().await;
                (n % 3, cluster.book(n % 3, &body).await)
            })
        })
        .collect();
    let mut acknowledged = BTreeSet::new();
    let mut refused = 0;
    let mut per_instance = [0usize; 3];
    for t in futures::future::join_all(tasks).await {
        let (instance, result) = t.expect("task");
        per_instance[instance] += 1;
        match result.expect("every instance answers") {
            (StatusCode::CREATED, a) => {
                acknowledged.insert(a["id"].as_i64().expect("id"));
            }
            (StatusCode::CONFLICT, v) => {
                assert!(v["error"].as_str().is_some_and(|e| e.contains("sovrappone")), "a clean refusal: {v}");
                refused += 1;
            }
            (status, v) => panic!("instance {instance} answered {status}: {v}"),
        }
    }
    eprintln!("writers per instance {per_instance:?}: {} acknowledged, {refused} refused (409)", acknowledged.len());
    let booked = cluster.booked().await;
    let booked_ids: BTreeSet<i64> = booked.iter().map(|b| b.0).collect();
    assert_eq!(booked_ids, acknowledged, "the database holds exactly the acknowledged bookings");
    assert_eq!(cluster.overlapping_pairs().await, 0, "no operator holds two overlapping appointments: {booked:?}");
    let per_operator: Vec<usize> = operators.iter().map(|op| booked.iter().filter(|b| b.1 == *op).count()).collect();
    assert_eq!(per_operator, vec![1, 1], "one winner per operator: {booked:?}");
    assert_eq!(acknowledged.len() + refused, writers);
}

/// Slots of one operator that never clash: on the hour, Tuesday to
/// Saturday from Thursday 11 March 2027, within the demo salon's hours.
fn distinct_slots(n: usize) -> Vec<String> {
    let hours = [9, 10, 11, 14, 15, 16, 17];
    let mut day: jiff::civil::Date = "2027-03-11".parse().expect("date");
    let mut slots = Vec::new();
    while slots.len() < n {
        if !matches!(day.weekday(), jiff::civil::Weekday::Sunday | jiff::civil::Weekday::Monday) {
            slots.extend(hours.iter().map(|h| format!("{day}T{h:02}:00")));
        }
        day = day.tomorrow().expect("next day");
    }
    slots.truncate(n);
    slots
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_of_one_instance_loses_no_acknowledged_booking() {
    let Some(mut cluster) = Cluster::start("kill", 3).await else { return };
    let service = cluster.id_of("services", "Taglio donna").await;
    let giulia = cluster.id_of("operators", "Giulia").await;
    let slots = distinct_slots(92);
    let (burst, after) = slots.split_at(90);
    let victim = 0;
    let lanes_per_instance = 3;
    // Every acknowledgement: (instance, appointment id, local start).
    let acks = Arc::new(Mutex::new(Vec::<(usize, i64, String)>::new()));
    let victim_acks = Arc::new(AtomicUsize::new(0));
    let failures = Arc::new(Mutex::new(Vec::<(usize, String)>::new()));
    let http = cluster.client.clone();
    let bases: Vec<String> = cluster.instances.iter().map(|i| i.base.clone()).collect();
    // Lane `l` sends slots l, l + 9, l + 18, … one after the other to instance l % 3.
    let lanes = bases.len() * lanes_per_instance;
    let tasks: Vec<_> = (0..lanes)
        .map(|lane| {
            let instance = lane % bases.len();
            let url = format!("{}/api/appointments", bases[instance]);
            let mine: Vec<(usize, String)> = burst.iter().cloned().enumerate().skip(lane).step_by(lanes).collect();
            let (http, acks, victim_acks, failures) = (http.clone(), acks.clone(), victim_acks.clone(), failures.clone());
            tokio::spawn(async move {
                for (n, start) in mine {
                    let body = json!({ "client": new_client(n), "service_id": service, "operator_id": giulia, "start": start });
                    match http.post(&url).json(&body).send().await {
                        Ok(r) if r.status() == StatusCode::CREATED => {
                            let a: Value = r.json().await.unwrap_or(Value::Null);
                            let Some(id) = a["id"].as_i64() else {
                                failures.lock().expect("lock").push((instance, format!("201 without a readable body: {a}")));
                                continue;
                            };
                            acks.lock().expect("lock").push((instance, id, start));
                            if instance == victim {
                                victim_acks.fetch_add(1, Ordering::SeqCst);
                            }
                        }
                        Ok(r) => {
                            let answer = format!("{}: {}", r.status(), r.text().await.unwrap_or_default());
                            failures.lock().expect("lock").push((instance, answer));
                        }
                        Err(e) => failures.lock().expect("lock").push((instance, format!("transport: {e}"))),
                    }
                }
            })
        })
        .collect();
    let waiting = Instant::now();
    while victim_acks.load(Ordering::SeqCst) < 4 {
        assert!(waiting.elapsed() < Duration::from_secs(60), "the victim acknowledged nothing: {:?}", failures.lock().expect("lock"));
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    // SIGKILL (std's Child::kill on Unix): no drain, no goodbye.
    cluster.instances[victim].child.kill().expect("kill -9");
    let _ = cluster.instances[victim].child.wait();
    let killed_after = victim_acks.load(Ordering::SeqCst);
    for t in tasks {
        t.await.expect("lane");
    }
    let acks = acks.lock().expect("lock").clone();
    let failures = failures.lock().expect("lock").clone();
    let survivors_failed: Vec<_> = failures.iter().filter(|(i, _)| *i != victim).collect();
    assert!(survivors_failed.is_empty(), "the other instances served every booking: {survivors_failed:?}");
    let victim_failed = failures.iter().filter(|(i, _)| *i == victim).count();
    assert!(victim_failed > 0, "the kill came during the burst (the victim refused nothing)");
    let per_instance: Vec<usize> = (0..bases.len()).map(|i| acks.iter().filter(|a| a.0 == i).count()).collect();
    eprintln!(
        "killed after {killed_after} acknowledgements of the victim; acknowledged per instance {per_instance:?}; {victim_failed} bookings sent to the victim failed"
    );
    assert_eq!(per_instance[1..].iter().sum::<usize>(), 60, "30 bookings on each survivor");

    // Every acknowledged booking is in the database, booked, at its time.
    let booked = cluster.booked().await;
    let tz = jiff::tz::TimeZone::get("Europe/Rome").expect("tz");
    for (instance, id, start) in &acks {
        let local: jiff::civil::DateTime = start.parse().expect("start");
        let utc = fluxion::store::ts_text(tz.to_timestamp(local).expect("instant"));
        assert!(
            booked.iter().any(|b| b.0 == *id && b.1 == giulia && b.2 == utc),
            "booking {id} acknowledged by instance {instance} is lost"
        );
    }
    assert!(
        booked.len() >= acks.len() && booked.len() <= acks.len() + victim_failed,
        "{} rows for {} acknowledgements",
        booked.len(),
        acks.len()
    );
    assert_eq!(cluster.overlapping_pairs().await, 0);

    // The survivors keep serving.
    for (i, start) in [1, 2].into_iter().zip(after) {
        let body = json!({ "client": new_client(1000 + i), "service_id": service, "operator_id": giulia, "start": start });
        let (status, v) = cluster.book(i, &body).await.expect("a survivor answers");
        assert_eq!(status, StatusCode::CREATED, "instance {i} after the kill: {v}");
        let health = reqwest::get(cluster.instances[i].url("/health")).await.expect("health");
        assert_eq!(health.status(), StatusCode::OK);
    }
}

/// The console's live view on one instance: its `appointment` events as
/// `(id, action)`.
async fn live_view(cluster: &Cluster, i: usize) -> impl Stream<Item = (i64, String)> + Unpin {
    let r = cluster.client.get(cluster.instances[i].url("/api/events")).send().await.expect("events");
    assert_eq!(r.status(), StatusCode::OK);
    Box::pin(r.bytes_stream().eventsource().filter_map(|e| async move {
        let e = e.ok()?;
        let v: Value = serde_json::from_str(&e.data).ok()?;
        (e.event == "appointment").then(|| (v["id"].as_i64().unwrap_or(-1), v["action"].as_str().unwrap_or_default().to_string()))
    }))
}

/// The next appointment event within `limit`.
async fn next_within(stream: &mut (impl Stream<Item = (i64, String)> + Unpin), limit: Duration, what: &str) -> (i64, String) {
    tokio::time::timeout(limit, stream.next()).await.unwrap_or_else(|_| panic!("{what}: nothing within {limit:?}")).expect("stream open")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_booking_on_one_instance_reaches_the_live_view_of_another() {
    let Some(cluster) = Cluster::start("events", 2).await else { return };
    let service = cluster.id_of("services", "Taglio donna").await;
    let mut on_a = live_view(&cluster, 0).await;
    let mut on_b = live_view(&cluster, 1).await;

    // Booked through B: A's page hears of it within 2 s.
    let body = json!({ "client": new_client(1), "service_id": service, "start": "2027-03-11T10:00" });
    let sent = Instant::now();
    let (status, a) = cluster.book(1, &body).await.expect("book on B");
    assert_eq!(status, StatusCode::CREATED, "{a}");
    let x = a["id"].as_i64().expect("id");
    assert_eq!(next_within(&mut on_a, Duration::from_secs(2), "A hears of B's booking").await, (x, "booked".to_string()));
    eprintln!("B's booking reached A's live view {} ms after it was sent", sent.elapsed().as_millis());
    assert_eq!(next_within(&mut on_b, Duration::from_secs(2), "B hears of its own booking").await, (x, "booked".to_string()));

    // Cancelled through A: B hears of it; then each page's next event is
    // the cancellation, not a second copy of the booking.
    let r = cluster.client.delete(cluster.instances[0].url(&format!("/api/appointments/{x}"))).send().await.expect("cancel on A");
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(next_within(&mut on_b, Duration::from_secs(2), "B hears of A's cancellation").await, (x, "cancelled".to_string()));
    assert_eq!(next_within(&mut on_a, Duration::from_secs(2), "A hears of its own cancellation").await, (x, "cancelled".to_string()));
    // Nothing else comes (no echo of either write).
    for (name, stream) in [("A", &mut on_a), ("B", &mut on_b)] {
        if let Ok(extra) = tokio::time::timeout(Duration::from_millis(500), stream.next()).await {
            panic!("{name} saw an extra event: {extra:?}");
        }
    }
}
