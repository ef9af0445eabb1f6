//! What a transport and the call loop exchange.

use std::sync::Arc;

use fluxion_core::audio::vad::Vad;
use fluxion_core::speech::stt::SpeechToText;
use serde::Serialize;
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;

use super::{CallSummary, HangupReason, TurnTiming};
use crate::speech::speaker::Speaker;

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
