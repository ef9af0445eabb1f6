//! The receptionist's settings (`GET/PUT /api/receptionist`, owner only):
//! the greeting for callers it does not know, the transfer number, call
//! recording, the reminder lead and who is told of callback requests. A
//! write rebuilds the business's engine, so the next call is greeted with
//! the new text.

use std::sync::Arc;

use axum::extract::rejection::JsonRejection;
use axum::extract::State;
use axum::Json;
use fluxion_core::booking::Repository;
use serde::Serialize;
use utoipa::ToSchema;

use super::settings::invalid;
use super::{reload, ApiError};
use crate::app::AppState;
use crate::auth::Principal;
use crate::store::ReceptionistSettings;

/// The receptionist's settings as `GET /api/receptionist` shows them.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ReceptionistView {
    /// What the receptionist says first to a caller it does not know
    /// (`null`: `default_greeting`).
    pub greeting: Option<String>,
    /// Where a caller who asks for a person is transferred, E.164 (`null`:
    /// the server's `TRANSFER_NUMBER`).
    pub transfer_number: Option<String>,
    /// Record calls (`null`: the server's `RECORD_CALLS`).
    pub record_calls: Option<bool>,
    /// Hours before an appointment its reminder goes, 0 for none (`null`:
    /// the server's `REMINDER_HOURS_BEFORE`).
    pub reminder_hours: Option<u32>,
    /// E-mail address told of callback requests (`null`: the server's).
    pub notify_email: Option<String>,
    /// Phone number (E.164) told of callback requests (`null`: the server's).
    pub notify_phone: Option<String>,
    /// The greeting used when `greeting` is `null`.
    pub default_greeting: String,
}

/// `GET /api/receptionist` → `{greeting, transfer_number, record_calls,
/// reminder_hours, notify_email, notify_phone, default_greeting}`: `null`
/// means the server's default (`TRANSFER_NUMBER`, `RECORD_CALLS`,
/// `REMINDER_HOURS_BEFORE`, `NOTIFY_OWNER_EMAIL`/`NOTIFY_OWNER_PHONE`, and
/// `default_greeting` for the greeting). `reminder_hours` is in hours, 0 for
/// no reminders.
///
/// Errors: 403 staff.
pub async fn get(State(state): State<Arc<AppState>>, p: Principal) -> Result<Json<ReceptionistView>, ApiError> {
    p.require_owner()?;
    let t = p.tenant(&state);
    let s = t.receptionist_settings().await?;
    let b = t.business().await.map_err(|e| ApiError::NotFound(e.to_string()))?;
    Ok(Json(ReceptionistView {
        greeting: s.greeting,
        transfer_number: s.transfer_number,
        record_calls: s.record_calls,
        reminder_hours: s.reminder_hours,
        notify_email: s.notify_email,
        notify_phone: s.notify_phone,
        default_greeting: format!("Buongiorno, {}. Come posso aiutarla?", b.name),
    }))
}

/// `PUT /api/receptionist` with `{greeting, transfer_number, record_calls,
/// reminder_hours, notify_email, notify_phone}` (each `null` or absent: the
/// server's default) → the settings as `GET` shows them.
///
/// Errors: 403 staff; 422 a greeting over 300 characters, a reminder lead
/// over 168 hours, a transfer or notice number that is not a phone number,
/// or a notice address that is not an e-mail address.
pub async fn put(
    State(state): State<Arc<AppState>>,
    p: Principal,
    body: Result<Json<ReceptionistSettings>, JsonRejection>,
) -> Result<Json<ReceptionistView>, ApiError> {
    p.require_owner()?;
    let Json(s) = body?;
    let s = s.normalized().map_err(|e| invalid(e.to_string()))?;
    p.tenant(&state).set_receptionist_settings(&s, state.clock.now()).await?;
    reload(&state, &p).await?;
    get(State(state), p).await
}
