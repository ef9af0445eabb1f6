//! The OpenAPI description at `/api/openapi.json`: it needs credentials like
//! the rest of the API, and every operation it lists is one the server
//! serves (no operation answers with the router's 404 or 405), so a
//! schema-driven tool can walk the API from it.

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
