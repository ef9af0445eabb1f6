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
        Err(CodecError::Malformed { provider: "plivo", reason: "not implemented".into() })
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
pub fn answer_xml(_stream_url: &str, _extra_headers: &str) -> String {
    String::new()
}
/// Placeholder.
pub fn dial_xml(_number: &str) -> String {
    String::new()
}
