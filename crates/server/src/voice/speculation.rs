//! Speculative recognition and the Italian semantic end of turn.
//!
//! A recogniser that decodes a whole utterance at the end (local Whisper:
//! one that reports a [`FinishEstimate`](fluxion_core::speech::stt::FinishEstimate))
//! would only start once the end-of-turn silence has passed. Instead, once
//! the caller has been silent for [`SPECULATE_AFTER_MS`] (configurable), the session
//! decodes the turn so far. When no new speech arrives, that transcript is
//! the turn's transcript (the regular decode is never run), and its words
//! decide how long to wait ([`turn_end::assess`]): a complete sentence ends
//! the turn at `complete_end_silence_ms` of silence (default
//! [`COMPLETE_END_SILENCE_MS`]), words that stop on a preposition, an
//! article, a conjunction or a filler wait `unfinished_extra_ms` (default
//! [`UNFINISHED_EXTRA_MS`]) more than the configured silence. New speech
//! makes the speculation stale (it is aborted) and a new one starts at the
//! next pause.
//!
//! The same words judge every transcript, from any engine, once the turn
//! has ended: an unfinished one is **held** ([`hold_until`]) until the
//! longer wait has passed since the last word. If the caller speaks again
//! meanwhile, the held words are **carried** into the next turn
//! ([`joined`]): "vorrei prenotare per" + "giovedì alle tre" is answered as
//! one sentence; otherwise the held words are answered as they are.

use fluxion_core::speech::stt::{SttError, Transcript};
use fluxion_core::speech::turn_end::{self, TurnEnd};
use tokio::task::JoinHandle;

use super::config::VoiceConfig;

/// Caller silence after which the turn so far is decoded, in ms (the
/// default of `VoiceConfig::speculate_after_ms`, `VOICE_SPECULATE_AFTER_MS`).
/// Every ms here is a ms of the reply's wait, since the decode (250–700 ms
/// for a phone turn on 2 cores with base) runs longer than the end-of-turn
/// silence that follows. Measured with the real base-q5_1 model on 2 cores
/// (`voice_e2e --calls 2 --realtime`, 12 turns): end of speech to first
/// reply audio p50 443–501 ms at 100 ms against 585–606 at 200. An 11 s
/// turn with commas (`--long-turn`) stays whole: a decode of the words
/// before a pause only ends the turn when they end a sentence (a trailing
/// comma does not, see `turn_end::assess`), and new speech brings the
/// configured silence back.
pub const SPECULATE_AFTER_MS: u64 = 100;

/// End-of-turn silence once the words so far are a complete sentence, in ms
/// (the default of `VoiceConfig::complete_end_silence_ms`,
/// `VOICE_COMPLETE_END_SILENCE_MS`).
pub const COMPLETE_END_SILENCE_MS: u32 = 300;

/// Extra wait when the words so far stop mid-sentence, in ms, on top of the
/// configured end-of-turn silence (the default of
/// `VoiceConfig::unfinished_extra_ms`, `VOICE_UNFINISHED_EXTRA_MS`).
pub const UNFINISHED_EXTRA_MS: u32 = 600;

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
pub fn end_silence_for(transcript: &Transcript, config: &VoiceConfig) -> Option<u32> {
    match turn_end::assess(&transcript.text) {
        TurnEnd::Complete => Some(config.complete_end_silence_ms),
        TurnEnd::Unfinished => Some(config.unfinished_end_silence_ms()),
        TurnEnd::Unknown => None,
    }
}

/// A turn whose words stopped mid-sentence, waiting for the rest.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Held {
    /// The caller turn.
    pub turn: u32,
    /// Call-clock time the wait ends at, ms.
    pub until_ms: u64,
}

/// Until when (call clock, ms) to hold the answer to `text`, a turn whose
/// last word ended at `speech_end_ms`, when it is `now_ms`: `None` when the
/// words are complete or the unfinished wait is already over.
pub fn hold_until(text: &str, speech_end_ms: u64, now_ms: u64, config: &VoiceConfig) -> Option<u64> {
    let until_ms = speech_end_ms + u64::from(config.unfinished_end_silence_ms());
    (turn_end::assess(text) == TurnEnd::Unfinished && until_ms > now_ms).then_some(until_ms)
}

/// The words said before a pause (`before`, carried from a held turn) and
/// those after it, as one turn.
pub fn joined(before: Option<String>, after: &str) -> String {
    match before {
        Some(before) if !after.is_empty() => format!("{} {after}", before.trim_end_matches(['.', '…', ' '])),
        Some(before) => before,
        None => after.to_string(),
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
        let config = VoiceConfig::default();
        assert_eq!(end_silence_for(&said("Vorrei prenotare un taglio per domani."), &config), Some(COMPLETE_END_SILENCE_MS));
        assert_eq!(end_silence_for(&said("Vorrei prenotare per"), &config), Some(500 + UNFINISHED_EXTRA_MS));
        assert_eq!(end_silence_for(&said("ehm"), &config), Some(500 + UNFINISHED_EXTRA_MS));
        assert_eq!(end_silence_for(&said(""), &config), None);
        // Words before a comma: the sentence goes on, the configured silence holds.
        assert_eq!(end_silence_for(&said("Buongiorno, sono Mario Bianchi,"), &config), None);
        let config = VoiceConfig { complete_end_silence_ms: 250, unfinished_extra_ms: 900, ..VoiceConfig::default() };
        assert_eq!(end_silence_for(&said("sì"), &config), Some(250));
        assert_eq!(end_silence_for(&said("e"), &config), Some(1_400));
    }

    #[test]
    fn unfinished_turns_are_held_until_the_longer_wait() {
        let config = VoiceConfig::default();
        // Last word at 2 000 ms, turn ended at 2 500 ms: held until 3 100 ms.
        assert_eq!(hold_until("vorrei prenotare per", 2_000, 2_500, &config), Some(3_100));
        assert_eq!(hold_until("vorrei prenotare per", 2_000, 3_100, &config), None);
        assert_eq!(hold_until("vorrei prenotare un taglio", 2_000, 2_500, &config), None);
        let off = VoiceConfig { unfinished_extra_ms: 0, ..VoiceConfig::default() };
        assert_eq!(hold_until("vorrei prenotare per", 2_000, 2_500, &off), None);
    }

    #[test]
    fn held_words_join_the_next_turn() {
        assert_eq!(joined(Some("Vorrei prenotare per...".into()), "giovedì alle tre"), "Vorrei prenotare per giovedì alle tre");
        assert_eq!(joined(Some("Vorrei prenotare per".into()), ""), "Vorrei prenotare per");
        assert_eq!(joined(None, "sì"), "sì");
    }
}
