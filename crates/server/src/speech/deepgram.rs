//! Deepgram: live streaming speech-to-text over a WebSocket ([`DeepgramStt`])
//! and Aura text-to-speech over REST ([`AuraTts`]).
//!
//! Speech-to-text opens one socket per utterance at
//! `wss://api.deepgram.com/v1/listen` with the audio format in the query,
//! sends the caller's PCM as binary frames as it arrives, and reads `Results`
//! messages on a separate task: interim hypotheses (`is_final: false`) feed
//! [`SttStream::interim`], final segments (`is_final: true`) are concatenated
//! into the transcript. Finishing sends `Finalize` (flush what is buffered)
//! and `CloseStream`, then waits — at most [`DeepgramConfig::timeout_ms`] —
//! for the last results and Deepgram's close frame.
//!
//! Source documents (developers.deepgram.com):
//! - *Live Audio* API reference and *Configure Endpointing and Interim
//!   Results*: query parameters (`model`, `language`, `encoding`,
//!   `sample_rate`, `channels`, `interim_results`, `endpointing` in ms,
//!   `punctuate`, `smart_format`, `keywords`; `keyterm` for Nova-3) and the
//!   `Results` message (`type`, `channel.alternatives[0].transcript`,
//!   `confidence`, `is_final`, `speech_final`, `from_finalize`).
//! - *Finalize* (`{"type": "Finalize"}`) and *Close Stream*
//!   (`{"type": "CloseStream"}`: remaining results, a `Metadata` message,
//!   then the server closes the socket).
//! - *Authentication*: header `Authorization: Token <key>`; handshake errors
//!   are HTTP statuses with a JSON body `{"err_code", "err_msg"}`.
//! - *Text to Speech REST* and *Media Output Settings*:
//!   `POST /v1/speak?model=…&encoding=linear16&sample_rate=…&container=none`,
//!   body `{"text": "…"}`, raw 16-bit little-endian PCM streamed back.
//! - *Voices and Languages*: Aura-2 model names are
//!   `aura-2-<voice>-<language>`; Italian voices include `aura-2-livia-it`.

use std::collections::HashSet;
use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use fluxion_core::speech::stt::duration_ms;
use fluxion_core::speech::tts::AudioSink;
use fluxion_core::speech::{BoxFuture, SpeechToText, SttError, SttRequest, SttStream, TextToSpeech, Transcript, TtsError};
use futures::stream::{SplitSink, SplitStream};
use futures::{SinkExt, StreamExt};
use serde::{Deserialize, Serialize};
use tokio::net::TcpStream;
use tokio::task::JoinHandle;
use tokio::time::{timeout, timeout_at, Instant};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::{header::AUTHORIZATION, HeaderValue};
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::{self, Message};
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use crate::llm::with_sources;

use super::cloud::{
    checked_base_url, env_reader, http_client, parse_ms, redact, speak, status_error, AudioDecoder, AudioEncoding, CloudConfigError,
    CloudError,
};

/// Deepgram's API base URL; the WebSocket URL is derived from it (`https` → `wss`).
pub const DEEPGRAM_BASE_URL: &str = "https://api.deepgram.com";
/// Speech-to-text model used when `DEEPGRAM_MODEL` is unset.
pub const DEEPGRAM_STT_MODEL: &str = "nova-2";
/// Aura voice used when `DEEPGRAM_TTS_MODEL` is unset (Aura-2, Italian, female).
pub const DEEPGRAM_TTS_MODEL: &str = "aura-2-livia-it";
/// Default deadline of connecting and of finishing an utterance, in ms.
pub const DEFAULT_TIMEOUT_MS: u64 = 2_000;
/// Default silence after which Deepgram marks `speech_final`, in ms.
pub const DEFAULT_ENDPOINTING_MS: u64 = 300;
/// Default sample rate of Aura's PCM, in Hz.
pub const DEFAULT_TTS_RATE_HZ: u32 = 16_000;
/// Sample rates Aura produces as `linear16`, in Hz.
pub const TTS_RATES_HZ: [u32; 5] = [8_000, 16_000, 24_000, 32_000, 48_000];
/// Most vocabulary words sent as `keywords` / `keyterm` with one utterance.
const MAX_KEYWORDS: usize = 50;

/// Settings shared by [`DeepgramStt`] and [`AuraTts`].
///
/// `Debug` never shows the API key.
#[derive(Clone, PartialEq)]
pub struct DeepgramConfig {
    /// Sent as `Authorization: Token …`.
    pub api_key: String,
    /// REST base URL without a path (`https://api.deepgram.com`); the
    /// WebSocket URL replaces `http` by `ws`.
    pub base_url: String,
    /// Speech-to-text model (`nova-2`, `nova-3`).
    pub model: String,
    /// Aura voice model (`aura-2-livia-it`).
    pub tts_model: String,
    /// Deadline of opening a socket, of sending one frame and of finishing an
    /// utterance; for Aura, of the first audio and of each later chunk. In ms
    /// (default 2000).
    pub timeout_ms: u64,
    /// Silence that ends speech for Deepgram's endpointing (`speech_final`),
    /// in ms (default 300).
    pub endpointing_ms: u64,
    /// Sample rate asked of Aura, in Hz (one of [`TTS_RATES_HZ`]; default 16000).
    pub tts_sample_rate_hz: u32,
}

impl fmt::Debug for DeepgramConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DeepgramConfig")
            .field("api_key", &"***")
            .field("base_url", &self.base_url)
            .field("model", &self.model)
            .field("tts_model", &self.tts_model)
            .field("timeout_ms", &self.timeout_ms)
            .field("endpointing_ms", &self.endpointing_ms)
            .field("tts_sample_rate_hz", &self.tts_sample_rate_hz)
            .finish()
    }
}

impl DeepgramConfig {
    /// A configuration with `api_key` and every other field at its default.
    pub fn new(api_key: impl Into<String>) -> Self {
        DeepgramConfig {
            api_key: api_key.into(),
            base_url: DEEPGRAM_BASE_URL.to_string(),
            model: DEEPGRAM_STT_MODEL.to_string(),
            tts_model: DEEPGRAM_TTS_MODEL.to_string(),
            timeout_ms: DEFAULT_TIMEOUT_MS,
            endpointing_ms: DEFAULT_ENDPOINTING_MS,
            tts_sample_rate_hz: DEFAULT_TTS_RATE_HZ,
        }
    }

    /// Reads the configuration through `get` (pass `|k| std::env::var(k).ok()`);
    /// empty values count as unset.
    ///
    /// `DEEPGRAM_API_KEY` (required), `DEEPGRAM_BASE_URL`, `DEEPGRAM_MODEL`,
    /// `DEEPGRAM_TTS_MODEL`, `DEEPGRAM_TIMEOUT_MS` (ms), `DEEPGRAM_ENDPOINTING_MS` (ms).
    ///
    /// # Errors
    /// [`CloudConfigError::MissingKey`] without `DEEPGRAM_API_KEY`;
    /// [`CloudConfigError::Invalid`] for an unparsable number.
    pub fn from_env(get: impl Fn(&str) -> Option<String>) -> Result<Self, CloudConfigError> {
        let var = env_reader(&get);
        let key = var("DEEPGRAM_API_KEY").ok_or(CloudConfigError::MissingKey { engine: "Deepgram", var: "DEEPGRAM_API_KEY" })?;
        let mut cfg = DeepgramConfig::new(key);
        if let Some(base) = var("DEEPGRAM_BASE_URL") {
            cfg.base_url = base;
        }
        if let Some(model) = var("DEEPGRAM_MODEL") {
            cfg.model = model;
        }
        if let Some(model) = var("DEEPGRAM_TTS_MODEL") {
            cfg.tts_model = model;
        }
        if let Some(ms) = parse_ms(&var, "DEEPGRAM_TIMEOUT_MS")? {
            cfg.timeout_ms = ms;
        }
        if let Some(ms) = parse_ms(&var, "DEEPGRAM_ENDPOINTING_MS")? {
            cfg.endpointing_ms = ms;
        }
        Ok(cfg)
    }

    /// Checks the key, base URL and deadline; returns the base URL without a
    /// trailing `/` and the `Authorization` header value.
    fn checked(&self) -> Result<(String, HeaderValue), CloudError> {
        let base = checked_base_url(&self.base_url, "DEEPGRAM_BASE_URL")?.to_string();
        let key = self.api_key.trim();
        if key.is_empty() {
            return Err(CloudError::Unavailable("Deepgram needs an API key: set DEEPGRAM_API_KEY".to_string()));
        }
        if self.timeout_ms == 0 {
            return Err(CloudError::Unavailable("DEEPGRAM_TIMEOUT_MS is 0".to_string()));
        }
        let mut auth = HeaderValue::from_str(&format!("Token {key}"))
            .map_err(|_| CloudError::Unavailable("DEEPGRAM_API_KEY holds characters not allowed in an HTTP header".to_string()))?;
        auth.set_sensitive(true);
        Ok((base, auth))
    }
}

// ---------------------------------------------------------------------------
// Speech-to-text
// ---------------------------------------------------------------------------

/// Deepgram live streaming speech-to-text: one WebSocket per utterance.
#[derive(Debug, Clone)]
pub struct DeepgramStt {
    cfg: DeepgramConfig,
    /// `ws(s)://host/v1/listen`, without a query.
    listen_url: String,
    auth: HeaderValue,
}

type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;

impl DeepgramStt {
    /// Builds the engine. No connection is opened.
    ///
    /// # Errors
    /// [`SttError::Unavailable`] for an empty key (naming `DEEPGRAM_API_KEY`),
    /// a base URL that is not `http(s)://`, an empty model or a zero deadline.
    pub fn new(cfg: DeepgramConfig) -> Result<Self, SttError> {
        let (base, auth) = cfg.checked()?;
        if cfg.model.trim().is_empty() {
            return Err(SttError::Unavailable("DEEPGRAM_MODEL is empty".to_string()));
        }
        let ws_base = match base.strip_prefix("https://") {
            Some(rest) => format!("wss://{rest}"),
            None => format!("ws://{}", base.trim_start_matches("http://")),
        };
        Ok(DeepgramStt { listen_url: format!("{ws_base}/v1/listen"), auth, cfg })
    }

    /// The listen URL for `request`, with the audio format and options in the query.
    fn url(&self, request: &SttRequest) -> Result<reqwest::Url, CloudError> {
        let mut url = reqwest::Url::parse(&self.listen_url).map_err(|e| CloudError::Unavailable(format!("DEEPGRAM_BASE_URL: {e}")))?;
        let language = if request.language.trim().is_empty() { "it" } else { request.language.trim() };
        {
            let mut q = url.query_pairs_mut();
            q.append_pair("model", self.cfg.model.trim())
                .append_pair("language", language)
                .append_pair("encoding", "linear16")
                .append_pair("sample_rate", &request.sample_rate_hz.to_string())
                .append_pair("channels", "1")
                .append_pair("interim_results", "true")
                .append_pair("endpointing", &self.cfg.endpointing_ms.to_string())
                .append_pair("punctuate", "true")
                .append_pair("smart_format", "true");
            // Nova-3 takes `keyterm`; earlier models take `keywords`.
            let param = if self.cfg.model.trim().starts_with("nova-3") { "keyterm" } else { "keywords" };
            for word in keywords(&request.prompt) {
                q.append_pair(param, &word);
            }
        }
        Ok(url)
    }
}

/// The distinct words of `prompt` with at least three letters, in order, at
/// most 50: the vocabulary hints sent to Deepgram.
pub fn keywords(prompt: &str) -> Vec<String> {
    let mut seen = HashSet::new();
    prompt
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| w.chars().count() >= 3)
        .filter(|w| seen.insert(w.to_lowercase()))
        .take(MAX_KEYWORDS)
        .map(str::to_string)
        .collect()
}

impl SpeechToText for DeepgramStt {
    fn name(&self) -> &str {
        "deepgram"
    }

    fn start<'a>(&'a self, request: &'a SttRequest) -> BoxFuture<'a, Result<Box<dyn SttStream>, SttError>> {
        Box::pin(async move {
            if request.sample_rate_hz == 0 {
                return Err(SttError::Audio("sample rate is 0 Hz".to_string()));
            }
            let url = self.url(request)?;
            let mut ws_request =
                url.as_str().into_client_request().map_err(|e| SttError::Unavailable(format!("Deepgram listen URL: {e}")))?;
            ws_request.headers_mut().insert(AUTHORIZATION, self.auth.clone());
            let timeout_ms = self.cfg.timeout_ms;
            let started = Instant::now();
            let socket = match timeout(
                Duration::from_millis(timeout_ms),
                tokio_tungstenite::connect_async_with_config(ws_request, None, true),
            )
            .await
            {
                Err(_) => return Err(SttError::Timeout(timeout_ms)),
                Ok(Err(e)) => {
                    let e = handshake_error(e, &self.cfg.api_key);
                    tracing::debug!(engine = "deepgram", error = %e, "listen socket refused");
                    return Err(e.into());
                }
                Ok(Ok((socket, _response))) => socket,
            };
            tracing::debug!(engine = "deepgram", connect_ms = started.elapsed().as_millis() as u64, "listen socket open");
            let (writer, reader) = socket.split();
            let shared = Arc::new(Mutex::new(Shared::default()));
            let task = tokio::spawn(read_results(reader, Arc::clone(&shared)));
            let stream: Box<dyn SttStream> =
                Box::new(DeepgramStream { writer, shared, reader: task, timeout_ms, sample_rate_hz: request.sample_rate_hz, samples: 0 });
            Ok(stream)
        })
    }
}

/// The error for a failed WebSocket handshake: an HTTP status from Deepgram
/// (401 bad key, 429 too many streams, …) or a connection failure.
fn handshake_error(e: tungstenite::Error, secret: &str) -> CloudError {
    match e {
        tungstenite::Error::Http(response) => {
            let body = response.body().as_deref().map(String::from_utf8_lossy).unwrap_or_default();
            let retry_after = response.headers().get("retry-after").and_then(|v| v.to_str().ok());
            status_error(response.status().as_u16(), &body, retry_after, secret)
        }
        tungstenite::Error::Url(e) => CloudError::Unavailable(format!("Deepgram listen URL: {e}")),
        other => CloudError::Provider {
            status: None,
            message: redact(&format!("connection failed: {}", with_sources(&other)), secret),
            retryable: true,
        },
    }
}

/// What the reader task has learnt so far.
#[derive(Debug, Default)]
struct Shared {
    /// Final segments (`is_final: true`) with non-empty text, in order, with their confidence.
    finals: Vec<(String, Option<f32>)>,
    /// The latest interim hypothesis for the audio after the last final.
    interim: String,
    /// The first failure; the reader stops at it.
    error: Option<SttError>,
    /// Set once `finish` starts closing: from then on Deepgram's close frame is expected.
    closing: bool,
}

fn lock(shared: &Mutex<Shared>) -> MutexGuard<'_, Shared> {
    shared.lock().unwrap_or_else(PoisonError::into_inner)
}

/// One message from Deepgram. Only `Results` and `Error` are acted on;
/// `Metadata`, `UtteranceEnd`, `SpeechStarted` and unknown types are skipped.
#[derive(Debug, Deserialize)]
struct ServerMessage {
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    channel: Option<Channel>,
    #[serde(default)]
    is_final: bool,
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    message: Option<String>,
    #[serde(default)]
    err_msg: Option<String>,
}

#[derive(Debug, Deserialize)]
struct Channel {
    #[serde(default)]
    alternatives: Vec<Alternative>,
}

#[derive(Debug, Deserialize)]
struct Alternative {
    #[serde(default)]
    transcript: String,
    #[serde(default)]
    confidence: Option<f32>,
}

/// Control messages sent as text frames.
#[derive(Serialize)]
struct Control {
    #[serde(rename = "type")]
    kind: &'static str,
}

/// Reads Deepgram's messages into `shared` until the socket closes or fails.
async fn read_results(mut reader: SplitStream<Socket>, shared: Arc<Mutex<Shared>>) {
    let failure = loop {
        let next = reader.next().await;
        let closing = lock(&shared).closing;
        match next {
            Some(Ok(Message::Text(text))) => match apply(&text, &shared) {
                Ok(()) => continue,
                Err(e) => break Some(e),
            },
            Some(Ok(Message::Close(frame))) => {
                let code = frame.as_ref().map(|f| f.code);
                if closing && matches!(code, None | Some(CloseCode::Normal)) {
                    break None;
                }
                let reason = frame.as_ref().map(|f| f.reason.as_str().to_string()).unwrap_or_default();
                let code_num = code.map(u16::from);
                // 1003/1007/1008: Deepgram could not use the audio or the request; trying again will not help.
                let retryable = !matches!(code_num, Some(1003 | 1007 | 1008));
                break Some(SttError::Provider {
                    status: None,
                    message: format!(
                        "Deepgram closed the stream{} (close code {}){}",
                        if closing { "" } else { " mid-utterance" },
                        code_num.map_or_else(|| "none".to_string(), |c| c.to_string()),
                        if reason.is_empty() { String::new() } else { format!(": {reason}") }
                    ),
                    retryable,
                });
            }
            Some(Ok(_)) => continue,
            Some(Err(e)) => {
                break Some(SttError::Provider {
                    status: None,
                    message: format!("Deepgram connection dropped: {}", with_sources(&e)),
                    retryable: true,
                })
            }
            None => {
                break Some(SttError::Provider {
                    status: None,
                    message: "Deepgram connection dropped without a close frame".to_string(),
                    retryable: true,
                })
            }
        }
    };
    if let Some(e) = failure {
        tracing::debug!(engine = "deepgram", error = %e, "listen socket failed");
        lock(&shared).error.get_or_insert(e);
    }
}

/// Applies one text message to `shared`.
///
/// # Errors
/// [`SttError::Protocol`] for a message that is not Deepgram's JSON or a
/// `Results` without `channel`; [`SttError::Provider`] for an `Error` message.
fn apply(text: &str, shared: &Mutex<Shared>) -> Result<(), SttError> {
    let msg: ServerMessage =
        serde_json::from_str(text).map_err(|e| SttError::Protocol(format!("Deepgram message is not the documented JSON: {e}")))?;
    match msg.kind.as_str() {
        "Results" => {
            let channel = msg.channel.ok_or_else(|| SttError::Protocol("Deepgram Results without channel".to_string()))?;
            let best = channel.alternatives.into_iter().next();
            let transcript = best.as_ref().map(|a| a.transcript.trim().to_string()).unwrap_or_default();
            let confidence = best.and_then(|a| a.confidence).filter(|c| c.is_finite()).map(|c| c.clamp(0.0, 1.0));
            let mut state = lock(shared);
            if msg.is_final {
                if !transcript.is_empty() {
                    state.finals.push((transcript, confidence));
                }
                state.interim.clear();
            } else {
                state.interim = transcript;
            }
            Ok(())
        }
        "Error" => {
            let message = msg.description.or(msg.message).or(msg.err_msg).unwrap_or_else(|| "unspecified error".to_string());
            Err(SttError::Provider { status: None, message: format!("Deepgram error: {message}"), retryable: false })
        }
        _ => Ok(()),
    }
}

/// One utterance streaming to Deepgram.
struct DeepgramStream {
    writer: SplitSink<Socket, Message>,
    shared: Arc<Mutex<Shared>>,
    reader: JoinHandle<()>,
    timeout_ms: u64,
    sample_rate_hz: u32,
    /// Samples pushed so far.
    samples: usize,
}

impl Drop for DeepgramStream {
    fn drop(&mut self) {
        self.reader.abort();
    }
}

impl DeepgramStream {
    /// The reader's failure if there is one, else a dropped-connection error for `e`.
    fn send_error(&self, e: &tungstenite::Error) -> SttError {
        lock(&self.shared).error.clone().unwrap_or_else(|| SttError::Provider {
            status: None,
            message: format!("Deepgram connection dropped: {}", with_sources(e)),
            retryable: true,
        })
    }
}

impl SttStream for DeepgramStream {
    fn push<'a>(&'a mut self, pcm: &'a [i16]) -> BoxFuture<'a, Result<(), SttError>> {
        Box::pin(async move {
            if let Some(e) = lock(&self.shared).error.clone() {
                return Err(e);
            }
            // An empty binary frame would mean "close stream" to Deepgram.
            if pcm.is_empty() {
                return Ok(());
            }
            self.samples += pcm.len();
            let bytes: Vec<u8> = pcm.iter().flat_map(|s| s.to_le_bytes()).collect();
            match timeout(Duration::from_millis(self.timeout_ms), self.writer.send(Message::binary(bytes))).await {
                Err(_) => Err(SttError::Timeout(self.timeout_ms)),
                Ok(Err(e)) => Err(self.send_error(&e)),
                Ok(Ok(())) => Ok(()),
            }
        })
    }

    /// The final segments so far followed by the latest interim hypothesis:
    /// the whole utterance as Deepgram currently hears it.
    fn interim(&self) -> Option<String> {
        let state = lock(&self.shared);
        let text = state
            .finals
            .iter()
            .map(|(t, _)| t.as_str())
            .chain(Some(state.interim.as_str()))
            .filter(|t| !t.is_empty())
            .collect::<Vec<_>>()
            .join(" ");
        (!text.is_empty()).then_some(text)
    }

    fn finish(self: Box<Self>) -> BoxFuture<'static, Result<Transcript, SttError>> {
        Box::pin(async move {
            let mut this = self;
            let timeout_ms = this.timeout_ms;
            let deadline = Instant::now() + Duration::from_millis(timeout_ms);
            {
                let mut state = lock(&this.shared);
                if let Some(e) = state.error.clone() {
                    return Err(e);
                }
                state.closing = true;
            }
            for kind in ["Finalize", "CloseStream"] {
                let text = serde_json::to_string(&Control { kind }).map_err(|e| SttError::Protocol(e.to_string()))?;
                match timeout_at(deadline, this.writer.send(Message::text(text))).await {
                    Err(_) => return Err(SttError::Timeout(timeout_ms)),
                    Ok(Err(e)) => return Err(this.send_error(&e)),
                    Ok(Ok(())) => {}
                }
            }
            match timeout_at(deadline, &mut this.reader).await {
                Err(_) => return Err(SttError::Timeout(timeout_ms)),
                Ok(Err(e)) => return Err(SttError::Protocol(format!("Deepgram reader task failed: {e}"))),
                Ok(Ok(())) => {}
            }
            let state = lock(&this.shared);
            if let Some(e) = state.error.clone() {
                return Err(e);
            }
            let text = state.finals.iter().map(|(t, _)| t.as_str()).collect::<Vec<_>>().join(" ");
            let confidences: Vec<f32> = state.finals.iter().filter_map(|(_, c)| *c).collect();
            let confidence = (!confidences.is_empty()).then(|| confidences.iter().sum::<f32>() / confidences.len() as f32);
            Ok(Transcript { text, confidence, audio_ms: duration_ms(this.samples, this.sample_rate_hz) })
        })
    }
}

// ---------------------------------------------------------------------------
// Text-to-speech
// ---------------------------------------------------------------------------

/// Deepgram Aura text-to-speech over REST: raw 16-bit mono PCM at
/// [`DeepgramConfig::tts_sample_rate_hz`], handed to the sink as each network
/// chunk arrives.
#[derive(Debug, Clone)]
pub struct AuraTts {
    cfg: DeepgramConfig,
    endpoint: String,
    auth: HeaderValue,
    http: reqwest::Client,
}

/// The body of `POST /v1/speak`.
#[derive(Serialize)]
struct SpeakRequest<'a> {
    text: &'a str,
}

impl AuraTts {
    /// Builds the engine. No request is sent.
    ///
    /// # Errors
    /// [`TtsError::Unavailable`] for an empty key (naming `DEEPGRAM_API_KEY`),
    /// a base URL that is not `http(s)://`, an empty voice model, a sample
    /// rate outside [`TTS_RATES_HZ`] or a zero deadline.
    pub fn new(cfg: DeepgramConfig) -> Result<Self, TtsError> {
        let (base, auth) = cfg.checked()?;
        if cfg.tts_model.trim().is_empty() {
            return Err(TtsError::Unavailable("DEEPGRAM_TTS_MODEL is empty".to_string()));
        }
        if !TTS_RATES_HZ.contains(&cfg.tts_sample_rate_hz) {
            return Err(TtsError::Unavailable(format!(
                "Aura cannot produce linear16 at {} Hz (use one of {TTS_RATES_HZ:?})",
                cfg.tts_sample_rate_hz
            )));
        }
        let http = http_client(cfg.timeout_ms)?;
        Ok(AuraTts { endpoint: format!("{base}/v1/speak"), auth, http, cfg })
    }
}

impl TextToSpeech for AuraTts {
    fn engine(&self) -> &str {
        "deepgram"
    }

    fn voice(&self) -> &str {
        &self.cfg.tts_model
    }

    fn sample_rate_hz(&self) -> u32 {
        self.cfg.tts_sample_rate_hz
    }

    fn synthesize<'a>(&'a self, text: &'a str, sink: &'a mut AudioSink<'_>) -> BoxFuture<'a, Result<(), TtsError>> {
        Box::pin(async move {
            let text = text.trim();
            if text.is_empty() {
                return Ok(());
            }
            let rate = self.cfg.tts_sample_rate_hz.to_string();
            let req = self
                .http
                .post(&self.endpoint)
                .query(&[("model", self.cfg.tts_model.trim()), ("encoding", "linear16"), ("sample_rate", &rate), ("container", "none")])
                .header(reqwest::header::AUTHORIZATION, self.auth.clone())
                .json(&SpeakRequest { text });
            let mut decoder = AudioDecoder::new(AudioEncoding::Linear16);
            speak(req, &mut decoder, self.cfg.timeout_ms, &self.cfg.api_key, sink).await.map_err(TtsError::from)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use super::super::cloud::test_env as env;

    #[test]
    fn config_from_env() {
        let err = DeepgramConfig::from_env(env(&[("DEEPGRAM_MODEL", "nova-3")])).expect_err("no key");
        assert_eq!(err, CloudConfigError::MissingKey { engine: "Deepgram", var: "DEEPGRAM_API_KEY" });
        assert!(SttError::from(err).to_string().contains("DEEPGRAM_API_KEY"));

        let cfg = DeepgramConfig::from_env(env(&[("DEEPGRAM_API_KEY", "dg-secret")])).expect("defaults");
        assert_eq!(cfg, DeepgramConfig::new("dg-secret"));
        assert_eq!((cfg.model.as_str(), cfg.tts_model.as_str(), cfg.timeout_ms), ("nova-2", "aura-2-livia-it", 2000));
        assert!(!format!("{cfg:?}").contains("dg-secret"));

        let cfg = DeepgramConfig::from_env(env(&[
            ("DEEPGRAM_API_KEY", "k"),
            ("DEEPGRAM_BASE_URL", "http://127.0.0.1:9/"),
            ("DEEPGRAM_MODEL", "nova-3"),
            ("DEEPGRAM_TTS_MODEL", "aura-2-elio-it"),
            ("DEEPGRAM_TIMEOUT_MS", "750"),
        ]))
        .expect("overrides");
        assert_eq!((cfg.model.as_str(), cfg.tts_model.as_str(), cfg.timeout_ms), ("nova-3", "aura-2-elio-it", 750));
        let stt = DeepgramStt::new(cfg).expect("engine");
        assert_eq!(stt.listen_url, "ws://127.0.0.1:9/v1/listen");
    }

    #[test]
    fn engines_refuse_unusable_configs() {
        assert!(matches!(DeepgramStt::new(DeepgramConfig::new(" ")), Err(SttError::Unavailable(m)) if m.contains("DEEPGRAM_API_KEY")));
        assert!(matches!(DeepgramStt::new(DeepgramConfig::new("bad\nkey")), Err(SttError::Unavailable(m)) if !m.contains("bad")));
        let mut cfg = DeepgramConfig::new("k");
        cfg.tts_sample_rate_hz = 22_050;
        assert!(matches!(AuraTts::new(cfg), Err(TtsError::Unavailable(_))));
        let stt = DeepgramStt::new(DeepgramConfig::new("k")).expect("engine");
        assert_eq!(stt.listen_url, "wss://api.deepgram.com/v1/listen");
    }

    #[test]
    fn listen_url_carries_format_and_keywords() {
        let stt = DeepgramStt::new(DeepgramConfig::new("k")).expect("engine");
        let url = stt.url(&SttRequest::italian(8000).with_prompt("Taglio, piega e colore; taglio di Giulia")).expect("url");
        let pairs: Vec<(String, String)> = url.query_pairs().map(|(k, v)| (k.into_owned(), v.into_owned())).collect();
        let get = |k: &str| pairs.iter().filter(|(n, _)| n == k).map(|(_, v)| v.as_str()).collect::<Vec<_>>();
        assert_eq!(get("model"), ["nova-2"]);
        assert_eq!(get("language"), ["it"]);
        assert_eq!(get("encoding"), ["linear16"]);
        assert_eq!(get("sample_rate"), ["8000"]);
        assert_eq!(get("channels"), ["1"]);
        assert_eq!(get("interim_results"), ["true"]);
        assert_eq!(get("endpointing"), ["300"]);
        assert_eq!(get("keywords"), ["Taglio", "piega", "colore", "Giulia"]);

        let mut cfg = DeepgramConfig::new("k");
        cfg.model = "nova-3".into();
        let url = DeepgramStt::new(cfg).expect("engine").url(&SttRequest::italian(16000).with_prompt("piega")).expect("url");
        assert!(url.query().is_some_and(|q| q.contains("keyterm=piega") && !q.contains("keywords")));
    }

    #[test]
    fn keywords_are_distinct_and_bounded() {
        assert!(keywords("").is_empty());
        assert_eq!(keywords("e di la con"), ["con"]);
        let many: String = (0..80).map(|i| format!("parola{i} ")).collect();
        assert_eq!(keywords(&many).len(), MAX_KEYWORDS);
    }

    #[test]
    fn results_messages_update_the_state() {
        let shared = Mutex::new(Shared::default());
        let results = |text: &str, is_final: bool| {
            format!(
                r#"{{"type":"Results","channel_index":[0,1],"is_final":{is_final},"speech_final":false,"channel":{{"alternatives":[{{"transcript":"{text}","confidence":0.9,"words":[]}}]}}}}"#
            )
        };
        apply(&results("vorrei", false), &shared).expect("interim");
        assert_eq!(lock(&shared).interim, "vorrei");
        apply(&results("Vorrei prenotare", true), &shared).expect("final");
        apply(&results("", true), &shared).expect("empty final");
        apply(r#"{"type":"Metadata","request_id":"x"}"#, &shared).expect("metadata");
        apply(r#"{"type":"UtteranceEnd","last_word_end":2.1}"#, &shared).expect("utterance end");
        apply(r#"{"type":"Results","channel":{"alternatives":[]},"is_final":true}"#, &shared).expect("no alternatives");
        let state = lock(&shared);
        assert_eq!(state.finals, vec![("Vorrei prenotare".to_string(), Some(0.9))]);
        assert!(state.interim.is_empty());
        drop(state);

        assert!(matches!(apply("not json", &shared), Err(SttError::Protocol(_))));
        assert!(matches!(apply(r#"{"type":"Results"}"#, &shared), Err(SttError::Protocol(_))));
        assert!(matches!(apply(r#"{"no_type":1}"#, &shared), Err(SttError::Protocol(_))));
        assert!(matches!(
            apply(r#"{"type":"Results","channel":{"alternatives":[{"transcript":5}]}}"#, &shared),
            Err(SttError::Protocol(_))
        ));
        let err = apply(r#"{"type":"Error","description":"bad audio","variant":"x"}"#, &shared).expect_err("error message");
        assert!(matches!(err, SttError::Provider { retryable: false, ref message, .. } if message.contains("bad audio")));
    }

    #[test]
    fn handshake_statuses_map_to_provider_errors() {
        let response = tungstenite::http::Response::builder()
            .status(401)
            .body(Some(br#"{"err_code":"INVALID_AUTH","err_msg":"Invalid credentials for key k-123."}"#.to_vec()))
            .expect("response");
        let e = handshake_error(tungstenite::Error::Http(Box::new(response)), "k-123");
        assert_eq!(
            e,
            CloudError::Provider { status: Some(401), message: "Invalid credentials for key ***.".to_string(), retryable: false }
        );
        let response = tungstenite::http::Response::builder().status(429).body(None).expect("response");
        assert!(matches!(handshake_error(tungstenite::Error::Http(Box::new(response)), ""), CloudError::Provider { retryable: true, .. }));
        let e = handshake_error(tungstenite::Error::Io(std::io::Error::from(std::io::ErrorKind::ConnectionRefused)), "");
        assert!(matches!(e, CloudError::Provider { status: None, retryable: true, .. }));
    }
}
