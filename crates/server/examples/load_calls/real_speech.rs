//! `--real-speech`: the real offline capacity of this machine (issue 14).
//!
//! The server process runs the real local engines: Whisper from
//! `FLUXION_MODELS_DIR` (`WHISPER_MODEL` picks the file) behind its fair
//! recognition queue (`STT_MAX_PARALLEL`, `STT_BUSY_WAIT_MS`), espeak-ng
//! through the `Speaker`, and the VAD the server chooses (Silero when its
//! model is present). Every caller stays silent for [`LEAD_MS`] while the
//! greeting plays, then says one Italian sentence (espeak-ng, resampled to
//! 8000 Hz, through μ-law) every [`CYCLE_MS`]; call `n` starts at sentence
//! `n`. Calls the webhook turns away (the busy answer) are counted apart.
//!
//! Per answered turn the driver measures the wall-clock time from sending
//! the turn's last speech frame to the first agent audio after the reply's
//! mark (the filler's mark does not count, so a late reply shows as late
//! even when the filler covered it). It prints the reply p50/p95/max, the
//! fillers, the "please repeat" replies (failed or late recognitions),
//! turns without a reply, and the server's and the machine's CPU in the
//! steady window, then one `ROW` line for the capacity table.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use fluxion::cli::voice::convert_rate;
use fluxion::speech::espeak::{EspeakTts, ESPEAK_RATE_HZ};
use fluxion::speech::{engines, models_dir, vad_engine};
use fluxion::telephony::SpeechKit;
use fluxion_core::speech::tts::synthesize_all;

use super::{clock_ticks, machine_ticks, sample, start_server, CallStats, CallerAudio, Live, Options, RATE_HZ};

/// Caller silence at the start of a call while the greeting plays, ms.
const LEAD_MS: u64 = 9_000;

/// One caller turn starts every this many ms.
const CYCLE_MS: u64 = 10_000;

/// What the callers say, in turn: questions the receptionist answers in
/// one or two sentences, so every call goes on for its whole length.
const SENTENCES: [&str; 6] = [
    "Buongiorno, accettate carte di credito?",
    "A che ora chiudete stasera?",
    "Quanto costa un taglio donna?",
    "Siete aperti il sabato pomeriggio?",
    "Dove si trova il salone?",
    "Posso pagare con il bancomat?",
];

/// The server's speech engines: Whisper, espeak-ng and the chosen VAD.
pub fn kit(stt_prompt: String) -> anyhow::Result<SpeechKit> {
    let dir = models_dir();
    let stt = engines::stt_from_env(&dir).map_err(|e| anyhow::anyhow!("speech-to-text: {e}"))?;
    let speaker = engines::speaker_from_env(&dir).map_err(|e| anyhow::anyhow!("text-to-speech: {e}"))?;
    Ok(SpeechKit { stt, speaker: Arc::new(speaker), vad: vad_engine()?, stt_prompt })
}

/// A sentence spoken by espeak-ng at [`RATE_HZ`], quiet edges trimmed.
async fn spoken(tts: &EspeakTts, text: &str) -> anyhow::Result<Vec<i16>> {
    let pcm = synthesize_all(tts, text).await?;
    let pcm = convert_rate(&pcm, ESPEAK_RATE_HZ, RATE_HZ)?;
    let loud = |s: &i16| s.unsigned_abs() > 500;
    let start = pcm.iter().position(loud).unwrap_or(0);
    let end = pcm.iter().rposition(loud).map_or(pcm.len(), |i| i + 1);
    Ok(pcm[start..end.max(start)].to_vec())
}

/// The `q` quantile of `values` (nearest rank), 0 when empty.
fn quantile(values: &[u64], q: f64) -> u64 {
    let mut sorted = values.to_vec();
    sorted.sort_unstable();
    match sorted.len() {
        0 => 0,
        n => sorted[((n as f64 * q).ceil() as usize).clamp(1, n) - 1],
    }
}

/// Runs the calls against a server with the real engines and reports.
pub async fn drive(o: Options) -> anyhow::Result<()> {
    println!(
        "load_calls --real-speech: {} Twilio calls opened over {} s, {} s each; a turn every {} s after {} s of silence",
        o.calls,
        o.ramp_secs,
        o.secs,
        CYCLE_MS / 1000,
        LEAD_MS / 1000
    );
    println!(
        "REAL: everything the default mode runs, plus local Whisper ({}), espeak-ng and the server's VAD choice; callers are espeak-ng \
         Italian sentences. STT_MAX_PARALLEL={} STT_BUSY_WAIT_MS={}",
        std::env::var("WHISPER_MODEL").unwrap_or_else(|_| format!("best model in {}", models_dir().display())),
        std::env::var("STT_MAX_PARALLEL").unwrap_or_else(|_| "(default: cores / 2)".to_string()),
        std::env::var("STT_BUSY_WAIT_MS").unwrap_or_else(|_| "(default 500)".to_string()),
    );
    let tts = EspeakTts::new("it", 165)?;
    let mut turns = Vec::new();
    for text in SENTENCES {
        turns.push(spoken(&tts, text).await.with_context(|| format!("espeak-ng: {text}"))?);
    }
    let speech_ms: Vec<u64> = turns.iter().map(|t| t.len() as u64 * 1000 / u64::from(RATE_HZ)).collect();
    println!("caller turns: {} sentences, {:?} ms of speech", turns.len(), speech_ms);
    let audio = Arc::new(CallerAudio::from_turns(&turns, LEAD_MS, CYCLE_MS));

    let dir = tempfile::tempdir()?;
    let db = dir.path().join("load.db");
    let started = std::time::Instant::now();
    let server = start_server(&db, 30_000, true)?;
    let pid = server.child.id().to_string();
    let ticks = clock_ticks();
    println!(
        "server: pid {pid}, ready in {:.1} s (model loaded and measured); log {}",
        started.elapsed().as_secs_f64(),
        server.log.display()
    );
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get()) as f64;
    let idle_from = machine_ticks();
    tokio::time::sleep(Duration::from_secs(1)).await;
    let idle_to = machine_ticks();
    let busy_before = (idle_to.0 - idle_from.0) as f64 / (idle_to.1 - idle_from.1).max(1) as f64 * cores;
    println!("machine CPU busy before the calls: {busy_before:.2} of {cores:.0} cores");

    let url = format!("http://127.0.0.1:{}", server.port);
    let http = reqwest::Client::new();
    let frames = o.secs * 1000 / super::FRAME_MS;
    let live = Arc::new(Live::default());
    let t0 = tokio::time::Instant::now();
    let spawner = {
        let (audio, live, url, http) = (audio.clone(), live.clone(), url.clone(), http.clone());
        tokio::spawn(async move {
            let mut tasks = Vec::with_capacity(o.calls);
            for i in 0..o.calls {
                let at = t0 + Duration::from_secs_f64(o.ramp_secs as f64 * i as f64 / o.calls as f64);
                tokio::time::sleep_until(at).await;
                tasks.push(tokio::spawn(super::call(i, url.clone(), frames, audio.clone(), live.clone(), http.clone())));
            }
            tasks
        })
    };

    // CPU over the steady window: from the first turn after the ramp to 1 s before the first call ends.
    let window_from = t0 + Duration::from_secs(o.ramp_secs) + Duration::from_millis(LEAD_MS);
    let window_to = (t0 + Duration::from_secs(o.secs) - Duration::from_secs(1)).max(window_from + Duration::from_secs(1));
    tokio::time::sleep_until(window_from).await;
    let (server_start, machine_start) = (sample(&pid, ticks)?, machine_ticks());
    let active_start = live.active.load(Ordering::Relaxed);
    tokio::time::sleep_until(window_to).await;
    let (server_end, machine_end) = (sample(&pid, ticks)?, machine_ticks());
    let active_end = live.active.load(Ordering::Relaxed);

    let mut stats: Vec<CallStats> = Vec::with_capacity(o.calls);
    for task in spawner.await? {
        stats.push(task.await?);
    }
    let log = std::fs::read_to_string(&server.log).unwrap_or_default();
    let at_capacity = log.lines().filter(|l| l.contains("speech recognition at capacity")).count();
    let timeouts = log.lines().filter(|l| l.contains("speech recognition timed out")).count();
    drop(server);

    let window_s = server_end.at.duration_since(server_start.at).as_secs_f64().max(1e-9);
    let server_cpu = (server_end.cpu_s - server_start.cpu_s) / window_s;
    let machine_cpu = (machine_end.0 - machine_start.0) as f64 / (machine_end.1 - machine_start.1).max(1) as f64 * cores;
    let admitted = stats.iter().filter(|s| s.connected).count();
    let refused = stats.iter().filter(|s| s.refused).count();
    let other_errors: Vec<&str> = stats.iter().filter(|s| !s.refused).filter_map(|s| s.error.as_deref()).collect();
    let replies: Vec<u64> = stats.iter().flat_map(|s| s.reply_ms.iter().copied()).collect();
    let sum = |f: fn(&CallStats) -> u64| stats.iter().map(f).sum::<u64>();
    let (no_reply, fillers, repeats) = (sum(|s| s.no_reply), sum(|s| s.fillers), sum(|s| s.repeats));
    let (p50, p95, max) = (quantile(&replies, 0.5), quantile(&replies, 0.95), replies.iter().copied().max().unwrap_or(0));

    println!();
    println!("== results ==");
    println!("calls requested {}, admitted {admitted}, turned away busy {refused}, other errors {}", o.calls, other_errors.len());
    if let Some(e) = other_errors.first() {
        println!("  first error: {e}");
    }
    println!("calls live in the steady window: {active_start} at its start, {active_end} at its end ({window_s:.1} s)");
    println!(
        "answered turns {}: reply p50 {p50} ms, p95 {p95} ms, max {max} ms (end of caller speech -> first reply audio)",
        replies.len()
    );
    println!("turns without a reply {no_reply}; fillers played {fillers}; 'please repeat' replies {repeats}; recognition timeouts (server log) {timeouts}");
    println!("server log: 'recognition at capacity' refusals {at_capacity}");
    println!(
        "CPU in the steady window: server {:.2} cores ({:.0}% of the machine), machine {:.2} of {cores:.0} cores",
        server_cpu,
        server_cpu / cores * 100.0,
        machine_cpu
    );
    println!(
        "ROW calls={} admitted={admitted} refused={refused} turns={} p50_ms={p50} p95_ms={p95} max_ms={max} no_reply={no_reply} \
         fillers={fillers} repeats={repeats} server_cores={server_cpu:.2} machine_cores={machine_cpu:.2}",
        o.calls,
        replies.len()
    );
    Ok(())
}
