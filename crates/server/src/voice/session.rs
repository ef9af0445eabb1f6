//! The call loop: one task per call that owns the VAD, the endpointer and
//! the playback queue, and runs speech recognition, the dialogue and
//! synthesis in worker tasks so that incoming audio (and barge-in) is never
//! held up by them.
//!
//! Control never waits behind data: a barge-in pauses the playback queue at
//! once and tells the transport to drop what it holds ([`CallEvent::Clear`]);
//! a real interruption cancels the reply's remaining sentences through a
//! cancellation token.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use fluxion_core::audio::endpoint::{EndpointError, EndpointEvent, Endpointer};
use fluxion_core::audio::frame::Framer;
use fluxion_core::audio::vad::Vad;
use fluxion_core::speech::stt::{transcribe, SpeechToText, SttError, SttRequest, Transcript};
use fluxion_core::speech::{backchannel, sentences};
use serde::Serialize;
use tokio::sync::{mpsc, watch, Mutex};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use super::agent::{Agent, AgentReply};
use super::config::VoiceConfig;
pub use super::outcome::{CallSummary, HangupReason, TurnTiming};
use super::phrases;
use super::playback::Playback;
use super::speculation::{self, Held, Speculation};
use crate::speech::speaker::Speaker;

/// Histogram: time to handle one VAD frame (VAD, endpointing, playback), seconds.
pub const FRAME_SECONDS: &str = "fluxion_voice_frame_seconds";
/// Counter: audio chunks handled more than 20 ms behind real time (the
/// call's audio clock against the wall clock since the call started).
pub const FRAMES_LATE_TOTAL: &str = "fluxion_voice_frames_late_total";

/// What a transport hands the session.
#[derive(Debug, Clone, PartialEq)]
pub enum CallInput {
    /// Caller audio: mono 16-bit PCM at the call's rate, any length.
    Audio(Vec<i16>),
    /// A keypad digit (`0`–`9`, `*`, `#`): 1 = yes, 2 = no, 0 = a person.
    Dtmf(char),
    /// The caller hung up (or the stream stopped).
    Hangup,
}

/// What the session asks the transport to do, in order.
#[derive(Debug, Clone, PartialEq)]
pub enum CallEvent {
    /// Play 20 ms of the agent's voice.
    Audio {
        /// PCM at the call's rate, 20 ms.
        pcm: Vec<i16>,
        /// Call-clock time it is released at, ms from the start of the call's audio.
        at_ms: u64,
    },
    /// Barge-in: drop any agent audio not played yet.
    Clear,
    /// The agent starts saying `text` (reply, greeting or fixed phrase).
    Say(String),
    /// A caller turn was answered; its timings.
    Turn(TurnTiming),
    /// The caller asked for a person (after the reply has been spoken).
    Transfer,
    /// End the call; nothing follows.
    Hangup(HangupReason),
}

/// What the session is doing, for transports and simulators that pace themselves by it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    /// Waiting for the caller.
    Listening,
    /// Working on a reply: recognising, answering or synthesising, with
    /// nothing ready to play.
    Thinking,
    /// Playing the agent's voice.
    Speaking,
    /// The call is over.
    Ended,
}

/// The engines a call uses.
pub struct VoiceDeps {
    /// Speech-to-text.
    pub stt: Arc<dyn SpeechToText>,
    /// Text-to-speech with fallback and phrase cache.
    pub speaker: Arc<Speaker>,
    /// A fresh detector at the call's rate.
    pub vad: Box<dyn Vad>,
    /// Words for the recogniser (service and operator names).
    pub stt_prompt: String,
}

/// What the session is doing and how much caller audio it has taken in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Status {
    /// The current phase.
    pub phase: Phase,
    /// Caller audio processed so far, in samples at the call's rate.
    pub samples_in: u64,
}

/// A running call.
pub struct CallHandle {
    /// Where the transport sends caller audio, DTMF and hang-up.
    pub input: mpsc::Sender<CallInput>,
    /// What the session asks the transport to do.
    pub events: mpsc::Receiver<CallEvent>,
    /// What the session is doing now (updated after every input handled).
    pub status: watch::Receiver<Status>,
    /// The call task; resolves to the summary when the call ends.
    pub task: JoinHandle<CallSummary>,
}

/// Starts a call: the agent's greeting is queued at once, then the session
/// listens. The call ends on [`CallInput::Hangup`], when the input channel
/// closes, or by itself (goodbye, silence, maximum duration).
///
/// # Errors
/// Invalid endpointing settings, or a detector whose rate is not the call's.
pub fn start_call(deps: VoiceDeps, agent: Box<dyn Agent>, config: VoiceConfig) -> Result<CallHandle, EndpointError> {
    if deps.vad.sample_rate_hz() != config.sample_rate_hz {
        return Err(EndpointError::SampleRate(deps.vad.sample_rate_hz()));
    }
    let endpointer = Endpointer::new(config.endpoint, config.sample_rate_hz)?;
    let (input_tx, input_rx) = mpsc::channel(256);
    let (events_tx, events_rx) = mpsc::channel(1024);
    let (status_tx, status_rx) = watch::channel(Status { phase: Phase::Thinking, samples_in: 0 });
    let task = tokio::spawn(async move {
        let session = Session::new(deps, agent, config, endpointer, events_tx, status_tx);
        session.run(input_rx).await
    });
    Ok(CallHandle { input: input_tx, events: events_rx, status: status_rx, task })
}

/// Messages from worker tasks to the call loop; `turn` tells stale ones apart.
enum Work {
    Transcript {
        turn: u32,
        result: Result<Transcript, SttError>,
    },
    /// A decode of the turn so far, started in a pause at `speech_end` (samples).
    Speculated {
        turn: u32,
        speech_end: u64,
        result: Result<Transcript, SttError>,
    },
    Reply {
        turn: u32,
        reply: Result<AgentReply, String>,
    },
    /// Agent audio for the playback queue (a cached phrase's own buffer, shared).
    Audio {
        turn: u32,
        pcm: Arc<Vec<i16>>,
    },
    Sentence {
        turn: u32,
        text: String,
        engine: Result<String, String>,
    },
    Done {
        turn: u32,
    },
}

/// The caller turn being recognised or answered.
struct PendingTurn {
    index: u32,
    speech_start_ms: u64,
    speech_end_ms: u64,
    /// Silence waited after the last word before the turn ended, ms.
    endpoint_ms: u64,
    ended_at: Option<Instant>,
    transcript: Option<String>,
    transcript_ms: u64,
    reply: Option<AgentReply>,
    reply_ms: u64,
    first_audio_ms: Option<u64>,
    filler: bool,
    tts_engine: String,
    /// The caller spoke while the agent was talking; decided once transcribed.
    during_playback: bool,
    early_result: Option<Result<Transcript, SttError>>,
    /// The turn's audio once it has ended (pre-roll included), kept until
    /// its transcript comes: if the caller goes on first, it opens the next turn.
    audio: Vec<i16>,
}

impl PendingTurn {
    /// A turn numbered `index` whose speech started at `at_ms` (call clock).
    fn new(index: u32, at_ms: u64) -> Self {
        PendingTurn {
            index,
            speech_start_ms: at_ms,
            speech_end_ms: at_ms,
            endpoint_ms: 0,
            ended_at: None,
            transcript: None,
            transcript_ms: 0,
            reply: None,
            reply_ms: 0,
            first_audio_ms: None,
            filler: false,
            tts_engine: String::new(),
            during_playback: false,
            early_result: None,
            audio: Vec::new(),
        }
    }
}

struct Session {
    config: VoiceConfig,
    deps: VoiceDeps,
    agent: Arc<Mutex<Box<dyn Agent>>>,
    events: mpsc::Sender<CallEvent>,
    status: watch::Sender<Status>,
    work_tx: mpsc::UnboundedSender<Work>,
    work_rx: mpsc::UnboundedReceiver<Work>,
    endpointer: Endpointer,
    framer: Framer,
    playback: Playback,
    phrases: HashMap<&'static str, Arc<Vec<i16>>>,
    /// Call audio processed by the VAD, in samples.
    samples_in: u64,
    /// Call audio received, in samples (includes a partial VAD frame).
    received: u64,
    /// When the call's audio clock started (the first audio), for lag.
    clock_start: Option<Instant>,
    /// Samples received that playback has not yet been paced against.
    play_credit: usize,
    play_frame_len: usize,
    /// Consecutive caller speech during playback, in samples.
    barge_speech: usize,
    utterance_tx: Option<mpsc::UnboundedSender<Vec<i16>>>,
    /// Stops the turn's regular recogniser when a speculation replaces it.
    recognition_cancel: Option<CancellationToken>,
    speculation: Option<Speculation>,
    /// A turn that ended mid-sentence, its answer held for the rest.
    held: Option<Held>,
    /// The words of a held turn, carried into the caller's next turn.
    carried: Option<String>,
    /// The audio of a turn the caller went on from before it was
    /// recognised: recognised again with the new turn, in front of it.
    resumed: Vec<i16>,
    turn_seq: u32,
    pending: Option<PendingTurn>,
    /// The turn whose reply is being spoken (its worker's id) and its cancel token.
    speaking: Option<(u32, CancellationToken)>,
    stt_deadline: Option<tokio::time::Instant>,
    filler_deadline: Option<tokio::time::Instant>,
    silence_samples: u64,
    reprompts: u32,
    failures_in_row: u32,
    hangup_after: Option<HangupReason>,
    transfer_after: bool,
    summary: CallSummary,
    /// This call's number in the recogniser's queue (fair turns between calls).
    stt_call: u64,
}

/// Numbers the calls for the recogniser's queue.
static NEXT_STT_CALL: AtomicU64 = AtomicU64::new(1);

impl Session {
    fn new(
        deps: VoiceDeps,
        agent: Box<dyn Agent>,
        config: VoiceConfig,
        endpointer: Endpointer,
        events: mpsc::Sender<CallEvent>,
        status: watch::Sender<Status>,
    ) -> Self {
        let rate = config.sample_rate_hz;
        let framer = Framer::with_len(deps.vad.frame_len());
        let play_frame_len = (rate / 50).max(1) as usize;
        let (work_tx, work_rx) = mpsc::unbounded_channel();
        Session {
            framer,
            endpointer,
            playback: Playback::new(play_frame_len),
            play_frame_len,
            config,
            deps,
            agent: Arc::new(Mutex::new(agent)),
            events,
            status,
            work_tx,
            work_rx,
            phrases: HashMap::new(),
            samples_in: 0,
            received: 0,
            clock_start: None,
            play_credit: 0,
            barge_speech: 0,
            utterance_tx: None,
            recognition_cancel: None,
            speculation: None,
            held: None,
            carried: None,
            resumed: Vec::new(),
            turn_seq: 0,
            pending: None,
            speaking: None,
            stt_deadline: None,
            filler_deadline: None,
            silence_samples: 0,
            reprompts: 0,
            failures_in_row: 0,
            hangup_after: None,
            transfer_after: false,
            stt_call: NEXT_STT_CALL.fetch_add(1, Ordering::Relaxed),
            summary: CallSummary {
                reason: HangupReason::CallerHungUp,
                duration_ms: 0,
                turns: Vec::new(),
                bookings: Vec::new(),
                barge_ins: 0,
                false_interruptions: 0,
                failed_recognitions: 0,
                transfer_requested: false,
            },
        }
    }

    /// A recognition request for this call's audio.
    fn stt_request(&self) -> SttRequest {
        SttRequest::italian(self.config.sample_rate_hz).with_prompt(self.deps.stt_prompt.clone()).for_call(self.stt_call)
    }

    fn ms(&self, samples: u64) -> u64 {
        samples * 1000 / u64::from(self.config.sample_rate_hz.max(1))
    }

    async fn run(mut self, mut input: mpsc::Receiver<CallInput>) -> CallSummary {
        self.load_phrases().await;
        self.greet();
        let reason = loop {
            if let Some(reason) = self.finished() {
                break reason;
            }
            self.publish_phase();
            let stt_deadline = self.stt_deadline;
            let filler_deadline = self.filler_deadline;
            // Results and deadlines before more audio: a steady stream of
            // frames must never hold back a transcript or a reply.
            tokio::select! {
                biased;
                Some(work) = self.work_rx.recv() => self.on_work(work).await,
                _ = sleep_until(stt_deadline) => self.on_stt_timeout().await,
                _ = sleep_until(filler_deadline) => self.on_filler().await,
                message = input.recv() => match message {
                    None | Some(CallInput::Hangup) => break HangupReason::CallerHungUp,
                    Some(CallInput::Audio(pcm)) => self.on_audio(&pcm).await,
                    Some(CallInput::Dtmf(digit)) => self.on_dtmf(digit),
                },
            }
        };
        if let Some((_, cancel)) = self.speaking.take() {
            cancel.cancel();
        }
        self.summary.reason = reason;
        self.summary.duration_ms = self.ms(self.samples_in);
        let samples_in = self.received;
        self.status.send_replace(Status { phase: Phase::Ended, samples_in });
        if reason != HangupReason::CallerHungUp {
            let _ = self.events.send(CallEvent::Hangup(reason)).await;
        }
        tracing::info!(reason = reason.as_str(), duration_ms = self.summary.duration_ms, turns = self.summary.turns.len(), "call ended");
        self.summary
    }

    /// Synthesises the fixed phrases once per call (served from the
    /// speaker's cache after the first call).
    async fn load_phrases(&mut self) {
        for &text in phrases::ALL {
            match self.deps.speaker.phrase(text, self.config.sample_rate_hz).await {
                Ok(pcm) => {
                    self.phrases.insert(text, pcm);
                }
                Err(e) => tracing::warn!(phrase = text, error = %e, "could not synthesise a fixed phrase"),
            }
        }
    }

    /// The reason to end the call now: a pending hang-up whose words have
    /// all been played.
    fn finished(&self) -> Option<HangupReason> {
        let reason = self.hangup_after?;
        (!self.playback.has_audio() && self.speaking.is_none()).then_some(reason)
    }

    fn publish_phase(&self) {
        // Paused playback still holds the floor until the interruption is decided.
        let phase = if self.playback.has_frames() {
            Phase::Speaking
        } else if self.held.is_none() && (self.pending.as_ref().is_some_and(|p| p.ended_at.is_some()) || self.speaking.is_some()) {
            // A held turn is listening for the rest of the sentence.
            Phase::Thinking
        } else {
            Phase::Listening
        };
        let status = Status { phase, samples_in: self.received };
        self.status.send_if_modified(|current| {
            let changed = *current != status;
            *current = status;
            changed
        });
    }

    fn greet(&mut self) {
        let turn = self.next_turn();
        let cancel = CancellationToken::new();
        self.speaking = Some((turn, cancel.clone()));
        let (agent, speaker, tx, rate) = (self.agent.clone(), self.deps.speaker.clone(), self.work_tx.clone(), self.config.sample_rate_hz);
        tokio::spawn(async move {
            let text = agent.lock().await.greet().await;
            let _ = tx.send(Work::Reply { turn, reply: Ok(AgentReply { text: text.clone(), ..AgentReply::default() }) });
            // The greeting is the same for every unknown caller: cached.
            match speaker.phrase(&text, rate).await {
                Ok(pcm) => {
                    let _ = tx.send(Work::Audio { turn, pcm });
                    let _ = tx.send(Work::Sentence { turn, text, engine: Ok(speaker.primary().engine().to_string()) });
                }
                Err(e) => {
                    let _ = tx.send(Work::Sentence { turn, text, engine: Err(e.to_string()) });
                }
            }
            let _ = tx.send(Work::Done { turn });
        });
    }

    fn next_turn(&mut self) -> u32 {
        self.turn_seq += 1;
        self.turn_seq
    }

    async fn emit(&mut self, event: CallEvent) {
        let _ = self.events.send(event).await;
    }

    async fn on_audio(&mut self, pcm: &[i16]) {
        self.received += pcm.len() as u64;
        // How far behind real time the call's audio is being handled.
        let clock_start = *self.clock_start.get_or_insert_with(Instant::now);
        let lag_ms = clock_start.elapsed().as_millis() as i64 - self.ms(self.received - pcm.len() as u64) as i64;
        if lag_ms > 20 {
            metrics::counter!(FRAMES_LATE_TOTAL).increment(1);
        }
        self.framer.push(pcm);
        while let Some(frame) = self.framer.next_frame().map(<[i16]>::to_vec) {
            let started = Instant::now();
            self.on_frame(&frame).await;
            metrics::histogram!(FRAME_SECONDS).record(started.elapsed().as_secs_f64());
            if self.hangup_after.is_some() && self.finished().is_some() {
                return;
            }
        }
    }

    async fn on_frame(&mut self, frame: &[i16]) {
        self.samples_in += frame.len() as u64;
        let probability = self.deps.vad.speech_probability(frame).unwrap_or(0.0);
        let speech = probability >= self.config.endpoint.threshold;
        let event = self.endpointer.push(frame, probability);

        // Barge-in: enough caller speech while the agent is audible.
        if speech && self.playback.has_audio() && !self.playback.is_paused() && self.hangup_after.is_none() {
            self.barge_speech += frame.len();
            if self.ms(self.barge_speech as u64) >= u64::from(self.config.barge_in_ms) {
                self.playback.pause();
                self.emit(CallEvent::Clear).await;
                tracing::debug!(at_ms = self.ms(self.samples_in), "barge-in: playback paused");
            }
        } else if !speech {
            self.barge_speech = 0;
        }

        if let Some(tx) = &self.utterance_tx {
            let _ = tx.send(frame.to_vec());
        }
        match event {
            Some(EndpointEvent::SpeechStarted { at_ms }) => self.on_speech_started(at_ms),
            Some(EndpointEvent::SpeechEnded { start_ms, end_ms, audio }) => self.on_speech_ended(start_ms, end_ms, audio).await,
            None => self.maybe_speculate(),
        }
        self.release_held();

        // A pause that came to nothing (a cough, a blip): the reply resumes.
        if self.playback.is_paused() && self.endpointer.is_idle() && self.pending.as_ref().is_none_or(|p| !p.during_playback) {
            self.resume_after_false_interruption().await;
        }

        self.pace_playback(frame.len()).await;
        self.watch_silence(frame.len()).await;
        if self.ms(self.samples_in) >= self.config.max_call_ms && self.hangup_after.is_none() {
            self.end_with(phrases::GOODBYE_TIME, HangupReason::MaxDuration).await;
        }
    }

    /// Releases one 20 ms frame of agent audio per 20 ms of caller audio.
    async fn pace_playback(&mut self, samples: usize) {
        self.play_credit += samples;
        while self.play_credit >= self.play_frame_len {
            self.play_credit -= self.play_frame_len;
            match self.playback.next_frame() {
                Some(pcm) => {
                    let at_ms = self.ms(self.samples_in);
                    self.emit(CallEvent::Audio { pcm, at_ms }).await
                }
                None => break,
            }
        }
        if !self.playback.has_audio() {
            self.play_credit = 0;
        }
    }

    async fn watch_silence(&mut self, samples: usize) {
        let quiet = self.endpointer.is_idle()
            && self.pending.is_none()
            && self.speaking.is_none()
            && !self.playback.has_audio()
            && self.hangup_after.is_none();
        if !quiet {
            self.silence_samples = 0;
            return;
        }
        self.silence_samples += samples as u64;
        if self.ms(self.silence_samples) < self.config.silence_reprompt_ms {
            return;
        }
        self.silence_samples = 0;
        self.reprompts += 1;
        if self.reprompts > self.config.max_reprompts {
            self.end_with(phrases::GOODBYE_SILENCE, HangupReason::Silence).await;
        } else {
            self.say_phrase(phrases::STILL_THERE).await;
        }
    }

    fn on_speech_started(&mut self, at_ms: u64) {
        // The caller goes on after words that stopped mid-sentence: they
        // open the new turn.
        if let Some(held) = self.held.take() {
            self.carried = self.pending.take().filter(|p| p.index == held.turn).and_then(|p| p.transcript);
        }
        // Or before its words were even recognised: its audio does.
        let unheard = self.pending.take_if(|p| p.ended_at.is_some() && p.transcript.is_none() && !p.during_playback);
        let at_ms = unheard.as_ref().map_or(at_ms, |p| p.speech_start_ms);
        self.resumed = unheard.map(|p| p.audio).unwrap_or_default();
        if !self.resumed.is_empty() {
            tracing::debug!(resumed_ms = self.ms(self.resumed.len() as u64), "the caller went on before the turn was recognised");
            if let Some(cancel) = self.recognition_cancel.take() {
                cancel.cancel();
            }
            self.stt_deadline = None;
            self.filler_deadline = None;
        }
        let index = self.next_turn();
        let during_playback = self.playback.has_audio() || self.speaking.is_some();
        self.pending = Some(PendingTurn { during_playback, ..PendingTurn::new(index, at_ms) });
        let (tx, rx) = mpsc::unbounded_channel();
        let _ = tx.send(self.utterance());
        self.utterance_tx = Some(tx);
        let request = self.stt_request();
        let cancel = CancellationToken::new();
        self.recognition_cancel = Some(cancel.clone());
        self.speculation = None;
        tokio::spawn(recognise(self.deps.stt.clone(), request, rx, self.work_tx.clone(), index, cancel));
    }

    /// The audio of the turn so far: a turn it resumes, then the endpointer's.
    fn utterance(&self) -> Vec<i16> {
        [self.resumed.as_slice(), self.endpointer.utterance()].concat()
    }

    /// In a pause of a confirmed turn, with a recogniser that decodes whole
    /// utterances: decodes the turn so far (see [`speculation`]).
    fn maybe_speculate(&mut self) {
        let Some(turn) = self.pending.as_ref().filter(|p| p.ended_at.is_none()).map(|p| p.index) else { return };
        if !self.endpointer.in_speech() || self.endpointer.silence_ms() < self.config.speculate_after_ms {
            return;
        }
        let speech_end = self.endpointer.speech_end_samples();
        if self.speculation.as_ref().is_some_and(|s| s.holds(turn, speech_end)) {
            return;
        }
        let pcm = self.utterance();
        if self.deps.stt.finish_estimate(self.ms(pcm.len() as u64)).is_none() {
            return;
        }
        let request = self.stt_request();
        let (stt, tx) = (self.deps.stt.clone(), self.work_tx.clone());
        let task = tokio::spawn(async move {
            let result = transcribe(stt.as_ref(), &request, &pcm).await;
            let _ = tx.send(Work::Speculated { turn, speech_end, result });
        });
        // Replacing a stale speculation aborts its decode.
        self.speculation = Some(Speculation { turn, speech_end, result: None, task });
    }

    /// A speculative decode finished: the turn's transcript when no speech
    /// came after it; before the end of the turn, its words set how long
    /// the endpointer waits.
    async fn on_speculated(&mut self, turn: u32, speech_end: u64, result: Result<Transcript, SttError>) {
        if !self.speculation.as_ref().is_some_and(|s| s.holds(turn, speech_end)) {
            return;
        }
        let Some(pending) = self.pending.as_ref().filter(|p| p.index == turn) else { return };
        if pending.ended_at.is_some() {
            // The turn ended while it was decoding: it is the transcript.
            self.speculation = None;
            if pending.transcript.is_none() {
                self.on_transcript(result).await;
            }
            return;
        }
        if self.endpointer.speech_end_samples() != speech_end {
            return;
        }
        let Ok(transcript) = &result else {
            // The regular recogniser still runs; it will answer.
            self.speculation = None;
            return;
        };
        let wait = speculation::end_silence_for(transcript, &self.config);
        if let Some(s) = self.speculation.as_mut() {
            s.result = Some(result);
        }
        if let Some(wait_ms) = wait {
            if self.endpointer.silence_ms() >= u64::from(wait_ms) {
                if let Some(EndpointEvent::SpeechEnded { start_ms, end_ms, audio }) = self.endpointer.end_turn_now() {
                    self.on_speech_ended(start_ms, end_ms, audio).await;
                }
            } else {
                self.endpointer.set_turn_end_silence_ms(wait_ms);
            }
        }
    }

    async fn on_speech_ended(&mut self, start_ms: u64, end_ms: u64, audio: Vec<i16>) {
        // A speculation with no speech after it stands for the regular decode.
        let speculated =
            self.speculation.take_if(|s| self.pending.as_ref().is_some_and(|p| s.holds(p.index, self.endpointer.speech_end_samples())));
        if speculated.is_some() {
            if let Some(cancel) = self.recognition_cancel.take() {
                cancel.cancel();
            }
        }
        self.utterance_tx = None;
        let now_ms = self.ms(self.samples_in);
        let resumed = std::mem::take(&mut self.resumed);
        let resumed_ms = self.ms(resumed.len() as u64);
        let Some(pending) = self.pending.as_mut() else { return };
        if resumed.is_empty() {
            pending.speech_start_ms = start_ms;
        }
        pending.audio = [resumed, audio].concat();
        pending.speech_end_ms = end_ms;
        pending.endpoint_ms = now_ms.saturating_sub(end_ms);
        pending.ended_at = Some(Instant::now());
        let early = pending.early_result.take();
        let now = tokio::time::Instant::now();
        // What the recogniser got: the speech, its pre-roll and the end-of-turn silence.
        let audio_ms = end_ms.saturating_sub(start_ms)
            + resumed_ms
            + u64::from(self.config.endpoint.end_silence_ms + self.config.endpoint.pre_roll_ms);
        let estimate = self.deps.stt.finish_estimate(audio_ms);
        self.stt_deadline = Some(now + Duration::from_millis(self.config.stt_deadline_ms(estimate)));
        if !pending.during_playback {
            self.filler_deadline = Some(now + Duration::from_millis(self.config.filler_after_ms_for(estimate)));
        }
        if let Some(result) = early {
            self.on_transcript(result).await;
            return;
        }
        if let Some(mut s) = speculated {
            match s.result.take() {
                Some(result) => self.on_transcript(result).await,
                // Still decoding: its result arrives as `Work::Speculated`.
                None => self.speculation = Some(s),
            }
        }
    }

    async fn on_work(&mut self, work: Work) {
        match work {
            Work::Speculated { turn, speech_end, result } => self.on_speculated(turn, speech_end, result).await,
            Work::Transcript { turn, result } => {
                let Some(pending) = self.pending.as_mut().filter(|p| p.index == turn && p.transcript.is_none()) else { return };
                if pending.ended_at.is_none() {
                    // A streaming engine failed mid-utterance: answer at the end of the turn.
                    pending.early_result = Some(result);
                    return;
                }
                self.on_transcript(result).await;
            }
            Work::Reply { turn, reply } => self.on_reply(turn, reply).await,
            Work::Audio { turn, pcm } => {
                if self.speaking.as_ref().is_none_or(|(t, _)| *t != turn) {
                    return;
                }
                if let Some(p) = self.pending.as_mut().filter(|p| p.index == turn) {
                    if p.first_audio_ms.is_none() {
                        p.first_audio_ms = p.ended_at.map(|t| t.elapsed().as_millis() as u64);
                    }
                }
                self.filler_deadline = None;
                self.playback.push(pcm);
            }
            Work::Sentence { turn, text, engine } => {
                if self.speaking.as_ref().is_none_or(|(t, _)| *t != turn) {
                    return;
                }
                self.playback.seal();
                match engine {
                    Ok(engine) => {
                        if let Some(p) = self.pending.as_mut().filter(|p| p.index == turn) {
                            p.tts_engine = engine;
                        }
                    }
                    Err(error) => tracing::error!(%error, sentence = %text, "no engine could speak a sentence"),
                }
            }
            Work::Done { turn } => {
                if self.speaking.as_ref().is_some_and(|(t, _)| *t == turn) {
                    self.speaking = None;
                    self.playback.seal();
                    self.finish_turn(turn).await;
                }
            }
        }
    }

    async fn on_transcript(&mut self, result: Result<Transcript, SttError>) {
        self.stt_deadline = None;
        let now_ms = self.ms(self.samples_in);
        let carried = self.carried.take();
        let Some(pending) = self.pending.as_mut() else { return };
        pending.audio = Vec::new();
        let elapsed = pending.ended_at.map(|t| t.elapsed().as_millis() as u64).unwrap_or(0);
        let during_playback = pending.during_playback;
        let heard = match result {
            Ok(transcript) => transcript.text.trim().to_string(),
            // Words carried from before the pause are answered anyway.
            Err(error) if carried.is_some() => {
                tracing::warn!(%error, "speech recognition failed after a pause; answering the words before it");
                self.summary.failed_recognitions += 1;
                String::new()
            }
            Err(error) => {
                tracing::warn!(%error, "speech recognition failed");
                self.summary.failed_recognitions += 1;
                self.pending = None;
                self.filler_deadline = None;
                if during_playback && self.playback.is_paused() {
                    self.resume_after_false_interruption().await;
                } else {
                    self.not_understood().await;
                }
                return;
            }
        };
        let ignorable = backchannel::is_filler(&heard) || (during_playback && backchannel::is_backchannel(&heard));
        if ignorable && carried.is_none() {
            tracing::debug!(transcript = %heard, "backchannel: not a turn");
            self.pending = None;
            self.filler_deadline = None;
            if self.playback.is_paused() {
                self.resume_after_false_interruption().await;
            }
            return;
        }
        let text = speculation::joined(carried, if ignorable { "" } else { heard.as_str() });
        pending.transcript = Some(text.clone());
        pending.transcript_ms = elapsed;
        let index = pending.index;
        if !during_playback {
            if let Some(until_ms) = speculation::hold_until(&text, pending.speech_end_ms, now_ms, &self.config) {
                tracing::debug!(transcript = %text, until_ms, "unfinished sentence: waiting for the rest");
                self.held = Some(Held { turn: index, until_ms });
                self.filler_deadline = None;
                return;
            }
        }
        self.failures_in_row = 0;
        self.reprompts = 0;
        if during_playback {
            self.interrupt().await;
        }
        self.answer(index, text);
    }

    /// Answers a held turn once its wait is over with no new speech.
    fn release_held(&mut self) {
        let Some(held) = self.held else { return };
        if self.ms(self.samples_in) < held.until_ms || !self.endpointer.is_idle() {
            return;
        }
        self.held = None;
        let Some(text) = self.pending.as_ref().filter(|p| p.index == held.turn).and_then(|p| p.transcript.clone()) else { return };
        self.failures_in_row = 0;
        self.reprompts = 0;
        self.answer(held.turn, text);
    }

    /// A real interruption: the rest of the current reply is dropped.
    async fn interrupt(&mut self) {
        if let Some((turn, cancel)) = self.speaking.take() {
            cancel.cancel();
            tracing::debug!(turn, "reply interrupted by the caller");
        }
        if self.playback.has_audio() {
            if !self.playback.is_paused() {
                self.emit(CallEvent::Clear).await;
            }
            self.playback.clear();
        }
        self.summary.barge_ins += 1;
    }

    async fn resume_after_false_interruption(&mut self) {
        self.playback.resume();
        self.barge_speech = 0;
        self.summary.false_interruptions += 1;
        tracing::debug!("false interruption: the reply resumes");
    }

    /// Runs the dialogue on `text` and speaks the reply, sentence by sentence.
    fn answer(&mut self, turn: u32, text: String) {
        let cancel = CancellationToken::new();
        if let Some((_, old)) = self.speaking.replace((turn, cancel.clone())) {
            old.cancel();
        }
        let (agent, speaker, tx, rate) = (self.agent.clone(), self.deps.speaker.clone(), self.work_tx.clone(), self.config.sample_rate_hz);
        tokio::spawn(async move {
            // The dialogue turn always completes (it may write a booking);
            // only the speaking is cancelled.
            let reply = agent.lock().await.reply(&text).await;
            let spoken = reply.as_ref().map(|r| r.text.clone()).unwrap_or_else(|_| phrases::REPEAT.to_string());
            let _ = tx.send(Work::Reply { turn, reply });
            speak(&speaker, &spoken, rate, turn, &tx, &cancel).await;
            let _ = tx.send(Work::Done { turn });
        });
    }

    async fn on_reply(&mut self, turn: u32, reply: Result<AgentReply, String>) {
        let reply = match reply {
            Ok(reply) => reply,
            Err(error) => {
                tracing::error!(%error, "the dialogue could not answer");
                AgentReply { text: phrases::REPEAT.to_string(), intent: "error".to_string(), ..AgentReply::default() }
            }
        };
        self.emit(CallEvent::Say(reply.text.clone())).await;
        if let Some(booking) = &reply.booking {
            self.summary.bookings.push(booking.clone());
        }
        if reply.transfer {
            self.summary.transfer_requested = true;
            self.transfer_after = true;
        }
        if reply.ended && self.hangup_after.is_none() {
            self.hangup_after = Some(if reply.transfer { HangupReason::Transferred } else { HangupReason::Completed });
        }
        if let Some(p) = self.pending.as_mut().filter(|p| p.index == turn) {
            p.reply_ms = p.ended_at.map(|t| t.elapsed().as_millis() as u64).unwrap_or(0);
            p.reply = Some(reply);
        }
    }

    async fn finish_turn(&mut self, turn: u32) {
        if self.transfer_after {
            self.transfer_after = false;
            self.emit(CallEvent::Transfer).await;
        }
        let Some(p) = self.pending.take_if(|p| p.index == turn) else { return };
        let reply = p.reply.unwrap_or_default();
        let timing = TurnTiming {
            index: self.summary.turns.len() as u32 + 1,
            transcript: p.transcript.unwrap_or_default(),
            reply: reply.text,
            intent: reply.intent,
            layer: reply.layer,
            speech_start_ms: p.speech_start_ms,
            speech_end_ms: p.speech_end_ms,
            endpoint_ms: p.endpoint_ms,
            transcript_ms: p.transcript_ms,
            reply_ms: p.reply_ms,
            first_audio_ms: p.first_audio_ms,
            filler: p.filler,
            tts_engine: p.tts_engine,
            booking_id: reply.booking.map(|b| b.id),
        };
        tracing::info!(
            turn = timing.index,
            intent = %timing.intent,
            transcript_ms = timing.transcript_ms,
            reply_ms = timing.reply_ms,
            first_audio_ms = timing.first_audio_ms,
            "voice turn"
        );
        self.summary.turns.push(timing.clone());
        self.emit(CallEvent::Turn(timing)).await;
    }

    async fn on_stt_timeout(&mut self) {
        self.stt_deadline = None;
        tracing::warn!(timeout_ms = self.config.stt_timeout_ms, "speech recognition timed out");
        self.on_transcript(Err(SttError::Timeout(self.config.stt_timeout_ms))).await;
    }

    async fn on_filler(&mut self) {
        self.filler_deadline = None;
        let waiting = self.pending.as_ref().is_some_and(|p| p.ended_at.is_some() && p.first_audio_ms.is_none());
        if waiting && !self.playback.has_audio() {
            if let Some(p) = self.pending.as_mut() {
                p.filler = true;
            }
            self.say_phrase(phrases::FILLER).await;
        }
    }

    fn on_dtmf(&mut self, digit: char) {
        let text = match digit {
            '1' => "sì",
            '2' => "no",
            '0' => "vorrei parlare con un operatore",
            _ => return,
        };
        if self.hangup_after.is_some() {
            return;
        }
        let index = self.next_turn();
        self.pending = Some(PendingTurn {
            ended_at: Some(Instant::now()),
            transcript: Some(format!("[DTMF {digit}] {text}")),
            ..PendingTurn::new(index, self.ms(self.samples_in))
        });
        self.utterance_tx = None;
        self.speculation = None;
        self.held = None;
        self.carried = None;
        self.resumed = Vec::new();
        self.playback.clear();
        self.answer(index, text.to_string());
    }

    async fn not_understood(&mut self) {
        self.failures_in_row += 1;
        if self.failures_in_row >= self.config.max_failed_turns {
            self.end_with(phrases::GOODBYE_NOT_UNDERSTOOD, HangupReason::NotUnderstood).await;
        } else {
            self.say_phrase(phrases::REPEAT).await;
        }
    }

    async fn say_phrase(&mut self, text: &'static str) {
        match self.phrases.get(text).cloned() {
            Some(pcm) => {
                self.emit(CallEvent::Say(text.to_string())).await;
                self.playback.push(pcm);
                self.playback.seal();
            }
            None => tracing::warn!(phrase = text, "fixed phrase unavailable; staying silent"),
        }
    }

    /// Drops what is queued, says a closing phrase, and hangs up once it is played.
    async fn end_with(&mut self, text: &'static str, reason: HangupReason) {
        if let Some((_, cancel)) = self.speaking.take() {
            cancel.cancel();
        }
        if self.playback.has_audio() {
            self.emit(CallEvent::Clear).await;
            self.playback.clear();
        }
        self.pending = None;
        self.utterance_tx = None;
        self.speculation = None;
        self.held = None;
        self.carried = None;
        self.resumed = Vec::new();
        self.stt_deadline = None;
        self.filler_deadline = None;
        self.say_phrase(text).await;
        self.hangup_after = Some(reason);
    }
}

/// Speaks `text` sentence by sentence through the speaker, sending audio to
/// the call loop as it is produced; stops at the next sentence when cancelled.
async fn speak(speaker: &Speaker, text: &str, rate_hz: u32, turn: u32, tx: &mpsc::UnboundedSender<Work>, cancel: &CancellationToken) {
    for sentence in sentences::split(text) {
        if cancel.is_cancelled() {
            return;
        }
        let mut sink = |pcm: Vec<i16>| {
            let _ = tx.send(Work::Audio { turn, pcm: Arc::new(pcm) });
        };
        let engine = tokio::select! {
            _ = cancel.cancelled() => return,
            result = speaker.say(&sentence, rate_hz, &mut sink) => result.map_err(|e| e.to_string()),
        };
        let _ = tx.send(Work::Sentence { turn, text: sentence, engine });
    }
}

/// Runs one utterance through the recogniser: opens the stream, pushes
/// frames until the call loop closes the channel (end of turn), finishes.
/// Cancelled (a speculation stands in for it), it stops without a result.
async fn recognise(
    stt: Arc<dyn SpeechToText>,
    request: SttRequest,
    mut frames: mpsc::UnboundedReceiver<Vec<i16>>,
    tx: mpsc::UnboundedSender<Work>,
    turn: u32,
    cancel: CancellationToken,
) {
    let stream = async {
        let mut stream = stt.start(&request).await?;
        while let Some(frame) = frames.recv().await {
            stream.push(&frame).await?;
        }
        Ok::<_, SttError>(stream)
    }
    .await;
    let result = match stream {
        Ok(_) if cancel.is_cancelled() => return,
        Ok(stream) => tokio::select! {
            _ = cancel.cancelled() => return,
            result = stream.finish() => result,
        },
        Err(e) => Err(e),
    };
    let _ = tx.send(Work::Transcript { turn, result });
}

async fn sleep_until(deadline: Option<tokio::time::Instant>) {
    match deadline {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}
