//! Speculative recognition and the Italian semantic end of turn.
//!
//! A recogniser that decodes a whole utterance at the end (local Whisper:
//! one that reports a [`FinishEstimate`](fluxion_core::speech::stt::FinishEstimate))
//! would only start once the end-of-turn silence has passed. Instead, once
//! the caller has been silent for [`SPECULATE_AFTER_MS`] (configurable), the session
//! decodes the turn so far. When no new speech arrives, that transcript is
//! the turn's transcript (the regular decode is never run), and its words
//! decide how long to wait ([`turn_end::assess`]): a complete sentence ends
//! the turn at [`COMPLETE_END_SILENCE_MS`] of silence, words that stop on a
//! preposition, an article, a conjunction or a filler wait
//! [`UNFINISHED_END_SILENCE_MS`]. New speech makes the speculation stale
//! (it is aborted) and a new one starts at the next pause.

use fluxion_core::speech::stt::{SttError, Transcript};
use fluxion_core::speech::turn_end::{self, TurnEnd};
use tokio::task::JoinHandle;

/// Caller silence after which the turn so far is decoded, in ms (the
/// default of `VoiceConfig::speculate_after_ms`, `VOICE_SPECULATE_AFTER_MS`).
pub const SPECULATE_AFTER_MS: u64 = 200;

/// End-of-turn silence once the words so far are a complete sentence, in ms.
pub const COMPLETE_END_SILENCE_MS: u32 = 300;

/// End-of-turn silence when the words so far stop mid-sentence, in ms.
pub const UNFINISHED_END_SILENCE_MS: u32 = 1_100;

/// A decode of the turn so far, started in a pause.
#[derive(Debug)]
pub struct Speculation {
    /// The caller turn it belongs to.
    pub turn: u32,
    /// The endpointer's end of speech when it started, in samples: the
    /// speculation holds while this has not changed.
    pub speech_end: u64,
    /// Its transcript, once decoded.
    pub result: Option<Result<Transcript, SttError>>,
    /// The decode, aborted when the speculation goes stale.
    pub task: JoinHandle<()>,
}

impl Speculation {
    /// Whether it is about `turn` with no speech after `speech_end`.
    pub fn holds(&self, turn: u32, speech_end: u64) -> bool {
        self.turn == turn && self.speech_end == speech_end
    }
}

impl Drop for Speculation {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// The end-of-turn silence the words of `transcript` call for, in ms:
/// `None` when they say nothing either way (keep the configured silence).
pub fn end_silence_for(transcript: &Transcript) -> Option<u32> {
    match turn_end::assess(&transcript.text) {
        TurnEnd::Complete => Some(COMPLETE_END_SILENCE_MS),
        TurnEnd::Unfinished => Some(UNFINISHED_END_SILENCE_MS),
        TurnEnd::Unknown => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn said(text: &str) -> Transcript {
        Transcript { text: text.to_string(), confidence: None, audio_ms: 1_000 }
    }

    #[test]
    fn words_decide_the_wait() {
        assert_eq!(end_silence_for(&said("Vorrei prenotare un taglio per domani.")), Some(COMPLETE_END_SILENCE_MS));
        assert_eq!(end_silence_for(&said("Vorrei prenotare per")), Some(UNFINISHED_END_SILENCE_MS));
        assert_eq!(end_silence_for(&said("ehm")), Some(UNFINISHED_END_SILENCE_MS));
        assert_eq!(end_silence_for(&said("")), None);
    }
}
