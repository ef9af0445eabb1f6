//! The `/api/*` routes, each added to the router once through [`Catalog`],
//! which records its method, path, summary, media types and whether it
//! needs credentials; the OpenAPI 3.1 description served at
//! `GET /api/openapi.json` is generated from that record ([`document`]), so
//! it lists exactly the routes the router serves (a unit test keeps
//! `app.rs` free of `/api` routes added around the catalogue).
//!
//! The description itself needs credentials, like every `/api/*` endpoint
//! but login: schema-driven tools send the same bearer token when they load
//! it (`schemathesis run URL -H "Authorization: Bearer flx_…"`). Bodies and
//! answers are described as JSON objects; each handler's documentation
//! gives their fields.

use std::sync::{Arc, OnceLock};

use axum::handler::Handler;
use axum::routing::{self, MethodRouter};
use axum::{Json, Router};
use serde_json::Value;
use utoipa::openapi::path::{HttpMethod, OperationBuilder, ParameterBuilder, ParameterIn};
use utoipa::openapi::request_body::RequestBodyBuilder;
use utoipa::openapi::response::ResponseBuilder;
use utoipa::openapi::schema::{ComponentsBuilder, ObjectBuilder, Type};
use utoipa::openapi::security::{ApiKey, ApiKeyValue, Http, HttpAuthScheme, SecurityRequirement, SecurityScheme};
use utoipa::openapi::{Content, InfoBuilder, OpenApi, OpenApiBuilder, Paths, Ref, Required};

use super::{
    activity, appointments, auth, clients, conversations, events, faq, integrations, loyalty, messages, notifications, operators, read,
    receptionist, services, settings, status, voice, ApiError,
};
use crate::app::AppState;
use crate::auth::Principal;

/// The HTTP methods the API uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Verb {
    /// GET.
    Get,
    /// POST.
    Post,
    /// PUT.
    Put,
    /// PATCH.
    Patch,
    /// DELETE.
    Delete,
}

impl Verb {
    /// Upper-case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Verb::Get => "GET",
            Verb::Post => "POST",
            Verb::Put => "PUT",
            Verb::Patch => "PATCH",
            Verb::Delete => "DELETE",
        }
    }

    fn http(self) -> HttpMethod {
        match self {
            Verb::Get => HttpMethod::Get,
            Verb::Post => HttpMethod::Post,
            Verb::Put => HttpMethod::Put,
            Verb::Patch => HttpMethod::Patch,
            Verb::Delete => HttpMethod::Delete,
        }
    }

    fn route<H: Handler<T, Arc<AppState>>, T: 'static>(self, handler: H) -> MethodRouter<Arc<AppState>> {
        match self {
            Verb::Get => routing::get(handler),
            Verb::Post => routing::post(handler),
            Verb::Put => routing::put(handler),
            Verb::Patch => routing::patch(handler),
            Verb::Delete => routing::delete(handler),
        }
    }
}

/// One route as documented.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Operation {
    /// Method.
    pub verb: Verb,
    /// Path, with `{name}` parameters (axum and OpenAPI spell them alike).
    pub path: &'static str,
    /// What it does, one line.
    pub summary: &'static str,
    /// Answers without credentials.
    pub public: bool,
    /// Media type of the request body (POST, PUT, PATCH).
    pub consumes: &'static str,
    /// Media type of a successful answer.
    pub produces: &'static str,
}

/// The API router under construction and the record of its routes.
pub struct Catalog {
    router: Router<Arc<AppState>>,
    operations: Vec<Operation>,
}

const JSON: &str = "application/json";

impl Catalog {
    fn new() -> Self {
        Catalog { router: Router::new(), operations: Vec::new() }
    }

    fn add<H: Handler<T, Arc<AppState>>, T: 'static>(mut self, verb: Verb, path: &'static str, summary: &'static str, handler: H) -> Self {
        self.router = self.router.route(path, verb.route(handler));
        self.operations.push(Operation { verb, path, summary, public: false, consumes: JSON, produces: JSON });
        self
    }

    fn get<H: Handler<T, Arc<AppState>>, T: 'static>(self, path: &'static str, summary: &'static str, handler: H) -> Self {
        self.add(Verb::Get, path, summary, handler)
    }

    fn post<H: Handler<T, Arc<AppState>>, T: 'static>(self, path: &'static str, summary: &'static str, handler: H) -> Self {
        self.add(Verb::Post, path, summary, handler)
    }

    fn put<H: Handler<T, Arc<AppState>>, T: 'static>(self, path: &'static str, summary: &'static str, handler: H) -> Self {
        self.add(Verb::Put, path, summary, handler)
    }

    fn patch<H: Handler<T, Arc<AppState>>, T: 'static>(self, path: &'static str, summary: &'static str, handler: H) -> Self {
        self.add(Verb::Patch, path, summary, handler)
    }

    fn delete<H: Handler<T, Arc<AppState>>, T: 'static>(self, path: &'static str, summary: &'static str, handler: H) -> Self {
        self.add(Verb::Delete, path, summary, handler)
    }

    /// Changes the last route added.
    fn last(mut self, change: impl FnOnce(&mut Operation)) -> Self {
        if let Some(op) = self.operations.last_mut() {
            change(op);
        }
        self
    }

    fn public(self) -> Self {
        self.last(|op| op.public = true)
    }

    fn consumes(self, media: &'static str) -> Self {
        self.last(|op| op.consumes = media)
    }

    fn produces(self, media: &'static str) -> Self {
        self.last(|op| op.produces = media)
    }

    /// The routes as documented, in the order they were added.
    pub fn operations(&self) -> &[Operation] {
        &self.operations
    }

    /// The router (its state still to be given).
    pub fn into_router(self) -> Router<Arc<AppState>> {
        self.router
    }
}

/// Every `/api/*` route.
pub fn api() -> Catalog {
    Catalog::new()
        .post("/api/login", "Log in with username and password: session cookie and CSRF token", auth::login)
        .public()
        .post("/api/logout", "End the browser session", auth::logout)
        .get("/api/me", "Who the credentials belong to", auth::me)
        .get("/api/openapi.json", "This description (OpenAPI 3.1)", openapi_json)
        .post("/api/voice/query", "One turn of a conversation with the receptionist", voice::query)
        .get("/api/setup/status", "Whether the server is in set-up mode", crate::setup::http::status_done)
        .public()
        .post("/api/setup", "Create the business (set-up mode only; 409 once it exists)", crate::setup::http::setup_done)
        .get("/api/business", "The business's details and booking rules", settings::business)
        .put("/api/business", "Change the business's details and booking rules (owner)", settings::update_business)
        .get(
            "/api/receptionist",
            "The receptionist's settings: greeting, transfer number, call recording, reminder lead, who hears of callback requests (owner)",
            receptionist::get,
        )
        .put("/api/receptionist", "Change the receptionist's settings (owner)", receptionist::put)
        .get(
            "/api/integrations",
            "The business's integrations: phone provider, WhatsApp, e-mail, language model; secrets only as {set} (owner)",
            integrations::get,
        )
        .put("/api/integrations", "Change the integrations; an absent or empty secret keeps the stored one (owner)", integrations::put)
        .get("/api/hours", "Opening hours per weekday", settings::hours)
        .put("/api/hours", "Replace the opening hours (owner)", settings::set_hours)
        .get("/api/closures", "Closures (holidays, one-off closures)", settings::closures)
        .post("/api/closures", "Add a closure (owner)", settings::add_closure)
        .delete("/api/closures/{id}", "Delete a closure (owner)", settings::delete_closure)
        .get("/api/services", "Services with duration, price (euro cents) and operators", read::services)
        .post("/api/services", "Add a service (owner)", services::create)
        .put("/api/services/{id}", "Change a service (owner)", services::update)
        .delete("/api/services/{id}", "Withdraw a service (owner)", services::delete)
        .get("/api/services.csv", "The price list as CSV", services::export_csv)
        .produces("text/csv")
        .post("/api/services/import", "Import services from CSV (nome, durata, prezzo, sinonimi; owner)", services::import_csv)
        .consumes("text/csv")
        .get("/api/operators", "Operators with hours and services", operators::list)
        .post("/api/operators", "Add an operator (owner)", operators::create)
        .put("/api/operators/{id}", "Change an operator (owner)", operators::update)
        .delete("/api/operators/{id}", "Take an operator off the rota (owner)", operators::delete)
        .get("/api/operators/{id}/absences", "An operator's absences", operators::absences)
        .post("/api/operators/{id}/absences", "Add an absence of an operator (owner)", operators::add_absence)
        .get("/api/faq", "FAQ entries", faq::list)
        .post("/api/faq", "Add a FAQ entry (owner)", faq::create)
        .put("/api/faq/{id}", "Change a FAQ entry (owner)", faq::update)
        .delete("/api/faq/{id}", "Delete a FAQ entry (owner)", faq::delete)
        .get("/api/clients", "Clients, or those matching ?q= by name or number", clients::list)
        .post("/api/clients", "Add a client (an existing number is updated)", clients::create)
        .put("/api/clients/{id}", "Change a client's name, e-mail or consents", clients::update)
        .delete("/api/clients/{id}", "Erase a client and everything about them (GDPR art. 17, owner)", clients::erase)
        .get("/api/clients/{id}/export", "Everything stored about a client (GDPR art. 15 and 20, owner)", clients::export)
        .get("/api/clients.csv", "Clients as CSV", clients::export_csv)
        .produces("text/csv")
        .post("/api/clients/import", "Import clients from CSV (nome, telefono, email)", clients::import_csv)
        .consumes("text/csv")
        .get("/api/appointments", "Appointments of a day or span (?date=, ?from=&to=, ?operator=)", appointments::list)
        .post("/api/appointments", "Book by hand, under the receptionist's rules (409 with the reason)", appointments::create)
        .patch("/api/appointments/{id}", "Move an appointment (409 with the reason)", appointments::move_to)
        .delete("/api/appointments/{id}", "Cancel an appointment", appointments::cancel)
        .post(
            "/api/appointments/{id}/complete",
            "Mark a started appointment completed: loyalty points, reward notice, receipt e-mail (409 when not booked or not started)",
            loyalty::complete,
        )
        .get("/api/appointments/{id}/receipt.pdf", "The appointment's receipt (completed) or estimate (booked) as a PDF", loyalty::receipt)
        .produces("application/pdf")
        .get("/api/loyalty", "The loyalty rule: points per visit and per euro, reward threshold and text (owner)", loyalty::get)
        .put("/api/loyalty", "Change the loyalty rule (owner)", loyalty::put)
        .get("/api/slots", "Free slots of a service on a day (?service=&date=&operator=)", read::slots)
        .get("/api/calls", "Phone calls of a day (?date=)", activity::calls)
        .get("/api/calls/{id}/recording", "A call's recording, caller side", conversations::recording)
        .produces("audio/wav")
        .get("/api/conversations", "Calls and chat sessions of a day (?date=)", conversations::list)
        .get("/api/conversations/{session}", "A call's or chat's transcript, turn by turn with layer and latency", conversations::show)
        .get("/api/callbacks", "Callback requests, complaints and privacy requests", activity::callbacks)
        .patch("/api/callbacks/{id}", "Mark a callback request done", activity::close_callback)
        .get("/api/waitlist", "The waitlist", activity::waitlist)
        .get("/api/notifications", "Queued, sent and failed notifications (?state=failed, ?limit=)", notifications::list)
        .post("/api/notifications/{id}/retry", "Send a failed notification again (owner)", notifications::retry)
        .post(
            "/api/messages",
            "Write to a client by SMS, WhatsApp or e-mail through the outbox (only on a channel they consented to)",
            messages::send,
        )
        .get("/api/stats", "Figures of a span of days (?from=&to=)", activity::stats)
        .get("/api/status", "The checks of `fluxion doctor`, live (database, speech, cloud services)", status::status)
        .get("/api/events", "Live changes (server-sent events: appointment, call, callback)", events::events)
        .produces("text/event-stream")
}

fn object() -> ObjectBuilder {
    ObjectBuilder::new().schema_type(Type::Object)
}

fn content(media: &str) -> Content {
    if media == JSON {
        Content::new(Some(object()))
    } else {
        Content::new(Some(ObjectBuilder::new().schema_type(Type::String)))
    }
}

/// The OpenAPI 3.1 document of `operations`: one operation per route, its
/// path parameters (`{id}` integer, others string), a request body for
/// POST, PUT and PATCH, the success answer's media type, errors as
/// `{"error": "…"}`, and the bearer token or session cookie it needs.
pub fn document(operations: &[Operation]) -> OpenApi {
    let mut paths = Paths::new();
    for op in operations {
        let tag = op.path.trim_start_matches("/api/").split(['/', '.']).next().unwrap_or("api");
        let mut b = OperationBuilder::new()
            .summary(Some(op.summary))
            .tag(tag)
            .operation_id(Some(format!(
                "{}_{}",
                op.verb.as_str().to_lowercase(),
                op.path.trim_start_matches("/api/").replace(['/', '.', '{', '}'], "_")
            )))
            .response("200", ResponseBuilder::new().description("Success").content(op.produces, content(op.produces)))
            .response(
                "4XX",
                ResponseBuilder::new()
                    .description("Refused: {\"error\": \"…\"}")
                    .content(JSON, Content::new(Some(Ref::from_schema_name("Error")))),
            );
        for name in op.path.split('{').skip(1).filter_map(|s| s.split('}').next()) {
            let schema = if name == "id" { Type::Integer } else { Type::String };
            let parameter = ParameterBuilder::new()
                .name(name)
                .parameter_in(ParameterIn::Path)
                .required(Required::True)
                .schema(Some(ObjectBuilder::new().schema_type(schema)));
            b = b.parameter(parameter);
        }
        if matches!(op.verb, Verb::Post | Verb::Put | Verb::Patch) {
            b = b.request_body(Some(RequestBodyBuilder::new().content(op.consumes, content(op.consumes)).build()));
        }
        if op.public {
            b = b.securities(Some([SecurityRequirement::default()]));
        }
        paths.add_path_operation(op.path, vec![op.verb.http()], b.build());
    }
    let error = object().property("error", ObjectBuilder::new().schema_type(Type::String)).required("error");
    let components = ComponentsBuilder::new()
        .schema("Error", error)
        .security_scheme("bearer", SecurityScheme::Http(Http::new(HttpAuthScheme::Bearer)))
        .security_scheme("session", SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::new(crate::auth::SESSION_COOKIE))))
        .build();
    let info = InfoBuilder::new()
        .title("Fluxion API")
        .version(env!("CARGO_PKG_VERSION"))
        .description(Some(
            "The JSON API of the Fluxion receptionist and its console. Machine clients send `Authorization: Bearer <token>` \
             (`fluxion token create`); browsers send the session cookie of `POST /api/login` and, on POST/PUT/PATCH/DELETE, \
             its CSRF token in `X-CSRF-Token`. Messages meant for the owner are in Italian.",
        ))
        .build();
    OpenApiBuilder::new()
        .info(info)
        .paths(paths)
        .components(Some(components))
        .security(Some([
            SecurityRequirement::new("bearer", Vec::<String>::new()),
            SecurityRequirement::new("session", Vec::<String>::new()),
        ]))
        .build()
}

/// `GET /api/openapi.json` → the OpenAPI 3.1 description of every route of
/// [`api`].
pub async fn openapi_json(_p: Principal) -> Result<Json<Value>, ApiError> {
    static DOCUMENT: OnceLock<Value> = OnceLock::new();
    let doc = DOCUMENT.get_or_init(|| serde_json::to_value(document(api().operations())).unwrap_or(Value::Null));
    if doc.is_null() {
        return Err(ApiError::Unavailable("the API description could not be encoded".into()));
    }
    Ok(Json(doc.clone()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_api_route_goes_through_the_catalogue() {
        let app = include_str!("../app.rs");
        assert!(!app.contains(".route(\"/api"), "app.rs adds an /api route outside the catalogue (so outside the OpenAPI description)");
    }

    #[test]
    fn the_document_lists_every_operation_once() {
        let api = api();
        let doc = serde_json::to_value(document(api.operations())).expect("json");
        assert_eq!(doc["openapi"], "3.1.0");
        let mut seen = std::collections::HashSet::new();
        for op in api.operations() {
            assert!(seen.insert((op.verb, op.path)), "{} {} added twice", op.verb.as_str(), op.path);
            let entry = &doc["paths"][op.path][op.verb.as_str().to_lowercase()];
            assert_eq!(entry["summary"], op.summary, "{} {}", op.verb.as_str(), op.path);
            let public = entry["security"] == serde_json::json!([{}]);
            assert_eq!(public, op.public, "{} {}", op.verb.as_str(), op.path);
        }
        let documented: usize = doc["paths"].as_object().expect("paths").values().map(|p| p.as_object().map_or(0, |m| m.len())).sum();
        assert_eq!(documented, api.operations().len());
        assert_eq!(doc["paths"]["/api/clients/{id}"]["delete"]["parameters"][0]["schema"]["type"], "integer");
        assert_eq!(doc["paths"]["/api/clients/import"]["post"]["requestBody"]["content"]["text/csv"]["schema"]["type"], "string");
    }
}
