//! OpenAI-compatible speech: batch transcription through
//! `POST {base}/audio/transcriptions` ([`OpenAiStt`], for OpenAI and Groq)
//! and streamed synthesis through `POST {base}/audio/speech` ([`OpenAiTts`]).
//!
//! The HTTP plumbing these engines share with Deepgram and ElevenLabs
//! (deadlines, error mapping, key redaction, streamed audio decoding) lives in
//! [`super::cloud`].
//!
//! Source documents:
//! - OpenAI API reference, *Audio — Create transcription*
//!   (<https://platform.openai.com/docs/api-reference/audio/createTranscription>):
//!   multipart fields `file`, `model`, `language` (ISO 639-1), `prompt`,
//!   `response_format=json` → `{"text": "…"}`.
//! - Groq, *Speech to Text* (<https://console.groq.com/docs/speech-to-text>):
//!   the same endpoint under `https://api.groq.com/openai/v1`, model
//!   `whisper-large-v3`.
//! - OpenAI API reference, *Audio — Create speech*
//!   (<https://platform.openai.com/docs/api-reference/audio/createSpeech>):
//!   JSON `{model, input, voice, response_format}`; `pcm` is raw 24 kHz
//!   16-bit signed little-endian mono, sent with chunked transfer encoding.
//! - RFC 7578, *Returning Values from Forms: multipart/form-data*.

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use fluxion_core::audio::wav;
use fluxion_core::speech::stt::duration_ms;
use fluxion_core::speech::tts::AudioSink;
use fluxion_core::speech::{BoxFuture, SpeechToText, SttError, SttRequest, SttStream, TextToSpeech, Transcript, TtsError};
use serde::{Deserialize, Serialize};
use tokio::time::{timeout_at, Instant};

use super::cloud::{
    checked_base_url, env_reader, http_client, parse_ms, send, speak, transport_error, AudioDecoder, AudioEncoding, CloudConfigError,
    CloudError,
};

/// OpenAI's API base URL (up to the version).
pub const OPENAI_BASE_URL: &str = "https://api.openai.com/v1";
/// Groq's OpenAI-compatible base URL.
pub const GROQ_BASE_URL: &str = "https://api.groq.com/openai/v1";
/// Transcription model used with OpenAI when `STT_MODEL` is unset.
pub const OPENAI_STT_MODEL: &str = "whisper-1";
/// Transcription model used with Groq when `STT_MODEL` is unset.
pub const GROQ_STT_MODEL: &str = "whisper-large-v3";
/// Speech model used when `TTS_MODEL` is unset.
pub const OPENAI_TTS_MODEL: &str = "gpt-4o-mini-tts";
/// Voice used when `TTS_VOICE` is unset.
pub const OPENAI_TTS_VOICE: &str = "alloy";
/// Sample rate of OpenAI's `pcm` speech output, in Hz.
pub const OPENAI_PCM_RATE_HZ: u32 = 24_000;
/// Default deadline of one transcription (upload and answer), in ms.
pub const DEFAULT_STT_TIMEOUT_MS: u64 = 5_000;
/// Default wait for the first audio of a synthesis and between two chunks, in ms.
pub const DEFAULT_TTS_TIMEOUT_MS: u64 = 3_000;

// ---------------------------------------------------------------------------
// Transcription
// ---------------------------------------------------------------------------

/// Settings of an [`OpenAiStt`].
///
/// `Debug` never shows the API key.
#[derive(Clone, PartialEq)]
pub struct OpenAiSttConfig {
    /// Base URL up to the version, without `/audio/transcriptions`
    /// (`https://api.openai.com/v1`, `https://api.groq.com/openai/v1`).
    pub base_url: String,
    /// Sent as `Authorization: Bearer …` when set (a local server may need none).
    pub api_key: Option<String>,
    /// Model name (`whisper-1`, `gpt-4o-mini-transcribe`, `whisper-large-v3`).
    pub model: String,
    /// Deadline of one transcription, upload and answer included, in ms (default 5000).
    pub timeout_ms: u64,
}

impl fmt::Debug for OpenAiSttConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OpenAiSttConfig")
            .field("base_url", &self.base_url)
            .field("api_key", &self.api_key.as_ref().map(|_| "***"))
            .field("model", &self.model)
            .field("timeout_ms", &self.timeout_ms)
            .finish()
    }
}

impl OpenAiSttConfig {
    /// A configuration for `base_url` with `api_key`, the default model of
    /// that provider (Groq: `whisper-large-v3`, otherwise `whisper-1`) and the
    /// default deadline.
    pub fn new(base_url: impl Into<String>, api_key: Option<String>) -> Self {
        let base_url = base_url.into();
        let model = if is_groq(&base_url) { GROQ_STT_MODEL } else { OPENAI_STT_MODEL }.to_string();
        OpenAiSttConfig { base_url, api_key, model, timeout_ms: DEFAULT_STT_TIMEOUT_MS }
    }

    /// Reads the configuration through `get` (pass `|k| std::env::var(k).ok()`);
    /// empty values count as unset.
    ///
    /// - `STT_BASE_URL`: default `https://api.openai.com/v1`.
    /// - `STT_API_KEY`; when unset, `GROQ_API_KEY` for Groq's base URL and
    ///   `OPENAI_API_KEY` for OpenAI's. A vendor key is never sent to another
    ///   base URL: a custom server gets `STT_API_KEY` or no key at all.
    /// - `STT_MODEL`: default `whisper-large-v3` for Groq, `whisper-1` otherwise.
    /// - `STT_TIMEOUT_MS`: deadline in ms (default 5000).
    ///
    /// # Errors
    /// [`CloudConfigError::MissingKey`] when OpenAI's or Groq's base URL has no
    /// key; [`CloudConfigError::Invalid`] for an unparsable `STT_TIMEOUT_MS`.
    pub fn from_env(get: impl Fn(&str) -> Option<String>) -> Result<Self, CloudConfigError> {
        let var = env_reader(&get);
        let base_url = var("STT_BASE_URL").unwrap_or_else(|| OPENAI_BASE_URL.to_string());
        let api_key = match var("STT_API_KEY") {
            Some(key) => Some(key),
            None if is_groq(&base_url) => Some(
                var("GROQ_API_KEY")
                    .ok_or(CloudConfigError::MissingKey { engine: "Groq transcription", var: "STT_API_KEY or GROQ_API_KEY" })?,
            ),
            None if is_openai(&base_url) => Some(
                var("OPENAI_API_KEY")
                    .ok_or(CloudConfigError::MissingKey { engine: "OpenAI transcription", var: "STT_API_KEY or OPENAI_API_KEY" })?,
            ),
            None => None,
        };
        let mut cfg = OpenAiSttConfig::new(base_url, api_key);
        if let Some(model) = var("STT_MODEL") {
            cfg.model = model;
        }
        if let Some(ms) = parse_ms(&var, "STT_TIMEOUT_MS")? {
            cfg.timeout_ms = ms;
        }
        Ok(cfg)
    }
}

/// Speech-to-text through an OpenAI-compatible `/audio/transcriptions`
/// endpoint (OpenAI, Groq, local Whisper servers).
///
/// A batch engine: [`SttStream::push`] buffers the PCM, and
/// [`SttStream::finish`] uploads it as a 16-bit mono WAV at the request's rate
/// and waits for the text, all within [`OpenAiSttConfig::timeout_ms`].
/// Whisper does not report a confidence, so [`Transcript::confidence`] is `None`.
#[derive(Clone)]
pub struct OpenAiStt {
    inner: Arc<SttInner>,
}

struct SttInner {
    cfg: OpenAiSttConfig,
    endpoint: String,
    http: reqwest::Client,
}

impl fmt::Debug for OpenAiStt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OpenAiStt").field("endpoint", &self.inner.endpoint).field("cfg", &self.inner.cfg).finish_non_exhaustive()
    }
}

impl OpenAiStt {
    /// Builds the engine. No request is sent.
    ///
    /// # Errors
    /// [`SttError::Unavailable`] when the base URL is not `http(s)://`, the
    /// model is empty, the deadline is zero or the HTTP client cannot be built.
    pub fn new(cfg: OpenAiSttConfig) -> Result<Self, SttError> {
        let base = checked_base_url(&cfg.base_url, "STT_BASE_URL")?;
        if cfg.model.trim().is_empty() {
            return Err(SttError::Unavailable("STT_MODEL is empty".to_string()));
        }
        let http = http_client(cfg.timeout_ms)?;
        let endpoint = format!("{base}/audio/transcriptions");
        Ok(OpenAiStt { inner: Arc::new(SttInner { cfg, endpoint, http }) })
    }
}

impl SpeechToText for OpenAiStt {
    fn name(&self) -> &str {
        "openai"
    }

    fn start<'a>(&'a self, request: &'a SttRequest) -> BoxFuture<'a, Result<Box<dyn SttStream>, SttError>> {
        Box::pin(async move {
            if request.sample_rate_hz == 0 {
                return Err(SttError::Audio("sample rate is 0 Hz".to_string()));
            }
            let stream: Box<dyn SttStream> =
                Box::new(OpenAiSttStream { inner: Arc::clone(&self.inner), request: request.clone(), pcm: Vec::new() });
            Ok(stream)
        })
    }
}

/// One buffered utterance of an [`OpenAiStt`].
struct OpenAiSttStream {
    inner: Arc<SttInner>,
    request: SttRequest,
    pcm: Vec<i16>,
}

/// The `response_format=json` answer of `/audio/transcriptions`.
#[derive(Deserialize)]
struct TranscriptionBody {
    text: String,
}

impl SttStream for OpenAiSttStream {
    fn push<'a>(&'a mut self, pcm: &'a [i16]) -> BoxFuture<'a, Result<(), SttError>> {
        self.pcm.extend_from_slice(pcm);
        Box::pin(async { Ok(()) })
    }

    fn finish(self: Box<Self>) -> BoxFuture<'static, Result<Transcript, SttError>> {
        Box::pin(async move {
            let OpenAiSttStream { inner, request, pcm } = *self;
            let audio_ms = duration_ms(pcm.len(), request.sample_rate_hz);
            if pcm.is_empty() {
                return Ok(Transcript { text: String::new(), confidence: None, audio_ms });
            }
            let started = Instant::now();
            let deadline = started + Duration::from_millis(inner.cfg.timeout_ms);
            let wav = wav::wav_bytes(&pcm, request.sample_rate_hz).map_err(|e| SttError::Audio(e.to_string()))?;
            let mut fields = vec![("model", inner.cfg.model.as_str()), ("response_format", "json")];
            if !request.language.trim().is_empty() {
                fields.push(("language", request.language.trim()));
            }
            if !request.prompt.trim().is_empty() {
                fields.push(("prompt", request.prompt.trim()));
            }
            let form = Multipart::new(&fields, ("file", "audio.wav", "audio/wav", &wav));
            let mut req = inner.http.post(&inner.endpoint).header(reqwest::header::CONTENT_TYPE, form.content_type()).body(form.body);
            if let Some(key) = &inner.cfg.api_key {
                req = req.bearer_auth(key);
            }
            let secret = inner.cfg.api_key.as_deref().unwrap_or_default();
            let result = async {
                let resp = send(req, deadline, inner.cfg.timeout_ms, secret).await?;
                let body = match timeout_at(deadline, resp.bytes()).await {
                    Err(_) => return Err(CloudError::Timeout(inner.cfg.timeout_ms)),
                    Ok(Err(e)) => return Err(transport_error(&e, inner.cfg.timeout_ms, secret)),
                    Ok(Ok(body)) => body,
                };
                let parsed: TranscriptionBody = serde_json::from_slice(&body)
                    .map_err(|e| CloudError::Protocol(format!("transcription answer is not {{\"text\": …}} JSON: {e}")))?;
                Ok(parsed.text)
            }
            .await;
            let latency_ms = started.elapsed().as_millis() as u64;
            match result {
                Ok(text) => {
                    tracing::debug!(engine = "openai", model = %inner.cfg.model, audio_ms, latency_ms, "transcription done");
                    Ok(Transcript { text: text.trim().to_string(), confidence: None, audio_ms })
                }
                Err(e) => {
                    tracing::debug!(engine = "openai", model = %inner.cfg.model, audio_ms, latency_ms, error = %e, "transcription failed");
                    Err(e.into())
                }
            }
        })
    }
}

// ---------------------------------------------------------------------------
// Synthesis
// ---------------------------------------------------------------------------

/// Settings of an [`OpenAiTts`].
///
/// `Debug` never shows the API key.
#[derive(Clone, PartialEq)]
pub struct OpenAiTtsConfig {
    /// Base URL up to the version, without `/audio/speech`.
    pub base_url: String,
    /// Sent as `Authorization: Bearer …` when set.
    pub api_key: Option<String>,
    /// Model name (`gpt-4o-mini-tts`, `tts-1`).
    pub model: String,
    /// Voice name (`alloy`, `coral`, `nova`, …).
    pub voice: String,
    /// Wait for the first audio and between two chunks, in ms (default 3000).
    pub timeout_ms: u64,
}

impl fmt::Debug for OpenAiTtsConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OpenAiTtsConfig")
            .field("base_url", &self.base_url)
            .field("api_key", &self.api_key.as_ref().map(|_| "***"))
            .field("model", &self.model)
            .field("voice", &self.voice)
            .field("timeout_ms", &self.timeout_ms)
            .finish()
    }
}

impl OpenAiTtsConfig {
    /// A configuration for `base_url` with `api_key`, model `gpt-4o-mini-tts`,
    /// voice `alloy` and the default deadline.
    pub fn new(base_url: impl Into<String>, api_key: Option<String>) -> Self {
        OpenAiTtsConfig {
            base_url: base_url.into(),
            api_key,
            model: OPENAI_TTS_MODEL.to_string(),
            voice: OPENAI_TTS_VOICE.to_string(),
            timeout_ms: DEFAULT_TTS_TIMEOUT_MS,
        }
    }

    /// Reads the configuration through `get` (pass `|k| std::env::var(k).ok()`);
    /// empty values count as unset.
    ///
    /// - `TTS_BASE_URL`: default `https://api.openai.com/v1`.
    /// - `TTS_API_KEY`; when unset, `OPENAI_API_KEY` for OpenAI's base URL
    ///   (never sent elsewhere).
    /// - `TTS_MODEL` (default `gpt-4o-mini-tts`), `TTS_VOICE` (default `alloy`).
    /// - `TTS_TIMEOUT_MS`: first-audio and stall deadline in ms (default 3000).
    ///
    /// # Errors
    /// [`CloudConfigError::MissingKey`] when OpenAI's base URL has no key;
    /// [`CloudConfigError::Invalid`] for an unparsable `TTS_TIMEOUT_MS`.
    pub fn from_env(get: impl Fn(&str) -> Option<String>) -> Result<Self, CloudConfigError> {
        let var = env_reader(&get);
        let base_url = var("TTS_BASE_URL").unwrap_or_else(|| OPENAI_BASE_URL.to_string());
        let api_key = match var("TTS_API_KEY") {
            Some(key) => Some(key),
            None if is_openai(&base_url) => Some(
                var("OPENAI_API_KEY")
                    .ok_or(CloudConfigError::MissingKey { engine: "OpenAI speech", var: "TTS_API_KEY or OPENAI_API_KEY" })?,
            ),
            None => None,
        };
        let mut cfg = OpenAiTtsConfig::new(base_url, api_key);
        if let Some(model) = var("TTS_MODEL") {
            cfg.model = model;
        }
        if let Some(voice) = var("TTS_VOICE") {
            cfg.voice = voice;
        }
        if let Some(ms) = parse_ms(&var, "TTS_TIMEOUT_MS")? {
            cfg.timeout_ms = ms;
        }
        Ok(cfg)
    }
}

/// Text-to-speech through an OpenAI-compatible `/audio/speech` endpoint,
/// asking for raw `pcm`: 16-bit mono at 24000 Hz, handed to the sink as each
/// network chunk arrives.
#[derive(Debug, Clone)]
pub struct OpenAiTts {
    cfg: OpenAiTtsConfig,
    endpoint: String,
    http: reqwest::Client,
}

/// The body of `POST /audio/speech`.
#[derive(Serialize)]
struct SpeechRequest<'a> {
    model: &'a str,
    input: &'a str,
    voice: &'a str,
    response_format: &'static str,
}

impl OpenAiTts {
    /// Builds the engine. No request is sent.
    ///
    /// # Errors
    /// [`TtsError::Unavailable`] when the base URL is not `http(s)://`, the
    /// model or voice is empty, the deadline is zero or the HTTP client cannot
    /// be built.
    pub fn new(cfg: OpenAiTtsConfig) -> Result<Self, TtsError> {
        let base = checked_base_url(&cfg.base_url, "TTS_BASE_URL")?;
        if cfg.model.trim().is_empty() || cfg.voice.trim().is_empty() {
            return Err(TtsError::Unavailable("TTS_MODEL and TTS_VOICE must not be empty".to_string()));
        }
        let http = http_client(cfg.timeout_ms)?;
        let endpoint = format!("{base}/audio/speech");
        Ok(OpenAiTts { cfg, endpoint, http })
    }
}

impl TextToSpeech for OpenAiTts {
    fn engine(&self) -> &str {
        "openai"
    }

    fn voice(&self) -> &str {
        &self.cfg.voice
    }

    fn sample_rate_hz(&self) -> u32 {
        OPENAI_PCM_RATE_HZ
    }

    fn synthesize<'a>(&'a self, text: &'a str, sink: &'a mut AudioSink<'_>) -> BoxFuture<'a, Result<(), TtsError>> {
        Box::pin(async move {
            let text = text.trim();
            if text.is_empty() {
                return Ok(());
            }
            let body = SpeechRequest { model: &self.cfg.model, input: text, voice: &self.cfg.voice, response_format: "pcm" };
            let mut req = self.http.post(&self.endpoint).json(&body);
            if let Some(key) = &self.cfg.api_key {
                req = req.bearer_auth(key);
            }
            let secret = self.cfg.api_key.as_deref().unwrap_or_default();
            let mut decoder = AudioDecoder::new(AudioEncoding::Linear16);
            speak(req, &mut decoder, self.cfg.timeout_ms, secret, sink).await.map_err(TtsError::from)
        })
    }
}

// ---------------------------------------------------------------------------
// Host recognition and multipart bodies
// ---------------------------------------------------------------------------

/// Whether `base_url` is Groq's API.
fn is_groq(base_url: &str) -> bool {
    host_of(base_url).is_some_and(|h| h == "api.groq.com")
}

/// Whether `base_url` is OpenAI's API.
fn is_openai(base_url: &str) -> bool {
    host_of(base_url).is_some_and(|h| h == "api.openai.com")
}

fn host_of(base_url: &str) -> Option<String> {
    reqwest::Url::parse(base_url.trim()).ok().and_then(|u| u.host_str().map(str::to_ascii_lowercase))
}

/// A `multipart/form-data` body (RFC 7578) with text fields and one file.
struct Multipart {
    boundary: String,
    body: Vec<u8>,
}

impl Multipart {
    /// Builds the body: `fields` as `(name, value)` text parts, then `file`
    /// as `(name, filename, content type, bytes)`. The boundary is chosen so
    /// that it occurs in no part.
    fn new(fields: &[(&str, &str)], file: (&str, &str, &str, &[u8])) -> Self {
        let seed = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or_default();
        let mut n: u32 = 0;
        let boundary = loop {
            let candidate = format!("fluxion-{seed:x}-{n}");
            let needle = candidate.as_bytes();
            let clashes = fields.iter().any(|(_, v)| v.contains(candidate.as_str())) || file.3.windows(needle.len()).any(|w| w == needle);
            if !clashes {
                break candidate;
            }
            n = n.wrapping_add(1);
        };
        let mut body = Vec::with_capacity(file.3.len() + 512);
        for (name, value) in fields {
            body.extend_from_slice(format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n").as_bytes());
            body.extend_from_slice(value.as_bytes());
            body.extend_from_slice(b"\r\n");
        }
        let (name, filename, content_type, bytes) = file;
        body.extend_from_slice(
            format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"; filename=\"{filename}\"\r\nContent-Type: {content_type}\r\n\r\n")
                .as_bytes(),
        );
        body.extend_from_slice(bytes);
        body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
        Multipart { boundary, body }
    }

    fn content_type(&self) -> String {
        format!("multipart/form-data; boundary={}", self.boundary)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use super::super::cloud::test_env as env;

    #[test]
    fn stt_config_picks_key_and_model_by_base_url() {
        let cfg = OpenAiSttConfig::from_env(env(&[("OPENAI_API_KEY", "sk-o")])).expect("openai");
        assert_eq!((cfg.base_url.as_str(), cfg.api_key.as_deref(), cfg.model.as_str()), (OPENAI_BASE_URL, Some("sk-o"), "whisper-1"));

        let cfg = OpenAiSttConfig::from_env(env(&[("STT_BASE_URL", GROQ_BASE_URL), ("GROQ_API_KEY", "gsk"), ("OPENAI_API_KEY", "sk-o")]))
            .expect("groq");
        assert_eq!((cfg.api_key.as_deref(), cfg.model.as_str()), (Some("gsk"), "whisper-large-v3"));

        let cfg =
            OpenAiSttConfig::from_env(env(&[("STT_API_KEY", "k"), ("STT_MODEL", "gpt-4o-mini-transcribe"), ("STT_TIMEOUT_MS", "900")]))
                .expect("explicit");
        assert_eq!((cfg.api_key.as_deref(), cfg.model.as_str(), cfg.timeout_ms), (Some("k"), "gpt-4o-mini-transcribe", 900));

        // A vendor key never goes to a custom server.
        let cfg =
            OpenAiSttConfig::from_env(env(&[("STT_BASE_URL", "http://127.0.0.1:9000/v1"), ("OPENAI_API_KEY", "sk-o")])).expect("local");
        assert_eq!(cfg.api_key, None);
    }

    #[test]
    fn missing_keys_name_the_variables() {
        let err = OpenAiSttConfig::from_env(env(&[])).expect_err("no key");
        assert!(err.to_string().contains("OPENAI_API_KEY"), "{err}");
        let err = OpenAiSttConfig::from_env(env(&[("STT_BASE_URL", GROQ_BASE_URL), ("GROQ_API_KEY", " ")])).expect_err("blank key");
        assert!(err.to_string().contains("GROQ_API_KEY"), "{err}");
        let err = OpenAiTtsConfig::from_env(env(&[("TTS_VOICE", "nova")])).expect_err("no key");
        assert!(matches!(SttError::from(err.clone()), SttError::Unavailable(m) if m.contains("TTS_API_KEY")));
        let err = OpenAiSttConfig::from_env(env(&[("STT_API_KEY", "k"), ("STT_TIMEOUT_MS", "soon")])).expect_err("bad ms");
        assert!(matches!(err, CloudConfigError::Invalid { var: "STT_TIMEOUT_MS", .. }));
    }

    #[test]
    fn tts_config_defaults_and_overrides() {
        let cfg = OpenAiTtsConfig::from_env(env(&[("OPENAI_API_KEY", "sk-o")])).expect("defaults");
        assert_eq!((cfg.model.as_str(), cfg.voice.as_str(), cfg.timeout_ms), ("gpt-4o-mini-tts", "alloy", 3000));
        let cfg = OpenAiTtsConfig::from_env(env(&[("TTS_API_KEY", "t"), ("TTS_VOICE", "coral"), ("TTS_MODEL", "tts-1")])).expect("set");
        assert_eq!((cfg.api_key.as_deref(), cfg.model.as_str(), cfg.voice.as_str()), (Some("t"), "tts-1", "coral"));
        assert!(!format!("{cfg:?}").contains("\"t\""), "key hidden: {cfg:?}");
    }

    #[test]
    fn engines_reject_unusable_configs() {
        assert!(matches!(OpenAiStt::new(OpenAiSttConfig::new("api.openai.com/v1", None)), Err(SttError::Unavailable(_))));
        let mut cfg = OpenAiSttConfig::new(OPENAI_BASE_URL, None);
        cfg.timeout_ms = 0;
        assert!(matches!(OpenAiStt::new(cfg), Err(SttError::Unavailable(_))));
        let mut cfg = OpenAiTtsConfig::new(OPENAI_BASE_URL, None);
        cfg.voice = " ".into();
        assert!(matches!(OpenAiTts::new(cfg), Err(TtsError::Unavailable(_))));
    }

    #[test]
    fn multipart_body_follows_rfc_7578() {
        let form = Multipart::new(&[("model", "whisper-1"), ("language", "it")], ("file", "audio.wav", "audio/wav", b"RIFFdata"));
        let text = String::from_utf8_lossy(&form.body).into_owned();
        let b = &form.boundary;
        assert!(form.content_type().ends_with(b.as_str()));
        assert!(text.starts_with(&format!("--{b}\r\nContent-Disposition: form-data; name=\"model\"\r\n\r\nwhisper-1\r\n")));
        assert!(text.contains("name=\"file\"; filename=\"audio.wav\"\r\nContent-Type: audio/wav\r\n\r\nRIFFdata\r\n"));
        assert!(text.ends_with(&format!("--{b}--\r\n")));
        assert_eq!(text.matches(b.as_str()).count(), 4);
    }

    #[test]
    fn hosts_are_recognised() {
        assert!(is_groq("https://api.groq.com/openai/v1/"));
        assert!(is_openai("https://API.openai.com/v1"));
        assert!(!is_openai("https://api.openai.com.evil.example/v1"));
        assert!(!is_groq("not a url"));
    }
}
