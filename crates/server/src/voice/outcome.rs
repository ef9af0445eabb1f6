//! What a call leaves behind: why it ended ([`HangupReason`]), each
//! answered caller turn with its timings ([`TurnTiming`]) and the whole
//! call's summary ([`CallSummary`]).

use fluxion_core::booking::Appointment;
use serde::Serialize;

/// Why a call ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum HangupReason {
    /// The conversation ended with a goodbye.
    Completed,
    /// The caller hung up first.
    CallerHungUp,
    /// Repeated silence.
    Silence,
    /// The maximum call duration was reached.
    MaxDuration,
    /// Repeated recognition failures.
    NotUnderstood,
    /// The caller asked for a person; the transport transfers.
    Transferred,
    /// The voice session itself failed; the transport records this, the
    /// session never ends with it.
    SessionFailed,
}

impl HangupReason {
    /// Lower-case name, as in logs and the calls table.
    pub fn as_str(self) -> &'static str {
        match self {
            HangupReason::Completed => "completed",
            HangupReason::CallerHungUp => "caller_hung_up",
            HangupReason::Silence => "silence",
            HangupReason::MaxDuration => "max_duration",
            HangupReason::NotUnderstood => "not_understood",
            HangupReason::Transferred => "transferred",
            HangupReason::SessionFailed => "session_failed",
        }
    }

    /// Every reason.
    pub const ALL: [HangupReason; 7] = [
        HangupReason::Completed,
        HangupReason::CallerHungUp,
        HangupReason::Silence,
        HangupReason::MaxDuration,
        HangupReason::NotUnderstood,
        HangupReason::Transferred,
        HangupReason::SessionFailed,
    ];

    /// Parses [`HangupReason::as_str`]'s spelling.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.as_str() == s)
    }
}

/// One answered caller turn. Call-clock times are ms from the start of the
/// call's audio; latencies are wall-clock ms from the moment the end of the
/// turn was detected (the end-of-turn silence after the last word).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TurnTiming {
    /// 1 for the first caller turn.
    pub index: u32,
    /// What the recogniser heard (or `[DTMF n]`).
    pub transcript: String,
    /// The agent's reply.
    pub reply: String,
    /// Intent understood.
    pub intent: String,
    /// Layer that answered.
    pub layer: String,
    /// Start of the caller's speech, call clock, ms.
    pub speech_start_ms: u64,
    /// End of the caller's speech (last speech frame), call clock, ms.
    pub speech_end_ms: u64,
    /// End-of-turn silence waited after the last word, ms.
    pub endpoint_ms: u64,
    /// Transcript ready, wall-clock ms after the end of turn was detected.
    pub transcript_ms: u64,
    /// Reply text ready, wall-clock ms after the end of turn was detected.
    pub reply_ms: u64,
    /// First reply audio ready to play, wall-clock ms after the end of turn
    /// was detected (`None` if nothing was spoken).
    pub first_audio_ms: Option<u64>,
    /// Whether the filler was played while waiting.
    pub filler: bool,
    /// The text-to-speech engine that spoke the reply.
    pub tts_engine: String,
    /// Appointment booked, moved or cancelled in this turn (its id).
    pub booking_id: Option<i64>,
}

/// What happened in a call, returned when it ends.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CallSummary {
    /// Why it ended.
    pub reason: HangupReason,
    /// Call audio received, ms.
    pub duration_ms: u64,
    /// Answered caller turns.
    pub turns: Vec<TurnTiming>,
    /// Appointments booked, moved or cancelled.
    #[serde(skip)]
    pub bookings: Vec<Appointment>,
    /// Times the caller interrupted the agent for real.
    pub barge_ins: u32,
    /// Interruptions that turned out to be backchannels or noise (the reply resumed).
    pub false_interruptions: u32,
    /// Recognitions that failed or timed out.
    pub failed_recognitions: u32,
    /// Whether the caller asked for a person.
    pub transfer_requested: bool,
}
