//! Memory of phone calls on a real `fluxion serve` process (its resident set,
//! `VmRSS` in `/proc/<pid>/status`): calls streaming caller audio stay within
//! the per-call budget ([`CALL_MEMORY_BUDGET_BYTES`], issue 13), and streams
//! that send `start` and then nothing are all closed by the idle timeout and
//! give their memory back. Speech: espeak-ng for the greeting, the
//! OpenAI-compatible recogniser pointed at a fake server (the callers send
//! silence or nothing, so it is not asked).

use std::time::{Duration, Instant};

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

/// The server's settings for these tests: a recogniser at `stt`, the idle
/// timeout, and the caps lifted past what the tests open (every call here
/// comes from 127.0.0.1, as a provider's would from a few addresses).
fn settings(stt: String, idle_timeout_ms: u64) -> Vec<(&'static str, String)> {
    vec![
        ("STT_ENGINE", "openai".to_string()),
        ("STT_BASE_URL", stt),
        ("STREAM_IDLE_TIMEOUT_MS", idle_timeout_ms.to_string()),
        ("MAX_CONCURRENT_CALLS", "1000".to_string()),
        ("MAX_MEDIA_STREAMS", "1000".to_string()),
        ("MAX_MEDIA_STREAMS_PER_IP", "1000".to_string()),
        ("HTTP_MAX_CONNECTIONS", "4096".to_string()),
        ("HTTP_MAX_CONNECTIONS_PER_IP", "4096".to_string()),
        ("HTTP_RATE_PER_SECOND", "0".to_string()),
        ("RUST_LOG", "warn".to_string()),
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn calls_stay_within_their_memory_budget() {
    let env = settings(fake_recogniser().await, 5_000);
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

/// Quiet streams open at once (issue 13: 500).
const QUIET_STREAMS: usize = 500;
/// The server's idle timeout in the quiet-stream test, ms.
const QUIET_IDLE_MS: u64 = 3_000;
/// How late after the idle timeout a quiet stream may close: set-up and
/// closing of 500 calls on a loaded two-core machine, with room to spare.
const CLOSE_SLACK: Duration = Duration::from_secs(30);
/// How far above its baseline the server's resident set may stay once the
/// quiet streams are closed (issue 13), bytes.
const RETURN_MARGIN_BYTES: u64 = 50 * 1024 * 1024;
/// Streams being set up at once (webhook, upgrade, `start`).
const SETUP_PARALLEL: usize = 32;

/// Sets up a call and sends `start` (when `setup` has room), then sends
/// nothing until the server closes the stream. How long after `start` it
/// closed, or an error past the idle timeout plus [`CLOSE_SLACK`].
async fn quiet_stream(served: &Served, call_sid: String, setup: &tokio::sync::Semaphore) -> Result<Duration, String> {
    let mut ws = {
        let _turn = setup.acquire().await.map_err(|e| e.to_string())?;
        open(served, &call_sid).await
    };
    let sent = Instant::now();
    let limit = Duration::from_millis(QUIET_IDLE_MS) + CLOSE_SLACK;
    let closed = tokio::time::timeout(limit, async {
        while let Some(Ok(message)) = ws.next().await {
            if message.is_close() {
                break;
            }
        }
    })
    .await;
    closed.map(|()| sent.elapsed()).map_err(|_| format!("{call_sid} still open {:.1} s after start", limit.as_secs_f64()))
}

/// `n` quiet streams named `{prefix}{i}` at once; how long after its
/// `start` each was closed.
async fn quiet_streams(served: &Served, prefix: &str, n: usize) -> Vec<Result<Duration, String>> {
    let setup = tokio::sync::Semaphore::new(SETUP_PARALLEL);
    futures::future::join_all((0..n).map(|i| quiet_stream(served, format!("{prefix}{i}"), &setup))).await
}

/// Polls the resident set until it is at most `limit` or `within` has
/// passed (the allocator may give memory back a few seconds after it is
/// freed); the last reading.
async fn rss_settles(pid: u32, limit: u64, within: Duration) -> u64 {
    let started = Instant::now();
    loop {
        let rss = rss_bytes(pid);
        if rss <= limit || started.elapsed() >= within {
            return rss;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

/// The server's peak resident set so far (`VmHWM`), bytes.
fn peak_bytes(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("/proc status");
    status.lines().find_map(|l| l.strip_prefix("VmHWM:")).and_then(|v| v.split_whitespace().next()?.parse().ok()).unwrap_or(0) * 1024
}

/// Issue 13: 500 streams that send `start` and then nothing are all closed
/// by the idle timeout (recorded as abandoned calls), and the server's
/// resident memory returns to within 50 MB of its baseline afterwards.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn quiet_streams_are_closed_and_give_their_memory_back() {
    let env = settings(fake_recogniser().await, QUIET_IDLE_MS);
    let Some(served) = Served::start(&env).await else { return };
    let pid = served.pid();

    // Warm up (the phone channel's conversation engine, the greeting in the
    // phrase cache, the database pool), then take the baseline.
    for closed in quiet_streams(&served, "CAwarm", 8).await {
        closed.expect("a warm-up stream is closed");
    }
    served.calls_in_progress(0).await;
    let baseline = rss_bytes(pid);

    let opened = Instant::now();
    let closed = quiet_streams(&served, "CAquiet", QUIET_STREAMS).await;
    let all_closed = opened.elapsed();
    served.calls_in_progress(0).await;
    let failures: Vec<&String> = closed.iter().filter_map(|c| c.as_ref().err()).collect();
    assert!(failures.is_empty(), "{} of {QUIET_STREAMS} streams not closed by the server, first: {}", failures.len(), failures[0]);
    let closed: Vec<Duration> = closed.into_iter().flatten().collect();
    let idle = Duration::from_millis(QUIET_IDLE_MS);
    let (first, last) = (closed.iter().min().copied().unwrap_or_default(), closed.iter().max().copied().unwrap_or_default());
    assert!(
        first >= idle,
        "a stream was closed {:.2} s after start, before the {:.1} s idle timeout",
        first.as_secs_f64(),
        idle.as_secs_f64()
    );

    let after = rss_settles(pid, baseline + RETURN_MARGIN_BYTES, Duration::from_secs(30)).await;
    eprintln!(
        "{QUIET_STREAMS} quiet streams: closed {:.2}-{:.2} s after start (idle timeout {:.1} s), all in {:.1} s; RSS baseline {:.1} MB, peak {:.1} MB, {:.1} MB after closing ({:+.1} MB)",
        first.as_secs_f64(),
        last.as_secs_f64(),
        idle.as_secs_f64(),
        all_closed.as_secs_f64(),
        mb(baseline),
        mb(peak_bytes(pid)),
        mb(after),
        mb(after) - mb(baseline)
    );

    // Every quiet call is on record as abandoned (the caller left), none open.
    let store = fluxion::store::Store::open(&fluxion::store::DatabaseUrl::Sqlite(served.dir.path().join("fluxion.db"))).await.expect("db");
    let tenant = store.default_tenant().await.expect("db").expect("business");
    let quiet: Vec<_> =
        tenant.recent_calls(u32::MAX).await.expect("calls").into_iter().filter(|c| c.call_sid.starts_with("CAquiet")).collect();
    assert_eq!(quiet.len(), QUIET_STREAMS, "one call record per stream");
    assert!(
        quiet.iter().all(|c| c.outcome == Some(fluxion::store::CallOutcome::Abandoned)),
        "outcomes: {:?}",
        quiet.iter().map(|c| format!("{:?}", c.outcome)).collect::<std::collections::BTreeSet<_>>()
    );
    assert!(
        after <= baseline + RETURN_MARGIN_BYTES,
        "resident memory {:.1} MB after the streams closed, {:+.1} MB over the {:.1} MB baseline (at most {:.0} MB)",
        mb(after),
        mb(after) - mb(baseline),
        mb(baseline),
        mb(RETURN_MARGIN_BYTES)
    );
}
