//! Streaming sample-rate conversion between the rates a call meets: 8000 Hz
//! telephony, 16000 Hz speech recognition, 22050/24000 Hz speech synthesis,
//! and 32000/44100/48000/96000 Hz recordings.
//!
//! Built on `rubato`'s synchronous FFT resampler: fixed blocks of 20 ms in,
//! 20 ms out. The [`Resampler`] buffers arbitrary chunks up to a block, drops
//! the engine's start-up delay so output sample *n* lines up with input time
//! *n / to_hz* (within half an input sample), and [`Resampler::flush`] pads the tail so the stream comes out
//! `input × to_hz / from_hz` samples long.

use rubato::audioadapter_buffers::direct::InterleavedSlice;
use rubato::{Fft, FixedSync, Resampler as _};

use super::AudioError;

/// Sample rates the resampler converts between, in Hz.
pub const SUPPORTED_RATES_HZ: [u32; 8] = [8_000, 16_000, 22_050, 24_000, 32_000, 44_100, 48_000, 96_000];

/// Block duration handed to the engine, in ms. Every supported rate holds a
/// whole number of samples in it.
const BLOCK_MS: u32 = 20;

/// A stateful mono resampler from one rate to another; samples are `i16` PCM.
pub struct Resampler {
    from_hz: u32,
    to_hz: u32,
    /// `None` when the rates are equal: samples pass through unchanged.
    engine: Option<Engine>,
}

struct Engine {
    fft: Fft<f32>,
    /// Input samples per block.
    block_in: usize,
    /// Input samples waiting for a full block, scaled to −1.0..1.0.
    pending: Vec<f32>,
    /// Output of one block.
    block_out: Vec<f32>,
    /// Output samples still to drop at the start of the stream (engine delay).
    skip: usize,
    /// Input samples received since the start of the stream.
    total_in: u64,
    /// Output samples emitted since the start of the stream.
    total_out: u64,
}

impl std::fmt::Debug for Resampler {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Resampler").field("from_hz", &self.from_hz).field("to_hz", &self.to_hz).finish_non_exhaustive()
    }
}

impl Resampler {
    /// A resampler from `from_hz` to `to_hz`, both in [`SUPPORTED_RATES_HZ`];
    /// any other rate is [`AudioError::UnsupportedRate`].
    pub fn new(from_hz: u32, to_hz: u32) -> Result<Self, AudioError> {
        if !SUPPORTED_RATES_HZ.contains(&from_hz) || !SUPPORTED_RATES_HZ.contains(&to_hz) {
            return Err(AudioError::UnsupportedRate { from_hz, to_hz });
        }
        if from_hz == to_hz {
            return Ok(Self { from_hz, to_hz, engine: None });
        }
        let block_in = (from_hz * BLOCK_MS / 1000) as usize;
        let fft = Fft::<f32>::new(from_hz as usize, to_hz as usize, block_in, 1, FixedSync::Both)
            .map_err(|e| AudioError::Resampler(e.to_string()))?;
        let block_in = fft.input_frames_next();
        let skip = fft.output_delay();
        let block_out = vec![0.0; fft.output_frames_max()];
        Ok(Self {
            from_hz,
            to_hz,
            engine: Some(Engine { fft, block_in, pending: Vec::with_capacity(block_in), block_out, skip, total_in: 0, total_out: 0 }),
        })
    }

    /// Input rate, in Hz.
    pub fn from_hz(&self) -> u32 {
        self.from_hz
    }

    /// Output rate, in Hz.
    pub fn to_hz(&self) -> u32 {
        self.to_hz
    }

    /// Resamples a chunk of any length and appends what is ready to `out`.
    ///
    /// Output lags input by up to one 20 ms block plus the engine delay; the
    /// rest arrives with later chunks or [`Resampler::flush`].
    pub fn process(&mut self, input: &[i16], out: &mut Vec<i16>) -> Result<(), AudioError> {
        let Some(engine) = &mut self.engine else {
            out.extend_from_slice(input);
            return Ok(());
        };
        engine.total_in += input.len() as u64;
        let mut rest = input;
        while !rest.is_empty() {
            let take = (engine.block_in - engine.pending.len()).min(rest.len());
            let (now, later) = rest.split_at(take);
            engine.pending.extend(now.iter().map(|&s| f32::from(s) / 32768.0));
            rest = later;
            if engine.pending.len() == engine.block_in {
                engine.run_block(None, out)?;
            }
        }
        Ok(())
    }

    /// Ends the stream: emits the buffered tail so the total output is
    /// `round(input × to_hz / from_hz)` samples, then resets for a new stream.
    pub fn flush(&mut self, out: &mut Vec<i16>) -> Result<(), AudioError> {
        let (from_hz, to_hz) = (self.from_hz, self.to_hz);
        let Some(engine) = &mut self.engine else {
            return Ok(());
        };
        let target = (engine.total_in * u64::from(to_hz) + u64::from(from_hz) / 2) / u64::from(from_hz);
        while engine.total_out < target {
            let valid = engine.pending.len();
            engine.pending.resize(engine.block_in, 0.0);
            engine.run_block(Some(valid), out)?;
        }
        let excess = (engine.total_out - target) as usize;
        out.truncate(out.len().saturating_sub(excess));
        engine.fft.reset();
        engine.pending.clear();
        engine.skip = engine.fft.output_delay();
        engine.total_in = 0;
        engine.total_out = 0;
        Ok(())
    }
}

impl Engine {
    /// Resamples the full `pending` block (of which `valid` samples are real,
    /// the rest padding) and appends the output past the start-up delay to `out`.
    fn run_block(&mut self, valid: Option<usize>, out: &mut Vec<i16>) -> Result<(), AudioError> {
        let input = InterleavedSlice::new(&self.pending, 1, self.block_in).map_err(|e| AudioError::Resampler(e.to_string()))?;
        let capacity = self.block_out.len();
        let mut output = InterleavedSlice::new_mut(&mut self.block_out, 1, capacity).map_err(|e| AudioError::Resampler(e.to_string()))?;
        let indexing = valid.map(|n| rubato::Indexing::new().partial_len(n));
        let (_, produced) =
            self.fft.process_into_buffer(&input, &mut output, indexing.as_ref()).map_err(|e| AudioError::Resampler(e.to_string()))?;
        self.pending.clear();
        let produced = self.block_out.get(..produced).unwrap_or_default();
        let dropped = self.skip.min(produced.len());
        self.skip -= dropped;
        let ready = produced.get(dropped..).unwrap_or_default();
        out.extend(ready.iter().map(|&s| (s * 32768.0).round().clamp(-32768.0, 32767.0) as i16));
        self.total_out += ready.len() as u64;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::f64::consts::PI;

    fn sine(rate_hz: u32, freq_hz: f64, amplitude: f64, len: usize) -> Vec<i16> {
        (0..len).map(|n| (amplitude * (2.0 * PI * freq_hz * n as f64 / f64::from(rate_hz)).sin()).round() as i16).collect()
    }

    fn resample_all(from_hz: u32, to_hz: u32, input: &[i16], chunk: usize) -> Vec<i16> {
        let mut resampler = Resampler::new(from_hz, to_hz).expect("supported");
        let mut out = Vec::new();
        for piece in input.chunks(chunk.max(1)) {
            resampler.process(piece, &mut out).expect("process");
        }
        resampler.flush(&mut out).expect("flush");
        out
    }

    /// Power of `freq_hz` in `x` by the Goertzel algorithm, normalised to amplitude.
    fn goertzel_amplitude(x: &[i16], rate_hz: u32, freq_hz: f64) -> f64 {
        let w = 2.0 * PI * freq_hz / f64::from(rate_hz);
        let coeff = 2.0 * w.cos();
        let (mut s1, mut s2) = (0.0f64, 0.0f64);
        for &v in x {
            let s0 = f64::from(v) + coeff * s1 - s2;
            s2 = s1;
            s1 = s0;
        }
        let power = s1 * s1 + s2 * s2 - coeff * s1 * s2;
        2.0 * power.max(0.0).sqrt() / x.len() as f64
    }

    fn zero_crossings(x: &[i16]) -> usize {
        x.windows(2).filter(|w| (w[0] < 0) != (w[1] < 0)).count()
    }

    #[test]
    fn unsupported_rates_are_errors() {
        assert!(matches!(Resampler::new(11_025, 16_000), Err(AudioError::UnsupportedRate { from_hz: 11_025, to_hz: 16_000 })));
        assert!(Resampler::new(16_000, 0).is_err());
        assert!(Resampler::new(0, 0).is_err());
    }

    #[test]
    fn equal_rates_pass_through() {
        let input = sine(16_000, 440.0, 10_000.0, 1234);
        assert_eq!(resample_all(16_000, 16_000, &input, 100), input);
    }

    #[test]
    fn output_length_follows_the_ratio_for_every_pair() {
        for &from_hz in &SUPPORTED_RATES_HZ {
            for &to_hz in &SUPPORTED_RATES_HZ {
                for len in [0usize, 1, 77, from_hz as usize / 3] {
                    let input = sine(from_hz, 440.0, 8_000.0, len);
                    let out = resample_all(from_hz, to_hz, &input, 333);
                    let expected = (len as u64 * u64::from(to_hz) + u64::from(from_hz) / 2) / u64::from(from_hz);
                    assert_eq!(out.len() as u64, expected, "{from_hz}→{to_hz}, {len} samples");
                }
            }
        }
    }

    #[test]
    fn sine_keeps_frequency_and_amplitude() {
        for (from_hz, to_hz) in
            [(8_000, 16_000), (16_000, 8_000), (24_000, 8_000), (8_000, 48_000), (22_050, 16_000), (44_100, 8_000), (44_100, 16_000)]
        {
            let input = sine(from_hz, 440.0, 10_000.0, from_hz as usize); // one second
            let out = resample_all(from_hz, to_hz, &input, 160);
            // Skip the edges, where the filter sees the start and end of the stream.
            let margin = to_hz as usize / 10;
            let body = &out[margin..out.len() - margin];
            let seconds = body.len() as f64 / f64::from(to_hz);
            let freq = zero_crossings(body) as f64 / 2.0 / seconds;
            assert!((freq - 440.0).abs() < 3.0, "{from_hz}→{to_hz}: {freq} Hz");
            let amplitude = goertzel_amplitude(body, to_hz, 440.0);
            assert!((amplitude - 10_000.0).abs() < 300.0, "{from_hz}→{to_hz}: amplitude {amplitude}");
            // Alignment: output sample n matches input time n / to_hz, within half an
            // input sample (the engine's delay is a whole number of input samples).
            let expected = sine(to_hz, 440.0, 10_000.0, out.len());
            let worst = body.iter().zip(&expected[margin..]).map(|(a, b)| (i32::from(*a) - i32::from(*b)).abs()).max().unwrap_or(0);
            let half_input_sample = 10_000.0 * 2.0 * PI * 440.0 / f64::from(from_hz) * 0.55;
            assert!(f64::from(worst) < 300.0 + half_input_sample, "{from_hz}→{to_hz}: misaligned by up to {worst}");
        }
    }

    #[test]
    fn chunked_equals_whole_buffer_without_clicks() {
        for (from_hz, to_hz) in [(8_000, 16_000), (16_000, 8_000), (48_000, 16_000), (16_000, 22_050)] {
            let input = sine(from_hz, 440.0, 12_000.0, from_hz as usize / 2);
            let whole = resample_all(from_hz, to_hz, &input, input.len());
            let twenty_ms = resample_all(from_hz, to_hz, &input, from_hz as usize / 50);
            let ragged = resample_all(from_hz, to_hz, &input, 97);
            assert_eq!(whole.len(), twenty_ms.len());
            assert_eq!(whole.len(), ragged.len());
            for (i, ((w, t), r)) in whole.iter().zip(&twenty_ms).zip(&ragged).enumerate() {
                assert!((i32::from(*w) - i32::from(*t)).abs() <= 2, "{from_hz}→{to_hz} sample {i}: {w} vs {t}");
                assert!((i32::from(*w) - i32::from(*r)).abs() <= 2, "{from_hz}→{to_hz} sample {i}: {w} vs {r}");
            }
            // The largest step of a 440 Hz sine of amplitude A at rate R is A·2π·440/R.
            let limit = 12_000.0 * 2.0 * PI * 440.0 / f64::from(to_hz) * 1.1 + 4.0;
            let margin = to_hz as usize / 50;
            let body = &twenty_ms[margin..twenty_ms.len() - margin];
            let jump = body.windows(2).map(|w| (i32::from(w[1]) - i32::from(w[0])).abs()).max().unwrap_or(0);
            assert!(f64::from(jump) <= limit, "{from_hz}→{to_hz}: jump {jump} > {limit}");
        }
    }

    #[test]
    fn flush_resets_for_a_new_stream() {
        let input = sine(8_000, 440.0, 9_000.0, 4_000);
        let mut resampler = Resampler::new(8_000, 16_000).expect("supported");
        let mut first = Vec::new();
        resampler.process(&input, &mut first).expect("process");
        resampler.flush(&mut first).expect("flush");
        let mut second = Vec::new();
        resampler.process(&input, &mut second).expect("process");
        resampler.flush(&mut second).expect("flush");
        assert_eq!(first, second);
    }

    #[test]
    fn full_scale_input_does_not_overflow() {
        let square: Vec<i16> = (0..8_000).map(|n| if (n / 20) % 2 == 0 { i16::MAX } else { i16::MIN }).collect();
        let out = resample_all(8_000, 16_000, &square, 160);
        assert_eq!(out.len(), 16_000);
    }
}
