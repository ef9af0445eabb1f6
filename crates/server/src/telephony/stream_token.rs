//! Stream tokens: the proof a media stream must carry that it belongs to a
//! call whose webhook Fluxion accepted.
//!
//! The webhook answer (TwiML `<Parameter name="token">`, Plivo
//! `extraHeaders`, the Exotel stream URL's `?token=`) carries a token that
//! binds the provider, the call id, the caller and the called number (as the
//! signed webhook gave them) to an expiry. The media handler checks it before
//! any audio is processed and takes the caller's number from it, never from
//! the stream's own parameters.
//!
//! Shape: seven fields joined by `.`, each base64url without padding except
//! the provider and the expiry:
//! `<provider>.<expires unix s>.<nonce 16 B>.<call id>.<caller>.<called>.<mac>`,
//! where `mac` is HMAC-SHA256, keyed with the server secret, over everything
//! before the last `.`. Tokens are single-use: the nonce of a token that
//! opened a stream is remembered until the token expires, so a replay is
//! refused. The remembered nonces live in this process: several instances
//! share the secret (`STREAM_TOKEN_SECRET`) so any of them accepts a token,
//! but a replay to *another* instance inside the token's lifetime (120 s by
//! default) is not detected; deployments with several instances should
//! route a provider's streams to one instance or accept that window.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{SystemTime, UNIX_EPOCH};

use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64URL;
use base64::Engine as _;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use subtle::ConstantTimeEq;
use thiserror::Error;

use super::Provider;

/// Default token lifetime, ms.
pub const DEFAULT_TTL_MS: u64 = 120_000;
/// Shortest secret accepted from `STREAM_TOKEN_SECRET`, bytes.
pub const MIN_SECRET_BYTES: usize = 16;

/// What a token proves: the call it was issued for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claims {
    /// The provider whose webhook was answered.
    pub provider: Provider,
    /// The provider's call id (Twilio CallSid, Plivo CallUUID, Exotel CallSid).
    pub call_sid: String,
    /// The caller's number as the signed webhook gave it (`None` when withheld).
    pub caller: Option<String>,
    /// The called number as the signed webhook gave it.
    pub called: Option<String>,
    /// When the token stops opening streams, Unix seconds.
    pub expires_unix: u64,
}

/// Why a stream's proof was refused (the metric label is [`TokenError::as_str`]).
#[derive(Debug, Error, Clone, Copy, PartialEq, Eq)]
pub enum TokenError {
    /// No token with the stream.
    #[error("no stream token")]
    Missing,
    /// Not a token of ours (wrong shape or encoding).
    #[error("malformed stream token")]
    Malformed,
    /// The MAC does not match: forged, altered, or another server's secret.
    #[error("bad stream token signature")]
    BadSignature,
    /// Issued for another provider's stream.
    #[error("stream token issued for another provider")]
    WrongProvider,
    /// Issued for another call than the one the stream announces.
    #[error("stream token issued for another call")]
    WrongCall,
    /// Past its expiry.
    #[error("stream token expired")]
    Expired,
    /// Already used to open a stream.
    #[error("stream token already used")]
    Replayed,
}

impl TokenError {
    /// Short name for logs and metric labels.
    pub fn as_str(self) -> &'static str {
        match self {
            TokenError::Missing => "missing",
            TokenError::Malformed => "malformed",
            TokenError::BadSignature => "bad_signature",
            TokenError::WrongProvider => "wrong_provider",
            TokenError::WrongCall => "wrong_call",
            TokenError::Expired => "expired",
            TokenError::Replayed => "replayed",
        }
    }
}

/// Issues and checks stream tokens with one secret.
///
/// The secret is `STREAM_TOKEN_SECRET` when configured (required when
/// several instances serve the same provider account); otherwise 32 random
/// bytes drawn when the process starts and kept in memory only, so a restart
/// invalidates tokens not yet used (a call answered in the seconds before
/// the restart fails to connect) and nothing secret is written to disk.
pub struct StreamTokens {
    secret: Vec<u8>,
    ttl_ms: u64,
    /// Nonces of tokens already used → their expiry, Unix seconds.
    used: Mutex<HashMap<[u8; 16], u64>>,
}

impl std::fmt::Debug for StreamTokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StreamTokens").field("ttl_ms", &self.ttl_ms).finish_non_exhaustive()
    }
}

impl StreamTokens {
    /// Tokens keyed with `secret` (any length; see [`MIN_SECRET_BYTES`] for
    /// configured ones) living `ttl_ms`.
    pub fn new(secret: &[u8], ttl_ms: u64) -> Self {
        StreamTokens { secret: secret.to_vec(), ttl_ms, used: Mutex::new(HashMap::new()) }
    }

    /// Tokens keyed with 32 fresh random bytes (this process only).
    ///
    /// # Errors
    /// The operating system's random source failed.
    pub fn random(ttl_ms: u64) -> Result<Self, getrandom::Error> {
        let mut secret = [0u8; 32];
        getrandom::getrandom(&mut secret)?;
        Ok(Self::new(&secret, ttl_ms))
    }

    /// A token for the call, valid for the configured lifetime from now.
    pub fn issue(&self, provider: Provider, call_sid: &str, caller: Option<&str>, called: Option<&str>) -> String {
        let expires = now_unix().saturating_add(self.ttl_ms.div_ceil(1000));
        let mut nonce = [0u8; 16];
        if getrandom::getrandom(&mut nonce).is_err() {
            // Uniqueness is what matters here (the MAC carries the secrecy):
            // fall back to the clock's nanoseconds.
            let nanos = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_nanos());
            nonce = nanos.to_le_bytes();
        }
        self.issue_with(provider, call_sid, caller, called, expires, nonce)
    }

    /// A token with an explicit expiry (Unix seconds) and nonce; tests use it
    /// for expired tokens.
    pub fn issue_with(
        &self,
        provider: Provider,
        call_sid: &str,
        caller: Option<&str>,
        called: Option<&str>,
        expires_unix: u64,
        nonce: [u8; 16],
    ) -> String {
        let body = format!(
            "{}.{expires_unix}.{}.{}.{}.{}",
            provider.as_str(),
            B64URL.encode(nonce),
            B64URL.encode(call_sid),
            B64URL.encode(caller.unwrap_or_default()),
            B64URL.encode(called.unwrap_or_default())
        );
        let mac = B64URL.encode(self.mac(&body));
        format!("{body}.{mac}")
    }

    /// Checks `token` for a stream of `provider` announcing `call_sid` (empty:
    /// not announced), and consumes it: the same token never opens a second
    /// stream.
    ///
    /// # Errors
    /// [`TokenError`]: missing, malformed, forged, for another provider or
    /// call, expired, or already used.
    pub fn redeem(&self, token: Option<&str>, provider: Provider, call_sid: &str) -> Result<Claims, TokenError> {
        self.redeem_at(token, provider, call_sid, now_unix())
    }

    /// [`StreamTokens::redeem`] at `now_unix` (Unix seconds).
    ///
    /// # Errors
    /// As [`StreamTokens::redeem`].
    pub fn redeem_at(&self, token: Option<&str>, provider: Provider, call_sid: &str, now_unix: u64) -> Result<Claims, TokenError> {
        let token = token.map(str::trim).filter(|t| !t.is_empty()).ok_or(TokenError::Missing)?;
        let (body, mac) = token.rsplit_once('.').ok_or(TokenError::Malformed)?;
        let mac = B64URL.decode(mac).map_err(|_| TokenError::Malformed)?;
        if !bool::from(self.mac(body).as_slice().ct_eq(&mac)) {
            return Err(TokenError::BadSignature);
        }
        let fields: Vec<&str> = body.split('.').collect();
        let [issued_for, expires, nonce, sid, caller, called] = fields.as_slice() else { return Err(TokenError::Malformed) };
        let issued_for: Provider = issued_for.parse().map_err(|_| TokenError::Malformed)?;
        let expires_unix: u64 = expires.parse().map_err(|_| TokenError::Malformed)?;
        let nonce: [u8; 16] = B64URL.decode(nonce).ok().and_then(|n| n.try_into().ok()).ok_or(TokenError::Malformed)?;
        let text = |field: &str| -> Result<Option<String>, TokenError> {
            let bytes = B64URL.decode(field).map_err(|_| TokenError::Malformed)?;
            let s = String::from_utf8(bytes).map_err(|_| TokenError::Malformed)?;
            Ok((!s.is_empty()).then_some(s))
        };
        let claims = Claims {
            provider: issued_for,
            call_sid: text(sid)?.unwrap_or_default(),
            caller: text(caller)?,
            called: text(called)?,
            expires_unix,
        };
        if claims.provider != provider {
            return Err(TokenError::WrongProvider);
        }
        if !call_sid.is_empty() && claims.call_sid != call_sid {
            return Err(TokenError::WrongCall);
        }
        if now_unix >= expires_unix {
            return Err(TokenError::Expired);
        }
        let mut used = self.used.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        used.retain(|_, expiry| *expiry > now_unix);
        if used.insert(nonce, expires_unix).is_some() {
            return Err(TokenError::Replayed);
        }
        Ok(claims)
    }

    fn mac(&self, body: &str) -> Vec<u8> {
        match <Hmac<Sha256> as Mac>::new_from_slice(&self.secret) {
            Ok(mut mac) => {
                mac.update(body.as_bytes());
                mac.finalize().into_bytes().to_vec()
            }
            // HMAC accepts keys of any length; an empty MAC never matches a real one.
            Err(_) => Vec::new(),
        }
    }
}

fn now_unix() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tokens() -> StreamTokens {
        StreamTokens::new(b"a secret of at least sixteen bytes", DEFAULT_TTL_MS)
    }

    #[test]
    fn round_trip_binds_the_call() {
        let t = tokens();
        let token = t.issue(Provider::Twilio, "CA1", Some("+393331234567"), Some("+390212345678"));
        let claims = t.redeem(Some(&token), Provider::Twilio, "CA1").expect("valid");
        assert_eq!(claims.call_sid, "CA1");
        assert_eq!(claims.caller.as_deref(), Some("+393331234567"));
        assert_eq!(claims.called.as_deref(), Some("+390212345678"));
        assert!(token.chars().all(|c| c.is_ascii_alphanumeric() || "._-".contains(c)), "{token}");
    }

    #[test]
    fn single_use() {
        let t = tokens();
        let token = t.issue(Provider::Plivo, "uuid", None, None);
        assert!(t.redeem(Some(&token), Provider::Plivo, "uuid").is_ok());
        assert_eq!(t.redeem(Some(&token), Provider::Plivo, "uuid"), Err(TokenError::Replayed));
    }

    #[test]
    fn refusals() {
        let t = tokens();
        let token = t.issue(Provider::Twilio, "CA1", Some("+393331234567"), None);
        assert_eq!(t.redeem(None, Provider::Twilio, "CA1"), Err(TokenError::Missing));
        assert_eq!(t.redeem(Some("garbage"), Provider::Twilio, "CA1"), Err(TokenError::Malformed));
        assert_eq!(t.redeem(Some(&token), Provider::Exotel, "CA1"), Err(TokenError::WrongProvider));
        assert_eq!(t.redeem(Some(&token), Provider::Twilio, "CA2"), Err(TokenError::WrongCall));
        let other = StreamTokens::new(b"another secret, also long enough", DEFAULT_TTL_MS);
        assert_eq!(other.redeem(Some(&token), Provider::Twilio, "CA1"), Err(TokenError::BadSignature));
        // Changing the caller inside the token breaks the MAC.
        let fields: Vec<&str> = token.split('.').collect();
        let forged_caller = B64URL.encode("+390000000000");
        let forged = [&fields[..4], &[forged_caller.as_str()], &fields[5..]].concat().join(".");
        assert_eq!(t.redeem(Some(&forged), Provider::Twilio, "CA1"), Err(TokenError::BadSignature));
        let expired = t.issue_with(Provider::Twilio, "CA1", None, None, 1_000, [7; 16]);
        assert_eq!(t.redeem_at(Some(&expired), Provider::Twilio, "CA1", 1_000), Err(TokenError::Expired));
        assert!(t.redeem_at(Some(&expired), Provider::Twilio, "", 999).is_ok(), "an unannounced call id is taken from the token");
    }
}
