//! Signed outgoing webhooks for automations (n8n and the like): each event
//! (`booking.created`, `booking.updated`, `booking.cancelled`, `booking.completed`, `call.ended`,
//! `callback.requested`, `message.received`) is an outbox row per endpoint,
//! delivered as `POST` with a JSON body
//! `{"id", "event", "timestamp", "data"}` and the headers
//! `X-Fluxion-Event`, `X-Fluxion-Delivery` (the id, stable across retries:
//! a receiver drops repeats by it), `X-Fluxion-Timestamp` (Unix seconds of
//! this attempt) and `X-Fluxion-Signature: sha256=<hex>`, the HMAC-SHA256 of
//! the raw body keyed with the endpoint's secret (`WEBHOOK_SECRET`). The
//! timestamp is inside the signed body, so a receiver refuses a replay by
//! its age ([`verify`] allows [`MAX_AGE_SECS`]). 2xx is delivered; 429, 5xx
//! and time-outs are retried by the outbox; other statuses give up.

use hmac::{Hmac, Mac};
use jiff::Timestamp;
use serde_json::{json, Value};
use sha2::Sha256;
use subtle::ConstantTimeEq;

use super::render::Outgoing;
use super::sender::SendError;
use crate::secret::Secret;

/// Oldest delivery [`verify`] accepts, seconds.
pub const MAX_AGE_SECS: i64 = 300;

/// `sha256=<64 hex digits>`: the signature of `body` with `secret`.
pub fn sign(secret: &str, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes keys of any length");
    mac.update(body);
    let hex: String = mac.finalize().into_bytes().iter().map(|b| format!("{b:02x}")).collect();
    format!("sha256={hex}")
}

/// Why a delivery is refused by a receiver.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refused {
    /// The signature does not match the body.
    Signature,
    /// The body's timestamp is missing or older than [`MAX_AGE_SECS`] (or in the future).
    Stale,
}

/// What a receiver checks: the signature of the raw `body` in constant
/// time, then the age of its `timestamp` at `now`.
///
/// # Errors
/// [`Refused`].
pub fn verify(secret: &str, body: &[u8], signature: &str, now: Timestamp) -> Result<(), Refused> {
    let expected = sign(secret, body);
    if !bool::from(expected.as_bytes().ct_eq(signature.trim().as_bytes())) {
        return Err(Refused::Signature);
    }
    let sent = serde_json::from_slice::<Value>(body).ok().and_then(|v| v["timestamp"].as_i64()).ok_or(Refused::Stale)?;
    let age = now.as_second() - sent;
    if !(-MAX_AGE_SECS..=MAX_AGE_SECS).contains(&age) {
        return Err(Refused::Stale);
    }
    Ok(())
}

/// The body of one delivery attempt at `now`.
pub fn body(id: &str, event: &str, data: &Value, now: Timestamp) -> Vec<u8> {
    serde_json::to_vec(&json!({ "id": id, "event": event, "timestamp": now.as_second(), "data": data })).unwrap_or_default()
}

/// Posts `payload` (`{event, data}`) as delivery `out.key` to `out.recipient`.
///
/// # Errors
/// [`SendError`]: retryable for 429, 5xx and transport failures.
pub async fn post(http: &reqwest::Client, secret: &Secret, out: &Outgoing, payload: &Value, now: Timestamp) -> Result<String, SendError> {
    let event = payload["event"].as_str().unwrap_or("event");
    let body = body(&out.key, event, &payload["data"], now);
    let r = http
        .post(&out.recipient)
        .header("content-type", "application/json")
        .header("x-fluxion-event", event)
        .header("x-fluxion-delivery", &out.key)
        .header("x-fluxion-timestamp", now.as_second().to_string())
        .header("x-fluxion-signature", sign(secret.expose(), &body))
        .body(body)
        .send()
        .await
        .map_err(|e| SendError::from_transport("webhook endpoint", &e))?;
    let status = r.status().as_u16();
    if (200..300).contains(&status) {
        Ok(out.key.clone())
    } else {
        let text = r.text().await.unwrap_or_default();
        Err(SendError::from_status("webhook endpoint", status, &text))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signed_fresh_deliveries_pass_and_replays_do_not() {
        let now: Timestamp = "2027-03-10T09:00:00Z".parse().expect("instant");
        let b = body("event:booking.created:7", "booking.created", &json!({"appointment_id": 7}), now);
        let sig = sign("s3cret", &b);
        assert_eq!(verify("s3cret", &b, &sig, now), Ok(()));
        assert_eq!(verify("other", &b, &sig, now), Err(Refused::Signature));
        let mut tampered = b.clone();
        tampered.push(b' ');
        assert_eq!(verify("s3cret", &tampered, &sig, now), Err(Refused::Signature));
        let later = now + jiff::SignedDuration::from_mins(10);
        assert_eq!(verify("s3cret", &b, &sig, later), Err(Refused::Stale), "a replay ten minutes later");
    }
}
