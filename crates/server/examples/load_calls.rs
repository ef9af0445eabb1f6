//! Load tool for phone calls (not a test): N simulated Twilio calls at once
//! over loopback, each streaming caller audio at real-time pacing (one 20 ms
//! μ-law frame every 20 ms) through the real media-stream WebSocket handler,
//! the Twilio codec, G.711, the WebRTC VAD, the endpointer, the voice
//! session, playback pacing and the resampler, into a real server process.
//!
//! Speech recognition and synthesis are replaced by constant-cost stand-ins,
//! here only, and the output says so:
//! - [`ConstantCostStt`] resamples each utterance 8 → 16 kHz with the real
//!   `audio::resample::Resampler`, waits 50 ms and "hears" one fixed FAQ line;
//! - [`ConstantCostTts`] waits 20 ms and returns 1 s of a 440 Hz tone at
//!   16000 Hz per sentence, which the real `Speaker` resamples to 8000 Hz.
//!
//! `cargo build --release -p fluxion --example load_calls`, then
//! `target/release/examples/load_calls [--calls 1000] [--secs 30] [--ramp-secs 10]`.
//!
//! Every call is set up as Twilio sets it up: a signed `POST /twilio/voice`,
//! whose TwiML carries the stream token, then a signed upgrade
//! (`telephony::dial`).
//!
//! `--real-speech [--calls N] [--secs S] [--ramp-secs R]` measures the real
//! offline capacity instead (see [`real_speech`]): the server runs the real
//! local engines (Whisper from `FLUXION_MODELS_DIR`, espeak-ng, the VAD the
//! server chooses) and each caller speaks an Italian sentence (espeak-ng)
//! every 10 s; it reports reply latency p50/p95, calls turned away as busy
//! and CPU.
//!
//! `--idle N [--idle-timeout-ms 30000]` measures the other side of issue 13:
//! N streams that send `start` and then nothing. It reports how many the
//! server closed by itself and when (against the idle timeout), and the
//! server's resident memory at baseline, with the N streams open, and after
//! they were closed.
//!
//! The driver starts itself again with `--serve` as the server (a seeded
//! SQLite database in a temporary directory, the telephony routes merged
//! with the app's, on 127.0.0.1:0), opens the calls over `ramp-secs`, each
//! lasting `secs` of call time, and reports: calls held to the end, frames
//! late (the session's `fluxion_voice_frames_late_total`), p50/p99 per-frame
//! processing time (`fluxion_voice_frame_seconds`), and the server's CPU and
//! resident memory per call, sampled from `/proc` while every call is live.
//! The driver's own send lateness is reported apart: it shares the machine.
//!
//! The server's `/metrics` renders the session's frame-time histogram in
//! coarse buckets (50 µs, 100 µs, 250 µs, …), so the server process installs
//! a recorder that forwards every metric to a Prometheus recorder built as
//! `observability::metrics_handle` builds it (same buckets) and also keeps
//! the frame times in 1 µs bins, read from `GET /load/frames`. `GET
//! /metrics` is that Prometheus recorder's rendering.

use std::collections::VecDeque;
use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use axum::routing::get;
use axum::Router;
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use futures::{SinkExt, StreamExt};
use metrics::{Counter, CounterFn, Gauge, Histogram, HistogramFn, Key, KeyName, Metadata, Recorder, SharedString, Unit};
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle, PrometheusRecorder};
use serde_json::json;
use tokio_tungstenite::tungstenite::Message;

use fluxion::app::{self, AppState, Engines};
use fluxion::clock::Clock;
use fluxion::seed::SeedData;
use fluxion::speech::speaker::Speaker;
use fluxion::store::{DatabaseUrl, Store};
use fluxion::telephony::dial::{self, CallFacts};
use fluxion::telephony::{self, Provider, SpeechKit, Telephony, TelephonyConfig};
use fluxion::voice::session::{FRAMES_LATE_TOTAL, FRAME_SECONDS};
use fluxion::voice::{agent, phrases, VoiceConfig};
use fluxion_core::audio::g711;
use fluxion_core::audio::resample::Resampler;
use fluxion_core::audio::vad::{Aggressiveness, VadEngine, WebrtcVad};
use fluxion_core::booking::{Channel, Vertical};
use fluxion_core::speech::stt::{duration_ms, SpeechToText, SttError, SttRequest, SttStream, Transcript};
use fluxion_core::speech::tts::{AudioSink, TextToSpeech, TtsError};
use fluxion_core::speech::BoxFuture;

#[path = "load_calls/real_speech.rs"]
mod real_speech;

/// Call audio rate, Hz (G.711 μ-law).
const RATE_HZ: u32 = 8_000;
/// Samples in one 20 ms frame at [`RATE_HZ`].
const FRAME_LEN: usize = 160;
/// One media frame, ms.
const FRAME_MS: u64 = 20;
/// Rate the recogniser stand-in resamples to, Hz (Whisper's).
const STT_RATE_HZ: u32 = 16_000;
/// Fixed cost of one recognition, ms (after the real resampling).
const STT_COST_MS: u64 = 50;
/// What the recogniser stand-in hears every time: a FAQ, so the receptionist
/// answers with one short sentence and the call goes on.
const STT_LINE: &str = "Accettate carte di credito?";
/// Rate the synthesis stand-in speaks at, Hz (the server resamples it to 8000).
const TTS_RATE_HZ: u32 = 16_000;
/// Fixed cost of one sentence, ms.
const TTS_COST_MS: u64 = 20;
/// Audio per synthesised sentence, ms.
const TTS_SENTENCE_MS: u64 = 1_000;
/// Caller silence at the start of a call while the greeting plays, ms.
const LEAD_SILENCE_MS: u64 = 3_500;
/// Caller speech per turn, ms.
const SPEECH_MS: u64 = 1_500;
/// Caller silence after each turn (end of turn, reply), ms.
const PAUSE_MS: u64 = 4_500;
/// Bins of the frame-time tap, 1 µs each; the last holds everything slower.
const TAP_BINS: usize = 20_000;
/// Seconds the late-frame and slow-frame timelines cover.
const TIMELINE_SECS: usize = 900;
/// A frame handled in more than this is "slow" on the timeline, ns.
const SLOW_FRAME_NS: u64 = 1_000_000;
/// `observability::metrics_handle`'s histogram buckets, seconds.
const PROMETHEUS_BUCKETS: [f64; 15] =
    [0.000_05, 0.000_1, 0.000_25, 0.000_5, 0.001, 0.002_5, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5];

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    if args.iter().any(|a| a == "--serve") {
        let db = arg(&args, "--db").map(PathBuf::from).context("--serve needs --db PATH")?;
        let idle_ms = arg(&args, "--idle-timeout-ms").unwrap_or_else(|| "30000".to_string());
        // Before anything touches `metrics`: the first recorder installed wins.
        let tap = FrameTap::install();
        let real = args.iter().any(|a| a == "--real-speech");
        return runtime.block_on(serve(db, tap, idle_ms, real));
    }
    if let Some(n) = arg(&args, "--idle") {
        let n: usize = n.parse().context("--idle N")?;
        let idle_ms: u64 =
            arg(&args, "--idle-timeout-ms").map(|v| v.parse()).transpose().context("--idle-timeout-ms MS")?.unwrap_or(30_000);
        return runtime.block_on(idle_streams(n, idle_ms));
    }
    let options = Options {
        calls: arg(&args, "--calls").map(|v| v.parse()).transpose().context("--calls N")?.unwrap_or(1_000),
        secs: arg(&args, "--secs").map(|v| v.parse()).transpose().context("--secs S")?.unwrap_or(30),
        ramp_secs: arg(&args, "--ramp-secs").map(|v| v.parse()).transpose().context("--ramp-secs R")?.unwrap_or(10),
    };
    if options.calls == 0 || options.secs == 0 {
        anyhow::bail!("--calls and --secs must be positive");
    }
    if args.iter().any(|a| a == "--real-speech") {
        return runtime.block_on(real_speech::drive(options));
    }
    runtime.block_on(drive(options))
}

/// The value after `name` in `args`.
fn arg(args: &[String], name: &str) -> Option<String> {
    args.iter().position(|a| a == name).and_then(|i| args.get(i + 1)).cloned()
}

// ---------------------------------------------------------------------------
// Stand-ins for speech recognition and synthesis (this tool only).

/// Speech-to-text stand-in of constant cost: the utterance goes through the
/// real resampler to 16 kHz as it arrives; `finish` flushes it, waits
/// [`STT_COST_MS`] and returns [`STT_LINE`]. It does not listen.
struct ConstantCostStt;

struct ConstantCostStream {
    resampler: Resampler,
    pcm_16k: Vec<i16>,
    samples_in: usize,
    rate_hz: u32,
}

impl SpeechToText for ConstantCostStt {
    fn name(&self) -> &str {
        "constant-cost-stand-in"
    }

    fn start<'a>(&'a self, request: &'a SttRequest) -> BoxFuture<'a, Result<Box<dyn SttStream>, SttError>> {
        Box::pin(async move {
            let resampler = Resampler::new(request.sample_rate_hz, STT_RATE_HZ).map_err(|e| SttError::Audio(e.to_string()))?;
            let stream = ConstantCostStream { resampler, pcm_16k: Vec::new(), samples_in: 0, rate_hz: request.sample_rate_hz };
            Ok(Box::new(stream) as Box<dyn SttStream>)
        })
    }
}

impl SttStream for ConstantCostStream {
    fn push<'a>(&'a mut self, pcm: &'a [i16]) -> BoxFuture<'a, Result<(), SttError>> {
        self.samples_in += pcm.len();
        let result = self.resampler.process(pcm, &mut self.pcm_16k).map_err(|e| SttError::Audio(e.to_string()));
        Box::pin(async move { result })
    }

    fn finish(self: Box<Self>) -> BoxFuture<'static, Result<Transcript, SttError>> {
        Box::pin(async move {
            let mut me = self;
            me.resampler.flush(&mut me.pcm_16k).map_err(|e| SttError::Audio(e.to_string()))?;
            tokio::time::sleep(Duration::from_millis(STT_COST_MS)).await;
            Ok(Transcript { text: STT_LINE.to_string(), confidence: Some(0.9), audio_ms: duration_ms(me.samples_in, me.rate_hz) })
        })
    }
}

/// Text-to-speech stand-in of constant cost: waits [`TTS_COST_MS`] and hands
/// over [`TTS_SENTENCE_MS`] of a 440 Hz tone at [`TTS_RATE_HZ`] per sentence.
struct ConstantCostTts {
    tone: Vec<i16>,
}

impl ConstantCostTts {
    fn new() -> Self {
        let n = (u64::from(TTS_RATE_HZ) * TTS_SENTENCE_MS / 1000) as usize;
        let tone = (0..n).map(|i| ((std::f32::consts::TAU * 440.0 * i as f32 / TTS_RATE_HZ as f32).sin() * 8_000.0) as i16).collect();
        ConstantCostTts { tone }
    }
}

impl TextToSpeech for ConstantCostTts {
    fn engine(&self) -> &str {
        "constant-cost-stand-in"
    }

    fn voice(&self) -> &str {
        "tone-440hz"
    }

    fn sample_rate_hz(&self) -> u32 {
        TTS_RATE_HZ
    }

    fn synthesize<'a>(&'a self, _text: &'a str, sink: &'a mut AudioSink<'_>) -> BoxFuture<'a, Result<(), TtsError>> {
        Box::pin(async move {
            tokio::time::sleep(Duration::from_millis(TTS_COST_MS)).await;
            sink(self.tone.clone());
            Ok(())
        })
    }
}

// ---------------------------------------------------------------------------
// The server process (`--serve`).

/// Per-frame processing times in 1 µs bins, as the session records them,
/// and late and slow frames per second of wall-clock time (to tell one
/// stall of the whole process from lateness spread over the run).
struct FrameTimes {
    bins: Vec<AtomicU64>,
    count: AtomicU64,
    sum_ns: AtomicU64,
    max_ns: AtomicU64,
    /// Unix time of the timelines' first second, ms.
    base_unix_ms: u64,
    base: Instant,
    late_by_s: Vec<AtomicU64>,
    slow_by_s: Vec<AtomicU64>,
}

fn unix_ms() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_millis() as u64)
}

impl FrameTimes {
    fn second(&self) -> usize {
        (self.base.elapsed().as_secs() as usize).min(TIMELINE_SECS - 1)
    }

    fn late(&self, n: u64) {
        self.late_by_s[self.second()].fetch_add(n, Ordering::Relaxed);
    }

    fn record(&self, seconds: f64) {
        let ns = (seconds.max(0.0) * 1e9) as u64;
        if ns > SLOW_FRAME_NS {
            self.slow_by_s[self.second()].fetch_add(1, Ordering::Relaxed);
        }
        self.bins[((ns / 1_000) as usize).min(TAP_BINS - 1)].fetch_add(1, Ordering::Relaxed);
        self.count.fetch_add(1, Ordering::Relaxed);
        self.sum_ns.fetch_add(ns, Ordering::Relaxed);
        self.max_ns.fetch_max(ns, Ordering::Relaxed);
    }

    /// The upper edge of the bin holding quantile `q`, µs.
    fn quantile_us(&self, q: f64) -> u64 {
        let count = self.count.load(Ordering::Relaxed);
        let target = ((count as f64 * q).ceil() as u64).max(1);
        let mut seen = 0;
        for (i, bin) in self.bins.iter().enumerate() {
            seen += bin.load(Ordering::Relaxed);
            if seen >= target {
                return i as u64 + 1;
            }
        }
        TAP_BINS as u64
    }

    /// `GET /load/frames`: `name value` lines.
    fn render(&self) -> String {
        let mut out = format!(
            "count {}\nsum_ns {}\nmax_ns {}\n",
            self.count.load(Ordering::Relaxed),
            self.sum_ns.load(Ordering::Relaxed),
            self.max_ns.load(Ordering::Relaxed)
        );
        for (name, q) in [("p50_us", 0.5), ("p90_us", 0.9), ("p99_us", 0.99), ("p999_us", 0.999)] {
            out.push_str(&format!("{name} {}\n", self.quantile_us(q)));
        }
        out.push_str(&format!("base_unix_ms {}\n", self.base_unix_ms));
        for (name, line) in [("late_by_s", &self.late_by_s), ("slow_by_s", &self.slow_by_s)] {
            let counts: Vec<String> = line.iter().map(|c| c.load(Ordering::Relaxed).to_string()).collect();
            out.push_str(&format!("{name} {}\n", counts.join(" ")));
        }
        out
    }
}

/// The process-wide recorder of the server process: every metric goes to a
/// Prometheus recorder configured as in production; the session's frame
/// times also go to [`FrameTimes`].
struct FrameTap {
    inner: PrometheusRecorder,
    frames: Arc<FrameTimes>,
}

/// The late-frame counter handle: counts into both.
struct TeeCounter {
    prometheus: Counter,
    frames: Arc<FrameTimes>,
}

impl CounterFn for TeeCounter {
    fn increment(&self, value: u64) {
        self.prometheus.increment(value);
        self.frames.late(value);
    }

    fn absolute(&self, value: u64) {
        self.prometheus.absolute(value);
    }
}

/// A frame-time histogram handle that records into both.
struct TeeHistogram {
    prometheus: Histogram,
    frames: Arc<FrameTimes>,
}

impl HistogramFn for TeeHistogram {
    fn record(&self, value: f64) {
        self.prometheus.record(value);
        self.frames.record(value);
    }
}

impl FrameTap {
    /// Installs the tap as the global recorder; returns the Prometheus
    /// handle and the frame times.
    fn install() -> (PrometheusHandle, Arc<FrameTimes>) {
        let inner = PrometheusBuilder::new()
            .set_buckets(&PROMETHEUS_BUCKETS)
            .map(|b| b.build_recorder())
            .unwrap_or_else(|_| PrometheusBuilder::new().build_recorder());
        let handle = inner.handle();
        // As in production (observability::metrics_handle): fold samples
        // into buckets every few seconds so a scrape never renders a backlog.
        let upkeep = handle.clone();
        std::thread::spawn(move || loop {
            std::thread::sleep(fluxion::observability::METRICS_UPKEEP_INTERVAL);
            upkeep.run_upkeep();
        });
        let frames = Arc::new(FrameTimes {
            bins: (0..TAP_BINS).map(|_| AtomicU64::new(0)).collect(),
            count: AtomicU64::new(0),
            sum_ns: AtomicU64::new(0),
            max_ns: AtomicU64::new(0),
            base_unix_ms: unix_ms(),
            base: Instant::now(),
            late_by_s: (0..TIMELINE_SECS).map(|_| AtomicU64::new(0)).collect(),
            slow_by_s: (0..TIMELINE_SECS).map(|_| AtomicU64::new(0)).collect(),
        });
        if metrics::set_global_recorder(FrameTap { inner, frames: frames.clone() }).is_err() {
            eprintln!("load_calls: a metrics recorder was already installed; frame times will be missing");
        }
        (handle, frames)
    }
}

impl Recorder for FrameTap {
    fn describe_counter(&self, key: KeyName, unit: Option<Unit>, description: SharedString) {
        self.inner.describe_counter(key, unit, description)
    }

    fn describe_gauge(&self, key: KeyName, unit: Option<Unit>, description: SharedString) {
        self.inner.describe_gauge(key, unit, description)
    }

    fn describe_histogram(&self, key: KeyName, unit: Option<Unit>, description: SharedString) {
        self.inner.describe_histogram(key, unit, description)
    }

    fn register_counter(&self, key: &Key, metadata: &Metadata<'_>) -> Counter {
        let prometheus = self.inner.register_counter(key, metadata);
        if key.name() == FRAMES_LATE_TOTAL {
            Counter::from_arc(Arc::new(TeeCounter { prometheus, frames: self.frames.clone() }))
        } else {
            prometheus
        }
    }

    fn register_gauge(&self, key: &Key, metadata: &Metadata<'_>) -> Gauge {
        self.inner.register_gauge(key, metadata)
    }

    fn register_histogram(&self, key: &Key, metadata: &Metadata<'_>) -> Histogram {
        let prometheus = self.inner.register_histogram(key, metadata);
        if key.name() == FRAME_SECONDS {
            Histogram::from_arc(Arc::new(TeeHistogram { prometheus, frames: self.frames.clone() }))
        } else {
            prometheus
        }
    }
}

/// Runs the server on 127.0.0.1:0, prints `PORT <n>`, and serves until its
/// standard input closes (the driver exits or drops it).
/// The Twilio auth token the server and the driver share (loopback only).
const LOAD_AUTH_TOKEN: &str = "load-calls-auth-token";

/// The telephony settings of the load server at `port`: signed webhooks and
/// streams as in production, limits raised past what the tool opens.
fn load_config(port: u16, idle_ms: &str) -> anyhow::Result<TelephonyConfig> {
    let public = format!("http://127.0.0.1:{port}");
    TelephonyConfig::from_lookup(|k| match k {
        "PUBLIC_URL" => Some(public.clone()),
        "TWILIO_AUTH_TOKEN" => Some(LOAD_AUTH_TOKEN.to_string()),
        "STREAM_IDLE_TIMEOUT_MS" => Some(idle_ms.to_string()),
        "MAX_MEDIA_STREAMS" | "MAX_MEDIA_STREAMS_PER_IP" | "MAX_CONCURRENT_CALLS" => Some("100000".to_string()),
        _ => None,
    })
    .map_err(anyhow::Error::msg)
}

async fn serve(db: PathBuf, (handle, frames): (PrometheusHandle, Arc<FrameTimes>), idle_ms: String, real: bool) -> anyhow::Result<()> {
    fluxion::observability::init_tracing(false);
    let store = Store::open(&DatabaseUrl::Sqlite(db)).await?;
    SeedData::demo(Vertical::Salone)?.load(&store, false).await?;
    // No L4 model whatever the environment says: the tool stays offline.
    let state = AppState::with_engines(Engines::with_llm(store, Channel::Chat, None).await?, Clock::System);
    let voice = VoiceConfig::from_env(RATE_HZ);
    let stt_prompt = agent::stt_prompt(state.engine().info());
    let kit = if real {
        real_speech::kit(stt_prompt)?
    } else {
        let speaker = Arc::new(Speaker::new(Arc::new(ConstantCostTts::new()), None, None));
        SpeechKit { stt: Arc::new(ConstantCostStt), speaker, vad: VadEngine::Webrtc, stt_prompt }
    };
    // As `Telephony::from_env` does: the greeting and fixed phrases are synthesised before the first call.
    let mut dialogue = state.engine().dialogue();
    let greeting = state.engine().start(&mut dialogue, "warm-up", None, state.clock.now()).await;
    for text in std::iter::once(greeting.as_str()).chain(phrases::ALL.iter().copied()) {
        kit.speaker.phrase(text, voice.sample_rate_hz).await.map_err(|e| anyhow::anyhow!("warm-up: {e}"))?;
    }
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0)).await?;
    let t = Telephony::new(state.clone(), load_config(listener.local_addr()?.port(), &idle_ms)?, voice, Ok(kit))?;
    let real = app::router(state).merge(telephony::router(t));
    let routes = Router::new()
        .route("/metrics", get(move || std::future::ready(handle.render())))
        .route("/load/frames", get(move || std::future::ready(frames.render())))
        .fallback_service(real);
    println!("PORT {}", listener.local_addr()?.port());
    std::io::stdout().flush()?;
    let stdin_closed = async {
        let _ = tokio::task::spawn_blocking(|| {
            let mut sink = Vec::new();
            let _ = std::io::stdin().read_to_end(&mut sink);
        })
        .await;
    };
    // All the tool's calls come from 127.0.0.1 (a provider's come from a
    // few addresses): the per-address connection cap and rate limit are
    // lifted, the header and body time limits stay.
    let guard = fluxion::guard::HttpGuard {
        max_connections: 100_000,
        max_connections_per_ip: 100_000,
        rate: None,
        ..fluxion::guard::HttpGuard::from_env()?
    };
    app::serve_guarded(listener, routes, &guard, stdin_closed).await?;
    Ok(())
}

// ---------------------------------------------------------------------------
// The driver (default mode).

#[derive(Debug, Clone, Copy)]
struct Options {
    calls: usize,
    secs: u64,
    ramp_secs: u64,
}

/// The server child, stopped when dropped.
struct Server {
    child: Child,
    port: u16,
    log: PathBuf,
}

impl Drop for Server {
    fn drop(&mut self) {
        drop(self.child.stdin.take());
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// CPU time (user + system) and memory of a process, from `/proc`.
#[derive(Debug, Clone, Copy)]
struct Sample {
    at: Instant,
    cpu_s: f64,
    rss_kb: u64,
    hwm_kb: u64,
}

fn clock_ticks() -> f64 {
    Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(100.0)
}

fn sample(pid: &str, ticks: f64) -> anyhow::Result<Sample> {
    let at = Instant::now();
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))?;
    // Fields after the command name in parentheses: state is field 3, utime 14, stime 15.
    let after = stat.rsplit_once(')').map(|(_, rest)| rest).context("odd /proc/PID/stat")?;
    let fields: Vec<&str> = after.split_whitespace().collect();
    let utime: f64 = fields.get(11).context("utime")?.parse()?;
    let stime: f64 = fields.get(12).context("stime")?.parse()?;
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    let kb = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.split_whitespace().next())
            .and_then(|v| v.parse().ok())
            .unwrap_or(0)
    };
    Ok(Sample { at, cpu_s: (utime + stime) / ticks, rss_kb: kb("VmRSS:"), hwm_kb: kb("VmHWM:") })
}

/// Busy and total CPU time of the whole machine, in clock ticks (`/proc/stat`).
fn machine_ticks() -> (u64, u64) {
    let stat = std::fs::read_to_string("/proc/stat").unwrap_or_default();
    let fields: Vec<u64> = stat.lines().next().unwrap_or_default().split_whitespace().skip(1).filter_map(|v| v.parse().ok()).collect();
    // user nice system idle iowait irq softirq steal (guest time is already in user).
    let total: u64 = fields.iter().take(8).sum();
    let idle = fields.get(3).copied().unwrap_or(0) + fields.get(4).copied().unwrap_or(0);
    (total.saturating_sub(idle), total)
}

/// The soft limit on open files of this process (children inherit it).
fn open_files_limit() -> Option<u64> {
    let limits = std::fs::read_to_string("/proc/self/limits").ok()?;
    let line = limits.lines().find(|l| l.starts_with("Max open files"))?;
    line.trim_start_matches("Max open files").split_whitespace().next()?.parse().ok()
}

/// A speech-like signal at 8000 Hz (the generator of core's VAD tests): a
/// voiced source with harmonics of a pitch gliding between 120 and 220 Hz,
/// shaped by three formant bands that move per syllable, amplitude-modulated
/// at 4.5 syllables per second, a little breath noise.
fn speech(ms: u64, peak: f32) -> Vec<i16> {
    use std::f32::consts::TAU;
    let n = (u64::from(RATE_HZ) * ms / 1000) as usize;
    let rate = RATE_HZ as f32;
    let mut phase = 0.0f32;
    let mut noise = 0x2545_f491u32;
    (0..n)
        .map(|i| {
            let t = i as f32 / rate;
            let f0 = 170.0 + 50.0 * (TAU * 0.7 * t).sin();
            phase = (phase + f0 / rate).fract();
            let (f1, f2, f3) = match (t * 4.5) as u32 % 3 {
                0 => (750.0, 1200.0, 2500.0),
                1 => (300.0, 2200.0, 2900.0),
                _ => (500.0, 900.0, 2400.0),
            };
            let mut voiced = 0.0;
            let mut k = 1.0;
            while k * f0 < 3800.0 {
                let f = k * f0;
                let gain = [(f1, 1.0), (f2, 0.6), (f3, 0.3)]
                    .iter()
                    .map(|&(formant, weight): &(f32, f32)| {
                        let d = (f - formant) / 120.0;
                        weight / (1.0 + d * d)
                    })
                    .sum::<f32>()
                    + 0.02;
                voiced += gain * (TAU * k * phase).sin();
                k += 1.0;
            }
            noise ^= noise << 13;
            noise ^= noise >> 17;
            noise ^= noise << 5;
            let breath = (noise as f32 / u32::MAX as f32) * 2.0 - 1.0;
            let envelope = 0.55 - 0.45 * (TAU * 4.5 * t).cos();
            (envelope * (voiced * 0.35 + 0.03 * breath) * peak).clamp(-32768.0, 32767.0) as i16
        })
        .collect()
}

/// The caller's audio as base64 μ-law payloads, one per 20 ms frame: a
/// lead silence, then one turn of speech per cycle followed by silence to
/// the end of the cycle. Call `n` says turn `(c + n) % turns` in cycle `c`.
/// The default: [`LEAD_SILENCE_MS`] of silence, then [`SPEECH_MS`] of
/// synthetic voice and [`PAUSE_MS`] of silence, repeating.
struct CallerAudio {
    silence: String,
    /// Each turn's frames.
    turns: Vec<Vec<String>>,
    lead_frames: u64,
    cycle_frames: u64,
}

impl CallerAudio {
    fn new() -> Self {
        Self::from_turns(&[speech(SPEECH_MS, 12_000.0)], LEAD_SILENCE_MS, SPEECH_MS + PAUSE_MS)
    }

    /// `turns` (PCM at [`RATE_HZ`]) one per `cycle_ms`, after `lead_ms` of silence.
    fn from_turns(turns: &[Vec<i16>], lead_ms: u64, cycle_ms: u64) -> Self {
        let turns = turns.iter().map(|pcm| pcm.chunks(FRAME_LEN).map(|f| B64.encode(g711::pcm_to_mulaw(f))).collect()).collect();
        CallerAudio {
            silence: B64.encode(g711::pcm_to_mulaw(&[0; FRAME_LEN])),
            turns,
            lead_frames: lead_ms / FRAME_MS,
            cycle_frames: (cycle_ms / FRAME_MS).max(1),
        }
    }

    /// Where frame `k` of call `call` falls: the turn said and the frame's
    /// index in it (`None` in the lead silence).
    fn position(&self, call: usize, k: u64) -> Option<(&[String], usize)> {
        let since = k.checked_sub(self.lead_frames)?;
        let cycle = (since / self.cycle_frames) as usize;
        let turn = self.turns.get((cycle + call) % self.turns.len().max(1))?;
        Some((turn, (since % self.cycle_frames) as usize))
    }

    /// Payload of frame `k` of call `call`.
    fn frame(&self, call: usize, k: u64) -> &str {
        self.position(call, k).and_then(|(turn, i)| turn.get(i)).map_or(self.silence.as_str(), String::as_str)
    }

    /// Whether frame `k` of call `call` is the last of a turn's speech.
    fn ends_turn(&self, call: usize, k: u64) -> bool {
        self.position(call, k).is_some_and(|(turn, i)| i + 1 == turn.len())
    }

    /// Share of speech frames and of silent frames the WebRTC VAD (as the
    /// server builds it) calls speech, after a μ-law round trip.
    fn vad_check(&self) -> anyhow::Result<(f64, f64)> {
        let mut vad = WebrtcVad::new(RATE_HZ, 20, Aggressiveness::default())?;
        let (lead, cycle) = (self.lead_frames, self.cycle_frames);
        let (mut speech, mut speech_hits, mut silence, mut silence_hits) = (0u32, 0u32, 0u32, 0u32);
        for k in 0..lead + 2 * cycle {
            let pcm = g711::mulaw_to_pcm(&B64.decode(self.frame(0, k))?);
            let hit = vad.is_speech(&pcm)?;
            if self.position(0, k).is_some_and(|(turn, i)| i < turn.len()) {
                speech += 1;
                speech_hits += u32::from(hit);
            } else {
                silence += 1;
                silence_hits += u32::from(hit);
            }
        }
        Ok((f64::from(speech_hits) / f64::from(speech), f64::from(silence_hits) / f64::from(silence.max(1))))
    }
}

/// What one simulated call saw.
#[derive(Debug, Default)]
struct CallStats {
    connected: bool,
    /// Every frame sent and the stream still open at the end.
    held: bool,
    /// The server closed the stream before the call's end (the agent hung up).
    ended_by_server: bool,
    error: Option<String>,
    frames_sent: u64,
    media_in: u64,
    marks_in: u64,
    clears_in: u64,
    marks_echoed: u64,
    /// 20 ms ticks that woke more than 20 ms behind the call's clock.
    late_ticks: u64,
    max_late_us: u64,
    /// The webhook gave the busy answer.
    refused: bool,
    /// Per answered turn: wall-clock ms from sending its last speech frame
    /// to the first agent audio after the reply's mark (the filler's own
    /// mark does not count).
    reply_ms: Vec<u64>,
    /// Turns whose reply had not begun by the end of the next turn's speech (or of the call).
    no_reply: u64,
    /// Fillers played ("Un attimo, controllo subito").
    fillers: u64,
    /// Replies that asked the caller to repeat (recognition failed or missed its deadline).
    repeats: u64,
}

/// Waiting for the reply to a turn that ended at a given moment.
#[derive(Debug, Clone, Copy)]
struct AwaitingReply {
    /// When its last speech frame was sent.
    since: Instant,
    /// The reply's mark has arrived: its audio is next.
    marked: bool,
}

/// Counters every call updates, for the steady-state samples.
#[derive(Default)]
struct Live {
    connected: AtomicUsize,
    active: AtomicUsize,
}

/// Event name of an outbound message without parsing all of it (`"event"`
/// occurs unescaped only as the key).
fn event_of(text: &str) -> &str {
    let Some(i) = text.find("\"event\"") else { return "" };
    let rest = text[i + 7..].trim_start();
    let Some(rest) = rest.strip_prefix(':').map(str::trim_start).and_then(|r| r.strip_prefix('"')) else { return "" };
    rest.split('"').next().unwrap_or("")
}

/// Sets up call `index` as Twilio does (signed webhook, signed upgrade) and
/// sends `connected` and `start`: the open stream and its stream id.
async fn set_up(index: usize, server: &str, http: &reqwest::Client) -> anyhow::Result<(dial::Stream, String, String)> {
    let call_sid = format!("CA{index:032x}");
    let stream_sid = format!("MZ{index:032x}");
    let facts = CallFacts { call_sid: call_sid.clone(), caller: Some(format!("+39349{:07}", index % 10_000_000)), called: None };
    let config = TelephonyConfig {
        public_url: Some(server.to_string()),
        twilio_auth_token: Some(LOAD_AUTH_TOKEN.to_string()),
        ..TelephonyConfig::default()
    };
    let ticket = dial::answer(http, server, &config, Provider::Twilio, &facts).await.context("webhook")?;
    let mut ws = dial::connect(&ticket).await.context("connect")?;
    let custom: serde_json::Map<String, serde_json::Value> = ticket.params.iter().map(|(k, v)| (k.clone(), json!(v))).collect();
    let connected = json!({"event": "connected", "protocol": "Call", "version": "1.0.0"}).to_string();
    let start = json!({
        "event": "start", "sequenceNumber": "1", "streamSid": stream_sid,
        "start": {
            "accountSid": "ACloadcalls", "streamSid": stream_sid, "callSid": call_sid, "tracks": ["inbound"],
            "customParameters": custom,
            "mediaFormat": {"encoding": "audio/x-mulaw", "sampleRate": RATE_HZ, "channels": 1}
        }
    })
    .to_string();
    ws.send(Message::Text(connected.into())).await.context("start")?;
    ws.send(Message::Text(start.into())).await.context("start")?;
    Ok((ws, call_sid, stream_sid))
}

/// One Twilio call: `connected`, `start`, a `media` frame every 20 ms for
/// `frames` frames, then `stop`. The agent's audio is "played" one frame per
/// tick; its marks are echoed once the audio sent before them has played, or
/// at once on a `clear`, as Twilio does.
async fn call(index: usize, server: String, frames: u64, audio: Arc<CallerAudio>, live: Arc<Live>, http: reqwest::Client) -> CallStats {
    let mut st = CallStats::default();
    let (ws, call_sid, stream_sid) = match set_up(index, &server, &http).await {
        Ok(opened) => opened,
        Err(e) => {
            let message = format!("{e:#}");
            st.refused = message.contains("without a stream") && message.contains("<Say");
            st.error = Some(message);
            return st;
        }
    };
    let mut awaiting: Option<AwaitingReply> = None;
    st.connected = true;
    live.connected.fetch_add(1, Ordering::Relaxed);
    live.active.fetch_add(1, Ordering::Relaxed);
    let (mut tx, mut rx) = ws.split();
    let mut seq = 1u64;
    let clock = tokio::time::Instant::now();
    let mut ticker = tokio::time::interval_at(clock, Duration::from_millis(FRAME_MS));
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    let (mut received, mut played) = (0u64, 0u64);
    let mut marks: VecDeque<(u64, String)> = VecDeque::new();
    let mark = |seq: u64, name: &str| {
        json!({"event": "mark", "streamSid": stream_sid, "sequenceNumber": seq.to_string(), "mark": {"name": name}}).to_string()
    };
    let result: anyhow::Result<()> = async {
        loop {
            tokio::select! {
                _ = ticker.tick() => {
                    let due = Duration::from_millis(FRAME_MS * st.frames_sent);
                    let late = clock.elapsed().saturating_sub(due);
                    if late > Duration::from_millis(FRAME_MS) {
                        st.late_ticks += 1;
                    }
                    st.max_late_us = st.max_late_us.max(late.as_micros() as u64);
                    // Play 20 ms of the agent's audio, then answer the marks it reached.
                    if played < received {
                        played += 1;
                    }
                    while marks.front().is_some_and(|(at, _)| *at <= played) {
                        if let Some((_, name)) = marks.pop_front() {
                            seq += 1;
                            tx.send(Message::Text(mark(seq, &name).into())).await?;
                            st.marks_echoed += 1;
                        }
                    }
                    if st.frames_sent == frames {
                        st.no_reply += u64::from(awaiting.is_some());
                        return Ok(());
                    }
                    seq += 1;
                    let k = st.frames_sent;
                    let message = format!(
                        r#"{{"event":"media","sequenceNumber":"{seq}","streamSid":"{stream_sid}","media":{{"track":"inbound","chunk":"{}","timestamp":"{}","payload":"{}"}}}}"#,
                        k + 1,
                        k * FRAME_MS,
                        audio.frame(index, k)
                    );
                    tx.send(Message::Text(message.into())).await?;
                    st.frames_sent += 1;
                    if audio.ends_turn(index, k) {
                        st.no_reply += u64::from(awaiting.is_some());
                        awaiting = Some(AwaitingReply { since: Instant::now(), marked: false });
                    }
                }
                message = rx.next() => match message {
                    Some(Ok(Message::Text(text))) => match event_of(&text) {
                        "media" => {
                            st.media_in += 1;
                            received += 1;
                            if let Some(a) = awaiting.filter(|a| a.marked) {
                                st.reply_ms.push(a.since.elapsed().as_millis() as u64);
                                awaiting = None;
                            }
                        }
                        "mark" => {
                            st.marks_in += 1;
                            let v: serde_json::Value = serde_json::from_str(&text)?;
                            let name = v.pointer("/mark/name").and_then(|n| n.as_str()).unwrap_or_default().to_string();
                            // "say-N: text": the session starts saying `text`.
                            let said = name.split_once(": ").map_or("", |(_, text)| text);
                            if said == phrases::FILLER {
                                st.fillers += 1;
                            } else if let Some(a) = awaiting.as_mut() {
                                a.marked = true;
                                st.repeats += u64::from(said == phrases::REPEAT);
                            }
                            marks.push_back((received, name));
                        }
                        "clear" => {
                            st.clears_in += 1;
                            played = received;
                            while let Some((_, name)) = marks.pop_front() {
                                seq += 1;
                                tx.send(Message::Text(mark(seq, &name).into())).await?;
                                st.marks_echoed += 1;
                            }
                        }
                        _ => {}
                    },
                    Some(Ok(Message::Close(_))) | None => {
                        st.ended_by_server = true;
                        return Ok(());
                    }
                    Some(Ok(_)) => {}
                    Some(Err(e)) => anyhow::bail!("receive: {e}"),
                },
            }
        }
    }
    .await;
    if let Err(e) = result {
        st.error = Some(e.to_string());
    }
    st.held = st.error.is_none() && !st.ended_by_server && st.frames_sent == frames;
    live.active.fetch_sub(1, Ordering::Relaxed);
    if !st.ended_by_server {
        seq += 1;
        let stop = json!({"event": "stop", "streamSid": stream_sid, "sequenceNumber": seq.to_string(), "stop": {"accountSid": "ACloadcalls", "callSid": call_sid}});
        let _ = tx.send(Message::Text(stop.to_string().into())).await;
        let _ = tx.close().await;
        // Whatever was in flight, until the server closes its side.
        let _ = tokio::time::timeout(Duration::from_secs(5), async {
            while let Some(Ok(m)) = rx.next().await {
                if matches!(&m, Message::Text(t) if event_of(t) == "media") {
                    st.media_in += 1;
                }
            }
        })
        .await;
    }
    st
}

fn start_server(db: &Path, idle_timeout_ms: u64, real_speech: bool) -> anyhow::Result<Server> {
    let log = std::env::temp_dir().join(format!("load_calls-server-{}.log", std::process::id()));
    let mut child = Command::new(std::env::current_exe()?)
        .args(["--serve", "--idle-timeout-ms", &idle_timeout_ms.to_string(), "--db"])
        .arg(db)
        .args(real_speech.then_some("--real-speech"))
        .env("NO_COLOR", "1")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(std::fs::File::create(&log)?)
        .spawn()
        .context("starting the server process")?;
    let stdout = child.stdout.take().context("server stdout")?;
    let mut server = Server { child, port: 0, log };
    let mut line = String::new();
    BufReader::new(stdout).read_line(&mut line)?;
    server.port = line
        .trim()
        .strip_prefix("PORT ")
        .and_then(|p| p.parse().ok())
        .with_context(|| format!("the server did not print its port (got {line:?}); see {}", server.log.display()))?;
    Ok(server)
}

fn metric(text: &str, name: &str) -> Option<f64> {
    text.lines().filter(|l| !l.starts_with('#')).find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.trim().parse().ok())
}

/// Bounds of quantile `q` from the Prometheus histogram `name`: the bucket
/// edges it falls between, seconds.
fn bucket_bounds(text: &str, name: &str, q: f64) -> Option<(f64, f64)> {
    let prefix = format!("{name}_bucket{{le=\"");
    let buckets: Vec<(f64, f64)> = text
        .lines()
        .filter_map(|l| {
            let rest = l.strip_prefix(&prefix)?;
            let (le, count) = rest.split_once("\"}")?;
            let le = if le == "+Inf" { f64::INFINITY } else { le.parse().ok()? };
            Some((le, count.trim().parse().ok()?))
        })
        .collect();
    let total = buckets.last()?.1;
    let target = (total * q).ceil().max(1.0);
    let mut lower = 0.0;
    for (le, count) in buckets {
        if count >= target {
            return Some((lower, le));
        }
        lower = le;
    }
    None
}

fn kv(text: &str, name: &str) -> u64 {
    text.lines().find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.trim().parse().ok()).unwrap_or(0)
}

async fn drive(o: Options) -> anyhow::Result<()> {
    println!("load_calls: {} simulated Twilio calls, {} s of call time each, opened over {} s", o.calls, o.secs, o.ramp_secs);
    println!(
        "STAND-INS: speech-to-text and text-to-speech are constant-cost stand-ins, not real engines (ConstantCostStt: real resampler \
         8->16 kHz, then {STT_COST_MS} ms and a fixed line {STT_LINE:?}; ConstantCostTts: {TTS_COST_MS} ms, then {TTS_SENTENCE_MS} ms of \
         440 Hz at {TTS_RATE_HZ} Hz per sentence)."
    );
    println!(
        "REAL: the server process, loopback TCP and WebSocket, the media-stream handler, the Twilio codec (JSON, base64), G.711 mu-law, \
         the WebRTC VAD, the endpointer, the voice session (turns, barge-in, silence), the receptionist (NLU L0-L3, dialogue, SQLite; no \
         L4 model), playback pacing, the Speaker (phrase cache, 16->8 kHz resampler) and the resampler inside the STT stand-in."
    );
    let needed = o.calls as u64 + 256;
    match open_files_limit() {
        Some(limit) if limit < needed => {
            anyhow::bail!(
                "the open-files limit is {limit}, {needed} are needed for {} calls: run `ulimit -n {needed}` (or higher) first",
                o.calls
            )
        }
        Some(limit) => println!("open-files limit {limit} (enough for {} calls)", o.calls),
        None => println!("open-files limit unknown (need about {needed})"),
    }
    let audio = Arc::new(CallerAudio::new());
    let (speech_hit, silence_hit) = audio.vad_check()?;
    println!(
        "caller audio: {LEAD_SILENCE_MS} ms of silence, then {SPEECH_MS} ms of synthetic voice + {PAUSE_MS} ms of silence, repeating; \
         WebRTC VAD (8 kHz, 20 ms, default aggressiveness) after mu-law: {:.0}% of voice frames and {:.0}% of silent frames are speech",
        speech_hit * 100.0,
        silence_hit * 100.0
    );

    let dir = tempfile::tempdir()?;
    let db = dir.path().join("load.db");
    let started = Instant::now();
    let server = start_server(&db, 30_000, false)?;
    let pid = server.child.id().to_string();
    let ticks = clock_ticks();
    println!("server: pid {pid}, port {}, ready in {:.1} s; log {}", server.port, started.elapsed().as_secs_f64(), server.log.display());
    tokio::time::sleep(Duration::from_secs(1)).await;
    let idle_from = machine_ticks();
    tokio::time::sleep(Duration::from_secs(1)).await;
    let idle_to = machine_ticks();
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get()) as f64;
    let busy_before = (idle_to.0 - idle_from.0) as f64 / (idle_to.1 - idle_from.1).max(1) as f64 * cores;
    println!("machine CPU busy before the calls: {busy_before:.2} of {cores:.0} cores (other processes; should be near 0 for a clean measurement)");
    let baseline = sample(&pid, ticks)?;
    let me_baseline = sample("self", ticks)?;
    println!("server baseline: RSS {:.1} MB", baseline.rss_kb as f64 / 1024.0);

    let url = format!("http://127.0.0.1:{}", server.port);
    let http = reqwest::Client::new();
    let frames = o.secs * 1000 / FRAME_MS;
    let live = Arc::new(Live::default());
    let t0 = tokio::time::Instant::now();
    let t0_unix_ms = unix_ms();
    let mut tasks = Vec::with_capacity(o.calls);
    let spawner = {
        let (audio, live, url, http) = (audio.clone(), live.clone(), url.clone(), http.clone());
        tokio::spawn(async move {
            for i in 0..o.calls {
                let at = t0 + Duration::from_secs_f64(o.ramp_secs as f64 * i as f64 / o.calls as f64);
                tokio::time::sleep_until(at).await;
                tasks.push(tokio::spawn(call(i, url.clone(), frames, audio.clone(), live.clone(), http.clone())));
            }
            tasks
        })
    };

    // Steady state: from 2 s after every call is up to 1 s before the first one ends.
    let ramp_end = t0 + Duration::from_secs(o.ramp_secs);
    tokio::time::sleep_until(ramp_end).await;
    let up_deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while live.connected.load(Ordering::Relaxed) < o.calls && tokio::time::Instant::now() < up_deadline {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let all_up = t0.elapsed();
    tokio::time::sleep(Duration::from_secs(2)).await;
    let window_start = sample(&pid, ticks)?;
    let me_start = sample("self", ticks)?;
    let machine_start = machine_ticks();
    let metrics_url = format!("http://127.0.0.1:{}/metrics", server.port);
    let scrape_start = reqwest::get(&metrics_url).await?.text().await?;
    let active_start = live.active.load(Ordering::Relaxed);
    let first_end = t0 + Duration::from_secs(o.secs) - Duration::from_secs(1);
    let window_end_at = first_end.max(tokio::time::Instant::now() + Duration::from_secs(1));
    tokio::time::sleep_until(window_end_at).await;
    let window_end = sample(&pid, ticks)?;
    let me_end = sample("self", ticks)?;
    let machine_end = machine_ticks();
    let scrape_end = reqwest::get(&metrics_url).await?.text().await?;
    let active_end = live.active.load(Ordering::Relaxed);

    let tasks = spawner.await?;
    let mut stats = Vec::with_capacity(tasks.len());
    for t in tasks {
        stats.push(t.await?);
    }
    let wall = t0.elapsed();
    // Let the server record the last calls.
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    let final_sample = sample(&pid, ticks)?;
    let prometheus = reqwest::get(format!("http://127.0.0.1:{}/metrics", server.port)).await?.text().await?;
    let frame_times = reqwest::get(format!("http://127.0.0.1:{}/load/frames", server.port)).await?.text().await?;
    let store = Store::open(&DatabaseUrl::Sqlite(db.clone())).await?;
    let tenant = store.default_tenant().await?.context("no business")?;
    // (reason, outcome) → (calls, turns), most frequent first.
    let mut by_end: std::collections::HashMap<(String, String), (i64, i64)> = std::collections::HashMap::new();
    for c in tenant.recent_calls(u32::MAX).await? {
        let reason = c.hangup_reason.map_or("(still open)", |r| r.as_str()).to_string();
        let outcome = c.outcome.map_or("-", |o| o.as_str()).to_string();
        let e = by_end.entry((reason, outcome)).or_default();
        e.0 += 1;
        e.1 += c.turns;
    }
    let mut rows: Vec<_> = by_end.into_iter().collect();
    rows.sort_by_key(|r| std::cmp::Reverse(r.1 .0));
    let log = std::fs::read_to_string(&server.log).unwrap_or_default();
    let (warns, errors) = (log.lines().filter(|l| l.contains(" WARN ")).count(), log.lines().filter(|l| l.contains(" ERROR ")).count());
    drop(server);

    // Report.
    let n = o.calls as f64;
    let connected = stats.iter().filter(|s| s.connected).count();
    let held: Vec<&CallStats> = stats.iter().filter(|s| s.held).collect();
    let ended = stats.iter().filter(|s| s.ended_by_server).count();
    let errors_calls: Vec<&str> = stats.iter().filter_map(|s| s.error.as_deref()).collect();
    let per_held = |f: fn(&CallStats) -> u64| held.iter().map(|s| f(s)).sum::<u64>() as f64 / held.len().max(1) as f64;
    let late_server = metric(&prometheus, FRAMES_LATE_TOTAL).unwrap_or(0.0);
    let frame_count = metric(&prometheus, &format!("{FRAME_SECONDS}_count")).unwrap_or(0.0);
    let window_s = window_end.at.duration_since(window_start.at).as_secs_f64();
    let cpu = (window_end.cpu_s - window_start.cpu_s) / window_s.max(1e-9);
    let me_cpu = (me_end.cpu_s - me_start.cpu_s) / window_s.max(1e-9);
    let held_samples = metric(&scrape_end, &format!("{FRAME_SECONDS}_count")).unwrap_or(0.0)
        - metric(&scrape_start, &format!("{FRAME_SECONDS}_count")).unwrap_or(0.0);
    let machine_busy = (machine_end.0 - machine_start.0) as f64 / (machine_end.1 - machine_start.1).max(1) as f64 * cores;
    let active = active_start.min(active_end).max(1) as f64;
    let rss_per_call = (window_end.rss_kb.saturating_sub(baseline.rss_kb)) as f64 / 1024.0 / active;
    let hwm_per_call = (final_sample.hwm_kb.saturating_sub(baseline.rss_kb)) as f64 / 1024.0 / n;
    let late_ticks: u64 = stats.iter().map(|s| s.late_ticks).sum();
    let max_late_ms = stats.iter().map(|s| s.max_late_us).max().unwrap_or(0) as f64 / 1000.0;
    let sent: u64 = stats.iter().map(|s| s.frames_sent).sum();
    let bounds = |q| {
        bucket_bounds(&prometheus, FRAME_SECONDS, q)
            .map(|(lo, hi)| format!("{:.0}-{:.0} µs", lo * 1e6, hi * 1e6))
            .unwrap_or_else(|| "n/a".to_string())
    };

    println!();
    println!("== results ({:.1} s wall) ==", wall.as_secs_f64());
    println!("calls requested                 {}", o.calls);
    println!("calls connected                 {connected}");
    println!("calls held to the end           {} ({} ended early by the agent, {} with errors)", held.len(), ended, errors_calls.len());
    if let Some(e) = errors_calls.first() {
        println!("  first error: {e}");
    }
    println!(
        "calls live in the window        {active_start} at its start, {active_end} at its end ({:.1} s, from {:.1} s after the first call)",
        window_s,
        (all_up + Duration::from_secs(2)).as_secs_f64()
    );
    println!("caller frames sent              {sent} ({:.0} per call)", sent as f64 / n);
    println!(
        "agent frames received per call  {:.0} media, {:.1} marks (echoed {:.1}), {:.2} clears",
        per_held(|s| s.media_in),
        per_held(|s| s.marks_in),
        per_held(|s| s.marks_echoed),
        per_held(|s| s.clears_in)
    );
    println!("frames late (server, >20 ms behind the call's clock)  {late_server:.0} of {frame_count:.0} frames handled");
    let late_in = |text: &str| metric(text, FRAMES_LATE_TOTAL).unwrap_or(0.0);
    let handled_in = |text: &str| metric(text, &format!("{FRAME_SECONDS}_count")).unwrap_or(0.0);
    println!(
        "  in the steady window          {:.0} of {:.0} frames late; before it (ramp-up) {:.0} of {:.0}",
        late_in(&scrape_end) - late_in(&scrape_start),
        handled_in(&scrape_end) - handled_in(&scrape_start),
        late_in(&scrape_start),
        handled_in(&scrape_start)
    );
    println!(
        "per-frame processing (server)   p50 {} µs, p90 {} µs, p99 {} µs, p99.9 {} µs, max {:.0} µs (1 µs bins, upper edge; {} frames)",
        kv(&frame_times, "p50_us"),
        kv(&frame_times, "p90_us"),
        kv(&frame_times, "p99_us"),
        kv(&frame_times, "p999_us"),
        kv(&frame_times, "max_ns") as f64 / 1000.0,
        kv(&frame_times, "count")
    );
    println!("  same from /metrics buckets    p50 in {}, p99 in {}", bounds(0.5), bounds(0.99));
    println!(
        "server CPU (steady state)       {:.1}% of one core = {:.3}% of a core per call ({:.0} µs of CPU per call-second)",
        cpu * 100.0,
        cpu * 100.0 / active,
        cpu * 1e6 / active
    );
    println!(
        "server memory                   RSS {:.1} MB baseline, {:.1} MB with {active_end} calls live: {:.3} MB per call; peak {:.1} MB ({:.3} MB per call)",
        baseline.rss_kb as f64 / 1024.0,
        window_end.rss_kb as f64 / 1024.0,
        rss_per_call,
        final_sample.hwm_kb as f64 / 1024.0,
        hwm_per_call
    );
    println!(
        "  frame-time samples recorded in the window: {:.0} (~{:.1} MB if held; folded into buckets every 5 s)",
        held_samples,
        held_samples * 8.0 / 1e6
    );
    println!(
        "driver (this process, same 2 cores): CPU {:.1}% of one core in the window; send ticks >20 ms late {late_ticks} of {sent}, worst {max_late_ms:.1} ms",
        me_cpu * 100.0
    );
    println!("  driver CPU over the whole run {:.1} s", me_end.cpu_s - me_baseline.cpu_s);
    println!(
        "machine CPU busy in the window  {:.2} of {cores:.0} cores (server {:.2}, driver {:.2}, everything else incl. kernel {:.2})",
        machine_busy,
        cpu,
        me_cpu,
        (machine_busy - cpu - me_cpu).max(0.0)
    );
    println!("calls table (server):");
    for ((reason, outcome), (n, turns)) in rows {
        println!("  {reason:<16} {outcome:<14} {n:>6} calls, {turns:>6} turns");
    }
    let timeline = |name: &str| -> Vec<u64> {
        frame_times
            .lines()
            .find_map(|l| l.strip_prefix(name)?.strip_prefix(' '))
            .map(|v| v.split_whitespace().filter_map(|c| c.parse().ok()).collect())
            .unwrap_or_default()
    };
    let (late_s, slow_s) = (timeline("late_by_s"), timeline("slow_by_s"));
    let offset_s = (kv(&frame_times, "base_unix_ms") as i64 - t0_unix_ms as i64) as f64 / 1000.0;
    let marks: Vec<String> = (0..late_s.len().max(slow_s.len()))
        .filter_map(|i| {
            let (late, slow) = (late_s.get(i).copied().unwrap_or(0), slow_s.get(i).copied().unwrap_or(0));
            (late + slow > 0).then(|| format!("{:+.0}s {late}/{slow}", i as f64 + offset_s))
        })
        .collect();
    println!(
        "late / slow (>{} ms) frames per second since the first call: {}",
        SLOW_FRAME_NS / 1_000_000,
        if marks.is_empty() { "none".to_string() } else { marks.join(", ") }
    );
    println!("server log: {warns} WARN and {errors} ERROR lines");
    let goal = held.len() >= o.calls && late_server == 0.0 && rss_per_call < 2.0;
    println!("goal (all {} calls held, no late frames, < 2 MB per call): {}", o.calls, if goal { "MET" } else { "NOT MET" });
    Ok(())
}

// ---------------------------------------------------------------------------
// `--idle N`: streams that send `start` and then nothing.

/// What one idle stream saw: when its `start` went out and when the server
/// closed it, or the error that stopped it.
type IdleOutcome = Result<(Instant, Instant), String>;

async fn idle_stream(index: usize, server: String, http: reqwest::Client, started: Arc<AtomicUsize>, guard: Duration) -> IdleOutcome {
    let (mut ws, _, _) = set_up(index, &server, &http).await.map_err(|e| format!("{e:#}"))?;
    let sent = Instant::now();
    started.fetch_add(1, Ordering::Relaxed);
    let closed = tokio::time::timeout(guard, async {
        while let Some(message) = ws.next().await {
            if matches!(message, Ok(Message::Close(_)) | Err(_)) {
                break;
            }
        }
    })
    .await;
    match closed {
        Ok(()) => Ok((sent, Instant::now())),
        Err(_) => Err(format!("still open {} s after start", guard.as_secs())),
    }
}

async fn idle_streams(n: usize, idle_ms: u64) -> anyhow::Result<()> {
    println!("load_calls --idle: {n} Twilio streams set up through the signed webhook that send `start` and then nothing; server STREAM_IDLE_TIMEOUT_MS={idle_ms}");
    println!("STAND-INS: speech engines as in the default mode (constant-cost); they are not exercised: no caller audio arrives.");
    let needed = n as u64 + 256;
    if let Some(limit) = open_files_limit().filter(|l| *l < needed) {
        anyhow::bail!("the open-files limit is {limit}, {needed} are needed: run `ulimit -n {needed}` first");
    }
    let dir = tempfile::tempdir()?;
    let db = dir.path().join("idle.db");
    let server = start_server(&db, idle_ms, false)?;
    let pid = server.child.id().to_string();
    let ticks = clock_ticks();
    tokio::time::sleep(Duration::from_secs(1)).await;
    let baseline = sample(&pid, ticks)?;
    println!("server: pid {pid}, port {}; baseline RSS {:.1} MB", server.port, baseline.rss_kb as f64 / 1024.0);

    let url = format!("http://127.0.0.1:{}", server.port);
    let http = reqwest::Client::new();
    let started = Arc::new(AtomicUsize::new(0));
    let guard = Duration::from_millis(idle_ms * 3) + Duration::from_secs(60);
    let t0 = Instant::now();
    let tasks: Vec<_> = (0..n).map(|i| tokio::spawn(idle_stream(i, url.clone(), http.clone(), started.clone(), guard))).collect();
    let up_deadline = Instant::now() + Duration::from_secs(60);
    while started.load(Ordering::Relaxed) < n && Instant::now() < up_deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let all_started = t0.elapsed();
    let open = sample(&pid, ticks)?;
    let mut outcomes = Vec::with_capacity(n);
    for t in tasks {
        outcomes.push(t.await?);
    }
    let all_closed = t0.elapsed();
    // Let the server record the calls and release their memory.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let after = sample(&pid, ticks)?;
    let store = Store::open(&DatabaseUrl::Sqlite(db.clone())).await?;
    let tenant = store.default_tenant().await?.context("no business")?;
    let mut by_end: std::collections::BTreeMap<String, usize> = std::collections::BTreeMap::new();
    for c in tenant.recent_calls(u32::MAX).await? {
        let outcome = c.outcome.map_or("(still open)", |o| o.as_str());
        *by_end.entry(format!("{} / {outcome}", c.hangup_reason.map_or("-", |r| r.as_str()))).or_default() += 1;
    }
    drop(server);

    let closed: Vec<Duration> =
        outcomes.iter().filter_map(|o| o.as_ref().ok()).map(|(sent, closed)| closed.duration_since(*sent)).collect();
    let errors: Vec<&String> = outcomes.iter().filter_map(|o| o.as_ref().err()).collect();
    let idle = Duration::from_millis(idle_ms);
    let within = |slack_ms: u64| closed.iter().filter(|d| **d <= idle + Duration::from_millis(slack_ms)).count();
    let (min, max) = (closed.iter().min().copied().unwrap_or_default(), closed.iter().max().copied().unwrap_or_default());
    let mb = |kb: u64| kb as f64 / 1024.0;
    println!();
    println!("== results ==");
    println!("streams started                 {} of {n} in {:.1} s", started.load(Ordering::Relaxed), all_started.as_secs_f64());
    println!("streams closed by the server    {} ({} errors)", closed.len(), errors.len());
    if let Some(e) = errors.first() {
        println!("  first error: {e}");
    }
    println!(
        "close after start               min {:.2} s, max {:.2} s; within the idle timeout + 1 s: {}, + 5 s: {} (all closed {:.1} s after the first start)",
        min.as_secs_f64(),
        max.as_secs_f64(),
        within(1_000),
        within(5_000),
        all_closed.as_secs_f64()
    );
    println!(
        "server RSS                      baseline {:.1} MB, {:.1} MB with the streams open ({:.3} MB per stream), {:.1} MB after they closed ({:+.1} MB vs baseline); peak {:.1} MB",
        mb(baseline.rss_kb),
        mb(open.rss_kb),
        (mb(open.rss_kb) - mb(baseline.rss_kb)) / n.max(1) as f64,
        mb(after.rss_kb),
        mb(after.rss_kb) - mb(baseline.rss_kb),
        mb(after.hwm_kb)
    );
    println!("calls table (hang-up reason / outcome):");
    for (end, count) in &by_end {
        println!("  {end:<32} {count:>6}");
    }
    let goal = closed.len() == n && within(5_000) == n && after.rss_kb.saturating_sub(baseline.rss_kb) < 50 * 1024;
    println!(
        "goal (all {n} closed within the idle timeout + 5 s, RSS back within 50 MB of baseline): {}",
        if goal { "MET" } else { "NOT MET" }
    );
    Ok(())
}
