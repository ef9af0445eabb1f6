//! Loyalty and receipts over HTTP: the business's loyalty rule (`GET/PUT
//! /api/loyalty`, owner only), marking an appointment completed (`POST
//! /api/appointments/{id}/complete`, owner or staff: points, reward notice,
//! receipt e-mail, all in one transaction) and the appointment's receipt or
//! estimate as a PDF (`GET /api/appointments/{id}/receipt.pdf`).

use std::sync::Arc;

use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, State};
use axum::http::header;
use axum::response::IntoResponse;
use axum::Json;
use fluxion_core::booking::{AppointmentStatus, Id, Repository};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::read::engine;
use super::settings::invalid;
use super::ApiError;
use crate::app::AppState;
use crate::auth::Principal;
use crate::store::{CompletionError, LoyaltyRule};

/// `GET /api/loyalty` → `{points_per_visit, points_per_euro,
/// reward_threshold, reward_text}`: points for each completed appointment,
/// points for each whole euro of its price, a reward each time a client's
/// points reach a multiple of the threshold (0: none) and what the reward
/// is. All 0 until the owner sets them: no points.
///
/// Errors: 403 staff.
pub async fn get(State(state): State<Arc<AppState>>, p: Principal) -> Result<Json<LoyaltyRule>, ApiError> {
    p.require_owner()?;
    Ok(Json(p.tenant(&state).loyalty_rule().await?))
}

/// `PUT /api/loyalty` body; an absent field is 0 (or empty).
#[derive(Debug, Deserialize, ToSchema)]
pub struct RuleBody {
    /// Points per completed appointment (0–1,000,000).
    #[serde(default)]
    #[schema(minimum = 0, maximum = 1_000_000)]
    pub points_per_visit: i64,
    /// Points per whole euro of the price (0–1,000,000).
    #[serde(default)]
    #[schema(minimum = 0, maximum = 1_000_000)]
    pub points_per_euro: i64,
    /// Reward threshold in points (0: no rewards; at most 1,000,000).
    #[serde(default)]
    #[schema(minimum = 0, maximum = 1_000_000)]
    pub reward_threshold: i64,
    /// The reward ("una piega in omaggio", at most 200 characters);
    /// required with a threshold.
    #[serde(default)]
    #[schema(max_length = 200)]
    pub reward_text: Option<String>,
}

/// The loyalty side of a completion.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct LoyaltyOutcome {
    /// Points given for this appointment.
    pub earned: i64,
    /// The client's points now.
    pub points: i64,
    /// The points reached a new multiple of the threshold.
    pub reward: bool,
    /// The reward notice was queued (the client consented to a channel).
    pub reward_notice: bool,
}

/// Where the receipt is.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ReceiptLink {
    /// `/api/appointments/{id}/receipt.pdf`.
    pub url: String,
    /// The receipt e-mail was queued (car workshop, client consented to e-mail).
    pub emailed: bool,
}

/// `POST /api/appointments/{id}/complete` answer.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CompletionView {
    /// The appointment, now completed.
    pub appointment: super::appointments::AppointmentView,
    /// Its price (VAT included), euro cents.
    pub price_cents: i64,
    /// Points and reward.
    pub loyalty: LoyaltyOutcome,
    /// The receipt.
    pub receipt: ReceiptLink,
}

/// `PUT /api/loyalty` → the rule as `GET` shows it.
///
/// Errors: 403 staff; 422 a negative number, a number over 1,000,000, a
/// threshold without a reward text or a text over 200 characters (Italian
/// message).
pub async fn put(
    State(state): State<Arc<AppState>>,
    p: Principal,
    body: Result<Json<RuleBody>, JsonRejection>,
) -> Result<Json<LoyaltyRule>, ApiError> {
    p.require_owner()?;
    let Json(b) = body?;
    let rule = LoyaltyRule {
        points_per_visit: b.points_per_visit,
        points_per_euro: b.points_per_euro,
        reward_threshold: b.reward_threshold,
        reward_text: b.reward_text.unwrap_or_default(),
    }
    .normalized()
    .map_err(|e| invalid(e.to_string()))?;
    let t = p.tenant(&state);
    t.set_loyalty_rule(&rule, state.clock.now()).await?;
    Ok(Json(rule))
}

/// What an appointment in `status` is called in a refusal.
fn state_it(status: AppointmentStatus) -> &'static str {
    match status {
        AppointmentStatus::Booked => "prenotato",
        AppointmentStatus::Cancelled => "annullato",
        AppointmentStatus::Completed => "già completato",
        AppointmentStatus::NoShow => "segnato come mancata presentazione",
    }
}

fn completion_error(e: CompletionError) -> ApiError {
    match e {
        CompletionError::NotFound(id) => ApiError::NotFound(format!("appuntamento {id} inesistente")),
        CompletionError::NotBooked(id, status) => ApiError::Conflict(format!("l'appuntamento {id} è {}", state_it(status))),
        CompletionError::NotStarted(id) => {
            ApiError::Conflict(format!("l'appuntamento {id} non è ancora iniziato: si può segnare come completato solo dopo l'inizio"))
        }
        CompletionError::Store(e) => ApiError::from(e),
    }
}

/// `POST /api/appointments/{id}/complete` (owner or staff) → `{appointment:
/// {…as GET /api/appointments}, price_cents, loyalty: {earned, points,
/// reward, reward_notice}, receipt: {url, emailed}}`: the appointment is
/// completed, the client gets the rule's points, a reward notice is queued
/// when their points reach a new multiple of the threshold, and for a car
/// workshop the receipt is e-mailed (with consent), all at once.
///
/// Errors: 404 unknown; 409 when it is not booked (completing twice gives
/// 409 and no more points) or has not started yet at the server's clock.
pub async fn complete(State(state): State<Arc<AppState>>, p: Principal, Path(id): Path<Id>) -> Result<Json<CompletionView>, ApiError> {
    let engine = engine(&state, &p).await?;
    let tenant = p.tenant(&state);
    let done = tenant.complete(id, state.clock.now()).await.map_err(completion_error)?;
    let client = tenant.client(done.appointment.client_id).await?;
    Ok(Json(CompletionView {
        appointment: super::appointments::appointment_view(engine.info(), &done.appointment, client.as_ref()),
        price_cents: done.price_cents,
        loyalty: LoyaltyOutcome { earned: done.points_earned, points: done.points, reward: done.reward, reward_notice: done.reward_notice },
        receipt: ReceiptLink { url: format!("/api/appointments/{id}/receipt.pdf"), emailed: done.receipt_email },
    }))
}

/// `GET /api/appointments/{id}/receipt.pdf` → `application/pdf`, shown
/// inline as `ricevuta-<id>.pdf` (completed) or `preventivo-<id>.pdf`
/// (booked): business, client, date, service with price, VAT 22 % split,
/// total, "Documento non fiscale".
///
/// Errors: 404 unknown; 409 a cancelled or missed appointment.
pub async fn receipt(State(state): State<Arc<AppState>>, p: Principal, Path(id): Path<Id>) -> Result<impl IntoResponse, ApiError> {
    let (status, receipt) =
        p.tenant(&state).receipt(id).await?.ok_or_else(|| ApiError::NotFound(format!("appuntamento {id} inesistente")))?;
    if !matches!(status, AppointmentStatus::Booked | AppointmentStatus::Completed) {
        return Err(ApiError::Conflict(format!("l'appuntamento {id} è {}: nessuna ricevuta", state_it(status))));
    }
    let disposition = format!("inline; filename=\"{}\"", receipt.file_name());
    Ok(([(header::CONTENT_TYPE, "application/pdf".to_string()), (header::CONTENT_DISPOSITION, disposition)], receipt.pdf()))
}
