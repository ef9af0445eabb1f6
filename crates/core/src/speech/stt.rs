//! The speech-to-text port.
//!
//! One [`SttStream`] per caller utterance: the voice session opens it when
//! the endpointer confirms speech, pushes 16-bit mono PCM as it arrives, and
//! calls [`SttStream::finish`] when the turn ends. Streaming engines
//! (Deepgram) send audio as it comes and may report interim hypotheses;
//! batch engines (whisper.cpp, OpenAI-compatible `/v1/audio/transcriptions`)
//! buffer and decode in `finish`.

use thiserror::Error;

use super::BoxFuture;

/// What an utterance is recognised with.
#[derive(Debug, Clone, PartialEq)]
pub struct SttRequest {
    /// Sample rate of the PCM that will be pushed, in Hz (8000 or 16000 on
    /// phone calls; engines resample as they need).
    pub sample_rate_hz: u32,
    /// ISO 639-1 language code; `"it"`.
    pub language: String,
    /// Words the recogniser should expect (the business's services and
    /// operators), used as Whisper's initial prompt or Deepgram keywords.
    /// May be empty.
    pub prompt: String,
    /// The call the utterance belongs to, when it belongs to one: engines
    /// that queue decodes share their slots fairly between calls.
    pub call: Option<u64>,
}

impl SttRequest {
    /// An Italian request at `sample_rate_hz` with no prompt.
    pub fn italian(sample_rate_hz: u32) -> Self {
        SttRequest { sample_rate_hz, language: "it".to_string(), prompt: String::new(), call: None }
    }

    /// The same request as part of call `call` (see [`SttRequest::call`]).
    pub fn for_call(mut self, call: u64) -> Self {
        self.call = Some(call);
        self
    }

    /// The same request with `prompt` as vocabulary hint.
    pub fn with_prompt(mut self, prompt: impl Into<String>) -> Self {
        self.prompt = prompt.into();
        self
    }
}

/// The final recognition of one utterance.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Transcript {
    /// The recognised text, trimmed; empty when nothing was recognised.
    pub text: String,
    /// Engine confidence in `[0, 1]`, when the engine reports one.
    pub confidence: Option<f32>,
    /// Duration of the audio recognised, in ms.
    pub audio_ms: u64,
}

/// Why recognition failed. [`SttError::is_retryable`] tells whether trying
/// again (or another engine) could help.
#[derive(Debug, Error, Clone, PartialEq)]
pub enum SttError {
    /// The engine cannot run here: a missing model file, a missing API key,
    /// a feature not compiled in. The message says how to fix it.
    #[error("speech-to-text unavailable: {0}")]
    Unavailable(String),
    /// The provider answered with an error (HTTP status when there is one).
    #[error("speech-to-text provider error{}: {message}", status.map(|s| format!(" (HTTP {s})")).unwrap_or_default())]
    Provider {
        /// HTTP status, when the error came with one.
        status: Option<u16>,
        /// What the provider said, without secrets.
        message: String,
        /// Whether the same request may succeed later (429, 5xx, a dropped connection).
        retryable: bool,
    },
    /// No answer within the deadline.
    #[error("speech-to-text timed out after {0} ms")]
    Timeout(u64),
    /// The provider's answer did not follow its documented format.
    #[error("speech-to-text protocol error: {0}")]
    Protocol(String),
    /// The audio could not be prepared (resampling, an unsupported rate).
    #[error("speech-to-text audio error: {0}")]
    Audio(String),
}

impl SttError {
    /// Whether retrying the same utterance could succeed.
    pub fn is_retryable(&self) -> bool {
        match self {
            SttError::Provider { retryable, .. } => *retryable,
            SttError::Timeout(_) => true,
            SttError::Unavailable(_) | SttError::Protocol(_) | SttError::Audio(_) => false,
        }
    }
}

/// A speech-to-text engine.
pub trait SpeechToText: Send + Sync {
    /// The engine's name as configured (`"whisper"`, `"deepgram"`, `"openai"`, …).
    fn name(&self) -> &str;

    /// Opens a stream for one utterance.
    ///
    /// # Errors
    /// [`SttError::Unavailable`] when the engine cannot run; provider errors
    /// when a streaming connection cannot be opened.
    fn start<'a>(&'a self, request: &'a SttRequest) -> BoxFuture<'a, Result<Box<dyn SttStream>, SttError>>;

    /// How long finishing an utterance of `audio_ms` ms is expected to take
    /// on this machine now, measured by the engine; `None` when the engine
    /// does not measure it (the caller's fixed deadline applies).
    fn finish_estimate(&self, audio_ms: u64) -> Option<FinishEstimate> {
        let _ = audio_ms;
        None
    }

    /// Whether the engine is at its capacity, so that a new call would slow
    /// every call down (a local recogniser whose decodes queue for the
    /// cores); `false` for engines without such a limit.
    fn saturated(&self) -> bool {
        false
    }

    /// How many calls this engine serves at once while keeping the reply
    /// time (a local recogniser sharing the machine's cores); `None` for
    /// engines without such a limit (cloud recognisers). Calls above it get
    /// the busy answer.
    fn max_calls(&self) -> Option<usize> {
        None
    }
}

/// The expected wall-clock time from the end of an utterance to its
/// transcript, from the engine's measured speed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FinishEstimate {
    /// The usual case, in ms.
    pub typical_ms: u64,
    /// With every retry the engine may make, in ms (≥ `typical_ms`).
    pub worst_ms: u64,
}

/// One utterance being recognised.
pub trait SttStream: Send {
    /// Adds PCM at the request's rate.
    ///
    /// # Errors
    /// Provider or protocol errors from streaming engines (a dropped socket).
    fn push<'a>(&'a mut self, pcm: &'a [i16]) -> BoxFuture<'a, Result<(), SttError>>;

    /// The latest interim hypothesis, for engines that report them.
    fn interim(&self) -> Option<String> {
        None
    }

    /// Ends the utterance and returns its transcript (possibly empty text).
    ///
    /// # Errors
    /// Any [`SttError`]; the session asks the caller to repeat.
    fn finish(self: Box<Self>) -> BoxFuture<'static, Result<Transcript, SttError>>;
}

/// Recognises a whole utterance at once: start, push it in 20 ms chunks,
/// finish.
///
/// # Errors
/// As [`SpeechToText::start`], [`SttStream::push`] and [`SttStream::finish`].
pub async fn transcribe(stt: &dyn SpeechToText, request: &SttRequest, pcm: &[i16]) -> Result<Transcript, SttError> {
    let mut stream = stt.start(request).await?;
    let chunk = (request.sample_rate_hz / 50).max(1) as usize;
    for part in pcm.chunks(chunk) {
        stream.push(part).await?;
    }
    stream.finish().await
}

/// Duration of `samples` samples at `rate_hz`, in ms (0 for a zero rate).
pub fn duration_ms(samples: usize, rate_hz: u32) -> u64 {
    if rate_hz == 0 {
        return 0;
    }
    samples as u64 * 1000 / u64::from(rate_hz)
}
