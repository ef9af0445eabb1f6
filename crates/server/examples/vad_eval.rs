//! How well each voice activity detector finds the caller's turns (issue 14,
//! item 5): WebRTC and Silero on Italian speech at the telephone rate.
//!
//! The test signal: Italian sentences spoken by espeak-ng, resampled to
//! 8000 Hz, separated by silences of 0.7, 1.2 and 2 s (after 1 s of lead
//! silence), through G.711 μ-law; clean, and with white noise at 20 and
//! 10 dB below the speech level (noise in the silences too). A sentence's
//! true extent is from its first to its last sample louder than 500.
//!
//! Per detector and condition, frame by frame (probability ≥ 0.5):
//! - `speech`: share of frames inside a sentence called speech;
//! - `false alarm`: share of frames between sentences called speech;
//!
//! and through the session's endpointer (default settings: 200 ms minimum
//! speech, 500 ms end-of-turn silence, 200 ms pre-roll):
//! - `found`: sentences overlapped by a turn; `split`: sentences cut into
//!   more than one turn; `spurious`: turns that overlap no sentence;
//! - `start`, `end`: mean offset of the turn's first and last speech frame
//!   from the sentence's true start and end, ms (positive: later);
//! - with `--whisper` and a Whisper model in `FLUXION_MODELS_DIR`: the word
//!   error rate of Whisper on the turns' audio (what a caller would get), the
//!   sentences' texts as reference;
//! - `µs/frame`: detector time per frame.
//!
//! `cargo run --release -p fluxion --example vad_eval [-- --whisper]`

use std::time::Instant;

use anyhow::Context;
use fluxion::cli::voice::convert_rate;
use fluxion::speech::espeak::{EspeakTts, ESPEAK_RATE_HZ};
use fluxion::speech::wer::word_errors;
use fluxion::speech::{models_dir, vad_for};
use fluxion_core::audio::endpoint::{EndpointConfig, EndpointEvent, Endpointer};
use fluxion_core::audio::g711;
use fluxion_core::audio::vad::VadEngine;
use fluxion_core::speech::stt::{transcribe, SpeechToText, SttRequest};
use fluxion_core::speech::tts::synthesize_all;

/// Call audio rate, Hz.
const RATE_HZ: u32 = 8_000;

/// What the callers say.
const SENTENCES: [&str; 9] = [
    "Buongiorno, vorrei prenotare un taglio per domani mattina.",
    "Mi chiamo Marco Rossi.",
    "Sì.",
    "Vorrei spostare il mio appuntamento a venerdì pomeriggio.",
    "Avete posto per una piega sabato?",
    "No, grazie.",
    "Il mio numero è tre quattro sette, uno uno uno.",
    "Preferisco con Giulia, se possibile.",
    "Va bene, arrivederci.",
];

/// Silences between sentences, in turn, ms.
const GAPS_MS: [u64; 3] = [700, 1_200, 2_000];

/// Silence before the first sentence, ms.
const LEAD_MS: u64 = 1_000;

/// A test signal and where its sentences are, in samples.
struct Signal {
    pcm: Vec<i16>,
    /// `(start, end)` of each sentence, samples.
    sentences: Vec<(usize, usize)>,
}

/// A turn the endpointer found: first and last speech frame (ms) and its audio.
struct Turn {
    start_ms: u64,
    end_ms: u64,
    audio: Vec<i16>,
}

fn ms_to_samples(ms: u64) -> usize {
    (ms * u64::from(RATE_HZ) / 1000) as usize
}

fn samples_to_ms(samples: usize) -> f64 {
    samples as f64 * 1000.0 / f64::from(RATE_HZ)
}

async fn spoken(tts: &EspeakTts, text: &str) -> anyhow::Result<Vec<i16>> {
    let pcm = synthesize_all(tts, text).await?;
    let pcm = convert_rate(&pcm, ESPEAK_RATE_HZ, RATE_HZ)?;
    let loud = |s: &i16| s.unsigned_abs() > 500;
    let start = pcm.iter().position(loud).unwrap_or(0);
    let end = pcm.iter().rposition(loud).map_or(pcm.len(), |i| i + 1);
    Ok(pcm[start..end.max(start)].to_vec())
}

/// The sentences and gaps, with white noise `snr_db` below the speech's RMS
/// (none when `None`), through μ-law.
fn signal(spoken: &[Vec<i16>], snr_db: Option<f64>) -> Signal {
    let mut pcm = vec![0i16; ms_to_samples(LEAD_MS)];
    let mut sentences = Vec::new();
    for (i, sentence) in spoken.iter().enumerate() {
        sentences.push((pcm.len(), pcm.len() + sentence.len()));
        pcm.extend_from_slice(sentence);
        pcm.resize(pcm.len() + ms_to_samples(GAPS_MS[i % GAPS_MS.len()]), 0);
    }
    if let Some(snr) = snr_db {
        let speech: Vec<f64> = spoken.iter().flatten().map(|&s| f64::from(s)).collect();
        let rms = (speech.iter().map(|s| s * s).sum::<f64>() / speech.len().max(1) as f64).sqrt();
        // Uniform noise in [-a, a] has RMS a / sqrt(3).
        let amplitude = rms / 10f64.powf(snr / 20.0) * 3f64.sqrt();
        let mut x = 0x2545_f491u32;
        for s in &mut pcm {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            let noise = (f64::from(x) / f64::from(u32::MAX) * 2.0 - 1.0) * amplitude;
            *s = (f64::from(*s) + noise).clamp(-32768.0, 32767.0) as i16;
        }
    }
    let pcm = g711::mulaw_to_pcm(&g711::pcm_to_mulaw(&pcm));
    Signal { pcm, sentences }
}

/// What one detector made of one signal.
#[derive(Default)]
struct Score {
    speech_frames: usize,
    speech_hits: usize,
    silence_frames: usize,
    silence_hits: usize,
    found: usize,
    split: usize,
    spurious: usize,
    start_offsets_ms: Vec<f64>,
    end_offsets_ms: Vec<f64>,
    us_per_frame: f64,
    /// Word errors and reference words of Whisper on the turns.
    wer: Option<(usize, usize)>,
}

async fn score(engine: VadEngine, signal: &Signal, stt: Option<&dyn SpeechToText>) -> anyhow::Result<Score> {
    let mut vad = vad_for(engine, RATE_HZ).with_context(|| format!("building {engine}"))?;
    let mut endpointer = Endpointer::new(EndpointConfig::default(), RATE_HZ)?;
    let frame_len = vad.frame_len();
    let in_sentence = |sample: usize| signal.sentences.iter().any(|&(a, b)| (a..b).contains(&sample));
    let mut s = Score::default();
    let mut turns = Vec::new();
    let mut spent = std::time::Duration::ZERO;
    let mut frames = 0usize;
    for (i, frame) in signal.pcm.chunks_exact(frame_len).enumerate() {
        let started = Instant::now();
        let p = vad.speech_probability(frame)?;
        spent += started.elapsed();
        frames += 1;
        let speech = p >= 0.5;
        if in_sentence(i * frame_len + frame_len / 2) {
            s.speech_frames += 1;
            s.speech_hits += usize::from(speech);
        } else {
            s.silence_frames += 1;
            s.silence_hits += usize::from(speech);
        }
        if let Some(EndpointEvent::SpeechEnded { start_ms, end_ms, audio }) = endpointer.push(frame, p) {
            turns.push(Turn { start_ms, end_ms, audio });
        }
    }
    if let Some(EndpointEvent::SpeechEnded { start_ms, end_ms, audio }) = endpointer.finish() {
        turns.push(Turn { start_ms, end_ms, audio });
    }
    s.us_per_frame = spent.as_secs_f64() * 1e6 / frames.max(1) as f64;
    let overlaps = |t: &Turn, &(a, b): &(usize, usize)| t.start_ms as f64 <= samples_to_ms(b) && t.end_ms as f64 >= samples_to_ms(a);
    for sentence in &signal.sentences {
        let covering: Vec<&Turn> = turns.iter().filter(|t| overlaps(t, sentence)).collect();
        if let (Some(first), Some(last)) = (covering.first(), covering.last()) {
            s.found += 1;
            s.split += usize::from(covering.len() > 1);
            s.start_offsets_ms.push(first.start_ms as f64 - samples_to_ms(sentence.0));
            s.end_offsets_ms.push(last.end_ms as f64 - samples_to_ms(sentence.1));
        }
    }
    s.spurious = turns.iter().filter(|t| !signal.sentences.iter().any(|sentence| overlaps(t, sentence))).count();
    if let Some(stt) = stt {
        // Each sentence against the text Whisper made of the turns overlapping it.
        let (mut errors, mut words) = (0, 0);
        for (sentence, text) in signal.sentences.iter().zip(SENTENCES) {
            let mut heard = String::new();
            for turn in turns.iter().filter(|t| overlaps(t, sentence)) {
                let transcript = transcribe(stt, &SttRequest::italian(RATE_HZ), &turn.audio).await?;
                heard.push(' ');
                heard.push_str(&transcript.text);
            }
            let (e, n) = word_errors(text, &heard);
            errors += e;
            words += n;
        }
        s.wer = Some((errors, words));
    }
    Ok(s)
}

fn mean(values: &[f64]) -> f64 {
    values.iter().sum::<f64>() / values.len().max(1) as f64
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> anyhow::Result<()> {
    let with_whisper = std::env::args().any(|a| a == "--whisper");
    let tts = EspeakTts::new("it", 165)?;
    let mut sentences = Vec::new();
    for text in SENTENCES {
        sentences.push(spoken(&tts, text).await.with_context(|| format!("espeak-ng: {text}"))?);
    }
    let stt: Option<Box<dyn SpeechToText>> =
        if with_whisper { Some(Box::new(fluxion::speech::whisper::WhisperStt::from_models_dir(&models_dir(), None)?)) } else { None };
    let speech_ms: f64 = sentences.iter().map(|s| samples_to_ms(s.len())).sum();
    println!(
        "vad_eval: {} espeak-ng Italian sentences ({:.1} s of speech) at {RATE_HZ} Hz, gaps {GAPS_MS:?} ms, mu-law; endpointer defaults{}",
        SENTENCES.len(),
        speech_ms / 1000.0,
        if stt.is_some() { "; Whisper WER on the turns" } else { "" }
    );
    println!(
        "| condition | VAD | speech | false alarm | found | split | spurious | start ms | end ms | {}µs/frame |",
        if stt.is_some() { "WER | " } else { "" }
    );
    println!("|---|---|---|---|---|---|---|---|---|{}---|", if stt.is_some() { "---|" } else { "" });
    for (condition, snr) in [("clean", None), ("noise 20 dB", Some(20.0)), ("noise 10 dB", Some(10.0))] {
        let signal = signal(&sentences, snr);
        for engine in [VadEngine::Webrtc, VadEngine::Silero] {
            let s = match score(engine, &signal, stt.as_deref()).await {
                Ok(s) => s,
                Err(e) => {
                    println!("| {condition} | {engine} | not run: {e:#} |");
                    continue;
                }
            };
            let wer = s.wer.map(|(e, n)| format!("{:.1}% | ", 100.0 * e as f64 / n.max(1) as f64)).unwrap_or_default();
            println!(
                "| {condition} | {engine} | {:.1}% | {:.1}% | {}/{} | {} | {} | {:+.0} | {:+.0} | {wer}{:.1} |",
                100.0 * s.speech_hits as f64 / s.speech_frames.max(1) as f64,
                100.0 * s.silence_hits as f64 / s.silence_frames.max(1) as f64,
                s.found,
                signal.sentences.len(),
                s.split,
                s.spurious,
                mean(&s.start_offsets_ms),
                mean(&s.end_offsets_ms),
                s.us_per_frame
            );
        }
    }
    Ok(())
}
