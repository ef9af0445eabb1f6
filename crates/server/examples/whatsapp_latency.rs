//! WhatsApp text-turn latency (issue 11), not a test: a real Fluxion
//! WhatsApp webhook (seeded SQLite in a temporary folder, the signature
//! check, deduplication, the dialogue, the Graph API client) on
//! 127.0.0.1:0 and a fake Graph API on another port. `--clients` clients
//! (default 20) each hold a conversation of `--rounds` rounds (default 5) of
//! three messages (a booking request, "sì", an opening-hours question), one
//! message at a time per client. Measured per message: from the signed
//! webhook POST leaving the client to the reply's `POST /{phone-number-id}/messages`
//! reaching the fake Graph API. Prints p50, p95 and max in ms and the
//! messages per second handled. The webhook runs behind the HTTP guard of
//! the environment (`fluxion::guard`): with its default per-address rate
//! limit more than about four clients from 127.0.0.1 are refused (429), so
//! larger runs set `HTTP_RATE_PER_SECOND=0`.
//!
//! `HTTP_RATE_PER_SECOND=0 cargo run --release -p fluxion --example whatsapp_latency -- [--clients 20] [--rounds 5]`

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::{Path, State};
use axum::routing::post;
use axum::{Json, Router};
use fluxion::app::{self, AppState, Engines};
use fluxion::channels::whatsapp::{self, WhatsApp, WhatsappConfig};
use fluxion::clock::Clock;
use fluxion::guard::HttpGuard;
use fluxion::seed::SeedData;
use fluxion::store::{DatabaseUrl, Store};
use fluxion_core::booking::{Channel, Vertical};
use serde_json::{json, Value};
use tokio::sync::oneshot;

const SECRET: &str = "bench-app-secret";
const NUMBER_ID: &str = "106540352242922";

/// Who waits for a reply, by recipient wa_id.
type Waiting = Arc<Mutex<HashMap<String, oneshot::Sender<Instant>>>>;

async fn graph_messages(State(waiting): State<Waiting>, Path(_id): Path<String>, Json(body): Json<Value>) -> Json<Value> {
    let arrived = Instant::now();
    let to = body["to"].as_str().unwrap_or_default().to_string();
    if let Some(tx) = waiting.lock().unwrap_or_else(|p| p.into_inner()).remove(&to) {
        let _ = tx.send(arrived);
    }
    Json(json!({"messaging_product": "whatsapp", "messages": [{"id": format!("wamid.out-{to}-{}", arrived.elapsed().as_nanos())}]}))
}

fn delivery(from: &str, id: &str, body: &str) -> Value {
    json!({"object": "whatsapp_business_account", "entry": [{"id": "1", "changes": [{"field": "messages", "value": {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "390612345678", "phone_number_id": NUMBER_ID},
        "contacts": [{"profile": {"name": "Cliente"}, "wa_id": from}],
        "messages": [{"from": from, "id": id, "timestamp": "1749416383", "type": "text", "text": {"body": body}}]
    }}]}]})
}

struct Args {
    clients: usize,
    rounds: usize,
}

fn args() -> anyhow::Result<Args> {
    let mut a = Args { clients: 20, rounds: 5 };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let value = it.next().ok_or_else(|| anyhow::anyhow!("{flag} needs a value"))?;
        match flag.as_str() {
            "--clients" => a.clients = value.parse::<usize>()?.max(1),
            "--rounds" => a.rounds = value.parse::<usize>()?.max(1),
            other => anyhow::bail!("unknown option {other}"),
        }
    }
    Ok(a)
}

/// One client's conversation; returns the latency of each message, ms.
async fn client(n: usize, rounds: usize, url: String, waiting: Waiting) -> anyhow::Result<Vec<f64>> {
    let http = reqwest::Client::new();
    let from = format!("3934900{n:05}");
    let days = ["lunedì", "martedì", "mercoledì", "giovedì", "venerdì"];
    let mut out = Vec::new();
    for round in 0..rounds {
        let hour = 9 + (n + round) % 8;
        let texts = [
            format!("buongiorno, vorrei una piega {} alle {hour}, sono Cliente {n}", days[(n + round) % days.len()]),
            "sì".to_string(),
            "che orari fate il sabato?".to_string(),
        ];
        for (i, text) in texts.iter().enumerate() {
            let (tx, rx) = oneshot::channel();
            waiting.lock().unwrap_or_else(|p| p.into_inner()).insert(from.clone(), tx);
            let body = serde_json::to_vec(&delivery(&from, &format!("wamid.in-{n}-{round}-{i}"), text))?;
            let started = Instant::now();
            let status = http
                .post(&url)
                .header("content-type", "application/json")
                .header("X-Hub-Signature-256", whatsapp::sign(SECRET, &body))
                .body(body)
                .send()
                .await?
                .status();
            anyhow::ensure!(status.is_success(), "webhook answered {status}");
            let arrived = tokio::time::timeout(Duration::from_secs(30), rx).await??;
            out.push(arrived.duration_since(started).as_secs_f64() * 1000.0);
        }
    }
    Ok(out)
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = args()?;
    let waiting: Waiting = Arc::default();
    let fake = Router::new().route("/v21.0/{id}/messages", post(graph_messages)).with_state(waiting.clone());
    let graph_listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let graph_url = format!("http://{}/v21.0", graph_listener.local_addr()?);
    tokio::spawn(async move { axum::serve(graph_listener, fake).await });

    let dir = tempfile::tempdir()?;
    let store = Store::open(&DatabaseUrl::Sqlite(dir.path().join("fluxion.db"))).await?;
    SeedData::demo(Vertical::Salone)?.load(&store, false).await?;
    let engines = Engines::with_llm(store, Channel::Chat, None).await?;
    let state = AppState::with_engines(engines, Clock::System);
    let config = WhatsappConfig::from_lookup(|k| {
        match k {
            "META_APP_SECRET" => Some(SECRET),
            "META_ACCESS_TOKEN" => Some("bench-token"),
            "META_GRAPH_URL" => Some(graph_url.as_str()),
            _ => None,
        }
        .map(str::to_string)
    })
    .map_err(anyhow::Error::msg)?;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("http://{}/webhooks/whatsapp", listener.local_addr()?);
    // The HTTP guard of the environment, as `fluxion serve` runs it: every
    // client here is 127.0.0.1, so `HTTP_RATE_PER_SECOND=0` lifts the
    // per-address rate limit for more than a few clients.
    let guard = HttpGuard::from_env()?;
    tokio::spawn(async move {
        app::serve_guarded(listener, whatsapp::router(WhatsApp::new(state, config)), &guard, std::future::pending()).await
    });

    println!("{} clients × {} rounds × 3 messages through {url}", args.clients, args.rounds);
    let started = Instant::now();
    let tasks: Vec<_> = (0..args.clients).map(|n| tokio::spawn(client(n, args.rounds, url.clone(), waiting.clone()))).collect();
    let mut latencies = Vec::new();
    for t in tasks {
        latencies.extend(t.await??);
    }
    let elapsed = started.elapsed().as_secs_f64();
    latencies.sort_by(f64::total_cmp);
    let at = |p: f64| latencies[((latencies.len() - 1) as f64 * p).round() as usize];
    println!(
        "{} messages in {elapsed:.1} s = {:.0} messages/s; webhook in → reply out: p50 {:.1} ms, p95 {:.1} ms, max {:.1} ms",
        latencies.len(),
        latencies.len() as f64 / elapsed,
        at(0.5),
        at(0.95),
        at(1.0)
    );
    Ok(())
}
