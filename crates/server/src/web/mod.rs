//! The owner's web console, in Italian, served by `fluxion serve` at `/`:
//! server-rendered page shells (minijinja templates embedded in the binary)
//! whose small scripts read and write through the JSON API (`/api/*`, see
//! `CONSOLE_CONTRACT.md`) with the session cookie and the CSRF token the page
//! carries in `<meta name="csrf-token">`.
//!
//! Every page requires a console session (otherwise a redirect to
//! `/login?next=…`); while the database holds no business every page
//! redirects to the set-up wizard `/setup`. Pages only ever show what the
//! API returns for the session's own business.

pub mod assets;
mod pages;
mod render;

use std::sync::Arc;

use axum::extract::State;
use axum::http::Uri;
use axum::response::Redirect;
use axum::routing::get;
use axum::Router;

use crate::api::ApiError;
use crate::app::AppState;
use crate::auth::Principal;

pub use pages::{Page, CALL_PAGE, PAGES};

/// The console's routes: `/static/*`, `/login`, `/setup`, one route per
/// entry of [`PAGES`] and the call detail `/chiamate/{session}`
/// ([`CALL_PAGE`]).
pub fn router() -> Router<Arc<AppState>> {
    let mut router = Router::new()
        .route("/static/{*path}", get(assets::serve))
        .route("/login", get(pages::login))
        .route("/setup", get(pages::setup))
        .route(
            "/chiamate/{session}",
            get(|state: State<Arc<AppState>>, principal: Result<Principal, ApiError>, uri: Uri| {
                pages::show(&CALL_PAGE, state, principal, uri)
            }),
        );
    for page in PAGES {
        router = router.route(
            page.path,
            get(move |state: State<Arc<AppState>>, principal: Result<Principal, ApiError>, uri: Uri| {
                pages::show(page, state, principal, uri)
            }),
        );
    }
    router
}

/// The console while the database holds no business (set-up mode, merged
/// into the set-up server's router): `/static/*`, the wizard at `/setup`,
/// and `/`, `/login` and every page redirecting to it.
pub fn setup_router() -> Router {
    let mut router = Router::new()
        .route("/static/{*path}", get(assets::serve))
        .route("/setup", get(pages::wizard))
        .route("/login", get(to_setup))
        .route("/chiamate/{session}", get(to_setup));
    for page in PAGES {
        router = router.route(page.path, get(to_setup));
    }
    router
}

async fn to_setup() -> Redirect {
    Redirect::to("/setup")
}
