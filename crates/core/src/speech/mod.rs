//! Speech ports: the contracts that speech-to-text and text-to-speech
//! engines fulfil, and the text work around them that belongs to the
//! receptionist.
//!
//! - [`stt`]: the streaming speech-to-text port ([`SpeechToText`], [`SttStream`]).
//! - [`tts`]: the streaming text-to-speech port ([`TextToSpeech`]).
//! - [`sentences`]: cutting a reply into sentences so the first one plays
//!   while the rest is synthesised.
//! - [`verbalize`]: digits, times, prices and symbols → spoken Italian words.
//! - [`backchannel`]: "mhm", "ok", "ehm": sounds that are not a turn.
//! - [`turn_end`]: whether a partial Italian transcript sounds finished.
//!
//! Engines live in the server crate; this crate only names what they do.

pub mod backchannel;
pub mod sentences;
pub mod stt;
pub mod tts;
pub mod turn_end;
pub mod verbalize;

use std::future::Future;
use std::pin::Pin;

pub use stt::{SpeechToText, SttError, SttRequest, SttStream, Transcript};
pub use tts::{TextToSpeech, TtsError};

/// A boxed, sendable future: what the speech ports return, so engines can be
/// chosen at run time (`Box<dyn SpeechToText>`).
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;
