//! Audio foundations for voice calls: 16-bit mono PCM (`i16` samples) in and
//! out of telephony codecs, sample-rate conversion, WAV files and fixed-size
//! framing.
//!
//! - [`g711`]: μ-law and A-law ⇄ PCM (ITU-T G.711).
//! - [`resample`]: streaming conversion between 8000, 16000, 22050, 24000 and 48000 Hz.
//! - [`wav`]: WAV files ⇄ mono PCM.
//! - [`frame`]: cutting a stream of arbitrary chunks into fixed frames (20 ms by default).
//! - [`vad`]: voice activity detection per frame (WebRTC by default).
//! - [`endpoint`]: per-frame speech probabilities → caller turns.

pub mod endpoint;
pub mod frame;
pub mod g711;
pub mod resample;
pub mod vad;
pub mod wav;

/// What can go wrong turning bytes and rates into PCM.
#[derive(Debug, thiserror::Error)]
pub enum AudioError {
    /// A sample rate outside [`resample::SUPPORTED_RATES_HZ`].
    #[error("unsupported sample rate conversion {from_hz} Hz → {to_hz} Hz")]
    UnsupportedRate {
        /// Input rate, in Hz.
        from_hz: u32,
        /// Output rate, in Hz.
        to_hz: u32,
    },
    /// The resampler engine refused to build or to process a chunk.
    #[error("resampler failed: {0}")]
    Resampler(String),
    /// A frame length that is zero or not a whole number of samples.
    #[error("{frame_ms} ms at {rate_hz} Hz is not a whole, non-zero number of samples")]
    InvalidFrame {
        /// Sample rate, in Hz.
        rate_hz: u32,
        /// Frame duration, in ms.
        frame_ms: u32,
    },
    /// The bytes are not a WAV file we can read, or writing one failed.
    #[error("wav: {0}")]
    Wav(#[from] hound::Error),
    /// A WAV sample format we do not convert (e.g. 64-bit float).
    #[error("unsupported wav format: {bits} bits {format}")]
    UnsupportedWav {
        /// Bits per sample declared in the header.
        bits: u16,
        /// `"int"` or `"float"`.
        format: &'static str,
    },
}
