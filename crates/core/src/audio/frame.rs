//! Fixed-size framing: arbitrary chunks in, frames of exactly `frame_len`
//! samples out (320 samples for 20 ms at 16000 Hz, 160 at 8000 Hz).
//!
//! Network packets, decoders and resamplers hand over audio in whatever sizes
//! they like; voice activity detection and speech recognition want fixed
//! frames. The [`Framer`] keeps the remainder between calls.

use super::AudioError;

/// Default frame duration, in ms.
pub const FRAME_MS: u32 = 20;

/// Number of samples in `frame_ms` ms at `rate_hz` Hz.
///
/// Errors with [`AudioError::InvalidFrame`] when the result is zero or not a
/// whole number of samples (e.g. 10 ms at 22050 Hz).
pub fn frame_len(rate_hz: u32, frame_ms: u32) -> Result<usize, AudioError> {
    let product = u64::from(rate_hz) * u64::from(frame_ms);
    if product == 0 || product % 1000 != 0 {
        return Err(AudioError::InvalidFrame { rate_hz, frame_ms });
    }
    usize::try_from(product / 1000).map_err(|_| AudioError::InvalidFrame { rate_hz, frame_ms })
}

/// Cuts a stream of chunks into frames of a fixed number of samples.
#[derive(Debug, Clone)]
pub struct Framer {
    frame_len: usize,
    buffer: Vec<i16>,
    /// Index in `buffer` of the first sample not yet handed out.
    start: usize,
}

impl Framer {
    /// A framer for `frame_ms` ms frames at `rate_hz` Hz; see [`frame_len`] for the errors.
    pub fn new(rate_hz: u32, frame_ms: u32) -> Result<Self, AudioError> {
        Ok(Self::with_len(frame_len(rate_hz, frame_ms)?))
    }

    /// A framer for frames of `frame_len` samples (at least 1).
    pub fn with_len(frame_len: usize) -> Self {
        Self { frame_len: frame_len.max(1), buffer: Vec::new(), start: 0 }
    }

    /// Samples per frame.
    pub fn frame_len(&self) -> usize {
        self.frame_len
    }

    /// Appends a chunk of any length.
    pub fn push(&mut self, chunk: &[i16]) {
        if self.start > 0 {
            self.buffer.drain(..self.start);
            self.start = 0;
        }
        self.buffer.extend_from_slice(chunk);
    }

    /// The next complete frame, or `None` until enough samples have been pushed.
    pub fn next_frame(&mut self) -> Option<&[i16]> {
        let end = self.start + self.frame_len;
        let frame = self.buffer.get(self.start..end)?;
        self.start = end;
        Some(frame)
    }

    /// Pushes `chunk` and returns every frame now complete, in order.
    pub fn frames(&mut self, chunk: &[i16]) -> Vec<Vec<i16>> {
        self.push(chunk);
        std::iter::from_fn(|| self.next_frame().map(<[i16]>::to_vec)).collect()
    }

    /// Samples waiting for the next frame (always fewer than a frame after draining).
    pub fn remainder(&self) -> &[i16] {
        self.buffer.get(self.start..).unwrap_or_default()
    }

    /// Ends the stream: the remainder padded with silence to a full frame, or
    /// `None` when nothing is left. The framer is empty afterwards.
    pub fn finish(&mut self) -> Option<Vec<i16>> {
        let mut last = self.remainder().to_vec();
        self.buffer.clear();
        self.start = 0;
        if last.is_empty() {
            return None;
        }
        last.resize(self.frame_len, 0);
        Some(last)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frame_lengths() {
        assert_eq!(frame_len(16_000, 20).ok(), Some(320));
        assert_eq!(frame_len(8_000, 20).ok(), Some(160));
        assert_eq!(frame_len(22_050, 20).ok(), Some(441));
        assert_eq!(frame_len(48_000, 10).ok(), Some(480));
        assert!(matches!(frame_len(22_050, 10), Err(AudioError::InvalidFrame { rate_hz: 22_050, frame_ms: 10 })));
        assert!(frame_len(0, 20).is_err());
        assert!(frame_len(16_000, 0).is_err());
        assert!(Framer::new(22_050, 1).is_err());
    }

    #[test]
    fn arbitrary_chunks_become_fixed_frames_in_order() {
        let mut framer = Framer::new(8_000, 20).expect("valid");
        let stream: Vec<i16> = (0..1000).map(|i| i as i16).collect();
        let mut frames = Vec::new();
        for chunk in stream.chunks(37) {
            frames.extend(framer.frames(chunk));
        }
        assert_eq!(frames.len(), 1000 / 160);
        assert!(frames.iter().all(|f| f.len() == 160));
        assert_eq!(frames.concat(), stream[..960]);
        assert_eq!(framer.remainder(), &stream[960..]);
    }

    #[test]
    fn next_frame_waits_for_a_full_frame() {
        let mut framer = Framer::new(16_000, 20).expect("valid");
        framer.push(&[1; 319]);
        assert!(framer.next_frame().is_none());
        framer.push(&[2; 2]);
        assert_eq!(framer.next_frame().map(<[i16]>::len), Some(320));
        assert!(framer.next_frame().is_none());
        assert_eq!(framer.remainder(), &[2]);
    }

    #[test]
    fn one_big_chunk_yields_many_frames() {
        let mut framer = Framer::with_len(4);
        let frames = framer.frames(&[5; 4 * 1000 + 3]);
        assert_eq!(frames.len(), 1000);
        assert_eq!(framer.remainder().len(), 3);
    }

    #[test]
    fn finish_pads_the_remainder_with_silence() {
        let mut framer = Framer::with_len(4);
        framer.push(&[1, 2, 3, 4, 5]);
        assert_eq!(framer.next_frame(), Some(&[1, 2, 3, 4][..]));
        assert_eq!(framer.finish(), Some(vec![5, 0, 0, 0]));
        assert_eq!(framer.finish(), None);
        assert!(framer.remainder().is_empty());
    }
}
