//! espeak-ng: the always-available offline Italian voice (Debian package
//! `espeak-ng`). Robotic but instant; the default fallback and the voice the
//! tests speak with.

use std::path::PathBuf;

use fluxion_core::speech::tts::{AudioSink, TextToSpeech, TtsError};
use fluxion_core::speech::BoxFuture;

use super::process::{self, Output};

/// Sample rate espeak-ng writes, in Hz.
pub const ESPEAK_RATE_HZ: u32 = 22_050;

/// espeak-ng run as a child process per sentence.
#[derive(Debug, Clone)]
pub struct EspeakTts {
    program: PathBuf,
    voice: String,
    words_per_minute: u32,
    timeout_ms: u64,
}

impl EspeakTts {
    /// espeak-ng (or espeak) from `PATH` with `voice` (`"it"`, `"it+f3"`) at
    /// `words_per_minute` (espeak's default is 175).
    ///
    /// # Errors
    /// [`TtsError::Unavailable`] when neither `espeak-ng` nor `espeak` is installed.
    pub fn new(voice: &str, words_per_minute: u32) -> Result<Self, TtsError> {
        let program = process::find_program(&["espeak-ng", "espeak"])
            .ok_or_else(|| TtsError::Unavailable("espeak-ng is not installed (Debian: apt-get install espeak-ng)".to_string()))?;
        Ok(EspeakTts { program, voice: voice.to_string(), words_per_minute, timeout_ms: 10_000 })
    }

    /// The voice from `ESPEAK_VOICE` (default `it`) and speed from
    /// `ESPEAK_RATE` in words per minute (default 165).
    ///
    /// # Errors
    /// As [`EspeakTts::new`].
    pub fn from_env() -> Result<Self, TtsError> {
        let voice = std::env::var("ESPEAK_VOICE").ok().filter(|v| !v.trim().is_empty()).unwrap_or_else(|| "it".to_string());
        let wpm = std::env::var("ESPEAK_RATE").ok().and_then(|v| v.parse().ok()).unwrap_or(165);
        Self::new(&voice, wpm)
    }
}

impl TextToSpeech for EspeakTts {
    fn engine(&self) -> &str {
        "espeak"
    }

    fn voice(&self) -> &str {
        &self.voice
    }

    fn sample_rate_hz(&self) -> u32 {
        ESPEAK_RATE_HZ
    }

    fn synthesize<'a>(&'a self, text: &'a str, sink: &'a mut AudioSink<'_>) -> BoxFuture<'a, Result<(), TtsError>> {
        Box::pin(async move {
            // Text goes through stdin (-b 1: UTF-8), never as an argument.
            let args = ["-v", &self.voice, "-s", &self.words_per_minute.to_string(), "-b", "1", "--stdout"].map(str::to_string);
            let rate = process::synthesize(&self.program, &args, text, Output::Wav, self.timeout_ms, sink).await?;
            match rate {
                Some(ESPEAK_RATE_HZ) => Ok(()),
                other => Err(TtsError::Output(format!("espeak-ng wrote {other:?} Hz, expected {ESPEAK_RATE_HZ}"))),
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use fluxion_core::speech::tts::synthesize_all;

    use super::*;

    #[tokio::test]
    async fn speaks_italian_when_installed() {
        let Ok(tts) = EspeakTts::new("it", 165) else {
            eprintln!("SKIP: espeak-ng is not installed");
            return;
        };
        let pcm = synthesize_all(&tts, "Buongiorno, sono l'assistente del salone.").await.unwrap();
        let seconds = pcm.len() as f64 / f64::from(ESPEAK_RATE_HZ);
        assert!((1.0..8.0).contains(&seconds), "{seconds} s");
        assert!(pcm.iter().any(|s| s.unsigned_abs() > 3000), "audible");
    }
}
