//! WhatsApp Business through Meta's Cloud API: the webhook Meta calls
//! (`GET` verification, `POST` deliveries signed with `X-Hub-Signature-256`)
//! and the conversation it drives — each client's messages go through the
//! same dialogue and booking engine as a phone call, one conversation per
//! sender, resumed across messages within `WHATSAPP_SESSION_IDLE_MINUTES`.
//!
//! `POST` answers 200 as soon as the signature and JSON are checked and
//! handles the messages on a task of its own (Meta expects a fast answer and
//! retries otherwise); retries are recognised by message id and ignored.
//! Routes: `/webhooks/whatsapp` and seed 004's `/webhook`. Voice notes are
//! heard with the deployment's speech-to-text engine ([`voice_note`]) and
//! answered like written messages.

mod config;
mod conversation;
mod graph;
pub mod ogg_opus;
mod payload;
mod signature;
pub mod voice_note;

use std::collections::HashMap;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use fluxion_core::speech::SpeechToText;
use subtle::ConstantTimeEq;

pub use config::{WhatsappConfig, DEFAULT_GRAPH_URL};
pub use graph::{Graph, GraphError, ReplyButton};
pub use payload::Delivery;
pub use signature::{sign, verify, SignatureError};

use crate::app::AppState;
use crate::secret::Secret;
use crate::store::NumberKind;

/// Largest webhook body accepted, bytes (Meta batches up to a few hundred
/// KB).
pub const MAX_WEBHOOK_BYTES: usize = 1024 * 1024;

/// Everything the WhatsApp endpoints share.
pub struct WhatsApp {
    /// The receptionist and its store.
    pub app: Arc<AppState>,
    /// Settings.
    pub config: WhatsappConfig,
    /// The Graph API client that sends replies.
    pub graph: Graph,
    /// The speech-to-text engine voice notes go through; `None`: voice
    /// notes are answered with a request to write.
    pub voice_notes: Option<voice_note::VoiceNotes>,
}

impl WhatsApp {
    /// The channel over `app` with `config`.
    pub fn new(app: Arc<AppState>, config: WhatsappConfig) -> Arc<Self> {
        Self::with_speech(app, config, None)
    }

    /// The channel over `app` with `config`, hearing voice notes with `stt`.
    pub fn with_speech(app: Arc<AppState>, config: WhatsappConfig, stt: Option<Arc<dyn SpeechToText>>) -> Arc<Self> {
        let graph = Graph::new(reqwest::Client::new(), &config.graph_url, config.access_token.clone());
        Arc::new(WhatsApp { app, config, graph, voice_notes: stt.map(|stt| voice_note::VoiceNotes { stt }) })
    }

    /// The Graph API client for replies of `tenant`: with the access token
    /// its owner stored in the console when there is one, the server's
    /// (`META_ACCESS_TOKEN`) otherwise.
    pub async fn graph_for(&self, tenant: &crate::store::Tenant) -> Graph {
        match tenant.integrations().await {
            Ok(i) => match i.whatsapp.access_token {
                Some(token) => Graph::new(reqwest::Client::new(), &self.config.graph_url, Some(token)),
                None => self.graph.clone(),
            },
            Err(e) => {
                tracing::error!(error = %e, "integrations not readable: replying with META_ACCESS_TOKEN");
                self.graph.clone()
            }
        }
    }

    /// The channel configured from the environment.
    ///
    /// # Errors
    /// See [`WhatsappConfig::from_lookup`].
    pub fn from_env(app: Arc<AppState>, stt: Option<Arc<dyn SpeechToText>>) -> anyhow::Result<Arc<Self>> {
        let config = WhatsappConfig::from_env().map_err(anyhow::Error::msg)?;
        if config.app_secret.is_none() {
            tracing::info!("META_APP_SECRET not set: WhatsApp webhook deliveries will be refused");
        }
        if stt.is_none() {
            tracing::info!("no speech-to-text engine: WhatsApp voice notes are answered with a request to write");
        }
        Ok(Self::with_speech(app, config, stt))
    }
}

/// The WhatsApp routes.
pub fn router(wa: Arc<WhatsApp>) -> Router {
    Router::new()
        .route("/webhooks/whatsapp", get(verify_webhook).post(receive))
        .route("/webhook", get(verify_webhook).post(receive))
        .layer(DefaultBodyLimit::max(MAX_WEBHOOK_BYTES))
        .with_state(wa)
}

fn plain(status: StatusCode, text: impl Into<String>) -> Response {
    (status, [(header::CONTENT_TYPE, "text/plain; charset=utf-8")], text.into()).into_response()
}

/// `GET /webhooks/whatsapp?hub.mode=subscribe&hub.verify_token=…&hub.challenge=…`:
/// Meta's subscription check. Answers the challenge as plain text when the
/// token matches `META_VERIFY_TOKEN` or a verify token a business's owner
/// stored in the console (the check does not say which business it is
/// for); 403 otherwise (also when no token is configured anywhere).
pub async fn verify_webhook(State(wa): State<Arc<WhatsApp>>, Query(q): Query<HashMap<String, String>>) -> Response {
    let mut expected: Vec<Secret> = wa.config.verify_token.iter().cloned().collect();
    match wa.app.store.whatsapp_verify_tokens().await {
        Ok(own) => expected.extend(own),
        Err(e) => tracing::error!(error = %e, "businesses' WhatsApp verify tokens not readable"),
    }
    if expected.is_empty() {
        tracing::warn!("WhatsApp webhook verification refused: META_VERIFY_TOKEN is not set");
        return plain(StatusCode::FORBIDDEN, "verification refused");
    }
    let mode_ok = q.get("hub.mode").map(String::as_str) == Some("subscribe");
    let token_ok = q
        .get("hub.verify_token")
        .is_some_and(|t| expected.iter().any(|e| t.len() == e.expose().len() && bool::from(t.as_bytes().ct_eq(e.expose().as_bytes()))));
    match q.get("hub.challenge") {
        Some(challenge) if mode_ok && token_ok => plain(StatusCode::OK, challenge.clone()),
        _ => {
            tracing::warn!(mode_ok, token_ok, "WhatsApp webhook verification refused");
            plain(StatusCode::FORBIDDEN, "verification refused")
        }
    }
}

/// The app secret that signs a delivery: the one stored by the owner of
/// the business the delivery's phone-number id routes to, when there is
/// one, otherwise `META_APP_SECRET`. The number is read from the body before
/// the signature is checked only to choose the key; nothing else of the
/// body is used until the signature holds.
async fn app_secret(wa: &WhatsApp, body: &[u8]) -> Option<Secret> {
    let number_id = serde_json::from_slice::<Delivery>(body)
        .ok()
        .and_then(|d| d.entry.iter().flat_map(|e| &e.changes).find_map(|c| c.value.metadata.as_ref().map(|m| m.phone_number_id.clone())));
    if let Some(id) = number_id.as_deref() {
        match wa.app.tenant_for(NumberKind::Whatsapp, Some(id)).await {
            Ok(Some(tenant)) => match tenant.integrations().await {
                Ok(i) if i.whatsapp.app_secret.is_some() => return i.whatsapp.app_secret,
                Ok(_) => {}
                Err(e) => tracing::error!(error = %e, "integrations not readable: checking with META_APP_SECRET"),
            },
            Ok(None) => {}
            Err(e) => tracing::error!(error = %e, "business of the delivery not readable: checking with META_APP_SECRET"),
        }
    }
    wa.config.app_secret.clone()
}

/// `POST /webhooks/whatsapp`: a delivery. 401 without `X-Hub-Signature-256`,
/// 403 with a wrong one, 503 when no app secret is configured (neither the
/// business's own nor `META_APP_SECRET`), 400 when the body is not a
/// delivery; nothing is processed then. 200 otherwise, before the messages
/// are handled.
pub async fn receive(State(wa): State<Arc<WhatsApp>>, headers: HeaderMap, body: Bytes) -> Response {
    let Some(secret) = app_secret(&wa, &body).await else {
        tracing::warn!("WhatsApp delivery refused: META_APP_SECRET is not set");
        return plain(StatusCode::SERVICE_UNAVAILABLE, "WhatsApp is not configured");
    };
    let header = headers.get("x-hub-signature-256").and_then(|v| v.to_str().ok());
    match verify(secret.expose(), &body, header) {
        Ok(()) => {}
        Err(SignatureError::Missing) => {
            metrics::counter!(REFUSED_TOTAL, "reason" => "unsigned").increment(1);
            tracing::warn!("WhatsApp delivery without X-Hub-Signature-256 refused");
            return plain(StatusCode::UNAUTHORIZED, "missing signature");
        }
        Err(SignatureError::Invalid) => {
            metrics::counter!(REFUSED_TOTAL, "reason" => "bad_signature").increment(1);
            tracing::warn!("WhatsApp delivery with a wrong X-Hub-Signature-256 refused");
            return plain(StatusCode::FORBIDDEN, "invalid signature");
        }
    }
    let delivery: Delivery = match serde_json::from_slice(&body) {
        Ok(d) => d,
        Err(e) => {
            tracing::warn!(error = %e, "WhatsApp delivery is not valid JSON");
            return plain(StatusCode::BAD_REQUEST, format!("not a WhatsApp webhook payload: {e}"));
        }
    };
    tokio::spawn(conversation::handle(wa.clone(), delivery));
    plain(StatusCode::OK, "OK")
}

/// Metric: WhatsApp deliveries refused, by `reason`.
pub const REFUSED_TOTAL: &str = "fluxion_whatsapp_refused_total";
/// Metric: WhatsApp messages handled, by `kind` and `outcome`.
pub const MESSAGES_TOTAL: &str = "fluxion_whatsapp_messages_total";
