//! WAV files ⇄ 16-bit mono PCM, through the `hound` crate.
//!
//! Reading accepts 8, 16, 24 and 32-bit integer and 32-bit float samples with
//! any number of channels and returns mono `i16` (channels averaged). Writing
//! produces 16-bit mono PCM. Malformed input is an [`AudioError`], never a panic.

use std::io::{Cursor, Read, Seek, Write};

use hound::{SampleFormat, WavReader, WavSpec, WavWriter};

use super::AudioError;

/// Reads a WAV stream into mono 16-bit samples and its sample rate in Hz.
pub fn read_wav<R: Read>(reader: R) -> Result<(Vec<i16>, u32), AudioError> {
    let reader = WavReader::new(reader)?;
    let spec = reader.spec();
    let channels = usize::from(spec.channels.max(1));
    let interleaved: Vec<i32> = match (spec.sample_format, spec.bits_per_sample) {
        (SampleFormat::Int, bits @ 1..=32) => {
            reader.into_samples::<i32>().map(|s| s.map(|v| int_to_i16(v, bits))).collect::<Result<_, _>>()?
        }
        (SampleFormat::Float, 32) => reader.into_samples::<f32>().map(|s| s.map(float_to_i16)).collect::<Result<_, _>>()?,
        (SampleFormat::Int, bits) => return Err(AudioError::UnsupportedWav { bits, format: "int" }),
        (SampleFormat::Float, bits) => return Err(AudioError::UnsupportedWav { bits, format: "float" }),
    };
    let mono = interleaved
        .chunks(channels)
        .map(|frame| {
            let sum: i32 = frame.iter().sum();
            // A trailing partial frame still averages over the channels it has.
            (sum / frame.len().max(1) as i32) as i16
        })
        .collect();
    Ok((mono, spec.sample_rate))
}

/// Reads a WAV file held in memory; see [`read_wav`].
pub fn read_wav_bytes(bytes: &[u8]) -> Result<(Vec<i16>, u32), AudioError> {
    read_wav(Cursor::new(bytes))
}

/// Writes `samples` as a 16-bit mono PCM WAV at `rate_hz` Hz.
pub fn write_wav<W: Write + Seek>(writer: W, samples: &[i16], rate_hz: u32) -> Result<(), AudioError> {
    let spec = WavSpec { channels: 1, sample_rate: rate_hz, bits_per_sample: 16, sample_format: SampleFormat::Int };
    let mut wav = WavWriter::new(writer, spec)?;
    let mut samples_out = wav.get_i16_writer(u32::try_from(samples.len()).map_err(|_| hound::Error::TooWide)?);
    for &s in samples {
        samples_out.write_sample(s);
    }
    samples_out.flush()?;
    wav.finalize()?;
    Ok(())
}

/// Writes `samples` as a 16-bit mono PCM WAV at `rate_hz` Hz into a new byte vector.
pub fn wav_bytes(samples: &[i16], rate_hz: u32) -> Result<Vec<u8>, AudioError> {
    let mut out = Cursor::new(Vec::new());
    write_wav(&mut out, samples, rate_hz)?;
    Ok(out.into_inner())
}

/// Scales a signed integer sample of `bits` bits to the 16-bit range.
fn int_to_i16(value: i32, bits: u16) -> i32 {
    if bits <= 16 {
        value << (16 - bits)
    } else {
        value >> (bits - 16)
    }
}

/// Scales a float sample in −1.0..=1.0 to the 16-bit range, clipping outside it.
fn float_to_i16(value: f32) -> i32 {
    let scaled = if value.is_finite() { value * 32768.0 } else { 0.0 };
    scaled.round().clamp(-32768.0, 32767.0) as i32
}

#[cfg(test)]
mod tests {
    use super::*;

    fn encode<S: hound::Sample + Copy>(spec: WavSpec, samples: &[S]) -> Vec<u8> {
        let mut out = Cursor::new(Vec::new());
        let mut writer = WavWriter::new(&mut out, spec).expect("writer");
        for &s in samples {
            writer.write_sample(s).expect("sample");
        }
        writer.finalize().expect("finalize");
        out.into_inner()
    }

    fn spec(channels: u16, bits: u16, format: SampleFormat) -> WavSpec {
        WavSpec { channels, sample_rate: 16_000, bits_per_sample: bits, sample_format: format }
    }

    #[test]
    fn round_trip_keeps_samples_and_rate() {
        let samples: Vec<i16> = (0..800).map(|i| ((i * 97) % 65536 - 32768) as i16).collect();
        let bytes = wav_bytes(&samples, 8_000).expect("write");
        let (read, rate) = read_wav_bytes(&bytes).expect("read");
        assert_eq!(rate, 8_000);
        assert_eq!(read, samples);
    }

    #[test]
    fn stereo_is_averaged_to_mono() {
        let bytes = encode(spec(2, 16, SampleFormat::Int), &[1000i16, 3000, -200, -400, 32767, 32767]);
        let (mono, rate) = read_wav_bytes(&bytes).expect("read");
        assert_eq!(rate, 16_000);
        assert_eq!(mono, vec![2000, -300, 32767]);
    }

    #[test]
    fn other_bit_depths_scale_to_16_bit() {
        let bytes = encode(spec(1, 8, SampleFormat::Int), &[-128i8, 0, 64, 127]);
        assert_eq!(read_wav_bytes(&bytes).expect("8-bit").0, vec![-32768, 0, 16384, 32512]);

        let bytes = encode(spec(1, 24, SampleFormat::Int), &[-8_388_608i32, 256, 8_388_607]);
        assert_eq!(read_wav_bytes(&bytes).expect("24-bit").0, vec![-32768, 1, 32767]);

        let bytes = encode(spec(1, 32, SampleFormat::Int), &[i32::MIN, 65_536, i32::MAX]);
        assert_eq!(read_wav_bytes(&bytes).expect("32-bit").0, vec![-32768, 1, 32767]);

        let bytes = encode(spec(1, 32, SampleFormat::Float), &[-1.0f32, 0.5, 1.0, 2.0]);
        assert_eq!(read_wav_bytes(&bytes).expect("float").0, vec![-32768, 16384, 32767, 32767]);
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        assert!(read_wav_bytes(b"").is_err());
        assert!(read_wav_bytes(b"not a wav file at all").is_err());
        assert!(read_wav_bytes(&[0xFF; 64]).is_err());
        // A valid header followed by a truncated data chunk.
        let bytes = wav_bytes(&[1, 2, 3, 4], 16_000).expect("write");
        assert!(read_wav_bytes(&bytes[..bytes.len() - 3]).is_err());
        // Every prefix of a valid file.
        for end in 0..bytes.len() {
            let _ = read_wav_bytes(&bytes[..end]);
        }
    }
}
