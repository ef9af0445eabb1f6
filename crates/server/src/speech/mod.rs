//! Speech engines that need files or native runtimes: adapters behind the
//! core's audio contracts.
//!
//! - [`silero`]: Silero VAD v6 through tract-onnx (cargo feature `silero`, on by default).
//! - [`vad_engine`], [`vad_from_env`]: the detector named by `VAD_ENGINE`,
//!   else Silero when its model is present, WebRTC otherwise.
//! - [`queue`]: the fair recognition queue that bounds local decoding across calls.
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
//! - [`wer`]: word error rate, for the speech examples' measurements.
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
pub mod queue;
pub mod scripted;
#[cfg(feature = "silero")]
pub mod silero;
pub mod speaker;
pub mod wer;
#[cfg(feature = "whisper")]
pub mod whisper;

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use fluxion_core::audio::vad::{Aggressiveness, Vad, VadEngine, VadError, WebrtcVad};

/// The environment variable naming the directory that holds model files.
pub const MODELS_DIR_ENV: &str = "FLUXION_MODELS_DIR";

/// The model directory from `FLUXION_MODELS_DIR`, or `models` (relative to
/// the working directory) when unset.
pub fn models_dir() -> PathBuf {
    std::env::var_os(MODELS_DIR_ENV).filter(|dir| !dir.is_empty()).map(PathBuf::from).unwrap_or_else(|| PathBuf::from("models"))
}

/// The detector for calls: the one `VAD_ENGINE` names; when unset, Silero
/// if this build has it and its models for both telephone rates are in
/// [`models_dir`], WebRTC otherwise. The choice and its reason are logged
/// once per process.
///
/// # Errors
/// `VAD_ENGINE` names no known engine.
pub fn vad_engine() -> Result<VadEngine, VadError> {
    if let Some(engine) = VadEngine::configured()? {
        log_vad_choice(engine, "VAD_ENGINE");
        return Ok(engine);
    }
    let (engine, reason) = default_vad_engine(&models_dir());
    log_vad_choice(engine, reason);
    Ok(engine)
}

/// The engine used when `VAD_ENGINE` is unset, with the reason: Silero
/// when its models are in `dir` (and this build has it), WebRTC otherwise.
pub fn default_vad_engine(dir: &Path) -> (VadEngine, &'static str) {
    if !cfg!(feature = "silero") {
        return (VadEngine::Webrtc, "this build has no Silero (cargo feature `silero`)");
    }
    let present = [8000, 16000].iter().all(|&rate| silero_model_file(rate).is_some_and(|file| dir.join(file).is_file()));
    if present {
        (VadEngine::Silero, "its model is in the models directory")
    } else {
        (VadEngine::Webrtc, "no Silero model (silero_vad_8k_noif.onnx, silero_vad_16k_noif.onnx) in the models directory")
    }
}

fn silero_model_file(sample_rate_hz: u32) -> Option<&'static str> {
    match sample_rate_hz {
        8000 => Some("silero_vad_8k_noif.onnx"),
        16000 => Some("silero_vad_16k_noif.onnx"),
        _ => None,
    }
}

fn log_vad_choice(engine: VadEngine, reason: &str) {
    static LOGGED: OnceLock<()> = OnceLock::new();
    LOGGED.get_or_init(|| tracing::info!(vad = engine.as_str(), reason, dir = %models_dir().display(), "voice activity detector chosen"));
}

/// The detector [`vad_engine`] chooses, for `sample_rate_hz` audio (8000 or
/// 16000 Hz). WebRTC uses 20 ms frames at the default aggressiveness;
/// Silero uses its native 32 ms frames.
pub fn vad_from_env(sample_rate_hz: u32) -> Result<Box<dyn Vad>, VadError> {
    vad_for(vad_engine()?, sample_rate_hz)
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

    #[test]
    fn silero_is_the_default_only_when_its_models_are_present() {
        let empty = tempfile::tempdir().unwrap();
        let (engine, reason) = default_vad_engine(empty.path());
        assert_eq!(engine, VadEngine::Webrtc);
        assert!(reason.contains("silero_vad_8k_noif.onnx") || reason.contains("feature"), "{reason}");
        // One rate's model is not enough: calls run at 8 kHz, wideband at 16 kHz.
        std::fs::write(empty.path().join("silero_vad_8k_noif.onnx"), b"x").unwrap();
        assert_eq!(default_vad_engine(empty.path()).0, VadEngine::Webrtc);
        std::fs::write(empty.path().join("silero_vad_16k_noif.onnx"), b"x").unwrap();
        let expected = if cfg!(feature = "silero") { VadEngine::Silero } else { VadEngine::Webrtc };
        assert_eq!(default_vad_engine(empty.path()).0, expected);
    }
}
