//! Phone calls: provider media streams into the voice session.
//!
//! ```text
//!  provider ──WebSocket JSON──► Codec::decode ──StreamEvent──► media handler ──CallInput──► voice session
//!  provider ◄─WebSocket JSON─── Codec::encode_* ◄───────────── media handler ◄──CallEvent─── voice session
//! ```
//!
//! One WebSocket handler ([`media`]) serves every provider; Twilio, Plivo
//! and Exotel differ only in a small codec each ([`twilio`], [`plivo`],
//! [`exotel`]) and in their webhooks ([`webhooks`]), whose signatures are
//! verified in [`signature`].

pub mod exotel;
pub mod plivo;
pub mod signature;
pub mod twilio;
mod wire;

use std::collections::HashMap;

use thiserror::Error;

/// A telephony provider.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Provider {
    /// Twilio Media Streams.
    Twilio,
    /// Plivo Audio Streaming.
    Plivo,
    /// Exotel Voicebot applet stream.
    Exotel,
}

impl Provider {
    /// Lower-case name, as in URLs, `CALL_PROVIDER` and the calls table.
    pub fn as_str(self) -> &'static str {
        match self {
            Provider::Twilio => "twilio",
            Provider::Plivo => "plivo",
            Provider::Exotel => "exotel",
        }
    }
}

impl std::str::FromStr for Provider {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "twilio" => Ok(Provider::Twilio),
            "plivo" => Ok(Provider::Plivo),
            "exotel" => Ok(Provider::Exotel),
            other => Err(format!("unknown call provider {other:?} (expected twilio, plivo or exotel)")),
        }
    }
}

/// What one inbound media-stream message means, whatever the provider.
#[derive(Debug, Clone, PartialEq)]
pub enum StreamEvent {
    /// The WebSocket is connected (Twilio/Exotel `connected`).
    Connected,
    /// The stream starts.
    Start(StreamStart),
    /// Caller audio, decoded to 16-bit PCM at 8000 Hz.
    Media(Vec<i16>),
    /// A keypad digit.
    Dtmf(char),
    /// Playback reached a mark the agent sent (Twilio/Exotel `mark`, Plivo `playedStream`).
    Mark(String),
    /// The provider dropped queued audio after a clear (Plivo `clearedAudio`).
    Cleared,
    /// The stream ended (the call hung up).
    Stop,
    /// A message with nothing for us (an unknown or unused event), by its event name.
    Ignored(String),
}

/// The `start` message's facts.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct StreamStart {
    /// The provider's call id (Twilio CallSid, Plivo callId/CallUUID, Exotel call_sid).
    pub call_sid: String,
    /// The stream id, echoed in outbound messages.
    pub stream_sid: String,
    /// Caller number (E.164 when the provider gives it; from a custom parameter otherwise).
    pub from: Option<String>,
    /// Called number.
    pub to: Option<String>,
    /// Custom parameters passed when the stream was started.
    pub custom: HashMap<String, String>,
}

/// A media-stream message that does not follow the provider's documented format.
#[derive(Debug, Error, Clone, PartialEq)]
pub enum CodecError {
    /// Not JSON, or missing a required field.
    #[error("malformed {provider} message: {reason}")]
    Malformed {
        /// Which provider's format.
        provider: &'static str,
        /// What is wrong.
        reason: String,
    },
    /// Audio that is not valid base64 or not whole samples.
    #[error("bad {provider} audio payload: {reason}")]
    BadAudio {
        /// Which provider's format.
        provider: &'static str,
        /// What is wrong.
        reason: String,
    },
}

/// The codec for one stream, chosen by the URL the provider connected to.
#[derive(Debug, Clone)]
pub enum Codec {
    /// Twilio Media Streams.
    Twilio(twilio::Codec),
    /// Plivo Audio Streaming.
    Plivo(plivo::Codec),
    /// Exotel Voicebot stream.
    Exotel(exotel::Codec),
}

impl Codec {
    /// A fresh codec for `provider`.
    pub fn new(provider: Provider) -> Self {
        match provider {
            Provider::Twilio => Codec::Twilio(twilio::Codec::default()),
            Provider::Plivo => Codec::Plivo(plivo::Codec::default()),
            Provider::Exotel => Codec::Exotel(exotel::Codec::default()),
        }
    }

    /// The provider.
    pub fn provider(&self) -> Provider {
        match self {
            Codec::Twilio(_) => Provider::Twilio,
            Codec::Plivo(_) => Provider::Plivo,
            Codec::Exotel(_) => Provider::Exotel,
        }
    }

    /// Decodes one inbound text message (a `start` also remembers the stream id).
    ///
    /// # Errors
    /// [`CodecError`] for a malformed message or audio.
    pub fn decode(&mut self, text: &str) -> Result<StreamEvent, CodecError> {
        match self {
            Codec::Twilio(c) => c.decode(text),
            Codec::Plivo(c) => c.decode(text),
            Codec::Exotel(c) => c.decode(text),
        }
    }

    /// The outbound message playing `pcm` (16-bit PCM at 8000 Hz).
    pub fn encode_media(&self, pcm: &[i16]) -> String {
        match self {
            Codec::Twilio(c) => c.encode_media(pcm),
            Codec::Plivo(c) => c.encode_media(pcm),
            Codec::Exotel(c) => c.encode_media(pcm),
        }
    }

    /// The outbound message asking to be told when playback reaches this point.
    pub fn encode_mark(&self, name: &str) -> String {
        match self {
            Codec::Twilio(c) => c.encode_mark(name),
            Codec::Plivo(c) => c.encode_mark(name),
            Codec::Exotel(c) => c.encode_mark(name),
        }
    }

    /// The outbound message dropping audio not yet played (barge-in).
    pub fn encode_clear(&self) -> String {
        match self {
            Codec::Twilio(c) => c.encode_clear(),
            Codec::Plivo(c) => c.encode_clear(),
            Codec::Exotel(c) => c.encode_clear(),
        }
    }
}
