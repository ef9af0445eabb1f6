//! Layer L4 of the NLU: a client for OpenAI-compatible chat-completions
//! servers — Groq, OpenAI, and local servers (llama.cpp `llama-server`,
//! Ollama) — chosen by base URL and API key.
//!
//! One call ([`LlmClient::complete`]) sends the conversation and the tool
//! definitions, streams the answer back, hands each piece of text to the
//! caller as it arrives (so speech can start sentence by sentence) and
//! assembles tool calls from their deltas. Around the HTTP exchange live, once:
//! an overall deadline (default 2 s, retries included), retries with
//! exponential backoff honouring `Retry-After`, a client-side rate limiter
//! (requests and tokens per minute) and a circuit breaker. All of them fail
//! fast rather than make a caller on the phone wait.
//!
//! Source documents:
//! - OpenAI API reference, *Chat Completions — Create* and *The chat completion
//!   chunk object* (streaming format, `stream_options.include_usage`):
//!   <https://platform.openai.com/docs/api-reference/chat/create>,
//!   <https://platform.openai.com/docs/api-reference/chat-streaming>.
//! - Groq, *OpenAI Compatibility* and *Rate Limits* (free tier: 30 requests and
//!   6000 tokens per minute for `llama-3.1-8b-instant`; usage in `x_groq.usage`):
//!   <https://console.groq.com/docs/openai>, <https://console.groq.com/docs/rate-limits>.
//! - WHATWG HTML Living Standard §9.2, *Server-sent events* (the `data:` framing).
//! - RFC 9110 §10.2.3 `Retry-After` and §5.6.7 HTTP-date (IMF-fixdate).

mod breaker;
mod client;
mod config;
mod error;
pub mod fake;
mod sse;
mod types;

pub use client::LlmClient;
pub use config::{for_business, LlmConfig, GROQ_BASE_URL, GROQ_DEFAULT_MODEL, LOCAL_DEFAULT_MODEL, OPENAI_BASE_URL, OPENAI_DEFAULT_MODEL};
pub use error::LlmError;
pub(crate) use error::{truncate_chars, with_sources};
pub use types::{ChatMessage, Completion, Role, ToolCall, ToolDef, Usage};
