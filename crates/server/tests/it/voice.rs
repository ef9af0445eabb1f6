//! The voice session on real synthesised Italian (espeak-ng speaks the
//! caller): segmentation, booking, barge-in, false interruptions,
//! backchannels, the filler, re-prompts, recognition timeouts and the
//! maximum call duration.
//!
//! No Whisper weights exist on these machines, so these tests use the
//! SCRIPTED recogniser (`ScriptedStt`): each turn the session detects gets
//! the next known line. What is checked is real: the VAD and endpointer
//! segment the synthesised audio into exactly one turn per line, the
//! dialogue books in SQLite, and speech comes back. The real whisper.cpp
//! path is tested in `speech::whisper` on a generated model.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use fluxion::cli::voice::convert_rate;
use fluxion::speech::espeak::EspeakTts;
use fluxion::speech::scripted::ScriptedStt;
use fluxion::speech::speaker::Speaker;
use fluxion::speech::vad_for;
use fluxion::voice::simulate::{simulate, SimulateOptions};
use fluxion::voice::{
    agent, phrases, start_call, Agent, AgentReply, CallEvent, CallHandle, CallInput, EngineAgent, HangupReason, Phase, VoiceConfig,
    VoiceDeps,
};
use fluxion_core::audio::g711;
use fluxion_core::audio::vad::VadEngine;
use fluxion_core::speech::stt::{SpeechToText, SttError, SttRequest, SttStream, Transcript};
use fluxion_core::speech::tts::synthesize_all;
use fluxion_core::speech::BoxFuture;

use crate::TestApp;

/// espeak-ng, or `None` (the test skips) when it is not installed and
/// `FLUXION_REQUIRE_ESPEAK` is unset; the test script sets it.
pub(crate) fn espeak() -> Option<EspeakTts> {
    match EspeakTts::new("it", 165) {
        Ok(tts) => Some(tts),
        Err(e) if std::env::var_os("FLUXION_REQUIRE_ESPEAK").is_none() => {
            eprintln!("SKIP: {e}");
            None
        }
        Err(e) => panic!("{e}"),
    }
}

/// `text` spoken by espeak-ng at `rate_hz`, leading and trailing silence trimmed.
pub(crate) async fn speech(tts: &EspeakTts, text: &str, rate_hz: u32) -> Vec<i16> {
    let pcm = synthesize_all(tts, text).await.expect("espeak speaks");
    let pcm = convert_rate(&pcm, 22_050, rate_hz).expect("resample");
    let loud = |s: &i16| s.unsigned_abs() > 500;
    let start = pcm.iter().position(loud).unwrap_or(0);
    let end = pcm.iter().rposition(loud).map(|i| i + 1).unwrap_or(pcm.len());
    pcm[start..end].to_vec()
}

pub(crate) fn silence(ms: u32, rate_hz: u32) -> Vec<i16> {
    vec![0; (ms * rate_hz / 1000) as usize]
}

/// One speaker for all tests, so fixed phrases are synthesised once (as
/// in the server, which prepares them at start-up) and a loaded machine
/// running many tests at once does not miss the synthesis deadline.
pub(crate) fn shared_speaker(tts: &EspeakTts) -> Arc<Speaker> {
    static SPEAKER: std::sync::OnceLock<Arc<Speaker>> = std::sync::OnceLock::new();
    SPEAKER.get_or_init(|| Arc::new(Speaker::new(Arc::new(tts.clone()), None, None).with_timeout_ms(30_000))).clone()
}

fn deps(stt: Arc<dyn SpeechToText>, tts: &EspeakTts, rate_hz: u32) -> VoiceDeps {
    VoiceDeps { stt, speaker: shared_speaker(tts), vad: vad_for(VadEngine::Webrtc, rate_hz).expect("vad"), stt_prompt: String::new() }
}

const LINES: [&str; 3] = ["Buongiorno, vorrei prenotare un taglio donna per giovedì alle quindici", "Mi chiamo Mario Bianchi", "sì"];

/// The conversation, spoken, through the whole session at `rate_hz`
/// (`mulaw`: the caller's audio goes through G.711 μ-law as on a phone line).
async fn books_by_voice(rate_hz: u32, mulaw: bool) {
    let Some(tts) = espeak() else { return };
    let app = TestApp::spawn().await;
    let mut caller = silence(600, rate_hz);
    let mut line_ms = Vec::new();
    for line in LINES {
        let pcm = speech(&tts, line, rate_hz).await;
        line_ms.push(pcm.len() as u64 * 1000 / u64::from(rate_hz));
        caller.extend(pcm);
        caller.extend(silence(1_500, rate_hz));
    }
    if mulaw {
        caller = g711::mulaw_to_pcm(&g711::pcm_to_mulaw(&caller));
    }
    let stt = ScriptedStt::new(LINES);
    let mut deps = deps(Arc::new(stt.clone()), &tts, rate_hz);
    deps.stt_prompt = agent::stt_prompt(app.state.engine().info());
    let agent = EngineAgent::new(app.state.clone(), "voice-test", Some("+393401234567".to_string())).await;
    let handle = start_call(deps, Box::new(agent), VoiceConfig { sample_rate_hz: rate_hz, ..VoiceConfig::default() }).expect("call");
    let call = simulate(handle, &caller, rate_hz, SimulateOptions::default()).await.expect("simulated call");
    let summary = &call.summary;
    for t in &summary.turns {
        eprintln!("{t:?}");
    }

    // One turn per spoken line, each about as long as the line.
    let heard = stt.utterance_ms();
    assert_eq!(heard.len(), 3, "segmentation: {heard:?} for lines of {line_ms:?} ms");
    for (got, want) in heard.iter().zip(&line_ms) {
        assert!(got + 150 >= *want && *got <= want + 900, "utterance of {got} ms for a line of {want} ms");
    }
    assert_eq!(summary.turns.len(), 3);
    assert_eq!(summary.turns[0].intent, "book");
    assert!(summary.turns[1].reply.contains("Confermo"), "read-back: {}", summary.turns[1].reply);
    let booked = summary.turns[2].booking_id.expect("the last turn books");
    assert!(summary.turns.iter().all(|t| t.first_audio_ms.is_some() && t.transcript_ms <= t.reply_ms), "timings: {:?}", summary.turns);

    let (start, status, name): (String, String, String) =
        sqlx::query_as("SELECT a.start_utc, a.status, c.name FROM appointments a JOIN clients c ON c.id = a.client_id WHERE a.id = ?")
            .bind(booked)
            .fetch_one(app.store.pool_for_tests())
            .await
            .expect("the appointment is in the database");
    assert_eq!((start.as_str(), status.as_str(), name.as_str()), ("2027-03-11T14:00:00Z", "booked", "Mario Bianchi"));

    // The agent spoke: greeting plus three replies, audible.
    assert!(call.said().len() >= 4, "{:?}", call.said());
    let loud = call.agent_audio.iter().filter(|s| s.unsigned_abs() > 2_000).count();
    assert!(loud > rate_hz as usize, "agent audio has {loud} loud samples");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn books_an_appointment_by_voice_at_16_khz() {
    books_by_voice(16_000, false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn books_an_appointment_by_voice_over_8_khz_mulaw() {
    books_by_voice(8_000, true).await;
}

/// A conversation partner with fixed words and an optional thinking time.
struct TestAgent {
    greeting: String,
    reply: String,
    delay_ms: u64,
    heard: Arc<Mutex<Vec<String>>>,
}

impl TestAgent {
    fn new(greeting: &str, reply: &str) -> (Self, Arc<Mutex<Vec<String>>>) {
        let heard = Arc::new(Mutex::new(Vec::new()));
        (TestAgent { greeting: greeting.into(), reply: reply.into(), delay_ms: 0, heard: heard.clone() }, heard)
    }
}

impl Agent for TestAgent {
    fn greet(&mut self) -> BoxFuture<'_, String> {
        Box::pin(async move { self.greeting.clone() })
    }

    fn reply<'a>(&'a mut self, text: &'a str) -> BoxFuture<'a, Result<AgentReply, String>> {
        Box::pin(async move {
            tokio::time::sleep(Duration::from_millis(self.delay_ms)).await;
            self.heard.lock().unwrap().push(text.to_string());
            Ok(AgentReply { text: self.reply.clone(), intent: "test".into(), layer: "L0".into(), ..AgentReply::default() })
        })
    }
}

/// Drives a call frame by frame, waiting for the session to take each one.
struct Driver {
    handle: CallHandle,
    frame_len: usize,
    sent: u64,
    events: Vec<CallEvent>,
}

impl Driver {
    fn new(handle: CallHandle, rate_hz: u32) -> Self {
        Driver { handle, frame_len: (rate_hz / 50) as usize, sent: 0, events: Vec::new() }
    }

    fn drain(&mut self) {
        while let Ok(e) = self.handle.events.try_recv() {
            self.events.push(e);
        }
    }

    /// Sends `pcm` in 20 ms frames; stops early if the call ends.
    async fn send(&mut self, pcm: &[i16]) {
        for frame in pcm.chunks(self.frame_len) {
            if self.handle.input.send(CallInput::Audio(frame.to_vec())).await.is_err() {
                return;
            }
            self.sent += frame.len() as u64;
            let sent = self.sent;
            let _ = self.handle.status.wait_for(|s| s.samples_in >= sent || s.phase == Phase::Ended).await;
            self.drain();
        }
    }

    async fn wait_for_phase(&mut self, phase: Phase) {
        tokio::time::timeout(Duration::from_secs(20), self.handle.status.wait_for(|s| s.phase == phase))
            .await
            .expect("phase in time")
            .expect("call alive");
        self.drain();
    }

    fn audio_frames(&self) -> usize {
        self.events.iter().filter(|e| matches!(e, CallEvent::Audio { .. })).count()
    }

    fn position(&self, wanted: impl Fn(&CallEvent) -> bool) -> Option<usize> {
        self.events.iter().position(wanted)
    }

    fn said(&self) -> Vec<String> {
        self.events.iter().filter_map(|e| if let CallEvent::Say(t) = e { Some(t.clone()) } else { None }).collect()
    }

    async fn hang_up(&mut self) -> fluxion::voice::CallSummary {
        let _ = self.handle.input.send(CallInput::Hangup).await;
        let summary = (&mut self.handle.task).await.expect("call task");
        self.drain();
        summary
    }
}

const GREETING: &str = "Buongiorno, sono l'assistente del salone. Oggi abbiamo molte offerte interessanti per lei. Come posso aiutarla?";

/// Frames the greeting takes to play at `rate_hz`.
async fn greeting_frames(tts: &EspeakTts, rate_hz: u32) -> usize {
    let speaker = Speaker::new(Arc::new(tts.clone()), None, None);
    speaker.phrase(GREETING, rate_hz).await.unwrap().len().div_ceil((rate_hz / 50) as usize)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn barge_in_stops_playback_within_200_ms_and_drops_the_rest() {
    let Some(tts) = espeak() else { return };
    let rate = 8_000;
    let (agent, heard) = TestAgent::new(GREETING, "Certo, mi dica.");
    let stt = ScriptedStt::new(["vorrei prenotare un taglio"]);
    let handle = start_call(deps(Arc::new(stt), &tts, rate), Box::new(agent), VoiceConfig::default()).unwrap();
    let mut d = Driver::new(handle, rate);
    d.wait_for_phase(Phase::Speaking).await;
    d.send(&silence(1_000, rate)).await;
    let before = d.audio_frames();
    assert!(before >= 45, "the greeting plays while the caller is silent ({before} frames)");

    // The caller talks over the greeting: count frames until Clear.
    let words = speech(&tts, "vorrei prenotare un taglio", rate).await;
    let mut frames_to_clear = None;
    for (i, frame) in words.chunks(160).enumerate() {
        d.send(frame).await;
        if d.position(|e| *e == CallEvent::Clear).is_some() {
            frames_to_clear = Some(i + 1);
            break;
        }
    }
    let frames_to_clear = frames_to_clear.expect("barge-in sent Clear");
    assert!(frames_to_clear * 20 <= 200, "Clear after {} ms of caller speech", frames_to_clear * 20);
    let at_clear = d.audio_frames();
    let rest = &words[frames_to_clear * 160..];
    d.send(rest).await;
    assert_eq!(d.audio_frames(), at_clear, "no agent audio while the caller speaks");
    d.send(&silence(700, rate)).await;
    for _ in 0..100 {
        if d.said().iter().any(|s| s == "Certo, mi dica.") {
            break;
        }
        d.send(&silence(100, rate)).await;
    }
    d.send(&silence(2_500, rate)).await;
    let summary = d.hang_up().await;

    assert_eq!(heard.lock().unwrap().as_slice(), ["vorrei prenotare un taglio"]);
    assert_eq!(summary.barge_ins, 1);
    let greeting_played = {
        let clear = d.position(|e| *e == CallEvent::Clear).unwrap();
        d.events[..clear].iter().filter(|e| matches!(e, CallEvent::Audio { .. })).count()
    };
    assert!(greeting_played < greeting_frames(&tts, rate).await, "the rest of the greeting was dropped");
    assert_eq!(d.said().last().map(String::as_str), Some("Certo, mi dica."));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cough_or_a_backchannel_does_not_interrupt_the_reply() {
    let Some(tts) = espeak() else { return };
    let rate = 8_000;
    let words = speech(&tts, "sì sì, certo", rate).await;
    for (name, noise, lines) in
        [("cough", words[..(150 * 8) as usize].to_vec(), vec![]), ("backchannel", words.clone(), vec!["sì sì, certo"])]
    {
        let (agent, heard) = TestAgent::new(GREETING, "Certo.");
        let handle = start_call(deps(Arc::new(ScriptedStt::new(lines)), &tts, rate), Box::new(agent), VoiceConfig::default()).unwrap();
        let mut d = Driver::new(handle, rate);
        d.wait_for_phase(Phase::Speaking).await;
        d.send(&silence(600, rate)).await;
        d.send(&noise).await;
        // Let the greeting finish.
        for _ in 0..40 {
            d.send(&silence(500, rate)).await;
            if d.handle.status.borrow().phase == Phase::Listening {
                break;
            }
        }
        let summary = d.hang_up().await;
        assert!(d.position(|e| *e == CallEvent::Clear).is_some(), "{name}: playback paused");
        assert_eq!(summary.false_interruptions, 1, "{name}");
        assert_eq!(summary.barge_ins, 0, "{name}");
        assert!(heard.lock().unwrap().is_empty(), "{name}: not a turn");
        assert_eq!(d.audio_frames(), greeting_frames(&tts, rate).await, "{name}: the whole greeting was played");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn silence_gets_re_prompts_then_a_polite_goodbye() {
    let Some(tts) = espeak() else { return };
    let rate = 8_000;
    let (agent, _) = TestAgent::new("Buongiorno.", "Certo.");
    let config = VoiceConfig { silence_reprompt_ms: 1_500, max_reprompts: 2, ..VoiceConfig::default() };
    let handle = start_call(deps(Arc::new(ScriptedStt::new(Vec::<String>::new())), &tts, rate), Box::new(agent), config).unwrap();
    let mut d = Driver::new(handle, rate);
    for _ in 0..200 {
        d.send(&silence(200, rate)).await;
        if d.handle.status.borrow().phase == Phase::Ended {
            break;
        }
    }
    let summary = d.hang_up().await;
    assert_eq!(d.said(), ["Buongiorno.", phrases::STILL_THERE, phrases::STILL_THERE, phrases::GOODBYE_SILENCE]);
    assert_eq!(summary.reason, HangupReason::Silence);
    assert_eq!(d.events.last(), Some(&CallEvent::Hangup(HangupReason::Silence)));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_reply_gets_the_filler_first() {
    let Some(tts) = espeak() else { return };
    let rate = 8_000;
    let (mut agent, _) = TestAgent::new("Buongiorno.", "Ecco la risposta.");
    agent.delay_ms = 1_600;
    let handle =
        start_call(deps(Arc::new(ScriptedStt::new(["quanto costa un taglio"])), &tts, rate), Box::new(agent), VoiceConfig::default())
            .unwrap();
    let mut caller = silence(300, rate);
    caller.extend(speech(&tts, "quanto costa un taglio", rate).await);
    caller.extend(silence(1_000, rate));
    let call = simulate(handle, &caller, rate, SimulateOptions::default()).await.unwrap();
    assert_eq!(call.said(), ["Buongiorno.", phrases::FILLER, "Ecco la risposta."]);
    assert!(call.summary.turns[0].filler);
    assert!(call.summary.turns[0].reply_ms >= 1_600);
}

/// What the agent is asked to answer when the caller says `first`, waits
/// `gap_ms`, then says `second` (if any), and the utterances recognised.
async fn heard_across_a_pause(tts: &EspeakTts, first: &str, gap_ms: u32, second: Option<&str>) -> (Vec<String>, usize) {
    let rate = 8_000;
    let (agent, heard) = TestAgent::new("Buongiorno.", "Certo, mi dica.");
    let stt = ScriptedStt::new([Some(first), second].into_iter().flatten());
    let handle = start_call(deps(Arc::new(stt.clone()), tts, rate), Box::new(agent), VoiceConfig::default()).unwrap();
    let mut caller = silence(300, rate);
    caller.extend(speech(tts, first, rate).await);
    caller.extend(silence(gap_ms, rate));
    if let Some(second) = second {
        caller.extend(speech(tts, second, rate).await);
        caller.extend(silence(1_500, rate));
    }
    simulate(handle, &caller, rate, SimulateOptions::default()).await.unwrap();
    let heard = heard.lock().unwrap().clone();
    (heard, stt.utterance_ms().len())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unfinished_sentence_waits_for_the_rest_a_complete_one_is_answered() {
    let Some(tts) = espeak() else { return };
    // 800 ms of silence ends a turn (500 ms), but "per" leaves it open
    // (500 + 600 ms): the rest of the sentence joins it.
    let (heard, utterances) = heard_across_a_pause(&tts, "Vorrei prenotare per", 800, Some("giovedì alle quindici")).await;
    assert_eq!(utterances, 2, "two utterances recognised");
    assert_eq!(heard, ["Vorrei prenotare per giovedì alle quindici"]);
    // The same pause after a complete sentence: it is answered on its own.
    let (heard, _) = heard_across_a_pause(&tts, "Vorrei prenotare un taglio", 800, Some("per giovedì")).await;
    assert_eq!(heard, ["Vorrei prenotare un taglio", "per giovedì"]);
    // Unfinished words with nothing after them are answered once the longer wait is over.
    let (heard, _) = heard_across_a_pause(&tts, "Vorrei prenotare per", 2_500, None).await;
    assert_eq!(heard, ["Vorrei prenotare per"]);
}

/// A slow recogniser that tells a long utterance from a short one: more
/// than `long_ms` of audio is `long`, less is `short`.
#[derive(Clone, Copy)]
struct SlowStt {
    delay_ms: u64,
    long_ms: u64,
    long: &'static str,
    short: &'static str,
}

struct SlowStream {
    owner: SlowStt,
    samples: usize,
}

impl SpeechToText for SlowStt {
    fn name(&self) -> &str {
        "slow"
    }
    fn start<'a>(&'a self, _: &'a SttRequest) -> BoxFuture<'a, Result<Box<dyn SttStream>, SttError>> {
        Box::pin(async move { Ok(Box::new(SlowStream { owner: *self, samples: 0 }) as Box<dyn SttStream>) })
    }
}

impl SttStream for SlowStream {
    fn push<'a>(&'a mut self, pcm: &'a [i16]) -> BoxFuture<'a, Result<(), SttError>> {
        self.samples += pcm.len();
        Box::pin(async { Ok(()) })
    }
    fn finish(self: Box<Self>) -> BoxFuture<'static, Result<Transcript, SttError>> {
        Box::pin(async move {
            tokio::time::sleep(Duration::from_millis(self.owner.delay_ms)).await;
            let audio_ms = self.samples as u64 / 8;
            let text = if audio_ms > self.owner.long_ms { self.owner.long } else { self.owner.short };
            Ok(Transcript { text: text.to_string(), confidence: None, audio_ms })
        })
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_caller_who_goes_on_before_the_turn_is_recognised_is_heard_whole() {
    let Some(tts) = espeak() else { return };
    let rate = 8_000;
    let (first, second) = (speech(&tts, "Vorrei prenotare un taglio", rate).await, speech(&tts, "per giovedì alle quindici", rate).await);
    let (first_ms, second_ms) = (first.len() as u64 / 8, second.len() as u64 / 8);
    // Recognition takes 3 s; the caller goes on 700 ms after the first words.
    let stt = SlowStt { delay_ms: 3_000, long_ms: first_ms + second_ms, long: "JOINED", short: "PIECE" };
    let (agent, heard) = TestAgent::new("Buongiorno.", "Certo.");
    let config = VoiceConfig { stt_timeout_ms: 10_000, ..VoiceConfig::default() };
    let handle = start_call(deps(Arc::new(stt), &tts, rate), Box::new(agent), config).unwrap();
    let mut caller = silence(2_000, rate);
    caller.extend(first);
    caller.extend(silence(700, rate));
    caller.extend(second);
    caller.extend(silence(1_000, rate));
    let options = SimulateOptions { realtime: true, tail_ms: 6_000, ..SimulateOptions::default() };
    simulate(handle, &caller, rate, options).await.unwrap();
    assert_eq!(*heard.lock().unwrap(), ["JOINED"], "both parts recognised together, once");
}

/// A recogniser that never answers in time.
struct StalledStt;

struct StalledStream;

impl SpeechToText for StalledStt {
    fn name(&self) -> &str {
        "stalled"
    }
    fn start<'a>(&'a self, _: &'a SttRequest) -> BoxFuture<'a, Result<Box<dyn SttStream>, SttError>> {
        Box::pin(async { Ok(Box::new(StalledStream) as Box<dyn SttStream>) })
    }
}

impl SttStream for StalledStream {
    fn push<'a>(&'a mut self, _: &'a [i16]) -> BoxFuture<'a, Result<(), SttError>> {
        Box::pin(async { Ok(()) })
    }
    fn finish(self: Box<Self>) -> BoxFuture<'static, Result<Transcript, SttError>> {
        Box::pin(async {
            tokio::time::sleep(Duration::from_secs(30)).await;
            Ok(Transcript::default())
        })
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn recognition_timeouts_ask_to_repeat_then_end_the_call() {
    let Some(tts) = espeak() else { return };
    let rate = 8_000;
    let (agent, heard) = TestAgent::new("Buongiorno.", "Certo.");
    let config = VoiceConfig { stt_timeout_ms: 300, max_failed_turns: 2, ..VoiceConfig::default() };
    let handle = start_call(deps(Arc::new(StalledStt), &tts, rate), Box::new(agent), config).unwrap();
    let line = speech(&tts, "vorrei un appuntamento", rate).await;
    let mut caller = Vec::new();
    for _ in 0..3 {
        caller.extend(silence(1_000, rate));
        caller.extend(&line);
    }
    caller.extend(silence(1_000, rate));
    let call = simulate(handle, &caller, rate, SimulateOptions::default()).await.unwrap();
    assert_eq!(call.said(), ["Buongiorno.", phrases::REPEAT, phrases::GOODBYE_NOT_UNDERSTOOD]);
    assert_eq!(call.summary.reason, HangupReason::NotUnderstood);
    assert_eq!(call.summary.failed_recognitions, 2);
    assert!(heard.lock().unwrap().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_call_ends_politely_at_the_maximum_duration() {
    let Some(tts) = espeak() else { return };
    let rate = 8_000;
    let (agent, _) = TestAgent::new("Buongiorno.", "Certo.");
    let config = VoiceConfig { max_call_ms: 3_000, silence_reprompt_ms: 60_000, ..VoiceConfig::default() };
    let handle = start_call(deps(Arc::new(ScriptedStt::new(Vec::<String>::new())), &tts, rate), Box::new(agent), config).unwrap();
    let call = simulate(handle, &silence(20_000, rate), rate, SimulateOptions::default()).await.unwrap();
    assert_eq!(call.said(), ["Buongiorno.", phrases::GOODBYE_TIME]);
    assert_eq!(call.summary.reason, HangupReason::MaxDuration);
    assert!(call.summary.duration_ms >= 3_000 && call.summary.duration_ms < 12_000, "{} ms", call.summary.duration_ms);
}
