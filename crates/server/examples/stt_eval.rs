//! Word error rate and real-time factor of the local Whisper model on an
//! Italian test set spoken by espeak-ng (issue 14), per audio rate, espeak-ng
//! speed and prompt (none, or the demo salon's recognition prompt), plus the
//! loop-prone inputs (silence, noise, a long pause, a repeated phrase).
//!
//! `FLUXION_MODELS_DIR=../shared/models cargo run --release -p fluxion --example stt_eval`
//! (`WHISPER_MODEL` picks another file). Prints one line per sentence and a
//! summary per configuration.

use std::time::Instant;

use anyhow::Context;
use fluxion::cli::voice::convert_rate;
use fluxion::speech::decode_check::{normalised_words, tandem_repeat};
use fluxion::speech::espeak::{EspeakTts, ESPEAK_RATE_HZ};
use fluxion::speech::wer::word_errors;
use fluxion::speech::whisper::WhisperStt;
use fluxion_core::speech::stt::{transcribe, SttRequest};
use fluxion_core::speech::tts::synthesize_all;

/// Booking sentences a caller says (the test set).
const SENTENCES: [&str; 12] = [
    "Buongiorno, vorrei prenotare un taglio per domani mattina.",
    "Mi chiamo Marco Rossi.",
    "Vorrei spostare il mio appuntamento a venerdì pomeriggio.",
    "Posso disdire la prenotazione di lunedì?",
    "Sì, va bene, grazie mille.",
    "Avete posto per una piega sabato?",
    "Preferisco con Giulia, se possibile.",
    "A che ora chiudete stasera?",
    "Un taglio per giovedì alle quindici.",
    "Il mio numero è tre quattro sette, uno uno uno.",
    "No, preferisco la settimana prossima.",
    "Vorrei parlare con un operatore.",
];

/// The demo salon's recognition prompt, as `voice::agent::stt_prompt` builds it.
const PROMPT: &str =
    "Salone Bellezza Giulia. Taglio donna, Taglio uomo, Taglio bambino, Piega, Colore, Barba, Giulia, Luca, Francesca, Martina, Davide. \
Buongiorno, vorrei prenotare un appuntamento per domani alle 15:30. Posso spostare o disdire la prenotazione di lunedì mattina?";

async fn speak(tts: &EspeakTts, text: &str, rate_hz: u32) -> anyhow::Result<Vec<i16>> {
    let pcm = synthesize_all(tts, text).await?;
    let pcm = convert_rate(&pcm, ESPEAK_RATE_HZ, rate_hz)?;
    let loud = |s: &i16| s.unsigned_abs() > 500;
    let start = pcm.iter().position(loud).unwrap_or(0);
    let end = pcm.iter().rposition(loud).map_or(pcm.len(), |i| i + 1);
    Ok(pcm[start..end].to_vec())
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> anyhow::Result<()> {
    let stt = tokio::task::spawn_blocking(WhisperStt::from_env).await??;
    eprintln!("model {} ({} threads)", stt.model_path().display(), stt.threads());
    for (rate_hz, wpm, prompt) in [(8_000, 165, true), (8_000, 165, false), (8_000, 140, true), (16_000, 165, true)] {
        let tts = EspeakTts::new("it", wpm).context("espeak-ng")?;
        let request = SttRequest::italian(rate_hz).with_prompt(if prompt { PROMPT } else { "" });
        let (mut errors, mut words, mut audio_ms, mut busy_ms) = (0, 0, 0u64, 0u64);
        for said in SENTENCES {
            let pcm = speak(&tts, said, rate_hz).await?;
            let started = Instant::now();
            let heard = transcribe(&stt, &request, &pcm).await?.text;
            let took = started.elapsed().as_millis() as u64;
            let (e, n) = word_errors(said, &heard);
            errors += e;
            words += n;
            audio_ms += pcm.len() as u64 * 1000 / u64::from(rate_hz);
            busy_ms += took;
            println!("  {e}/{n} {took:>5} ms  {said:?} → {heard:?}");
        }
        println!(
            "{rate_hz} Hz, espeak {wpm} wpm, prompt {prompt}: WER {:.1}% ({errors}/{words}), real-time factor {:.2} ({busy_ms} ms for {audio_ms} ms)",
            100.0 * errors as f64 / words as f64,
            busy_ms as f64 / audio_ms as f64
        );
    }
    let tts = EspeakTts::new("it", 165).context("espeak-ng")?;
    let request = SttRequest::italian(8_000).with_prompt(PROMPT);
    let phrase = speak(&tts, "vorrei prenotare un taglio", 8_000).await?;
    let quiet = |ms: usize| vec![0i16; ms * 8];
    let cases = [
        ("silence 3 s", quiet(3_000)),
        ("noise 3 s", (0..24_000).map(|i: i32| ((i * 7_919) % 601 - 300) as i16).collect()),
        ("long pause", [speak(&tts, "Buongiorno", 8_000).await?, quiet(5_000), phrase.clone()].concat()),
        ("repeated phrase", [phrase.clone(), quiet(300), phrase.clone(), quiet(300), phrase].concat()),
    ];
    for (name, pcm) in cases {
        let started = Instant::now();
        let heard = transcribe(&stt, &request, &pcm).await?.text;
        let (n, times) = tandem_repeat(&normalised_words(&heard));
        println!("{name}: {heard:?} (longest repeat: {n} words × {times}) in {} ms", started.elapsed().as_millis());
    }
    Ok(())
}
