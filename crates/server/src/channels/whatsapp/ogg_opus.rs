//! Ogg/Opus, the format of WhatsApp voice notes (`audio/ogg; codecs=opus`):
//! [`decode`] turns a file into 16 kHz mono PCM for speech-to-text, and
//! [`encode`] turns PCM into a file (voice-note replies, tests).
//!
//! The container is RFC 7845 ("Ogg Encapsulation for the Opus Audio
//! Codec"): an `OpusHead` packet (channel count, pre-skip in 48 kHz
//! samples), an `OpusTags` packet, then one Opus packet per Ogg packet, the
//! granule position counting 48 kHz samples. Demuxing is the `ogg` crate's,
//! the codec is libopus (the `opus` crate).

use std::io::Cursor;

use ogg::writing::PacketWriteEndInfo;
use ogg::{PacketReader, PacketWriter};
use opus::{Application, Channels, Decoder, Encoder};

/// The rate [`decode`] returns and [`encode`] takes, in Hz.
pub const RATE_HZ: u32 = 16_000;

/// Opus's reference rate: granule positions and pre-skip count at it, in Hz.
const GRANULE_RATE_HZ: u64 = 48_000;

/// The longest Opus frame, 120 ms, in samples at [`RATE_HZ`].
const MAX_FRAME: usize = RATE_HZ as usize * 120 / 1000;

/// The frame [`encode`] writes: 20 ms, in samples at [`RATE_HZ`].
const ENCODE_FRAME: usize = RATE_HZ as usize / 50;

/// Why a file could not be decoded.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum OggOpusError {
    /// Not an Ogg stream, or a broken one.
    #[error("not an Ogg stream: {0}")]
    Container(String),
    /// An Ogg stream whose first packet is not `OpusHead` (Vorbis, Speex…).
    #[error("not Opus audio")]
    NotOpus,
    /// libopus refused a packet or the stream's set-up.
    #[error("Opus: {0}")]
    Codec(String),
    /// More than `max_ms` of audio.
    #[error("longer than {max_ms} ms")]
    TooLong {
        /// The limit, ms.
        max_ms: u64,
    },
}

/// Decodes an Ogg/Opus file to mono PCM at [`RATE_HZ`] (stereo is mixed
/// down by libopus), the pre-skip dropped; stops with
/// [`OggOpusError::TooLong`] past `max_ms` ms of audio. Only the first
/// logical stream is read.
///
/// # Errors
/// [`OggOpusError`]: not Ogg, not Opus, a packet libopus refuses, too long.
pub fn decode(bytes: &[u8], max_ms: u64) -> Result<Vec<i16>, OggOpusError> {
    let mut reader = PacketReader::new(Cursor::new(bytes));
    let container = |e: ogg::OggReadError| OggOpusError::Container(e.to_string());
    let head = reader.read_packet().map_err(container)?.ok_or_else(|| OggOpusError::Container("empty".into()))?;
    let pre_skip = opus_head(&head.data)?;
    let serial = head.stream_serial();
    let mut decoder = Decoder::new(RATE_HZ, Channels::Mono).map_err(|e| OggOpusError::Codec(e.to_string()))?;
    let max_samples = usize::try_from(max_ms.saturating_mul(u64::from(RATE_HZ)) / 1000).unwrap_or(usize::MAX);
    let mut pcm = Vec::new();
    let mut frame = vec![0i16; MAX_FRAME];
    let mut tags_seen = false;
    while let Some(packet) = reader.read_packet().map_err(container)? {
        if packet.stream_serial() != serial {
            continue;
        }
        if !tags_seen {
            // The second packet is OpusTags (comments): nothing to decode.
            tags_seen = true;
            if packet.data.starts_with(b"OpusTags") {
                continue;
            }
        }
        let n = decoder.decode(&packet.data, &mut frame, false).map_err(|e| OggOpusError::Codec(e.to_string()))?;
        pcm.extend_from_slice(&frame[..n.min(frame.len())]);
        if pcm.len() > max_samples.saturating_add(pre_skip) {
            return Err(OggOpusError::TooLong { max_ms });
        }
    }
    Ok(pcm.split_off(pre_skip.min(pcm.len())))
}

/// The pre-skip of an `OpusHead` packet (RFC 7845 §5.1), in samples at
/// [`RATE_HZ`].
fn opus_head(data: &[u8]) -> Result<usize, OggOpusError> {
    if data.len() < 19 || !data.starts_with(b"OpusHead") {
        return Err(OggOpusError::NotOpus);
    }
    if data[8] >> 4 != 0 {
        return Err(OggOpusError::Codec(format!("unsupported OpusHead version {}", data[8])));
    }
    let pre_skip_48k = u64::from(u16::from_le_bytes([data[10], data[11]]));
    Ok(usize::try_from(pre_skip_48k * u64::from(RATE_HZ) / GRANULE_RATE_HZ).unwrap_or(0))
}

/// Encodes mono PCM at [`RATE_HZ`] as an Ogg/Opus file (20 ms VoIP frames,
/// 24 kbit/s), the kind WhatsApp plays as a voice note.
///
/// # Errors
/// libopus failed to set up or encode ([`OggOpusError::Codec`]), or the Ogg
/// writer failed ([`OggOpusError::Container`]).
pub fn encode(pcm: &[i16]) -> Result<Vec<u8>, OggOpusError> {
    let codec = |e: opus::Error| OggOpusError::Codec(e.to_string());
    let mut encoder = Encoder::new(RATE_HZ, Channels::Mono, Application::Voip).map_err(codec)?;
    encoder.set_bitrate(opus::Bitrate::Bits(24_000)).map_err(codec)?;
    let lookahead = encoder.get_lookahead().map_err(codec)?;
    let pre_skip_48k = u16::try_from(i64::from(lookahead) * 3).unwrap_or(0);
    let serial = 0x466c_7578; // "Flux"
    let mut writer = PacketWriter::new(Vec::new());
    let io = |e: std::io::Error| OggOpusError::Container(e.to_string());
    let mut head = Vec::with_capacity(19);
    head.extend_from_slice(b"OpusHead");
    head.push(1); // version
    head.push(1); // channels
    head.extend_from_slice(&pre_skip_48k.to_le_bytes());
    head.extend_from_slice(&RATE_HZ.to_le_bytes()); // the input's rate, informative
    head.extend_from_slice(&0i16.to_le_bytes()); // output gain
    head.push(0); // channel mapping family: mono/stereo
    writer.write_packet(head, serial, PacketWriteEndInfo::EndPage, 0).map_err(io)?;
    let vendor = b"fluxion";
    let mut tags = Vec::new();
    tags.extend_from_slice(b"OpusTags");
    tags.extend_from_slice(&u32::try_from(vendor.len()).unwrap_or(0).to_le_bytes());
    tags.extend_from_slice(vendor);
    tags.extend_from_slice(&0u32.to_le_bytes());
    writer.write_packet(tags, serial, PacketWriteEndInfo::EndPage, 0).map_err(io)?;
    let frames: Vec<&[i16]> = pcm.chunks(ENCODE_FRAME).collect();
    let mut granule = u64::from(pre_skip_48k);
    let mut buf = vec![0u8; 4_000];
    for (i, chunk) in frames.iter().enumerate() {
        let mut frame = [0i16; ENCODE_FRAME];
        frame[..chunk.len()].copy_from_slice(chunk);
        let n = encoder.encode(&frame, &mut buf).map_err(codec)?;
        granule += (chunk.len() as u64) * GRANULE_RATE_HZ / u64::from(RATE_HZ);
        let end = if i + 1 == frames.len() { PacketWriteEndInfo::EndStream } else { PacketWriteEndInfo::NormalPacket };
        writer.write_packet(buf[..n].to_vec(), serial, end, granule).map_err(io)?;
    }
    if frames.is_empty() {
        writer.write_packet(Vec::new(), serial, PacketWriteEndInfo::EndStream, granule).map_err(io)?;
    }
    Ok(writer.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A 440 Hz tone at half scale.
    fn tone(ms: usize) -> Vec<i16> {
        (0..RATE_HZ as usize * ms / 1000)
            .map(|i| ((i as f64 * 440.0 * std::f64::consts::TAU / f64::from(RATE_HZ)).sin() * 16_000.0) as i16)
            .collect()
    }

    #[test]
    fn a_voice_note_round_trips_with_its_length_and_energy() {
        let pcm = tone(1_500);
        let file = encode(&pcm).expect("encode");
        assert!(file.starts_with(b"OggS"), "an Ogg stream");
        let back = decode(&file, 10_000).expect("decode");
        let diff = back.len().abs_diff(pcm.len());
        assert!(diff <= ENCODE_FRAME, "{} samples back for {}", back.len(), pcm.len());
        let rms = |s: &[i16]| (s.iter().map(|&x| f64::from(x).powi(2)).sum::<f64>() / s.len().max(1) as f64).sqrt();
        let (a, b) = (rms(&pcm), rms(&back));
        assert!((b / a - 1.0).abs() < 0.25, "energy kept: {a:.0} → {b:.0}");
    }

    #[test]
    fn garbage_and_other_codecs_are_refused() {
        assert!(matches!(decode(b"not audio at all", 1_000), Err(OggOpusError::Container(_))));
        assert!(decode(&[], 1_000).is_err());
        let mut vorbis = PacketWriter::new(Vec::new());
        vorbis.write_packet(b"\x01vorbis........................".to_vec(), 1, PacketWriteEndInfo::EndStream, 0).expect("write");
        assert_eq!(decode(&vorbis.into_inner(), 1_000), Err(OggOpusError::NotOpus));
        let mut file = encode(&tone(500)).expect("encode");
        let cut = file.len() / 2;
        file.truncate(cut);
        // A file cut short decodes what it holds or fails cleanly: never a panic.
        let _ = decode(&file, 1_000);
    }

    #[test]
    fn a_note_past_the_limit_is_refused() {
        let file = encode(&tone(2_000)).expect("encode");
        assert_eq!(decode(&file, 1_000), Err(OggOpusError::TooLong { max_ms: 1_000 }));
    }
}
