//! The `/api/*` routes, each added to the router once through [`Catalog`],
//! which records its method, path, summary, media types, whether it needs
//! credentials, and the Rust types of its JSON body, query and answer; the
//! OpenAPI 3.1 description served at `GET /api/openapi.json` is generated
//! from that record ([`document`]), so it lists exactly the routes the
//! router serves (a unit test keeps `app.rs` free of `/api` routes added
//! around the catalogue) with the schemas the handlers really exchange
//! (each body and answer type derives `utoipa::ToSchema` next to its
//! `serde` derive; the schemas are in `components.schemas`).
//!
//! The description itself needs credentials, like every `/api/*` endpoint
//! but login: schema-driven tools send the same bearer token when they load
//! it (`schemathesis run URL -H "Authorization: Bearer flx_…"`).
//!
//! The routes are listed in [`routes`], the document is built in [`schema`].

mod routes;
mod schema;

use std::borrow::Cow;
use std::sync::{Arc, OnceLock};

use axum::handler::Handler;
use axum::routing::{self, MethodRouter};
use axum::{Json, Router};
use serde_json::Value;
use utoipa::openapi::path::{HttpMethod, Parameter, ParameterIn};
use utoipa::openapi::{RefOr, Schema};
use utoipa::{IntoParams, ToSchema};

pub use routes::api;
pub use schema::{document, Description};

use super::ApiError;
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

/// A schema in `components.schemas`: the name it is referenced by and how
/// to collect it with the schemas it refers to.
#[derive(Clone, Copy)]
pub struct Shape {
    name: fn() -> Cow<'static, str>,
    collect: fn(&mut Vec<(String, RefOr<Schema>)>),
}

fn collect<T: ToSchema>(out: &mut Vec<(String, RefOr<Schema>)>) {
    out.push((T::name().into_owned(), T::schema()));
    T::schemas(out);
}

impl Shape {
    /// The schema of `T`.
    pub fn of<T: ToSchema>() -> Self {
        Shape { name: T::name, collect: collect::<T> }
    }

    /// Its name in `components.schemas`.
    pub fn name(&self) -> String {
        (self.name)().into_owned()
    }

    /// Adds it and every schema it refers to to `out` as `(name, schema)`.
    pub fn collect(&self, out: &mut Vec<(String, RefOr<Schema>)>) {
        (self.collect)(out)
    }
}

impl std::fmt::Debug for Shape {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Shape({})", self.name())
    }
}

/// The query parameters of a route (a type deriving `utoipa::IntoParams`).
#[derive(Clone, Copy)]
pub struct QueryParams(fn() -> Vec<Parameter>);

fn query_params<Q: IntoParams>() -> Vec<Parameter> {
    Q::into_params(|| Some(ParameterIn::Query))
}

impl QueryParams {
    /// The parameters, in the type's field order.
    pub fn parameters(&self) -> Vec<Parameter> {
        (self.0)()
    }
}

impl std::fmt::Debug for QueryParams {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let names: Vec<String> = self.parameters().into_iter().map(|p| p.name).collect();
        write!(f, "QueryParams({})", names.join(", "))
    }
}

/// One route as documented.
#[derive(Debug, Clone)]
pub struct Operation {
    /// Method.
    pub verb: Verb,
    /// Path, with `{name}` parameters (axum and OpenAPI spell them alike).
    pub path: &'static str,
    /// What it does, one line.
    pub summary: &'static str,
    /// Answers without credentials.
    pub public: bool,
    /// Media type of the request body, when it has one (JSON with a
    /// [`Operation::body`] schema, or `text/csv`).
    pub consumes: Option<&'static str>,
    /// Schema of the JSON request body.
    pub body: Option<Shape>,
    /// Query parameters.
    pub query: Option<QueryParams>,
    /// Status codes of success (the first is the usual one).
    pub success: &'static [u16],
    /// Media type of a successful answer (`None`: no content, 204).
    pub produces: Option<&'static str>,
    /// Schema of the JSON answer.
    pub answer: Option<Shape>,
}

/// The API router under construction and the record of its routes.
pub struct Catalog {
    router: Router<Arc<AppState>>,
    operations: Vec<Operation>,
}

/// The JSON media type.
pub const JSON: &str = "application/json";

impl Catalog {
    fn new() -> Self {
        Catalog { router: Router::new(), operations: Vec::new() }
    }

    fn add<H: Handler<T, Arc<AppState>>, T: 'static>(mut self, verb: Verb, path: &'static str, summary: &'static str, handler: H) -> Self {
        self.router = self.router.route(path, verb.route(handler));
        self.operations.push(Operation {
            verb,
            path,
            summary,
            public: false,
            consumes: None,
            body: None,
            query: None,
            success: &[200],
            produces: Some(JSON),
            answer: None,
        });
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

    /// Answers without credentials.
    fn public(self) -> Self {
        self.last(|op| op.public = true)
    }

    /// The JSON request body is a `B`.
    fn body<B: ToSchema>(self) -> Self {
        self.last(|op| {
            op.consumes = Some(JSON);
            op.body = Some(Shape::of::<B>());
        })
    }

    /// The request body is of this (non-JSON) media type, a string.
    fn consumes(self, media: &'static str) -> Self {
        self.last(|op| op.consumes = Some(media))
    }

    /// The query string is a `Q`.
    fn query<Q: IntoParams>(self) -> Self {
        self.last(|op| op.query = Some(QueryParams(query_params::<Q>)))
    }

    /// 200 with a JSON `R`.
    fn answers<R: ToSchema>(self) -> Self {
        self.last(|op| op.answer = Some(Shape::of::<R>()))
    }

    /// 201 with a JSON `R`.
    fn created<R: ToSchema>(self) -> Self {
        self.last(|op| {
            op.success = &[201];
            op.answer = Some(Shape::of::<R>());
        })
    }

    /// 202 (queued) or 200 (queued before) with a JSON `R`.
    fn accepted<R: ToSchema>(self) -> Self {
        self.last(|op| {
            op.success = &[202, 200];
            op.answer = Some(Shape::of::<R>());
        })
    }

    /// 204, no content.
    fn no_content(self) -> Self {
        self.last(|op| {
            op.success = &[204];
            op.produces = None;
        })
    }

    /// 200 with a body of this (non-JSON) media type.
    fn produces(self, media: &'static str) -> Self {
        self.last(|op| op.produces = Some(media))
    }

    /// The routes as documented, in the order they were added.
    pub fn operations(&self) -> &[Operation] {
        &self.operations
    }

    /// The router (its state still to be given).
    pub fn into_router(self) -> Router<Arc<AppState>> {
        self.router.layer(axum::middleware::map_response(super::json_rejections))
    }
}

/// `GET /api/openapi.json` → the OpenAPI 3.1 description of every route of
/// [`api`].
pub async fn openapi_json(_p: Principal) -> Result<Json<Value>, ApiError> {
    static DOCUMENT: OnceLock<Value> = OnceLock::new();
    let doc = DOCUMENT.get_or_init(|| document(api().operations()));
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
        let app = include_str!("../../app.rs");
        assert!(!app.contains(".route(\"/api"), "app.rs adds an /api route outside the catalogue (so outside the OpenAPI description)");
    }

    #[test]
    fn every_route_says_what_it_takes_and_answers() {
        for op in api().operations() {
            let what = format!("{} {}", op.verb.as_str(), op.path);
            if op.produces == Some(JSON) {
                assert!(op.answer.is_some(), "{what}: a JSON answer without a schema");
            }
            if op.consumes == Some(JSON) {
                assert!(op.body.is_some(), "{what}: a JSON body without a schema");
            }
            if matches!(op.verb, Verb::Get | Verb::Delete) {
                assert!(op.consumes.is_none(), "{what}: a body on {}", op.verb.as_str());
            }
        }
    }
}
