//! Text-turn throughput over HTTP (issue 12), not a test: starts `--instances`
//! real `fluxion serve` processes (1 or more) on one PostgreSQL database, or
//! one on SQLite, and `--clients` concurrent clients that hold conversations
//! through `POST /api/voice/query` (the benchmark mix of
//! `fluxion::bench_data::TURNS`, a new session every 12 turns) for `--secs`
//! seconds. Prints turns per second and p50/p99 turn latency (ms, measured by
//! the client: request sent → answer read), answers by status and per
//! instance.
//!
//! ```sh
//! cargo build -p fluxion --bin fluxion --example http_turns   # the example runs the fluxion binary next to it
//! target/debug/examples/http_turns [--instances 3] [--store postgres|sqlite] [--clients 16] [--secs 10] [--sticky] [--bin PATH]
//! ```
//!
//! - **Database**: `--store sqlite` (one instance, a fresh file in a
//!   temporary folder) or `--store postgres` (default): `DATABASE_URL` when
//!   it names PostgreSQL, else a throw-away database created on the server
//!   of `FLUXION_TEST_PG` (default `postgres://postgres@127.0.0.1:5432/postgres`)
//!   and dropped at the end. An empty database is seeded with the demo salon
//!   by the first instance; a given database should be one made for
//!   measuring (the turns book appointments). The tool makes a trusted API
//!   token for the default business and revokes it at the end.
//! - **Balancing**: round-robin per request over the instances, as a load
//!   balancer without affinity does (consecutive turns of one conversation
//!   land on different instances); `--sticky` keeps each conversation on one
//!   instance.
//! - Every instance runs with `HTTP_RATE_PER_SECOND=0` (all clients are
//!   127.0.0.1) and the system clock; logs go to a temporary folder, printed
//!   when an instance fails to start.
//!
//! Figures from a debug build are not representative of a release build;
//! the output says which build ran. Client, instances and database share the
//! machine.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use fluxion::bench_data::TURNS;
use fluxion::store::postgres::{create_database, drop_database};
use fluxion::store::{DatabaseUrl, PgUrl, Store};
use serde_json::json;

#[path = "shared/stats.rs"]
mod stats;
use stats::percentile;

/// Which database the instances share.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum StoreKind {
    Sqlite,
    Postgres,
}

struct Args {
    instances: usize,
    store: StoreKind,
    clients: usize,
    secs: u64,
    sticky: bool,
    bin: Option<PathBuf>,
}

fn args() -> anyhow::Result<Args> {
    let mut a = Args { instances: 1, store: StoreKind::Postgres, clients: 16, secs: 10, sticky: false, bin: None };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        if flag == "--sticky" {
            a.sticky = true;
            continue;
        }
        let value = it.next().ok_or_else(|| anyhow::anyhow!("{flag} needs a value"))?;
        match flag.as_str() {
            "--instances" => a.instances = value.parse::<usize>()?.max(1),
            "--store" => {
                a.store = match value.as_str() {
                    "sqlite" => StoreKind::Sqlite,
                    "postgres" => StoreKind::Postgres,
                    other => bail!("--store {other}: sqlite or postgres"),
                }
            }
            "--clients" => a.clients = value.parse::<usize>()?.max(1),
            "--secs" => a.secs = value.parse::<u64>()?.max(1),
            "--bin" => a.bin = Some(PathBuf::from(value)),
            other => bail!("unknown option {other}"),
        }
    }
    if a.store == StoreKind::Sqlite && a.instances > 1 {
        bail!("several instances need PostgreSQL (--store postgres)");
    }
    Ok(a)
}

/// The database the instances share, and how to clean it up.
enum Database {
    Sqlite {
        url: DatabaseUrl,
        _dir: tempfile::TempDir,
    },
    /// `DATABASE_URL`: kept.
    Given(PgUrl),
    /// Created here on `admin`'s server, dropped at the end.
    ThrowAway {
        url: PgUrl,
        admin: PgUrl,
        name: String,
    },
}

impl Database {
    async fn open(kind: StoreKind) -> anyhow::Result<Database> {
        if kind == StoreKind::Sqlite {
            let dir = tempfile::tempdir()?;
            return Ok(Database::Sqlite { url: DatabaseUrl::Sqlite(dir.path().join("fluxion.db")), _dir: dir });
        }
        if let Ok(DatabaseUrl::Postgres(url)) = DatabaseUrl::parse(&std::env::var("DATABASE_URL").unwrap_or_default()) {
            return Ok(Database::Given(url));
        }
        let admin = std::env::var("FLUXION_TEST_PG").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_string());
        let Ok(DatabaseUrl::Postgres(admin)) = DatabaseUrl::parse(&admin) else { bail!("FLUXION_TEST_PG is not a postgres:// URL") };
        let name = format!("fluxion_http_turns_{}", std::process::id());
        let url = create_database(&admin, &name).await.map_err(|e| anyhow::anyhow!("creating {name} on {admin}: {}", e.message))?;
        Ok(Database::ThrowAway { url, admin, name })
    }

    fn url(&self) -> DatabaseUrl {
        match self {
            Database::Sqlite { url, .. } => url.clone(),
            Database::Given(u) | Database::ThrowAway { url: u, .. } => DatabaseUrl::Postgres(u.clone()),
        }
    }

    /// `(variable, value)` that points `fluxion` at it.
    fn env(&self) -> (&'static str, String) {
        match self {
            Database::Sqlite { url: DatabaseUrl::Sqlite(p), .. } => ("FLUXION_DB", p.display().to_string()),
            Database::Sqlite { .. } => unreachable!("an SQLite database has a path"),
            Database::Given(u) | Database::ThrowAway { url: u, .. } => ("DATABASE_URL", u.connect_url().to_string()),
        }
    }

    async fn close(self) {
        if let Database::ThrowAway { admin, name, .. } = self {
            if let Err(e) = drop_database(&admin, &name).await {
                eprintln!("could not drop {name}: {}", e.message);
            }
        }
    }
}

/// One `fluxion serve` process.
struct Instance {
    child: Child,
    base: String,
    log: PathBuf,
}

impl Instance {
    fn start(bin: &PathBuf, db: &(&'static str, String), logs: &std::path::Path, i: usize) -> anyhow::Result<Instance> {
        let port = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
        let log = logs.join(format!("serve-{i}.log"));
        let child = Command::new(bin)
            .args(["serve", "--vertical", "salone", "--no-mcp", "--port", &port.to_string()])
            .env_remove("FLUXION_DB")
            .env_remove("DATABASE_URL")
            .env(db.0, &db.1)
            .env("FLUXION_CACHE_DIR", logs.join(format!("cache-{i}")))
            .env("HTTP_RATE_PER_SECOND", "0")
            .env("BACKUP_DAILY", "0")
            .env("RUST_LOG", std::env::var("RUST_LOG").unwrap_or_else(|_| "warn".into()))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log)?)
            .spawn()
            .with_context(|| format!("starting {}", bin.display()))?;
        Ok(Instance { child, base: format!("http://127.0.0.1:{port}"), log })
    }

    async fn wait_healthy(&mut self) -> anyhow::Result<()> {
        let started = Instant::now();
        loop {
            if reqwest::get(format!("{}/health", self.base)).await.is_ok_and(|r| r.status().is_success()) {
                return Ok(());
            }
            if let Some(status) = self.child.try_wait()? {
                bail!("{} exited ({status}):\n{}", self.base, std::fs::read_to_string(&self.log).unwrap_or_default());
            }
            if started.elapsed() > Duration::from_secs(180) {
                bail!("{} did not answer /health in 180 s", self.base);
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

impl Drop for Instance {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// What the clients saw.
#[derive(Default)]
struct Tally {
    /// Latency of each 200 answer, ms.
    latencies_ms: Vec<f64>,
    /// Answers by status ("200", "500", "error: …").
    statuses: std::collections::BTreeMap<String, usize>,
    /// 200 answers per instance.
    per_instance: Vec<usize>,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = args()?;
    let bin = match &args.bin {
        Some(b) => b.clone(),
        None => std::env::current_exe()?.parent().and_then(|d| d.parent()).map(|d| d.join("fluxion")).context("no binary folder")?,
    };
    if !bin.is_file() {
        bail!("{} not found: build it (cargo build -p fluxion --bin fluxion) or pass --bin PATH", bin.display());
    }
    let build = if cfg!(debug_assertions) { "debug build (figures not representative)" } else { "release build" };
    let db = Database::open(args.store).await?;
    let logs = tempfile::tempdir()?;
    let db_env = db.env();
    println!(
        "{} instance(s) of {} on {} ({}), {} clients, {} s, {}; {build}",
        args.instances,
        bin.display(),
        db.url(),
        match args.store {
            StoreKind::Sqlite => "sqlite",
            StoreKind::Postgres => "postgres",
        },
        args.clients,
        args.secs,
        if args.sticky { "each conversation on one instance" } else { "round-robin per turn" }
    );
    // The first instance seeds an empty database; the others start once it has.
    let mut instances = vec![Instance::start(&bin, &db_env, logs.path(), 0)?];
    instances[0].wait_healthy().await?;
    for i in 1..args.instances {
        instances.push(Instance::start(&bin, &db_env, logs.path(), i)?);
    }
    for instance in &mut instances[1..] {
        instance.wait_healthy().await?;
    }
    let store = Store::open(&db.url()).await?;
    let tenant = store.default_tenant().await?.context("no business in the database")?;
    let (token_id, token) = fluxion::auth::create_token(&tenant, "http-turns", true).await?;

    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert(reqwest::header::AUTHORIZATION, format!("Bearer {token}").parse()?);
    let client = reqwest::Client::builder().default_headers(headers).timeout(Duration::from_secs(60)).build()?;
    let bases: Arc<Vec<String>> = Arc::new(instances.iter().map(|i| format!("{}/api/voice/query", i.base)).collect());
    let tally = Arc::new(Mutex::new(Tally { per_instance: vec![0; bases.len()], ..Tally::default() }));
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let until = started + Duration::from_secs(args.secs);
    let sticky = args.sticky;
    let tasks: Vec<_> = (0..args.clients)
        .map(|c| {
            let (client, bases, tally, next) = (client.clone(), bases.clone(), tally.clone(), next.clone());
            tokio::spawn(async move {
                let run = std::process::id();
                let mut conversation = 0usize;
                'conversations: while Instant::now() < until {
                    let session = format!("bench-{run}-{c}-{conversation}");
                    let home = next.fetch_add(1, Ordering::Relaxed) % bases.len();
                    for text in TURNS {
                        if Instant::now() >= until {
                            break 'conversations;
                        }
                        let i = if sticky { home } else { next.fetch_add(1, Ordering::Relaxed) % bases.len() };
                        let body = json!({ "session_id": session, "text": text });
                        let t = Instant::now();
                        let status = match client.post(&bases[i]).json(&body).send().await {
                            Ok(r) => {
                                let s = r.status().as_u16();
                                let read = r.bytes().await.is_ok();
                                let ms = t.elapsed().as_secs_f64() * 1000.0;
                                let mut tally = tally.lock().unwrap_or_else(|p| p.into_inner());
                                if s == 200 && read {
                                    tally.latencies_ms.push(ms);
                                    tally.per_instance[i] += 1;
                                }
                                s.to_string()
                            }
                            Err(e) => format!("error: {e}"),
                        };
                        *tally.lock().unwrap_or_else(|p| p.into_inner()).statuses.entry(status).or_default() += 1;
                    }
                    conversation += 1;
                }
            })
        })
        .collect();
    for t in tasks {
        t.await?;
    }
    let elapsed = started.elapsed().as_secs_f64();
    let mut tally = std::mem::take(&mut *tally.lock().unwrap_or_else(|p| p.into_inner()));
    tally.latencies_ms.sort_by(f64::total_cmp);
    let ok = tally.latencies_ms.len();
    println!();
    println!("== results ==");
    println!("turns answered 200: {ok} in {elapsed:.1} s = {:.1} turns/s", ok as f64 / elapsed);
    println!(
        "latency (client, ms): p50 {:.1}, p99 {:.1}, max {:.1}",
        percentile(&tally.latencies_ms, 0.5),
        percentile(&tally.latencies_ms, 0.99),
        tally.latencies_ms.last().copied().unwrap_or(f64::NAN)
    );
    println!("answers by status: {}", tally.statuses.iter().map(|(s, n)| format!("{s}: {n}")).collect::<Vec<_>>().join(", "));
    println!("200 answers per instance: {:?}", tally.per_instance);

    if let Err(e) = tenant.revoke_token(token_id).await {
        eprintln!("could not revoke the benchmark token {token_id}: {e}");
    }
    store.close().await;
    drop(instances);
    db.close().await;
    Ok(())
}
