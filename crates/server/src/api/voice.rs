//! `POST /api/voice/query`: one conversational turn over HTTP (the bridge
//! used by the WhatsApp/n8n flow of seed 000 and by `fluxion chat`'s remote
//! mode).

use std::sync::Arc;

use axum::extract::rejection::JsonRejection;
use axum::extract::State;
use axum::Json;
use serde::{Deserialize, Serialize};

use fluxion_core::booking::Appointment;
use fluxion_core::nlu::Slots;

use super::ApiError;
use crate::app::{AppState, SessionError, SESSION_IDLE};
use crate::auth::Principal;
use crate::observability::{mask_phone, BOOKINGS_TOTAL, LAYER_SECONDS, TURNS_TOTAL, TURN_SECONDS};

/// Longest accepted turn, in characters.
pub const MAX_TEXT_CHARS: usize = 2_000;
/// Longest accepted session id, in bytes.
pub const MAX_SESSION_ID: usize = 128;

/// Request body.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct QueryRequest {
    /// Conversation id chosen by the client (at most 128 printable
    /// characters); a new one is made when absent.
    #[serde(default)]
    #[schema(max_length = 128)]
    pub session_id: Option<String>,
    /// Caller's phone (E.164 or Italian national format), when known.
    #[serde(default)]
    pub phone: Option<String>,
    /// What the caller said or wrote (1–2,000 characters).
    #[schema(min_length = 1, max_length = 2000)]
    pub text: String,
}

/// The appointment a turn created, moved or cancelled.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct BookingJson {
    /// Appointment id.
    pub id: i64,
    /// `booked` or `cancelled`.
    pub status: String,
    /// Service name.
    pub service: String,
    /// Operator name.
    pub operator: String,
    /// Local start in the business's time zone, ISO 8601 without offset
    /// (`YYYY-MM-DDTHH:MM:SS`).
    pub start: String,
    /// Local end, ISO 8601 without offset.
    pub end: String,
    /// UTC start, RFC 3339 (`…Z`).
    pub start_utc: String,
}

/// Response body.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct QueryResponse {
    /// The conversation id (echoed or new).
    pub session_id: String,
    /// The Italian reply.
    pub reply: String,
    /// Intent of the turn.
    pub intent: String,
    /// Layer that answered (L0–L4).
    pub layer: String,
    /// Confidence in `[0, 1]`.
    pub confidence: f32,
    /// Slots found.
    pub slots: Slots,
    /// Appointment created, moved or cancelled, if any.
    pub booking: Option<BookingJson>,
    /// Whether the conversation ended.
    pub ended: bool,
    /// Server processing time, milliseconds.
    pub latency_ms: f64,
}

fn new_session_id() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    let t = jiff::Timestamp::now().as_nanosecond();
    format!("s-{t:x}-{}", N.fetch_add(1, Ordering::Relaxed))
}

/// The 503 for a conversation that could not be opened or saved (logged).
fn session_error(session: &str, e: SessionError) -> ApiError {
    tracing::error!(session = %session, error = %e, "conversation state unavailable: turn not answered");
    ApiError::Unavailable(format!("conversation state: {e}"))
}

/// Normalises a caller-supplied phone: Italian numbers to E.164, other
/// E.164 numbers kept as they are.
///
/// # Errors
/// Anything that is not a phone number.
pub fn caller_phone(raw: &str) -> Result<String, ApiError> {
    fluxion_core::nlu::phone::e164(raw).ok_or_else(|| ApiError::bad("phone: not a valid phone number (expected E.164, e.g. +393331234567)"))
}

/// Appointment → JSON with names and local times of the default business.
pub fn booking_json(state: &AppState, a: &Appointment) -> BookingJson {
    appointment_json(state.engine().info(), a)
}

/// Appointment → JSON with names and local times of business `info`.
pub fn appointment_json(info: &fluxion_core::dialogue::BusinessInfo, a: &Appointment) -> BookingJson {
    BookingJson {
        id: a.id,
        status: a.status.as_str().to_string(),
        service: info.services.iter().find(|s| s.id == a.service_id).map(|s| s.name.clone()).unwrap_or_default(),
        operator: info.operators.iter().find(|o| o.id == a.operator_id).map(|o| o.name.clone()).unwrap_or_default(),
        start: info.local(a.start).to_string(),
        end: info.local(a.end).to_string(),
        start_utc: a.start.to_string(),
    }
}

/// `POST /api/voice/query` with `{"session_id", "phone", "text"}`, on the
/// principal's business. The `phone` is the caller's verified identity only
/// for a trusted principal (console session, owner-made token); otherwise
/// the dialogue treats it as a number the caller said.
///
/// The conversation's state is stored in the database between turns, so
/// consecutive turns may go to different instances over one database; two
/// turns of one conversation run one after the other.
///
/// Errors: 401 without credentials; 400 malformed JSON, empty text, bad phone or session id; 413 text
/// over 2,000 characters or body over 64 KiB; 503 database unavailable, the
/// conversation's state not saved (nothing the turn did is confirmed to the
/// client then), or another turn of the same conversation still running
/// after 65 s.
pub async fn query(
    State(state): State<Arc<AppState>>,
    principal: Principal,
    body: Result<Json<QueryRequest>, JsonRejection>,
) -> Result<Json<QueryResponse>, ApiError> {
    let Json(req) = body?;
    let text = req.text.trim();
    if text.is_empty() {
        return Err(ApiError::bad("text: must not be empty"));
    }
    if text.chars().count() > MAX_TEXT_CHARS {
        return Err(ApiError::BadRequest {
            status: axum::http::StatusCode::PAYLOAD_TOO_LARGE,
            message: format!("text: longer than {MAX_TEXT_CHARS} characters"),
        });
    }
    let session_id = match req.session_id.filter(|s| !s.trim().is_empty()) {
        Some(s) if s.len() > MAX_SESSION_ID || s.chars().any(char::is_control) => {
            return Err(ApiError::bad(format!("session_id: at most {MAX_SESSION_ID} printable characters")));
        }
        Some(s) => s,
        None => new_session_id(),
    };
    let phone = req.phone.as_deref().filter(|p| !p.trim().is_empty()).map(caller_phone).transpose()?;

    let now = state.clock.now();
    let engine = state.engines.get(principal.tenant).await.map_err(ApiError::engine)?;
    // Conversations are kept apart per principal: another client cannot continue one by its id.
    let key = format!("{}:{session_id}", principal.key());
    let tenant = principal.tenant(&state);
    let (held, resumed) =
        state.sessions.open(&tenant, &key, &session_id, SESSION_IDLE, engine.info()).await.map_err(|e| session_error(&session_id, e))?;
    let mut dialogue = match resumed {
        Some(d) => d,
        None => engine.dialogue_for_caller(phone.as_deref(), principal.trusted).await,
    };
    // The state is saved even when the turn failed: whatever it wrote (a
    // booking) is in the dialogue; the reply goes out only once it is saved.
    // On its own task, so a client that goes away mid-turn does not stop the
    // turn between its writes and the save.
    let run = {
        let (engine, session_id, text) = (engine.clone(), session_id.clone(), text.to_string());
        tokio::spawn(async move {
            let turn = engine.turn(&mut dialogue, &session_id, &text, now).await;
            held.save(&dialogue).await.map(|_| turn)
        })
    };
    let turn = run.await.map_err(|e| {
        tracing::error!(session = %session_id, error = %e, "turn task failed");
        ApiError::Unavailable("turn failed".into())
    })?;
    let report = turn.map_err(|e| session_error(&session_id, e))??;

    let t = &report.nlu.timings;
    for (layer, us) in [("L0", t.l0_us), ("L1", t.l1_us), ("L2", t.l2_us), ("L3", t.l3_us)] {
        if us > 0 || layer == "L0" {
            metrics::histogram!(LAYER_SECONDS, "layer" => layer).record(us as f64 / 1e6);
        }
    }
    metrics::histogram!(TURN_SECONDS).record(report.latency_us as f64 / 1e6);
    metrics::counter!(TURNS_TOTAL, "intent" => report.intent.as_str(), "layer" => report.layer.as_str()).increment(1);
    let booking = report.booking.as_ref().map(|a| {
        metrics::counter!(BOOKINGS_TOTAL, "status" => a.status.as_str()).increment(1);
        appointment_json(engine.info(), a)
    });
    tracing::info!(
        session = %session_id,
        phone = phone.as_deref().map(mask_phone).unwrap_or_default(),
        caller_verified = principal.trusted,
        intent = report.intent.as_str(),
        layer = report.layer.as_str(),
        latency_us = report.latency_us,
        booked = booking.as_ref().map(|b| b.id),
        "turn handled"
    );
    Ok(Json(QueryResponse {
        session_id,
        reply: report.reply,
        intent: report.intent.as_str().to_string(),
        layer: report.layer.as_str().to_string(),
        confidence: report.confidence,
        slots: report.slots,
        booking,
        ended: report.ended,
        latency_ms: report.latency_us as f64 / 1000.0,
    }))
}
