//! (being written)
use super::{CodecError, StreamEvent};

/// Placeholder.
#[derive(Debug, Clone, Default)]
pub struct Codec {
    stream_sid: String,
}

impl Codec {
    /// Placeholder.
    pub fn decode(&mut self, _text: &str) -> Result<StreamEvent, CodecError> {
        Err(CodecError::Malformed { provider: "twilio", reason: "not implemented".into() })
    }
    /// Placeholder.
    pub fn encode_media(&self, _pcm: &[i16]) -> String {
        self.stream_sid.clone()
    }
    /// Placeholder.
    pub fn encode_mark(&self, _name: &str) -> String {
        String::new()
    }
    /// Placeholder.
    pub fn encode_clear(&self) -> String {
        String::new()
    }
}

/// Placeholder.
pub fn twiml_connect_stream(_stream_url: &str, _params: &[(&str, &str)]) -> String {
    String::new()
}
/// Placeholder.
pub fn twiml_say_hangup(_text_it: &str) -> String {
    String::new()
}
/// Placeholder.
pub fn twiml_dial(_number: &str) -> String {
    String::new()
}
