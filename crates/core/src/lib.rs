//! Fluxion's core: the receptionist without I/O.
//!
//! - [`nlu`]: understanding one Italian turn (L0 patterns → L1 intent → L2
//!   slots → L3 FAQ, a seam for L4).
//! - [`booking`]: businesses, services, operators, appointments, the
//!   availability rules and the storage port.
//! - [`dialogue`]: the per-session state machine that turns understood turns
//!   into actions and Italian replies.
//! - [`speak`]: dates, times and prices as spoken Italian.
//! - [`audio`]: G.711, resampling, WAV, framing, VAD and endpointing for voice calls.
//! - [`speech`]: the speech-to-text and text-to-speech ports, and the text
//!   work around them (sentences, spoken numbers, backchannels).

pub mod audio;
pub mod booking;
pub mod dialogue;
pub mod fallback;
pub mod faq;
pub mod history;
pub mod nlu;
pub mod speak;
pub mod speech;
pub mod text;
pub mod tools;
