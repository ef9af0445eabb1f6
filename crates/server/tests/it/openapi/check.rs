//! A small JSON Schema (2020-12 subset) checker for the answers of the
//! running server against the OpenAPI description: `$ref` into
//! `#/components/schemas`, `type` (one or a list, `null` included),
//! `enum`, `const`, `properties`, `required`, `additionalProperties`,
//! `propertyNames`, `items`, `prefixItems`, `allOf`, `oneOf`, `anyOf`, `minimum`,
//! `maximum`, `minLength`, `maxLength`, `pattern`, and the `date` and
//! `date-time` formats. Nothing is skipped silently: a keyword it does not
//! know is an error, so a schema it cannot check fails the test instead of
//! passing it.

use serde_json::{Map, Value};

/// The keywords checked or that only annotate.
const KNOWN: &[&str] = &[
    "$ref",
    "type",
    "enum",
    "const",
    "properties",
    "required",
    "additionalProperties",
    "propertyNames",
    "items",
    "prefixItems",
    "allOf",
    "oneOf",
    "anyOf",
    "minimum",
    "maximum",
    "minLength",
    "maxLength",
    "pattern",
    "format",
    "description",
    "examples",
    "example",
    "default",
    "title",
    "readOnly",
    "writeOnly",
    "deprecated",
    "discriminator",
    "contentMediaType",
];

/// Checks values against the schemas of one OpenAPI document.
pub struct Checker<'a> {
    schemas: &'a Map<String, Value>,
}

impl<'a> Checker<'a> {
    /// A checker resolving references in `doc`'s `components.schemas`.
    pub fn new(doc: &'a Value) -> Self {
        static EMPTY: std::sync::OnceLock<Map<String, Value>> = std::sync::OnceLock::new();
        Checker { schemas: doc["components"]["schemas"].as_object().unwrap_or_else(|| EMPTY.get_or_init(Map::new)) }
    }

    /// The schema a `$ref` names.
    pub fn resolve<'s>(&'s self, schema: &'s Value) -> &'s Value {
        match schema.get("$ref").and_then(Value::as_str) {
            Some(r) => {
                let name = r.strip_prefix("#/components/schemas/").unwrap_or(r);
                self.schemas.get(name).map(|s| self.resolve(s)).unwrap_or(&Value::Null)
            }
            None => schema,
        }
    }

    /// Every way `value` departs from `schema`, each with its JSON path.
    pub fn errors(&self, schema: &Value, value: &Value) -> Vec<String> {
        let mut out = Vec::new();
        self.check(schema, value, "$", &mut out);
        out
    }

    fn check(&self, schema: &Value, value: &Value, path: &str, out: &mut Vec<String>) {
        let s = match schema {
            Value::Bool(true) => return,
            Value::Bool(false) => return out.push(format!("{path}: no value is allowed here")),
            Value::Object(s) => s,
            other => return out.push(format!("{path}: the schema {other} is not an object")),
        };
        for key in s.keys() {
            if !KNOWN.contains(&key.as_str()) {
                out.push(format!("{path}: the checker does not know the keyword '{key}'"));
            }
        }
        if let Some(r) = s.get("$ref").and_then(Value::as_str) {
            let name = r.strip_prefix("#/components/schemas/").unwrap_or(r);
            match self.schemas.get(name) {
                Some(target) => self.check(target, value, path, out),
                None => out.push(format!("{path}: unresolved reference {r}")),
            }
        }
        if let Some(types) = s.get("type") {
            let allowed: Vec<&str> = match types {
                Value::String(t) => vec![t.as_str()],
                Value::Array(ts) => ts.iter().filter_map(Value::as_str).collect(),
                _ => vec![],
            };
            if !allowed.iter().any(|t| is_type(value, t)) {
                out.push(format!("{path}: {value} is not of type {types}"));
                return;
            }
        }
        if let Some(options) = s.get("enum").and_then(Value::as_array) {
            if !options.contains(value) {
                out.push(format!("{path}: {value} is not one of {}", Value::Array(options.clone())));
            }
        }
        if let Some(c) = s.get("const") {
            if c != value {
                out.push(format!("{path}: {value} is not {c}"));
            }
        }
        if let Some(all) = s.get("allOf").and_then(Value::as_array) {
            for sub in all {
                self.check(sub, value, path, out);
            }
        }
        if let Some(one) = s.get("oneOf").and_then(Value::as_array) {
            let fits = one.iter().filter(|sub| self.errors(sub, value).is_empty()).count();
            if fits != 1 {
                out.push(format!("{path}: {value} fits {fits} of the {} oneOf alternatives, not exactly one", one.len()));
            }
        }
        if let Some(any) = s.get("anyOf").and_then(Value::as_array) {
            if !any.iter().any(|sub| self.errors(sub, value).is_empty()) {
                out.push(format!("{path}: {value} fits none of the anyOf alternatives"));
            }
        }
        match value {
            Value::Object(obj) => self.check_object(s, obj, path, out),
            Value::Array(items) => self.check_array(s, items, path, out),
            Value::String(text) => check_string(s, text, path, out),
            Value::Number(n) => {
                let x = n.as_f64().unwrap_or(f64::NAN);
                if s.get("minimum").and_then(Value::as_f64).is_some_and(|min| x < min) {
                    out.push(format!("{path}: {x} is below the minimum {}", s["minimum"]));
                }
                if s.get("maximum").and_then(Value::as_f64).is_some_and(|max| x > max) {
                    out.push(format!("{path}: {x} is above the maximum {}", s["maximum"]));
                }
            }
            _ => {}
        }
    }

    fn check_object(&self, s: &Map<String, Value>, obj: &Map<String, Value>, path: &str, out: &mut Vec<String>) {
        for name in s.get("required").and_then(Value::as_array).into_iter().flatten().filter_map(Value::as_str) {
            if !obj.contains_key(name) {
                out.push(format!("{path}: the required property '{name}' is missing"));
            }
        }
        let properties = s.get("properties").and_then(Value::as_object);
        for (key, v) in obj {
            let at = format!("{path}.{key}");
            if let Some(names) = s.get("propertyNames") {
                self.check(names, &Value::String(key.clone()), &at, out);
            }
            match properties.and_then(|p| p.get(key)) {
                Some(sub) => self.check(sub, v, &at, out),
                None => match s.get("additionalProperties") {
                    Some(Value::Bool(false)) => out.push(format!("{at}: not a documented property")),
                    Some(extra @ Value::Object(_)) => self.check(extra, v, &at, out),
                    _ => {}
                },
            }
        }
    }

    fn check_array(&self, s: &Map<String, Value>, items: &[Value], path: &str, out: &mut Vec<String>) {
        let prefix = s.get("prefixItems").and_then(Value::as_array).map_or(&[][..], Vec::as_slice);
        for (i, item) in items.iter().enumerate() {
            let at = format!("{path}[{i}]");
            match prefix.get(i) {
                Some(sub) => self.check(sub, item, &at, out),
                None => {
                    if let Some(sub) = s.get("items") {
                        self.check(sub, item, &at, out);
                    }
                }
            }
        }
    }
}

fn check_string(s: &Map<String, Value>, text: &str, path: &str, out: &mut Vec<String>) {
    let len = text.chars().count() as u64;
    if s.get("minLength").and_then(Value::as_u64).is_some_and(|min| len < min) {
        out.push(format!("{path}: '{text}' is shorter than {}", s["minLength"]));
    }
    if s.get("maxLength").and_then(Value::as_u64).is_some_and(|max| len > max) {
        out.push(format!("{path}: '{text}' is longer than {}", s["maxLength"]));
    }
    if let Some(pattern) = s.get("pattern").and_then(Value::as_str) {
        match regex::Regex::new(pattern) {
            Ok(re) if re.is_match(text) => {}
            Ok(_) => out.push(format!("{path}: '{text}' does not match {pattern}")),
            Err(e) => out.push(format!("{path}: bad pattern {pattern}: {e}")),
        }
    }
    match s.get("format").and_then(Value::as_str) {
        Some("date") if text.parse::<jiff::civil::Date>().is_err() || text.len() != 10 => {
            out.push(format!("{path}: '{text}' is not a date (YYYY-MM-DD)"))
        }
        Some("date-time") if text.parse::<jiff::Timestamp>().is_err() => out.push(format!("{path}: '{text}' is not an RFC 3339 date-time")),
        _ => {}
    }
}

fn is_type(value: &Value, t: &str) -> bool {
    match t {
        "null" => value.is_null(),
        "boolean" => value.is_boolean(),
        "object" => value.is_object(),
        "array" => value.is_array(),
        "string" => value.is_string(),
        "number" => value.is_number(),
        "integer" => value.is_i64() || value.is_u64() || value.as_f64().is_some_and(|x| x.fract() == 0.0),
        _ => false,
    }
}

#[test]
fn the_checker_refuses_what_does_not_fit() {
    let doc = serde_json::json!({ "components": { "schemas": {
        "Item": { "type": "object", "required": ["id", "tags"], "properties": {
            "id": { "type": "integer", "minimum": 1 },
            "name": { "type": ["string", "null"], "maxLength": 5 },
            "day": { "type": "string", "format": "date" },
            "tags": { "type": "array", "items": { "type": "string", "enum": ["a", "b"] } },
            "pair": { "type": "array", "prefixItems": [{ "type": "string" }, { "type": "integer" }], "items": false },
            "kind": { "oneOf": [{ "type": "null" }, { "$ref": "#/components/schemas/Kind" }] }
        }, "additionalProperties": false },
        "Kind": { "type": "string", "enum": ["x"] },
        "List": { "type": "object", "properties": { "items": { "type": "array", "items": { "$ref": "#/components/schemas/Item" } } } }
    } } });
    let c = Checker::new(&doc);
    let list = serde_json::json!({ "$ref": "#/components/schemas/List" });
    let good = serde_json::json!({ "items": [
        { "id": 1, "name": null, "day": "2027-03-10", "tags": ["a"], "pair": ["2027-03-10", 3], "kind": "x" },
        { "id": 2, "name": "Anna", "tags": [], "kind": null }
    ] });
    assert_eq!(c.errors(&list, &good), Vec::<String>::new());
    let bad = [
        serde_json::json!({ "items": [{ "id": "1", "tags": [] }] }),
        serde_json::json!({ "items": [{ "id": 0, "tags": [] }] }),
        serde_json::json!({ "items": [{ "tags": [] }] }),
        serde_json::json!({ "items": [{ "id": 1, "tags": ["c"] }] }),
        serde_json::json!({ "items": [{ "id": 1, "tags": [], "name": "Annalisa" }] }),
        serde_json::json!({ "items": [{ "id": 1, "tags": [], "day": "10/03/2027" }] }),
        serde_json::json!({ "items": [{ "id": 1, "tags": [], "pair": [3, "x"] }] }),
        serde_json::json!({ "items": [{ "id": 1, "tags": [], "pair": ["x", 3, 4] }] }),
        serde_json::json!({ "items": [{ "id": 1, "tags": [], "kind": "y" }] }),
        serde_json::json!({ "items": [{ "id": 1, "tags": [], "extra": true }] }),
        serde_json::json!({ "items": {} }),
    ];
    for value in bad {
        assert!(!c.errors(&list, &value).is_empty(), "{value} passed");
    }
    // A wrong schema fails a right value, and an unknown keyword is an error.
    let wrong = serde_json::json!({ "type": "object", "properties": { "items": { "type": "string" } } });
    assert!(!c.errors(&wrong, &good).is_empty());
    assert!(!c.errors(&serde_json::json!({ "type": "object", "minProperties": 1 }), &good).is_empty());
}
