//! The configuration file: one TOML file whose settings are the environment
//! variables Fluxion reads, so the environment always overrides the file.
//!
//! A key's name is its table path and its own name joined by `_`,
//! upper-cased: `[tts] engine = "piper"` is `TTS_ENGINE`, `[voice]
//! end_silence_ms = 700` is `VOICE_END_SILENCE_MS`, `[twilio] auth_token` is
//! `TWILIO_AUTH_TOKEN`, a top-level `public_url` is `PUBLIC_URL`.
//!
//! The file is `--config PATH`, else `FLUXION_CONFIG`, else `fluxion.toml` in
//! the working directory, else the platform config directory
//! (`~/.config/fluxion/fluxion.toml`); none is fine. `fluxion config check`
//! lists every problem at once.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Every setting Fluxion reads, with what it is for (shown by `config check`).
pub const KNOWN: &[&str] = &[
    "FLUXION_DB",
    "DATABASE_URL",
    "FLUXION_HOST",
    "FLUXION_PORT",
    "FLUXION_MODELS_DIR",
    "FLUXION_CACHE_DIR",
    "FLUXION_PROMPTS_DIR",
    "MCP_HOST",
    "MCP_PORT",
    "MCP_TOKEN",
    "LLM_BASE_URL",
    "LLM_API_KEY",
    "LLM_MODEL",
    "LLM_TIMEOUT_MS",
    "LLM_RPM",
    "LLM_TPM",
    "GROQ_API_KEY",
    "OPENAI_API_KEY",
    "STT_ENGINE",
    "STT_BASE_URL",
    "STT_API_KEY",
    "STT_MODEL",
    "STT_TIMEOUT_MS",
    "WHISPER_MODEL",
    "DEEPGRAM_API_KEY",
    "DEEPGRAM_BASE_URL",
    "DEEPGRAM_MODEL",
    "DEEPGRAM_TTS_MODEL",
    "DEEPGRAM_TIMEOUT_MS",
    "DEEPGRAM_ENDPOINTING_MS",
    "TTS_ENGINE",
    "TTS_FALLBACK",
    "TTS_TIMEOUT_MS",
    "TTS_BASE_URL",
    "TTS_API_KEY",
    "TTS_MODEL",
    "TTS_VOICE",
    "ESPEAK_VOICE",
    "ESPEAK_RATE",
    "PIPER_BIN",
    "PIPER_VOICE",
    "ELEVENLABS_API_KEY",
    "ELEVENLABS_BASE_URL",
    "ELEVENLABS_VOICE_ID",
    "ELEVENLABS_MODEL_ID",
    "ELEVENLABS_OUTPUT_FORMAT",
    "ELEVENLABS_TIMEOUT_MS",
    "VAD_ENGINE",
    "VOICE_END_SILENCE_MS",
    "VOICE_MIN_SPEECH_MS",
    "VOICE_MAX_TURN_MS",
    "VOICE_BARGE_IN_MS",
    "VOICE_FILLER_AFTER_MS",
    "VOICE_STT_TIMEOUT_MS",
    "VOICE_SILENCE_REPROMPT_MS",
    "VOICE_MAX_REPROMPTS",
    "VOICE_SPECULATE_AFTER_MS",
    "VOICE_COMPLETE_END_SILENCE_MS",
    "VOICE_UNFINISHED_EXTRA_MS",
    "VOICE_MAX_CALL_MS",
    "MAX_CALL_DURATION_MS",
    "PUBLIC_URL",
    "CALL_PROVIDER",
    "TWILIO_ACCOUNT_SID",
    "TWILIO_AUTH_TOKEN",
    "TWILIO_FROM_NUMBER",
    "TWILIO_API_BASE",
    "PLIVO_AUTH_ID",
    "PLIVO_AUTH_TOKEN",
    "PLIVO_API_BASE",
    "EXOTEL_SID",
    "EXOTEL_API_KEY",
    "EXOTEL_API_TOKEN",
    "TRANSFER_NUMBER",
    "RECORD_CALLS",
    "RECORDINGS_DIR",
    "RECORDING_RETENTION_DAYS",
    "DATA_RETENTION_DAYS",
    "HTTP_HEADER_TIMEOUT_MS",
    "HTTP_BODY_TIMEOUT_MS",
    "HTTP_MAX_CONNECTIONS",
    "HTTP_MAX_CONNECTIONS_PER_IP",
    "HTTP_RATE_PER_SECOND",
    "HTTP_RATE_BURST",
    "ALLOWED_HOSTS",
    "CORS_ALLOWED_ORIGINS",
    "PHONE_NUMBER_ID",
    "META_ACCESS_TOKEN",
    "META_APP_ID",
    "META_APP_SECRET",
    "META_VERIFY_TOKEN",
    "META_GRAPH_URL",
    "WHATSAPP_SESSION_IDLE_MINUTES",
    "STREAM_TOKEN_SECRET",
    "STREAM_TOKEN_TTL_MS",
    "STREAM_IDLE_TIMEOUT_MS",
    "STREAM_START_TIMEOUT_MS",
    "STREAM_MAX_CALL_GRACE_MS",
    "MAX_MEDIA_STREAMS",
    "MAX_MEDIA_STREAMS_PER_IP",
    "MAX_CONCURRENT_CALLS",
    "MAX_BAD_FRAMES",
    "EXOTEL_WEBHOOK_USER",
    "EXOTEL_WEBHOOK_PASSWORD",
    "SHUTDOWN_DRAIN_MS",
    "NOTIFY_CHANNELS",
    "NOTIFY_MAX_ATTEMPTS",
    "NOTIFY_LEASE_SECS",
    "NOTIFY_POLL_MS",
    "NOTIFY_QUIET_HOURS",
    "NOTIFY_OWNER_EMAIL",
    "NOTIFY_OWNER_PHONE",
    "REMINDER_HOURS_BEFORE",
    "WHATSAPP_TEMPLATE_CONFIRMED",
    "WHATSAPP_TEMPLATE_CHANGED",
    "WHATSAPP_TEMPLATE_CANCELLED",
    "WHATSAPP_TEMPLATE_REMINDER",
    "WHATSAPP_TEMPLATE_CALLBACK",
    "WHATSAPP_TEMPLATE_LOYALTY",
    "WHATSAPP_TEMPLATE_MESSAGE",
    "WHATSAPP_TEMPLATE_LANGUAGE",
    "TWILIO_SMS_FROM",
    "TWILIO_PHONE_NUMBER",
    "PLIVO_SMS_FROM",
    "PLIVO_PHONE_NUMBER",
    "SMTP_HOST",
    "SMTP_PORT",
    "SMTP_USER",
    "SMTP_PASSWORD",
    "SMTP_FROM",
    "SMTP_TLS",
    "WEBHOOK_URL",
    "WEBHOOK_SECRET",
    "WEBHOOK_URL_2",
    "WEBHOOK_SECRET_2",
    "WEBHOOK_URL_3",
    "WEBHOOK_SECRET_3",
    "WEBHOOK_URL_4",
    "WEBHOOK_SECRET_4",
    "WEBHOOK_URL_5",
    "WEBHOOK_SECRET_5",
    "BACKUP_DIR",
    "BACKUP_DAILY",
    "RUST_LOG",
];

/// Settings read from a configuration file.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ConfigFile {
    /// Where it was read from.
    pub path: Option<PathBuf>,
    /// Setting name (as the environment variable) → value.
    pub settings: BTreeMap<String, String>,
}

/// A configuration file that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file cannot be read.
    #[error("reading {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The file is not valid TOML.
    #[error("{path} is not valid TOML: {message}")]
    Parse {
        /// The file.
        path: PathBuf,
        /// The parser's message, with line and column.
        message: String,
    },
}

impl ConfigFile {
    /// The file named by `explicit`, `FLUXION_CONFIG`, `./fluxion.toml` or
    /// the platform config directory, in that order; an empty set when
    /// there is none (an explicitly named file must exist).
    ///
    /// # Errors
    /// An unreadable or invalid file.
    pub fn discover(explicit: Option<&Path>) -> Result<Self, ConfigError> {
        let named =
            explicit.map(Path::to_path_buf).or_else(|| std::env::var_os("FLUXION_CONFIG").filter(|v| !v.is_empty()).map(PathBuf::from));
        if let Some(path) = named {
            return Self::load(&path);
        }
        let candidates = [
            Some(PathBuf::from("fluxion.toml")),
            directories::ProjectDirs::from("", "", "fluxion").map(|d| d.config_dir().join("fluxion.toml")),
        ];
        match candidates.into_iter().flatten().find(|p| p.is_file()) {
            Some(path) => Self::load(&path),
            None => Ok(ConfigFile::default()),
        }
    }

    /// Reads and flattens one file.
    ///
    /// # Errors
    /// An unreadable or invalid file.
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read { path: path.to_path_buf(), source })?;
        let mut file = Self::parse(&text).map_err(|message| ConfigError::Parse { path: path.to_path_buf(), message })?;
        file.path = Some(path.to_path_buf());
        Ok(file)
    }

    /// Flattens TOML text into settings.
    ///
    /// # Errors
    /// The parser's message for invalid TOML, or an array value.
    pub fn parse(text: &str) -> Result<Self, String> {
        let table: toml::Table = text.parse().map_err(|e: toml::de::Error| e.to_string())?;
        let mut settings = BTreeMap::new();
        flatten("", &toml::Value::Table(table), &mut settings)?;
        Ok(ConfigFile { path: None, settings })
    }

    /// Settings whose names Fluxion does not read (probably typos).
    pub fn unknown_keys(&self) -> Vec<&str> {
        self.settings.keys().map(String::as_str).filter(|k| !KNOWN.contains(k)).collect()
    }

    /// Sets every setting the environment does not already have. Call it
    /// before any other thread starts (the binary does, before the runtime).
    pub fn apply_to_env(&self) {
        for (name, value) in &self.settings {
            if std::env::var_os(name).is_none() {
                std::env::set_var(name, value);
            }
        }
    }
}

fn flatten(prefix: &str, value: &toml::Value, out: &mut BTreeMap<String, String>) -> Result<(), String> {
    let text = match value {
        toml::Value::Table(table) => {
            for (key, value) in table {
                let name = if prefix.is_empty() { key.to_ascii_uppercase() } else { format!("{prefix}_{}", key.to_ascii_uppercase()) };
                flatten(&name, value, out)?;
            }
            return Ok(());
        }
        toml::Value::String(s) => s.clone(),
        toml::Value::Integer(i) => i.to_string(),
        toml::Value::Float(f) => f.to_string(),
        toml::Value::Boolean(b) => b.to_string(),
        toml::Value::Datetime(d) => d.to_string(),
        toml::Value::Array(_) => return Err(format!("{prefix}: arrays are not settings")),
    };
    out.insert(prefix.to_string(), text);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_flatten_to_environment_names() {
        let file = ConfigFile::parse(
            r#"
public_url = "https://fluxion.example.it"
[tts]
engine = "piper"
fallback = "espeak"
[voice]
end_silence_ms = 700
[twilio]
auth_token = "secret"
[tts_typo]
enginee = "x"
"#,
        )
        .unwrap();
        assert_eq!(file.settings["PUBLIC_URL"], "https://fluxion.example.it");
        assert_eq!(file.settings["TTS_ENGINE"], "piper");
        assert_eq!(file.settings["VOICE_END_SILENCE_MS"], "700");
        assert_eq!(file.settings["TWILIO_AUTH_TOKEN"], "secret");
        assert_eq!(file.unknown_keys(), ["TTS_TYPO_ENGINEE"]);
        assert!(ConfigFile::parse("[tts\nengine=").is_err());
        assert!(ConfigFile::parse("list = [1, 2]").is_err());
    }
}
