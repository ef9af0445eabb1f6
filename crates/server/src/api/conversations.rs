//! Calls and chat sessions for the console's Chiamate page:
//! `GET /api/conversations?date=YYYY-MM-DD`, `GET /api/conversations/{session}`
//! (the transcript turn by turn) and `GET /api/calls/{id}/recording` (the
//! caller-side WAV). Staff see callers' numbers masked; the owner in full.

use std::sync::Arc;

use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::header;
use axum::response::IntoResponse;
use axum::Json;
use serde::Serialize;
use utoipa::ToSchema;

use fluxion_core::booking::Id;

use super::read::{engine, parse_date, utc_days, DateParam};
use super::ApiError;
use crate::app::AppState;
use crate::auth::Principal;
use crate::store::{Conversation, Role, TranscriptTurn};

/// Most conversations listed for one day.
pub const MAX_PER_DAY: u32 = 2_000;

/// A conversation as listed, with where its recording is.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ConversationView {
    /// The conversation (the caller's number masked for staff).
    #[serde(flatten)]
    pub conversation: Conversation,
    /// `/api/calls/{id}/recording` when the call was recorded.
    pub recording_url: Option<String>,
}

/// `GET /api/conversations` answer.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ConversationList {
    /// The local day, `YYYY-MM-DD`.
    pub date: String,
    /// Newest first.
    pub conversations: Vec<ConversationView>,
}

/// `GET /api/conversations/{session}` answer.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Transcript {
    /// The conversation as listed.
    pub conversation: ConversationView,
    /// Its turns, in order.
    pub turns: Vec<TranscriptTurn>,
}

/// A conversation as the principal may see it: the caller's number masked
/// for staff, the recording's URL when there is one.
fn shown(mut c: Conversation, p: &Principal) -> ConversationView {
    if p.role() == Role::Staff {
        c.caller = c.caller.as_deref().map(crate::observability::mask_phone);
    }
    let recording_url = c.call_id.filter(|_| c.recorded).map(|id| format!("/api/calls/{id}/recording"));
    ConversationView { conversation: c, recording_url }
}

/// `GET /api/conversations?date=YYYY-MM-DD` (default today) →
/// `{"date", "conversations": [{session_id, channel (voice|chat|whatsapp|
/// staff), call_id, started_at, ended_at, duration_ms, caller, client_id,
/// client_name, outcome, turns, recorded, recording_url}]}`: the calls
/// started and chat sessions active on that local day, newest first.
///
/// Errors: 400 bad date.
pub async fn list(
    State(state): State<Arc<AppState>>,
    p: Principal,
    q: Result<Query<DateParam>, QueryRejection>,
) -> Result<Json<ConversationList>, ApiError> {
    let Query(q) = q?;
    let engine = engine(&state, &p).await?;
    let date = parse_date(q.date.as_deref(), &state, &engine)?;
    let (from, to) = utc_days(&engine, date, date)?;
    let list = p.tenant(&state).conversations(&from, &to, MAX_PER_DAY).await?;
    let conversations = list.into_iter().map(|c| shown(c, &p)).collect();
    Ok(Json(ConversationList { date: date.to_string(), conversations }))
}

/// `GET /api/conversations/{session}` → `{"conversation": {…as listed},
/// "turns": [{role (user|assistant), text, intent, layer (L0…L4),
/// latency_ms, model, at}]}`.
///
/// Errors: 404 no such conversation.
pub async fn show(State(state): State<Arc<AppState>>, p: Principal, Path(session): Path<String>) -> Result<Json<Transcript>, ApiError> {
    let (c, turns) =
        p.tenant(&state).conversation(&session).await?.ok_or_else(|| ApiError::NotFound(format!("conversazione {session} inesistente")))?;
    Ok(Json(Transcript { conversation: shown(c, &p), turns }))
}

/// `GET /api/calls/{id}/recording` → `audio/wav`, the caller side of the
/// call's recording.
///
/// Errors: 404 no such call, not recorded, or the file is gone (deleted by
/// the retention).
pub async fn recording(State(state): State<Arc<AppState>>, p: Principal, Path(id): Path<Id>) -> Result<impl IntoResponse, ApiError> {
    let gone = || ApiError::NotFound(format!("nessuna registrazione per la chiamata {id}"));
    let path = p.tenant(&state).call_recording(id).await?.ok_or_else(gone)?;
    let bytes = tokio::fs::read(&path).await.map_err(|_| gone())?;
    Ok(([(header::CONTENT_TYPE, "audio/wav"), (header::CACHE_CONTROL, "no-store")], bytes))
}
