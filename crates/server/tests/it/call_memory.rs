//! Memory of phone calls on a real `fluxion serve` process (its resident set,
//! `VmRSS` in `/proc/<pid>/status`): calls streaming caller audio stay within
//! the per-call budget ([`CALL_MEMORY_BUDGET_BYTES`], issue 13). Speech:
//! espeak-ng for the greeting, the OpenAI-compatible recogniser pointed at a
//! fake server (the callers send silence, so it is not asked).

use std::time::Duration;

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use fluxion::telephony::dial::{self, Stream, Ticket};
use fluxion::telephony::limits::CALL_MEMORY_BUDGET_BYTES;
use futures::{SinkExt, StreamExt};
use serde_json::{json, Value};
use tokio::sync::watch;
use tokio_tungstenite::tungstenite::Message;

use crate::shutdown::{fake_recogniser, Served};

/// Calls streaming audio at once for the budget.
const CALLS: usize = 40;

/// The server's resident set, bytes.
fn rss_bytes(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("/proc status");
    let kb: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .expect("VmRSS");
    kb * 1024
}

fn mb(bytes: u64) -> f64 {
    bytes as f64 / (1024.0 * 1024.0)
}

/// Twilio's `start` for the ticket's call.
fn start_message(call_sid: &str, ticket: &Ticket) -> String {
    let custom: serde_json::Map<String, Value> = ticket.params.iter().map(|(k, v)| (k.clone(), json!(v))).collect();
    json!({"event": "start", "streamSid": format!("MZ{call_sid}"), "start": {"streamSid": format!("MZ{call_sid}"), "callSid": call_sid,
        "customParameters": custom, "mediaFormat": {"encoding": "audio/x-mulaw", "sampleRate": 8000, "channels": 1}}})
    .to_string()
}

/// Sets up a call through the signed webhook and sends `start`.
async fn open(served: &Served, call_sid: &str) -> Stream {
    let ticket = served.answer(call_sid).await.expect("the webhook answers with a stream");
    let mut ws = dial::connect(&ticket).await.expect("the upgrade is accepted");
    ws.send(Message::Text(start_message(call_sid, &ticket).into())).await.expect("start");
    ws
}

/// A caller sending 20 ms of μ-law silence every 20 ms (and reading what the
/// agent sends) until `stop` turns true, then hanging up.
async fn stream_silence(mut ws: Stream, call_sid: String, mut stop: watch::Receiver<bool>) {
    let media =
        json!({"event": "media", "streamSid": format!("MZ{call_sid}"), "media": {"payload": B64.encode([0xFFu8; 160])}}).to_string();
    let mut tick = tokio::time::interval(Duration::from_millis(20));
    loop {
        tokio::select! {
            _ = tick.tick() => {
                if ws.send(Message::Text(media.clone().into())).await.is_err() {
                    return;
                }
            }
            m = ws.next() => if !matches!(m, Some(Ok(_))) { return },
            _ = stop.changed() => break,
        }
    }
    let _ = ws.send(Message::Text(json!({"event": "stop"}).to_string().into())).await;
    // Read until the server closes (a guard against a hung test, not a timing assertion).
    let _ = tokio::time::timeout(Duration::from_secs(30), async { while let Some(Ok(_)) = ws.next().await {} }).await;
}

/// Opens `n` streaming calls named `{prefix}{i}`; returns their tasks and the stop switch.
async fn streaming_calls(served: &Served, prefix: &str, n: usize) -> (Vec<tokio::task::JoinHandle<()>>, watch::Sender<bool>) {
    let (stop, rx) = watch::channel(false);
    let mut tasks = Vec::new();
    for i in 0..n {
        let sid = format!("{prefix}{i}");
        let ws = open(served, &sid).await;
        tasks.push(tokio::spawn(stream_silence(ws, sid, rx.clone())));
    }
    (tasks, stop)
}

async fn hang_up_all(served: &Served, tasks: Vec<tokio::task::JoinHandle<()>>, stop: watch::Sender<bool>) {
    stop.send_replace(true);
    for t in tasks {
        t.await.expect("caller task");
    }
    served.calls_in_progress(0).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn calls_stay_within_their_memory_budget() {
    let stt = fake_recogniser().await;
    let env = [
        ("STT_ENGINE", "openai".to_string()),
        ("STT_BASE_URL", stt),
        ("STREAM_IDLE_TIMEOUT_MS", "5000".to_string()),
        // Every call here comes from 127.0.0.1, as a provider's would from a few addresses.
        ("MAX_CONCURRENT_CALLS", "1000".to_string()),
        ("MAX_MEDIA_STREAMS", "1000".to_string()),
        ("MAX_MEDIA_STREAMS_PER_IP", "1000".to_string()),
        ("HTTP_MAX_CONNECTIONS", "4096".to_string()),
        ("HTTP_MAX_CONNECTIONS_PER_IP", "4096".to_string()),
        ("HTTP_RATE_PER_SECOND", "0".to_string()),
        ("RUST_LOG", "warn".to_string()),
    ];
    let Some(served) = Served::start(&env).await else { return };
    let pid = served.pid();

    // Warm up (allocator arenas, the greeting in the phrase cache, the
    // database pool), then take the baseline.
    let (tasks, stop) = streaming_calls(&served, "CAwarm", 4).await;
    served.calls_in_progress(4).await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    hang_up_all(&served, tasks, stop).await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let baseline = rss_bytes(pid);

    // Calls in progress, streaming audio.
    let (tasks, stop) = streaming_calls(&served, "CAlive", CALLS).await;
    served.calls_in_progress(CALLS as u64).await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    let live = rss_bytes(pid);
    hang_up_all(&served, tasks, stop).await;
    let per_call = live.saturating_sub(baseline) / CALLS as u64;
    eprintln!(
        "memory: baseline {:.1} MB, {:.1} MB with {CALLS} calls streaming: {:.3} MB per call (budget {:.1} MB)",
        mb(baseline),
        mb(live),
        mb(per_call),
        mb(CALL_MEMORY_BUDGET_BYTES)
    );
    assert!(
        per_call <= CALL_MEMORY_BUDGET_BYTES,
        "{:.3} MB per call is over the budget of {:.1} MB",
        mb(per_call),
        mb(CALL_MEMORY_BUDGET_BYTES)
    );
}
