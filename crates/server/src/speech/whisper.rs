//! (being written: replaced by the whisper.cpp engine)
use std::path::Path;

use fluxion_core::speech::stt::{SpeechToText, SttError, SttRequest, SttStream};
use fluxion_core::speech::BoxFuture;

/// Placeholder.
pub struct WhisperStt;

impl WhisperStt {
    /// Placeholder.
    pub fn from_models_dir(_dir: &Path, _model: Option<&str>) -> Result<Self, SttError> {
        Err(SttError::Unavailable("whisper: not built yet".to_string()))
    }
}

impl SpeechToText for WhisperStt {
    fn name(&self) -> &str {
        "whisper"
    }
    fn start<'a>(&'a self, _request: &'a SttRequest) -> BoxFuture<'a, Result<Box<dyn SttStream>, SttError>> {
        Box::pin(async { Err(SttError::Unavailable("whisper: not built yet".to_string())) })
    }
}
