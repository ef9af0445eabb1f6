//! How to reach the LLM and how patient to be: base URL, key, model,
//! deadline, retries, rate limits and circuit breaker, with defaults for
//! Groq's free tier and an environment reader.

use std::fmt;
use std::time::Duration;

/// Groq's OpenAI-compatible base URL.
pub const GROQ_BASE_URL: &str = "https://api.groq.com/openai/v1";
/// The model used with `GROQ_API_KEY` when `LLM_MODEL` is not set.
pub const GROQ_DEFAULT_MODEL: &str = "llama-3.1-8b-instant";
/// OpenAI's base URL.
pub const OPENAI_BASE_URL: &str = "https://api.openai.com/v1";
/// The model used with `OPENAI_API_KEY` when `LLM_MODEL` is not set.
pub const OPENAI_DEFAULT_MODEL: &str = "gpt-4o-mini";
/// The model name sent to a server given by `LLM_BASE_URL` when `LLM_MODEL`
/// is not set (llama.cpp's server ignores it; Ollama needs a real name).
pub const LOCAL_DEFAULT_MODEL: &str = "default";

/// Settings of an [`LlmClient`](super::LlmClient).
///
/// `Debug` never shows the API key (it prints `Some("***")`).
#[derive(Clone, PartialEq)]
pub struct LlmConfig {
    /// Base URL up to the version, without `/chat/completions`
    /// (`https://api.groq.com/openai/v1`, `http://127.0.0.1:8080/v1`).
    pub base_url: String,
    /// Sent as `Authorization: Bearer …` when set; local servers need none.
    pub api_key: Option<String>,
    /// The model name sent in each request.
    pub model: String,
    /// Most tokens to generate per call (default 500).
    pub max_tokens: u32,
    /// Sampling temperature, 0.0–2.0 (default 0.3).
    pub temperature: f32,
    /// Deadline of a whole call — connect, first byte, the full stream and
    /// all retries (default 2 s).
    pub timeout: Duration,
    /// Retries after the first attempt on 429, 5xx and transport errors (default 3).
    pub max_retries: u32,
    /// First backoff wait, doubled on each retry (default 200 ms); a wait that
    /// would not fit before the deadline ends the call instead.
    pub backoff_base: Duration,
    /// Client-side quota in requests per minute (default 30, Groq free tier);
    /// 0 disables the limit.
    pub requests_per_minute: u32,
    /// Client-side quota in tokens per minute (default 6000, Groq free tier),
    /// charged per call as prompt characters / 4 + `max_tokens`; 0 disables it.
    pub tokens_per_minute: u32,
    /// Consecutive failed calls (timeout, 5xx, transport, malformed) that open
    /// the circuit breaker (default 3).
    pub breaker_threshold: u32,
    /// How long the breaker stays open before letting one trial call through
    /// (default 30 s).
    pub breaker_cooldown: Duration,
}

impl LlmConfig {
    /// A configuration for `base_url` and `model` with every other field at
    /// its default and no API key.
    pub fn new(base_url: impl Into<String>, model: impl Into<String>) -> Self {
        LlmConfig {
            base_url: base_url.into(),
            api_key: None,
            model: model.into(),
            max_tokens: 500,
            temperature: 0.3,
            timeout: Duration::from_millis(2000),
            max_retries: 3,
            backoff_base: Duration::from_millis(200),
            requests_per_minute: 30,
            tokens_per_minute: 6000,
            breaker_threshold: 3,
            breaker_cooldown: Duration::from_secs(30),
        }
    }

    /// Reads the configuration from environment variables through `get`
    /// (pass `|k| std::env::var(k).ok()`); empty values count as unset.
    ///
    /// - `LLM_BASE_URL` (with optional `LLM_API_KEY`, `LLM_MODEL`): any
    ///   OpenAI-compatible server; no key is fine for local servers. Vendor
    ///   keys are *not* sent to a custom base URL.
    /// - otherwise `GROQ_API_KEY`: Groq, model `llama-3.1-8b-instant`;
    /// - otherwise `OPENAI_API_KEY`: OpenAI, model `gpt-4o-mini`;
    /// - `LLM_API_KEY` overrides the vendor key and `LLM_MODEL` the model.
    /// - Optional overrides: `LLM_TIMEOUT_MS` (ms), `LLM_RPM` (requests per
    ///   minute), `LLM_TPM` (tokens per minute); unparsable values are
    ///   ignored with a warning.
    ///
    /// Returns `None` when no LLM is configured (nothing set, or only
    /// `LLM_API_KEY` with no base URL to send it to).
    pub fn from_env(get: impl Fn(&str) -> Option<String>) -> Option<LlmConfig> {
        let var = |k: &str| get(k).map(|v| v.trim().to_string()).filter(|v| !v.is_empty());
        let llm_key = var("LLM_API_KEY");
        let mut cfg = if let Some(base) = var("LLM_BASE_URL") {
            let mut c = LlmConfig::new(base, LOCAL_DEFAULT_MODEL);
            c.api_key = llm_key;
            c
        } else if let Some(key) = var("GROQ_API_KEY") {
            let mut c = LlmConfig::new(GROQ_BASE_URL, GROQ_DEFAULT_MODEL);
            c.api_key = Some(llm_key.unwrap_or(key));
            c
        } else if let Some(key) = var("OPENAI_API_KEY") {
            let mut c = LlmConfig::new(OPENAI_BASE_URL, OPENAI_DEFAULT_MODEL);
            c.api_key = Some(llm_key.unwrap_or(key));
            c
        } else {
            if llm_key.is_some() {
                tracing::warn!("LLM_API_KEY is set but neither LLM_BASE_URL nor a vendor key: LLM disabled");
            }
            return None;
        };
        if let Some(model) = var("LLM_MODEL") {
            cfg.model = model;
        }
        if let Some(ms) = parse_u32(&var, "LLM_TIMEOUT_MS") {
            cfg.timeout = Duration::from_millis(u64::from(ms));
        }
        if let Some(rpm) = parse_u32(&var, "LLM_RPM") {
            cfg.requests_per_minute = rpm;
        }
        if let Some(tpm) = parse_u32(&var, "LLM_TPM") {
            cfg.tokens_per_minute = tpm;
        }
        Some(cfg)
    }
}

/// The model configuration for one business: `server` (the environment's,
/// or `None`) unless the business's owner stored a vendor and an API key in
/// the console (Impostazioni → Integrazioni), in which case that vendor's
/// base URL, the stored model (or the vendor's default) and the stored key,
/// with the server's deadline, retries and quotas when it has them.
pub fn for_business(server: Option<LlmConfig>, own: &crate::store::integrations::LlmIntegration) -> Option<LlmConfig> {
    use crate::store::LlmProvider;
    let (Some(provider), Some(key)) = (own.provider, own.api_key.as_ref()) else { return server };
    let (base, model) = match provider {
        LlmProvider::Groq => (GROQ_BASE_URL, GROQ_DEFAULT_MODEL),
        LlmProvider::Openai => (OPENAI_BASE_URL, OPENAI_DEFAULT_MODEL),
    };
    let mut cfg = match server {
        Some(s) => LlmConfig { base_url: base.to_string(), model: model.to_string(), ..s },
        None => LlmConfig::new(base, model),
    };
    cfg.api_key = Some(key.expose().to_string());
    if let Some(m) = &own.model {
        cfg.model = m.clone();
    }
    Some(cfg)
}

fn parse_u32(var: &impl Fn(&str) -> Option<String>, name: &str) -> Option<u32> {
    let raw = var(name)?;
    match raw.parse::<u32>() {
        Ok(v) => Some(v),
        Err(_) => {
            tracing::warn!(variable = name, value = %raw, "not a non-negative integer: ignored");
            None
        }
    }
}

impl fmt::Debug for LlmConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LlmConfig")
            .field("base_url", &self.base_url)
            .field("api_key", &self.api_key.as_ref().map(|_| "***"))
            .field("model", &self.model)
            .field("max_tokens", &self.max_tokens)
            .field("temperature", &self.temperature)
            .field("timeout", &self.timeout)
            .field("max_retries", &self.max_retries)
            .field("backoff_base", &self.backoff_base)
            .field("requests_per_minute", &self.requests_per_minute)
            .field("tokens_per_minute", &self.tokens_per_minute)
            .field("breaker_threshold", &self.breaker_threshold)
            .field("breaker_cooldown", &self.breaker_cooldown)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn env(pairs: &[(&str, &str)]) -> Option<LlmConfig> {
        let map: HashMap<String, String> = pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        LlmConfig::from_env(|k| map.get(k).cloned())
    }

    /// (case, environment, expected `(base_url, api_key, model)` or `None`).
    type Case<'a> = (&'a str, Vec<(&'a str, &'a str)>, Option<(&'a str, Option<&'a str>, &'a str)>);

    #[test]
    fn from_env_table() {
        let cases: Vec<Case> = vec![
            ("nothing", vec![], None),
            ("empty values", vec![("GROQ_API_KEY", " "), ("LLM_BASE_URL", "")], None),
            ("llm key without target", vec![("LLM_API_KEY", "k")], None),
            ("groq only", vec![("GROQ_API_KEY", "gsk")], Some((GROQ_BASE_URL, Some("gsk"), GROQ_DEFAULT_MODEL))),
            ("openai only", vec![("OPENAI_API_KEY", "sk")], Some((OPENAI_BASE_URL, Some("sk"), OPENAI_DEFAULT_MODEL))),
            (
                "groq wins over openai",
                vec![("GROQ_API_KEY", "gsk"), ("OPENAI_API_KEY", "sk")],
                Some((GROQ_BASE_URL, Some("gsk"), GROQ_DEFAULT_MODEL)),
            ),
            (
                "groq with model override",
                vec![("GROQ_API_KEY", "gsk"), ("LLM_MODEL", "llama-3.3-70b-versatile")],
                Some((GROQ_BASE_URL, Some("gsk"), "llama-3.3-70b-versatile")),
            ),
            (
                "explicit base url, no key",
                vec![("LLM_BASE_URL", "http://127.0.0.1:8080/v1"), ("LLM_MODEL", "qwen")],
                Some(("http://127.0.0.1:8080/v1", None, "qwen")),
            ),
            (
                "explicit base url with key",
                vec![("LLM_BASE_URL", "http://h/v1"), ("LLM_API_KEY", "k")],
                Some(("http://h/v1", Some("k"), LOCAL_DEFAULT_MODEL)),
            ),
            (
                "vendor key not sent to custom url",
                vec![("LLM_BASE_URL", "http://h/v1"), ("GROQ_API_KEY", "gsk")],
                Some(("http://h/v1", None, LOCAL_DEFAULT_MODEL)),
            ),
        ];
        for (name, vars, want) in cases {
            let got = env(&vars).map(|c| (c.base_url, c.api_key, c.model));
            let want = want.map(|(b, k, m)| (b.to_string(), k.map(str::to_string), m.to_string()));
            assert_eq!(got, want, "case {name}");
        }
    }

    #[test]
    fn from_env_defaults_and_overrides() {
        let c = env(&[("GROQ_API_KEY", "gsk")]).expect("configured");
        assert_eq!((c.max_tokens, c.max_retries, c.requests_per_minute, c.tokens_per_minute, c.breaker_threshold), (500, 3, 30, 6000, 3));
        assert_eq!(c.timeout, Duration::from_secs(2));
        assert_eq!(c.backoff_base, Duration::from_millis(200));
        assert_eq!(c.breaker_cooldown, Duration::from_secs(30));
        assert!((c.temperature - 0.3).abs() < f32::EPSILON);

        let c = env(&[("GROQ_API_KEY", "gsk"), ("LLM_TIMEOUT_MS", "1500"), ("LLM_RPM", "60"), ("LLM_TPM", "bogus")]).expect("configured");
        assert_eq!(c.timeout, Duration::from_millis(1500));
        assert_eq!(c.requests_per_minute, 60);
        assert_eq!(c.tokens_per_minute, 6000, "unparsable override ignored");
    }

    #[test]
    fn debug_hides_the_key() {
        let mut c = LlmConfig::new(GROQ_BASE_URL, GROQ_DEFAULT_MODEL);
        c.api_key = Some("gsk_SECRET123".into());
        let shown = format!("{c:?}");
        assert!(!shown.contains("SECRET"), "{shown}");
        assert!(shown.contains("***"));
    }

    #[test]
    fn a_business_key_replaces_the_servers_model() {
        use crate::store::integrations::LlmIntegration;
        use crate::store::LlmProvider;
        let server = LlmConfig::from_env(|k| (k == "LLM_BASE_URL").then(|| "http://127.0.0.1:9/v1".to_string()));
        let none = LlmIntegration::default();
        assert_eq!(for_business(server.clone(), &none), server, "nothing stored: the server's");
        let own = LlmIntegration { provider: Some(LlmProvider::Openai), model: None, api_key: Some(crate::secret::Secret::new("sk-own")) };
        let cfg = for_business(server.clone(), &own).expect("configured");
        assert_eq!(
            (cfg.base_url.as_str(), cfg.model.as_str(), cfg.api_key.as_deref()),
            (OPENAI_BASE_URL, OPENAI_DEFAULT_MODEL, Some("sk-own"))
        );
        let cfg =
            for_business(None, &LlmIntegration { model: Some("llama-3.3-70b-versatile".into()), provider: Some(LlmProvider::Groq), ..own })
                .expect("configured");
        assert_eq!((cfg.base_url.as_str(), cfg.model.as_str()), (GROQ_BASE_URL, "llama-3.3-70b-versatile"));
    }
}
