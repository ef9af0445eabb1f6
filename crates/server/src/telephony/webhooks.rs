//! Provider webhooks: the HTTP requests a provider makes when a call comes
//! in, changes status or ends. Every request's signature is checked against
//! `PUBLIC_URL` (the URL the provider called) and the account's auth token
//! before anything is processed: a bad or missing signature gets 403. The
//! token is the one the called business's owner stored in the console for
//! this provider when there is one, the server's otherwise.
//!
//! Each path is also served under `/webhooks/` (`/webhooks/twilio/voice`,
//! the seeds' names); the signature is checked over the URL requested.
//!
//! - `POST /twilio/voice` → TwiML `<Connect><Stream>` to `/twilio/media`
//!   (Twilio "TwiML Voice: `<Stream>`") with the call's stream token as the
//!   `token` parameter; above `MAX_CONCURRENT_CALLS`, a polite Italian
//!   `<Say>` and `<Hangup/>` instead.
//! - `POST /twilio/status` → the call's status callback is stored.
//! - `POST /plivo/answer` → Plivo XML `<Stream bidirectional="true">` to
//!   `/plivo/media` with `extraHeaders="token=…"`; busy: `<Speak>` and `<Hangup/>`.
//! - `POST /plivo/hangup` → the hang-up is stored.
//! - `POST /plivo/transfer` → `<Dial>` to `TRANSFER_NUMBER` (used by a transfer).
//! - `GET /exotel/stream` → the Voicebot applet's dynamic URL: JSON
//!   `{"url": "wss://…/exotel/media?token=…"}` for the call in the query
//!   (`CallSid`, `CallFrom`, `CallTo`). Exotel does not sign its requests, so
//!   this endpoint requires HTTP Basic credentials (`EXOTEL_WEBHOOK_USER`,
//!   `EXOTEL_WEBHOOK_PASSWORD`, written into the applet's URL as
//!   `https://user:password@host/exotel/stream`) and refuses every request
//!   while they are not configured; busy: 503.

use std::sync::Arc;

use axum::extract::{OriginalUri, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Form;
use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use subtle::ConstantTimeEq;

use super::signature::{verify_plivo_v3, verify_twilio};
use super::{plivo, twilio, Provider, Telephony};
use crate::observability::mask_phone;
use crate::store::PhoneProvider;

/// What a caller hears when `MAX_CONCURRENT_CALLS` calls are in progress.
pub const BUSY_IT: &str = "Ci scusi, in questo momento tutte le nostre linee sono occupate. La preghiamo di richiamare tra qualche minuto.";

/// Form parameters as the provider sent them, in order.
pub(super) type Params = Vec<(String, String)>;

pub(super) fn xml(body: String) -> Response {
    ([(header::CONTENT_TYPE, "application/xml")], body).into_response()
}

pub(super) fn param<'a>(params: &'a Params, name: &str) -> Option<&'a str> {
    params.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
}

fn forbidden(provider: Provider, why: &str) -> Response {
    tracing::warn!(provider = provider.as_str(), why, "webhook rejected");
    metrics::counter!("fluxion_webhooks_rejected_total", "provider" => provider.as_str()).increment(1);
    (StatusCode::FORBIDDEN, "invalid signature").into_response()
}

/// The auth token that signs `provider`'s webhooks for the business the
/// called number `to` routes to: the token its owner stored in the console
/// (Impostazioni → Integrazioni, for this provider) when there is one,
/// otherwise the server's (`TWILIO_AUTH_TOKEN`, `PLIVO_AUTH_TOKEN`). A
/// business that stored its own token accepts only that one. A database
/// error is logged and the server's token is used.
async fn auth_token(t: &Telephony, provider: Provider, to: Option<&str>) -> Option<String> {
    let server = match provider {
        Provider::Twilio => t.config.twilio_auth_token.clone(),
        Provider::Plivo => t.config.plivo_auth_token.clone(),
        Provider::Exotel => None,
    };
    let which = match provider {
        Provider::Twilio => PhoneProvider::Twilio,
        Provider::Plivo => PhoneProvider::Plivo,
        Provider::Exotel => PhoneProvider::Exotel,
    };
    let tenant = match t.app.tenant_for_called(to).await {
        Ok(tenant) => tenant,
        Err(e) => {
            tracing::error!(error = %e, "business of the called number not readable: checking with the server's token");
            None
        }
    };
    let Some(tenant) = tenant else { return server };
    match tenant.integrations().await {
        Ok(i) => i.phone_token_for(which).map(|s| s.expose().to_string()).or(server),
        Err(e) => {
            tracing::error!(error = %e, "integrations not readable: checking with the server's token");
            server
        }
    }
}

/// Checks a Twilio request; `Some` is the rejection to send.
pub(super) async fn check_twilio(t: &Telephony, uri: &OriginalUri, headers: &HeaderMap, params: &Params) -> Option<Response> {
    let Some(token) = auth_token(t, Provider::Twilio, param(params, "To")).await else {
        return Some(forbidden(Provider::Twilio, "TWILIO_AUTH_TOKEN is not configured"));
    };
    let Some(url) = t.config.public(&uri.0.to_string()) else {
        return Some(forbidden(Provider::Twilio, "PUBLIC_URL is not configured"));
    };
    let signature = headers.get("x-twilio-signature").and_then(|v| v.to_str().ok());
    (!verify_twilio(&token, &url, params, signature)).then(|| forbidden(Provider::Twilio, "bad or missing X-Twilio-Signature"))
}

/// Checks a Plivo request (signature V3); `Some` is the rejection to send.
pub(super) async fn check_plivo(t: &Telephony, uri: &OriginalUri, headers: &HeaderMap, params: &Params) -> Option<Response> {
    let Some(token) = auth_token(t, Provider::Plivo, param(params, "To")).await else {
        return Some(forbidden(Provider::Plivo, "PLIVO_AUTH_TOKEN is not configured"));
    };
    let Some(url) = t.config.public(&uri.0.to_string()) else {
        return Some(forbidden(Provider::Plivo, "PUBLIC_URL is not configured"));
    };
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let valid = verify_plivo_v3(&token, &url, header("x-plivo-signature-v3-nonce"), params, "POST", header("x-plivo-signature-v3"));
    (!valid).then(|| forbidden(Provider::Plivo, "bad or missing X-Plivo-Signature-V3"))
}

/// `POST /twilio/voice`: an incoming (or answered outbound) call.
pub async fn twilio_voice(State(t): State<Arc<Telephony>>, uri: OriginalUri, headers: HeaderMap, Form(params): Form<Params>) -> Response {
    if let Some(r) = check_twilio(&t, &uri, &headers, &params).await {
        return r;
    }
    let caller = param(&params, "From").unwrap_or_default();
    let call_sid = param(&params, "CallSid").unwrap_or_default();
    tracing::info!(call_sid, caller = %mask_phone(caller), "incoming Twilio call");
    if t.speech.is_err() {
        return xml(twilio::twiml_say_hangup(
            "Ci scusi, il servizio non è disponibile in questo momento. La preghiamo di richiamare più tardi.",
        ));
    }
    if busy(&t, Provider::Twilio) {
        return xml(twilio::twiml_say_hangup(BUSY_IT));
    }
    let Some(stream_url) = t.config.stream_url(Provider::Twilio) else {
        return (StatusCode::SERVICE_UNAVAILABLE, "PUBLIC_URL is not configured").into_response();
    };
    let called = param(&params, "To").unwrap_or_default();
    let token = t.tokens.issue(Provider::Twilio, call_sid, Some(caller), Some(called));
    let purpose = uri.0.query().and_then(|q| q.split('&').find_map(|kv| kv.strip_prefix("purpose="))).unwrap_or("inbound");
    xml(twilio::twiml_connect_stream(&stream_url, &[("token", token.as_str()), ("purpose", purpose)]))
}

/// Whether the call must be turned away: the instance is draining (see
/// [`crate::lifecycle`]), `MAX_CONCURRENT_CALLS` are in progress (or, when
/// lower, the calls the local recogniser serves at once, `STT_MAX_CALLS`),
/// or the local recogniser is at its capacity (decodes wait past
/// `STT_BUSY_WAIT_MS`: one more call would slow every call down); logged
/// and counted.
fn busy(t: &Telephony, provider: Provider) -> bool {
    if t.app.lifecycle.is_draining() {
        tracing::info!(provider = provider.as_str(), calls = t.gate.calls(), "shutting down; the new call is turned away");
        metrics::counter!("fluxion_calls_refused_total", "provider" => provider.as_str(), "reason" => "draining").increment(1);
        return true;
    }
    let busy = t.gate.busy(&t.config.limits);
    if busy {
        let reason = if t.recognition_calls.is_some() { "recognition_capacity" } else { "busy" };
        tracing::warn!(provider = provider.as_str(), calls = t.gate.calls(), reason, "all lines busy; the call is turned away");
        metrics::counter!("fluxion_calls_refused_total", "provider" => provider.as_str(), "reason" => reason).increment(1);
        return true;
    }
    let saturated = t.speech.as_ref().is_ok_and(|kit| kit.stt.saturated());
    if saturated {
        tracing::warn!(provider = provider.as_str(), calls = t.gate.calls(), "speech recognition at capacity; the call is turned away");
        metrics::counter!("fluxion_calls_refused_total", "provider" => provider.as_str(), "reason" => "recognition_capacity").increment(1);
    }
    saturated
}

/// `POST /twilio/status`: a status callback (`CallStatus`).
pub async fn twilio_status(State(t): State<Arc<Telephony>>, uri: OriginalUri, headers: HeaderMap, Form(params): Form<Params>) -> Response {
    if let Some(r) = check_twilio(&t, &uri, &headers, &params).await {
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
    if let Some(r) = check_plivo(&t, &uri, &headers, &params).await {
        return r;
    }
    let Some(stream_url) = t.config.stream_url(Provider::Plivo) else {
        return (StatusCode::SERVICE_UNAVAILABLE, "PUBLIC_URL is not configured").into_response();
    };
    let caller = param(&params, "From").unwrap_or_default();
    let called = param(&params, "To").unwrap_or_default();
    let call_uuid = param(&params, "CallUUID").unwrap_or_default();
    tracing::info!(call_uuid, caller = %mask_phone(caller), "incoming Plivo call");
    if busy(&t, Provider::Plivo) {
        return xml(plivo::speak_hangup_xml(BUSY_IT));
    }
    let token = t.tokens.issue(Provider::Plivo, call_uuid, Some(caller), Some(called));
    xml(plivo::answer_xml(&stream_url, &format!("token={token}")))
}

/// `GET /exotel/stream`: the Voicebot applet asks where to stream this call.
pub async fn exotel_stream(State(t): State<Arc<Telephony>>, headers: HeaderMap, Query(params): Query<Params>) -> Response {
    if let Some(r) = check_exotel(&t, &headers) {
        return r;
    }
    let first = |names: &[&str]| names.iter().find_map(|n| param(&params, n));
    let Some(call_sid) = first(&["CallSid", "call_sid"]) else {
        return (StatusCode::BAD_REQUEST, "CallSid is required").into_response();
    };
    let caller = first(&["CallFrom", "From", "from"]);
    let called = first(&["CallTo", "To", "to"]);
    tracing::info!(call_sid, caller = %mask_phone(caller.unwrap_or_default()), "incoming Exotel call");
    if t.speech.is_err() || busy(&t, Provider::Exotel) {
        return (StatusCode::SERVICE_UNAVAILABLE, "busy").into_response();
    }
    let Some(stream_url) = t.config.stream_url(Provider::Exotel) else {
        return (StatusCode::SERVICE_UNAVAILABLE, "PUBLIC_URL is not configured").into_response();
    };
    let token = t.tokens.issue(Provider::Exotel, call_sid, caller, called);
    axum::Json(serde_json::json!({ "url": format!("{stream_url}?token={token}") })).into_response()
}

/// Checks an Exotel request's HTTP Basic credentials; `Some` is the rejection to send.
fn check_exotel(t: &Telephony, headers: &HeaderMap) -> Option<Response> {
    let (Some(user), Some(password)) = (&t.config.exotel_webhook_user, &t.config.exotel_webhook_password) else {
        return Some(forbidden(Provider::Exotel, "EXOTEL_WEBHOOK_USER and EXOTEL_WEBHOOK_PASSWORD are not configured"));
    };
    let given = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Basic ").or_else(|| v.strip_prefix("basic ")))
        .and_then(|b| BASE64.decode(b.trim()).ok())
        .unwrap_or_default();
    let expected = format!("{user}:{password}");
    let ok = given.len() == expected.len() && bool::from(given.ct_eq(expected.as_bytes()));
    (!ok).then(|| {
        tracing::warn!(provider = "exotel", "stream-URL request without valid HTTP Basic credentials");
        metrics::counter!("fluxion_webhooks_rejected_total", "provider" => "exotel").increment(1);
        // A challenge, for clients that send credentials only when asked.
        (StatusCode::UNAUTHORIZED, [(header::WWW_AUTHENTICATE, r#"Basic realm="fluxion""#)], "credentials required").into_response()
    })
}

/// `POST /plivo/hangup`: the call ended (`HangupCause`).
pub async fn plivo_hangup(State(t): State<Arc<Telephony>>, uri: OriginalUri, headers: HeaderMap, Form(params): Form<Params>) -> Response {
    if let Some(r) = check_plivo(&t, &uri, &headers, &params).await {
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
    if let Some(r) = check_plivo(&t, &uri, &headers, &params).await {
        return r;
    }
    // The business whose number was called chooses where its callers go.
    let number = match t.app.tenant_for_called(param(&params, "To")).await {
        Ok(Some(tenant)) => t.config.for_tenant(&tenant).await.transfer_number,
        Ok(None) => t.config.transfer_number.clone(),
        Err(e) => {
            tracing::error!(error = %e, "transfer number not readable: using TRANSFER_NUMBER");
            t.config.transfer_number.clone()
        }
    };
    match number {
        Some(number) => xml(plivo::dial_xml(&number)),
        None => (StatusCode::NOT_FOUND, "no transfer number configured").into_response(),
    }
}
