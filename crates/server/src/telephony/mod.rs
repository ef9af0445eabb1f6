//! Phone calls: provider media streams into the voice session.
//!
//! ```text
//!  provider ──WebSocket JSON──► Codec::decode ──StreamEvent──► media handler ──CallInput──► voice session
//!  provider ◄─WebSocket JSON─── Codec::encode_* ◄───────────── media handler ◄──CallEvent─── voice session
//! ```
//!
//! One WebSocket handler ([`media`]) serves every provider; Twilio, Plivo
//! and Exotel differ only in a small codec each ([`twilio`], [`plivo`],
//! [`exotel`]) and in their webhooks ([`webhooks`]), whose signatures are
//! verified in [`signature`]. Every stream proves it belongs to a call whose
//! webhook was accepted with a single-use token ([`stream_token`]) and stays
//! within the connection, call and frame limits of [`limits`]; [`dial`] is
//! the provider's side of that handshake for the simulator, the load tool
//! and the tests. [`config`] reads the settings, [`outcome`]
//! classifies finished calls, [`recording`] records them when enabled and
//! [`provider_api`] transfers and places calls through the providers' REST APIs.

pub mod config;
pub mod dial;
pub mod exotel;
pub mod limits;
pub mod media;
pub mod outcome;
pub mod plivo;
pub mod provider_api;
pub mod recording;
pub mod signature;
pub mod simulator;
pub mod sms;
pub mod stream_token;
pub mod twilio;
pub mod webhooks;
mod wire;

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};
use axum::Router;
use fluxion_core::audio::vad::VadEngine;
use fluxion_core::speech::stt::SpeechToText;
use thiserror::Error;

use crate::app::AppState;
use crate::speech::speaker::Speaker;
use crate::voice::VoiceConfig;

pub use config::TelephonyConfig;

/// A telephony provider.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Provider {
    /// Twilio Media Streams.
    Twilio,
    /// Plivo Audio Streaming.
    Plivo,
    /// Exotel Voicebot applet stream.
    Exotel,
}

impl Provider {
    /// Lower-case name, as in URLs, `CALL_PROVIDER` and the calls table.
    pub fn as_str(self) -> &'static str {
        match self {
            Provider::Twilio => "twilio",
            Provider::Plivo => "plivo",
            Provider::Exotel => "exotel",
        }
    }
}

impl std::str::FromStr for Provider {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "twilio" => Ok(Provider::Twilio),
            "plivo" => Ok(Provider::Plivo),
            "exotel" => Ok(Provider::Exotel),
            other => Err(format!("unknown call provider {other:?} (expected twilio, plivo or exotel)")),
        }
    }
}

/// What one inbound media-stream message means, whatever the provider.
#[derive(Debug, Clone, PartialEq)]
pub enum StreamEvent {
    /// The WebSocket is connected (Twilio/Exotel `connected`).
    Connected,
    /// The stream starts.
    Start(StreamStart),
    /// Caller audio, decoded to 16-bit PCM at 8000 Hz.
    Media(Vec<i16>),
    /// A keypad digit.
    Dtmf(char),
    /// Playback reached a mark the agent sent (Twilio/Exotel `mark`, Plivo `playedStream`).
    Mark(String),
    /// The provider dropped queued audio after a clear (Plivo `clearedAudio`).
    Cleared,
    /// The stream ended (the call hung up).
    Stop,
    /// A message with nothing for us (an unknown or unused event), by its event name.
    Ignored(String),
}

/// The `start` message's facts.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct StreamStart {
    /// The provider's call id (Twilio CallSid, Plivo callId/CallUUID, Exotel call_sid).
    pub call_sid: String,
    /// The stream id, echoed in outbound messages.
    pub stream_sid: String,
    /// Caller number (E.164 when the provider gives it; from a custom parameter otherwise).
    pub from: Option<String>,
    /// Called number.
    pub to: Option<String>,
    /// Custom parameters passed when the stream was started.
    pub custom: HashMap<String, String>,
}

/// A media-stream message that does not follow the provider's documented format.
#[derive(Debug, Error, Clone, PartialEq)]
pub enum CodecError {
    /// Not JSON, or missing a required field.
    #[error("malformed {provider} message: {reason}")]
    Malformed {
        /// Which provider's format.
        provider: &'static str,
        /// What is wrong.
        reason: String,
    },
    /// Audio that is not valid base64 or not whole samples.
    #[error("bad {provider} audio payload: {reason}")]
    BadAudio {
        /// Which provider's format.
        provider: &'static str,
        /// What is wrong.
        reason: String,
    },
}

/// The codec for one stream, chosen by the URL the provider connected to.
#[derive(Debug, Clone)]
pub enum Codec {
    /// Twilio Media Streams.
    Twilio(twilio::Codec),
    /// Plivo Audio Streaming.
    Plivo(plivo::Codec),
    /// Exotel Voicebot stream.
    Exotel(exotel::Codec),
}

impl Codec {
    /// A fresh codec for `provider`.
    pub fn new(provider: Provider) -> Self {
        match provider {
            Provider::Twilio => Codec::Twilio(twilio::Codec::default()),
            Provider::Plivo => Codec::Plivo(plivo::Codec::default()),
            Provider::Exotel => Codec::Exotel(exotel::Codec::default()),
        }
    }

    /// The provider.
    pub fn provider(&self) -> Provider {
        match self {
            Codec::Twilio(_) => Provider::Twilio,
            Codec::Plivo(_) => Provider::Plivo,
            Codec::Exotel(_) => Provider::Exotel,
        }
    }

    /// Decodes one inbound text message (a `start` also remembers the stream id).
    ///
    /// # Errors
    /// [`CodecError`] for a malformed message or audio.
    pub fn decode(&mut self, text: &str) -> Result<StreamEvent, CodecError> {
        match self {
            Codec::Twilio(c) => c.decode(text),
            Codec::Plivo(c) => c.decode(text),
            Codec::Exotel(c) => c.decode(text),
        }
    }

    /// The outbound message playing `pcm` (16-bit PCM at 8000 Hz).
    pub fn encode_media(&self, pcm: &[i16]) -> String {
        match self {
            Codec::Twilio(c) => c.encode_media(pcm),
            Codec::Plivo(c) => c.encode_media(pcm),
            Codec::Exotel(c) => c.encode_media(pcm),
        }
    }

    /// The outbound message asking to be told when playback reaches this point.
    pub fn encode_mark(&self, name: &str) -> String {
        match self {
            Codec::Twilio(c) => c.encode_mark(name),
            Codec::Plivo(c) => c.encode_mark(name),
            Codec::Exotel(c) => c.encode_mark(name),
        }
    }

    /// The outbound message dropping audio not yet played (barge-in).
    pub fn encode_clear(&self) -> String {
        match self {
            Codec::Twilio(c) => c.encode_clear(),
            Codec::Plivo(c) => c.encode_clear(),
            Codec::Exotel(c) => c.encode_clear(),
        }
    }
}

/// The speech engines calls use.
pub struct SpeechKit {
    /// Speech-to-text.
    pub stt: Arc<dyn SpeechToText>,
    /// Text-to-speech (with fallback and phrase cache).
    pub speaker: Arc<Speaker>,
    /// The VAD engine, one detector per call.
    pub vad: VadEngine,
    /// Recogniser vocabulary (service and operator names).
    pub stt_prompt: String,
}

/// Everything the telephony endpoints share.
pub struct Telephony {
    /// The receptionist and its store.
    pub app: Arc<AppState>,
    /// Provider settings.
    pub config: TelephonyConfig,
    /// Voice session settings (8000 Hz).
    pub voice: VoiceConfig,
    /// The speech engines, or why they cannot run (calls are then refused
    /// politely).
    pub speech: Result<SpeechKit, String>,
    /// HTTP client for provider REST APIs.
    pub http: reqwest::Client,
    /// Issues and redeems the streams' tokens.
    pub tokens: stream_token::StreamTokens,
    /// Open streams and calls in progress (the app's
    /// [`crate::lifecycle::Lifecycle::gate`], which the drain waits on).
    pub gate: Arc<limits::Gate>,
    /// The calls the local recogniser serves at once
    /// ([`SpeechToText::max_calls`]) when that, not `MAX_CONCURRENT_CALLS`,
    /// is the limit: `config.limits.max_concurrent_calls` is then lowered to it.
    pub recognition_calls: Option<usize>,
}

/// Webhook bodies larger than this are refused, bytes.
pub const MAX_WEBHOOK_BYTES: usize = 64 * 1024;

/// The telephony routes: webhooks (also under `/webhooks/…`, the names the
/// seeds use; the URL that was signed is the one requested), the Exotel
/// stream-URL endpoint and the media-stream WebSocket.
pub fn router(t: Arc<Telephony>) -> Router {
    let mut router = Router::new();
    for prefix in ["", "/webhooks"] {
        router = router
            .route(&format!("{prefix}/twilio/voice"), post(webhooks::twilio_voice))
            .route(&format!("{prefix}/twilio/status"), post(webhooks::twilio_status))
            .route(&format!("{prefix}/twilio/sms"), post(sms::twilio_sms))
            .route(&format!("{prefix}/plivo/sms"), post(sms::plivo_sms))
            .route(&format!("{prefix}/plivo/answer"), post(webhooks::plivo_answer))
            .route(&format!("{prefix}/plivo/hangup"), post(webhooks::plivo_hangup))
            .route(&format!("{prefix}/plivo/transfer"), post(webhooks::plivo_transfer))
            .route(&format!("{prefix}/exotel/stream"), get(webhooks::exotel_stream));
    }
    router.route("/{provider}/media", get(media::media)).layer(DefaultBodyLimit::max(MAX_WEBHOOK_BYTES)).with_state(t)
}

impl Telephony {
    /// The telephony service from its parts; the stream tokens are keyed
    /// with `STREAM_TOKEN_SECRET` when configured, with a random per-process
    /// key otherwise.
    ///
    /// # Errors
    /// No configured secret and the operating system's random source failed.
    pub fn new(
        app: Arc<AppState>,
        mut config: TelephonyConfig,
        voice: VoiceConfig,
        speech: Result<SpeechKit, String>,
    ) -> anyhow::Result<Arc<Telephony>> {
        let ttl = config.limits.token_ttl_ms;
        let tokens = match &config.stream_token_secret {
            Some(secret) => stream_token::StreamTokens::new(secret.as_bytes(), ttl),
            None => {
                stream_token::StreamTokens::random(ttl).map_err(|e| anyhow::anyhow!("no random source for the stream-token key: {e}"))?
            }
        };
        let gate = app.lifecycle.gate();
        let recognition_calls =
            speech.as_ref().ok().and_then(|kit| kit.stt.max_calls()).filter(|&calls| calls < config.limits.max_concurrent_calls);
        if let Some(calls) = recognition_calls {
            tracing::info!(calls, "calls in progress limited by local speech recognition's capacity (STT_MAX_CALLS)");
            config.limits.max_concurrent_calls = calls;
        }
        Ok(Arc::new(Telephony { app, config, voice, speech, http: reqwest::Client::new(), tokens, gate, recognition_calls }))
    }

    /// Builds the telephony service from the environment: provider settings,
    /// the speech engines (`STT_ENGINE`, `TTS_ENGINE`, `VAD_ENGINE`), and the
    /// greeting and fixed phrases synthesised now, so a caller's first words
    /// never wait for synthesis. Engines that cannot run leave calls refused
    /// politely (the reason is logged), never the server down.
    ///
    /// # Errors
    /// Invalid telephony settings (`CALL_PROVIDER`, `PUBLIC_URL`).
    pub async fn from_env(app: Arc<AppState>) -> anyhow::Result<Arc<Telephony>> {
        let config = TelephonyConfig::from_env().map_err(anyhow::Error::msg)?;
        let voice = VoiceConfig::from_env(8_000);
        let speech = build_speech_kit(&app).await;
        if let Err(reason) = &speech {
            tracing::warn!(%reason, "phone calls are disabled until the speech engines can run");
        }
        if let Ok(kit) = &speech {
            warm_up(&app, kit, &voice, config.record_calls).await;
        }
        tracing::info!(config = ?config, "telephony ready");
        Telephony::new(app, config, voice, speech)
    }
}

async fn build_speech_kit(app: &AppState) -> Result<SpeechKit, String> {
    let dir = crate::speech::models_dir();
    let stt = crate::speech::engines::stt_from_env(&dir).map_err(|e| e.to_string())?;
    let speaker = crate::speech::engines::speaker_from_env(&dir).map_err(|e| e.to_string())?;
    let vad = crate::speech::vad_engine().map_err(|e| e.to_string())?;
    crate::speech::vad_for(vad, 8_000).map_err(|e| e.to_string())?;
    Ok(SpeechKit { stt, speaker: Arc::new(speaker), vad, stt_prompt: crate::voice::agent::stt_prompt(app.engine().info()) })
}

/// Synthesises the generic greeting and the fixed phrases into the cache.
async fn warm_up(app: &AppState, kit: &SpeechKit, voice: &VoiceConfig, recording: bool) {
    let engine = app.engine();
    let mut dialogue = engine.dialogue();
    let greeting = engine.start(&mut dialogue, "warm-up", None, app.clock.now()).await;
    let greeting = if recording { format!("{} {greeting}", recording::NOTICE) } else { greeting };
    let started = std::time::Instant::now();
    for text in std::iter::once(greeting.as_str()).chain(crate::voice::phrases::ALL.iter().copied()) {
        if let Err(e) = kit.speaker.phrase(text, voice.sample_rate_hz).await {
            tracing::warn!(phrase = text, error = %e, "could not pre-synthesise a phrase");
        }
    }
    tracing::info!(elapsed_ms = started.elapsed().as_millis() as u64, "greeting and fixed phrases synthesised");
}
