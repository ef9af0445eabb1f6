//! Piper neural voices (<https://github.com/rhasspy/piper>): natural offline
//! Italian (`it_IT-paola-medium`, `it_IT-riccardo-x_low`) when the `piper`
//! program and a voice file are present. The voice is `NAME.onnx` with its
//! `NAME.onnx.json` (which gives the sample rate) under the models
//! directory; Piper reads text on stdin and writes raw 16-bit PCM
//! (`--output_raw`).

use std::path::{Path, PathBuf};

use fluxion_core::speech::tts::{AudioSink, TextToSpeech, TtsError};
use fluxion_core::speech::BoxFuture;

use super::process::{self, Output};

/// The voice used when `PIPER_VOICE` is unset.
pub const DEFAULT_VOICE: &str = "it_IT-paola-medium";

/// Piper run as a child process per sentence.
#[derive(Debug, Clone)]
pub struct PiperTts {
    program: PathBuf,
    model: PathBuf,
    voice: String,
    sample_rate_hz: u32,
    timeout_ms: u64,
}

impl PiperTts {
    /// Piper `program` speaking with the voice file `model` (`…/NAME.onnx`,
    /// with `NAME.onnx.json` beside it).
    ///
    /// # Errors
    /// [`TtsError::Unavailable`] when the voice file or its JSON is missing
    /// or the JSON has no `audio.sample_rate`.
    pub fn new(program: PathBuf, model: &Path) -> Result<Self, TtsError> {
        let config_path = PathBuf::from(format!("{}.json", model.display()));
        if !model.is_file() || !config_path.is_file() {
            return Err(TtsError::Unavailable(format!(
                "Piper voice {} (and its .onnx.json) not found; download it from https://huggingface.co/rhasspy/piper-voices into FLUXION_MODELS_DIR",
                model.display()
            )));
        }
        let config: serde_json::Value = std::fs::read(&config_path)
            .ok()
            .and_then(|bytes| serde_json::from_slice(&bytes).ok())
            .ok_or_else(|| TtsError::Unavailable(format!("{} is not valid JSON", config_path.display())))?;
        let sample_rate_hz = config
            .pointer("/audio/sample_rate")
            .and_then(serde_json::Value::as_u64)
            .and_then(|r| u32::try_from(r).ok())
            .ok_or_else(|| TtsError::Unavailable(format!("{} has no audio.sample_rate", config_path.display())))?;
        let voice = model.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
        Ok(PiperTts { program, model: model.to_path_buf(), voice, sample_rate_hz, timeout_ms: 10_000 })
    }

    /// The program from `PIPER_BIN` (or `piper` on `PATH`) and the voice
    /// `PIPER_VOICE` (default [`DEFAULT_VOICE`]) under `models_dir`.
    ///
    /// # Errors
    /// [`TtsError::Unavailable`] naming what is missing.
    pub fn from_env(models_dir: &Path) -> Result<Self, TtsError> {
        let program = match std::env::var("PIPER_BIN").ok().filter(|p| !p.is_empty()) {
            Some(p) => process::find_program(&[p.as_str()]),
            None => process::find_program(&["piper"]),
        }
        .ok_or_else(|| TtsError::Unavailable("the piper program is not installed (set PIPER_BIN or put piper on PATH)".to_string()))?;
        let voice = std::env::var("PIPER_VOICE").ok().filter(|v| !v.is_empty()).unwrap_or_else(|| DEFAULT_VOICE.to_string());
        let model = if voice.ends_with(".onnx") { models_dir.join(&voice) } else { models_dir.join(format!("{voice}.onnx")) };
        Self::new(program, &model)
    }
}

impl TextToSpeech for PiperTts {
    fn engine(&self) -> &str {
        "piper"
    }

    fn voice(&self) -> &str {
        &self.voice
    }

    fn sample_rate_hz(&self) -> u32 {
        self.sample_rate_hz
    }

    fn synthesize<'a>(&'a self, text: &'a str, sink: &'a mut AudioSink<'_>) -> BoxFuture<'a, Result<(), TtsError>> {
        Box::pin(async move {
            let args = ["--model".to_string(), self.model.display().to_string(), "--output_raw".to_string(), "--quiet".to_string()];
            process::synthesize(&self.program, &args, text, Output::Raw, self.timeout_ms, sink).await.map(|_| ())
        })
    }
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use fluxion_core::speech::tts::synthesize_all;

    use super::*;

    /// A stand-in `piper` (Piper weights cannot be downloaded here): a script
    /// with Piper's command line that checks its arguments, reads the text on
    /// stdin and writes raw 16-bit PCM, one 100 ms tone per word.
    fn stand_in(dir: &Path) -> PathBuf {
        let script = dir.join("piper");
        std::fs::write(
            &script,
            r#"#!/bin/sh
[ "$1" = "--model" ] && [ -f "$2" ] && [ "$3" = "--output_raw" ] || { echo "bad arguments: $*" >&2; exit 2; }
read -r text
for w in $text; do head -c 3200 /dev/urandom; done
"#,
        )
        .unwrap();
        std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
        let model = dir.join("it_IT-paola-medium.onnx");
        std::fs::write(&model, b"not a real model").unwrap();
        std::fs::write(dir.join("it_IT-paola-medium.onnx.json"), r#"{"audio": {"sample_rate": 16000}}"#).unwrap();
        script
    }

    #[tokio::test]
    async fn runs_piper_with_a_voice_file() {
        let dir = tempfile::tempdir().unwrap();
        let program = stand_in(dir.path());
        let tts = PiperTts::new(program, &dir.path().join("it_IT-paola-medium.onnx")).unwrap();
        assert_eq!((tts.sample_rate_hz(), tts.voice()), (16_000, "it_IT-paola-medium"));
        let pcm = synthesize_all(&tts, "buongiorno a tutti voi").await.unwrap();
        assert_eq!(pcm.len(), 4 * 1600);
    }

    #[test]
    fn missing_voice_says_where_to_get_it() {
        let dir = tempfile::tempdir().unwrap();
        let err = PiperTts::new(PathBuf::from("/bin/true"), &dir.path().join("it_IT-paola-medium.onnx")).unwrap_err();
        assert!(err.to_string().contains("piper-voices"), "{err}");
    }
}
