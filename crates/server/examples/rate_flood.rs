//! Request-flood measurement (issue 13), not a test: a real Fluxion HTTP
//! server (seeded SQLite in a temporary folder, the guarded accept loop and
//! layers with the settings of the environment, see `fluxion::guard`) on
//! 127.0.0.1:0; one address (127.0.0.2) sends `--rate` requests per second
//! (default 10 000) to an authenticated API route over `--conns` keep-alive
//! connections, while another address (127.0.0.3) asks the same route every
//! 100 ms. Prints, for the flood, the rate achieved and how many answers were
//! 200 and how many 429 (rate-limited); for the other address, how many of
//! its requests were served (200) and their latency (p50, p95, max).
//!
//! `cargo run -p fluxion --example rate_flood -- [--rate 10000] [--secs 10]
//! [--conns 64] [--path /api/services]`. The flood is paced: each
//! connection sends one request, reads the answer, and waits for its next
//! slot (rate / conns per second); when the machine cannot keep up the rate
//! achieved is lower and the output says so. Both sides share the machine
//! with the server.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use fluxion::app::{self, AppState, Engines};
use fluxion::clock::Clock;
use fluxion::guard::HttpGuard;
use fluxion::seed::SeedData;
use fluxion::store::{DatabaseUrl, Store};
use fluxion_core::booking::{Channel, Vertical};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpSocket, TcpStream};

#[path = "shared/stats.rs"]
mod stats;
use stats::percentile;

struct Args {
    rate: u64,
    secs: u64,
    conns: u64,
    path: String,
}

fn args() -> anyhow::Result<Args> {
    let mut a = Args { rate: 10_000, secs: 10, conns: 64, path: "/api/services".into() };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let value = it.next().ok_or_else(|| anyhow::anyhow!("{flag} needs a value"))?;
        match flag.as_str() {
            "--rate" => a.rate = value.parse::<u64>()?.max(1),
            "--secs" => a.secs = value.parse()?,
            "--conns" => a.conns = value.parse::<u64>()?.max(1),
            "--path" => a.path = value,
            other => anyhow::bail!("unknown option {other}"),
        }
    }
    Ok(a)
}

/// Answers the flood received, by status.
#[derive(Default)]
struct Tally {
    ok: AtomicU64,
    limited: AtomicU64,
    other: AtomicU64,
    broken: AtomicU64,
}

async fn connect_from(server: SocketAddr, source: Ipv4Addr) -> anyhow::Result<TcpStream> {
    let socket = TcpSocket::new_v4()?;
    socket.bind(SocketAddr::new(IpAddr::V4(source), 0)).with_context(|| format!("binding {source}"))?;
    let stream = socket.connect(server).await.context("connecting")?;
    stream.set_nodelay(true)?;
    Ok(stream)
}

/// Reads one HTTP/1.1 response; its status.
async fn read_response(reader: &mut BufReader<TcpStream>) -> anyhow::Result<u16> {
    let mut line = String::new();
    if reader.read_line(&mut line).await? == 0 {
        anyhow::bail!("connection closed");
    }
    let status: u16 = line.split_whitespace().nth(1).and_then(|s| s.parse().ok()).context("no status line")?;
    let mut length = 0usize;
    loop {
        line.clear();
        if reader.read_line(&mut line).await? == 0 {
            anyhow::bail!("connection closed in the headers");
        }
        let header = line.trim_end();
        if header.is_empty() {
            break;
        }
        if let Some((name, value)) = header.split_once(':') {
            if name.eq_ignore_ascii_case("content-length") {
                length = value.trim().parse().unwrap_or(0);
            }
        }
    }
    let mut body = vec![0u8; length];
    reader.read_exact(&mut body).await?;
    Ok(status)
}

/// One flooding connection: a request every `every`, until `until`;
/// reconnects when the server closes it.
async fn flood(server: SocketAddr, request: Arc<Vec<u8>>, every: Duration, until: Instant, tally: Arc<Tally>) {
    let mut next = Instant::now();
    while Instant::now() < until {
        let Ok(stream) = connect_from(server, Ipv4Addr::new(127, 0, 0, 2)).await else {
            tally.broken.fetch_add(1, Ordering::Relaxed);
            tokio::time::sleep(Duration::from_millis(10)).await;
            continue;
        };
        let mut reader = BufReader::new(stream);
        while Instant::now() < until {
            if reader.get_mut().write_all(&request).await.is_err() {
                tally.broken.fetch_add(1, Ordering::Relaxed);
                break;
            }
            match read_response(&mut reader).await {
                Ok(200) => tally.ok.fetch_add(1, Ordering::Relaxed),
                Ok(429) => tally.limited.fetch_add(1, Ordering::Relaxed),
                Ok(_) => tally.other.fetch_add(1, Ordering::Relaxed),
                Err(_) => {
                    tally.broken.fetch_add(1, Ordering::Relaxed);
                    break;
                }
            };
            next += every;
            let now = Instant::now();
            if next > now {
                tokio::time::sleep(next - now).await;
            } else if now - next > Duration::from_secs(1) {
                // Behind by more than a second: do not try to catch up in a burst.
                next = now;
            }
        }
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = args()?;
    let guard = HttpGuard::from_env()?;
    let dir = tempfile::tempdir()?;
    let store = Store::open(&DatabaseUrl::Sqlite(dir.path().join("fluxion.db"))).await?;
    let tenant = SeedData::demo(Vertical::Salone)?.load(&store, false).await?;
    let (_, token) = fluxion::auth::create_token(&tenant, "rate-flood", true).await?;
    let engines = Engines::with_llm(store, Channel::Chat, None).await?;
    let state = AppState::with_engines(engines, Clock::System);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let quota = guard.rate.map_or("no rate limit".to_string(), |q| format!("{} requests/s per address, burst {}", q.per_second, q.burst));
    println!(
        "server on {addr}: {quota}; flood {} requests/s from 127.0.0.2 over {} connections for {} s to {}; 127.0.0.3 asks every 100 ms",
        args.rate, args.conns, args.secs, args.path
    );
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let server_guard = guard.clone();
    let server = tokio::spawn(async move {
        app::serve_guarded(listener, app::router(state), &server_guard, async {
            let _ = stop_rx.await;
        })
        .await
    });

    let request = Arc::new(format!("GET {} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {token}\r\n\r\n", args.path).into_bytes());
    let tally = Arc::new(Tally::default());
    let started = Instant::now();
    let until = started + Duration::from_secs(args.secs);
    let every = Duration::from_secs_f64(args.conns as f64 / args.rate as f64);
    let flooders: Vec<_> = (0..args.conns).map(|_| tokio::spawn(flood(addr, request.clone(), every, until, tally.clone()))).collect();

    // The other address: a fresh client bound to 127.0.0.3, one request every 100 ms.
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert(reqwest::header::AUTHORIZATION, format!("Bearer {token}").parse()?);
    let other = reqwest::Client::builder()
        .local_address(IpAddr::V4(Ipv4Addr::new(127, 0, 0, 3)))
        .default_headers(headers)
        .timeout(Duration::from_secs(5))
        .build()?;
    let mut latencies = Vec::new();
    let mut other_status: std::collections::BTreeMap<String, usize> = std::collections::BTreeMap::new();
    while Instant::now() < until {
        let t = Instant::now();
        let status = match other.get(format!("http://{addr}{}", args.path)).send().await {
            Ok(r) => {
                let s = r.status().as_u16();
                let _ = r.bytes().await;
                if s == 200 {
                    latencies.push(t.elapsed().as_secs_f64() * 1000.0);
                }
                s.to_string()
            }
            Err(e) => format!("error ({e})"),
        };
        *other_status.entry(status).or_default() += 1;
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    for f in flooders {
        let _ = f.await;
    }
    let elapsed = started.elapsed().as_secs_f64();
    let (ok, limited, odd, broken) = (
        tally.ok.load(Ordering::Relaxed),
        tally.limited.load(Ordering::Relaxed),
        tally.other.load(Ordering::Relaxed),
        tally.broken.load(Ordering::Relaxed),
    );
    let answered = ok + limited + odd;
    latencies.sort_by(f64::total_cmp);
    println!();
    println!("== results ==");
    println!(
        "flood from 127.0.0.2     {answered} answers in {elapsed:.1} s = {:.0} requests/s (asked {}); 200: {ok}, 429: {limited}, other: {odd}; broken connections: {broken}",
        answered as f64 / elapsed,
        args.rate
    );
    println!("                         {:.2} % rate-limited", 100.0 * limited as f64 / answered.max(1) as f64);
    println!(
        "other address 127.0.0.3  {} requests: {}; latency of the 200s p50 {:.2} ms, p95 {:.2} ms, max {:.2} ms",
        other_status.values().sum::<usize>(),
        other_status.iter().map(|(s, n)| format!("{s}: {n}")).collect::<Vec<_>>().join(", "),
        percentile(&latencies, 0.5),
        percentile(&latencies, 0.95),
        latencies.last().copied().unwrap_or(f64::NAN)
    );
    let served = other_status.get("200").copied().unwrap_or(0);
    let goal = limited > 0 && served == other_status.values().sum::<usize>() && answered as f64 / elapsed >= args.rate as f64 * 0.9;
    println!(
        "goal (the flood at {} requests/s is rate-limited while every request of the other address is served): {}",
        args.rate,
        if goal { "MET" } else { "NOT MET" }
    );
    let _ = stop_tx.send(());
    let _ = tokio::time::timeout(Duration::from_secs(5), server).await;
    Ok(())
}
