//! The call loop: one task per call that owns the VAD, the endpointer and
//! the playback queue, and runs speech recognition, the dialogue and
//! synthesis in worker tasks so that incoming audio (and barge-in) is never
//! held up by them.
//!
//! Control never waits behind data: a barge-in pauses the playback queue at
//! once and tells the transport to drop what it holds ([`CallEvent::Clear`]);
//! a real interruption cancels the reply's remaining sentences through a
//! cancellation token.

//!
//! The loop is split by concept:
//! - [`io`]: what a transport sends and receives ([`CallInput`], [`CallEvent`], [`CallHandle`]);
//! - [`work`]: the worker tasks (recognition, speaking) and their messages;
//! - [`listen`]: caller audio: VAD, barge-in, endpointing, speculative decoding;
//! - [`answer`]: transcripts, the dialogue's replies, fixed phrases and the end of the call.

mod answer;
pub mod io;
mod listen;
mod work;

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Instant;

use fluxion_core::audio::endpoint::{EndpointError, Endpointer};
use fluxion_core::audio::frame::Framer;
use fluxion_core::speech::stt::SttRequest;
use tokio::sync::{mpsc, watch, Mutex};
use tokio_util::sync::CancellationToken;

use super::agent::{Agent, AgentReply};
use super::config::VoiceConfig;
pub use super::outcome::{CallSummary, HangupReason, TurnTiming};
use super::phrases;
use super::playback::Playback;
use super::speculation::{Held, Speculation};
pub use io::{CallEvent, CallHandle, CallInput, Phase, Status, VoiceDeps};
use work::{sleep_until, PendingTurn, Work};

/// Histogram: time to handle one VAD frame (VAD, endpointing, playback), seconds.
pub const FRAME_SECONDS: &str = "fluxion_voice_frame_seconds";
/// Counter: audio chunks handled more than 20 ms behind real time (the
/// call's audio clock against the wall clock since the call started).
pub const FRAMES_LATE_TOTAL: &str = "fluxion_voice_frames_late_total";

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

/// One call's state, owned by its task.
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
}
