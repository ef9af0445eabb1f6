//! Intelligibility of the receptionist's voice, measured by the round trip
//! (issue 14, item 7): the replies the receptionist really gives (the
//! greeting, the fixed phrases and its answers to a booking conversation
//! and a few questions, from the demo salon's dialogue) are synthesised,
//! sent down a telephone line (resampled to 8000 Hz, G.711 μ-law) and
//! recognised by local Whisper; the word error rate against the reply's
//! text is the measure. One line per voice and speed, for espeak-ng's
//! Italian voice and its variants; a Piper voice in `FLUXION_MODELS_DIR`
//! (`PIPER_VOICE`) is measured too when present.
//!
//! `cargo run --release -p fluxion --example tts_roundtrip [-- --voices it,it+m3 --rates 150,165]`

use std::sync::Arc;
use std::time::Instant;

use anyhow::Context;
use fluxion::app::{AppState, Engines};
use fluxion::cli::voice::convert_rate;
use fluxion::clock::{parse_now, Clock};
use fluxion::seed::SeedData;
use fluxion::speech::espeak::EspeakTts;
use fluxion::speech::models_dir;
use fluxion::speech::piper::PiperTts;
use fluxion::speech::wer::word_errors;
use fluxion::speech::whisper::WhisperStt;
use fluxion::store::{DatabaseUrl, Store};
use fluxion::voice::{phrases, Agent, EngineAgent};
use fluxion_core::audio::g711;
use fluxion_core::booking::{Channel, Vertical};
use fluxion_core::speech::stt::{transcribe, SttRequest};
use fluxion_core::speech::tts::{synthesize_all, TextToSpeech};

/// Telephone rate, Hz.
const RATE_HZ: u32 = 8_000;

/// What the caller says to get the replies measured.
const CALLER_LINES: [&str; 7] = [
    "Buongiorno, vorrei prenotare un taglio per giovedì alle quindici",
    "Mi chiamo Mario Bianchi",
    "sì",
    "Accettate carte di credito?",
    "A che ora chiudete sabato?",
    "Quanto costa la piega?",
    "Dove vi trovate?",
];

/// The replies: greeting, fixed phrases and the dialogue's answers.
async fn replies() -> anyhow::Result<Vec<String>> {
    let dir = tempfile::tempdir()?;
    let store = Store::open(&DatabaseUrl::Sqlite(dir.path().join("roundtrip.db"))).await?;
    SeedData::demo(Vertical::Salone)?.load(&store, false).await?;
    let tz = jiff::tz::TimeZone::get("Europe/Rome")?;
    let clock = Clock::Fixed(parse_now("2027-03-10T10:00:00", &tz).map_err(anyhow::Error::msg)?);
    let state: Arc<AppState> = AppState::with_engines(Engines::with_llm(store, Channel::Chat, None).await?, clock);
    let mut agent = EngineAgent::new(state, "roundtrip", Some("+393401234567".to_string())).await;
    let mut texts = vec![agent.greet().await];
    for line in CALLER_LINES {
        texts.push(agent.reply(line).await.map_err(anyhow::Error::msg)?.text);
    }
    texts.extend(phrases::ALL.iter().map(|p| p.to_string()));
    texts.retain(|t| !t.trim().is_empty());
    texts.dedup();
    Ok(texts)
}

/// `(word errors, words, seconds of audio)` of `tts` on `texts` through the phone line.
async fn measure(tts: &dyn TextToSpeech, stt: &WhisperStt, texts: &[String], show: bool) -> anyhow::Result<(usize, usize, f64)> {
    let (mut errors, mut words, mut seconds) = (0, 0, 0.0);
    for text in texts {
        let pcm = synthesize_all(tts, text).await?;
        let line = convert_rate(&pcm, tts.sample_rate_hz(), RATE_HZ)?;
        let line = g711::mulaw_to_pcm(&g711::pcm_to_mulaw(&line));
        seconds += line.len() as f64 / f64::from(RATE_HZ);
        let heard = transcribe(stt, &SttRequest::italian(RATE_HZ), &line).await?.text;
        let (e, n) = word_errors(text, &heard);
        if show {
            println!("    {e}/{n}  {text:?} -> {heard:?}");
        }
        errors += e;
        words += n;
    }
    Ok((errors, words, seconds))
}

fn list_arg(name: &str) -> Option<Vec<String>> {
    let args: Vec<String> = std::env::args().collect();
    let value = args.iter().position(|a| a == name).and_then(|i| args.get(i + 1))?;
    Some(value.split(',').map(|v| v.trim().to_string()).filter(|v| !v.is_empty()).collect())
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let voices = list_arg("--voices").unwrap_or_else(|| ["it", "it+m3", "it+f3", "it+klatt4"].map(String::from).to_vec());
    let rates: Vec<u32> = match list_arg("--rates") {
        Some(r) => r.iter().map(|v| v.parse().with_context(|| format!("--rates: {v}"))).collect::<Result<_, _>>()?,
        None => vec![140, 155, 165, 180],
    };
    let verbose = std::env::args().any(|a| a == "--verbose");
    let stt = WhisperStt::from_models_dir(&models_dir(), None).context("the round trip needs a Whisper model in FLUXION_MODELS_DIR")?;
    let texts = replies().await?;
    println!(
        "tts_roundtrip: {} receptionist replies ({} words) -> voice -> 8000 Hz mu-law -> Whisper {} -> WER",
        texts.len(),
        texts.iter().map(|t| t.split_whitespace().count()).sum::<usize>(),
        stt.model_path().display()
    );
    println!("| engine | voice | words/min | WER | audio s | wall s |");
    println!("|---|---|---|---|---|---|");
    for voice in &voices {
        for &rate in &rates {
            let tts = EspeakTts::new(voice, rate)?;
            let started = Instant::now();
            let (e, n, audio_s) = measure(&tts, &stt, &texts, verbose).await?;
            println!(
                "| espeak-ng | {voice} | {rate} | {:.1}% ({e}/{n}) | {audio_s:.1} | {:.1} |",
                100.0 * e as f64 / n.max(1) as f64,
                started.elapsed().as_secs_f64()
            );
        }
    }
    match PiperTts::from_env(&models_dir()) {
        Ok(piper) => {
            let (e, n, audio_s) = measure(&piper, &stt, &texts, verbose).await?;
            println!("| piper | {} | - | {:.1}% ({e}/{n}) | {audio_s:.1} | - |", piper.voice(), 100.0 * e as f64 / n.max(1) as f64);
        }
        Err(e) => println!("piper: not measured ({e})"),
    }
    Ok(())
}
