//! WhatsApp Business (Meta Cloud API) settings, with seed 004's names:
//! `PHONE_NUMBER_ID`, `META_ACCESS_TOKEN`, `META_APP_ID`, `META_APP_SECRET`,
//! `META_VERIFY_TOKEN`, `META_GRAPH_URL`, plus `WHATSAPP_SESSION_IDLE_MINUTES`.
//! Secrets never print (`Secret`).

use std::time::Duration;

use crate::secret::Secret;

/// Meta's versioned Graph API base URL, the default of `META_GRAPH_URL`.
pub const DEFAULT_GRAPH_URL: &str = "https://graph.facebook.com/v21.0";
/// Default idle time after which a chat starts a new conversation, minutes.
pub const DEFAULT_SESSION_IDLE_MINUTES: u64 = 30;

/// WhatsApp configuration.
#[derive(Debug, Clone)]
pub struct WhatsappConfig {
    /// The business's WhatsApp phone-number id (`PHONE_NUMBER_ID`): the
    /// sender of replies when a webhook does not name one.
    pub phone_number_id: Option<String>,
    /// Bearer token for the Graph API (`META_ACCESS_TOKEN`).
    pub access_token: Option<Secret>,
    /// The Meta app id (`META_APP_ID`), informational.
    pub app_id: Option<String>,
    /// The app secret that signs webhooks (`META_APP_SECRET`); without it
    /// every webhook delivery is refused.
    pub app_secret: Option<Secret>,
    /// The token Meta echoes when verifying the webhook (`META_VERIFY_TOKEN`).
    pub verify_token: Option<Secret>,
    /// Graph API base URL, no trailing slash (`META_GRAPH_URL`).
    pub graph_url: String,
    /// A chat idle this long starts a new conversation.
    pub session_idle: Duration,
}

impl WhatsappConfig {
    /// Reads the settings through `get` (the environment in production).
    ///
    /// # Errors
    /// `WHATSAPP_SESSION_IDLE_MINUTES` is not a positive number of minutes,
    /// or `META_GRAPH_URL` is not an http(s) URL.
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Self, String> {
        let val = |k: &str| get(k).map(|v| v.trim().to_string()).filter(|v| !v.is_empty());
        let graph_url = val("META_GRAPH_URL").unwrap_or_else(|| DEFAULT_GRAPH_URL.to_string());
        let parsed = url::Url::parse(&graph_url).map_err(|e| format!("META_GRAPH_URL: {e}"))?;
        if !matches!(parsed.scheme(), "http" | "https") {
            return Err("META_GRAPH_URL: must be an http(s) URL".into());
        }
        let idle_minutes = match val("WHATSAPP_SESSION_IDLE_MINUTES") {
            None => DEFAULT_SESSION_IDLE_MINUTES,
            Some(v) => v
                .parse::<u64>()
                .ok()
                .filter(|m| *m > 0)
                .ok_or_else(|| format!("WHATSAPP_SESSION_IDLE_MINUTES: expected minutes (> 0), got '{v}'"))?,
        };
        Ok(WhatsappConfig {
            phone_number_id: val("PHONE_NUMBER_ID"),
            access_token: val("META_ACCESS_TOKEN").map(Secret::new),
            app_id: val("META_APP_ID"),
            app_secret: val("META_APP_SECRET").map(Secret::new),
            verify_token: val("META_VERIFY_TOKEN").map(Secret::new),
            graph_url: graph_url.trim_end_matches('/').to_string(),
            session_idle: Duration::from_secs(idle_minutes * 60),
        })
    }

    /// From the process environment.
    ///
    /// # Errors
    /// As [`WhatsappConfig::from_lookup`].
    pub fn from_env() -> Result<Self, String> {
        Self::from_lookup(|k| std::env::var(k).ok())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_and_errors() {
        let c = WhatsappConfig::from_lookup(|_| None).expect("defaults");
        assert_eq!(c.graph_url, DEFAULT_GRAPH_URL);
        assert!(c.app_secret.is_none());
        assert_eq!(c.session_idle, Duration::from_secs(30 * 60));
        let c = WhatsappConfig::from_lookup(|k| (k == "META_GRAPH_URL").then(|| "http://127.0.0.1:9/v1/".to_string())).expect("url");
        assert_eq!(c.graph_url, "http://127.0.0.1:9/v1");
        assert!(WhatsappConfig::from_lookup(|k| (k == "META_GRAPH_URL").then(|| "ftp://x".to_string())).is_err());
        assert!(WhatsappConfig::from_lookup(|k| (k == "WHATSAPP_SESSION_IDLE_MINUTES").then(|| "0".to_string())).is_err());
        let shown = format!("{:?}", WhatsappConfig::from_lookup(|k| (k == "META_APP_SECRET").then(|| "s3cr3t".to_string())).expect("ok"));
        assert!(!shown.contains("s3cr3t"));
    }
}
