//! Choosing speech engines from the environment (seed 001's names):
//! `STT_ENGINE` (`whisper`, `deepgram`, `openai`), `TTS_ENGINE` and
//! `TTS_FALLBACK` (`espeak`, `piper`, `elevenlabs`, `deepgram`, `openai`).
//! Each engine's own settings (keys, models, voices) are read by its module.

use std::path::Path;
use std::str::FromStr;
use std::sync::Arc;

use fluxion_core::speech::stt::{SpeechToText, SttError};
use fluxion_core::speech::tts::{TextToSpeech, TtsError};

use super::deepgram::{AuraTts, DeepgramConfig, DeepgramStt};
use super::elevenlabs::{ElevenLabsConfig, ElevenLabsTts};
use super::espeak::EspeakTts;
use super::openai::{OpenAiStt, OpenAiSttConfig, OpenAiTts, OpenAiTtsConfig};
use super::piper::PiperTts;
use super::speaker::{self, Speaker};

/// A speech-to-text engine name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SttEngine {
    /// Local whisper.cpp (the default).
    Whisper,
    /// Deepgram streaming over WebSocket.
    Deepgram,
    /// An OpenAI-compatible `/v1/audio/transcriptions` (OpenAI, Groq).
    OpenAi,
}

/// A text-to-speech engine name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TtsEngine {
    /// espeak-ng, always available offline.
    Espeak,
    /// Piper voices, offline, when a voice file is present.
    Piper,
    /// ElevenLabs streaming.
    ElevenLabs,
    /// Deepgram Aura.
    Deepgram,
    /// OpenAI-compatible `/v1/audio/speech`.
    OpenAi,
}

/// An engine name that is not one of the known ones.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown {kind} engine {name:?} (expected one of: {expected})")]
pub struct UnknownEngine {
    kind: &'static str,
    name: String,
    expected: &'static str,
}

impl FromStr for SttEngine {
    type Err = UnknownEngine;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "whisper" | "whisper.cpp" | "local" => Ok(SttEngine::Whisper),
            "deepgram" => Ok(SttEngine::Deepgram),
            "openai" | "groq" => Ok(SttEngine::OpenAi),
            _ => Err(UnknownEngine { kind: "STT", name: s.to_string(), expected: "whisper, deepgram, openai" }),
        }
    }
}

impl FromStr for TtsEngine {
    type Err = UnknownEngine;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "espeak" | "espeak-ng" => Ok(TtsEngine::Espeak),
            "piper" => Ok(TtsEngine::Piper),
            "elevenlabs" => Ok(TtsEngine::ElevenLabs),
            "deepgram" | "aura" => Ok(TtsEngine::Deepgram),
            "openai" => Ok(TtsEngine::OpenAi),
            _ => Err(UnknownEngine { kind: "TTS", name: s.to_string(), expected: "espeak, piper, elevenlabs, deepgram, openai" }),
        }
    }
}

impl SttEngine {
    /// The engine `STT_ENGINE` names; Whisper when unset.
    ///
    /// # Errors
    /// An unknown name.
    pub fn from_env() -> Result<Self, UnknownEngine> {
        match std::env::var("STT_ENGINE").ok().filter(|v| !v.trim().is_empty()) {
            Some(name) => name.parse(),
            None => Ok(SttEngine::Whisper),
        }
    }

    /// Lower-case name.
    pub fn as_str(self) -> &'static str {
        match self {
            SttEngine::Whisper => "whisper",
            SttEngine::Deepgram => "deepgram",
            SttEngine::OpenAi => "openai",
        }
    }
}

impl TtsEngine {
    /// Lower-case name.
    pub fn as_str(self) -> &'static str {
        match self {
            TtsEngine::Espeak => "espeak",
            TtsEngine::Piper => "piper",
            TtsEngine::ElevenLabs => "elevenlabs",
            TtsEngine::Deepgram => "deepgram",
            TtsEngine::OpenAi => "openai",
        }
    }
}

/// A process environment variable, unset when empty.
fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

/// Builds the speech-to-text engine `engine`, finding local models under `models_dir`.
///
/// # Errors
/// [`SttError::Unavailable`] when the engine cannot run (model, key or
/// cargo feature missing), saying how to fix it.
pub fn build_stt(engine: SttEngine, models_dir: &Path) -> Result<Arc<dyn SpeechToText>, SttError> {
    match engine {
        #[cfg(feature = "whisper")]
        SttEngine::Whisper => {
            let model = env(super::models::WHISPER_MODEL_ENV);
            Ok(Arc::new(super::whisper::WhisperStt::from_models_dir(models_dir, model.as_deref())?))
        }
        #[cfg(not(feature = "whisper"))]
        SttEngine::Whisper => {
            let _ = models_dir;
            Err(SttError::Unavailable("STT_ENGINE=whisper needs Fluxion built with the `whisper` cargo feature".to_string()))
        }
        SttEngine::Deepgram => Ok(Arc::new(DeepgramStt::new(DeepgramConfig::from_env(env)?)?)),
        SttEngine::OpenAi => Ok(Arc::new(OpenAiStt::new(OpenAiSttConfig::from_env(env)?)?)),
    }
}

/// The speech-to-text engine `STT_ENGINE` names.
///
/// # Errors
/// An unknown name, or as [`build_stt`].
pub fn stt_from_env(models_dir: &Path) -> Result<Arc<dyn SpeechToText>, SttError> {
    let engine = SttEngine::from_env().map_err(|e| SttError::Unavailable(e.to_string()))?;
    build_stt(engine, models_dir)
}

/// Builds the text-to-speech engine `engine`.
///
/// # Errors
/// [`TtsError::Unavailable`] when the engine cannot run, saying why.
pub fn build_tts(engine: TtsEngine, models_dir: &Path) -> Result<Arc<dyn TextToSpeech>, TtsError> {
    match engine {
        TtsEngine::Espeak => Ok(Arc::new(EspeakTts::from_env()?)),
        TtsEngine::Piper => Ok(Arc::new(PiperTts::from_env(models_dir)?)),
        TtsEngine::ElevenLabs => Ok(Arc::new(ElevenLabsTts::new(ElevenLabsConfig::from_env(env)?)?)),
        TtsEngine::Deepgram => Ok(Arc::new(AuraTts::new(DeepgramConfig::from_env(env)?)?)),
        TtsEngine::OpenAi => Ok(Arc::new(OpenAiTts::new(OpenAiTtsConfig::from_env(env)?)?)),
    }
}

/// The primary and fallback engine names from `TTS_ENGINE` and
/// `TTS_FALLBACK`. Unset, the primary is Piper when a Piper voice can run
/// and espeak-ng otherwise, and the fallback is espeak-ng (none when the
/// primary is espeak-ng already). `TTS_FALLBACK=none` disables it.
///
/// # Errors
/// An unknown name.
pub fn tts_engines_from_env(models_dir: &Path) -> Result<(TtsEngine, Option<TtsEngine>), UnknownEngine> {
    let primary = match std::env::var("TTS_ENGINE").ok().filter(|v| !v.trim().is_empty()) {
        Some(name) => name.parse()?,
        None if PiperTts::from_env(models_dir).is_ok() => TtsEngine::Piper,
        None => TtsEngine::Espeak,
    };
    let fallback = match std::env::var("TTS_FALLBACK").ok().filter(|v| !v.trim().is_empty()) {
        Some(name) if name.trim().eq_ignore_ascii_case("none") => None,
        Some(name) => Some(name.parse()?),
        None => Some(TtsEngine::Espeak),
    };
    Ok((primary, fallback.filter(|f| *f != primary)))
}

/// The call's voice from the environment: `TTS_ENGINE` with `TTS_FALLBACK`,
/// the phrase cache in [`speaker::default_cache_dir`], the deadline from
/// `TTS_TIMEOUT_MS`. When the primary cannot be built but the fallback can,
/// the fallback speaks alone (with a warning).
///
/// # Errors
/// An unknown engine name, or no engine can be built.
pub fn speaker_from_env(models_dir: &Path) -> Result<Speaker, TtsError> {
    let (primary, fallback) = tts_engines_from_env(models_dir).map_err(|e| TtsError::Unavailable(e.to_string()))?;
    let fallback = match fallback.map(|f| build_tts(f, models_dir)) {
        Some(Ok(tts)) => Some(tts),
        Some(Err(e)) => {
            tracing::warn!(error = %e, "the TTS fallback cannot run");
            None
        }
        None => None,
    };
    let (primary, fallback) = match (build_tts(primary, models_dir), fallback) {
        (Ok(p), f) => (p, f),
        (Err(e), Some(f)) => {
            tracing::warn!(engine = primary.as_str(), error = %e, "the TTS engine cannot run; the fallback speaks alone");
            (f, None)
        }
        (Err(e), None) => return Err(e),
    };
    let timeout_ms = std::env::var("TTS_TIMEOUT_MS").ok().and_then(|v| v.parse().ok()).unwrap_or(speaker::DEFAULT_TIMEOUT_MS);
    Ok(Speaker::new(primary, fallback, speaker::default_cache_dir()).with_timeout_ms(timeout_ms))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn engine_names() {
        assert_eq!("Whisper".parse::<SttEngine>().unwrap(), SttEngine::Whisper);
        assert_eq!("groq".parse::<SttEngine>().unwrap(), SttEngine::OpenAi);
        assert_eq!("espeak-ng".parse::<TtsEngine>().unwrap(), TtsEngine::Espeak);
        assert_eq!("ElevenLabs".parse::<TtsEngine>().unwrap(), TtsEngine::ElevenLabs);
        let err = "polly".parse::<TtsEngine>().unwrap_err().to_string();
        assert!(err.contains("polly") && err.contains("elevenlabs"), "{err}");
    }
}
