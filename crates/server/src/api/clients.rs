//! Clients for the console: `GET /api/clients?q=` (search by name or
//! number; all without `q`), `POST /api/clients`, `PUT /api/clients/{id}`,
//! the owner's GDPR requests `GET /api/clients/{id}/export` and
//! `DELETE /api/clients/{id}` (see [`crate::store::gdpr`]),
//! `GET /api/clients.csv` and `POST /api/clients/import` (CSV, the usual
//! export of salon software: a header row naming `nome`/`name`,
//! `telefono`/`cellulare`/`phone`, optionally `email`; `,` or `;`).

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use fluxion_core::booking::{Client, Id, Repository};

use super::csv_io::{ImportReport, SkippedRow};
use super::settings::invalid;
use super::{csv_io, ApiError};
use crate::app::AppState;
use crate::auth::Principal;
use crate::store::{ClientUpdate, Erasure};

/// `?q=`.
#[derive(Debug, Deserialize, IntoParams)]
pub struct Search {
    /// Part of a name or number (absent or blank: every client).
    pub q: Option<String>,
}

/// `{"clients": […]}`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ClientList {
    /// The clients (at most 200 for a search).
    pub clients: Vec<Client>,
}

/// The channels a client agreed to receive service messages on.
#[derive(Debug, Clone, Copy, Serialize, ToSchema)]
pub struct NotifyConsent {
    /// WhatsApp.
    pub whatsapp: bool,
    /// SMS.
    pub sms: bool,
    /// E-mail.
    pub email: bool,
}

/// A client with the channels of their service messages.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ClientView {
    /// The client.
    #[serde(flatten)]
    pub client: Client,
    /// Consents to service messages per channel.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub notify: Option<NotifyConsent>,
}

/// `DELETE /api/clients/{id}` answer: what the erasure removed.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ClientErased {
    /// Counts of what was removed or anonymised.
    #[serde(flatten)]
    pub erasure: Erasure,
    /// The client.
    pub id: Id,
    /// Always `true`.
    pub erased: bool,
}

/// `GET /api/clients[?q=…]` → `{"clients": [{id, name, phone, email,
/// consent_marketing, consent_recording, loyalty_points}]}`.
pub async fn list(
    State(state): State<Arc<AppState>>,
    p: Principal,
    q: Result<Query<Search>, QueryRejection>,
) -> Result<Json<ClientList>, ApiError> {
    let Query(q) = q?;
    let t = p.tenant(&state);
    let list = match q.q.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        Some(q) => t.search_clients(q, 200).await?,
        None => t.clients().await?,
    };
    Ok(Json(ClientList { clients: list }))
}

/// `POST /api/clients` body.
#[derive(Debug, Deserialize, ToSchema)]
pub struct ClientBody {
    /// Full name (not blank).
    pub name: String,
    /// Phone: E.164 (`+393331234567`) or Italian national format; stored
    /// as E.164.
    pub phone: String,
    /// E-mail address.
    #[serde(default)]
    pub email: Option<String>,
}

/// `POST /api/clients` → 201 with the client (an existing client with that
/// number is updated).
pub async fn create(
    State(state): State<Arc<AppState>>,
    p: Principal,
    body: Result<Json<ClientBody>, JsonRejection>,
) -> Result<(StatusCode, Json<Client>), ApiError> {
    let Json(b) = body?;
    if b.name.trim().is_empty() {
        return Err(invalid("nome del cliente obbligatorio"));
    }
    let phone = super::voice::caller_phone(&b.phone)?;
    let c = p.tenant(&state).upsert_client(b.name.trim(), &phone, b.email.as_deref().map(str::trim).filter(|e| !e.is_empty())).await?;
    Ok((StatusCode::CREATED, Json(c)))
}

/// `PUT /api/clients/{id}` body: fields to change (absent: unchanged).
#[derive(Debug, Deserialize, ToSchema)]
pub struct ClientPatch {
    /// Full name.
    pub name: Option<String>,
    /// Email (`""` removes it).
    pub email: Option<String>,
    /// Consent to reminders and marketing.
    pub consent_marketing: Option<bool>,
    /// Consent to call recording.
    pub consent_recording: Option<bool>,
    /// Consent to service messages (confirmations, reminders) on WhatsApp.
    pub notify_whatsapp: Option<bool>,
    /// … by SMS.
    pub notify_sms: Option<bool>,
    /// … by e-mail.
    pub notify_email: Option<bool>,
}

/// `PUT /api/clients/{id}` → the client, with `notify: {whatsapp, sms,
/// email}`, the channels they agreed to receive service messages on.
pub async fn update(
    State(state): State<Arc<AppState>>,
    p: Principal,
    Path(id): Path<Id>,
    body: Result<Json<ClientPatch>, JsonRejection>,
) -> Result<Json<ClientView>, ApiError> {
    let Json(b) = body?;
    let update = ClientUpdate {
        name: b.name.map(|n| n.trim().to_string()).filter(|n| !n.is_empty()),
        email: b.email.map(|e| Some(e.trim().to_string()).filter(|e| !e.is_empty())),
        consent_marketing: b.consent_marketing,
        consent_recording: b.consent_recording,
    };
    let t = p.tenant(&state);
    let c = t.update_client(id, &update).await?.ok_or_else(|| unknown(id))?;
    if b.notify_whatsapp.is_some() || b.notify_sms.is_some() || b.notify_email.is_some() {
        t.set_notify_consent(id, b.notify_whatsapp, b.notify_sms, b.notify_email).await?;
    }
    let notify = t.client_contact(id).await?.map(|contact| NotifyConsent {
        whatsapp: contact.notify_whatsapp != 0,
        sms: contact.notify_sms != 0,
        email: contact.notify_email != 0,
    });
    Ok(Json(ClientView { client: c, notify }))
}

/// `GET /api/clients/{id}/export` (owner) → everything stored about the
/// client as one JSON document, as a download `cliente-{id}.json`:
/// `{client, consents, appointments, calls, chat_history, callbacks,
/// waitlist, whatsapp_messages}` ([`crate::store::ClientExport`]).
///
/// Errors: 403 for staff, 404 unknown client.
pub async fn export(State(state): State<Arc<AppState>>, p: Principal, Path(id): Path<Id>) -> Result<impl IntoResponse, ApiError> {
    p.require_owner()?;
    let data = p.tenant(&state).client_export(id).await?.ok_or_else(|| unknown(id))?;
    let disposition = format!("attachment; filename=\"cliente-{id}.json\"");
    Ok(([(header::CONTENT_DISPOSITION, disposition)], Json(data)))
}

/// `DELETE /api/clients/{id}` (owner) → `{"id", "erased": true,
/// "appointments_anonymised", "chat_turns", "calls", "callbacks", "waitlist",
/// "whatsapp_messages", "dialogues"}`: the client is erased in one transaction (their
/// appointments are kept without name or number, upcoming ones cancelled;
/// conversations (with their stored state), call records, requests and
/// messages deleted), then the calls' recording files are deleted.
///
/// Errors: 403 for staff, 404 unknown client.
pub async fn erase(State(state): State<Arc<AppState>>, p: Principal, Path(id): Path<Id>) -> Result<Json<ClientErased>, ApiError> {
    p.require_owner()?;
    let erased = p.tenant(&state).erase_client(id, state.clock.now()).await?.ok_or_else(|| unknown(id))?;
    for path in &erased.recordings {
        if let Err(e) = crate::telephony::recording::delete(path) {
            tracing::error!(error = %e, client = id, "erasure: a recording file could not be deleted");
        }
    }
    tracing::info!(client = id, calls = erased.calls, chat_turns = erased.chat_turns, "client erased on request");
    Ok(Json(ClientErased { erasure: erased, id, erased: true }))
}

fn unknown(id: Id) -> ApiError {
    ApiError::NotFound(format!("cliente {id} inesistente"))
}

/// `GET /api/clients.csv` → `text/csv`: `nome,telefono,email,
/// consenso_marketing,consenso_registrazione,punti`.
pub async fn export_csv(State(state): State<Arc<AppState>>, p: Principal) -> Result<Response, ApiError> {
    let list = p.tenant(&state).clients().await?;
    let flag = |b: bool| if b { "si" } else { "no" }.to_string();
    let rows = list.iter().map(|c| {
        vec![
            c.name.clone(),
            c.phone.clone(),
            c.email.clone().unwrap_or_default(),
            flag(c.consent_marketing),
            flag(c.consent_recording),
            c.loyalty_points.to_string(),
        ]
    });
    csv_io::download("clienti.csv", &["nome", "telefono", "email", "consenso_marketing", "consenso_registrazione", "punti"], rows)
}

/// `POST /api/clients/import` (body `text/csv`) → `{"imported", "skipped":
/// [{"line", "error"}]}`. Rows with a known number update that client.
///
/// Errors: 400 no header with a name and a phone column, more than
/// [`csv_io::MAX_IMPORT_ROWS`] rows.
pub async fn import_csv(State(state): State<Arc<AppState>>, p: Principal, body: Bytes) -> Result<Json<ImportReport>, ApiError> {
    let upload = csv_io::Upload::new(&body)?;
    let name = upload.column(&["nome", "name", "nome e cognome", "cliente"]);
    let (Some(name), Some(phone)) = (name, upload.column(&["telefono", "cellulare", "phone", "mobile", "tel"])) else {
        return Err(ApiError::bad("CSV: servono le colonne 'nome' e 'telefono' nella prima riga"));
    };
    let email = upload.column(&["email", "e-mail", "mail"]);
    let t = p.tenant(&state);
    let (mut imported, mut skipped) = (0usize, Vec::new());
    for (line, row) in upload.records(&mut skipped)? {
        let n = row.get(name).unwrap_or_default().trim();
        let ph = row.get(phone).unwrap_or_default();
        let phone = match super::voice::caller_phone(ph) {
            Ok(p) if !n.is_empty() => p,
            _ => {
                skipped.push(SkippedRow { line, error: format!("nome o telefono non valido ('{n}', '{ph}')") });
                continue;
            }
        };
        let mail = email.and_then(|e| row.get(e)).map(str::trim).filter(|e| !e.is_empty());
        t.upsert_client(n, &phone, mail).await?;
        imported += 1;
    }
    Ok(Json(ImportReport { imported, skipped }))
}
