//! The console's pages: which exist ([`PAGES`]), who may open them, and the
//! handlers that check the session and render their shells.

use std::sync::Arc;

use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::{header, HeaderValue, StatusCode, Uri};
use axum::response::{Html, IntoResponse, Redirect, Response};
use fluxion_core::booking::Repository;
use minijinja::context;

use crate::api::ApiError;
use crate::app::AppState;
use crate::auth::Principal;
use crate::store::Role;

use super::render::{self, italian_date};

/// One console page.
#[derive(Debug)]
pub struct Page {
    /// URL path.
    pub path: &'static str,
    /// Template (and script) name.
    pub name: &'static str,
    /// Title and menu label, in Italian.
    pub title: &'static str,
    /// Only the owner may open it (staff get 403).
    pub owner_only: bool,
}

/// Every page behind the login, in menu order.
pub static PAGES: &[Page] = &[
    Page { path: "/", name: "oggi", title: "Oggi", owner_only: false },
    Page { path: "/calendario", name: "calendario", title: "Calendario", owner_only: false },
    Page { path: "/clienti", name: "clienti", title: "Clienti", owner_only: false },
    Page { path: "/chiamate", name: "chiamate", title: "Chiamate", owner_only: false },
    Page { path: "/servizi", name: "servizi", title: "Servizi", owner_only: true },
    Page { path: "/operatori", name: "operatori", title: "Operatori", owner_only: true },
    Page { path: "/orari", name: "orari", title: "Orari e chiusure", owner_only: true },
    Page { path: "/faq", name: "faq", title: "FAQ", owner_only: true },
    Page { path: "/impostazioni", name: "impostazioni", title: "Impostazioni", owner_only: true },
    Page { path: "/statistiche", name: "statistiche", title: "Statistiche", owner_only: true },
    Page { path: "/stato", name: "stato", title: "Stato", owner_only: false },
];

/// One call or chat session with its transcript: `/chiamate/{session}`
/// (not in the menu; "Chiamate" stays highlighted).
pub static CALL_PAGE: Page = Page { path: "/chiamate", name: "chiamata", title: "Chiamata", owner_only: false };

/// Whether the database holds no business yet (set-up mode).
async fn setup_mode(state: &AppState) -> Result<bool, ApiError> {
    Ok(state.store.default_tenant().await?.is_none())
}

/// `/login?next=<path>` for a request to `uri`.
fn to_login(uri: &Uri) -> Response {
    let target = uri.path_and_query().map(|p| p.as_str()).unwrap_or("/");
    let next: String = url::form_urlencoded::byte_serialize(target.as_bytes()).collect();
    Redirect::to(&format!("/login?next={next}")).into_response()
}

/// A same-site path to go to after login: `next` when it is a local path,
/// `/` otherwise (never another site: no open redirect).
pub fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(n) if n.starts_with('/') && !n.starts_with("//") && !n.starts_with("/\\") && !n.chars().any(char::is_control) => n.to_string(),
        _ => "/".to_string(),
    }
}

/// A fresh CSP nonce for one response (the calendar widget marks the
/// `<style>` element it injects with it).
fn nonce() -> String {
    crate::auth::secret::random_token("").unwrap_or_default()
}

/// `html` with the console's security headers: a CSP allowing only this
/// site's scripts (no inline script), inline styles only with `nonce`, no
/// framing; no sniffing, no referrer, never cached.
fn page_response(status: StatusCode, html: String, nonce: &str) -> Response {
    let csp = format!(
        "default-src 'self'; script-src 'self'; style-src 'self' 'nonce-{nonce}'; img-src 'self' data:; media-src 'self'; \
         connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    );
    let mut response = (status, Html(html)).into_response();
    let h = response.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&csp) {
        h.insert(header::CONTENT_SECURITY_POLICY, v);
    }
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    h.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// Renders template `name` with `ctx` (plus the asset version and a CSP
/// nonce) as a page with `status`; a rendering failure is a 500 page.
fn render_page(status: StatusCode, name: &str, ctx: minijinja::Value) -> Response {
    let nonce = nonce();
    let ctx = context! { asset_v => super::assets::version(), nonce => &nonce, ..ctx };
    match render::render(name, ctx) {
        Ok(html) => page_response(status, html, &nonce),
        Err(e) => {
            tracing::error!(error = %e, template = name, "console template failed");
            page_response(StatusCode::INTERNAL_SERVER_ERROR, "Errore interno nel preparare la pagina.".into(), &nonce)
        }
    }
}

/// An error page in Italian with `status`.
fn error_page(status: StatusCode, message: &str) -> Response {
    render_page(status, "errore.html", context! { title => "Errore", message => message })
}

fn unavailable(e: ApiError) -> Response {
    tracing::error!(error = %e, "console page unavailable");
    error_page(StatusCode::SERVICE_UNAVAILABLE, "Servizio momentaneamente non disponibile: riprovi tra poco.")
}

/// A page behind the login: redirects to `/setup` in set-up mode and to
/// `/login` without a session; 403 for staff on owner-only pages.
pub async fn show(page: &'static Page, State(state): State<Arc<AppState>>, principal: Result<Principal, ApiError>, uri: Uri) -> Response {
    match setup_mode(&state).await {
        Ok(true) => return Redirect::to("/setup").into_response(),
        Ok(false) => {}
        Err(e) => return unavailable(e),
    }
    let principal = match principal {
        Ok(p) => p,
        Err(ApiError::Unauthorized(_)) => return to_login(&uri),
        Err(e) => return unavailable(e),
    };
    let owner = principal.role() == Role::Owner;
    if page.owner_only && !owner {
        return error_page(StatusCode::FORBIDDEN, "Questa pagina è riservata al titolare.");
    }
    let tenant = principal.tenant(&state);
    let business = match tenant.business().await {
        Ok(b) => b,
        Err(e) => return unavailable(ApiError::Unavailable(e.to_string())),
    };
    let today = match jiff::tz::TimeZone::get(&business.timezone) {
        Ok(tz) => state.clock.now().to_zoned(tz).date(),
        Err(_) => state.clock.now().to_zoned(jiff::tz::TimeZone::UTC).date(),
    };
    let date = uri
        .query()
        .and_then(|q| url::form_urlencoded::parse(q.as_bytes()).find(|(k, _)| k == "data"))
        .and_then(|(_, v)| v.parse::<jiff::civil::Date>().ok())
        .unwrap_or(today);
    let nav: Vec<_> = PAGES
        .iter()
        .filter(|p| owner || !p.owner_only)
        .map(|p| context! { path => p.path, title => p.title, current => p.path == page.path })
        .collect();
    let user = match &principal.who {
        crate::auth::Who::User { username, .. } => username.clone(),
        crate::auth::Who::Token { name, .. } => name.clone(),
    };
    let ctx = context! {
        title => page.title,
        page => page.name,
        nav => nav,
        business => business.name,
        user => user,
        role => if owner { "owner" } else { "staff" },
        csrf => principal.csrf_token.unwrap_or_default(),
        today => today.to_string(),
        today_it => italian_date(today),
        date => date.to_string(),
    };
    render_page(StatusCode::OK, &format!("{}.html", page.name), ctx)
}

/// Query of `/login`.
#[derive(Debug, serde::Deserialize)]
pub struct LoginQuery {
    /// Where to go after logging in.
    pub next: Option<String>,
}

/// `GET /login`: the login form (redirects to `next` when already logged
/// in, to `/setup` in set-up mode).
pub async fn login(
    State(state): State<Arc<AppState>>,
    principal: Result<Principal, ApiError>,
    query: Result<Query<LoginQuery>, QueryRejection>,
) -> Response {
    let next = safe_next(query.as_ref().ok().and_then(|q| q.next.as_deref()));
    match setup_mode(&state).await {
        Ok(true) => return Redirect::to("/setup").into_response(),
        Ok(false) => {}
        Err(e) => return unavailable(e),
    }
    if principal.is_ok() {
        return Redirect::to(&next).into_response();
    }
    render_page(StatusCode::OK, "login.html", context! { title => "Accesso", next => next })
}

/// `GET /setup` on the full server: the business exists, so a redirect to
/// `/` (the wizard itself is [`wizard`], served in set-up mode).
pub async fn setup(State(state): State<Arc<AppState>>) -> Response {
    match setup_mode(&state).await {
        Ok(true) => wizard().await,
        Ok(false) => Redirect::to("/").into_response(),
        Err(e) => unavailable(e),
    }
}

/// `GET /setup` in set-up mode: the first-run wizard.
pub async fn wizard() -> Response {
    render_page(StatusCode::OK, "setup.html", context! { title => "Configurazione iniziale" })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_stays_on_this_site() {
        assert_eq!(safe_next(Some("/calendario?data=2027-03-11")), "/calendario?data=2027-03-11");
        assert_eq!(safe_next(Some("//evil.example/")), "/");
        assert_eq!(safe_next(Some("/\\evil.example/")), "/");
        assert_eq!(safe_next(Some("https://evil.example/")), "/");
        assert_eq!(safe_next(None), "/");
    }

    #[test]
    fn every_page_has_a_template() {
        for p in PAGES.iter().chain([&CALL_PAGE]) {
            assert!(render::has_template(&format!("{}.html", p.name)), "{}", p.name);
        }
    }
}
