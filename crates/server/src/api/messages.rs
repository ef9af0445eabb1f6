//! `POST /api/messages`: an automation (an n8n workflow with a bearer token
//! from `fluxion token create`) or the console writes to a client by SMS,
//! WhatsApp or e-mail. The message goes through the same `send_*` tool as
//! the language model's and MCP's, with staff rules: only to a client who
//! consented to that channel, queued once in the notification outbox.

use std::sync::Arc;

use axum::extract::rejection::JsonRejection;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::Json;
use fluxion_core::tools::{Scope, ToolContext, ToolError};
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::openapi::schema::{Object, ObjectBuilder, Type};
use utoipa::ToSchema;

use super::read::engine;
use super::settings::invalid;
use super::ApiError;
use crate::app::AppState;
use crate::auth::Principal;

/// Longest `Idempotency-Key` header accepted, in bytes.
const MAX_IDEMPOTENCY_KEY: usize = 200;

fn channel_schema() -> Object {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .description(Some("The channel: `sms`, `whatsapp` or `email`."))
        .enum_values(Some(["sms", "whatsapp", "email"]))
        .build()
}

fn state_schema() -> Object {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .description(Some("`in_coda` (queued now, 202) or `gia_in_coda` (the same key was queued before, 200)."))
        .enum_values(Some(["in_coda", "gia_in_coda"]))
        .build()
}

/// The body of `POST /api/messages`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MessageBody {
    /// `sms`, `whatsapp` or `email`.
    #[schema(schema_with = channel_schema)]
    pub canale: String,
    /// The client's number (SMS, WhatsApp), any Italian or E.164 spelling.
    pub telefono: Option<String>,
    /// The client's address (e-mail).
    pub email: Option<String>,
    /// The text (at most 1,000 characters by phone, 5,000 by e-mail).
    pub testo: String,
    /// The subject (e-mail).
    pub oggetto: Option<String>,
}

/// `POST /api/messages` answer: the message is in the outbox.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct MessageQueued {
    /// Always `true`.
    pub ok: bool,
    /// The channel: `sms`, `whatsapp` or `email`.
    #[schema(schema_with = channel_schema)]
    pub canale: String,
    /// `in_coda` (queued now, 202) or `gia_in_coda` (the same key was
    /// queued before, 200).
    #[schema(schema_with = state_schema)]
    pub stato: String,
    /// The outbox row (`in_coda` only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<fluxion_core::booking::Id>,
}

/// `POST /api/messages` with `{canale, telefono | email, testo, oggetto?}`
/// and an optional `Idempotency-Key` header (the same key and text are
/// queued once; without one every request is a new message) → 202
/// `{"ok": true, "canale", "stato": "in_coda", "id"}` (the outbox row), or
/// 200 with `"stato": "gia_in_coda"` for a repeated key.
///
/// Errors: 422 for an unknown channel, a bad number or address, an empty or
/// too long text; 403 when the client did not consent to the channel or the
/// deployment cannot send on it (`messaggio` says which); 503 when the
/// database is unavailable.
pub async fn send(
    State(state): State<Arc<AppState>>,
    p: Principal,
    headers: HeaderMap,
    body: Result<Json<MessageBody>, JsonRejection>,
) -> Result<(StatusCode, Json<MessageQueued>), ApiError> {
    let Json(body) = body?;
    let tool = match body.canale.trim() {
        "sms" => "send_sms",
        "whatsapp" => "send_whatsapp",
        "email" => "send_email",
        other => return Err(invalid(format!("canale: '{other}' non è sms, whatsapp o email"))),
    };
    let key = match headers.get("idempotency-key") {
        Some(v) => {
            let v = v.to_str().map_err(|_| invalid("Idempotency-Key: solo caratteri ASCII"))?.trim();
            if v.is_empty() || v.len() > MAX_IDEMPOTENCY_KEY {
                return Err(invalid(format!("Idempotency-Key: da 1 a {MAX_IDEMPOTENCY_KEY} caratteri")));
            }
            v.to_string()
        }
        None => crate::auth::secret::random_token("").map_err(|e| ApiError::Unavailable(e.to_string()))?,
    };
    let engine = engine(&state, &p).await?;
    let args = json!({
        "telefono": body.telefono,
        "email": body.email,
        "testo": body.testo,
        "oggetto": body.oggetto,
        "confermato": true,
    });
    let ctx = ToolContext { now: state.clock.now(), scope: Scope::Staff, session_id: format!("api:{key}") };
    let queued = |v: serde_json::Value| {
        serde_json::from_value::<MessageQueued>(v).map_err(|e| ApiError::Unavailable(format!("the outbox answered unexpectedly: {e}")))
    };
    match engine.tools().call(tool, &args, &ctx).await {
        Ok((v, _)) if v["stato"] == "in_coda" => Ok((StatusCode::ACCEPTED, Json(queued(v)?))),
        Ok((v, _)) => Ok((StatusCode::OK, Json(queued(v)?))),
        Err(ToolError::InvalidArguments(m)) => Err(invalid(m)),
        Err(ToolError::NotAllowed(m)) => Err(ApiError::Forbidden(m)),
        Err(ToolError::Unavailable) => Err(ApiError::Unavailable("the outbox could not be written".into())),
        Err(e) => Err(invalid(e.to_string())),
    }
}
