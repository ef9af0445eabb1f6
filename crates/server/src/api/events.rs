//! `GET /api/events`: the principal's business's live changes as
//! server-sent events (`event: appointment|call|callback`, `data: {"tenant",
//! "kind", "id", "action"}`), a keep-alive comment every 15 s, and `event:
//! lagged` when the page fell behind (it should re-read everything).

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::State;
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use futures::Stream;
use tokio::sync::broadcast::error::RecvError;

use crate::app::AppState;
use crate::auth::Principal;

/// The stream of the principal's business.
pub async fn events(State(state): State<Arc<AppState>>, p: Principal) -> Sse<impl Stream<Item = Result<SseEvent, Infallible>>> {
    let rx = state.store.events().subscribe();
    let tenant = p.tenant;
    let stream = futures::stream::unfold(rx, move |mut rx| async move {
        loop {
            match rx.recv().await {
                Ok(e) if e.tenant == tenant => {
                    let data = serde_json::to_string(&e).unwrap_or_default();
                    return Some((Ok(SseEvent::default().event(e.kind.as_str()).data(data)), rx));
                }
                Ok(_) => continue,
                Err(RecvError::Lagged(n)) => return Some((Ok(SseEvent::default().event("lagged").data(n.to_string())), rx)),
                Err(RecvError::Closed) => return None,
            }
        }
    });
    Sse::new(stream).keep_alive(KeepAlive::new().interval(Duration::from_secs(15)))
}
