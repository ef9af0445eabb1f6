//! Speech engines that need files or native runtimes: adapters behind the
//! core's audio contracts.
//!
//! - [`silero`]: Silero VAD v6 through tract-onnx (cargo feature `silero`).
//! - [`vad_from_env`]: the detector named by `VAD_ENGINE`.
//! - [`decode_check`]: loop, guess and no-speech checks on a Whisper decode.
//! - [`whisper`]: local speech-to-text through whisper.cpp (cargo feature `whisper`).
//! - [`ggml`]: generated ggml Whisper models with real tensor shapes, for tests and benchmarks.
//! - [`model_import`]: `fluxion models import FILE`, for machines without network.
//! - [`models`]: the catalogue of downloadable models (`fluxion models download`).
//! - [`deepgram`]: Deepgram streaming speech-to-text and Aura text-to-speech.
//! - [`openai`]: OpenAI-compatible transcription and speech (OpenAI, Groq).
//! - [`elevenlabs`]: ElevenLabs streaming text-to-speech.
//! - [`cloud`]: the HTTP layer the cloud engines share (deadlines, error mapping, key redaction).
//! - [`espeak`], [`piper`]: offline text-to-speech through local programs ([`process`]).
//! - [`scripted`]: a scripted recogniser for tests without a Whisper model.
//! - [`speaker`]: fallback, deadline, resampling and phrase cache around text-to-speech.
//! - [`engines`]: engines chosen by `STT_ENGINE`, `TTS_ENGINE`, `TTS_FALLBACK`.

pub mod cloud;
pub mod decode_check;
pub mod deepgram;
pub mod elevenlabs;
pub mod engines;
pub mod espeak;
pub mod ggml;
pub mod model_import;
pub mod models;
pub mod openai;
pub mod piper;
pub mod process;
pub mod scripted;
#[cfg(feature = "silero")]
pub mod silero;
pub mod speaker;
#[cfg(feature = "whisper")]
pub mod whisper;

use std::path::PathBuf;

use fluxion_core::audio::vad::{Aggressiveness, Vad, VadEngine, VadError, WebrtcVad};

/// The environment variable naming the directory that holds model files.
pub const MODELS_DIR_ENV: &str = "FLUXION_MODELS_DIR";

/// The model directory from `FLUXION_MODELS_DIR`, or `models` (relative to
/// the working directory) when unset.
pub fn models_dir() -> PathBuf {
    std::env::var_os(MODELS_DIR_ENV).filter(|dir| !dir.is_empty()).map(PathBuf::from).unwrap_or_else(|| PathBuf::from("models"))
}

/// The detector `VAD_ENGINE` names (WebRTC when unset), for `sample_rate_hz`
/// audio (8000 or 16000 Hz). WebRTC uses 20 ms frames at the default
/// aggressiveness; Silero uses its native 32 ms frames.
pub fn vad_from_env(sample_rate_hz: u32) -> Result<Box<dyn Vad>, VadError> {
    vad_for(VadEngine::from_env()?, sample_rate_hz)
}

/// The detector for `engine` at `sample_rate_hz` (8000 or 16000 Hz).
pub fn vad_for(engine: VadEngine, sample_rate_hz: u32) -> Result<Box<dyn Vad>, VadError> {
    match engine {
        VadEngine::Webrtc => Ok(Box::new(WebrtcVad::new(sample_rate_hz, 20, Aggressiveness::default())?)),
        #[cfg(feature = "silero")]
        VadEngine::Silero => Ok(Box::new(silero::SileroVad::from_dir(&models_dir(), sample_rate_hz)?)),
        #[cfg(not(feature = "silero"))]
        VadEngine::Silero => Err(VadError::Model("VAD_ENGINE=silero needs Fluxion built with the `silero` cargo feature".to_string())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn webrtc_is_built_for_both_telephone_rates() {
        for rate in [8000, 16000] {
            let vad = vad_for(VadEngine::Webrtc, rate).unwrap();
            assert_eq!(vad.sample_rate_hz(), rate);
            assert_eq!(vad.frame_len(), (rate / 50) as usize);
        }
        assert!(vad_for(VadEngine::Webrtc, 44_100).is_err());
    }
}
