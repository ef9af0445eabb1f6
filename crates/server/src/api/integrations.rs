//! A business's integrations (`GET/PUT /api/integrations`, owner only):
//! phone provider, WhatsApp Cloud API, SMTP e-mail and language model.
//! Secrets are write-only: the answer says of each one whether it is set
//! (`{"set": true}`), never its value, and nothing here logs a body. A
//! write rebuilds the business's engine, so a new language-model key is
//! used on the next turn; the webhooks read the settings on every request.

use std::sync::Arc;

use axum::extract::rejection::JsonRejection;
use axum::extract::State;
use axum::Json;

use super::{reload, ApiError};
use crate::app::AppState;
use crate::auth::Principal;
use crate::store::{IntegrationsUpdate, IntegrationsView};

/// `GET /api/integrations` → [`IntegrationsView`]: `{phone: {provider,
/// account_id, auth_token: {set}}, whatsapp: {phone_number_id,
/// access_token: {set}, app_secret: {set}, verify_token: {set}}, email:
/// {host, port, user, password: {set}, from}, llm: {provider, model,
/// api_key: {set}}}`; `null` follows the server's configuration.
///
/// Errors: 403 staff.
pub async fn get(State(state): State<Arc<AppState>>, p: Principal) -> Result<Json<IntegrationsView>, ApiError> {
    p.require_owner()?;
    Ok(Json(p.tenant(&state).integrations().await?.view()))
}

/// `PUT /api/integrations` with an [`IntegrationsUpdate`] → the settings as
/// `GET` shows them. A section left out is unchanged; in a section given,
/// non-secret fields replace the stored ones (absent or empty: unset) and a
/// secret absent, `null` or `""` keeps the stored one; `"clear":
/// ["phone_auth_token", …]` removes secrets.
///
/// Errors: 400 malformed JSON or an unknown field; 403 staff; 422
/// `{"error", "fields": {"email.port": "…"}}` with an Italian message per
/// refused field.
pub async fn put(
    State(state): State<Arc<AppState>>,
    p: Principal,
    body: Result<Json<IntegrationsUpdate>, JsonRejection>,
) -> Result<Json<IntegrationsView>, ApiError> {
    p.require_owner()?;
    let Json(update) = body?;
    let t = p.tenant(&state);
    let current = t.integrations().await?;
    let next = update.apply(&current).map_err(ApiError::Fields)?;
    t.set_integrations(&next, state.clock.now()).await?;
    tracing::info!(tenant = t.id(), "integrations changed");
    reload(&state, &p).await?;
    Ok(Json(next.view()))
}
