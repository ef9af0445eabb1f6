//! The OpenAPI description at `/api/openapi.json`: it needs credentials like
//! the rest of the API, and every operation it lists is one the server
//! serves (no operation answers with the router's 404 or 405), so a
//! schema-driven tool can walk the API from it.

use fluxion::store::{CallDirection, CallEnd, CallOutcome};
use serde_json::{json, Value};

use crate::TestApp;

#[tokio::test]
async fn the_description_lists_what_the_server_serves() {
    let app = TestApp::spawn().await;
    assert_eq!(app.anon.get(app.url("/api/openapi.json")).send().await.expect("anonymous").status(), 401);
    let (status, doc) = app.get("/api/openapi.json").await;
    assert_eq!(status, 200);
    assert_eq!(doc["openapi"], "3.1.0");
    assert_eq!(doc["components"]["securitySchemes"]["bearer"]["scheme"], "bearer");
    let paths = doc["paths"].as_object().expect("paths");
    let mut operations = 0;
    for (path, item) in paths {
        for (method, op) in item.as_object().expect("path item") {
            operations += 1;
            assert!(op["summary"].as_str().is_some_and(|s| !s.is_empty()), "{method} {path} has a summary");
            let url = app.url(&path.replace("{id}", "999999").replace("{session}", "nessuna"));
            let m = reqwest::Method::from_bytes(method.to_uppercase().as_bytes()).expect("method");
            let r = app.client.request(m, url).json(&json!({})).send().await.expect("request");
            let status = r.status().as_u16();
            assert_ne!(status, 405, "{method} {path} is not served");
            if status == 404 && !path.contains("/events") {
                let body: Value = r.json().await.unwrap_or(Value::Null);
                assert_ne!(body["error"], "no such endpoint", "{method} {path} is not served");
            }
        }
    }
    assert_eq!(operations, fluxion::api::catalog::api().operations().len());
    assert!(paths.contains_key("/api/clients/{id}/export") && paths.contains_key("/api/conversations/{session}"));
}

mod check;

use check::Checker;

/// The schema of `op`'s answer with `status` and media type `media`.
fn answer_schema<'a>(op: &'a Value, status: &str, media: &str) -> &'a Value {
    &op["responses"][status]["content"][media]["schema"]
}

/// Panics with every departure of `value` from `schema`.
fn conforms(c: &Checker, schema: &Value, value: &Value, what: &str) {
    let errors = c.errors(schema, value);
    assert!(errors.is_empty(), "{what}: the answer does not fit its schema {schema}:\n{}\n{value:#}", errors.join("\n"));
}

/// Whether `schema` names properties itself or through `allOf` (a
/// flattened struct).
fn has_fields(c: &Checker, schema: &Value) -> bool {
    let schema = c.resolve(schema);
    schema["properties"].as_object().is_some_and(|p| !p.is_empty())
        || schema["allOf"].as_array().is_some_and(|all| all.iter().any(|s| has_fields(c, s)))
}

#[tokio::test]
async fn bodies_and_answers_have_schemas_with_fields() {
    let app = TestApp::spawn().await;
    let (_, doc) = app.get("/api/openapi.json").await;
    let c = Checker::new(&doc);
    let (mut bodies, mut answers) = (0, 0);
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for (method, op) in item.as_object().expect("path item") {
            if let Some(schema) = op["requestBody"]["content"].get("application/json").map(|m| &m["schema"]) {
                assert!(schema["$ref"].is_string(), "{method} {path}: the body is not a named schema");
                let body = c.resolve(schema);
                assert!(
                    body["properties"].as_object().is_some_and(|p| !p.is_empty()),
                    "{method} {path}: a body without properties: {body}"
                );
                bodies += 1;
            }
            for (status, response) in op["responses"].as_object().expect("responses") {
                let Some(schema) = response["content"].get("application/json").map(|m| &m["schema"]) else { continue };
                let resolved = c.resolve(schema);
                assert!(resolved.as_object().is_some_and(|s| !s.is_empty()), "{method} {path} {status}: an empty schema");
                if status.starts_with('2') {
                    assert!(has_fields(&c, schema), "{method} {path} {status}: no properties");
                    answers += 1;
                }
            }
            for p in op["parameters"].as_array().into_iter().flatten() {
                assert!(p["schema"]["type"].is_string() || p["schema"]["type"].is_array(), "{method} {path}: an untyped parameter {p}");
            }
        }
    }
    assert!(bodies >= 20 && answers >= 50, "{bodies} bodies, {answers} answers");
    // Path ids are integers, session ids strings.
    let id = &doc["paths"]["/api/services/{id}"]["put"]["parameters"][0];
    assert_eq!((id["in"].as_str(), id["schema"]["type"].as_str()), (Some("path"), Some("integer")));
    let session = &doc["paths"]["/api/conversations/{session}"]["get"]["parameters"][0];
    assert_eq!(session["schema"]["type"], "string");
    // Query parameters are described, dates as dates.
    let date = doc["paths"]["/api/calls"]["get"]["parameters"].as_array().expect("query").iter().find(|p| p["name"] == "date").cloned();
    assert_eq!(date.map(|d| (d["in"].clone(), d["schema"]["format"].clone())), Some((json!("query"), json!("date"))));
    // Non-JSON media types.
    let csv = &doc["paths"]["/api/clients.csv"]["get"]["responses"]["200"]["content"];
    assert!(csv["text/csv"].is_object(), "{csv}");
    assert!(doc["paths"]["/api/events"]["get"]["responses"]["200"]["content"]["text/event-stream"].is_object());
    assert!(doc["paths"]["/api/appointments/{id}/receipt.pdf"]["get"]["responses"]["200"]["content"]["application/pdf"].is_object());
    assert!(doc["paths"]["/api/services/import"]["post"]["requestBody"]["content"]["text/csv"].is_object());
    // Units are in the descriptions.
    let service = &doc["components"]["schemas"]["ServiceBody"]["properties"];
    assert!(service["price_cents"]["description"].as_str().is_some_and(|d| d.contains("euro cents")), "{service}");
    assert!(service["duration_min"]["description"].as_str().is_some_and(|d| d.contains("minutes")), "{service}");
}

/// Books something today, adds a closure and a conversation, so that the
/// lists the GET routes answer have rows to check.
async fn some_of_everything(app: &TestApp) {
    let (_, services) = app.get("/api/services").await;
    let service = services["services"][0]["id"].as_i64().expect("a service");
    let (status, slots) = app.get(&format!("/api/slots?service={service}&date=2027-03-10")).await;
    assert_eq!(status, 200, "{slots}");
    let start = slots["slots"][0]["start"].as_str().expect("a free slot today").get(..16).expect("start").to_string();
    let booking = json!({ "client": { "name": "Schema Rossi", "phone": "+393331110001", "email": "s@example.it" },
                          "service_id": service, "start": start });
    let r = app.client.post(app.url("/api/appointments")).json(&booking).send().await.expect("book");
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap_or_default());
    let closure = json!({ "from": "2027-08-10", "to": "2027-08-20", "range": null, "reason": "Ferie estive" });
    let r = app.client.post(app.url("/api/closures")).json(&closure).send().await.expect("closure");
    assert_eq!(r.status(), 201);
    app.say("schema-1", Some("+393331110001"), "Buongiorno, vorrei sapere gli orari").await;
    let at: jiff::Timestamp = "2027-03-10T08:00:00Z".parse().expect("ts");
    let call =
        app.tenant.start_call(fluxion::telephony::Provider::Twilio, "CA-SCHEMA", CallDirection::Inbound, Some("+393331110001"), None, at);
    let call = call.await.expect("call");
    let end = CallEnd {
        ended_at: at + jiff::SignedDuration::from_secs(60),
        duration_ms: 60_000,
        outcome: CallOutcome::AnsweredFaq,
        hangup_reason: fluxion::voice::HangupReason::Completed,
        turns: 1,
        recording_path: None,
    };
    app.tenant.end_call(call, &end).await.expect("end");
}

#[tokio::test]
async fn every_get_answers_as_documented() {
    let app = TestApp::spawn().await;
    some_of_everything(&app).await;
    let (_, doc) = app.get("/api/openapi.json").await;
    let c = Checker::new(&doc);
    let (_, services) = app.get("/api/services").await;
    let slots = format!("/api/slots?service={}&date=2027-03-11", services["services"][0]["id"]);
    let mut checked = Vec::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        let Some(op) = item.get("get") else { continue };
        if path.contains('{') || path == "/api/events" {
            continue;
        }
        // The one GET that needs a query parameter.
        let url = if path == "/api/slots" { app.url(&slots) } else { app.url(path) };
        let r = app.client.get(url).send().await.expect("request");
        assert_eq!(r.status(), 200, "GET {path}");
        let media = r.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or_default().to_string();
        let documented: Vec<&String> = op["responses"]["200"]["content"].as_object().expect("content").keys().collect();
        assert!(documented.iter().any(|m| media.starts_with(m.as_str())), "GET {path}: {media} is not one of {documented:?}");
        if media.starts_with("application/json") {
            let value: Value = r.json().await.expect("json");
            conforms(&c, answer_schema(op, "200", "application/json"), &value, &format!("GET {path}"));
            checked.push(path.clone());
        }
    }
    assert!(checked.len() >= 20, "{checked:?}");
    // The lists checked had rows.
    let lists = [
        ("/api/appointments", "appointments"),
        ("/api/closures", "closures"),
        ("/api/conversations", "conversations"),
        ("/api/calls", "calls"),
        (slots.as_str(), "slots"),
    ];
    for (path, list) in lists {
        let (_, v) = app.get(path).await;
        assert!(v[list].as_array().is_some_and(|l| !l.is_empty()), "{path}: {v}");
    }
    // Answers with path parameters too.
    let (_, list) = app.get("/api/conversations").await;
    let session = list["conversations"][0]["session_id"].as_str().expect("session");
    let (status, transcript) = app.get(&format!("/api/conversations/{session}")).await;
    assert_eq!(status, 200);
    conforms(&c, answer_schema(&doc["paths"]["/api/conversations/{session}"]["get"], "200", "application/json"), &transcript, "transcript");
    let (_, clients) = app.get("/api/clients").await;
    let id = clients["clients"][0]["id"].as_i64().expect("client");
    let (status, export) = app.get(&format!("/api/clients/{id}/export")).await;
    assert_eq!(status, 200);
    conforms(&c, answer_schema(&doc["paths"]["/api/clients/{id}/export"]["get"], "200", "application/json"), &export, "export");
}

#[tokio::test]
async fn created_rows_and_errors_answer_as_documented() {
    let app = TestApp::spawn().await;
    let (_, doc) = app.get("/api/openapi.json").await;
    let c = Checker::new(&doc);
    let cases = [
        ("/api/clients", json!({ "name": "Maria Bianchi", "phone": "3331234599", "email": "maria@example.it" })),
        ("/api/services", json!({ "name": "Trattamento schema", "synonyms": ["schema"], "duration_min": 45, "price_cents": 3550 })),
        ("/api/faq", json!({ "category": "pagamenti", "questions": ["Accettate il bancomat?"], "answer": "Sì, anche il bancomat." })),
    ];
    for (path, body) in cases {
        let op = &doc["paths"][path]["post"];
        conforms(&c, &op["requestBody"]["content"]["application/json"]["schema"], &body, &format!("POST {path} body"));
        let r = app.client.post(app.url(path)).json(&body).send().await.expect("create");
        assert_eq!(r.status(), 201, "POST {path}");
        let value: Value = r.json().await.expect("json");
        conforms(&c, answer_schema(op, "201", "application/json"), &value, &format!("POST {path}"));
    }
    // A refused body answers the documented error shape.
    let r = app.client.post(app.url("/api/clients")).json(&json!({ "name": " ", "phone": "3331234599" })).send().await.expect("refused");
    let status = r.status().as_u16();
    assert_eq!(status, 422);
    let value: Value = r.json().await.expect("json");
    conforms(&c, answer_schema(&doc["paths"]["/api/clients"]["post"], "422", "application/json"), &value, "422");
    let r = app
        .client
        .put(app.url("/api/integrations"))
        .json(&json!({ "email": { "port": 70000, "from": "non è un indirizzo" } }))
        .send()
        .await;
    let r = r.expect("integrations");
    assert_eq!(r.status(), 422);
    let value: Value = r.json().await.expect("json");
    assert!(value["fields"].is_object(), "{value}");
    conforms(&c, answer_schema(&doc["paths"]["/api/integrations"]["put"], "422", "application/json"), &value, "422 fields");
    // The checker is not a rubber stamp: the same answer fails a wrong schema.
    let (_, clients) = app.get("/api/clients").await;
    let mut wrong = doc.clone();
    wrong["components"]["schemas"]["Client"]["properties"]["phone"] = json!({ "type": "integer" });
    let schema = answer_schema(&doc["paths"]["/api/clients"]["get"], "200", "application/json");
    assert!(!Checker::new(&wrong).errors(schema, &clients).is_empty(), "a phone number passed as an integer");
}
