//! Endpointing: turning per-frame speech probabilities into caller turns.
//!
//! [`Endpointer`] is a pure state machine. Feed it each frame of audio with
//! the probability a [`Vad`](super::vad::Vad) gave it; it answers with
//! [`EndpointEvent::SpeechStarted`] once speech has lasted the minimum length
//! and [`EndpointEvent::SpeechEnded`] (with the utterance's audio) once the
//! end-of-turn silence has passed. There is no clock: time is the count of
//! samples pushed so far, so the same audio always gives the same turns.
//!
//! ```text
//!  Silence ──speech──► Pending ──speech ≥ min_speech──► Speaking
//!     ▲                  │ silence ≥ end_silence (blip)    │ silence ≥ end_silence
//!     └──────────────────┴───────────────◄─────────────────┘ (emits SpeechEnded)
//! ```

use std::collections::VecDeque;

use thiserror::Error;

/// Endpointing parameters; durations in ms.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EndpointConfig {
    /// A frame whose speech probability is at or above this is speech, `[0, 1]`.
    pub threshold: f32,
    /// Speech shorter than this in total is a blip and is dropped, in ms.
    pub min_speech_ms: u32,
    /// Silence after speech that ends the turn, in ms.
    pub end_silence_ms: u32,
    /// Audio kept from before the first speech frame so the start of the
    /// first word is not cut, in ms (0 for none).
    pub pre_roll_ms: u32,
    /// A turn longer than this ends even without silence (a caller who
    /// never pauses, or steady noise taken for speech), in ms; 0 for no limit.
    pub max_turn_ms: u32,
}

impl Default for EndpointConfig {
    fn default() -> Self {
        EndpointConfig { threshold: 0.5, min_speech_ms: 200, end_silence_ms: 500, pre_roll_ms: 200, max_turn_ms: 30_000 }
    }
}

/// What the endpointer noticed.
#[derive(Debug, Clone, PartialEq)]
pub enum EndpointEvent {
    /// Speech has lasted the minimum length; `at_ms` is when it began, in ms
    /// from the start of the stream.
    SpeechStarted {
        /// Start of the first speech frame, in ms.
        at_ms: u64,
    },
    /// The turn is over.
    SpeechEnded {
        /// Start of the first speech frame, in ms.
        start_ms: u64,
        /// End of the last speech frame, in ms.
        end_ms: u64,
        /// The utterance from `start_ms - pre_roll` (or the stream start) to
        /// `end_ms`, in samples at the endpointer's rate.
        audio: Vec<i16>,
    },
}

/// Invalid endpointing parameters.
#[derive(Debug, Error, Clone, PartialEq)]
pub enum EndpointError {
    /// The sample rate must be positive.
    #[error("sample rate must be positive, got {0} Hz")]
    SampleRate(u32),
    /// The threshold must lie in `[0, 1]`.
    #[error("speech threshold must be in [0, 1], got {0}")]
    Threshold(f32),
    /// The end-of-turn silence must be positive.
    #[error("end-of-turn silence must be positive")]
    EndSilence,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Silence,
    /// Speech seen but not yet for `min_speech`.
    Pending,
    /// A confirmed turn in progress.
    Speaking,
}

/// The endpointing state machine for one audio stream.
#[derive(Debug, Clone)]
pub struct Endpointer {
    config: EndpointConfig,
    sample_rate_hz: u32,
    min_speech_samples: u64,
    end_silence_samples: u64,
    max_turn_samples: u64,
    pre_roll_samples: usize,
    state: State,
    /// Samples pushed since the start (or the last reset).
    now: u64,
    /// Recent audio while in silence, at most `pre_roll_samples`.
    pre_roll: VecDeque<i16>,
    /// Pre-roll plus everything since the first speech frame.
    utterance: Vec<i16>,
    /// Sample index where the first speech frame of the turn began.
    speech_start: u64,
    /// Sample index where the last speech frame ended.
    speech_end: u64,
    /// Length of `utterance` at `speech_end`.
    utterance_len_at_end: usize,
    /// Speech samples counted in the current (pending) turn.
    speech_samples: u64,
    /// Consecutive non-speech samples since the last speech frame.
    silence_samples: u64,
    /// End-of-turn silence for the turn in progress (the configured one
    /// unless [`Endpointer::set_turn_end_silence_ms`] changed it).
    turn_end_silence_samples: u64,
}

impl Endpointer {
    /// An endpointer for audio at `sample_rate_hz`.
    pub fn new(config: EndpointConfig, sample_rate_hz: u32) -> Result<Self, EndpointError> {
        if sample_rate_hz == 0 {
            return Err(EndpointError::SampleRate(sample_rate_hz));
        }
        if !(0.0..=1.0).contains(&config.threshold) {
            return Err(EndpointError::Threshold(config.threshold));
        }
        if config.end_silence_ms == 0 {
            return Err(EndpointError::EndSilence);
        }
        let samples = |ms: u32| u64::from(ms) * u64::from(sample_rate_hz) / 1000;
        Ok(Endpointer {
            config,
            sample_rate_hz,
            min_speech_samples: samples(config.min_speech_ms),
            end_silence_samples: samples(config.end_silence_ms),
            max_turn_samples: samples(config.max_turn_ms),
            pre_roll_samples: samples(config.pre_roll_ms) as usize,
            state: State::Silence,
            now: 0,
            pre_roll: VecDeque::new(),
            utterance: Vec::new(),
            speech_start: 0,
            speech_end: 0,
            utterance_len_at_end: 0,
            speech_samples: 0,
            silence_samples: 0,
            turn_end_silence_samples: samples(config.end_silence_ms),
        })
    }

    /// The parameters in use.
    pub fn config(&self) -> &EndpointConfig {
        &self.config
    }

    /// Sample rate of the audio pushed, in Hz.
    pub fn sample_rate_hz(&self) -> u32 {
        self.sample_rate_hz
    }

    /// Whether a confirmed turn is in progress (after `SpeechStarted`).
    pub fn in_speech(&self) -> bool {
        self.state == State::Speaking
    }

    /// Whether nothing is going on: no turn, not even an unconfirmed one.
    pub fn is_idle(&self) -> bool {
        self.state == State::Silence
    }

    /// The audio of the turn in progress so far (pre-roll included), in
    /// samples; empty outside a turn.
    pub fn utterance(&self) -> &[i16] {
        if self.state == State::Silence {
            &[]
        } else {
            &self.utterance
        }
    }

    /// Stream time so far, in ms.
    pub fn now_ms(&self) -> u64 {
        self.to_ms(self.now)
    }

    /// Silence since the last speech frame of the confirmed turn in
    /// progress, in ms; 0 outside one.
    pub fn silence_ms(&self) -> u64 {
        if self.state == State::Speaking {
            self.to_ms(self.silence_samples)
        } else {
            0
        }
    }

    /// End of the last speech frame, in samples from the stream start: it
    /// changes exactly when new speech arrives.
    pub fn speech_end_samples(&self) -> u64 {
        self.speech_end
    }

    /// Sets the end-of-turn silence for the pause in progress only, in ms
    /// (at least 1): longer when the words so far are unfinished, shorter
    /// when they are complete. The configured value returns with new speech
    /// (the words judged are no longer the last) and with the next turn.
    pub fn set_turn_end_silence_ms(&mut self, ms: u32) {
        self.turn_end_silence_samples = (u64::from(ms.max(1)) * u64::from(self.sample_rate_hz) / 1000).max(1);
    }

    /// Ends the confirmed turn in progress now, as if its end-of-turn
    /// silence had passed; `None` outside one.
    pub fn end_turn_now(&mut self) -> Option<EndpointEvent> {
        (self.state == State::Speaking).then(|| self.end_turn())
    }

    /// Takes the next frame and its speech probability; returns the event it
    /// causes, if any. Frames may have any length; time advances by it.
    pub fn push(&mut self, frame: &[i16], probability: f32) -> Option<EndpointEvent> {
        let frame_start = self.now;
        let len = frame.len() as u64;
        self.now += len;
        let speech = probability >= self.config.threshold;
        match (self.state, speech) {
            (State::Silence, false) => {
                self.keep_pre_roll(frame);
                None
            }
            (State::Silence, true) => {
                self.utterance.clear();
                self.utterance.extend(self.pre_roll.drain(..));
                self.utterance.extend_from_slice(frame);
                self.speech_start = frame_start;
                self.speech_samples = 0;
                self.state = State::Pending;
                self.on_speech(len)
            }
            (State::Speaking, true) if self.max_turn_samples > 0 && self.now - self.speech_start >= self.max_turn_samples => {
                self.utterance.extend_from_slice(frame);
                self.speech_end = self.now;
                self.utterance_len_at_end = self.utterance.len();
                Some(self.end_turn())
            }
            (State::Pending | State::Speaking, true) => {
                self.utterance.extend_from_slice(frame);
                self.on_speech(len)
            }
            (State::Pending, false) => {
                self.utterance.extend_from_slice(frame);
                self.silence_samples += len;
                if self.silence_samples >= self.end_silence_samples {
                    // A blip: forget it, keeping its tail as pre-roll.
                    let utterance = std::mem::take(&mut self.utterance);
                    self.state = State::Silence;
                    self.silence_samples = 0;
                    self.pre_roll.clear();
                    self.keep_pre_roll(&utterance);
                }
                None
            }
            (State::Speaking, false) => {
                self.utterance.extend_from_slice(frame);
                self.silence_samples += len;
                if self.silence_samples >= self.turn_end_silence_samples {
                    Some(self.end_turn())
                } else {
                    None
                }
            }
        }
    }

    /// Ends the stream: a confirmed turn in progress ends now (at its last
    /// speech frame); an unconfirmed one is dropped. The endpointer is then
    /// ready for a new stream.
    pub fn finish(&mut self) -> Option<EndpointEvent> {
        let event = (self.state == State::Speaking).then(|| self.end_turn());
        self.reset();
        event
    }

    /// Forgets everything and restarts the stream clock at 0.
    pub fn reset(&mut self) {
        self.state = State::Silence;
        self.now = 0;
        self.pre_roll.clear();
        self.utterance.clear();
        self.speech_start = 0;
        self.speech_end = 0;
        self.utterance_len_at_end = 0;
        self.speech_samples = 0;
        self.silence_samples = 0;
        self.turn_end_silence_samples = self.end_silence_samples;
    }

    fn on_speech(&mut self, len: u64) -> Option<EndpointEvent> {
        self.speech_samples += len;
        self.silence_samples = 0;
        self.turn_end_silence_samples = self.end_silence_samples;
        self.speech_end = self.now;
        self.utterance_len_at_end = self.utterance.len();
        if self.state == State::Pending && self.speech_samples >= self.min_speech_samples {
            self.state = State::Speaking;
            return Some(EndpointEvent::SpeechStarted { at_ms: self.to_ms(self.speech_start) });
        }
        None
    }

    fn end_turn(&mut self) -> EndpointEvent {
        // The silence that ended the turn becomes pre-roll for the next one.
        let trailing = self.utterance.split_off(self.utterance_len_at_end);
        self.pre_roll.clear();
        self.keep_pre_roll(&trailing);
        let audio = std::mem::take(&mut self.utterance);
        self.state = State::Silence;
        self.silence_samples = 0;
        self.speech_samples = 0;
        self.turn_end_silence_samples = self.end_silence_samples;
        EndpointEvent::SpeechEnded { start_ms: self.to_ms(self.speech_start), end_ms: self.to_ms(self.speech_end), audio }
    }

    fn keep_pre_roll(&mut self, samples: &[i16]) {
        if self.pre_roll_samples == 0 {
            return;
        }
        let tail = &samples[samples.len().saturating_sub(self.pre_roll_samples)..];
        self.pre_roll.extend(tail.iter().copied());
        let excess = self.pre_roll.len().saturating_sub(self.pre_roll_samples);
        self.pre_roll.drain(..excess);
    }

    fn to_ms(&self, samples: u64) -> u64 {
        samples * 1000 / u64::from(self.sample_rate_hz)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const RATE_HZ: u32 = 8000;
    const FRAME_MS: u32 = 10;
    const SPEECH: i16 = 1000;

    /// Runs `script` (segments of `(ms, is_speech)`) in 10 ms frames; speech
    /// frames carry the sample value `SPEECH`, silence frames the frame index
    /// modulo 100 (so pre-roll content can be checked). Ends with `finish`.
    fn run(config: EndpointConfig, script: &[(u32, bool)]) -> Vec<EndpointEvent> {
        let mut endpointer = Endpointer::new(config, RATE_HZ).unwrap();
        let frame_len = (RATE_HZ / 1000 * FRAME_MS) as usize;
        let mut events = Vec::new();
        let mut index = 0i16;
        for &(ms, speech) in script {
            for _ in 0..ms / FRAME_MS {
                let value = if speech { SPEECH } else { index % 100 };
                let frame = vec![value; frame_len];
                let probability = if speech { 0.9 } else { 0.1 };
                events.extend(endpointer.push(&frame, probability));
                index += 1;
            }
        }
        events.extend(endpointer.finish());
        events
    }

    #[test]
    fn the_end_silence_of_one_turn_can_be_changed_or_cut_short() {
        let mut endpointer = Endpointer::new(EndpointConfig::default(), RATE_HZ).unwrap();
        let frame = |v: i16| vec![v; 80];
        for _ in 0..30 {
            assert!(!matches!(endpointer.push(&frame(SPEECH), 0.9), Some(EndpointEvent::SpeechEnded { .. })));
        }
        let end = endpointer.speech_end_samples();
        // Unfinished words: wait 1000 ms instead of 500.
        endpointer.set_turn_end_silence_ms(1_000);
        for _ in 0..60 {
            assert_eq!(endpointer.push(&frame(0), 0.1), None);
        }
        assert_eq!(endpointer.silence_ms(), 600);
        assert_eq!(endpointer.speech_end_samples(), end);
        let ended = endpointer.end_turn_now();
        assert!(matches!(ended, Some(EndpointEvent::SpeechEnded { start_ms: 0, end_ms: 300, .. })), "{ended:?}");
        assert_eq!((endpointer.end_turn_now(), endpointer.silence_ms()), (None, 0));
        // New speech after a judgement brings the configured 500 ms back.
        for _ in 0..30 {
            endpointer.push(&frame(SPEECH), 0.9);
        }
        endpointer.set_turn_end_silence_ms(2_000);
        endpointer.push(&frame(SPEECH), 0.9);
        let ended = (0..50).find_map(|_| endpointer.push(&frame(0), 0.1));
        assert!(matches!(ended, Some(EndpointEvent::SpeechEnded { .. })), "{ended:?}");
        // The next turn has the configured 500 ms again.
        for _ in 0..30 {
            endpointer.push(&frame(SPEECH), 0.9);
        }
        let ended = (0..50).find_map(|_| endpointer.push(&frame(0), 0.1));
        assert!(matches!(ended, Some(EndpointEvent::SpeechEnded { .. })), "{ended:?}");
    }

    /// Events without audio: `(start_ms, end_ms)` for turns, `(at_ms, at_ms)`
    /// for starts, tagged.
    fn summary(events: &[EndpointEvent]) -> Vec<(&'static str, u64, u64)> {
        events
            .iter()
            .map(|event| match event {
                EndpointEvent::SpeechStarted { at_ms } => ("started", *at_ms, *at_ms),
                EndpointEvent::SpeechEnded { start_ms, end_ms, .. } => ("ended", *start_ms, *end_ms),
            })
            .collect()
    }

    /// Segments of `(ms, is_speech)`.
    type Script = &'static [(u32, bool)];
    /// Event summaries as given by `summary`.
    type Expected = &'static [(&'static str, u64, u64)];

    #[test]
    fn table() {
        let default = EndpointConfig::default();
        let cases: &[(&str, Script, Expected)] = &[
            ("silence only", &[(2000, false)], &[]),
            ("300 ms speech + 600 ms silence", &[(200, false), (300, true), (600, false)], &[("started", 200, 200), ("ended", 200, 500)]),
            ("100 ms blip", &[(200, false), (100, true), (1000, false)], &[]),
            (
                "gap of 300 ms joins two utterances",
                &[(100, false), (300, true), (300, false), (400, true), (600, false)],
                &[("started", 100, 100), ("ended", 100, 1100)],
            ),
            (
                "gap of 700 ms splits them",
                &[(100, false), (300, true), (700, false), (400, true), (600, false)],
                &[("started", 100, 100), ("ended", 100, 400), ("started", 1100, 1100), ("ended", 1100, 1500)],
            ),
            ("speech from the first frame", &[(250, true), (500, false)], &[("started", 0, 0), ("ended", 0, 250)]),
            ("stream ends mid-turn", &[(100, false), (400, true)], &[("started", 100, 100), ("ended", 100, 500)]),
            (
                "blip then real speech after the end silence",
                &[(100, true), (600, false), (300, true), (500, false)],
                &[("started", 700, 700), ("ended", 700, 1000)],
            ),
        ];
        for (name, script, expected) in cases {
            let events = run(default, script);
            assert_eq!(summary(&events), *expected, "case: {name}");
        }
    }

    #[test]
    fn speech_started_fires_once_min_speech_has_passed() {
        let mut endpointer = Endpointer::new(EndpointConfig::default(), RATE_HZ).unwrap();
        let frame = [0i16; 80];
        for i in 0..19 {
            assert_eq!(endpointer.push(&frame, 1.0), None, "frame {i}");
        }
        assert_eq!(endpointer.push(&frame, 1.0), Some(EndpointEvent::SpeechStarted { at_ms: 0 }));
        assert!(endpointer.in_speech());
        assert_eq!(endpointer.now_ms(), 200);
    }

    #[test]
    fn audio_includes_pre_roll_and_stops_at_last_speech_frame() {
        let events = run(EndpointConfig::default(), &[(500, false), (300, true), (600, false)]);
        let Some(EndpointEvent::SpeechEnded { audio, .. }) = events.last() else {
            panic!("no turn: {events:?}");
        };
        let per_ms = (RATE_HZ / 1000) as usize;
        assert_eq!(audio.len(), (200 + 300) * per_ms);
        // Pre-roll: the last 20 silence frames (indices 30..50) in order.
        let pre_roll: Vec<i16> = audio[..200 * per_ms].chunks(80).map(|f| f[0]).collect();
        assert_eq!(pre_roll, (30..50).collect::<Vec<i16>>());
        assert!(audio[200 * per_ms..].iter().all(|&s| s == SPEECH));
    }

    #[test]
    fn pre_roll_is_clipped_at_stream_start_and_can_be_disabled() {
        let events = run(EndpointConfig::default(), &[(50, false), (300, true), (600, false)]);
        let Some(EndpointEvent::SpeechEnded { audio, .. }) = events.last() else {
            panic!("no turn");
        };
        assert_eq!(audio.len(), 350 * 8);

        let no_pre_roll = EndpointConfig { pre_roll_ms: 0, ..EndpointConfig::default() };
        let events = run(no_pre_roll, &[(500, false), (300, true), (600, false)]);
        let Some(EndpointEvent::SpeechEnded { audio, .. }) = events.last() else {
            panic!("no turn");
        };
        assert_eq!(audio.len(), 300 * 8);
    }

    #[test]
    fn second_turn_pre_roll_comes_from_the_silence_after_the_first() {
        let events = run(EndpointConfig::default(), &[(300, true), (700, false), (300, true), (600, false)]);
        let summary = summary(&events);
        assert_eq!(summary[3], ("ended", 1000, 1300));
        let EndpointEvent::SpeechEnded { audio, .. } = &events[3] else {
            panic!("no second turn");
        };
        assert_eq!(audio.len(), 500 * 8);
        assert!(audio[..200 * 8].iter().all(|&s| s != SPEECH));
    }

    #[test]
    fn threshold_and_durations_are_configurable() {
        let config = EndpointConfig { threshold: 0.95, min_speech_ms: 50, end_silence_ms: 100, pre_roll_ms: 0, max_turn_ms: 0 };
        // Probabilities of 0.9 are below this threshold: nothing.
        assert!(run(config, &[(300, true), (600, false)]).is_empty());

        let config = EndpointConfig { min_speech_ms: 50, end_silence_ms: 100, ..EndpointConfig::default() };
        let events = run(config, &[(100, true), (150, false), (100, true), (200, false)]);
        assert_eq!(summary(&events), [("started", 0, 0), ("ended", 0, 100), ("started", 250, 250), ("ended", 250, 350)]);
    }

    #[test]
    fn invalid_configuration_is_rejected() {
        let bad_threshold = EndpointConfig { threshold: 1.5, ..EndpointConfig::default() };
        assert_eq!(Endpointer::new(bad_threshold, 8000).unwrap_err(), EndpointError::Threshold(1.5));
        assert_eq!(Endpointer::new(EndpointConfig::default(), 0).unwrap_err(), EndpointError::SampleRate(0));
        let no_end = EndpointConfig { end_silence_ms: 0, ..EndpointConfig::default() };
        assert_eq!(Endpointer::new(no_end, 8000).unwrap_err(), EndpointError::EndSilence);
    }

    #[test]
    fn a_turn_without_pauses_ends_at_the_maximum_length() {
        let config = EndpointConfig { max_turn_ms: 1_000, pre_roll_ms: 0, ..EndpointConfig::default() };
        let events = run(config, &[(2_500, true), (600, false)]);
        assert_eq!(
            summary(&events),
            [
                ("started", 0, 0),
                ("ended", 0, 1_000),
                ("started", 1_000, 1_000),
                ("ended", 1_000, 2_000),
                ("started", 2_000, 2_000),
                ("ended", 2_000, 2_500)
            ]
        );
    }

    #[test]
    fn nan_probability_counts_as_silence() {
        let mut endpointer = Endpointer::new(EndpointConfig::default(), RATE_HZ).unwrap();
        for _ in 0..100 {
            assert_eq!(endpointer.push(&[0i16; 80], f32::NAN), None);
        }
        assert!(!endpointer.in_speech());
    }
}
