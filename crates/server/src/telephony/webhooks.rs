//! Provider webhooks: the HTTP requests a provider makes when a call comes
//! in, changes status or ends. Every request's signature is checked against
//! `PUBLIC_URL` (the URL the provider called) and the account's auth token
//! before anything is processed: a bad or missing signature gets 403.
//!
//! - `POST /twilio/voice` → TwiML `<Connect><Stream>` to `/twilio/media`
//!   (Twilio "TwiML Voice: `<Stream>`"), caller and called as parameters.
//! - `POST /twilio/status` → the call's status callback is stored.
//! - `POST /plivo/answer` → Plivo XML `<Stream bidirectional="true">` to `/plivo/media`.
//! - `POST /plivo/hangup` → the hang-up is stored.
//! - `POST /plivo/transfer` → `<Dial>` to `TRANSFER_NUMBER` (used by a transfer).

use std::sync::Arc;

use axum::extract::{OriginalUri, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Form;

use super::signature::{verify_plivo_v3, verify_twilio};
use super::{plivo, twilio, Provider, Telephony};
use crate::observability::mask_phone;

/// Form parameters as the provider sent them, in order.
type Params = Vec<(String, String)>;

fn xml(body: String) -> Response {
    ([(header::CONTENT_TYPE, "application/xml")], body).into_response()
}

fn param<'a>(params: &'a Params, name: &str) -> Option<&'a str> {
    params.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
}

fn forbidden(provider: Provider, why: &str) -> Response {
    tracing::warn!(provider = provider.as_str(), why, "webhook rejected");
    metrics::counter!("fluxion_webhooks_rejected_total", "provider" => provider.as_str()).increment(1);
    (StatusCode::FORBIDDEN, "invalid signature").into_response()
}

/// Checks a Twilio request; `Some` is the rejection to send.
fn check_twilio(t: &Telephony, uri: &OriginalUri, headers: &HeaderMap, params: &Params) -> Option<Response> {
    let Some(token) = t.config.twilio_auth_token.as_deref() else {
        return Some(forbidden(Provider::Twilio, "TWILIO_AUTH_TOKEN is not configured"));
    };
    let Some(url) = t.config.public(&uri.0.to_string()) else {
        return Some(forbidden(Provider::Twilio, "PUBLIC_URL is not configured"));
    };
    let signature = headers.get("x-twilio-signature").and_then(|v| v.to_str().ok());
    (!verify_twilio(token, &url, params, signature)).then(|| forbidden(Provider::Twilio, "bad or missing X-Twilio-Signature"))
}

/// Checks a Plivo request (signature V3); `Some` is the rejection to send.
fn check_plivo(t: &Telephony, uri: &OriginalUri, headers: &HeaderMap, params: &Params) -> Option<Response> {
    let Some(token) = t.config.plivo_auth_token.as_deref() else {
        return Some(forbidden(Provider::Plivo, "PLIVO_AUTH_TOKEN is not configured"));
    };
    let Some(url) = t.config.public(&uri.0.to_string()) else {
        return Some(forbidden(Provider::Plivo, "PUBLIC_URL is not configured"));
    };
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let valid = verify_plivo_v3(token, &url, header("x-plivo-signature-v3-nonce"), params, "POST", header("x-plivo-signature-v3"));
    (!valid).then(|| forbidden(Provider::Plivo, "bad or missing X-Plivo-Signature-V3"))
}

/// `POST /twilio/voice`: an incoming (or answered outbound) call.
pub async fn twilio_voice(State(t): State<Arc<Telephony>>, uri: OriginalUri, headers: HeaderMap, Form(params): Form<Params>) -> Response {
    if let Some(r) = check_twilio(&t, &uri, &headers, &params) {
        return r;
    }
    let caller = param(&params, "From").unwrap_or_default();
    tracing::info!(call_sid = param(&params, "CallSid").unwrap_or_default(), caller = %mask_phone(caller), "incoming Twilio call");
    if t.speech.is_err() {
        return xml(twilio::twiml_say_hangup(
            "Ci scusi, il servizio non è disponibile in questo momento. La preghiamo di richiamare più tardi.",
        ));
    }
    let Some(stream_url) = t.config.stream_url(Provider::Twilio) else {
        return (StatusCode::SERVICE_UNAVAILABLE, "PUBLIC_URL is not configured").into_response();
    };
    let called = param(&params, "To").unwrap_or_default();
    let purpose = uri.0.query().and_then(|q| q.split('&').find_map(|kv| kv.strip_prefix("purpose="))).unwrap_or("inbound");
    xml(twilio::twiml_connect_stream(&stream_url, &[("caller", caller), ("called", called), ("purpose", purpose)]))
}

/// `POST /twilio/status`: a status callback (`CallStatus`).
pub async fn twilio_status(State(t): State<Arc<Telephony>>, uri: OriginalUri, headers: HeaderMap, Form(params): Form<Params>) -> Response {
    if let Some(r) = check_twilio(&t, &uri, &headers, &params) {
        return r;
    }
    let (Some(sid), Some(status)) = (param(&params, "CallSid"), param(&params, "CallStatus")) else {
        return (StatusCode::BAD_REQUEST, "CallSid and CallStatus are required").into_response();
    };
    store_status(&t, Provider::Twilio, sid, status, param(&params, "To")).await
}

/// Stores a status callback with the call of the business the called
/// number `to` routes to (none: nothing to store, logged).
async fn store_status(t: &Telephony, provider: Provider, sid: &str, status: &str, to: Option<&str>) -> Response {
    let status: String = status.chars().filter(|c| !c.is_control()).take(64).collect();
    let tenant = match t.app.tenant_for_called(to).await {
        Ok(Some(tenant)) => tenant,
        Ok(None) => {
            tracing::warn!(called = to.map(mask_phone).unwrap_or_default(), "status callback for a number no business answers on");
            return StatusCode::NO_CONTENT.into_response();
        }
        Err(e) => {
            tracing::error!(error = %e, "could not store a call status");
            return StatusCode::SERVICE_UNAVAILABLE.into_response();
        }
    };
    match tenant.call_status(provider, sid, &status, t.app.clock.now()).await {
        Ok(()) => StatusCode::NO_CONTENT.into_response(),
        Err(e) => {
            tracing::error!(error = %e, "could not store a call status");
            StatusCode::SERVICE_UNAVAILABLE.into_response()
        }
    }
}

/// `POST /plivo/answer`: an incoming call.
pub async fn plivo_answer(State(t): State<Arc<Telephony>>, uri: OriginalUri, headers: HeaderMap, Form(params): Form<Params>) -> Response {
    if let Some(r) = check_plivo(&t, &uri, &headers, &params) {
        return r;
    }
    let Some(stream_url) = t.config.stream_url(Provider::Plivo) else {
        return (StatusCode::SERVICE_UNAVAILABLE, "PUBLIC_URL is not configured").into_response();
    };
    let caller = param(&params, "From").unwrap_or_default();
    let called = param(&params, "To").unwrap_or_default();
    tracing::info!(call_uuid = param(&params, "CallUUID").unwrap_or_default(), caller = %mask_phone(caller), "incoming Plivo call");
    let clean = |s: &str| s.chars().filter(|c| c.is_ascii_alphanumeric() || *c == '+').collect::<String>();
    xml(plivo::answer_xml(&stream_url, &format!("caller={},called={}", clean(caller), clean(called))))
}

/// `POST /plivo/hangup`: the call ended (`HangupCause`).
pub async fn plivo_hangup(State(t): State<Arc<Telephony>>, uri: OriginalUri, headers: HeaderMap, Form(params): Form<Params>) -> Response {
    if let Some(r) = check_plivo(&t, &uri, &headers, &params) {
        return r;
    }
    let Some(uuid) = param(&params, "CallUUID") else {
        return (StatusCode::BAD_REQUEST, "CallUUID is required").into_response();
    };
    let cause = param(&params, "HangupCause").unwrap_or("hangup");
    store_status(&t, Provider::Plivo, uuid, cause, param(&params, "To")).await
}

/// `POST /plivo/transfer`: the XML a transferred call is sent to.
pub async fn plivo_transfer(State(t): State<Arc<Telephony>>, uri: OriginalUri, headers: HeaderMap, Form(params): Form<Params>) -> Response {
    if let Some(r) = check_plivo(&t, &uri, &headers, &params) {
        return r;
    }
    match &t.config.transfer_number {
        Some(number) => xml(plivo::dial_xml(number)),
        None => (StatusCode::NOT_FOUND, "no TRANSFER_NUMBER configured").into_response(),
    }
}
