//! End-to-end latency of the offline voice loop: from the end of the
//! caller's speech to the first reply audio ready to play, measured on the
//! real components of a call:
//!
//! - the caller speaks the booking conversation, synthesised by
//!   espeak-ng and resampled to 8000 Hz;
//! - the voice session (`start_call`, driven by `simulate`) segments it
//!   with the VAD the server would choose (Silero when its model is in
//!   `FLUXION_MODELS_DIR`, WebRTC otherwise; `--vad webrtc|silero` forces
//!   one) and the endpointer (semantic end of turn, 500 ms by default);
//! - whisper.cpp (`WhisperStt`) decodes every turn;
//! - the receptionist (`EngineAgent`: NLU L0–L3 and the dialogue, no L4)
//!   answers over a fresh seeded SQLite database per call;
//! - espeak-ng speaks the reply through the `Speaker`.
//!
//! With a Whisper model in `FLUXION_MODELS_DIR` (the real base-q5_1 in
//! `../shared/models` on these machines) the real model is measured: the
//! transcripts are real and the dialogue books. Without one, models are
//! generated with Whisper's real tiny and base shapes
//! (`speech::ggml::write_model`): the decode does the real amount of work per
//! token, but the transcripts are gibberish. The voice settings are the
//! defaults, so the recognition deadline follows the engine's measured speed
//! and a deadline miss is counted. Each model runs N calls with a fresh
//! phrase cache (the fixed phrases and the greeting are synthesised at call
//! start) and N with a warm one, interleaved.
//!
//! Two ways to play the caller (see `voice::simulate`):
//! - turn-taking (default): the caller's frames go as fast as the session
//!   takes them and wait while the agent thinks or speaks, so the
//!   end-of-turn silence costs no wall-clock time and a speculative decode
//!   started in it gets no head start;
//! - `--realtime`: one 20 ms frame every 20 ms as on a phone line, the
//!   lines 8 s apart after the greeting, so the silence after the last word
//!   is waited on the wall clock while the speculative decode runs: what a
//!   caller lives through.
//!
//! `--long-turn` makes the first line about 8 s long (a turn of the longest
//! normal length: it must never miss the recognition deadline).
//!
//! `cargo run --release -p fluxion --example voice_e2e [-- --calls N] [--realtime] [--long-turn] [--vad ENGINE]`
//! (default 5 calls). Prints p50/p95/max per shape and cache state, in ms.

use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use anyhow::Context;
use fluxion::app::{AppState, Engines};
use fluxion::cli::voice::convert_rate;
use fluxion::clock::{parse_now, Clock};
use fluxion::seed::SeedData;
use fluxion::speech::espeak::{EspeakTts, ESPEAK_RATE_HZ};
use fluxion::speech::ggml::{write_model, WhisperShape};
use fluxion::speech::speaker::Speaker;
use fluxion::speech::{models, models_dir, vad_engine, vad_for};
use fluxion::store::{DatabaseUrl, Store};
use fluxion::voice::simulate::{simulate, SimulateOptions};
use fluxion::voice::{agent, phrases, start_call, Agent, EngineAgent, TurnTiming, VoiceConfig, VoiceDeps};
use fluxion_core::audio::vad::VadEngine;
use fluxion_core::booking::{Channel, Vertical};
use fluxion_core::speech::stt::{FinishEstimate, SpeechToText, SttError, SttRequest, SttStream, Transcript};
use fluxion_core::speech::tts::synthesize_all;
use fluxion_core::speech::BoxFuture;

/// The booking conversation, one caller turn per line.
const LINES: [&str; 3] = ["Buongiorno, vorrei prenotare un taglio per giovedì alle quindici", "Mi chiamo Mario Bianchi", "sì"];

/// The first line with `--long-turn`: about 8 s of espeak-ng speech.
const LONG_FIRST_LINE: &str = "Buongiorno, sono Mario Bianchi e vorrei prenotare un taglio donna per giovedì pomeriggio alle quindici, \
se possibile con Giulia, perché l'ultima volta mi sono trovata molto bene, grazie";

/// Caller silence between lines in `--realtime` mode, ms: the reply fits in it.
const REALTIME_GAP_MS: u32 = 8_000;

/// Call audio rate, Hz (a G.711 phone line).
const RATE_HZ: u32 = 8_000;

/// Wednesday 10 March 2027, 10:00 in Rome, as in the integration tests.
const NOW: &str = "2027-03-10T10:00:00";

/// Caller ID, as in the voice integration tests.
const CALLER: &str = "+393401234567";

/// What a recogniser returned for one utterance: the text, or the error.
type Heard = Arc<Mutex<Vec<Result<String, String>>>>;

/// A recogniser that passes everything through to `inner` and keeps what it
/// returned (the session drops empty transcripts without a turn timing).
struct Recorder {
    inner: Arc<dyn SpeechToText>,
    heard: Heard,
}

impl SpeechToText for Recorder {
    fn name(&self) -> &str {
        self.inner.name()
    }

    fn start<'a>(&'a self, request: &'a SttRequest) -> BoxFuture<'a, Result<Box<dyn SttStream>, SttError>> {
        Box::pin(async move {
            let inner = self.inner.start(request).await?;
            Ok(Box::new(RecordedStream { inner, heard: self.heard.clone() }) as Box<dyn SttStream>)
        })
    }

    fn finish_estimate(&self, audio_ms: u64) -> Option<FinishEstimate> {
        self.inner.finish_estimate(audio_ms)
    }
}

struct RecordedStream {
    inner: Box<dyn SttStream>,
    heard: Heard,
}

impl SttStream for RecordedStream {
    fn push<'a>(&'a mut self, pcm: &'a [i16]) -> BoxFuture<'a, Result<(), SttError>> {
        self.inner.push(pcm)
    }

    fn interim(&self) -> Option<String> {
        self.inner.interim()
    }

    fn finish(self: Box<Self>) -> BoxFuture<'static, Result<Transcript, SttError>> {
        let RecordedStream { inner, heard } = *self;
        let decode = inner.finish();
        Box::pin(async move {
            let result = decode.await;
            if let Ok(mut heard) = heard.lock() {
                heard.push(result.as_ref().map(|t| t.text.clone()).map_err(|e| e.to_string()));
            }
            result
        })
    }
}

/// whisper.cpp on the model at `path`, and the threads one decode uses.
#[cfg(feature = "whisper")]
fn load_whisper(path: &Path) -> anyhow::Result<(Arc<dyn SpeechToText>, usize)> {
    let stt = fluxion::speech::whisper::WhisperStt::load(path)?;
    let threads = stt.threads();
    Ok((Arc::new(stt), threads))
}

#[cfg(not(feature = "whisper"))]
fn load_whisper(_path: &Path) -> anyhow::Result<(Arc<dyn SpeechToText>, usize)> {
    anyhow::bail!("this example needs the `whisper` feature (on by default)")
}

/// `text` spoken by espeak-ng at `rate_hz`, leading and trailing silence trimmed.
async fn speech(tts: &EspeakTts, text: &str, rate_hz: u32) -> anyhow::Result<Vec<i16>> {
    let pcm = synthesize_all(tts, text).await?;
    let pcm = convert_rate(&pcm, ESPEAK_RATE_HZ, rate_hz)?;
    let loud = |s: &i16| s.unsigned_abs() > 500;
    let start = pcm.iter().position(loud).unwrap_or(0);
    let end = pcm.iter().rposition(loud).map_or(pcm.len(), |i| i + 1);
    Ok(pcm[start..end].to_vec())
}

fn silence(ms: u32) -> Vec<i16> {
    vec![0; (ms * RATE_HZ / 1000) as usize]
}

/// The receptionist over a fresh seeded SQLite database `dir/name.db`, L4 off.
async fn fresh_state(dir: &Path, name: &str) -> anyhow::Result<Arc<AppState>> {
    let store = Store::open(&DatabaseUrl::Sqlite(dir.join(format!("{name}.db")))).await?;
    SeedData::demo(Vertical::Salone)?.load(&store, false).await?;
    let tz = jiff::tz::TimeZone::get("Europe/Rome")?;
    let clock = Clock::Fixed(parse_now(NOW, &tz).map_err(anyhow::Error::msg)?);
    Ok(AppState::with_engines(Engines::with_llm(store, Channel::Chat, None).await?, clock))
}

/// Nearest-rank percentile of sorted values.
fn pct(sorted: &[u64], p: f64) -> u64 {
    if sorted.is_empty() {
        return 0;
    }
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

/// The timings of one shape and cache state.
#[derive(Default)]
struct Runs {
    calls: usize,
    turns: Vec<TurnTiming>,
    utterances: usize,
    empty: usize,
    failed: usize,
    bookings: usize,
    fillers: usize,
    /// Recognitions that failed or missed their deadline.
    missed: usize,
    call_ms: Vec<u64>,
    /// Real time only: per turn, the endpointer's end of speech minus the
    /// line's true end (VAD lag), ms.
    vad_lag_ms: Vec<i64>,
    /// Real time only: per turn, the line's true end of speech to the first
    /// reply audio, ms.
    from_true_end_ms: Vec<u64>,
}

impl Runs {
    fn print(&self, label: &str) {
        println!(
            "  {label}: {} calls, {} turns measured ({} utterances decoded: {} empty and dropped without a turn, {} recognition errors), \
             {} fillers played, {} bookings, {} recognition deadline misses or failures",
            self.calls,
            self.turns.len(),
            self.utterances,
            self.empty,
            self.failed,
            self.fillers,
            self.bookings,
            self.missed
        );
        let column = |f: &dyn Fn(&TurnTiming) -> Option<u64>| {
            let mut v: Vec<u64> = self.turns.iter().filter_map(f).collect();
            v.sort_unstable();
            v
        };
        let rows: [(&str, Vec<u64>); 4] = [
            ("transcript_ms", column(&|t| Some(t.transcript_ms))),
            ("reply_ms", column(&|t| Some(t.reply_ms))),
            ("first_audio_ms", column(&|t| t.first_audio_ms)),
            ("end-to-end (endpoint + first audio)", column(&|t| t.first_audio_ms.map(|ms| ms + t.endpoint_ms))),
        ];
        println!("    {:<37} {:>5} {:>7} {:>7} {:>7}", "ms", "n", "p50", "p95", "max");
        for (name, v) in rows {
            println!("    {name:<37} {:>5} {:>7} {:>7} {:>7}", v.len(), pct(&v, 0.5), pct(&v, 0.95), v.last().copied().unwrap_or(0));
        }
        let mut endpoint: Vec<u64> = self.turns.iter().map(|t| t.endpoint_ms).collect();
        endpoint.sort_unstable();
        println!(
            "    {:<37} {:>5} {:>7} {:>7} {:>7}",
            "end-of-turn silence waited",
            endpoint.len(),
            pct(&endpoint, 0.5),
            pct(&endpoint, 0.95),
            endpoint.last().copied().unwrap_or(0)
        );
        if !self.from_true_end_ms.is_empty() {
            let mut lag = self.vad_lag_ms.clone();
            lag.sort_unstable();
            let at = |p: f64| lag.get(((lag.len().saturating_sub(1)) as f64 * p).round() as usize).copied().unwrap_or(0);
            println!("    {:<37} {:>5} {:>7} {:>7} {:>7}", "VAD end lag (vs true end of speech)", lag.len(), at(0.5), at(0.95), at(1.0));
            let mut v = self.from_true_end_ms.clone();
            v.sort_unstable();
            println!(
                "    {:<37} {:>5} {:>7} {:>7} {:>7}",
                "TRUE end of speech -> first audio",
                v.len(),
                pct(&v, 0.5),
                pct(&v, 0.95),
                v.last().copied().unwrap_or(0)
            );
        }
        let mut calls = self.call_ms.clone();
        calls.sort_unstable();
        println!(
            "    {:<37} {:>5} {:>7} {:>7} {:>7}",
            "whole call, wall clock",
            calls.len(),
            pct(&calls, 0.5),
            pct(&calls, 0.95),
            calls.last().copied().unwrap_or(0)
        );
    }
}

/// One simulated call of `caller` through `stt`, `speaker` and a fresh
/// receptionist; its turns and counts are added to `runs`.
async fn one_call(
    stt: &Arc<dyn SpeechToText>,
    speaker: Arc<Speaker>,
    dir: &Path,
    id: &str,
    caller: &Caller,
    runs: &mut Runs,
    heard_all: &mut Vec<String>,
    args: &Args,
) -> anyhow::Result<()> {
    let state = fresh_state(dir, id).await?;
    let heard: Heard = Arc::default();
    let recorder = Recorder { inner: stt.clone(), heard: heard.clone() };
    let deps = VoiceDeps {
        stt: Arc::new(recorder),
        speaker,
        vad: vad_for(args.vad, RATE_HZ)?,
        stt_prompt: agent::stt_prompt(state.engine().info()),
    };
    let agent = EngineAgent::new(state.clone(), id, Some(CALLER.to_string())).await;
    // The default recognition deadline: with a measuring engine it follows
    // the engine's speed, so a miss here is a miss in production.
    let config = VoiceConfig::from_env(RATE_HZ);
    let started = Instant::now();
    let handle = start_call(deps, Box::new(agent), config)?;
    let options = SimulateOptions { realtime: args.realtime, ..SimulateOptions::default() };
    let call = simulate(handle, &caller.pcm, RATE_HZ, options).await?;
    if args.realtime {
        for t in &call.summary.turns {
            let line = caller.spans.iter().find(|&&(start, end)| start <= t.speech_end_ms && t.speech_start_ms <= end + 300);
            if let (Some(&(_, end)), Some(first)) = (line, t.first_audio_ms) {
                let lag = t.speech_end_ms as i64 - end as i64;
                runs.vad_lag_ms.push(lag);
                runs.from_true_end_ms.push((lag + (t.endpoint_ms + first) as i64).max(0) as u64);
            }
        }
    }
    runs.call_ms.push(started.elapsed().as_millis() as u64);
    runs.calls += 1;
    runs.bookings += call.summary.bookings.len();
    runs.fillers += call.summary.turns.iter().filter(|t| t.filler).count();
    runs.missed += call.summary.failed_recognitions as usize;
    runs.turns.extend(call.summary.turns);
    let heard = std::mem::take(&mut *heard.lock().map_err(|_| anyhow::anyhow!("recorder poisoned"))?);
    for result in heard {
        runs.utterances += 1;
        match result {
            Ok(text) if text.trim().is_empty() => runs.empty += 1,
            Ok(text) => heard_all.push(text),
            Err(_) => runs.failed += 1,
        }
    }
    Ok(())
}

/// The caller's recording and where its lines are, ms from its start.
struct Caller {
    pcm: Vec<i16>,
    spans: Vec<(u64, u64)>,
}

/// A speaker over `tts` with an empty in-memory phrase cache.
fn speaker(tts: &EspeakTts) -> Arc<Speaker> {
    Arc::new(Speaker::new(Arc::new(tts.clone()), None, None))
}

/// The command line.
struct Args {
    calls: usize,
    realtime: bool,
    long_turn: bool,
    vad: VadEngine,
}

fn parse_args() -> anyhow::Result<Args> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut parsed = Args { calls: 5, realtime: false, long_turn: false, vad: vad_engine()? };
    let mut i = 0;
    while i < args.len() {
        match args[i].as_str() {
            "--calls" => {
                parsed.calls = args.get(i + 1).context("--calls needs a number")?.parse().context("--calls N")?;
                i += 1;
            }
            "--vad" => {
                parsed.vad = args.get(i + 1).context("--vad needs webrtc or silero")?.parse()?;
                i += 1;
            }
            "--realtime" => parsed.realtime = true,
            "--long-turn" => parsed.long_turn = true,
            other => match other.strip_prefix("--calls=") {
                Some(n) => parsed.calls = n.parse().context("--calls=N")?,
                None => anyhow::bail!("unknown argument {other:?}; usage: voice_e2e [--calls N] [--realtime] [--long-turn] [--vad ENGINE]"),
            },
        }
        i += 1;
    }
    anyhow::ensure!(parsed.calls > 0, "--calls must be at least 1");
    Ok(parsed)
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = parse_args()?;
    let calls = args.calls;
    // `RUST_LOG=fluxion=debug` shows each Whisper decode's timings.
    if std::env::var_os("RUST_LOG").is_some() {
        fluxion::observability::init_tracing(false);
    }
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let tts = EspeakTts::new("it", 165)?;
    let dir = tempfile::tempdir()?;

    println!("voice_e2e: end of caller speech → first reply audio ready, offline voice loop at {RATE_HZ} Hz, turn-taking simulation");
    println!(
        "REAL: espeak-ng caller speech; {} VAD + endpointer; whisper.cpp decode of the caller's audio \
         (WhisperStt); EngineAgent (NLU L0-L3 + dialogue) over a fresh seeded SQLite database per call; espeak-ng reply voice through \
         Speaker; the voice session (start_call) driven by simulate() in {} mode.",
        args.vad,
        if args.realtime { "real-time" } else { "turn-taking" }
    );
    println!(
        "NOT REAL: no phone line, network or G.711; no L4 language model; the caller is espeak-ng, not a person. Without a model in \
         FLUXION_MODELS_DIR the Whisper weights are GENERATED (gibberish transcripts, no bookings)."
    );
    let voice = VoiceConfig::from_env(RATE_HZ);
    println!(
        "machine: {cores} cores; {calls} calls per model and cache state; voice settings from the environment (recognition deadline from \
         the engine's measured speed, filler after {} ms or sooner for a slow engine, speculative decode after {} ms of silence); latencies \
         are wall-clock ms from the end of turn being detected, end-to-end adds the end-of-turn silence actually waited (semantic end of \
         turn: {} ms after a complete sentence, {} ms after an unfinished one, {} ms otherwise)",
        voice.filler_after_ms,
        voice.speculate_after_ms,
        voice.complete_end_silence_ms,
        voice.unfinished_end_silence_ms(),
        voice.endpoint.end_silence_ms
    );

    // The phrase cache, warmed once: the fixed phrases and the greeting.
    let warm = speaker(&tts);
    let greeting = EngineAgent::new(fresh_state(dir.path(), "greeting").await?, "greeting", Some(CALLER.to_string())).await.greet().await;
    let started = Instant::now();
    for text in phrases::ALL.iter().copied().chain([greeting.as_str()]) {
        warm.phrase(text, RATE_HZ).await?;
    }
    let cold_ms = started.elapsed().as_millis();
    let greeting_ms = warm.phrase(&greeting, RATE_HZ).await?.len() as u64 * 1000 / u64::from(RATE_HZ);

    // Turn-taking: the session holds the caller while the agent speaks. In
    // real time the caller waits out the greeting and each reply.
    let (lead_ms, gap_ms) = if args.realtime { (greeting_ms as u32 + 1_000, REALTIME_GAP_MS) } else { (600, 1_500) };
    let lines: Vec<&str> = LINES.iter().enumerate().map(|(i, &l)| if i == 0 && args.long_turn { LONG_FIRST_LINE } else { l }).collect();
    let mut caller = Caller { pcm: silence(lead_ms), spans: Vec::new() };
    let ms = |samples: usize| samples as u64 * 1000 / u64::from(RATE_HZ);
    for line in &lines {
        let pcm = speech(&tts, line, RATE_HZ).await?;
        let start = ms(caller.pcm.len());
        caller.pcm.extend(pcm);
        caller.spans.push((start, ms(caller.pcm.len())));
        caller.pcm.extend(silence(gap_ms));
    }
    let line_ms: Vec<u64> = caller.spans.iter().map(|(a, b)| b - a).collect();
    println!(
        "caller audio: {:.1} s, {} lines ({line_ms:?} ms of speech, {lead_ms} ms lead, {gap_ms} ms gaps): {lines:?}",
        caller.pcm.len() as f64 / f64::from(RATE_HZ),
        lines.len()
    );
    let started = Instant::now();
    for text in phrases::ALL.iter().copied().chain([greeting.as_str()]) {
        warm.phrase(text, RATE_HZ).await?;
    }
    println!(
        "phrase cache: {} fixed phrases + greeting synthesised in {cold_ms} ms cold, served in {} µs warm (paid at call start, \
         before the caller speaks; reply sentences are never cached)",
        phrases::ALL.len(),
        started.elapsed().as_micros()
    );

    // A real model in FLUXION_MODELS_DIR is measured alone; without one,
    // generated weights with the tiny and base shapes.
    let real = models::whisper_model_path(&models_dir(), std::env::var(models::WHISPER_MODEL_ENV).ok().as_deref());
    let shapes: Vec<(&str, Option<WhisperShape>)> =
        if real.is_file() { vec![("real", None)] } else { vec![("tiny", Some(WhisperShape::TINY)), ("base", Some(WhisperShape::BASE))] };
    for (label, shape) in shapes {
        let path = match shape {
            Some(shape) => {
                let path = dir.path().join(format!("ggml-{label}-generated.bin"));
                let started = Instant::now();
                write_model(&path, shape, 1).with_context(|| format!("writing {}", path.display()))?;
                println!();
                println!(
                    "whisper {label}: GENERATED weights ({} parameters, {:.0} MB, written in {} ms)",
                    shape.parameters(),
                    shape.file_len() as f64 / 1e6,
                    started.elapsed().as_millis()
                );
                path
            }
            None => {
                println!();
                println!("whisper: REAL weights {}", real.display());
                real.clone()
            }
        };
        let started = Instant::now();
        let (stt, threads) = load_whisper(&path)?;
        let estimate = stt.finish_estimate(4_000);
        println!(
            "  loaded and measured in {} ms; {threads} whisper threads on {cores} cores; measured finish for 4 s of audio: {estimate:?}",
            started.elapsed().as_millis()
        );
        let (mut cold, mut hot) = (Runs::default(), Runs::default());
        let mut heard = Vec::new();
        for n in 0..calls {
            one_call(&stt, speaker(&tts), dir.path(), &format!("{label}-cold-{n}"), &caller, &mut cold, &mut heard, &args).await?;
            one_call(&stt, warm.clone(), dir.path(), &format!("{label}-warm-{n}"), &caller, &mut hot, &mut heard, &args).await?;
        }
        let sample: Vec<String> = heard.iter().take(3).map(|t| t.chars().take(50).collect()).collect();
        println!("  heard: {sample:?}");
        if let Some(t) = cold.turns.first() {
            println!(
                "  the receptionist answered the first turn ({} {}): {:?}",
                t.intent,
                t.layer,
                t.reply.chars().take(80).collect::<String>()
            );
        }
        cold.print("cold phrase cache");
        hot.print("warm phrase cache");
    }
    Ok(())
}
