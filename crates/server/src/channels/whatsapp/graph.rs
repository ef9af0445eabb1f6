//! Sending WhatsApp messages through Meta's Graph API (Cloud API,
//! `POST {META_GRAPH_URL}/{phone-number-id}/messages` with a bearer token):
//! plain text, and text with up to three reply buttons; and downloading
//! the media a client sent (`GET {META_GRAPH_URL}/{media-id}` for its URL,
//! then that URL with the same token). 429, 5xx and
//! transport failures are retried with exponential backoff (the `backon`
//! crate); other errors are final.

use std::time::Duration;

use backon::{ExponentialBuilder, Retryable};
use serde_json::{json, Value};

use crate::secret::Secret;

/// Longest text body WhatsApp accepts, characters.
pub const MAX_TEXT_CHARS: usize = 4096;
/// Longest body of an interactive (buttons) message, characters.
pub const MAX_INTERACTIVE_CHARS: usize = 1024;
/// Longest reply-button title, characters.
pub const MAX_BUTTON_TITLE_CHARS: usize = 20;

/// Why a message could not be sent.
#[derive(Debug, thiserror::Error)]
pub enum GraphError {
    /// `META_ACCESS_TOKEN` is not set.
    #[error("META_ACCESS_TOKEN is not set: WhatsApp messages cannot be sent")]
    NotConfigured,
    /// Meta answered with an error status.
    #[error("the Graph API answered {status}: {body}")]
    Status {
        /// HTTP status.
        status: u16,
        /// Meta's error body (never holds the token).
        body: String,
    },
    /// No answer (connection, timeout) or an answer that is not Meta's.
    #[error("the Graph API could not be reached: {0}")]
    Transport(String),
}

impl GraphError {
    /// Whether trying again later may succeed (429, 5xx, transport).
    pub fn retryable(&self) -> bool {
        match self {
            GraphError::NotConfigured => false,
            GraphError::Status { status, .. } => *status == 429 || *status >= 500,
            GraphError::Transport(_) => true,
        }
    }
}

/// A reply button: the id Fluxion gets back and the title the client sees.
#[derive(Debug, Clone, Copy)]
pub struct ReplyButton<'a> {
    /// Returned in `button_reply.id`.
    pub id: &'a str,
    /// Shown on the button (at most 20 characters).
    pub title: &'a str,
}

/// A Graph API client for one deployment's access token.
#[derive(Clone)]
pub struct Graph {
    http: reqwest::Client,
    base: String,
    token: Option<Secret>,
    backoff: ExponentialBuilder,
}

impl Graph {
    /// A client for `base` (no trailing slash) with `token`; requests time
    /// out after 10 s and are tried at most 4 times.
    pub fn new(http: reqwest::Client, base: &str, token: Option<Secret>) -> Self {
        let backoff = ExponentialBuilder::default()
            .with_min_delay(Duration::from_millis(200))
            .with_max_delay(Duration::from_secs(5))
            .with_max_times(3)
            .with_jitter();
        Graph { http, base: base.trim_end_matches('/').to_string(), token, backoff }
    }

    /// The same client without its own retries: one request per call, for
    /// callers that schedule their own (the notification outbox).
    pub fn once(mut self) -> Self {
        self.backoff = self.backoff.with_max_times(0);
        self
    }

    /// Sends approved template `name` in `language` (`it`) with body
    /// parameters `params` to `to` (wa_id): the only message WhatsApp
    /// delivers outside the 24-hour customer-service window. Returns Meta's
    /// message id.
    ///
    /// # Errors
    /// [`GraphError`] after the retries.
    pub async fn send_template(
        &self,
        from_id: &str,
        to: &str,
        name: &str,
        language: &str,
        params: &[String],
    ) -> Result<String, GraphError> {
        let parameters: Vec<Value> = params.iter().map(|p| json!({ "type": "text", "text": p })).collect();
        let mut template = json!({ "name": name, "language": { "code": language } });
        if !parameters.is_empty() {
            template["components"] = json!([{ "type": "body", "parameters": parameters }]);
        }
        let body = json!({
            "messaging_product": "whatsapp",
            "recipient_type": "individual",
            "to": to,
            "type": "template",
            "template": template,
        });
        self.post_message(from_id, &body).await
    }

    /// Sends `text` to `to` (wa_id) from business number `from_id`; returns
    /// Meta's message id. Text longer than 4,096 characters is cut.
    ///
    /// # Errors
    /// [`GraphError`] after the retries.
    pub async fn send_text(&self, from_id: &str, to: &str, text: &str) -> Result<String, GraphError> {
        let body = json!({
            "messaging_product": "whatsapp",
            "recipient_type": "individual",
            "to": to,
            "type": "text",
            "text": { "preview_url": false, "body": cut(text, MAX_TEXT_CHARS) },
        });
        self.post_message(from_id, &body).await
    }

    /// Sends `text` with reply buttons (1–3); falls back to plain text when
    /// the text is too long for an interactive message.
    ///
    /// # Errors
    /// [`GraphError`] after the retries.
    pub async fn send_buttons(&self, from_id: &str, to: &str, text: &str, buttons: &[ReplyButton<'_>]) -> Result<String, GraphError> {
        if buttons.is_empty() || text.chars().count() > MAX_INTERACTIVE_CHARS {
            return self.send_text(from_id, to, text).await;
        }
        let buttons: Vec<Value> = buttons
            .iter()
            .take(3)
            .map(|b| json!({ "type": "reply", "reply": { "id": b.id, "title": cut(b.title, MAX_BUTTON_TITLE_CHARS) } }))
            .collect();
        let body = json!({
            "messaging_product": "whatsapp",
            "recipient_type": "individual",
            "to": to,
            "type": "interactive",
            "interactive": { "type": "button", "body": { "text": text }, "action": { "buttons": buttons } },
        });
        self.post_message(from_id, &body).await
    }

    /// Downloads media `media_id` (a voice note): its URL and MIME type from
    /// `GET /{media-id}`, then the bytes from that URL, both with the bearer
    /// token. Returns the bytes and the MIME type.
    ///
    /// # Errors
    /// [`GraphError::Status`] 400 for an id that is not a Graph id and 413
    /// for a file larger than `max_bytes` (nothing more is read); otherwise as
    /// the other calls, after the retries.
    pub async fn download_media(&self, media_id: &str, max_bytes: usize) -> Result<(Vec<u8>, String), GraphError> {
        let token = self.token.as_ref().ok_or(GraphError::NotConfigured)?;
        if media_id.is_empty() || media_id.len() > 64 || !media_id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'.') {
            return Err(GraphError::Status { status: 400, body: "not a media id".into() });
        }
        let url = &format!("{}/{media_id}", self.base);
        let http = &self.http;
        let lookup = || json_answer(http.get(url).bearer_auth(token.expose()).timeout(Duration::from_secs(10)));
        let meta = lookup.retry(self.backoff).when(GraphError::retryable).await?;
        let media_url = meta["url"].as_str().ok_or_else(|| GraphError::Transport("no url in the media answer".into()))?;
        let mime = meta["mime_type"].as_str().unwrap_or("").to_string();
        if meta["file_size"].as_u64().is_some_and(|n| n > max_bytes as u64) {
            return Err(GraphError::Status { status: 413, body: format!("media larger than {max_bytes} bytes") });
        }
        let fetch = || async move {
            let mut r = http.get(media_url).bearer_auth(token.expose()).timeout(Duration::from_secs(30)).send().await.map_err(transport)?;
            let status = r.status().as_u16();
            if !(200..300).contains(&status) {
                return Err(GraphError::Status { status, body: String::new() });
            }
            let mut bytes = Vec::new();
            while let Some(chunk) = r.chunk().await.map_err(transport)? {
                if bytes.len() + chunk.len() > max_bytes {
                    return Err(GraphError::Status { status: 413, body: format!("media larger than {max_bytes} bytes") });
                }
                bytes.extend_from_slice(&chunk);
            }
            Ok(bytes)
        };
        let bytes = fetch.retry(self.backoff).when(GraphError::retryable).await?;
        Ok((bytes, mime))
    }

    async fn post_message(&self, from_id: &str, body: &Value) -> Result<String, GraphError> {
        let token = self.token.as_ref().ok_or(GraphError::NotConfigured)?;
        let url = &format!("{}/{}/messages", self.base, from_id);
        let http = &self.http;
        let attempt = || async move {
            let v = json_answer(http.post(url).bearer_auth(token.expose()).timeout(Duration::from_secs(10)).json(body)).await?;
            v["messages"][0]["id"]
                .as_str()
                .map(str::to_string)
                .ok_or_else(|| GraphError::Transport("no messages[0].id in the answer".into()))
        };
        attempt.retry(self.backoff).when(GraphError::retryable).await
    }
}

/// Sends `request` and reads Meta's JSON answer: a non-2xx status is
/// [`GraphError::Status`] with the body (cut to 500 characters), no answer or
/// one that is not JSON is [`GraphError::Transport`].
async fn json_answer(request: reqwest::RequestBuilder) -> Result<Value, GraphError> {
    let r = request.send().await.map_err(transport)?;
    let status = r.status().as_u16();
    let text = r.text().await.map_err(transport)?;
    if !(200..300).contains(&status) {
        return Err(GraphError::Status { status, body: cut(&text, 500) });
    }
    serde_json::from_str(&text).map_err(|e| GraphError::Transport(format!("not JSON: {e}")))
}

/// A transport failure, without the URL (it may carry a signed media link).
fn transport(e: reqwest::Error) -> GraphError {
    GraphError::Transport(e.without_url().to_string())
}

/// `s` cut to at most `max` characters.
fn cut(s: &str, max: usize) -> String {
    s.chars().take(max).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retryable_errors() {
        assert!(GraphError::Status { status: 429, body: String::new() }.retryable());
        assert!(GraphError::Status { status: 503, body: String::new() }.retryable());
        assert!(!GraphError::Status { status: 400, body: String::new() }.retryable());
        assert!(!GraphError::NotConfigured.retryable());
        assert_eq!(cut("àèìòù", 3), "àèì");
    }
}
