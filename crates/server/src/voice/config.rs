//! Timings and limits of a voice session; durations in ms of call audio
//! unless said otherwise.

use fluxion_core::audio::endpoint::EndpointConfig;
use fluxion_core::speech::stt::FinishEstimate;

/// How a voice session listens, waits and gives up.
#[derive(Debug, Clone, PartialEq)]
pub struct VoiceConfig {
    /// Sample rate of the call's audio in both directions, in Hz (8000 for
    /// G.711 phone calls, 16000 for wideband).
    pub sample_rate_hz: u32,
    /// Endpointing: speech threshold, minimum speech, end-of-turn silence
    /// (default 500 ms), pre-roll and maximum turn length.
    pub endpoint: EndpointConfig,
    /// Caller speech needed during playback to interrupt it, in ms (the
    /// playback stops on the frame that reaches it: well within 200 ms).
    pub barge_in_ms: u32,
    /// Wall-clock time without a reply before the filler is played, in ms (seed 001: 1 s).
    pub filler_after_ms: u64,
    /// Wall-clock deadline for the transcript after the end of a turn, in
    /// ms; past it the caller is asked to repeat (seed 001: 1 s). An engine
    /// that measures its speed gets more when it needs it
    /// ([`VoiceConfig::stt_deadline_ms`]).
    pub stt_timeout_ms: u64,
    /// Caller silence after the agent stops speaking before a re-prompt, in ms.
    pub silence_reprompt_ms: u64,
    /// Re-prompts in a row before the agent says goodbye and hangs up.
    pub max_reprompts: u32,
    /// Longest call before a polite goodbye, in ms (seed 003: 10 minutes).
    pub max_call_ms: u64,
    /// Failed recognitions in a row before the agent offers a callback and hangs up.
    pub max_failed_turns: u32,
    /// Caller silence after which a recogniser that decodes whole
    /// utterances starts on the turn so far, in ms (see
    /// [`super::speculation`]): shorter answers sooner, at the cost of
    /// decodes thrown away when the caller goes on.
    pub speculate_after_ms: u64,
    /// End-of-turn silence once the words so far are a complete Italian
    /// sentence, in ms (see [`super::speculation`]): shorter than
    /// `endpoint.end_silence_ms` answers complete turns sooner.
    pub complete_end_silence_ms: u32,
    /// Extra wait, on top of `endpoint.end_silence_ms`, when the words so
    /// far stop on a preposition, an article, a conjunction or a filler
    /// ("vorrei prenotare per…", "ehm"), in ms: the caller is still talking.
    pub unfinished_extra_ms: u32,
}

impl Default for VoiceConfig {
    fn default() -> Self {
        VoiceConfig {
            sample_rate_hz: 8_000,
            endpoint: EndpointConfig::default(),
            barge_in_ms: 120,
            filler_after_ms: 1_000,
            stt_timeout_ms: 1_000,
            silence_reprompt_ms: 8_000,
            max_reprompts: 2,
            max_call_ms: 600_000,
            max_failed_turns: 3,
            speculate_after_ms: super::speculation::SPECULATE_AFTER_MS,
            complete_end_silence_ms: super::speculation::COMPLETE_END_SILENCE_MS,
            unfinished_extra_ms: super::speculation::UNFINISHED_EXTRA_MS,
        }
    }
}

impl VoiceConfig {
    /// The defaults at `sample_rate_hz`, overridden by `VOICE_END_SILENCE_MS`,
    /// `VOICE_MIN_SPEECH_MS`, `VOICE_MAX_TURN_MS`, `VOICE_BARGE_IN_MS`,
    /// `VOICE_FILLER_AFTER_MS`, `VOICE_STT_TIMEOUT_MS`,
    /// `VOICE_SILENCE_REPROMPT_MS`, `VOICE_MAX_REPROMPTS`,
    /// `VOICE_SPECULATE_AFTER_MS`, `VOICE_COMPLETE_END_SILENCE_MS`,
    /// `VOICE_UNFINISHED_EXTRA_MS` and `VOICE_MAX_CALL_MS`
    /// (`MAX_CALL_DURATION_MS` also accepted). Unparsable
    /// values are ignored with a warning.
    pub fn from_env(sample_rate_hz: u32) -> Self {
        let mut c = VoiceConfig { sample_rate_hz, ..VoiceConfig::default() };
        fn read<T: std::str::FromStr>(names: &[&str], into: &mut T) {
            for name in names {
                if let Ok(raw) = std::env::var(name) {
                    match raw.trim().parse() {
                        Ok(v) => *into = v,
                        Err(_) => tracing::warn!(variable = name, value = %raw, "ignoring an unparsable setting"),
                    }
                    return;
                }
            }
        }
        read(&["VOICE_END_SILENCE_MS"], &mut c.endpoint.end_silence_ms);
        read(&["VOICE_MIN_SPEECH_MS"], &mut c.endpoint.min_speech_ms);
        read(&["VOICE_MAX_TURN_MS"], &mut c.endpoint.max_turn_ms);
        read(&["VOICE_BARGE_IN_MS"], &mut c.barge_in_ms);
        read(&["VOICE_FILLER_AFTER_MS"], &mut c.filler_after_ms);
        read(&["VOICE_STT_TIMEOUT_MS"], &mut c.stt_timeout_ms);
        read(&["VOICE_SILENCE_REPROMPT_MS"], &mut c.silence_reprompt_ms);
        read(&["VOICE_MAX_REPROMPTS"], &mut c.max_reprompts);
        read(&["VOICE_SPECULATE_AFTER_MS"], &mut c.speculate_after_ms);
        read(&["VOICE_COMPLETE_END_SILENCE_MS"], &mut c.complete_end_silence_ms);
        read(&["VOICE_UNFINISHED_EXTRA_MS"], &mut c.unfinished_extra_ms);
        read(&["VOICE_MAX_CALL_MS", "MAX_CALL_DURATION_MS"], &mut c.max_call_ms);
        c
    }
}

/// Headroom on the engine's measured worst case before a turn is given up:
/// ×3/2 plus this many ms (other calls may be decoding at the same moment).
const DEADLINE_SLACK_MS: u64 = 300;

impl VoiceConfig {
    /// End-of-turn silence after words that stop mid-sentence, in ms: the
    /// configured silence plus [`VoiceConfig::unfinished_extra_ms`].
    pub fn unfinished_end_silence_ms(&self) -> u32 {
        self.endpoint.end_silence_ms.saturating_add(self.unfinished_extra_ms)
    }

    /// The recognition deadline for one turn, in ms after its end: the
    /// configured [`VoiceConfig::stt_timeout_ms`], or the engine's measured
    /// worst case (retry included) with headroom when that is longer, so a
    /// slow machine never gives up on a turn its engine is still finishing.
    pub fn stt_deadline_ms(&self, estimate: Option<FinishEstimate>) -> u64 {
        estimate.map_or(self.stt_timeout_ms, |e| self.stt_timeout_ms.max(e.worst_ms.saturating_mul(3) / 2 + DEADLINE_SLACK_MS))
    }

    /// When the filler plays, in ms after the end of a turn with no reply
    /// audio yet: [`VoiceConfig::filler_after_ms`], or half of it when the
    /// engine's measured typical time already exceeds it (the caller is
    /// told sooner that an answer is coming).
    pub fn filler_after_ms_for(&self, estimate: Option<FinishEstimate>) -> u64 {
        match estimate {
            Some(e) if e.typical_ms >= self.filler_after_ms => self.filler_after_ms / 2,
            _ => self.filler_after_ms,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deadlines_follow_the_measured_engine() {
        let config = VoiceConfig::default();
        assert_eq!(config.stt_deadline_ms(None), 1_000);
        let fast = FinishEstimate { typical_ms: 150, worst_ms: 400 };
        assert_eq!(config.stt_deadline_ms(Some(fast)), 1_000);
        assert_eq!(config.filler_after_ms_for(Some(fast)), 1_000);
        let slow = FinishEstimate { typical_ms: 1_200, worst_ms: 3_000 };
        assert_eq!(config.stt_deadline_ms(Some(slow)), 4_800);
        assert_eq!(config.filler_after_ms_for(Some(slow)), 500);
    }
}
