//! The chat-completions client: one streamed `POST {base_url}/chat/completions`
//! per attempt, inside a deadline, with retries, a client-side rate limiter
//! and a circuit breaker around it.

use std::fmt;
use std::num::NonZeroU32;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use eventsource_stream::{EventStreamError, Eventsource};
use futures::StreamExt;
use governor::clock::Clock;
use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
use serde::Serialize;
use tokio::time::{timeout_at, Instant};

use super::breaker::Breaker;
use super::error::{truncate_chars, with_sources};
use super::sse::{Accumulator, Step};
use super::{ChatMessage, Completion, LlmConfig, LlmError, ToolDef};

/// Longest error body kept in [`LlmError::Http`], in characters.
const MAX_ERROR_BODY_CHARS: usize = 500;

/// A client for one OpenAI-compatible chat-completions endpoint.
///
/// Cheap to share: all methods take `&self`; wrap it in an `Arc` to use it
/// from many calls at once. The rate limiter and the circuit breaker are
/// shared by all calls made through the same client.
pub struct LlmClient {
    cfg: LlmConfig,
    endpoint: String,
    http: reqwest::Client,
    requests: Option<DefaultDirectRateLimiter>,
    tokens: Option<DefaultDirectRateLimiter>,
    breaker: Breaker,
}

impl fmt::Debug for LlmClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LlmClient").field("endpoint", &self.endpoint).field("cfg", &self.cfg).finish_non_exhaustive()
    }
}

/// The request body (`stream_options.include_usage` asks OpenAI for usage in
/// a final chunk; Groq, llama.cpp and Ollama accept it).
#[derive(Serialize)]
struct Request<'a> {
    model: &'a str,
    messages: &'a [ChatMessage],
    #[serde(skip_serializing_if = "<[ToolDef]>::is_empty")]
    tools: &'a [ToolDef],
    #[serde(skip_serializing_if = "Option::is_none")]
    tool_choice: Option<&'static str>,
    stream: bool,
    stream_options: StreamOptions,
    max_tokens: u32,
    temperature: f32,
}

#[derive(Serialize)]
struct StreamOptions {
    include_usage: bool,
}

/// A failed attempt, with the wait the server asked for (`Retry-After`).
struct Failed {
    error: LlmError,
    retry_after: Option<Duration>,
}

impl From<LlmError> for Failed {
    fn from(error: LlmError) -> Self {
        Failed { error, retry_after: None }
    }
}

impl LlmClient {
    /// Builds a client for `cfg`. No request is sent.
    ///
    /// # Errors
    /// [`LlmError::Config`] when `base_url` is not an `http(s)://` URL, the
    /// model is empty, the timeout is zero, or the HTTP client cannot be built.
    pub fn new(cfg: LlmConfig) -> Result<Self, LlmError> {
        let base = cfg.base_url.trim().trim_end_matches('/');
        if !(base.starts_with("http://") || base.starts_with("https://")) {
            return Err(LlmError::Config(format!("base URL must start with http:// or https://, got {base:?}")));
        }
        if cfg.model.trim().is_empty() {
            return Err(LlmError::Config("model name is empty".into()));
        }
        if cfg.timeout.is_zero() {
            return Err(LlmError::Config("timeout is zero".into()));
        }
        let endpoint = format!("{base}/chat/completions");
        let http = reqwest::Client::builder()
            .user_agent(concat!("fluxion/", env!("CARGO_PKG_VERSION")))
            .connect_timeout(cfg.timeout)
            .tcp_nodelay(true)
            .build()
            .map_err(|e| LlmError::Config(format!("HTTP client: {}", with_sources(&e))))?;
        let per_minute = |n: u32| NonZeroU32::new(n).map(|n| RateLimiter::direct(Quota::per_minute(n)));
        Ok(LlmClient {
            requests: per_minute(cfg.requests_per_minute),
            tokens: per_minute(cfg.tokens_per_minute),
            breaker: Breaker::new(cfg.breaker_threshold, cfg.breaker_cooldown),
            endpoint,
            http,
            cfg,
        })
    }

    /// The model name sent in requests.
    pub fn model(&self) -> &str {
        &self.cfg.model
    }

    /// Sends `messages` (and `tools`, with `tool_choice: "auto"`, when not
    /// empty), streams the answer and returns it assembled.
    ///
    /// `on_delta` receives each non-empty piece of text as it arrives, in
    /// order; their concatenation is [`Completion::content`]. It is called
    /// from the calling task and must not block. Once a piece has been
    /// delivered the call is never retried, so nothing is said twice.
    ///
    /// Everything — rate limiting, connecting, retries with their waits and
    /// the whole stream — fits within [`LlmConfig::timeout`] (default 2 s).
    ///
    /// # Errors
    /// - [`LlmError::CircuitOpen`]: the breaker is open; nothing sent.
    /// - [`LlmError::RateLimited`] `{ local: true }`: the requests- or
    ///   tokens-per-minute quota is spent; nothing sent. `{ local: false }`:
    ///   the provider answered 429 and its `Retry-After` did not fit in the
    ///   deadline (or retries ran out).
    /// - [`LlmError::Timeout`]: the deadline passed.
    /// - [`LlmError::Http`]: another error status (5xx after retries; other
    ///   4xx at once).
    /// - [`LlmError::Transport`]: connection failures after retries, or the
    ///   stream was cut short.
    /// - [`LlmError::Malformed`]: a chunk was not the chat-completions format.
    pub async fn complete(
        &self,
        messages: &[ChatMessage],
        tools: &[ToolDef],
        on_delta: &mut (dyn FnMut(&str) + Send),
    ) -> Result<Completion, LlmError> {
        let started = Instant::now();
        let deadline = started + self.cfg.timeout;
        let Some(permit) = self.breaker.try_acquire(started) else {
            tracing::debug!(model = %self.cfg.model, "llm circuit open: call refused");
            return Err(LlmError::CircuitOpen);
        };
        let estimate = self.estimate_tokens(messages, tools);
        if let Err(e) = self.take_quota(estimate) {
            tracing::warn!(model = %self.cfg.model, estimated_tokens = estimate, error = %e, "llm call refused by the local rate limiter");
            permit.neutral();
            return Err(e);
        }
        let request = Request {
            model: &self.cfg.model,
            messages,
            tools,
            tool_choice: (!tools.is_empty()).then_some("auto"),
            stream: true,
            stream_options: StreamOptions { include_usage: true },
            max_tokens: self.cfg.max_tokens,
            temperature: self.cfg.temperature,
        };
        let body = match serde_json::to_vec(&request) {
            Ok(b) => b,
            Err(e) => {
                permit.neutral();
                return Err(LlmError::Config(format!("request body: {e}")));
            }
        };

        let (result, attempts) = self.attempts(body, deadline, on_delta).await;
        let latency = started.elapsed();
        match result {
            Ok(a) => {
                permit.success();
                let usage = a.usage.unwrap_or_default();
                tracing::info!(
                    model = %self.cfg.model,
                    attempts,
                    latency_ms = latency.as_millis() as u64,
                    prompt_tokens = usage.prompt_tokens,
                    completion_tokens = usage.completion_tokens,
                    tool_calls = a.tool_calls.len(),
                    finish_reason = a.finish_reason.as_deref().unwrap_or(""),
                    "llm call completed"
                );
                Ok(Completion {
                    content: a.content,
                    tool_calls: a.tool_calls,
                    finish_reason: a.finish_reason,
                    usage: a.usage,
                    model: a.model.unwrap_or_else(|| self.cfg.model.clone()),
                    latency,
                    attempts,
                })
            }
            Err(e) => {
                if e.trips_breaker() {
                    permit.failure(Instant::now());
                } else {
                    permit.neutral();
                }
                tracing::warn!(
                    model = %self.cfg.model,
                    attempts,
                    latency_ms = latency.as_millis() as u64,
                    retryable = e.retryable(),
                    error = %e,
                    "llm call failed"
                );
                Err(e)
            }
        }
    }

    /// Prompt characters / 4 + `max_tokens`, the tokens charged to the
    /// tokens-per-minute quota before a call.
    fn estimate_tokens(&self, messages: &[ChatMessage], tools: &[ToolDef]) -> u32 {
        let chars: usize =
            messages.iter().map(ChatMessage::prompt_chars).sum::<usize>() + tools.iter().map(ToolDef::prompt_chars).sum::<usize>();
        u32::try_from(chars / 4).unwrap_or(u32::MAX).saturating_add(self.cfg.max_tokens)
    }

    /// Charges one request and `tokens` to the local quotas, without waiting.
    /// A request refused for tokens still spends its request cell (governor
    /// cannot give it back): the limiter errs on the side of the provider's quota.
    fn take_quota(&self, tokens: u32) -> Result<(), LlmError> {
        let refused = |retry_after| LlmError::RateLimited { local: true, retry_after };
        if let Some(rpm) = &self.requests {
            if let Err(not_until) = rpm.check() {
                return Err(refused(Some(not_until.wait_time_from(rpm.clock().now()))));
            }
        }
        if let (Some(tpm), Some(n)) = (&self.tokens, NonZeroU32::new(tokens)) {
            match tpm.check_n(n) {
                Ok(Ok(())) => {}
                Ok(Err(not_until)) => return Err(refused(Some(not_until.wait_time_from(tpm.clock().now())))),
                // More than a whole minute's quota: never possible.
                Err(_) => return Err(refused(None)),
            }
        }
        Ok(())
    }

    /// Runs attempts until one succeeds, the error is not retryable, retries
    /// run out, or the next wait would not fit before `deadline`. Returns the
    /// outcome and the number of attempts made.
    async fn attempts(
        &self,
        body: Vec<u8>,
        deadline: Instant,
        on_delta: &mut (dyn FnMut(&str) + Send),
    ) -> (Result<super::sse::Assembled, LlmError>, u32) {
        let mut attempt: u32 = 0;
        let mut delivered = false;
        loop {
            attempt += 1;
            let failed = match self.attempt(body.clone(), deadline, on_delta, &mut delivered).await {
                Ok(a) => return (Ok(a), attempt),
                Err(f) => f,
            };
            let retry = match &failed.error {
                LlmError::RateLimited { local: false, .. } | LlmError::Transport(_) => true,
                LlmError::Http { status, .. } => *status >= 500,
                _ => false,
            };
            if !retry || delivered || attempt > self.cfg.max_retries {
                return (Err(failed.error), attempt);
            }
            let backoff = self.cfg.backoff_base.saturating_mul(1u32 << (attempt - 1).min(16));
            let wait = failed.retry_after.unwrap_or(backoff);
            let now = Instant::now();
            if now + wait >= deadline {
                tracing::debug!(attempt, wait_ms = wait.as_millis() as u64, error = %failed.error, "llm retry would pass the deadline: giving up");
                return (Err(failed.error), attempt);
            }
            tracing::debug!(attempt, wait_ms = wait.as_millis() as u64, error = %failed.error, "llm attempt failed: retrying");
            tokio::time::sleep(wait).await;
        }
    }

    /// One HTTP exchange: send, check the status, read the stream.
    async fn attempt(
        &self,
        body: Vec<u8>,
        deadline: Instant,
        on_delta: &mut (dyn FnMut(&str) + Send),
        delivered: &mut bool,
    ) -> Result<super::sse::Assembled, Failed> {
        let mut req = self
            .http
            .post(&self.endpoint)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .header(reqwest::header::ACCEPT, "text/event-stream")
            .body(body);
        if let Some(key) = &self.cfg.api_key {
            req = req.bearer_auth(key);
        }
        let resp = match timeout_at(deadline, req.send()).await {
            Err(_) => return Err(LlmError::Timeout.into()),
            Ok(Err(e)) => return Err(transport(&e).into()),
            Ok(Ok(r)) => r,
        };

        let status = resp.status();
        if !status.is_success() {
            let retry_after = resp
                .headers()
                .get(reqwest::header::RETRY_AFTER)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| parse_retry_after(v, SystemTime::now()));
            // The body is only for the error message: an unreadable one is empty.
            let text = match timeout_at(deadline, resp.text()).await {
                Ok(Ok(t)) => t,
                _ => String::new(),
            };
            let error = if status.as_u16() == 429 {
                LlmError::RateLimited { local: false, retry_after }
            } else {
                LlmError::Http { status: status.as_u16(), body: truncate_chars(text.trim(), MAX_ERROR_BODY_CHARS) }
            };
            return Err(Failed { error, retry_after });
        }

        let mut events = resp.bytes_stream().eventsource();
        let mut acc = Accumulator::default();
        loop {
            let event = match timeout_at(deadline, events.next()).await {
                Err(_) => return Err(LlmError::Timeout.into()),
                Ok(None) => break,
                Ok(Some(Err(EventStreamError::Transport(e)))) => return Err(transport(&e).into()),
                Ok(Some(Err(e))) => return Err(LlmError::Malformed(format!("event stream: {e}")).into()),
                Ok(Some(Ok(event))) => event,
            };
            match acc.apply(&event.data)? {
                Step::Text(piece) => {
                    *delivered = true;
                    on_delta(&piece);
                }
                Step::Done => break,
                Step::Nothing => {}
            }
        }
        Ok(acc.finish()?)
    }
}

impl From<Failed> for LlmError {
    fn from(f: Failed) -> Self {
        f.error
    }
}

fn transport(e: &reqwest::Error) -> LlmError {
    if e.is_timeout() {
        LlmError::Timeout
    } else {
        LlmError::Transport(with_sources(e))
    }
}

/// Parses a `Retry-After` value: delay-seconds (`"2"`) or an HTTP-date in
/// IMF-fixdate form (`"Sun, 06 Nov 1994 08:49:37 GMT"`, RFC 9110 §5.6.7),
/// giving the wait from `now` (zero for a date in the past). The obsolete
/// RFC 850 and asctime date forms are not recognised (`None`).
fn parse_retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let value = value.trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let at = parse_imf_fixdate(value)?;
    Some(at.duration_since(now).unwrap_or(Duration::ZERO))
}

fn parse_imf_fixdate(s: &str) -> Option<SystemTime> {
    let parts: Vec<&str> = s.split_ascii_whitespace().collect();
    let [_weekday, day, month, year, time, "GMT"] = parts.as_slice() else { return None };
    let day: u32 = day.parse().ok()?;
    let month =
        ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"].iter().position(|m| m == month)? as u32 + 1;
    let year: i64 = year.parse().ok()?;
    let hms: Vec<u64> = time.split(':').map(str::parse).collect::<Result<_, _>>().ok()?;
    let [h, m, sec] = hms.as_slice() else { return None };
    if !(1..=31).contains(&day) || *h > 23 || *m > 59 || *sec > 60 {
        return None;
    }
    let days = days_from_civil(year, month, day);
    let secs = u64::try_from(days).ok()? * 86_400 + h * 3600 + m * 60 + sec;
    UNIX_EPOCH.checked_add(Duration::from_secs(secs))
}

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm).
fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let mp = i64::from((m + 9) % 12);
    let doy = (153 * mp + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::llm::fake::{FakeLlm, FakeReply};
    use serde_json::json;
    use std::sync::Arc;

    /// A config for the fake server: no local quotas, short backoff.
    fn cfg(url: &str) -> LlmConfig {
        let mut c = LlmConfig::new(url, "test-model");
        c.requests_per_minute = 0;
        c.tokens_per_minute = 0;
        c.backoff_base = Duration::from_millis(10);
        c
    }

    async fn fake(replies: Vec<FakeReply>) -> FakeLlm {
        FakeLlm::start(replies).await.expect("fake server starts")
    }

    fn hello() -> Vec<ChatMessage> {
        vec![ChatMessage::system("Sei la receptionist di un salone."), ChatMessage::user("Buongiorno, avete posto domani?")]
    }

    async fn call(client: &LlmClient) -> (Result<Completion, LlmError>, Vec<String>) {
        let mut pieces = Vec::new();
        let r = client.complete(&hello(), &[], &mut |p: &str| pieces.push(p.to_string())).await;
        (r, pieces)
    }

    #[tokio::test]
    async fn streams_text_through_on_delta() {
        let text = "Certo. Domani alle dieci è libero. Vuole prenotare?";
        let srv = fake(vec![FakeReply::Text(text.into())]).await;
        let mut c = cfg(&srv.url);
        c.api_key = Some("sk-test".into());
        let client = LlmClient::new(c).expect("client");
        let (r, pieces) = call(&client).await;
        let done = r.expect("completion");
        assert_eq!(done.content, text);
        assert!(pieces.len() > 3, "several pieces: {pieces:?}");
        assert_eq!(pieces.concat(), text);
        assert_eq!(done.finish_reason.as_deref(), Some("stop"));
        assert_eq!(done.attempts, 1);
        assert!(done.usage.is_some_and(|u| u.total_tokens > 0));
        assert_eq!(done.model, "test-model");

        let body = &srv.requests()[0];
        assert_eq!(body["model"], "test-model");
        assert_eq!(body["stream"], true);
        assert_eq!(body["max_tokens"], 500);
        assert_eq!(body["temperature"], json!(0.3));
        assert_eq!(body["messages"][1], json!({"role": "user", "content": "Buongiorno, avete posto domani?"}));
        assert!(body.get("tools").is_none() && body.get("tool_choice").is_none());
        assert_eq!(srv.authorizations(), vec![Some("Bearer sk-test".to_string())]);
    }

    #[tokio::test]
    async fn no_key_no_authorization_header() {
        let srv = fake(vec![]).await;
        let client = LlmClient::new(cfg(&srv.url)).expect("client");
        call(&client).await.0.expect("default reply");
        assert_eq!(srv.authorizations(), vec![None]);
    }

    #[tokio::test]
    async fn assembles_tool_calls_and_sends_tools() {
        let srv = fake(vec![FakeReply::ToolCalls(vec![
            ("check_availability".into(), r#"{"service":"taglio","date":"2027-03-11"}"#.into()),
            ("lookup_faq".into(), r#"{"question":"orari"}"#.into()),
        ])])
        .await;
        let client = LlmClient::new(cfg(&srv.url)).expect("client");
        let tools = vec![ToolDef {
            name: "check_availability".into(),
            description: "Orari liberi per un servizio".into(),
            parameters: json!({"type": "object", "properties": {"service": {"type": "string"}, "date": {"type": "string"}}}),
        }];
        let mut msgs = hello();
        msgs.push(ChatMessage::assistant_tool_calls(
            None,
            vec![crate::llm::ToolCall { id: "call_0".into(), name: "x".into(), arguments: "{}".into() }],
        ));
        msgs.push(ChatMessage::tool_result("call_0", "{}"));
        let mut pieces = 0;
        let done = client.complete(&msgs, &tools, &mut |_: &str| pieces += 1).await.expect("completion");
        assert_eq!(pieces, 0);
        assert_eq!(done.finish_reason.as_deref(), Some("tool_calls"));
        let calls: Vec<(&str, &str)> = done.tool_calls.iter().map(|t| (t.name.as_str(), t.arguments.as_str())).collect();
        assert_eq!(
            calls,
            vec![("check_availability", r#"{"service":"taglio","date":"2027-03-11"}"#), ("lookup_faq", r#"{"question":"orari"}"#)]
        );
        assert!(done.tool_calls.iter().all(|t| t.id.starts_with("call_")));

        let body = &srv.requests()[0];
        assert_eq!(body["tool_choice"], "auto");
        assert_eq!(body["tools"][0]["type"], "function");
        assert_eq!(body["tools"][0]["function"]["name"], "check_availability");
        assert_eq!(body["messages"][2]["tool_calls"][0]["function"]["name"], "x");
        assert_eq!(body["messages"][3]["tool_call_id"], "call_0");
    }

    #[tokio::test]
    async fn honours_retry_after_within_deadline() {
        let srv = fake(vec![FakeReply::Status(429, Some(1)), FakeReply::Text("Eccomi.".into())]).await;
        let mut c = cfg(&srv.url);
        c.timeout = Duration::from_secs(3);
        let client = LlmClient::new(c).expect("client");
        let t0 = std::time::Instant::now();
        let done = call(&client).await.0.expect("second attempt succeeds");
        let took = t0.elapsed();
        assert_eq!(done.attempts, 2);
        assert_eq!(srv.request_count(), 2);
        assert!(took >= Duration::from_millis(950), "waited for Retry-After: {took:?}");
        assert!(took < Duration::from_secs(3), "{took:?}");
        assert!(done.latency >= Duration::from_millis(950));
    }

    #[tokio::test]
    async fn retry_after_beyond_deadline_fails_fast() {
        let srv = fake(vec![FakeReply::Status(429, Some(5))]).await;
        let client = LlmClient::new(cfg(&srv.url)).expect("client");
        let t0 = std::time::Instant::now();
        let err = call(&client).await.0.expect_err("429 too long to wait");
        assert!(t0.elapsed() < Duration::from_millis(1000), "failed fast: {:?}", t0.elapsed());
        assert_eq!(err, LlmError::RateLimited { local: false, retry_after: Some(Duration::from_secs(5)) });
        assert!(err.retryable());
        assert_eq!(srv.request_count(), 1);
    }

    #[tokio::test]
    async fn gives_up_after_max_retries_on_5xx() {
        let srv = fake((0..4).map(|_| FakeReply::Status(500, None)).collect()).await;
        let client = LlmClient::new(cfg(&srv.url)).expect("client");
        let err = call(&client).await.0.expect_err("all attempts fail");
        assert!(matches!(&err, LlmError::Http { status: 500, body } if body.contains("fake")), "{err:?}");
        assert_eq!(srv.request_count(), 4, "1 + max_retries attempts");
    }

    #[tokio::test]
    async fn other_4xx_are_not_retried() {
        let srv = fake(vec![FakeReply::Status(401, None)]).await;
        let client = LlmClient::new(cfg(&srv.url)).expect("client");
        let err = call(&client).await.0.expect_err("unauthorised");
        assert!(matches!(err, LlmError::Http { status: 401, .. }));
        assert!(!err.retryable());
        assert_eq!(srv.request_count(), 1);
    }

    #[tokio::test]
    async fn transport_errors_are_retried_then_reported() {
        // A port nobody listens on: bind, note the port, close.
        let port = {
            let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
            l.local_addr().expect("addr").port()
        };
        let client = LlmClient::new(cfg(&format!("http://127.0.0.1:{port}/v1"))).expect("client");
        let err = call(&client).await.0.expect_err("connection refused");
        assert!(matches!(err, LlmError::Transport(_)), "{err:?}");
    }

    #[tokio::test]
    async fn never_retries_once_text_was_delivered() {
        let srv = fake(vec![FakeReply::Truncated, FakeReply::Text("di nuovo".into())]).await;
        let client = LlmClient::new(cfg(&srv.url)).expect("client");
        let (r, pieces) = call(&client).await;
        assert!(matches!(r, Err(LlmError::Transport(_))), "{r:?}");
        assert_eq!(pieces, vec!["Buongiorno, ".to_string()], "nothing said twice");
        assert_eq!(srv.request_count(), 1);
    }

    #[tokio::test]
    async fn stall_mid_stream_times_out_at_the_deadline() {
        let srv = fake(vec![FakeReply::Stall(Duration::from_secs(10))]).await;
        let mut c = cfg(&srv.url);
        c.timeout = Duration::from_millis(500);
        let client = LlmClient::new(c).expect("client");
        let t0 = std::time::Instant::now();
        let (r, pieces) = call(&client).await;
        let took = t0.elapsed();
        assert_eq!(r.expect_err("stalled"), LlmError::Timeout);
        assert_eq!(pieces.len(), 1, "the first chunk arrived before the stall");
        assert!(took >= Duration::from_millis(450), "{took:?}");
        assert!(took < Duration::from_millis(1500), "deadline + margin: {took:?}");
        assert_eq!(srv.request_count(), 1, "a timeout is never retried");
    }

    #[tokio::test]
    async fn malformed_chunk_is_an_error() {
        let srv = fake(vec![FakeReply::Malformed]).await;
        let client = LlmClient::new(cfg(&srv.url)).expect("client");
        let err = call(&client).await.0.expect_err("malformed");
        assert!(matches!(err, LlmError::Malformed(_)), "{err:?}");
        assert_eq!(srv.request_count(), 1);
    }

    #[tokio::test]
    async fn breaker_opens_then_half_opens_after_cooldown() {
        let srv = fake(vec![FakeReply::Status(500, None), FakeReply::Malformed, FakeReply::Status(503, None)]).await;
        let mut c = cfg(&srv.url);
        c.max_retries = 0;
        c.breaker_cooldown = Duration::from_millis(300);
        let client = LlmClient::new(c).expect("client");
        for _ in 0..3 {
            assert!(call(&client).await.0.is_err());
        }
        assert_eq!(srv.request_count(), 3);

        let t0 = std::time::Instant::now();
        assert_eq!(call(&client).await.0.expect_err("open"), LlmError::CircuitOpen);
        assert!(t0.elapsed() < Duration::from_millis(100), "no time spent: {:?}", t0.elapsed());
        assert_eq!(srv.request_count(), 3, "no request while open");

        tokio::time::sleep(Duration::from_millis(400)).await;
        call(&client).await.0.expect("trial call goes through and succeeds");
        assert_eq!(srv.request_count(), 4);
        call(&client).await.0.expect("closed again");
        assert_eq!(srv.request_count(), 5);
    }

    #[tokio::test]
    async fn rate_limiter_refuses_the_burst_beyond_rpm() {
        let srv = fake(vec![]).await;
        let mut c = cfg(&srv.url);
        c.requests_per_minute = 30;
        c.tokens_per_minute = 1_000_000;
        let client = Arc::new(LlmClient::new(c).expect("client"));
        // Every future takes its quota on its first poll, so the 40 checks
        // happen together and the refill (one request per 2 s) cannot interfere.
        let results = futures::future::join_all((0..40).map(|_| {
            let client = Arc::clone(&client);
            async move { client.complete(&hello(), &[], &mut |_: &str| {}).await }
        }))
        .await;
        let ok = results.iter().filter(|r| r.is_ok()).count();
        let local = results.iter().filter(|r| matches!(r, Err(LlmError::RateLimited { local: true, retry_after: Some(_) }))).count();
        assert_eq!((ok, local), (30, 10));
        assert_eq!(srv.request_count(), 30);
    }

    #[tokio::test]
    async fn token_quota_counts_prompt_and_max_tokens() {
        let srv = fake(vec![]).await;
        let mut c = cfg(&srv.url);
        c.tokens_per_minute = 1200; // each call is charged ~500 + prompt/4
        let client = LlmClient::new(c).expect("client");
        assert!(call(&client).await.0.is_ok());
        assert!(call(&client).await.0.is_ok());
        assert!(matches!(call(&client).await.0, Err(LlmError::RateLimited { local: true, .. })));
        assert_eq!(srv.request_count(), 2);

        let mut c = cfg(&srv.url);
        c.tokens_per_minute = 100; // less than max_tokens: can never pass
        let client = LlmClient::new(c).expect("client");
        assert_eq!(call(&client).await.0.expect_err("too big"), LlmError::RateLimited { local: true, retry_after: None });
    }

    #[test]
    fn rejects_bad_config() {
        assert!(matches!(LlmClient::new(LlmConfig::new("api.groq.com", "m")), Err(LlmError::Config(_))));
        assert!(matches!(LlmClient::new(LlmConfig::new("http://h/v1", " ")), Err(LlmError::Config(_))));
        let client = LlmClient::new(LlmConfig::new("http://h/v1/", "m")).expect("valid");
        assert_eq!(client.endpoint, "http://h/v1/chat/completions");
        assert_eq!(client.model(), "m");
    }

    #[test]
    fn debug_of_client_hides_the_key() {
        let mut c = LlmConfig::new("http://h/v1", "m");
        c.api_key = Some("gsk_SECRET".into());
        let client = LlmClient::new(c).expect("valid");
        assert!(!format!("{client:?}").contains("SECRET"));
    }

    #[test]
    fn parses_retry_after_forms() {
        let now = UNIX_EPOCH + Duration::from_secs(784_111_770); // Sun, 06 Nov 1994 08:49:30 GMT
        assert_eq!(parse_retry_after("3", now), Some(Duration::from_secs(3)));
        assert_eq!(parse_retry_after("Sun, 06 Nov 1994 08:49:37 GMT", now), Some(Duration::from_secs(7)));
        assert_eq!(parse_retry_after("Sun, 06 Nov 1994 08:49:00 GMT", now), Some(Duration::ZERO));
        assert_eq!(parse_retry_after("Thu, 01 Jan 1970 00:00:00 GMT", UNIX_EPOCH), Some(Duration::ZERO));
        assert_eq!(parse_retry_after("Wed, 29 Feb 2028 12:00:00 GMT", UNIX_EPOCH), Some(Duration::from_secs(1_835_438_400)));
        assert_eq!(parse_retry_after("soon", now), None);
        assert_eq!(parse_retry_after("-1", now), None);
    }
}
