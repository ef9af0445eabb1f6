//! The shared HTTP layer of the cloud speech engines ([`super::openai`],
//! [`super::deepgram`], [`super::elevenlabs`]): deadlines, error mapping, key
//! redaction, streamed audio decoding.
//!
//! One `reqwest` client per engine, a deadline around each exchange, HTTP
//! statuses mapped to errors that say whether they are retryable, provider
//! error bodies reduced to their message with the API key scrubbed, and
//! response bodies decoded to PCM chunk by chunk. Nothing is retried here:
//! retry and fallback live once, around the backends (see ARCHITECTURE.md).

use std::fmt;
use std::time::Duration;

use fluxion_core::audio::g711;
use fluxion_core::speech::tts::AudioSink;
use fluxion_core::speech::{SttError, TtsError};
use futures::StreamExt;
use tokio::time::{timeout, timeout_at, Instant};

use crate::llm::{truncate_chars, with_sources};

/// Why a cloud speech engine cannot be configured from the environment.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CloudConfigError {
    /// No API key: `var` names the variable(s) to set.
    #[error("{engine} needs an API key: set {var}")]
    MissingKey {
        /// The engine that needs the key (`"Deepgram"`, `"ElevenLabs"`, …).
        engine: &'static str,
        /// The environment variable(s) that provide it.
        var: &'static str,
    },
    /// A variable holds a value the engine cannot use.
    #[error("{var}={value:?} is not valid: expected {expected}")]
    Invalid {
        /// The environment variable.
        var: &'static str,
        /// Its value (never a secret).
        value: String,
        /// What would be accepted.
        expected: &'static str,
    },
}

impl From<CloudConfigError> for SttError {
    fn from(e: CloudConfigError) -> Self {
        SttError::Unavailable(e.to_string())
    }
}

impl From<CloudConfigError> for TtsError {
    fn from(e: CloudConfigError) -> Self {
        TtsError::Unavailable(e.to_string())
    }
}

/// A failed exchange with a cloud speech provider, before it becomes an
/// [`SttError`] or a [`TtsError`]. Messages never hold the API key.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum CloudError {
    /// The engine cannot run as configured.
    Unavailable(String),
    /// The provider refused or the connection broke.
    Provider { status: Option<u16>, message: String, retryable: bool },
    /// No answer (or no next chunk) within the deadline, in ms.
    Timeout(u64),
    /// The answer did not follow the provider's documented format.
    Protocol(String),
}

impl fmt::Display for CloudError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CloudError::Unavailable(m) => write!(f, "unavailable: {m}"),
            CloudError::Provider { status: Some(s), message, .. } => write!(f, "HTTP {s}: {message}"),
            CloudError::Provider { status: None, message, .. } => write!(f, "{message}"),
            CloudError::Timeout(ms) => write!(f, "timed out after {ms} ms"),
            CloudError::Protocol(m) => write!(f, "protocol: {m}"),
        }
    }
}

impl From<CloudError> for SttError {
    fn from(e: CloudError) -> Self {
        match e {
            CloudError::Unavailable(m) => SttError::Unavailable(m),
            CloudError::Provider { status, message, retryable } => SttError::Provider { status, message, retryable },
            CloudError::Timeout(ms) => SttError::Timeout(ms),
            CloudError::Protocol(m) => SttError::Protocol(m),
        }
    }
}

impl From<CloudError> for TtsError {
    fn from(e: CloudError) -> Self {
        match e {
            CloudError::Unavailable(m) => TtsError::Unavailable(m),
            CloudError::Provider { status, message, retryable } => TtsError::Provider { status, message, retryable },
            CloudError::Timeout(ms) => TtsError::Timeout(ms),
            CloudError::Protocol(m) => TtsError::Output(m),
        }
    }
}

/// Longest provider message kept in an error, in characters.
const MAX_MESSAGE_CHARS: usize = 300;

/// A closure reading trimmed, non-empty environment values through `get`.
pub(crate) fn env_reader<'g>(get: &'g impl Fn(&str) -> Option<String>) -> impl Fn(&str) -> Option<String> + 'g {
    move |k: &str| get(k).map(|v| v.trim().to_string()).filter(|v| !v.is_empty())
}

/// Parses the deadline variable `name` as ms (`None` when unset).
///
/// # Errors
/// [`CloudConfigError::Invalid`] when it is not a positive integer.
pub(crate) fn parse_ms(var: &impl Fn(&str) -> Option<String>, name: &'static str) -> Result<Option<u64>, CloudConfigError> {
    let Some(raw) = var(name) else { return Ok(None) };
    match raw.parse::<u64>() {
        Ok(ms) if ms > 0 => Ok(Some(ms)),
        _ => Err(CloudConfigError::Invalid { var: name, value: raw, expected: "a positive number of milliseconds" }),
    }
}

/// `base_url` without trailing `/`, checked to be `http(s)://`.
///
/// # Errors
/// [`CloudError::Unavailable`] naming `var` otherwise.
pub(crate) fn checked_base_url<'u>(base_url: &'u str, var: &str) -> Result<&'u str, CloudError> {
    let base = base_url.trim().trim_end_matches('/');
    if (base.starts_with("http://") || base.starts_with("https://")) && reqwest::Url::parse(base).is_ok() {
        Ok(base)
    } else {
        Err(CloudError::Unavailable(format!("{var} must be an http:// or https:// URL, got {base:?}")))
    }
}

/// The HTTP client of one engine: connect timeout `timeout_ms`, no Nagle.
///
/// # Errors
/// [`CloudError::Unavailable`] for a zero deadline or a client that cannot be built.
pub(crate) fn http_client(timeout_ms: u64) -> Result<reqwest::Client, CloudError> {
    if timeout_ms == 0 {
        return Err(CloudError::Unavailable("the deadline is 0 ms".to_string()));
    }
    reqwest::Client::builder()
        .user_agent(concat!("fluxion/", env!("CARGO_PKG_VERSION")))
        .connect_timeout(Duration::from_millis(timeout_ms))
        .tcp_nodelay(true)
        .build()
        .map_err(|e| CloudError::Unavailable(format!("HTTP client: {}", with_sources(&e))))
}

/// Sends `req` and waits for the response head until `deadline`.
///
/// # Errors
/// [`CloudError::Timeout`] (`timeout_ms`) past the deadline; a retryable
/// [`CloudError::Provider`] for connection failures; [`status_error`] for
/// any non-2xx status.
pub(crate) async fn send(
    req: reqwest::RequestBuilder,
    deadline: Instant,
    timeout_ms: u64,
    secret: &str,
) -> Result<reqwest::Response, CloudError> {
    let resp = match timeout_at(deadline, req.send()).await {
        Err(_) => return Err(CloudError::Timeout(timeout_ms)),
        Ok(Err(e)) => return Err(transport_error(&e, timeout_ms, secret)),
        Ok(Ok(resp)) => resp,
    };
    let status = resp.status();
    if status.is_success() {
        return Ok(resp);
    }
    let retry_after = resp.headers().get(reqwest::header::RETRY_AFTER).and_then(|v| v.to_str().ok()).map(str::to_string);
    // The body only feeds the message: an unreadable one is empty.
    let body = match timeout_at(deadline, resp.bytes()).await {
        Ok(Ok(bytes)) => String::from_utf8_lossy(&bytes).into_owned(),
        _ => String::new(),
    };
    Err(status_error(status.as_u16(), &body, retry_after.as_deref(), secret))
}

/// The error for an HTTP error status: 408, 429 and 5xx are retryable, other
/// statuses are not. The message is the provider's own (from its JSON error
/// body when there is one), with `Retry-After` appended when given and
/// `secret` scrubbed.
pub(crate) fn status_error(status: u16, body: &str, retry_after: Option<&str>, secret: &str) -> CloudError {
    let retryable = status == 408 || status == 429 || status >= 500;
    let mut message = provider_message(body);
    if message.is_empty() {
        message = match status {
            401 | 403 => "the API key was refused".to_string(),
            429 => "rate limited".to_string(),
            _ => "no error message".to_string(),
        };
    }
    if let Some(wait) = retry_after.map(str::trim).filter(|w| !w.is_empty()) {
        message.push_str(&format!(" (Retry-After: {})", truncate_chars(wait, 40)));
    }
    CloudError::Provider { status: Some(status), message: redact(&message, secret), retryable }
}

/// The human part of a provider's error body: OpenAI/Groq
/// `{"error": {"message": …}}`, ElevenLabs `{"detail": {"message": …}}` or
/// `{"detail": "…"}`, Deepgram `{"err_msg": …}`; otherwise the trimmed text,
/// cut to 300 characters.
pub(crate) fn provider_message(body: &str) -> String {
    let body = body.trim();
    let from_json = serde_json::from_str::<serde_json::Value>(body).ok().and_then(|v| {
        let candidates = [
            v.pointer("/error/message"),
            v.pointer("/detail/message"),
            v.get("detail"),
            v.get("err_msg"),
            v.get("message"),
            v.get("description"),
            v.get("reason"),
            v.get("error"),
        ];
        candidates.into_iter().flatten().find_map(|c| c.as_str().map(str::to_string))
    });
    truncate_chars(from_json.as_deref().unwrap_or(body).trim(), MAX_MESSAGE_CHARS)
}

/// A transport failure: a timeout, or a retryable [`CloudError::Provider`]
/// without status (refused, reset, TLS, body cut short).
pub(crate) fn transport_error(e: &reqwest::Error, timeout_ms: u64, secret: &str) -> CloudError {
    if e.is_timeout() {
        CloudError::Timeout(timeout_ms)
    } else {
        CloudError::Provider { status: None, message: redact(&format!("connection failed: {}", with_sources(e)), secret), retryable: true }
    }
}

/// Sends a synthesis request and streams its body to `sink` through
/// `decoder`: at most `timeout_ms` for the response head and for each chunk.
///
/// # Errors
/// As [`send`]; a retryable [`CloudError::Provider`] when the body breaks off;
/// [`CloudError::Timeout`] when a chunk is late.
pub(crate) async fn speak(
    req: reqwest::RequestBuilder,
    decoder: &mut AudioDecoder,
    timeout_ms: u64,
    secret: &str,
    sink: &mut AudioSink<'_>,
) -> Result<(), CloudError> {
    let stall = Duration::from_millis(timeout_ms);
    let resp = send(req, Instant::now() + stall, timeout_ms, secret).await?;
    let mut body = resp.bytes_stream();
    loop {
        match timeout(stall, body.next()).await {
            Err(_) => return Err(CloudError::Timeout(timeout_ms)),
            Ok(None) => break,
            Ok(Some(Err(e))) => {
                return Err(CloudError::Provider {
                    status: None,
                    message: redact(&format!("audio stream broke off: {}", with_sources(&e)), secret),
                    retryable: true,
                })
            }
            Ok(Some(Ok(chunk))) => {
                let pcm = decoder.decode(&chunk);
                if !pcm.is_empty() {
                    sink(pcm);
                }
            }
        }
    }
    if decoder.has_remainder() {
        tracing::debug!("audio stream ended on half a 16-bit sample: byte dropped");
    }
    Ok(())
}

/// How a provider encodes the audio of a response body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum AudioEncoding {
    /// 16-bit signed little-endian PCM.
    Linear16,
    /// G.711 μ-law, one byte per sample.
    Mulaw,
}

/// Turns body chunks of arbitrary size into PCM samples, keeping an odd
/// trailing byte of 16-bit PCM for the next chunk.
#[derive(Debug)]
pub(crate) struct AudioDecoder {
    encoding: AudioEncoding,
    carry: Option<u8>,
}

impl AudioDecoder {
    /// A decoder for `encoding`.
    pub(crate) fn new(encoding: AudioEncoding) -> Self {
        AudioDecoder { encoding, carry: None }
    }

    /// The samples completed by `bytes` (possibly none).
    pub(crate) fn decode(&mut self, bytes: &[u8]) -> Vec<i16> {
        match self.encoding {
            AudioEncoding::Mulaw => g711::mulaw_to_pcm(bytes),
            AudioEncoding::Linear16 => {
                let mut out = Vec::with_capacity(bytes.len().div_ceil(2));
                let mut rest = bytes;
                if let Some(low) = self.carry.take() {
                    match rest.split_first() {
                        Some((&high, tail)) => {
                            out.push(i16::from_le_bytes([low, high]));
                            rest = tail;
                        }
                        None => {
                            self.carry = Some(low);
                            return out;
                        }
                    }
                }
                let mut pairs = rest.chunks_exact(2);
                out.extend(pairs.by_ref().map(|p| i16::from_le_bytes([p[0], p[1]])));
                self.carry = pairs.remainder().first().copied();
                out
            }
        }
    }

    /// Whether a byte is waiting for the other half of its sample.
    pub(crate) fn has_remainder(&self) -> bool {
        self.carry.is_some()
    }
}

/// `text` with every occurrence of `secret` replaced by `***` (unchanged for an empty secret).
pub(crate) fn redact(text: &str, secret: &str) -> String {
    if secret.is_empty() {
        text.to_string()
    } else {
        text.replace(secret, "***")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn linear16_decoder_carries_odd_bytes_across_chunks() {
        let samples: Vec<i16> = vec![0, 1, -1, 12_345, i16::MIN, i16::MAX, -300];
        let bytes: Vec<u8> = samples.iter().flat_map(|s| s.to_le_bytes()).collect();
        for split in [1usize, 2, 3, 5, 7] {
            let mut decoder = AudioDecoder::new(AudioEncoding::Linear16);
            let mut out = Vec::new();
            for chunk in bytes.chunks(split) {
                out.extend(decoder.decode(chunk));
            }
            assert_eq!(out, samples, "chunks of {split}");
            assert!(!decoder.has_remainder());
        }
        let mut decoder = AudioDecoder::new(AudioEncoding::Linear16);
        assert!(decoder.decode(&[7]).is_empty());
        assert!(decoder.decode(&[]).is_empty());
        assert_eq!(decoder.decode(&[0, 9]), vec![7]);
        assert!(decoder.has_remainder());
    }

    #[test]
    fn mulaw_decoder_is_g711() {
        let codes = [0xFFu8, 0x80, 0x00, 0x7E];
        assert_eq!(AudioDecoder::new(AudioEncoding::Mulaw).decode(&codes), g711::mulaw_to_pcm(&codes));
    }

    #[test]
    fn status_errors_classify_and_scrub() {
        let e = status_error(429, r#"{"error":{"message":"Rate limit reached for key sk-SECRET"}}"#, Some("2"), "sk-SECRET");
        let CloudError::Provider { status, message, retryable } = e else { panic!("provider error") };
        assert_eq!((status, retryable), (Some(429), true));
        assert_eq!(message, "Rate limit reached for key *** (Retry-After: 2)");
        assert!(matches!(status_error(503, "", None, ""), CloudError::Provider { retryable: true, .. }));
        assert!(matches!(status_error(400, "bad", None, ""), CloudError::Provider { retryable: false, .. }));
        let e = status_error(401, r#"{"detail":{"status":"invalid_api_key","message":"Invalid API key"}}"#, None, "");
        assert!(matches!(e, CloudError::Provider { status: Some(401), retryable: false, ref message } if message == "Invalid API key"));
        assert_eq!(provider_message(r#"{"err_code":"INVALID_AUTH","err_msg":"Invalid credentials."}"#), "Invalid credentials.");
        assert_eq!(provider_message(r#"{"detail":"Not found"}"#), "Not found");
        assert_eq!(provider_message(&"x".repeat(1000)).len(), MAX_MESSAGE_CHARS);
        assert!(matches!(status_error(401, "", None, ""), CloudError::Provider { ref message, .. } if message.contains("refused")));
    }
}

/// A settings lookup over fixed pairs, for the engines' `from_env` tests.
#[cfg(test)]
pub(crate) fn test_env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
    let map: std::collections::HashMap<String, String> = pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    move |k: &str| map.get(k).cloned()
}
