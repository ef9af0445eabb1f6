//! The voice commands: `stt`, `tts`, `call` and `doctor`.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use anyhow::{bail, Context};
use fluxion_core::audio::resample::Resampler;
use fluxion_core::audio::wav;
use fluxion_core::booking::Vertical;
use fluxion_core::speech::stt::{transcribe, SpeechToText, SttRequest};

use super::{clock, open_seeded, DbArgs};
use crate::app::AppState;
use crate::doctor;
use crate::speech::engines;
use crate::speech::scripted::ScriptedStt;
use crate::speech::{models_dir, vad_for};
use crate::voice::simulate::{simulate, SimulateOptions};
use crate::voice::{agent, start_call, EngineAgent, HangupReason, VoiceConfig, VoiceDeps};

/// Reads a WAV file of any supported rate as mono PCM.
fn read_wav_file(path: &Path) -> anyhow::Result<(Vec<i16>, u32)> {
    let file = std::fs::File::open(path).with_context(|| format!("opening {}", path.display()))?;
    wav::read_wav(std::io::BufReader::new(file)).with_context(|| format!("reading {}", path.display()))
}

fn write_wav_file(path: &Path, pcm: &[i16], rate_hz: u32) -> anyhow::Result<()> {
    std::fs::write(path, wav::wav_bytes(pcm, rate_hz)?).with_context(|| format!("writing {}", path.display()))
}

/// `pcm` at `from_hz` converted to `to_hz`.
pub fn convert_rate(pcm: &[i16], from_hz: u32, to_hz: u32) -> anyhow::Result<Vec<i16>> {
    let mut resampler = Resampler::new(from_hz, to_hz)?;
    let mut out = Vec::with_capacity(pcm.len() * to_hz as usize / from_hz.max(1) as usize + 64);
    resampler.process(pcm, &mut out)?;
    resampler.flush(&mut out)?;
    Ok(out)
}

/// `fluxion stt FILE.wav`: prints the transcript.
pub async fn stt(file: &Path, json: bool) -> anyhow::Result<()> {
    let (pcm, rate) = read_wav_file(file)?;
    let engine = engines::stt_from_env(&models_dir())?;
    let started = Instant::now();
    // No business here: the common booking words are the recognition prompt.
    let request = SttRequest::italian(rate).with_prompt(agent::BOOKING_WORDS);
    let transcript = transcribe(engine.as_ref(), &request, &pcm).await?;
    let elapsed_ms = started.elapsed().as_millis() as u64;
    if json {
        let out = serde_json::json!({
            "engine": engine.name(),
            "text": transcript.text,
            "confidence": transcript.confidence,
            "audio_ms": transcript.audio_ms,
            "elapsed_ms": elapsed_ms,
        });
        println!("{out}");
    } else {
        println!("{}", transcript.text);
        eprintln!("({} · {} ms of audio in {elapsed_ms} ms)", engine.name(), transcript.audio_ms);
    }
    Ok(())
}

/// `fluxion tts "testo" --out FILE.wav`.
pub async fn tts(text: &str, out: &Path, rate_hz: Option<u32>) -> anyhow::Result<()> {
    let speaker = engines::speaker_from_env(&models_dir())?;
    let rate = rate_hz.unwrap_or_else(|| speaker.primary().sample_rate_hz());
    let started = Instant::now();
    let pcm = speaker.say_all(text, rate).await?;
    write_wav_file(out, &pcm, rate)?;
    eprintln!(
        "{}: {:.2} s of audio at {rate} Hz in {} ms → {}",
        speaker.primary().engine(),
        pcm.len() as f64 / f64::from(rate),
        started.elapsed().as_millis(),
        out.display()
    );
    Ok(())
}

/// What `fluxion call` needs.
pub struct CallArgs {
    /// The caller's side, a WAV file of any supported rate.
    pub input: PathBuf,
    /// Where the agent's side goes.
    pub output: PathBuf,
    /// Caller ID (E.164).
    pub phone: Option<String>,
    /// Print JSON instead of text.
    pub json: bool,
    /// Play in real time (barge-in possible) instead of turn-taking.
    pub realtime: bool,
    /// Call audio rate, Hz.
    pub rate_hz: u32,
    /// A file with one caller line per utterance: use the scripted recogniser.
    pub script: Option<PathBuf>,
    /// Database.
    pub db: DbArgs,
    /// Demo vertical for an empty database.
    pub vertical: Vertical,
    /// Fixed "now".
    pub now: Option<String>,
}

/// `fluxion call --in caller.wav --out agent.wav`: a whole simulated call.
pub async fn call(args: CallArgs) -> anyhow::Result<()> {
    if ![8_000, 16_000].contains(&args.rate_hz) {
        bail!("--rate must be 8000 or 16000 Hz");
    }
    let (caller, caller_rate) = read_wav_file(&args.input)?;
    let caller = convert_rate(&caller, caller_rate, args.rate_hz)?;
    let store = open_seeded(&args.db, args.vertical).await?;
    let state = AppState::new(store, clock(args.now.as_deref())?).await?;
    let stt: Arc<dyn SpeechToText> = match &args.script {
        Some(path) => {
            let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
            eprintln!("note: using the SCRIPTED recogniser: each detected turn gets the next line of {}", path.display());
            Arc::new(ScriptedStt::new(text.lines().map(str::trim).filter(|l| !l.is_empty())))
        }
        None => engines::stt_from_env(&models_dir())?,
    };
    let speaker = Arc::new(engines::speaker_from_env(&models_dir())?);
    let vad = vad_for(crate::speech::vad_engine()?, args.rate_hz)?;
    let deps = VoiceDeps { stt, speaker, vad, stt_prompt: agent::stt_prompt(state.engine().info()) };
    let phone = match args.phone.as_deref() {
        Some(p) => Some(crate::api::voice::caller_phone(p).map_err(|e| anyhow::anyhow!("--phone: {e:?}"))?),
        None => None,
    };
    let call_id = format!("sim-{}", jiff::Timestamp::now().as_millisecond());
    let agent = EngineAgent::new(state.clone(), &call_id, phone).await;
    let handle = start_call(deps, Box::new(agent), VoiceConfig::from_env(args.rate_hz))?;
    let options = SimulateOptions { realtime: args.realtime, ..SimulateOptions::default() };
    let result = simulate(handle, &caller, args.rate_hz, options).await?;
    write_wav_file(&args.output, &result.agent_audio, args.rate_hz)?;
    let summary = &result.summary;
    if args.json {
        let out = serde_json::json!({
            "call_id": call_id,
            "reason": summary.reason,
            "duration_ms": summary.duration_ms,
            "said": result.said(),
            "turns": summary.turns,
            "bookings": summary.bookings.iter().map(|a| crate::api::voice::booking_json(&state, a)).collect::<Vec<_>>(),
            "barge_ins": summary.barge_ins,
            "false_interruptions": summary.false_interruptions,
            "failed_recognitions": summary.failed_recognitions,
            "transfer_requested": summary.transfer_requested,
            "agent_wav": args.output,
        });
        println!("{}", serde_json::to_string_pretty(&out)?);
        return Ok(());
    }
    if let Some(greeting) = result.said().first() {
        println!("agent: {greeting}");
    }
    for t in &summary.turns {
        println!();
        println!(
            "turn {} [{:.2}–{:.2} s] caller: {}",
            t.index,
            t.speech_start_ms as f64 / 1000.0,
            t.speech_end_ms as f64 / 1000.0,
            t.transcript
        );
        println!("  agent: {}", t.reply);
        println!(
            "  intent {} ({}) · end-of-turn {} ms · transcript {} ms · reply {} ms · first audio {} · tts {}{}",
            t.intent,
            t.layer,
            t.endpoint_ms,
            t.transcript_ms,
            t.reply_ms,
            t.first_audio_ms.map(|ms| format!("{ms} ms")).unwrap_or_else(|| "-".to_string()),
            t.tts_engine,
            if t.filler { " · filler played" } else { "" }
        );
    }
    println!();
    for a in &summary.bookings {
        let b = crate::api::voice::booking_json(&state, a);
        println!("appointment #{} {}: {} with {} at {}", b.id, b.status, b.service, b.operator, b.start);
    }
    let reason = match summary.reason {
        HangupReason::CallerHungUp => "the caller's audio ended".to_string(),
        other => other.as_str().to_string(),
    };
    println!("call ended ({reason}) after {:.1} s; agent audio → {}", summary.duration_ms as f64 / 1000.0, args.output.display());
    Ok(())
}

/// `fluxion doctor`: checks the database and every configured component
/// (see [`crate::doctor`]) and prints a report; fails when any check fails.
pub async fn doctor(db: &DbArgs, json: bool) -> anyhow::Result<()> {
    let mut checks = vec![doctor::check(
        "database",
        async {
            let store = open_seeded(db, Vertical::Salone).await?;
            let state = AppState::new(store, clock(None)?).await?;
            state.db_ok().await?;
            let engine = state.engine();
            Ok(format!("{} ({} services)", engine.info().business.name, engine.info().services.len()))
        }
        .await,
    )];
    checks.extend(doctor::components(&models_dir()).await);
    let failed = checks.iter().filter(|c| c.failed()).count();
    if json {
        println!("{}", serde_json::to_string_pretty(&checks)?);
    } else {
        for c in &checks {
            println!("{:<5} {:<22} {}", c.status, c.component, c.detail);
        }
    }
    if failed > 0 {
        bail!("{failed} check(s) failed");
    }
    Ok(())
}

/// `fluxion models list`.
pub fn models_list() -> anyhow::Result<()> {
    let dir = models_dir();
    println!("models directory: {}", dir.display());
    for m in crate::speech::models::CATALOGUE {
        let present = if dir.join(m.file).is_file() { "present" } else { "-" };
        println!("{:<12} {:>6.1} MB  {:<8} {}", m.name, m.bytes as f64 / 1e6, present, m.description);
    }
    Ok(())
}

/// `fluxion models download NAME`.
pub async fn models_download(name: &str, dir: Option<PathBuf>) -> anyhow::Result<()> {
    let dir = dir.unwrap_or_else(models_dir);
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    let client = reqwest::Client::builder().user_agent(concat!("fluxion/", env!("CARGO_PKG_VERSION"))).build()?;
    eprintln!("downloading {name} into {} …", dir.display());
    let bar = indicatif::ProgressBar::new(0).with_style(
        indicatif::ProgressStyle::with_template("{bar:40} {bytes}/{total_bytes} {bytes_per_sec} eta {eta}")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    let result = crate::speech::models::download_with_progress(name, &dir, &client, &mut |received, total| {
        bar.set_length(total);
        bar.set_position(received);
    })
    .await;
    bar.finish_and_clear();
    let path = result?;
    println!("{}", path.display());
    Ok(())
}

/// `fluxion models import FILE`.
pub async fn models_import(file: &Path, dir: Option<PathBuf>) -> anyhow::Result<()> {
    let dir = dir.unwrap_or_else(models_dir);
    let imported = crate::speech::model_import::import(file, &dir).await?;
    if imported.verified.is_none() {
        eprintln!("warning: {}", imported.describe());
    } else {
        eprintln!("{}", imported.describe());
    }
    println!("{}", imported.path.display());
    Ok(())
}

/// `fluxion simulate-call`.
#[allow(clippy::too_many_arguments)]
pub async fn simulate_call(
    provider: crate::telephony::Provider,
    wav: &Path,
    url: Option<String>,
    out: Option<PathBuf>,
    caller: Option<String>,
    speed: f64,
    turn_taking: bool,
    dtmf: Vec<char>,
) -> anyhow::Result<()> {
    use crate::telephony::simulator::{simulate_call, SimulatorOptions};
    let (pcm, rate) = read_wav_file(wav)?;
    let pcm = convert_rate(&pcm, rate, 8_000)?;
    // The server's base URL; a media-stream URL (ws://host/PROVIDER/media) is accepted too.
    let server = url.unwrap_or_else(|| "http://127.0.0.1:3002".to_string());
    let server = server.replacen("wss://", "https://", 1).replacen("ws://", "http://", 1);
    let server = server.trim_end_matches('/').trim_end_matches(&format!("/{}/media", provider.as_str())).to_string();
    // Signed as the provider signs, with the server's own settings (PUBLIC_URL, auth tokens).
    let telephony = crate::telephony::TelephonyConfig::from_env().map_err(anyhow::Error::msg)?;
    let options = SimulatorOptions { caller, speed, turn_taking, dtmf, ..SimulatorOptions::new(provider, server, telephony) };
    println!("calling {} as {} ({} s of caller audio)…", options.server, provider.as_str(), pcm.len() / 8_000);
    let call = simulate_call(&options, &pcm).await?;
    for (at_ms, text) in &call.said {
        println!("[{:>7.2} s] agent: {text}", *at_ms as f64 / 1000.0);
    }
    println!(
        "{} media messages, {} marks, {} clears; {} after {:.1} s",
        call.media_messages,
        call.marks,
        call.clears,
        if call.agent_hung_up { "the agent hung up" } else { "the caller hung up" },
        call.duration_ms as f64 / 1000.0
    );
    if let Some(out) = out {
        write_wav_file(&out, &call.agent_audio, 8_000)?;
        println!("agent audio → {}", out.display());
    }
    Ok(())
}

/// `fluxion call-out`.
pub async fn call_out(to: &str, purpose: &str, from: &str) -> anyhow::Result<()> {
    let to = crate::api::voice::caller_phone(to).map_err(|e| anyhow::anyhow!("--to: {e:?}"))?;
    if !matches!(purpose, "callback" | "confirmation") {
        bail!("--purpose must be callback or confirmation");
    }
    let config = crate::telephony::TelephonyConfig::from_env().map_err(anyhow::Error::msg)?;
    let sid = crate::telephony::provider_api::twilio_call_out_with(&config, &reqwest::Client::new(), &to, from, purpose).await?;
    println!("call started: {sid}");
    Ok(())
}

/// `fluxion models stand-in`.
pub fn models_stand_in(shape: &str, dir: Option<PathBuf>) -> anyhow::Result<()> {
    use crate::speech::ggml::{write_model, WhisperShape};
    let shape_value = match shape {
        "tiny" => WhisperShape::TINY,
        "base" => WhisperShape::BASE,
        other => bail!("--shape must be tiny or base, not {other:?}"),
    };
    let dir = dir.unwrap_or_else(models_dir);
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    let path = dir.join(format!("ggml-{shape}-generated.bin"));
    write_model(&path, shape_value, 1).with_context(|| format!("writing {}", path.display()))?;
    println!("{}", path.display());
    eprintln!("generated weights: this model hears nonsense; use it with WHISPER_MODEL={} to exercise the pipeline", path.display());
    Ok(())
}
