//! `fluxion config check`: every configuration problem at once, without
//! starting anything.

use crate::config::ConfigFile;
use crate::speech::engines::{self, SttEngine};
use crate::speech::{models_dir, vad_for};
use crate::telephony::TelephonyConfig;

/// Numeric settings and the range they must be in.
const NUMBERS: &[(&str, u64, u64)] = &[
    ("FLUXION_PORT", 1, 65_535),
    ("MCP_PORT", 1, 65_535),
    ("VOICE_END_SILENCE_MS", 100, 5_000),
    ("VOICE_MIN_SPEECH_MS", 0, 5_000),
    ("VOICE_MAX_TURN_MS", 0, 600_000),
    ("VOICE_BARGE_IN_MS", 20, 2_000),
    ("VOICE_FILLER_AFTER_MS", 100, 60_000),
    ("VOICE_STT_TIMEOUT_MS", 100, 60_000),
    ("VOICE_SILENCE_REPROMPT_MS", 1_000, 600_000),
    ("VOICE_MAX_REPROMPTS", 0, 100),
    ("VOICE_SPECULATE_AFTER_MS", 20, 5_000),
    ("VOICE_COMPLETE_END_SILENCE_MS", 100, 5_000),
    ("VOICE_UNFINISHED_EXTRA_MS", 0, 10_000),
    ("VOICE_MAX_CALL_MS", 10_000, 86_400_000),
    ("TTS_TIMEOUT_MS", 100, 120_000),
    ("LLM_TIMEOUT_MS", 100, 120_000),
    ("RECORDING_RETENTION_DAYS", 1, 3_650),
    ("DATA_RETENTION_DAYS", 1, 3_650),
    ("SHUTDOWN_DRAIN_MS", 0, 86_400_000),
];

/// Lists the problems of the effective configuration (file plus
/// environment); fails when there is any.
///
/// # Errors
/// One error summarising how many problems were found.
pub fn check(file: &ConfigFile) -> anyhow::Result<()> {
    let mut problems: Vec<String> = Vec::new();
    match &file.path {
        Some(p) => println!("configuration file: {} ({} settings; the environment overrides it)", p.display(), file.settings.len()),
        None => println!("configuration file: none (environment only)"),
    }
    for key in file.unknown_keys() {
        problems.push(format!("{key}: not a setting Fluxion reads (a typo?)"));
    }
    for (name, min, max) in NUMBERS {
        if let Ok(raw) = std::env::var(name) {
            match raw.trim().parse::<u64>() {
                Ok(v) if (*min..=*max).contains(&v) => {}
                Ok(v) => problems.push(format!("{name}={v}: must be between {min} and {max}")),
                Err(_) => problems.push(format!("{name}={raw:?}: not a whole number")),
            }
        }
    }
    if let Err(e) = crate::guard::HttpGuard::from_env() {
        problems.push(e.to_string());
    }
    let db = std::env::var_os("FLUXION_DB").map(std::path::PathBuf::from);
    if let Err(e) = crate::store::DatabaseUrl::from_env(db.as_deref()) {
        problems.push(e);
    }
    let dir = models_dir();
    match SttEngine::from_env() {
        Ok(engine) => {
            if let Err(e) = engines::build_stt(engine, &dir) {
                problems.push(format!("STT_ENGINE={}: {e}", engine.as_str()));
            }
        }
        Err(e) => problems.push(e.to_string()),
    }
    match engines::tts_engines_from_env(&dir) {
        Ok((primary, fallback)) => {
            for engine in std::iter::once(primary).chain(fallback) {
                if let Err(e) = engines::build_tts(engine, &dir) {
                    problems.push(format!("TTS engine {}: {e}", engine.as_str()));
                }
            }
        }
        Err(e) => problems.push(e.to_string()),
    }
    match crate::speech::vad_engine() {
        Ok(vad) => {
            if let Err(e) = vad_for(vad, 8_000) {
                problems.push(format!("VAD_ENGINE={}: {e}", vad.as_str()));
            }
        }
        Err(e) => problems.push(e.to_string()),
    }
    match TelephonyConfig::from_env() {
        Ok(t) => {
            if (t.twilio_auth_token.is_some() || t.plivo_auth_token.is_some()) && t.public_url.is_none() {
                problems.push("PUBLIC_URL: needed to check webhook signatures and to give providers the stream URL".to_string());
            }
            if t.twilio_auth_token.is_some() != t.twilio_account_sid.is_some() {
                problems.push("TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN go together".to_string());
            }
            if t.plivo_auth_token.is_some() != t.plivo_auth_id.is_some() {
                problems.push("PLIVO_AUTH_ID and PLIVO_AUTH_TOKEN go together".to_string());
            }
        }
        Err(e) => problems.push(e),
    }
    match crate::channels::whatsapp::WhatsappConfig::from_env() {
        Ok(w) => {
            if w.access_token.is_some() != w.app_secret.is_some() {
                problems
                    .push("META_ACCESS_TOKEN and META_APP_SECRET go together (replies need the token, deliveries the secret)".to_string());
            }
        }
        Err(e) => problems.push(e),
    }
    if let Err(e) = crate::notify::NotifyConfig::from_env() {
        problems.extend(e.lines().map(str::to_string));
    }
    if problems.is_empty() {
        println!("no problems found");
        return Ok(());
    }
    for p in &problems {
        println!("problem: {p}");
    }
    anyhow::bail!("{} configuration problem(s)", problems.len())
}
