//! ElevenLabs streaming text-to-speech ([`ElevenLabsTts`]).
//!
//! One `POST {base}/v1/text-to-speech/{voice_id}/stream?output_format=…` per
//! sentence; the audio comes back with chunked transfer encoding and each
//! chunk is decoded and handed to the sink as it arrives. Phone calls default
//! to `ulaw_8000` (G.711 μ-law at 8000 Hz, decoded with the core's g711
//! tables): the smallest body and no resampling on the way to the caller.
//!
//! Source documents (elevenlabs.io/docs):
//! - API reference, *Text to Speech — Stream speech*: path parameter
//!   `voice_id`; query `output_format` (`ulaw_8000`: μ-law 8 kHz;
//!   `pcm_16000`: 16-bit little-endian PCM at 16 kHz); header `xi-api-key`;
//!   JSON body `text`, `model_id`, `language_code` ("ISO 639-1 code used to
//!   enforce a language; only Turbo v2.5 and Flash v2.5 support it, other
//!   models answer an error").
//! - API reference, *Authentication* and *Errors*: `401` for a bad key,
//!   `429` for too many concurrent requests or a spent quota; error bodies
//!   `{"detail": {"status": …, "message": …}}`.
//! - *Models*: `eleven_flash_v2_5` (lowest latency, 32 languages),
//!   `eleven_multilingual_v2`. The default voice is "George"
//!   (`JBFqnCBsd6RMkjVDRZzb`), the premade voice of the API reference's
//!   examples; multilingual models speak Italian with it.

use std::fmt;

use fluxion_core::speech::tts::AudioSink;
use fluxion_core::speech::{BoxFuture, TextToSpeech, TtsError};
use serde::Serialize;

use super::cloud::{checked_base_url, env_reader, http_client, parse_ms, speak, AudioDecoder, AudioEncoding, CloudConfigError};

/// ElevenLabs' API base URL (without `/v1`).
pub const ELEVENLABS_BASE_URL: &str = "https://api.elevenlabs.io";
/// Model used when `ELEVENLABS_MODEL_ID` is unset.
pub const ELEVENLABS_MODEL_ID: &str = "eleven_flash_v2_5";
/// Voice used when `ELEVENLABS_VOICE_ID` is unset ("George", premade).
pub const ELEVENLABS_VOICE_ID: &str = "JBFqnCBsd6RMkjVDRZzb";
/// Default wait for the first audio and between two chunks, in ms.
pub const DEFAULT_TIMEOUT_MS: u64 = 3_000;

/// The audio format asked of ElevenLabs (`output_format`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum OutputFormat {
    /// `ulaw_8000`: G.711 μ-law at 8000 Hz, as phone lines carry it.
    #[default]
    Ulaw8000,
    /// `pcm_16000`: 16-bit little-endian PCM at 16000 Hz.
    Pcm16000,
}

impl OutputFormat {
    /// The `output_format` query value.
    pub fn as_str(self) -> &'static str {
        match self {
            OutputFormat::Ulaw8000 => "ulaw_8000",
            OutputFormat::Pcm16000 => "pcm_16000",
        }
    }

    /// Sample rate of the decoded PCM, in Hz.
    pub fn sample_rate_hz(self) -> u32 {
        match self {
            OutputFormat::Ulaw8000 => 8_000,
            OutputFormat::Pcm16000 => 16_000,
        }
    }

    /// Parses an `output_format` value (`ulaw_8000`, `pcm_16000`); `None` otherwise.
    pub fn parse(value: &str) -> Option<Self> {
        match value.trim().to_ascii_lowercase().as_str() {
            "ulaw_8000" => Some(OutputFormat::Ulaw8000),
            "pcm_16000" => Some(OutputFormat::Pcm16000),
            _ => None,
        }
    }

    fn encoding(self) -> AudioEncoding {
        match self {
            OutputFormat::Ulaw8000 => AudioEncoding::Mulaw,
            OutputFormat::Pcm16000 => AudioEncoding::Linear16,
        }
    }
}

/// Settings of an [`ElevenLabsTts`].
///
/// `Debug` never shows the API key.
#[derive(Clone, PartialEq)]
pub struct ElevenLabsConfig {
    /// Sent as `xi-api-key`.
    pub api_key: String,
    /// Base URL without `/v1` (`https://api.elevenlabs.io`).
    pub base_url: String,
    /// Voice id (path parameter).
    pub voice_id: String,
    /// Model id (`eleven_flash_v2_5`, `eleven_multilingual_v2`).
    pub model_id: String,
    /// Audio format asked for (default μ-law 8000 Hz).
    pub output_format: OutputFormat,
    /// ISO 639-1 language enforced on models that accept it (Turbo and Flash
    /// v2.5); not sent to other models. Default `"it"`.
    pub language_code: String,
    /// Wait for the first audio and between two chunks, in ms (default 3000).
    pub timeout_ms: u64,
}

impl fmt::Debug for ElevenLabsConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ElevenLabsConfig")
            .field("api_key", &"***")
            .field("base_url", &self.base_url)
            .field("voice_id", &self.voice_id)
            .field("model_id", &self.model_id)
            .field("output_format", &self.output_format)
            .field("language_code", &self.language_code)
            .field("timeout_ms", &self.timeout_ms)
            .finish()
    }
}

impl ElevenLabsConfig {
    /// A configuration with `api_key` and every other field at its default.
    pub fn new(api_key: impl Into<String>) -> Self {
        ElevenLabsConfig {
            api_key: api_key.into(),
            base_url: ELEVENLABS_BASE_URL.to_string(),
            voice_id: ELEVENLABS_VOICE_ID.to_string(),
            model_id: ELEVENLABS_MODEL_ID.to_string(),
            output_format: OutputFormat::default(),
            language_code: "it".to_string(),
            timeout_ms: DEFAULT_TIMEOUT_MS,
        }
    }

    /// Reads the configuration through `get` (pass `|k| std::env::var(k).ok()`);
    /// empty values count as unset.
    ///
    /// `ELEVENLABS_API_KEY` (required), `ELEVENLABS_BASE_URL`,
    /// `ELEVENLABS_VOICE_ID`, `ELEVENLABS_MODEL_ID`, `ELEVENLABS_OUTPUT_FORMAT`
    /// (`ulaw_8000` or `pcm_16000`), `ELEVENLABS_TIMEOUT_MS` (ms).
    ///
    /// # Errors
    /// [`CloudConfigError::MissingKey`] without `ELEVENLABS_API_KEY`;
    /// [`CloudConfigError::Invalid`] for another output format or an
    /// unparsable deadline.
    pub fn from_env(get: impl Fn(&str) -> Option<String>) -> Result<Self, CloudConfigError> {
        let var = env_reader(&get);
        let key = var("ELEVENLABS_API_KEY").ok_or(CloudConfigError::MissingKey { engine: "ElevenLabs", var: "ELEVENLABS_API_KEY" })?;
        let mut cfg = ElevenLabsConfig::new(key);
        if let Some(base) = var("ELEVENLABS_BASE_URL") {
            cfg.base_url = base;
        }
        if let Some(voice) = var("ELEVENLABS_VOICE_ID") {
            cfg.voice_id = voice;
        }
        if let Some(model) = var("ELEVENLABS_MODEL_ID") {
            cfg.model_id = model;
        }
        if let Some(raw) = var("ELEVENLABS_OUTPUT_FORMAT") {
            cfg.output_format = OutputFormat::parse(&raw).ok_or(CloudConfigError::Invalid {
                var: "ELEVENLABS_OUTPUT_FORMAT",
                value: raw,
                expected: "ulaw_8000 or pcm_16000",
            })?;
        }
        if let Some(ms) = parse_ms(&var, "ELEVENLABS_TIMEOUT_MS")? {
            cfg.timeout_ms = ms;
        }
        Ok(cfg)
    }
}

/// Whether `model_id` accepts `language_code` (Turbo v2.5 and Flash v2.5).
fn enforces_language(model_id: &str) -> bool {
    matches!(model_id.trim(), "eleven_turbo_v2_5" | "eleven_flash_v2_5")
}

/// ElevenLabs streaming text-to-speech: PCM at the output format's rate
/// (8000 Hz for `ulaw_8000`, 16000 Hz for `pcm_16000`), handed to the sink
/// as each chunk arrives.
#[derive(Debug, Clone)]
pub struct ElevenLabsTts {
    cfg: ElevenLabsConfig,
    endpoint: String,
    http: reqwest::Client,
}

/// The body of `POST /v1/text-to-speech/{voice_id}/stream`.
#[derive(Serialize)]
struct StreamRequest<'a> {
    text: &'a str,
    model_id: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    language_code: Option<&'a str>,
}

impl ElevenLabsTts {
    /// Builds the engine. No request is sent.
    ///
    /// # Errors
    /// [`TtsError::Unavailable`] for an empty key (naming
    /// `ELEVENLABS_API_KEY`), a base URL that is not `http(s)://`, an empty
    /// or non-alphanumeric voice id, an empty model id or a zero deadline.
    pub fn new(cfg: ElevenLabsConfig) -> Result<Self, TtsError> {
        let base = checked_base_url(&cfg.base_url, "ELEVENLABS_BASE_URL")?;
        if cfg.api_key.trim().is_empty() {
            return Err(CloudConfigError::MissingKey { engine: "ElevenLabs", var: "ELEVENLABS_API_KEY" }.into());
        }
        let voice = cfg.voice_id.trim();
        if voice.is_empty() || !voice.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-') {
            return Err(TtsError::Unavailable(format!("ELEVENLABS_VOICE_ID {voice:?} is not a voice id")));
        }
        if cfg.model_id.trim().is_empty() {
            return Err(TtsError::Unavailable("ELEVENLABS_MODEL_ID is empty".to_string()));
        }
        let http = http_client(cfg.timeout_ms)?;
        let endpoint = format!("{base}/v1/text-to-speech/{voice}/stream");
        Ok(ElevenLabsTts { cfg, endpoint, http })
    }
}

impl TextToSpeech for ElevenLabsTts {
    fn engine(&self) -> &str {
        "elevenlabs"
    }

    fn voice(&self) -> &str {
        &self.cfg.voice_id
    }

    fn sample_rate_hz(&self) -> u32 {
        self.cfg.output_format.sample_rate_hz()
    }

    fn synthesize<'a>(&'a self, text: &'a str, sink: &'a mut AudioSink<'_>) -> BoxFuture<'a, Result<(), TtsError>> {
        Box::pin(async move {
            let text = text.trim();
            if text.is_empty() {
                return Ok(());
            }
            let model_id = self.cfg.model_id.trim();
            let language = self.cfg.language_code.trim();
            let body =
                StreamRequest { text, model_id, language_code: (enforces_language(model_id) && !language.is_empty()).then_some(language) };
            let req = self
                .http
                .post(&self.endpoint)
                .query(&[("output_format", self.cfg.output_format.as_str())])
                .header("xi-api-key", self.cfg.api_key.trim())
                .json(&body);
            let mut decoder = AudioDecoder::new(self.cfg.output_format.encoding());
            speak(req, &mut decoder, self.cfg.timeout_ms, self.cfg.api_key.trim(), sink).await.map_err(TtsError::from)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use super::super::cloud::test_env as env;

    #[test]
    fn config_from_env() {
        let err = ElevenLabsConfig::from_env(env(&[("ELEVENLABS_VOICE_ID", "v")])).expect_err("no key");
        assert!(TtsError::from(err).to_string().contains("ELEVENLABS_API_KEY"));

        let cfg = ElevenLabsConfig::from_env(env(&[("ELEVENLABS_API_KEY", "xi-secret")])).expect("defaults");
        assert_eq!(cfg, ElevenLabsConfig::new("xi-secret"));
        assert_eq!(cfg.output_format, OutputFormat::Ulaw8000);
        assert!(!format!("{cfg:?}").contains("xi-secret"));

        let cfg = ElevenLabsConfig::from_env(env(&[
            ("ELEVENLABS_API_KEY", "k"),
            ("ELEVENLABS_OUTPUT_FORMAT", "PCM_16000"),
            ("ELEVENLABS_MODEL_ID", "eleven_multilingual_v2"),
            ("ELEVENLABS_VOICE_ID", "abc123"),
        ]))
        .expect("overrides");
        assert_eq!(
            (cfg.output_format, cfg.model_id.as_str(), cfg.voice_id.as_str()),
            (OutputFormat::Pcm16000, "eleven_multilingual_v2", "abc123")
        );

        let err = ElevenLabsConfig::from_env(env(&[("ELEVENLABS_API_KEY", "k"), ("ELEVENLABS_OUTPUT_FORMAT", "mp3_44100_128")]))
            .expect_err("mp3");
        assert!(matches!(err, CloudConfigError::Invalid { var: "ELEVENLABS_OUTPUT_FORMAT", .. }));
    }

    #[test]
    fn formats_and_language_enforcement() {
        assert_eq!((OutputFormat::Ulaw8000.as_str(), OutputFormat::Ulaw8000.sample_rate_hz()), ("ulaw_8000", 8000));
        assert_eq!((OutputFormat::Pcm16000.as_str(), OutputFormat::Pcm16000.sample_rate_hz()), ("pcm_16000", 16000));
        assert!(enforces_language("eleven_flash_v2_5"));
        assert!(enforces_language("eleven_turbo_v2_5"));
        assert!(!enforces_language("eleven_multilingual_v2"));
    }

    #[test]
    fn engine_refuses_unusable_configs() {
        assert!(matches!(ElevenLabsTts::new(ElevenLabsConfig::new("")), Err(TtsError::Unavailable(m)) if m.contains("ELEVENLABS_API_KEY")));
        let mut cfg = ElevenLabsConfig::new("k");
        cfg.voice_id = "../v1/user".into();
        assert!(matches!(ElevenLabsTts::new(cfg), Err(TtsError::Unavailable(_))));
        let tts = ElevenLabsTts::new(ElevenLabsConfig::new("k")).expect("engine");
        assert_eq!(tts.endpoint, "https://api.elevenlabs.io/v1/text-to-speech/JBFqnCBsd6RMkjVDRZzb/stream");
        assert_eq!((tts.engine(), tts.sample_rate_hz()), ("elevenlabs", 8000));
    }
}
