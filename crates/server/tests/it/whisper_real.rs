//! Real Whisper weights on espeak-ng Italian (issue 14): accuracy, no
//! hallucination loops on loop-prone input, `fluxion stt`, and whole calls
//! (`fluxion call` and a Twilio media stream) end to end.
//!
//! The model is the one the models directory holds (`FLUXION_MODELS_DIR`,
//! else `../shared/models` next to the workspace; `scripts/test.sh` sets
//! it). The tests skip, saying so, only when that directory does not exist;
//! a directory without a Whisper model is a failure.

use std::path::PathBuf;
use std::sync::{Arc, OnceLock};

use fluxion::speech::decode_check::{normalised_words, tandem_repeat};
use fluxion::speech::models;
use fluxion::speech::vad_for;
use fluxion::speech::wer::word_errors;
use fluxion::speech::whisper::WhisperStt;
use fluxion::telephony::simulator::{simulate_call, SimulatorOptions};
use fluxion::telephony::Provider;
use fluxion::voice::simulate::{simulate, SimulateOptions};
use fluxion::voice::{agent, phrases, start_call, EngineAgent, VoiceConfig, VoiceDeps};
use fluxion_core::audio::vad::VadEngine;
use fluxion_core::speech::stt::{transcribe, SttRequest};

use crate::telephony::{caller_audio, PhoneApp};
use crate::voice::{espeak, shared_speaker, silence, speech};
use crate::TestApp;

/// The models directory, or `None` (with a SKIP line) when it is absent.
pub fn models_dir() -> Option<PathBuf> {
    let dir = std::env::var_os("FLUXION_MODELS_DIR")
        .filter(|d| !d.is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/models"));
    if dir.is_dir() {
        Some(dir)
    } else {
        eprintln!("SKIP: no models directory at {}: the real-Whisper tests need one (set FLUXION_MODELS_DIR)", dir.display());
        None
    }
}

/// The real model, loaded once for every test in this binary; `None` (the
/// test skips) only when the models directory is absent.
pub fn real_whisper() -> Option<Arc<WhisperStt>> {
    static STT: OnceLock<Arc<WhisperStt>> = OnceLock::new();
    let dir = models_dir()?;
    Some(
        STT.get_or_init(|| {
            let path = models::whisper_model_path(&dir, None);
            Arc::new(WhisperStt::load(&path).unwrap_or_else(|e| panic!("the models directory has no usable Whisper model: {e}")))
        })
        .clone(),
    )
}

/// One real-Whisper test at a time: they share one model and its
/// recognition queue (one decode slot on 2 cores), so a call's turn would
/// otherwise wait behind another test's decodes and miss its deadline.
/// Every test that decodes with the real model holds this while it runs.
pub async fn model_turn() -> tokio::sync::MutexGuard<'static, ()> {
    static TURN: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());
    TURN.lock().await
}

/// Booking sentences a caller says; no numbers, so the WER does not depend
/// on whether Whisper writes digits or words.
const SENTENCES: [&str; 8] = [
    "Buongiorno, vorrei prenotare un taglio per domani mattina.",
    "Mi chiamo Marco Rossi.",
    "Vorrei spostare il mio appuntamento a venerdì pomeriggio.",
    "Posso disdire la prenotazione di lunedì?",
    "Sì, va bene, grazie mille.",
    "Avete posto per una piega sabato?",
    "Preferisco con Giulia, se possibile.",
    "A che ora chiudete stasera?",
];

/// The recognition prompt of the seeded demo business (its services,
/// operators and the booking words), as calls use it.
async fn business_prompt() -> String {
    let app = TestApp::spawn().await;
    agent::stt_prompt(app.state.engine().info())
}

/// At 16 kHz, as `fluxion stt` takes a WAV file. (Over a phone line at
/// 8 kHz espeak-ng's voice is harder for Whisper base: see the `stt_eval`
/// example for both rates on a larger set.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn espeak_italian_is_recognised_within_40_percent_wer() {
    let (Some(stt), Some(tts)) = (real_whisper(), espeak()) else { return };
    let _turn = model_turn().await;
    let request = SttRequest::italian(16_000).with_prompt(business_prompt().await);
    let (mut errors, mut words) = (0, 0);
    for said in SENTENCES {
        let pcm = speech(&tts, said, 16_000).await;
        let heard = transcribe(stt.as_ref(), &request, &pcm).await.expect("recognised").text;
        let (e, n) = word_errors(said, &heard);
        eprintln!("{e}/{n} said {said:?} heard {heard:?}");
        assert!(normalised_words(&heard).len() <= 2 * n, "{heard:?} is more than twice the {n} words said");
        errors += e;
        words += n;
    }
    let rate = errors as f64 / words as f64;
    eprintln!("WER {:.1}% ({errors}/{words})", rate * 100.0);
    assert!(rate <= 0.40, "WER {:.1}% over {words} words", rate * 100.0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn loop_prone_inputs_give_no_repetition() {
    let (Some(stt), Some(tts)) = (real_whisper(), espeak()) else { return };
    let _turn = model_turn().await;
    let request = SttRequest::italian(8_000).with_prompt(business_prompt().await);
    let phrase = "vorrei prenotare un taglio";
    let cases: Vec<(&str, Vec<i16>, usize)> = vec![
        ("silence", silence(3_000, 8_000), 0),
        ("a long pause", [speech(&tts, "Buongiorno", 8_000).await, silence(5_000, 8_000), speech(&tts, phrase, 8_000).await].concat(), 5),
        ("a repeated phrase", [speech(&tts, phrase, 8_000).await, silence(300, 8_000), speech(&tts, phrase, 8_000).await].concat(), 8),
    ];
    for (name, pcm, said_words) in cases {
        let heard = transcribe(stt.as_ref(), &request, &pcm).await.expect("recognised").text;
        let words = normalised_words(&heard);
        eprintln!("{name}: heard {heard:?}");
        let (n, times) = tandem_repeat(&words);
        assert!(times < 3, "{name}: a {n}-word phrase repeated {times} times in {heard:?}");
        assert!(words.len() <= (2 * said_words).max(3), "{name}: {heard:?} for {said_words} words said");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fluxion_stt_transcribes_a_wav_file_with_the_real_model() {
    let (Some(dir), Some(tts)) = (models_dir(), espeak()) else { return };
    let _turn = model_turn().await;
    let said = "Vorrei prenotare una piega per sabato.";
    let pcm = speech(&tts, said, 16_000).await;
    let tmp = tempfile::tempdir().expect("tempdir");
    let wav = tmp.path().join("caller.wav");
    std::fs::write(&wav, fluxion_core::audio::wav::wav_bytes(&pcm, 16_000).expect("wav")).expect("write");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_fluxion"))
        .args(["stt", "--json"])
        .arg(&wav)
        .env("FLUXION_MODELS_DIR", &dir)
        .env_remove("STT_ENGINE")
        .env_remove("WHISPER_MODEL")
        .output()
        .expect("fluxion runs");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON on stdout");
    assert_eq!(json["engine"], "whisper");
    let heard = json["text"].as_str().unwrap_or_default();
    let (e, n) = word_errors(said, heard);
    eprintln!("fluxion stt: {heard:?} ({e}/{n} errors)");
    let words = normalised_words(heard).len();
    assert!(words > 0 && words <= 2 * n, "{heard:?} for {said:?}");
}

/// A whole call at 8 kHz with the real recogniser and the default voice
/// settings (1 s configured recognition deadline): every turn is
/// recognised in time, reaches the dialogue and gets an answer.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_whole_call_with_real_recognition_reaches_the_dialogue() {
    let (Some(stt), Some(tts)) = (real_whisper(), espeak()) else { return };
    let _turn = model_turn().await;
    let app = TestApp::spawn().await;
    let lines = ["Buongiorno, vorrei prenotare un taglio per domani mattina.", "Mi chiamo Marco Rossi."];
    let mut caller = silence(600, 8_000);
    for line in lines {
        caller.extend(speech(&tts, line, 8_000).await);
        caller.extend(silence(1_500, 8_000));
    }
    let deps = VoiceDeps {
        stt,
        speaker: shared_speaker(&tts),
        vad: vad_for(VadEngine::Webrtc, 8_000).expect("vad"),
        stt_prompt: agent::stt_prompt(app.state.engine().info()),
    };
    let agent = EngineAgent::new(app.state.clone(), "whisper-call", Some("+393401234567".to_string())).await;
    let handle = start_call(deps, Box::new(agent), VoiceConfig { sample_rate_hz: 8_000, ..VoiceConfig::default() }).expect("call");
    let call = simulate(handle, &caller, 8_000, SimulateOptions::default()).await.expect("simulated call");
    for t in &call.summary.turns {
        eprintln!(
            "{:?} → {:?} ({}, transcript {} ms, first audio {:?} ms)",
            t.transcript, t.reply, t.intent, t.transcript_ms, t.first_audio_ms
        );
    }
    assert_eq!(call.summary.failed_recognitions, 0, "{:?}", call.summary.turns);
    assert_eq!(call.summary.turns.len(), 2, "{:?}", call.summary.turns);
    assert_eq!(call.summary.turns[0].intent, "book", "{:?}", call.summary.turns[0]);
    for t in &call.summary.turns {
        assert!(!t.transcript.is_empty() && !t.reply.is_empty() && t.reply != phrases::REPEAT, "{t:?}");
        assert!(t.first_audio_ms.is_some(), "{t:?}");
    }
}

/// The same two turns as a Twilio call: the caller's espeak-ng voice at
/// 8 kHz μ-law, in real time, over the signed webhook and media stream of a
/// real server whose recogniser is the real Whisper model (with the
/// business's recognition prompt, as `serve` builds it). Every turn is
/// recognised (no "please repeat"), reaches the dialogue (the first is a
/// booking) and gets a reply the caller hears.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_twilio_call_with_real_recognition_reaches_the_dialogue() {
    let Some(stt) = real_whisper() else { return };
    let _turn = model_turn().await;
    // The configured deadline is raised to 10 s: CI runs other tests beside
    // this one on 2 cores, and what is checked here is that real
    // recognition reaches the dialogue over Twilio. Reply latency is
    // measured on a quiet machine by `--example voice_e2e`.
    let config = VoiceConfig { stt_timeout_ms: 10_000, ..VoiceConfig::default() };
    let Some(app) = PhoneApp::spawn_full(stt, &[], config).await else { return };
    let lines = ["Buongiorno, vorrei prenotare un taglio per domani mattina.", "Mi chiamo Marco Rossi."];
    let caller = caller_audio(&lines).await;
    let options = SimulatorOptions { caller: Some("+393401234567".to_string()), ..app.options(Provider::Twilio) };
    let call = simulate_call(&options, &caller).await.expect("simulated call");
    for (at, text) in &call.said {
        eprintln!("[{at} ms] agent: {text}");
    }
    let (_, outcome) = app.ended_call(&options.call_sid).await;
    let turns: Vec<(String, String, Option<String>)> =
        sqlx::query_as("SELECT role, text, intent FROM chat_history WHERE session_id = ? ORDER BY id")
            .bind(&options.call_sid)
            .fetch_all(app.store.pool_for_tests())
            .await
            .expect("chat history");
    for (role, text, intent) in &turns {
        eprintln!("{role}: {text:?} ({intent:?})");
    }
    let (recorded, hangup): (i64, Option<String>) = sqlx::query_as("SELECT turns, hangup_reason FROM calls WHERE call_sid = ?")
        .bind(&options.call_sid)
        .fetch_one(app.store.pool_for_tests())
        .await
        .expect("call row");

    let not_understood = [phrases::REPEAT, phrases::GOODBYE_NOT_UNDERSTOOD];
    assert!(!call.said.iter().any(|(_, t)| not_understood.contains(&t.as_str())), "a failed recognition: {:?}", call.said);
    assert!(call.media_messages > 100, "the agent's audio came back as Twilio media ({} messages)", call.media_messages);
    let heard: Vec<&(String, String, Option<String>)> = turns.iter().filter(|(role, _, _)| role == "user").collect();
    let replies: Vec<&str> = turns.iter().filter(|(role, _, _)| role == "assistant").map(|(_, text, _)| text.as_str()).collect();
    assert_eq!(heard.len(), lines.len(), "one recognised turn per line: {turns:?}");
    assert!(heard.iter().all(|(_, text, _)| !text.trim().is_empty()), "{turns:?}");
    assert_eq!(heard[0].2.as_deref(), Some("book"), "the first turn reached the dialogue as a booking: {turns:?}");
    assert_eq!(replies.len(), lines.len(), "{turns:?}");
    assert!(replies.iter().all(|r| !r.trim().is_empty() && *r != phrases::REPEAT), "{replies:?}");
    assert_eq!(recorded, lines.len() as i64, "answered turns in the call row");
    assert_ne!(hangup.as_deref(), Some("not_understood"));
    assert_ne!(outcome.as_deref(), Some("failed"));
}

#[test]
fn wer_counts_substitutions_insertions_and_deletions() {
    assert_eq!(word_errors("Sì, va bene.", "si va bene"), (1, 3));
    assert_eq!(word_errors("vorrei un taglio", "vorrei un taglio taglio"), (1, 3));
    assert_eq!(word_errors("vorrei un taglio", "vorrei"), (2, 3));
    assert_eq!(word_errors("", "ciao"), (1, 0));
}
