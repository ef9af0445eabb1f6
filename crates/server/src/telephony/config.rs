//! Telephony settings from the environment (names from the seeds):
//! `PUBLIC_URL`, `CALL_PROVIDER`, `TWILIO_ACCOUNT_SID`, `TWILIO_AUTH_TOKEN`,
//! `PLIVO_AUTH_ID`, `PLIVO_AUTH_TOKEN`, `EXOTEL_SID`, `EXOTEL_API_KEY`,
//! `EXOTEL_API_TOKEN`, `TRANSFER_NUMBER`, `RECORD_CALLS`, `RECORDINGS_DIR`,
//! `RECORDING_RETENTION_DAYS`; the media-stream proof and limits:
//! `STREAM_TOKEN_SECRET`, `EXOTEL_WEBHOOK_USER`, `EXOTEL_WEBHOOK_PASSWORD`
//! and the variables of [`StreamLimits`]. Secrets are never printed (`Debug`
//! hides them).

use std::path::PathBuf;

use super::limits::StreamLimits;
use super::Provider;

/// Telephony configuration.
#[derive(Clone, Default)]
pub struct TelephonyConfig {
    /// The https base URL providers reach (`https://fluxion.example.it`),
    /// used for stream URLs and signature validation; no trailing slash.
    pub public_url: Option<String>,
    /// The default provider (`CALL_PROVIDER`, default Twilio).
    pub default_provider: Option<Provider>,
    /// Twilio account SID.
    pub twilio_account_sid: Option<String>,
    /// Twilio auth token (signs webhooks; REST API password).
    pub twilio_auth_token: Option<String>,
    /// Plivo auth id.
    pub plivo_auth_id: Option<String>,
    /// Plivo auth token (signs webhooks; REST API password).
    pub plivo_auth_token: Option<String>,
    /// Exotel account SID.
    pub exotel_sid: Option<String>,
    /// Exotel API key.
    pub exotel_api_key: Option<String>,
    /// Exotel API token.
    pub exotel_api_token: Option<String>,
    /// Where to transfer callers who ask for a person (E.164); none: a
    /// callback request is recorded instead.
    pub transfer_number: Option<String>,
    /// Record calls (off by default; callers are told when on).
    pub record_calls: bool,
    /// Where recordings go.
    pub recordings_dir: Option<PathBuf>,
    /// Recordings older than this are deleted, days.
    pub recording_retention_days: u32,
    /// Twilio REST API base (tests point it at a fake).
    pub twilio_api_base: String,
    /// Plivo REST API base (tests point it at a fake).
    pub plivo_api_base: String,
    /// Key of the stream tokens (`STREAM_TOKEN_SECRET`, at least 16 bytes);
    /// unset: a random key per process (see `stream_token::StreamTokens`).
    pub stream_token_secret: Option<String>,
    /// User name Exotel must send (HTTP Basic) to `GET /exotel/stream`.
    pub exotel_webhook_user: Option<String>,
    /// Password Exotel must send (HTTP Basic) to `GET /exotel/stream`.
    pub exotel_webhook_password: Option<String>,
    /// Connection, call and frame limits of the media streams.
    pub limits: StreamLimits,
}

impl std::fmt::Debug for TelephonyConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let set = |o: &Option<String>| if o.is_some() { "set" } else { "unset" };
        f.debug_struct("TelephonyConfig")
            .field("public_url", &self.public_url)
            .field("default_provider", &self.default_provider)
            .field("twilio_account_sid", &self.twilio_account_sid)
            .field("twilio_auth_token", &set(&self.twilio_auth_token))
            .field("plivo_auth_id", &self.plivo_auth_id)
            .field("plivo_auth_token", &set(&self.plivo_auth_token))
            .field("exotel_sid", &self.exotel_sid)
            .field("exotel_api_token", &set(&self.exotel_api_token))
            .field("transfer_number", &self.transfer_number.as_deref().map(crate::observability::mask_phone))
            .field("record_calls", &self.record_calls)
            .field("stream_token_secret", &set(&self.stream_token_secret))
            .field("exotel_webhook_user", &self.exotel_webhook_user)
            .field("exotel_webhook_password", &set(&self.exotel_webhook_password))
            .field("limits", &self.limits)
            .finish_non_exhaustive()
    }
}

impl TelephonyConfig {
    /// From the process environment.
    ///
    /// # Errors
    /// An unknown `CALL_PROVIDER`, a `PUBLIC_URL` that is not http(s), a
    /// `STREAM_TOKEN_SECRET` shorter than 16 bytes, or a limit that is not a
    /// positive whole number.
    pub fn from_env() -> Result<Self, String> {
        Self::from_lookup(|k| std::env::var(k).ok())
    }

    /// From any lookup (tests pass a map).
    ///
    /// # Errors
    /// As [`TelephonyConfig::from_env`].
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Self, String> {
        let get = |k: &str| get(k).map(|v| v.trim().to_string()).filter(|v| !v.is_empty());
        let public_url = get("PUBLIC_URL").map(|u| u.trim_end_matches('/').to_string());
        if let Some(u) = &public_url {
            if !(u.starts_with("https://") || u.starts_with("http://")) {
                return Err(format!("PUBLIC_URL must start with https:// (got {u:?})"));
            }
        }
        let stream_token_secret = get("STREAM_TOKEN_SECRET");
        if stream_token_secret.as_ref().is_some_and(|s| s.len() < super::stream_token::MIN_SECRET_BYTES) {
            return Err(format!("STREAM_TOKEN_SECRET must be at least {} bytes", super::stream_token::MIN_SECRET_BYTES));
        }
        let limits = StreamLimits::from_lookup(&get)?;
        Ok(TelephonyConfig {
            public_url,
            default_provider: get("CALL_PROVIDER").map(|p| p.parse()).transpose()?,
            twilio_account_sid: get("TWILIO_ACCOUNT_SID"),
            twilio_auth_token: get("TWILIO_AUTH_TOKEN"),
            plivo_auth_id: get("PLIVO_AUTH_ID"),
            plivo_auth_token: get("PLIVO_AUTH_TOKEN"),
            exotel_sid: get("EXOTEL_SID"),
            exotel_api_key: get("EXOTEL_API_KEY"),
            exotel_api_token: get("EXOTEL_API_TOKEN"),
            transfer_number: get("TRANSFER_NUMBER"),
            record_calls: get("RECORD_CALLS").is_some_and(|v| matches!(v.to_ascii_lowercase().as_str(), "1" | "true" | "yes" | "on")),
            recordings_dir: get("RECORDINGS_DIR").map(PathBuf::from),
            recording_retention_days: get("RECORDING_RETENTION_DAYS").and_then(|v| v.parse().ok()).unwrap_or(30),
            twilio_api_base: get("TWILIO_API_BASE").unwrap_or_else(|| "https://api.twilio.com".to_string()),
            plivo_api_base: get("PLIVO_API_BASE").unwrap_or_else(|| "https://api.plivo.com".to_string()),
            stream_token_secret,
            exotel_webhook_user: get("EXOTEL_WEBHOOK_USER"),
            exotel_webhook_password: get("EXOTEL_WEBHOOK_PASSWORD"),
            limits,
        })
    }

    /// The WebSocket URL a provider streams to: `PUBLIC_URL` with `https`
    /// → `wss`, plus `/{provider}/media`. `None` without `PUBLIC_URL`.
    pub fn stream_url(&self, provider: Provider) -> Option<String> {
        self.public_ws(&format!("/{}/media", provider.as_str()))
    }

    /// The public URL of a webhook path (`/twilio/voice`), as the provider signed it.
    pub fn public(&self, path_and_query: &str) -> Option<String> {
        self.public_url.as_ref().map(|b| format!("{b}{path_and_query}"))
    }

    /// The public WebSocket URL of a path (`/twilio/media`), as the provider
    /// requested and signed it: `PUBLIC_URL` with `https` → `wss` (`http` → `ws`).
    pub fn public_ws(&self, path_and_query: &str) -> Option<String> {
        self.public(path_and_query).map(|u| match u.strip_prefix("https://") {
            Some(rest) => format!("wss://{rest}"),
            None => u.replacen("http://", "ws://", 1),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_and_secrets() {
        let env = |k: &str| match k {
            "PUBLIC_URL" => Some("https://fluxion.example.it/".to_string()),
            "TWILIO_AUTH_TOKEN" => Some("secret-token".to_string()),
            "CALL_PROVIDER" => Some("plivo".to_string()),
            _ => None,
        };
        let c = TelephonyConfig::from_lookup(env).unwrap();
        assert_eq!(c.stream_url(Provider::Twilio).unwrap(), "wss://fluxion.example.it/twilio/media");
        assert_eq!(c.public("/twilio/voice").unwrap(), "https://fluxion.example.it/twilio/voice");
        assert_eq!(c.default_provider, Some(Provider::Plivo));
        assert!(!format!("{c:?}").contains("secret-token"));
        assert!(TelephonyConfig::from_lookup(|k| (k == "CALL_PROVIDER").then(|| "skype".to_string())).is_err());
    }
}

/// What one business's calls do, once its owner's settings
/// (`store::ReceptionistSettings`) are laid over this configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallSettings {
    /// Where a caller who asks for a person is transferred (E.164).
    pub transfer_number: Option<String>,
    /// Whether the call is recorded (the caller hears a notice first).
    pub record_calls: bool,
}

impl TelephonyConfig {
    /// The settings for a call of `tenant`: each of the owner's settings
    /// when set, this configuration's value otherwise. A database error is
    /// logged and this configuration is used, so the call still goes on.
    pub async fn for_tenant(&self, tenant: &crate::store::Tenant) -> CallSettings {
        let owner = tenant.receptionist_settings().await.unwrap_or_else(|e| {
            tracing::error!(error = %e, "receptionist settings not readable: using the server's configuration");
            Default::default()
        });
        CallSettings {
            transfer_number: owner.transfer_number.or_else(|| self.transfer_number.clone()),
            record_calls: owner.record_calls.unwrap_or(self.record_calls),
        }
    }
}
