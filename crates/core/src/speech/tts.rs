//! The text-to-speech port.
//!
//! An engine turns one sentence of Italian text (already verbalised: no
//! digits, see [`super::verbalize`]) into 16-bit mono PCM at its own
//! [`TextToSpeech::sample_rate_hz`], handing audio to a sink as soon as it
//! has some, so playback can start before the sentence is finished.

use thiserror::Error;

use super::BoxFuture;

/// Why synthesis failed. [`TtsError::is_retryable`] tells whether trying
/// again could help; the session speaks through the fallback engine either way.
#[derive(Debug, Error, Clone, PartialEq)]
pub enum TtsError {
    /// The engine cannot run here: a missing binary, voice file or API key.
    /// The message says how to fix it.
    #[error("text-to-speech unavailable: {0}")]
    Unavailable(String),
    /// The provider answered with an error (HTTP status when there is one).
    #[error("text-to-speech provider error{}: {message}", status.map(|s| format!(" (HTTP {s})")).unwrap_or_default())]
    Provider {
        /// HTTP status, when the error came with one.
        status: Option<u16>,
        /// What the provider said, without secrets.
        message: String,
        /// Whether the same request may succeed later (429, 5xx, a dropped connection).
        retryable: bool,
    },
    /// No audio within the deadline.
    #[error("text-to-speech timed out after {0} ms")]
    Timeout(u64),
    /// The engine's output was not audio in the expected format.
    #[error("text-to-speech output error: {0}")]
    Output(String),
}

impl TtsError {
    /// Whether retrying the same sentence could succeed.
    pub fn is_retryable(&self) -> bool {
        match self {
            TtsError::Provider { retryable, .. } => *retryable,
            TtsError::Timeout(_) => true,
            TtsError::Unavailable(_) | TtsError::Output(_) => false,
        }
    }
}

/// Where synthesised PCM goes, chunk by chunk (samples at the engine's rate).
pub type AudioSink<'a> = dyn FnMut(Vec<i16>) + Send + 'a;

/// A text-to-speech engine with one configured voice.
pub trait TextToSpeech: Send + Sync {
    /// The engine's name (`"espeak"`, `"piper"`, `"elevenlabs"`, `"deepgram"`, `"openai"`).
    fn engine(&self) -> &str;

    /// The voice in use (`"it"`, `"it_IT-paola-medium"`, a provider voice id).
    fn voice(&self) -> &str;

    /// Sample rate of the PCM handed to the sink, in Hz.
    fn sample_rate_hz(&self) -> u32;

    /// Speaks `text`, handing PCM to `sink` as it is produced; returns once
    /// the whole text is spoken.
    ///
    /// # Errors
    /// Any [`TtsError`]. Audio already handed to the sink stays valid.
    fn synthesize<'a>(&'a self, text: &'a str, sink: &'a mut AudioSink<'_>) -> BoxFuture<'a, Result<(), TtsError>>;
}

/// Speaks `text` and returns all of its PCM at once.
///
/// # Errors
/// As [`TextToSpeech::synthesize`]; [`TtsError::Output`] when the engine
/// produced no audio at all.
pub async fn synthesize_all(tts: &dyn TextToSpeech, text: &str) -> Result<Vec<i16>, TtsError> {
    let mut pcm = Vec::new();
    {
        let mut sink = |chunk: Vec<i16>| pcm.extend_from_slice(&chunk);
        tts.synthesize(text, &mut sink).await?;
    }
    if pcm.is_empty() && !text.trim().is_empty() {
        return Err(TtsError::Output(format!("{} produced no audio", tts.engine())));
    }
    Ok(pcm)
}
