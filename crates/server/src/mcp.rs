//! The MCP server (seed 000/001): the business's booking tools and its
//! clients, services and FAQ, for an MCP client on the business's machine
//! (Claude Desktop, Claude Code, an IDE…).
//!
//! Built on `rmcp`, the official Rust SDK of the Model Context Protocol, which
//! implements spec revision 2026-07-28
//! (<https://modelcontextprotocol.io/specification/2026-07-28>) and still
//! negotiates the `initialize` handshake of revisions 2024-11-05 through
//! 2025-11-25 with older clients.
//!
//! - Tools: every tool of [`fluxion_core::tools::specs`] (`get_disponibilita`,
//!   `create_appuntamento`, `search_clienti`, `get_faq`, …) with its JSON
//!   Schema, called with [`Scope::Staff`] and "now" from the [`Clock`]. A tool
//!   that fails (bad arguments, slot taken, unknown tool…) answers a normal
//!   tool result with `isError: true` whose text is the JSON of
//!   [`ToolError::to_json`](fluxion_core::tools::ToolError::to_json).
//! - Resources (`application/json`): [`CLIENTI_URI`], [`SERVIZI_URI`],
//!   [`FAQ_URI`]; an unknown URI is a protocol error (`-32002` resource not
//!   found; `-32602` on 2026-07-28).
//! - Transports: standard input/output ([`serve_stdio`]) and streamable HTTP
//!   at `/mcp` ([`serve_http`], seed 000 port 5000), optionally behind a
//!   bearer token.

use std::future::Future;
use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Router;
use rmcp::model::{
    CallToolRequestParams, CallToolResponse, CallToolResult, ContentBlock, Implementation, JsonObject, ListResourcesResult,
    ListToolsResult, PaginatedRequestParams, ReadResourceRequestParams, ReadResourceResponse, ReadResourceResult, Resource,
    ResourceContents, ServerCapabilities, ServerConfig, Tool,
};
use rmcp::service::RequestContext;
use rmcp::transport::streamable_http_server::session::local::LocalSessionManager;
use rmcp::transport::streamable_http_server::{StreamableHttpServerConfig, StreamableHttpService};
use rmcp::{ErrorData, RoleServer, ServerHandler, ServiceExt};
use serde_json::{json, Value};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use fluxion_core::booking::Repository;
use fluxion_core::tools::{self, Scope, ToolContext};

use crate::app::ServerEngine;
use crate::clock::Clock;

/// URI of the clients resource: `{"clients": [{id, name, phone (E.164),
/// email, consent_marketing, consent_recording, loyalty_points}]}`.
pub const CLIENTI_URI: &str = "fluxion://clienti";
/// URI of the services resource: `{"services": [{id, name, synonyms,
/// duration_min (minutes), price_cents (euro cents), operators: [name]}]}`.
pub const SERVIZI_URI: &str = "fluxion://servizi";
/// URI of the FAQ resource: `{"faq": [{id, category, questions, answer}]}`.
pub const FAQ_URI: &str = "fluxion://faq";
/// MIME type of every resource.
pub const JSON_MIME: &str = "application/json";
/// Path of the streamable HTTP endpoint.
pub const HTTP_PATH: &str = "/mcp";
/// Default TCP port of the MCP HTTP server (seed 000).
pub const DEFAULT_PORT: u16 = 5000;

const INSTRUCTIONS: &str = "Fluxion, receptionist AI dell'attività: orari liberi, prenotazioni, spostamenti e \
cancellazioni, clienti e FAQ. Passa le date come le dice il cliente (\"giovedì alle 10\") o in ISO 8601 locale: \
il server le risolve nel fuso dell'attività. Scrivi (confermato=true) solo dopo il sì del cliente. \
/ Fluxion, the business's AI receptionist: free slots, bookings, moves, cancellations, clients and FAQ. Pass \
dates as the customer says them or as local ISO 8601; the server resolves them in the business's time zone.";

/// The MCP handler: one per connection (stdio) or per request (stateless
/// HTTP); cheap to clone, it shares the engine.
#[derive(Clone)]
pub struct McpServer {
    engine: Arc<ServerEngine>,
    clock: Clock,
    tools: Arc<Vec<Tool>>,
}

impl McpServer {
    /// A handler over the engine (its store, pipeline and business facts) and
    /// the source of "now".
    pub fn new(engine: Arc<ServerEngine>, clock: Clock) -> Self {
        let tools = tools::specs()
            .into_iter()
            .map(|spec| {
                let schema = match spec.parameters {
                    Value::Object(map) => map,
                    _ => JsonObject::new(),
                };
                Tool::new(spec.name, spec.description, Arc::new(schema))
            })
            .collect();
        McpServer { engine, clock, tools: Arc::new(tools) }
    }

    /// The tools advertised by `tools/list`, in the registry's order.
    pub fn tools(&self) -> &[Tool] {
        &self.tools
    }

    /// The resources advertised by `resources/list`.
    pub fn resources() -> Vec<Resource> {
        [
            (CLIENTI_URI, "clienti", "Clienti", "Clienti con telefono, email e punti fedeltà / Clients with phone, email and loyalty points"),
            (
                SERVIZI_URI,
                "servizi",
                "Servizi",
                "Servizi con durata (minuti), prezzo (centesimi di euro) e operatori / Services with duration (min), price (euro cents) and operators",
            ),
            (FAQ_URI, "faq", "FAQ", "Domande frequenti e risposte dell'attività / The business's frequently asked questions"),
        ]
        .into_iter()
        .map(|(uri, name, title, description)| {
            Resource::new(uri, name).with_title(title).with_description(description).with_mime_type(JSON_MIME)
        })
        .collect()
    }

    /// The JSON body of resource `uri`; `None` for an unknown URI.
    ///
    /// # Errors
    /// The database fails.
    pub async fn resource_json(&self, uri: &str) -> Result<Option<Value>, fluxion_core::booking::StoreError> {
        let repo = self.engine.repo();
        Ok(Some(match uri {
            CLIENTI_URI => json!({ "clients": repo.clients().await? }),
            SERVIZI_URI => crate::api::read::services_json(self.engine.info()),
            FAQ_URI => {
                let faq: Vec<Value> = repo
                    .faqs()
                    .await?
                    .into_iter()
                    .map(|f| json!({ "id": f.id, "category": f.category, "questions": f.questions, "answer": f.answer }))
                    .collect();
                json!({ "faq": faq })
            }
            _ => return Ok(None),
        }))
    }

    /// Runs tool `name` with `arguments` as staff; failures become tool
    /// results with `is_error: true` and the error JSON as text.
    pub async fn call(&self, name: &str, arguments: Option<JsonObject>) -> CallToolResult {
        let args = arguments.map(Value::Object).unwrap_or(Value::Null);
        let now = self.clock.now();
        let ctx = ToolContext { now, scope: Scope::Staff, session_id: format!("mcp-{}", now.as_millisecond()) };
        match self.engine.tools().call(name, &args, &ctx).await {
            Ok((value, effects)) => {
                if let Some(a) = &effects.booking {
                    tracing::info!(tool = name, appointment = a.id, status = ?a.status, "mcp tool changed an appointment");
                } else {
                    tracing::debug!(tool = name, "mcp tool call");
                }
                if value.is_object() {
                    CallToolResult::structured(value)
                } else {
                    CallToolResult::success(vec![ContentBlock::text(value.to_string())])
                }
            }
            Err(e) => {
                tracing::info!(tool = name, error = %e, "mcp tool call failed");
                CallToolResult::error(vec![ContentBlock::text(e.to_json().to_string())])
            }
        }
    }
}

impl ServerHandler for McpServer {
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(ServerCapabilities::builder().enable_tools().enable_resources().build())
            .with_server_info(
                Implementation::new("fluxion", env!("CARGO_PKG_VERSION"))
                    .with_title("Fluxion")
                    .with_description("Receptionist AI italiana / Italian AI receptionist"),
            )
            .with_instructions(INSTRUCTIONS)
    }

    async fn list_tools(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListToolsResult, ErrorData> {
        Ok(ListToolsResult::with_all_items(self.tools.as_ref().clone()))
    }

    fn get_tool(&self, name: &str) -> Option<Tool> {
        self.tools.iter().find(|t| t.name == name).cloned()
    }

    async fn call_tool(&self, request: CallToolRequestParams, _context: RequestContext<RoleServer>) -> Result<CallToolResponse, ErrorData> {
        Ok(self.call(&request.name, request.arguments).await.into())
    }

    async fn list_resources(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListResourcesResult, ErrorData> {
        Ok(ListResourcesResult::with_all_items(Self::resources()))
    }

    async fn read_resource(
        &self,
        request: ReadResourceRequestParams,
        _context: RequestContext<RoleServer>,
    ) -> Result<ReadResourceResponse, ErrorData> {
        let uri = request.uri;
        match self.resource_json(&uri).await {
            Ok(Some(body)) => {
                let contents = ResourceContents::text(body.to_string(), uri).with_mime_type(JSON_MIME);
                Ok(ReadResourceResult::new(vec![contents]).into())
            }
            Ok(None) => Err(ErrorData::resource_not_found(format!("unknown resource {uri}"), Some(json!({ "uri": uri })))),
            Err(e) => {
                tracing::warn!(%uri, error = %e, "mcp resource read failed");
                Err(ErrorData::internal_error("storage unavailable", None))
            }
        }
    }
}

/// Serves MCP over standard input/output until the client closes standard
/// input. Only protocol messages are written to standard output; log to
/// standard error.
///
/// # Errors
/// The handshake fails or the transport breaks.
pub async fn serve_stdio(engine: Arc<ServerEngine>, clock: Clock) -> std::io::Result<()> {
    let running = McpServer::new(engine, clock)
        .serve(rmcp::transport::stdio())
        .await
        .map_err(|e| std::io::Error::other(format!("mcp stdio: {e}")))?;
    let reason = running.waiting().await.map_err(std::io::Error::other)?;
    tracing::info!(?reason, "mcp stdio session ended");
    Ok(())
}

/// The axum router serving MCP at [`HTTP_PATH`] (stateless streamable HTTP,
/// JSON responses), behind `Authorization: Bearer <bearer>` when `bearer` is
/// set. `loopback_only` keeps rmcp's `Host` header check (DNS-rebinding
/// protection: localhost, 127.0.0.1, ::1); otherwise any host is accepted and
/// the bearer token is the guard. Cancelling `ct` ends every open stream.
pub fn router(engine: Arc<ServerEngine>, clock: Clock, bearer: Option<String>, loopback_only: bool, ct: CancellationToken) -> Router {
    let mut config = StreamableHttpServerConfig::default()
        .with_legacy_session_mode(false)
        .with_json_response(true)
        .with_sse_keep_alive(None)
        .with_max_request_body_bytes(crate::app::MAX_BODY_BYTES)
        .with_cancellation_token(ct);
    if !loopback_only {
        config = config.disable_allowed_hosts();
    }
    // The MCP specification (transports, security warning) asks servers to
    // validate `Origin` against DNS rebinding: browsers may only come from
    // the allowed hosts (HttpGuard: localhost names, PUBLIC_URL, ALLOWED_HOSTS)
    // or CORS_ALLOWED_ORIGINS; requests without `Origin` (non-browser
    // clients) pass.
    let origins = crate::guard::HttpGuard::from_env().unwrap_or_default().mcp_origins();
    config = config.with_allowed_origins(origins).enforce_origin_validation();
    let handler = McpServer::new(engine, clock);
    let service: StreamableHttpService<McpServer, LocalSessionManager> =
        StreamableHttpService::new(move || Ok(handler.clone()), Arc::default(), config);
    let router = Router::new().nest_service(HTTP_PATH, service);
    let router = match bearer {
        Some(token) => router.layer(axum::middleware::from_fn_with_state(Arc::new(token), require_bearer)),
        None => router,
    };
    router.layer(tower_http::trace::TraceLayer::new_for_http())
}

/// Serves MCP over streamable HTTP at [`HTTP_PATH`] on an already bound
/// listener until `shutdown` resolves. With `bearer` set every request must
/// carry `Authorization: Bearer <bearer>` (else 401).
///
/// # Errors
/// `InvalidInput` when the listener is not on a loopback address and no
/// bearer token is given (the tools can read and change the business's
/// data); otherwise the listener fails.
pub async fn serve_http(
    listener: TcpListener,
    engine: Arc<ServerEngine>,
    clock: Clock,
    bearer: Option<String>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let addr = listener.local_addr()?;
    let loopback = addr.ip().is_loopback();
    let bearer = bearer.filter(|t| !t.is_empty());
    if !loopback && bearer.is_none() {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            format!("MCP on non-loopback address {addr} needs a bearer token (MCP_TOKEN)"),
        ));
    }
    let ct = CancellationToken::new();
    let app = router(engine, clock, bearer, loopback, ct.clone());
    axum::serve(listener, app)
        .with_graceful_shutdown(async move {
            shutdown.await;
            ct.cancel();
        })
        .await
}

/// Rejects requests without the right bearer token with 401.
async fn require_bearer(State(token): State<Arc<String>>, request: Request, next: Next) -> Response {
    let given = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, t)| t.trim());
    match given {
        Some(t) if constant_time_eq(t.as_bytes(), token.as_bytes()) => next.run(request).await,
        _ => {
            tracing::info!(path = %request.uri().path(), "mcp request without a valid bearer token");
            let mut response =
                (StatusCode::UNAUTHORIZED, axum::Json(json!({ "error": "unauthorized", "message": "missing or invalid bearer token" })))
                    .into_response();
            response.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
            response
        }
    }
}

/// Compares two byte strings in constant time (the `subtle` crate), so a
/// token check leaks nothing about where a guess differs.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    use subtle::ConstantTimeEq;
    a.len() == b.len() && bool::from(a.ct_eq(b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compares_tokens() {
        assert!(constant_time_eq(b"secret", b"secret"));
        assert!(!constant_time_eq(b"secret", b"secreT"));
        assert!(!constant_time_eq(b"secret", b"secret2"));
        assert!(!constant_time_eq(b"", b"x"));
        assert!(constant_time_eq(b"", b""));
    }

    #[test]
    fn advertises_every_registry_tool() {
        let names: Vec<&str> = tools::specs().iter().map(|s| s.name).collect();
        assert_eq!(names.len(), 11);
        for seed in ["search_clienti", "create_appuntamento", "get_disponibilita", "get_faq"] {
            assert!(names.contains(&seed), "{seed}");
        }
        let uris: Vec<String> = McpServer::resources().into_iter().map(|r| r.uri).collect();
        assert_eq!(uris, [CLIENTI_URI, SERVIZI_URI, FAQ_URI]);
    }
}
