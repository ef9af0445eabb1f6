//! A fake OpenAI-compatible chat-completions server, a test double for the
//! LLM client and anything built on it.
//!
//! It listens on `127.0.0.1:0`, answers `POST /v1/chat/completions` with the
//! real streaming wire format (server-sent events carrying chat completion
//! chunks, tool calls split over several chunks, usage in a final chunk with
//! empty `choices`, then `data: [DONE]`), following a script of
//! [`FakeReply`]s, one per request. It records every request body and
//! `Authorization` header. The server stops when the [`FakeLlm`] is dropped.

use std::collections::VecDeque;
use std::convert::Infallible;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::Router;
use futures::StreamExt;
use serde_json::{json, Value};

/// The text answered when the script is used up.
pub const DEFAULT_TEXT: &str = "Certo, come posso aiutarla?";

/// One scripted answer.
#[derive(Debug, Clone, PartialEq)]
pub enum FakeReply {
    /// This text, streamed word by word over several chunks, `finish_reason: "stop"`.
    Text(String),
    /// These `(function name, arguments JSON)` calls, each split over several
    /// chunks (id and name first, then the arguments in pieces),
    /// `finish_reason: "tool_calls"`.
    ToolCalls(Vec<(String, String)>),
    /// An error status with a small JSON body, and `Retry-After: <secs>` when given.
    Status(u16, Option<u64>),
    /// One text chunk, then silence for this long, then the rest of a normal answer.
    Stall(Duration),
    /// One valid text chunk, then a `data:` line that is not JSON.
    Malformed,
    /// One text chunk, then the response ends without a finish reason or
    /// `[DONE]` (a stream cut short).
    Truncated,
}

#[derive(Default)]
struct Shared {
    script: Mutex<VecDeque<FakeReply>>,
    requests: Mutex<Vec<(Value, Option<String>)>>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// A running fake server. Dropping it stops the server.
pub struct FakeLlm {
    /// The base URL to put in [`LlmConfig::base_url`](super::LlmConfig::base_url),
    /// e.g. `http://127.0.0.1:PORT/v1`.
    pub url: String,
    shared: Arc<Shared>,
    task: tokio::task::JoinHandle<()>,
}

impl FakeLlm {
    /// Starts a server answering `replies` in order, then [`DEFAULT_TEXT`].
    ///
    /// # Errors
    /// When binding 127.0.0.1:0 fails.
    pub async fn start(replies: Vec<FakeReply>) -> std::io::Result<FakeLlm> {
        let shared = Arc::new(Shared { script: Mutex::new(replies.into()), requests: Mutex::default() });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let app = Router::new().route("/v1/chat/completions", post(chat)).with_state(Arc::clone(&shared));
        let task = tokio::spawn(async move {
            if let Err(e) = axum::serve(listener, app).await {
                tracing::warn!(error = %e, "fake LLM server stopped");
            }
        });
        Ok(FakeLlm { url: format!("http://{addr}/v1"), shared, task })
    }

    /// Appends a reply to the script.
    pub fn push(&self, reply: FakeReply) {
        lock(&self.shared.script).push_back(reply);
    }

    /// The JSON bodies received so far, in order (`Value::Null` for a body
    /// that was not JSON).
    pub fn requests(&self) -> Vec<Value> {
        lock(&self.shared.requests).iter().map(|(body, _)| body.clone()).collect()
    }

    /// The `Authorization` header of each request received, in order.
    pub fn authorizations(&self) -> Vec<Option<String>> {
        lock(&self.shared.requests).iter().map(|(_, auth)| auth.clone()).collect()
    }

    /// How many requests have been received.
    pub fn request_count(&self) -> usize {
        lock(&self.shared.requests).len()
    }
}

impl Drop for FakeLlm {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn chat(State(shared): State<Arc<Shared>>, headers: HeaderMap, body: Bytes) -> Response {
    let body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let auth = headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()).map(str::to_string);
    let model = body.get("model").and_then(Value::as_str).unwrap_or("fake-model").to_string();
    let prompt_tokens = body.get("messages").map_or(0, |m| m.to_string().len() / 4) as u64;
    lock(&shared.requests).push((body, auth));
    let reply = lock(&shared.script).pop_front().unwrap_or_else(|| FakeReply::Text(DEFAULT_TEXT.into()));
    let sse = Sse { model, prompt_tokens };

    let steps: Vec<(Duration, String)> = match reply {
        FakeReply::Status(code, retry_after) => return status_reply(code, retry_after),
        FakeReply::Text(text) => sse.text(&text).into_iter().map(|s| (Duration::ZERO, s)).collect(),
        FakeReply::ToolCalls(calls) => sse.tool_calls(&calls).into_iter().map(|s| (Duration::ZERO, s)).collect(),
        FakeReply::Stall(pause) => {
            let mut steps: Vec<(Duration, String)> = sse.text("Un attimo, controllo.").into_iter().map(|s| (Duration::ZERO, s)).collect();
            // role+first word go out at once; everything after waits `pause`.
            if steps.len() > 1 {
                steps[1].0 = pause;
            }
            steps
        }
        FakeReply::Truncated => sse.text("Buongiorno, le").into_iter().take(1).map(|s| (Duration::ZERO, s)).collect(),
        FakeReply::Malformed => {
            let mut steps: Vec<(Duration, String)> = sse.text("Buongiorno").into_iter().take(1).map(|s| (Duration::ZERO, s)).collect();
            steps.push((Duration::ZERO, "data: {\"choices\": [{\"delta\": \n\n".into()));
            steps.push((Duration::ZERO, "data: [DONE]\n\n".into()));
            steps
        }
    };
    let stream = futures::stream::iter(steps).then(|(pause, frame)| async move {
        if !pause.is_zero() {
            tokio::time::sleep(pause).await;
        }
        Ok::<_, Infallible>(Bytes::from(frame))
    });
    let mut resp = Response::new(Body::from_stream(stream));
    resp.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("text/event-stream"));
    resp.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    resp
}

fn status_reply(code: u16, retry_after: Option<u64>) -> Response {
    let status = StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let body = json!({"error": {"message": format!("fake error {code}"), "type": "fake", "code": code}});
    let mut resp = (status, axum::Json(body)).into_response();
    if let Some(secs) = retry_after {
        resp.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(secs));
    }
    resp
}

/// Builds `data:` frames of chat completion chunks.
struct Sse {
    model: String,
    prompt_tokens: u64,
}

impl Sse {
    fn frame(v: &Value) -> String {
        format!("data: {v}\n\n")
    }

    fn chunk(&self, delta: Value, finish: Option<&str>) -> String {
        Self::frame(&json!({
            "id": "chatcmpl-fake",
            "object": "chat.completion.chunk",
            "created": 0,
            "model": self.model,
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
        }))
    }

    /// The usage chunk (empty `choices`, as with `stream_options.include_usage`) and `[DONE]`.
    fn tail(&self, completion_tokens: u64) -> [String; 2] {
        let usage = json!({
            "prompt_tokens": self.prompt_tokens,
            "completion_tokens": completion_tokens,
            "total_tokens": self.prompt_tokens + completion_tokens,
        });
        [
            Self::frame(
                &json!({"id": "chatcmpl-fake", "object": "chat.completion.chunk", "created": 0, "model": self.model, "choices": [], "usage": usage}),
            ),
            "data: [DONE]\n\n".to_string(),
        ]
    }

    fn text(&self, text: &str) -> Vec<String> {
        let words: Vec<&str> = text.split_inclusive(' ').collect();
        let mut frames = vec![self.chunk(json!({"role": "assistant", "content": words.first().copied().unwrap_or("")}), None)];
        frames.extend(words.iter().skip(1).map(|w| self.chunk(json!({"content": w}), None)));
        frames.push(self.chunk(json!({}), Some("stop")));
        frames.extend(self.tail(words.len() as u64));
        frames
    }

    fn tool_calls(&self, calls: &[(String, String)]) -> Vec<String> {
        let mut frames = vec![self.chunk(json!({"role": "assistant", "content": null}), None)];
        for (i, (name, args)) in calls.iter().enumerate() {
            frames.push(self.chunk(
                json!({"tool_calls": [{"index": i, "id": format!("call_fake{i}"), "type": "function", "function": {"name": name, "arguments": ""}}]}),
                None,
            ));
            let chars: Vec<char> = args.chars().collect();
            for piece in chars.chunks(8) {
                let piece: String = piece.iter().collect();
                frames.push(self.chunk(json!({"tool_calls": [{"index": i, "function": {"arguments": piece}}]}), None));
            }
        }
        frames.push(self.chunk(json!({}), Some("tool_calls")));
        frames.extend(self.tail(calls.len() as u64 * 10));
        frames
    }
}
