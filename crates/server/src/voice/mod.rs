//! The voice session: one phone call, transport-agnostic.
//!
//! ```text
//!  CallInput::Audio ─► 20 ms frames ─► VAD ─► Endpointer ─► STT stream ─► Agent (dialogue)
//!                                       │ barge-in                            │ reply text
//!  CallEvent::Audio ◄─ Playback ◄───────┴──────── Speaker (TTS per sentence) ◄┘
//! ```
//!
//! A transport (the media-stream WebSocket, `fluxion call`'s WAV driver)
//! sends [`CallInput`]s and forwards [`CallEvent`]s. Playback is paced by
//! the caller's audio: every 20 ms frame received lets one 20 ms frame of
//! the agent's voice out, so silence, re-prompt and barge-in timings are
//! measured on the call's own clock and the agent never floods the
//! transport. Processing latencies (transcript, reply, first audio) are
//! measured on the wall clock.
//!
//! - [`config`]: timings and limits ([`VoiceConfig`]).
//! - [`agent`]: the conversation behind the voice ([`Agent`], [`EngineAgent`]).
//! - [`outcome`]: why a call ended, its turns' timings and its summary.
//! - [`playback`]: the queue of outgoing audio, with pause/resume for barge-in.
//! - [`session`]: the call loop ([`start_call`]).
//! - [`phrases`]: the fixed Italian phrases (filler, re-prompts, goodbyes).
//! - [`simulate`]: a whole call from a WAV file, for `fluxion call` and tests.
//! - [`speculation`]: decoding in the caller's pauses and the Italian semantic end of turn.

pub mod agent;
pub mod config;
pub mod outcome;
pub mod phrases;
pub mod playback;
pub mod session;
pub mod simulate;
pub mod speculation;

pub use agent::{Agent, AgentReply, EngineAgent};
pub use config::VoiceConfig;
pub use session::{start_call, CallEvent, CallHandle, CallInput, CallSummary, HangupReason, Phase, Status, TurnTiming, VoiceDeps};
