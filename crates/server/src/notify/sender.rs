//! The one port every notification leaves through: [`Sender::send`] takes a
//! rendered message and a channel and hands it to that channel's backend —
//! WhatsApp through the Graph API (text inside the 24-hour window, the
//! approved template outside it), SMS through Twilio's or Plivo's Messaging
//! API, e-mail through SMTP ([`super::email`]). Each backend makes one
//! attempt; retries, backoff and giving up live once, in the worker.

use std::collections::HashMap;
use std::time::Duration;

use crate::channels::whatsapp::{Graph, GraphError, WhatsappConfig};
use crate::secret::Secret;
use crate::store::{NoticeKind, NotifyChannel};

use super::config::{NotifyConfig, SmsConfig};
use super::email::Email;
use super::render::Outgoing;

/// Time a provider has to answer one request.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(15);

/// Why a message was not sent.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct SendError {
    /// What happened (never holds a secret).
    pub message: String,
    /// Whether trying again later may succeed (429, 5xx, time-outs, connection failures).
    pub retryable: bool,
}

impl SendError {
    /// A failure worth retrying.
    pub fn transient(message: impl Into<String>) -> Self {
        SendError { message: message.into(), retryable: true }
    }

    /// A failure that will not go away by itself.
    pub fn permanent(message: impl Into<String>) -> Self {
        SendError { message: message.into(), retryable: false }
    }

    /// From an HTTP status and body: 429 and 5xx are retryable.
    pub fn from_status(provider: &str, status: u16, body: &str) -> Self {
        let body: String = body.chars().take(300).collect();
        SendError { message: format!("{provider} answered {status}: {body}"), retryable: status == 429 || status >= 500 }
    }

    /// From a transport error (time-out, refused connection): retryable.
    pub fn from_transport(provider: &str, e: &reqwest::Error) -> Self {
        let what = if e.is_timeout() { "timed out" } else { "could not be reached" };
        SendError::transient(format!("{provider} {what}: {}", e_text(e)))
    }
}

fn e_text(e: &reqwest::Error) -> String {
    let mut s = String::new();
    let mut src: Option<&dyn std::error::Error> = Some(e);
    while let Some(err) = src {
        if !s.is_empty() {
            s.push_str(": ");
        }
        s.push_str(&err.to_string());
        src = err.source();
    }
    s.replace(e.url().map(|u| u.as_str()).unwrap_or("\u{0}"), "<url>")
}

impl From<GraphError> for SendError {
    fn from(e: GraphError) -> Self {
        SendError { retryable: e.retryable(), message: e.to_string() }
    }
}

/// What the sender needs to know about the recipient beyond the message.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Context<'a> {
    /// The client wrote on WhatsApp in the last 24 hours (free text allowed).
    pub whatsapp_window_open: bool,
    /// The business's WhatsApp phone-number id, when it has its own.
    pub whatsapp_number_id: Option<&'a str>,
}

/// WhatsApp through the Graph API.
struct WhatsappBackend {
    graph: Graph,
    number_id: Option<String>,
    templates: HashMap<NoticeKind, String>,
    language: String,
}

/// The SMS provider.
enum SmsBackend {
    Twilio { base: String, sid: String, token: Secret, from: String },
    Plivo { base: String, auth_id: String, token: Secret, from: String },
}

/// Every configured channel.
pub struct Sender {
    http: reqwest::Client,
    whatsapp: Option<WhatsappBackend>,
    sms: Option<SmsBackend>,
    email: Option<Email>,
    webhooks: HashMap<String, Secret>,
}

impl Sender {
    /// The backends `config` and `whatsapp` configure (WhatsApp needs
    /// `META_ACCESS_TOKEN`).
    ///
    /// # Errors
    /// The SMTP settings cannot make a transport.
    pub fn new(config: &NotifyConfig, whatsapp: &WhatsappConfig) -> Result<Self, String> {
        let http = reqwest::Client::builder().timeout(REQUEST_TIMEOUT).build().map_err(|e| format!("HTTP client: {e}"))?;
        let wa = whatsapp.access_token.as_ref().map(|token| WhatsappBackend {
            graph: Graph::new(http.clone(), &whatsapp.graph_url, Some(token.clone())).once(),
            number_id: whatsapp.phone_number_id.clone(),
            templates: config.templates.clone(),
            language: config.template_language.clone(),
        });
        let sms = config.sms.clone().map(|s| match s {
            SmsConfig::Twilio { base, sid, token, from } => SmsBackend::Twilio { base, sid, token, from },
            SmsConfig::Plivo { base, auth_id, token, from } => SmsBackend::Plivo { base, auth_id, token, from },
        });
        let email = config.smtp.as_ref().map(Email::new).transpose()?;
        let webhooks = config.webhooks.iter().cloned().collect();
        Ok(Sender { http, whatsapp: wa, sms, email, webhooks })
    }

    /// The webhook endpoints.
    pub fn webhook_urls(&self) -> Vec<String> {
        let mut urls: Vec<String> = self.webhooks.keys().cloned().collect();
        urls.sort();
        urls
    }

    /// The channels that can send, in `order`.
    pub fn available(&self, order: &[NotifyChannel]) -> Vec<NotifyChannel> {
        order.iter().copied().filter(|c| self.has(*c)).collect()
    }

    /// Whether `channel` is configured.
    pub fn has(&self, channel: NotifyChannel) -> bool {
        match channel {
            NotifyChannel::Whatsapp => self.whatsapp.is_some(),
            NotifyChannel::Sms => self.sms.is_some(),
            NotifyChannel::Email => self.email.is_some(),
            NotifyChannel::Webhook => !self.webhooks.is_empty(),
        }
    }

    /// Sends `out` on `channel` (one attempt); returns the provider's id of
    /// the message.
    ///
    /// # Errors
    /// [`SendError`], retryable or not.
    pub async fn send(&self, channel: NotifyChannel, out: &Outgoing, ctx: Context<'_>) -> Result<String, SendError> {
        match channel {
            NotifyChannel::Whatsapp => self.send_whatsapp(out, ctx).await,
            NotifyChannel::Sms => self.send_sms(out).await,
            NotifyChannel::Email => match &self.email {
                Some(email) => email.send(out).await,
                None => Err(SendError::permanent("e-mail is not configured (SMTP_HOST)")),
            },
            NotifyChannel::Webhook => {
                let secret = self
                    .webhooks
                    .get(&out.recipient)
                    .ok_or_else(|| SendError::permanent("no secret for this webhook endpoint (WEBHOOK_URL, WEBHOOK_SECRET)"))?;
                let payload = out.event.as_ref().ok_or_else(|| SendError::permanent("a webhook row without an event"))?;
                super::webhook::post(&self.http, secret, out, payload, jiff::Timestamp::now()).await
            }
        }
    }

    async fn send_whatsapp(&self, out: &Outgoing, ctx: Context<'_>) -> Result<String, SendError> {
        let wa = self.whatsapp.as_ref().ok_or_else(|| SendError::permanent("WhatsApp is not configured (META_ACCESS_TOKEN)"))?;
        let from = ctx
            .whatsapp_number_id
            .or(wa.number_id.as_deref())
            .ok_or_else(|| SendError::permanent("no WhatsApp phone-number id (PHONE_NUMBER_ID)"))?;
        let to: String = out.recipient.chars().filter(char::is_ascii_digit).collect();
        if ctx.whatsapp_window_open {
            return Ok(wa.graph.send_text(from, &to, &out.text).await?);
        }
        let name = wa
            .templates
            .get(&out.template.kind)
            .ok_or_else(|| SendError::permanent(format!("no WhatsApp template for {}", out.template.kind.as_str())))?;
        Ok(wa.graph.send_template(from, &to, name, &wa.language, &out.template.params).await?)
    }

    async fn send_sms(&self, out: &Outgoing) -> Result<String, SendError> {
        match self.sms.as_ref().ok_or_else(|| SendError::permanent("SMS is not configured (TWILIO_* or PLIVO_*)"))? {
            SmsBackend::Twilio { base, sid, token, from } => {
                // Twilio Messaging API: POST /2010-04-01/Accounts/{AccountSid}/Messages.json, form-encoded, basic auth.
                let url = format!("{base}/2010-04-01/Accounts/{sid}/Messages.json");
                let form = [("To", out.recipient.as_str()), ("From", from.as_str()), ("Body", out.text.as_str())];
                let r = self
                    .http
                    .post(&url)
                    .basic_auth(sid, Some(token.expose()))
                    .form(&form)
                    .send()
                    .await
                    .map_err(|e| SendError::from_transport("Twilio", &e))?;
                let status = r.status().as_u16();
                let body = r.text().await.map_err(|e| SendError::from_transport("Twilio", &e))?;
                if !(200..300).contains(&status) {
                    return Err(SendError::from_status("Twilio", status, &body));
                }
                let v: serde_json::Value =
                    serde_json::from_str(&body).map_err(|e| SendError::transient(format!("Twilio: not JSON: {e}")))?;
                v["sid"].as_str().map(str::to_string).ok_or_else(|| SendError::transient("Twilio: no sid in the answer"))
            }
            SmsBackend::Plivo { base, auth_id, token, from } => {
                // Plivo Message API: POST /v1/Account/{auth_id}/Message/, JSON {src, dst, text}, basic auth.
                let url = format!("{base}/v1/Account/{auth_id}/Message/");
                let body = serde_json::json!({ "src": from, "dst": out.recipient.trim_start_matches('+'), "text": out.text });
                let r = self
                    .http
                    .post(&url)
                    .basic_auth(auth_id, Some(token.expose()))
                    .json(&body)
                    .send()
                    .await
                    .map_err(|e| SendError::from_transport("Plivo", &e))?;
                let status = r.status().as_u16();
                let text = r.text().await.map_err(|e| SendError::from_transport("Plivo", &e))?;
                if !(200..300).contains(&status) {
                    return Err(SendError::from_status("Plivo", status, &text));
                }
                let v: serde_json::Value =
                    serde_json::from_str(&text).map_err(|e| SendError::transient(format!("Plivo: not JSON: {e}")))?;
                v["message_uuid"][0]
                    .as_str()
                    .map(str::to_string)
                    .ok_or_else(|| SendError::transient("Plivo: no message_uuid in the answer"))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_that_are_worth_a_retry() {
        assert!(SendError::from_status("Twilio", 429, "").retryable);
        assert!(SendError::from_status("Twilio", 503, "").retryable);
        assert!(!SendError::from_status("Twilio", 400, "bad number").retryable);
        assert!(SendError::from(GraphError::Status { status: 429, body: String::new() }).retryable);
    }
}
