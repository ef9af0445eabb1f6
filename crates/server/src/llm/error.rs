//! The errors of an LLM call, each saying whether trying again later may help.

use std::time::Duration;

/// Why an LLM call failed.
///
/// [`LlmError::retryable`] tells the caller whether the same call may succeed
/// later; the client has already spent its own retries (within the deadline)
/// before returning any of these.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum LlmError {
    /// The overall deadline ([`LlmConfig::timeout`](super::LlmConfig::timeout),
    /// default 2 s) passed: while connecting, waiting for the first byte or
    /// mid-stream.
    #[error("LLM call exceeded its deadline")]
    Timeout,
    /// A rate limit was hit. `local: true` means the client's own quota
    /// (requests or tokens per minute) is exhausted and no request was sent;
    /// `local: false` means the provider answered HTTP 429. `retry_after` is
    /// when the quota allows the call again, when known.
    #[error("LLM rate limited ({}), retry after {retry_after:?}", if *local { "local quota" } else { "by the provider" })]
    RateLimited {
        /// True when refused by the client-side limiter, without any request.
        local: bool,
        /// How long until the call may be allowed (from `Retry-After` or the limiter).
        retry_after: Option<Duration>,
    },
    /// The provider answered with an HTTP error status other than 429.
    #[error("LLM provider answered HTTP {status}: {body}")]
    Http {
        /// The HTTP status code.
        status: u16,
        /// The response body, truncated to 500 characters.
        body: String,
    },
    /// The response did not follow the chat-completions streaming format
    /// (a chunk that is not JSON, an error event in the stream, a tool call
    /// without a name).
    #[error("malformed LLM response: {0}")]
    Malformed(String),
    /// The connection failed or broke (DNS, refused, reset, stream cut short).
    #[error("LLM transport error: {0}")]
    Transport(String),
    /// The circuit breaker is open after repeated failures: no request was sent.
    #[error("LLM circuit breaker open: provider failing, call not attempted")]
    CircuitOpen,
    /// The configuration cannot work (bad base URL, HTTP client setup).
    #[error("invalid LLM configuration: {0}")]
    Config(String),
}

impl LlmError {
    /// Whether the same call may succeed if tried again later: true for
    /// timeouts, rate limits, HTTP 408/429/5xx, transport errors and an open
    /// circuit; false for other 4xx, malformed responses and bad configuration.
    pub fn retryable(&self) -> bool {
        match self {
            LlmError::Timeout | LlmError::RateLimited { .. } | LlmError::Transport(_) | LlmError::CircuitOpen => true,
            LlmError::Http { status, .. } => *status == 408 || *status == 429 || *status >= 500,
            LlmError::Malformed(_) | LlmError::Config(_) => false,
        }
    }

    /// Whether this failure counts towards opening the circuit breaker:
    /// timeouts, 5xx, transport errors and malformed responses. Rate limits
    /// and other 4xx mean the provider is up and answering.
    pub(crate) fn trips_breaker(&self) -> bool {
        match self {
            LlmError::Timeout | LlmError::Transport(_) | LlmError::Malformed(_) => true,
            LlmError::Http { status, .. } => *status >= 500,
            LlmError::RateLimited { .. } | LlmError::CircuitOpen | LlmError::Config(_) => false,
        }
    }
}

/// Cuts `s` to at most `max` characters (not bytes), on a character boundary.
pub(crate) fn truncate_chars(s: &str, max: usize) -> String {
    match s.char_indices().nth(max) {
        Some((at, _)) => s[..at].to_string(),
        None => s.to_string(),
    }
}

/// Formats an error with its chain of sources (`a: b: c`), which is where
/// reqwest/hyper keep the useful part ("connection refused").
pub(crate) fn with_sources(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut cur = e.source();
    while let Some(s) = cur {
        let text = s.to_string();
        if !out.contains(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
        cur = s.source();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retryable_and_breaker_classification() {
        assert!(LlmError::Timeout.retryable());
        assert!(LlmError::Http { status: 503, body: String::new() }.retryable());
        assert!(!LlmError::Http { status: 400, body: String::new() }.retryable());
        assert!(!LlmError::Malformed("x".into()).retryable());
        assert!(LlmError::Malformed("x".into()).trips_breaker());
        assert!(!LlmError::RateLimited { local: false, retry_after: None }.trips_breaker());
        assert!(!LlmError::Http { status: 401, body: String::new() }.trips_breaker());
    }

    #[test]
    fn truncates_on_char_boundary() {
        assert_eq!(truncate_chars("perché sì", 6), "perché");
        assert_eq!(truncate_chars("ok", 500), "ok");
    }
}
