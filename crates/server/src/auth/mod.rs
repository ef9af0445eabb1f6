//! Who is calling the API: console accounts (browser sessions), API tokens
//! (`Authorization: Bearer …`), and the [`Principal`] extractor every
//! `/api/*` handler takes. The contract with the console pages is in
//! `CONSOLE_CONTRACT.md`:
//!
//! - a browser logs in with `POST /api/login` and gets the cookie
//!   [`SESSION_COOKIE`] (HttpOnly, SameSite=Strict, Secure when
//!   `PUBLIC_URL` is https, [`SESSION_TTL`]) and a CSRF token; every unsafe
//!   method (POST, PUT, PATCH, DELETE) authenticated by the cookie must send
//!   that token in [`CSRF_HEADER`];
//! - machine clients send a token made with `fluxion token create`; bearer
//!   requests need no CSRF token (a browser never adds that header by
//!   itself);
//! - a principal is *trusted* when a `phone` it sends is the caller's
//!   verified identity: console sessions and owner-made tokens are; tokens
//!   made with `--untrusted` (a public chat widget, say) are not.

pub mod limit;
pub mod secret;

use std::sync::Arc;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, Method};
use jiff::{SignedDuration, Timestamp};
use serde::Serialize;
use subtle::ConstantTimeEq;

use fluxion_core::booking::Id;

use crate::api::ApiError;
use crate::app::AppState;
use crate::store::{Role, Tenant};

/// Name of the browser session cookie.
pub const SESSION_COOKIE: &str = "fluxion_session";
/// Header carrying the CSRF token on unsafe requests authenticated by cookie.
pub const CSRF_HEADER: &str = "x-csrf-token";
/// How long a browser session lasts.
pub const SESSION_TTL: SignedDuration = SignedDuration::from_hours(12);

/// Who a request acts for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum Who {
    /// A console account, through its browser session.
    User {
        /// Account id.
        id: Id,
        /// Login name.
        username: String,
        /// What it may do.
        role: Role,
    },
    /// An API token.
    Token {
        /// Token id.
        id: Id,
        /// Its name.
        name: String,
    },
}

/// An authenticated caller of the API: which business it acts on and who it
/// is. Every query a handler makes goes through `principal.tenant(&store)`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Principal {
    /// The business (tenant id).
    pub tenant: Id,
    /// The account or token.
    pub who: Who,
    /// Whether a `phone` it sends is the caller's verified identity.
    pub trusted: bool,
    /// The session's CSRF token (browser sessions only).
    #[serde(skip)]
    pub csrf_token: Option<String>,
}

impl Principal {
    /// What it may do (tokens act for the owner).
    pub fn role(&self) -> Role {
        match &self.who {
            Who::User { role, .. } => *role,
            Who::Token { .. } => Role::Owner,
        }
    }

    /// The store seen by its business.
    pub fn tenant(&self, state: &AppState) -> Tenant {
        state.store.tenant(self.tenant)
    }

    /// A short key naming it (`user:ID` or `token:ID`), e.g. to keep its
    /// conversations apart from other clients'.
    pub fn key(&self) -> String {
        match &self.who {
            Who::User { id, .. } => format!("user:{id}"),
            Who::Token { id, .. } => format!("token:{id}"),
        }
    }

    /// `Ok` for owners (and tokens); 403 for staff.
    ///
    /// # Errors
    /// [`ApiError::Forbidden`] for staff accounts.
    pub fn require_owner(&self) -> Result<(), ApiError> {
        match self.role() {
            Role::Owner => Ok(()),
            Role::Staff => Err(ApiError::Forbidden("operazione riservata al titolare".into())),
        }
    }
}

/// The bearer token of `Authorization: Bearer …`, if any.
fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(axum::http::header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.trim().split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim()).filter(|t| !t.is_empty())
}

/// The value of cookie `name`, if the request carries it.
pub fn cookie<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    headers
        .get_all(axum::http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(cookie::Cookie::split_parse)
        .filter_map(Result::ok)
        .find(|c| c.name() == name)
        .and_then(|c| c.value_raw())
        .filter(|v| !v.is_empty())
}

/// Authenticates a request from its method and headers at `now`.
///
/// # Errors
/// 401 without valid credentials; 403 for an unsafe method authenticated by
/// cookie without the session's CSRF token; 503 when the database fails.
pub async fn authenticate(state: &AppState, method: &Method, headers: &HeaderMap, now: Timestamp) -> Result<Principal, ApiError> {
    if let Some(token) = bearer(headers) {
        let t = state.store.token_by_digest(&secret::digest(token)).await?.ok_or_else(unauthenticated)?;
        return Ok(Principal { tenant: t.business_id, who: Who::Token { id: t.id, name: t.name }, trusted: t.trusted, csrf_token: None });
    }
    let Some(sid) = cookie(headers, SESSION_COOKIE) else { return Err(unauthenticated()) };
    let s = state.store.session_by_digest(&secret::digest(sid), now).await?.ok_or_else(unauthenticated)?;
    if !method.is_safe() {
        let sent = headers.get(CSRF_HEADER).map(|v| v.as_bytes()).unwrap_or_default();
        if !bool::from(sent.ct_eq(s.csrf_token.as_bytes())) {
            return Err(ApiError::Forbidden("token CSRF mancante o non valido".into()));
        }
    }
    Ok(Principal {
        tenant: s.business_id,
        who: Who::User { id: s.user_id, username: s.username, role: s.role },
        trusted: true,
        csrf_token: Some(s.csrf_token),
    })
}

fn unauthenticated() -> ApiError {
    ApiError::Unauthorized("accesso richiesto: effettui il login o usi un token (Authorization: Bearer …)".into())
}

impl FromRequestParts<Arc<AppState>> for Principal {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &Arc<AppState>) -> Result<Self, ApiError> {
        if let Some(p) = parts.extensions.get::<Principal>() {
            return Ok(p.clone());
        }
        let p = authenticate(state, &parts.method, &parts.headers, Timestamp::now()).await?;
        parts.extensions.insert(p.clone());
        Ok(p)
    }
}

/// Makes an API token for `tenant`; returns its id and the token itself
/// (shown once: only its digest is stored).
///
/// # Errors
/// No randomness, or the database fails.
pub async fn create_token(tenant: &Tenant, name: &str, trusted: bool) -> anyhow::Result<(Id, String)> {
    let token = secret::random_token(secret::TOKEN_PREFIX)?;
    let id = tenant.add_token(name, &secret::digest(&token), trusted).await?;
    Ok((id, token))
}

/// Adds a console account to `tenant` with an Argon2id hash of `password`.
///
/// # Errors
/// Password too short, the name is taken, or the database fails.
pub async fn create_user(tenant: &Tenant, username: &str, password: &str, role: Role) -> anyhow::Result<Id> {
    let username = username.trim();
    if username.is_empty() || username.len() > 200 || username.chars().any(char::is_control) {
        anyhow::bail!("the user name must be 1–200 printable characters");
    }
    let password = password.to_string();
    let hash = tokio::task::spawn_blocking(move || secret::hash_password(&password)).await??;
    Ok(tenant.add_user(username, &hash, role).await?)
}

/// Opens a browser session for account `user_id` of `tenant`; returns the
/// session id (the cookie's value) and its CSRF token.
///
/// # Errors
/// No randomness, or the database fails.
pub async fn open_session(tenant: &Tenant, user_id: Id, now: Timestamp) -> Result<(String, String), ApiError> {
    let sid = secret::random_token("").map_err(|e| ApiError::Unavailable(e.to_string()))?;
    let csrf = secret::random_token("").map_err(|e| ApiError::Unavailable(e.to_string()))?;
    let expires = now.checked_add(SESSION_TTL).map_err(|e| ApiError::Unavailable(e.to_string()))?;
    tenant.add_session(user_id, &secret::digest(&sid), &csrf, expires).await?;
    Ok((sid, csrf))
}

/// The `Set-Cookie` value for session `sid` (`None`: clear the cookie).
pub fn session_cookie(sid: Option<&str>) -> String {
    let secure = std::env::var("PUBLIC_URL").is_ok_and(|u| u.trim().to_ascii_lowercase().starts_with("https://"));
    let max_age = if sid.is_some() { SESSION_TTL.as_secs() } else { 0 };
    let mut c = cookie::Cookie::build((SESSION_COOKIE, sid.unwrap_or("").to_string()))
        .path("/")
        .http_only(true)
        .same_site(cookie::SameSite::Strict)
        .max_age(cookie::time::Duration::seconds(max_age))
        .build();
    c.set_secure(secure);
    c.to_string()
}
