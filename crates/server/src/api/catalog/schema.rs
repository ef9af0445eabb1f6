//! The OpenAPI 3.1 document of the catalogue: operations with their path
//! and query parameters, request bodies and answers by reference into
//! `components.schemas`, the error shape, and the security schemes.

use std::collections::BTreeMap;

use serde_json::Value;
use utoipa::openapi::path::{OperationBuilder, ParameterBuilder, ParameterIn};
use utoipa::openapi::request_body::RequestBodyBuilder;
use utoipa::openapi::response::ResponseBuilder;
use utoipa::openapi::schema::{ComponentsBuilder, KnownFormat, ObjectBuilder, SchemaFormat, Type};
use utoipa::openapi::security::{ApiKey, ApiKeyValue, Http, HttpAuthScheme, SecurityRequirement, SecurityScheme};
use utoipa::openapi::{Content, InfoBuilder, OpenApi, OpenApiBuilder, Paths, Ref, RefOr, Required, Schema};
use utoipa::{PartialSchema, ToSchema};

use super::{Operation, Shape, JSON};
use crate::api::ErrorBody;

/// The answer of `GET /api/openapi.json`: an OpenAPI 3.1 document.
pub struct Description;

impl PartialSchema for Description {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::Object)
            .description(Some("An OpenAPI 3.1 document (https://spec.openapis.org/oas/v3.1.0)."))
            .property("openapi", ObjectBuilder::new().schema_type(Type::String))
            .property("info", ObjectBuilder::new().schema_type(Type::Object))
            .property("paths", ObjectBuilder::new().schema_type(Type::Object))
            .property("components", ObjectBuilder::new().schema_type(Type::Object))
            .required("openapi")
            .required("info")
            .required("paths")
            .into()
    }
}

impl ToSchema for Description {
    fn name() -> std::borrow::Cow<'static, str> {
        "OpenApiDocument".into()
    }
}

/// The content of a body or answer of media type `media`: the JSON schema
/// by reference, or a string (bytes for PDF and audio).
fn content(media: &str, shape: Option<Shape>) -> Content {
    match (media, shape) {
        (JSON, Some(shape)) => Content::new(Some(Ref::from_schema_name(shape.name()))),
        ("application/pdf" | "audio/wav", _) => {
            Content::new(Some(ObjectBuilder::new().schema_type(Type::String).format(Some(SchemaFormat::KnownFormat(KnownFormat::Binary)))))
        }
        _ => Content::new(Some(ObjectBuilder::new().schema_type(Type::String))),
    }
}

fn error_content() -> Content {
    Content::new(Some(Ref::from_schema_name(ErrorBody::name())))
}

/// Every schema the operations refer to, by name.
///
/// # Panics
/// When two different types share a name (a unit test builds the document).
fn schemas(operations: &[Operation]) -> BTreeMap<String, RefOr<Schema>> {
    let mut all = Vec::new();
    Shape::of::<ErrorBody>().collect(&mut all);
    for op in operations {
        for shape in [op.body, op.answer].into_iter().flatten() {
            shape.collect(&mut all);
        }
    }
    let mut out = BTreeMap::new();
    for (name, schema) in all {
        if let Some(seen) = out.get(&name) {
            assert!(seen == &schema, "two schemas are named {name}");
        }
        out.insert(name, schema);
    }
    out
}

/// Rust primitives that `utoipa` describes by reference when a field's type
/// is an alias of one (`Id` for `i64`).
const PRIMITIVES: &[&str] =
    &["i8", "i16", "i32", "i64", "i128", "isize", "u8", "u16", "u32", "u64", "u128", "usize", "f32", "f64", "bool", "String", "str"];

/// Replaces every reference to a primitive's schema by the schema itself
/// (keeping the reference's description), and drops those schemas from
/// `components.schemas`.
fn inline_primitives(doc: &mut Value) {
    let Some(schemas) = doc.pointer_mut("/components/schemas").and_then(Value::as_object_mut) else { return };
    let primitives: BTreeMap<String, Value> =
        PRIMITIVES.iter().filter_map(|name| schemas.remove(*name).map(|schema| (format!("#/components/schemas/{name}"), schema))).collect();
    fn walk(v: &mut Value, primitives: &BTreeMap<String, Value>) {
        match v {
            Value::Object(map) => {
                if let Some(Value::Object(target)) = map.get("$ref").and_then(Value::as_str).and_then(|r| primitives.get(r)) {
                    let target = target.clone();
                    map.remove("$ref");
                    for (k, x) in target {
                        map.entry(k).or_insert(x);
                    }
                }
                map.values_mut().for_each(|x| walk(x, primitives));
            }
            Value::Array(items) => items.iter_mut().for_each(|x| walk(x, primitives)),
            _ => {}
        }
    }
    if !primitives.is_empty() {
        walk(doc, &primitives);
    }
}

/// The OpenAPI 3.1 document of `operations`: one operation per route, its
/// path parameters (`{id}` an integer, others strings) and query
/// parameters, its JSON request body and answer by reference into
/// `components.schemas` (CSV, PDF, WAV and server-sent events as strings),
/// errors as `{"error": "…"}` (`"fields"` too on 422), and the bearer
/// token or session cookie it needs. `Value::Null` if it cannot be encoded.
pub fn document(operations: &[Operation]) -> Value {
    let mut doc = serde_json::to_value(openapi(operations)).unwrap_or(Value::Null);
    inline_primitives(&mut doc);
    doc
}

/// The document as `utoipa` builds it (see [`document`]).
fn openapi(operations: &[Operation]) -> OpenApi {
    let mut paths = Paths::new();
    for op in operations {
        let tag = op.path.trim_start_matches("/api/").split(['/', '.']).next().unwrap_or("api");
        let mut b = OperationBuilder::new().summary(Some(op.summary)).tag(tag).operation_id(Some(format!(
            "{}_{}",
            op.verb.as_str().to_lowercase(),
            op.path.trim_start_matches("/api/").replace(['/', '.', '{', '}'], "_")
        )));
        for status in op.success {
            let mut response = ResponseBuilder::new().description(match status {
                201 => "Created",
                202 => "Accepted (queued)",
                204 => "Done, no content",
                _ => "Success",
            });
            if let Some(media) = op.produces {
                response = response.content(media, content(media, op.answer));
            }
            b = b.response(status.to_string(), response);
        }
        if op.consumes == Some(JSON) {
            b = b.response(
                "422",
                ResponseBuilder::new()
                    .description("Refused values: {\"error\": \"…\"} and, for some fields, {\"fields\": {\"name\": \"…\"}}")
                    .content(JSON, error_content()),
            );
        }
        b = b.response("4XX", ResponseBuilder::new().description("Refused: {\"error\": \"…\"}").content(JSON, error_content())).response(
            "503",
            ResponseBuilder::new().description("Database or service unavailable: {\"error\": \"…\"}").content(JSON, error_content()),
        );
        for name in op.path.split('{').skip(1).filter_map(|s| s.split('}').next()) {
            let schema = if name == "id" {
                ObjectBuilder::new().schema_type(Type::Integer).format(Some(SchemaFormat::KnownFormat(KnownFormat::Int64)))
            } else {
                ObjectBuilder::new().schema_type(Type::String)
            };
            let parameter =
                ParameterBuilder::new().name(name).parameter_in(ParameterIn::Path).required(Required::True).schema(Some(schema));
            b = b.parameter(parameter);
        }
        for parameter in op.query.map(|q| q.parameters()).unwrap_or_default() {
            b = b.parameter(parameter);
        }
        if let Some(media) = op.consumes {
            let body = RequestBodyBuilder::new().content(media, content(media, op.body)).required(Some(Required::True));
            b = b.request_body(Some(body.build()));
        }
        if op.public {
            b = b.securities(Some([SecurityRequirement::default()]));
        }
        paths.add_path_operation(op.path, vec![op.verb.http()], b.build());
    }
    let mut components = ComponentsBuilder::new();
    for (name, schema) in schemas(operations) {
        components = components.schema(name, schema);
    }
    let components = components
        .security_scheme("bearer", SecurityScheme::Http(Http::new(HttpAuthScheme::Bearer)))
        .security_scheme("session", SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::new(crate::auth::SESSION_COOKIE))))
        .build();
    let info = InfoBuilder::new()
        .title("Fluxion API")
        .version(env!("CARGO_PKG_VERSION"))
        .description(Some(
            "The JSON API of the Fluxion receptionist and its console. Machine clients send `Authorization: Bearer <token>` \
             (`fluxion token create`); browsers send the session cookie of `POST /api/login` and, on POST/PUT/PATCH/DELETE, \
             its CSRF token in `X-CSRF-Token`. Messages meant for the owner are in Italian. Units: durations in minutes \
             (`*_min`) or milliseconds (`*_ms`), money in euro cents (`*_cents`), dates ISO 8601 `YYYY-MM-DD`, instants \
             RFC 3339 in UTC, local times without offset in the business's time zone, phone numbers E.164.",
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

#[cfg(test)]
mod tests {
    use super::super::api;
    use super::*;

    #[test]
    fn the_document_lists_every_operation_once() {
        let api = api();
        let doc = document(api.operations());
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
        assert_eq!(
            doc["paths"]["/api/appointments/{id}/receipt.pdf"]["get"]["responses"]["200"]["content"]["application/pdf"]["schema"]["format"],
            "binary"
        );
    }

    #[test]
    fn bodies_and_answers_are_references_to_described_schemas() {
        let doc = document(api().operations());
        let schemas = doc["components"]["schemas"].as_object().expect("schemas");
        let post = &doc["paths"]["/api/services"]["post"];
        assert_eq!(post["requestBody"]["content"][JSON]["schema"]["$ref"], "#/components/schemas/ServiceBody");
        assert_eq!(post["responses"]["201"]["content"][JSON]["schema"]["$ref"], "#/components/schemas/IdAnswer");
        let body = &schemas["ServiceBody"];
        assert_eq!(body["properties"]["price_cents"]["type"], "integer");
        let required: Vec<&str> = body["required"].as_array().expect("required").iter().filter_map(|v| v.as_str()).collect();
        assert!(required.contains(&"name") && required.contains(&"duration_min") && !required.contains(&"synonyms"), "{required:?}");
        assert!(body["properties"]["duration_min"]["description"].as_str().is_some_and(|d| d.contains("inut")), "{body}");
        assert_eq!(schemas["Error"]["properties"]["error"]["type"], "string");
        assert!(schemas["Error"]["properties"]["fields"].is_object());
        // Every reference resolves.
        let text = doc.to_string();
        for part in text.split("\"#/components/schemas/").skip(1) {
            let name = part.split('"').next().unwrap_or_default();
            assert!(schemas.contains_key(name), "a reference to an undescribed schema {name}");
        }
        // Ids are integers in place, not references to a schema named i64.
        assert!(!text.contains("schemas/i64") && !schemas.contains_key("i64"));
        assert_eq!(schemas["IdAnswer"]["properties"]["id"]["type"], "integer");
        // Options are nullable the 3.1 way.
        assert_eq!(schemas["ClientBody"]["properties"]["email"]["type"], serde_json::json!(["string", "null"]));
    }
}
