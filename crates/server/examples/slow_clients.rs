//! Slow-client (slowloris) measurement, not a test: a real Fluxion HTTP
//! server (seeded SQLite in a temporary folder, the guarded accept loop with
//! the settings of the environment, see `fluxion::guard`) on 127.0.0.1:0,
//! N clients that open a connection and send half a request's headers and
//! then nothing, and `/health` asked every 100 ms from another address
//! meanwhile. Prints the `/health` latencies (p50, p95, max), how many slow
//! connections the server refused at once (connection caps) and how many it
//! closed later (header time limit).
//!
//! `cargo run --release -p fluxion --example slow_clients -- [--clients 2000]
//! [--sources 10] [--secs 40]`; with `HTTP_HEADER_TIMEOUT_MS=5000` the drop
//! of the slow clients is seen sooner. The slow clients come from
//! 127.0.0.2 … 127.0.0.(1+sources) (Linux routes all of 127/8 to loopback);
//! `--sources 1` puts them all on one address (the per-address cap then
//! refuses most). Needs a file-descriptor limit above 2 × clients (`ulimit -n`).

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use fluxion::app::{self, AppState, Engines};
use fluxion::clock::Clock;
use fluxion::guard::HttpGuard;
use fluxion::seed::SeedData;
use fluxion::store::{DatabaseUrl, Store};
use fluxion_core::booking::{Channel, Vertical};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpSocket;

#[path = "shared/stats.rs"]
mod stats;
use stats::percentile;

struct Args {
    clients: usize,
    sources: u8,
    secs: u64,
}

fn args() -> anyhow::Result<Args> {
    let mut a = Args { clients: 2_000, sources: 10, secs: 40 };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let value = it.next().ok_or_else(|| anyhow::anyhow!("{flag} needs a value"))?;
        match flag.as_str() {
            "--clients" => a.clients = value.parse()?,
            "--sources" => a.sources = value.parse::<u8>()?.clamp(1, 250),
            "--secs" => a.secs = value.parse()?,
            other => anyhow::bail!("unknown option {other}"),
        }
    }
    Ok(a)
}

#[derive(Default)]
struct Counts {
    connected: AtomicUsize,
    refused_at_once: AtomicUsize,
    closed_later: AtomicUsize,
    connect_failed: AtomicUsize,
}

/// One slow client: half a request, then waits for the server to close.
async fn slow_client(server: SocketAddr, source: Ipv4Addr, counts: Arc<Counts>) {
    let Ok(socket) = TcpSocket::new_v4() else { return };
    if socket.bind(SocketAddr::new(IpAddr::V4(source), 0)).is_err() {
        counts.connect_failed.fetch_add(1, Ordering::Relaxed);
        return;
    }
    let Ok(mut stream) = socket.connect(server).await else {
        counts.connect_failed.fetch_add(1, Ordering::Relaxed);
        return;
    };
    counts.connected.fetch_add(1, Ordering::Relaxed);
    let started = Instant::now();
    let _ = stream.write_all(b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ").await;
    let mut buf = [0u8; 256];
    loop {
        match stream.read(&mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(_) => {}
        }
    }
    if started.elapsed() < Duration::from_millis(500) {
        counts.refused_at_once.fetch_add(1, Ordering::Relaxed);
    } else {
        counts.closed_later.fetch_add(1, Ordering::Relaxed);
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = args()?;
    let guard = HttpGuard::from_env()?;
    let dir = tempfile::tempdir()?;
    let store = Store::open(&DatabaseUrl::Sqlite(dir.path().join("fluxion.db"))).await?;
    SeedData::demo(Vertical::Salone)?.load(&store, false).await?;
    let engines = Engines::with_llm(store, Channel::Chat, None).await?;
    let state = AppState::with_engines(engines, Clock::System);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    println!(
        "server on {addr}: header limit {} ms, {} connections max, {} per address; {} slow clients from {} address(es) for {} s",
        guard.header_timeout.as_millis(),
        guard.max_connections,
        guard.max_connections_per_ip,
        args.clients,
        args.sources,
        args.secs
    );
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let server_guard = guard.clone();
    let server = tokio::spawn(async move {
        app::serve_guarded(listener, app::router(state), &server_guard, async {
            let _ = stop_rx.await;
        })
        .await
    });

    let counts = Arc::new(Counts::default());
    let opened = Instant::now();
    let mut slow = Vec::with_capacity(args.clients);
    for i in 0..args.clients {
        let source = Ipv4Addr::new(127, 0, 0, 2 + (i % usize::from(args.sources)) as u8);
        slow.push(tokio::spawn(slow_client(addr, source, counts.clone())));
    }
    while counts.connected.load(Ordering::Relaxed) + counts.connect_failed.load(Ordering::Relaxed) < args.clients {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    println!(
        "{} slow connections opened in {} ms ({} failed to connect)",
        counts.connected.load(Ordering::Relaxed),
        opened.elapsed().as_millis(),
        counts.connect_failed.load(Ordering::Relaxed)
    );

    let client = reqwest::Client::builder().pool_max_idle_per_host(0).timeout(Duration::from_secs(5)).build()?;
    let mut latencies = Vec::new();
    let mut failures = 0usize;
    let until = Instant::now() + Duration::from_secs(args.secs);
    while Instant::now() < until {
        let t = Instant::now();
        match client.get(format!("http://{addr}/health")).send().await {
            Ok(r) if r.status().is_success() => latencies.push(t.elapsed().as_secs_f64() * 1000.0),
            _ => failures += 1,
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    latencies.sort_by(f64::total_cmp);
    println!(
        "/health (new connection each time, from 127.0.0.1): {} answered, {} failed; latency p50 {:.2} ms, p95 {:.2} ms, max {:.2} ms",
        latencies.len(),
        failures,
        percentile(&latencies, 0.5),
        percentile(&latencies, 0.95),
        latencies.last().copied().unwrap_or(f64::NAN)
    );
    println!(
        "slow connections: {} refused at once (connection caps), {} closed later by the server (header time limit), {} still open",
        counts.refused_at_once.load(Ordering::Relaxed),
        counts.closed_later.load(Ordering::Relaxed),
        slow.iter().filter(|h| !h.is_finished()).count()
    );
    for h in slow {
        h.abort();
    }
    let _ = stop_tx.send(());
    let _ = tokio::time::timeout(Duration::from_secs(5), server).await;
    Ok(())
}
