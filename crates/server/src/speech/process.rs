//! Running a local synthesiser as a child process: text in on stdin, audio
//! streamed back from stdout chunk by chunk. Shared by [`super::espeak`] and
//! [`super::piper`].

use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use fluxion_core::speech::tts::{AudioSink, TtsError};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::process::Command;

/// How the child's stdout is laid out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Output {
    /// A WAV header (RIFF, `fmt `, … `data`) then 16-bit little-endian PCM;
    /// the data length in the header is ignored (espeak-ng writes it before
    /// it knows it).
    Wav,
    /// Raw 16-bit little-endian PCM.
    Raw,
}

/// Runs `program args…`, writes `text` to its stdin, and hands its PCM to
/// `sink` as it is produced. Returns the sample rate read from the WAV
/// header (`None` for [`Output::Raw`]).
///
/// # Errors
/// [`TtsError::Unavailable`] when the program cannot be started (not
/// installed); [`TtsError::Timeout`] after `timeout_ms`; [`TtsError::Output`]
/// when it exits with an error or writes something that is not audio.
pub async fn synthesize(
    program: &Path,
    args: &[String],
    text: &str,
    output: Output,
    timeout_ms: u64,
    sink: &mut AudioSink<'_>,
) -> Result<Option<u32>, TtsError> {
    let mut child = Command::new(program)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| TtsError::Unavailable(format!("cannot run {}: {e}", program.display())))?;
    let mut stdin = child.stdin.take().ok_or_else(|| TtsError::Output("no stdin".to_string()))?;
    let mut stdout = child.stdout.take().ok_or_else(|| TtsError::Output("no stdout".to_string()))?;
    let input = format!("{}\n", text.replace(['\n', '\r'], " "));
    let writer = tokio::spawn(async move {
        let _ = stdin.write_all(input.as_bytes()).await;
        drop(stdin);
    });
    let work = async {
        let mut decoder = PcmDecoder::new(output);
        let mut buf = vec![0u8; 8192];
        loop {
            let n = stdout.read(&mut buf).await.map_err(|e| TtsError::Output(e.to_string()))?;
            if n == 0 {
                break;
            }
            let pcm = decoder.push(&buf[..n])?;
            if !pcm.is_empty() {
                sink(pcm);
            }
        }
        let status = child.wait().await.map_err(|e| TtsError::Output(e.to_string()))?;
        if !status.success() {
            let mut err = String::new();
            if let Some(mut stderr) = child.stderr.take() {
                let _ = stderr.read_to_string(&mut err).await;
            }
            return Err(TtsError::Output(format!("{} exited with {status}: {}", program.display(), err.trim())));
        }
        if output == Output::Wav && decoder.rate_hz.is_none() {
            return Err(TtsError::Output(format!("{} wrote no WAV header", program.display())));
        }
        Ok(decoder.rate_hz)
    };
    let result = tokio::time::timeout(Duration::from_millis(timeout_ms), work).await.unwrap_or(Err(TtsError::Timeout(timeout_ms)));
    writer.abort();
    result
}

/// Incremental WAV/raw PCM16LE decoder: bytes in arbitrary chunks → samples.
struct PcmDecoder {
    header: Vec<u8>,
    in_data: bool,
    odd: Option<u8>,
    rate_hz: Option<u32>,
}

/// Larger WAV headers than this are not audio we understand.
const MAX_HEADER: usize = 4096;

impl PcmDecoder {
    fn new(output: Output) -> Self {
        PcmDecoder { header: Vec::new(), in_data: output == Output::Raw, odd: None, rate_hz: None }
    }

    fn push(&mut self, bytes: &[u8]) -> Result<Vec<i16>, TtsError> {
        let bytes = if self.in_data {
            bytes.to_vec()
        } else {
            self.header.extend_from_slice(bytes);
            match parse_wav_header(&self.header)? {
                Some((rate, data_start)) => {
                    self.rate_hz = Some(rate);
                    self.in_data = true;
                    let rest = self.header.split_off(data_start);
                    self.header.clear();
                    rest
                }
                None if self.header.len() > MAX_HEADER => return Err(TtsError::Output("WAV header too long".to_string())),
                None => return Ok(Vec::new()),
            }
        };
        let mut pcm = Vec::with_capacity(bytes.len() / 2 + 1);
        let mut iter = bytes.iter().copied();
        if let Some(lo) = self.odd.take() {
            match iter.next() {
                Some(hi) => pcm.push(i16::from_le_bytes([lo, hi])),
                None => self.odd = Some(lo),
            }
        }
        let rest: Vec<u8> = iter.collect();
        let mut chunks = rest.chunks_exact(2);
        pcm.extend(chunks.by_ref().map(|b| i16::from_le_bytes([b[0], b[1]])));
        if let [lo] = chunks.remainder() {
            self.odd = Some(*lo);
        }
        Ok(pcm)
    }
}

/// `Some((sample_rate_hz, offset of the first data byte))` once the header is
/// complete; an error when it is not 16-bit mono PCM.
fn parse_wav_header(h: &[u8]) -> Result<Option<(u32, usize)>, TtsError> {
    if h.len() < 12 {
        return Ok(None);
    }
    if &h[0..4] != b"RIFF" || &h[8..12] != b"WAVE" {
        return Err(TtsError::Output("not a WAV stream".to_string()));
    }
    let mut pos = 12;
    let mut rate = None;
    while pos + 8 <= h.len() {
        let id = &h[pos..pos + 4];
        let len = u32::from_le_bytes([h[pos + 4], h[pos + 5], h[pos + 6], h[pos + 7]]) as usize;
        if id == b"data" {
            return match rate {
                Some(r) => Ok(Some((r, pos + 8))),
                None => Err(TtsError::Output("WAV data before fmt".to_string())),
            };
        }
        if pos + 8 + len > h.len() {
            return Ok(None);
        }
        if id == b"fmt " {
            if len < 16 {
                return Err(TtsError::Output("short fmt chunk".to_string()));
            }
            let f = &h[pos + 8..];
            let (format, channels, bits) =
                (u16::from_le_bytes([f[0], f[1]]), u16::from_le_bytes([f[2], f[3]]), u16::from_le_bytes([f[14], f[15]]));
            if format != 1 || channels != 1 || bits != 16 {
                return Err(TtsError::Output(format!("WAV is format {format}, {channels} channels, {bits} bits; want 16-bit mono PCM")));
            }
            rate = Some(u32::from_le_bytes([f[4], f[5], f[6], f[7]]));
        }
        pos += 8 + len + (len & 1);
    }
    Ok(None)
}

/// The first of `candidates` found as an executable on `PATH` (or as a path).
pub fn find_program(candidates: &[&str]) -> Option<std::path::PathBuf> {
    for name in candidates {
        let path = Path::new(name);
        if path.components().count() > 1 {
            if path.is_file() {
                return Some(path.to_path_buf());
            }
            continue;
        }
        for dir in std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default()) {
            let candidate = dir.join(name);
            if candidate.is_file() {
                return Some(candidate);
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_wav_split_anywhere() {
        let samples: Vec<i16> = (0..500).map(|i| (i * 37 % 2000 - 1000) as i16).collect();
        let bytes = fluxion_core::audio::wav::wav_bytes(&samples, 22_050).unwrap();
        for split in [1, 3, 7, 44, 45, 100] {
            let mut d = PcmDecoder::new(Output::Wav);
            let mut out = Vec::new();
            for chunk in bytes.chunks(split) {
                out.extend(d.push(chunk).unwrap());
            }
            assert_eq!(out, samples, "split {split}");
            assert_eq!(d.rate_hz, Some(22_050));
        }
    }

    #[test]
    fn rejects_non_audio() {
        let mut d = PcmDecoder::new(Output::Wav);
        assert!(d.push(b"<html>this is not audio</html>").is_err());
    }
}
