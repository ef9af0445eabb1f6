//! `fluxion doctor`'s checks of the speech components and cloud services,
//! shared by the command and the console's Stato page (`GET /api/status`):
//! each voice-activity detector runs on a silent frame, the configured
//! speech-to-text transcribes one second of test audio, each voice speaks a
//! short phrase, and every cloud service with a key set is reached over
//! HTTPS (the key itself is never shown).

use std::path::Path;
use std::time::Instant;

use fluxion_core::audio::vad::VadEngine;
use fluxion_core::speech::stt::{transcribe, SttRequest};
use fluxion_core::speech::tts::synthesize_all;
use serde::Serialize;

use crate::speech::engines::{self, SttEngine};
use crate::speech::speaker::Speaker;
use crate::speech::vad_for;

/// One line of the report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Check {
    /// What was checked (`database`, `vad silero`, `stt whisper`, …).
    pub component: String,
    /// `ok`, `FAIL`, `skip` (not configured, failed) or `info`.
    pub status: &'static str,
    /// What was seen, or why it failed.
    pub detail: String,
}

impl Check {
    /// Whether this check failed.
    pub fn failed(&self) -> bool {
        self.status == "FAIL"
    }
}

/// A check from the result of a probe.
pub fn check(component: &str, result: anyhow::Result<String>) -> Check {
    match result {
        Ok(detail) => Check { component: component.to_string(), status: "ok", detail },
        Err(e) => Check { component: component.to_string(), status: "FAIL", detail: format!("{e:#}") },
    }
}

/// The checks of every speech component and cloud service, with the
/// models under `dir`.
pub async fn components(dir: &Path) -> Vec<Check> {
    let mut checks = vec![Check { component: "models dir".to_string(), status: "info", detail: dir.display().to_string() }];
    for engine in [VadEngine::Webrtc, VadEngine::Silero] {
        let configured = crate::speech::vad_engine().ok() == Some(engine);
        let result = (|| {
            let mut vad = vad_for(engine, 16_000)?;
            let frame = vec![0i16; vad.frame_len()];
            let p = vad.speech_probability(&frame)?;
            anyhow::Ok(format!("runs (silence → {p:.2})"))
        })();
        let mut c = check(&format!("vad {}", engine.as_str()), result);
        if c.failed() && !configured {
            c.status = "skip";
        }
        checks.push(c);
    }
    let stt_engine = SttEngine::from_env();
    checks.push(check(
        &format!("stt {}", stt_engine.map(SttEngine::as_str).unwrap_or("?")),
        async {
            let engine = engines::stt_from_env(dir)?;
            let pcm: Vec<i16> = (0..16_000).map(|i| ((i as f32 * 0.05).sin() * 3000.0) as i16).collect();
            let started = Instant::now();
            let t = transcribe(engine.as_ref(), &SttRequest::italian(16_000), &pcm).await?;
            Ok(format!("transcribed 1 s of test audio in {} ms ({:?})", started.elapsed().as_millis(), t.text))
        }
        .await,
    ));
    match engines::speaker_from_env(dir) {
        Ok(speaker) => {
            checks.push(speak_check(&speaker, true).await);
            if speaker.fallback().is_some() {
                checks.push(speak_check(&speaker, false).await);
            }
        }
        Err(e) => checks.push(check("tts", Err(e.into()))),
    }
    checks.extend(cloud_checks().await);
    checks
}

async fn speak_check(speaker: &Speaker, primary: bool) -> Check {
    let tts = if primary { Some(speaker.primary()) } else { speaker.fallback() };
    let Some(tts) = tts else {
        return check("tts", Err(anyhow::anyhow!("no engine")));
    };
    let name = format!("tts {} ({})", tts.engine(), if primary { "primary" } else { "fallback" });
    let started = Instant::now();
    let result = synthesize_all(tts, "Prova audio.").await.map(|pcm| {
        format!(
            "{:.2} s of audio at {} Hz in {} ms",
            pcm.len() as f64 / f64::from(tts.sample_rate_hz()),
            tts.sample_rate_hz(),
            started.elapsed().as_millis()
        )
    });
    check(&name, result.map_err(Into::into))
}

/// For every cloud key set, whether its service answers over HTTPS (any
/// HTTP status counts as reachable; the key itself is never printed).
async fn cloud_checks() -> Vec<Check> {
    let services = [
        ("deepgram", "DEEPGRAM_API_KEY", std::env::var("DEEPGRAM_BASE_URL").unwrap_or_else(|_| "https://api.deepgram.com".to_string())),
        (
            "elevenlabs",
            "ELEVENLABS_API_KEY",
            std::env::var("ELEVENLABS_BASE_URL").unwrap_or_else(|_| "https://api.elevenlabs.io".to_string()),
        ),
        ("openai", "OPENAI_API_KEY", "https://api.openai.com/v1".to_string()),
        ("groq", "GROQ_API_KEY", "https://api.groq.com/openai/v1".to_string()),
        (
            "stt (openai-compatible)",
            "STT_API_KEY",
            std::env::var("STT_BASE_URL").unwrap_or_else(|_| "https://api.openai.com/v1".to_string()),
        ),
        (
            "tts (openai-compatible)",
            "TTS_API_KEY",
            std::env::var("TTS_BASE_URL").unwrap_or_else(|_| "https://api.openai.com/v1".to_string()),
        ),
    ];
    let client = match reqwest::Client::builder().timeout(std::time::Duration::from_secs(5)).build() {
        Ok(c) => c,
        Err(e) => return vec![check("cloud", Err(e.into()))],
    };
    let mut out = Vec::new();
    for (name, key, url) in services {
        if std::env::var(key).map(|v| v.trim().is_empty()).unwrap_or(true) {
            continue;
        }
        let result = match client.get(&url).send().await {
            Ok(r) => Ok(format!("{key} set; {url} answered HTTP {}", r.status().as_u16())),
            Err(e) => Err(anyhow::anyhow!("{key} set but {url} is unreachable: {}", crate::llm::with_sources(&e))),
        };
        out.push(check(&format!("cloud {name}"), result));
    }
    out
}
