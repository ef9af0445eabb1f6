//! L4 as a [`Fallback`]: a language model with the booking tools, used only
//! for turns L0–L3 could not answer (seed 000: L3 score below 0.7).
//!
//! One turn: a system prompt (the vertical's prompt file, the rules, the
//! business's facts, today's date in words, the caller's appointments, the
//! FAQ snippet L3 found) plus the conversation so far go to the model with
//! the tool definitions of [`fluxion_core::tools`]; tool calls run through
//! the same [`FrontDesk`] as the dialogue, with the caller's
//! [`Scope::Caller`] restrictions, for at most [`MAX_TOOL_ROUNDS`] rounds.
//! When the model fails (timeout, rate limit, open circuit, error) the caller
//! gets the cached FAQ answer or the seed's apology, never an error. Answers
//! given without tools are cached per normalised question for a TTL.
//!
//! Prompts: `crates/server/prompts/{salone,wellness,medical,auto}.txt` and
//! `rules.txt` are compiled in; a file of the same name in
//! `FLUXION_PROMPTS_DIR` replaces one, so the business can edit them.

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use fluxion_core::booking::desk::FrontDesk;
use fluxion_core::booking::{Repository, Vertical};
use fluxion_core::dialogue::business_facts;
use fluxion_core::fallback::{Fallback, FallbackReply, FallbackRequest};
use fluxion_core::history::Role as HistoryRole;
use fluxion_core::nlu::Pipeline;
use fluxion_core::text::normalize;
use fluxion_core::tools::{self, Scope, ToolContext, Tools};

use crate::llm::{ChatMessage, LlmClient, LlmError, ToolDef};
use crate::observability::{LLM_REQUESTS_TOTAL, LLM_SECONDS, LLM_TOKENS_TOTAL};
use crate::store::Tenant;

/// Most model ↔ tool round trips in one turn.
pub const MAX_TOOL_ROUNDS: usize = 4;
/// The seed's apology when the model cannot answer.
pub const APOLOGY: &str = "Mi scusi, non riesco a elaborare la richiesta.";
/// Default lifetime of a cached answer.
pub const DEFAULT_CACHE_TTL: Duration = Duration::from_secs(3600);
/// Most cached answers kept.
const CACHE_CAPACITY: usize = 1000;

/// The system prompt's parts for one vertical.
#[derive(Debug, Clone)]
pub struct Prompts {
    /// Who the assistant is.
    pub persona: String,
    /// The rules (dates, confirmation, scope).
    pub rules: String,
}

fn builtin_persona(v: Vertical) -> &'static str {
    match v {
        Vertical::Salone => include_str!("../prompts/salone.txt"),
        Vertical::Wellness => include_str!("../prompts/wellness.txt"),
        Vertical::Medical => include_str!("../prompts/medical.txt"),
        Vertical::Auto => include_str!("../prompts/auto.txt"),
    }
}

impl Prompts {
    /// The vertical's prompts: from `dir` when it has `<vertical>.txt` /
    /// `rules.txt`, else the compiled-in ones.
    pub fn load(vertical: Vertical, dir: Option<&Path>) -> Self {
        let read = |name: &str| dir.and_then(|d| std::fs::read_to_string(d.join(name)).ok()).filter(|s| !s.trim().is_empty());
        Prompts {
            persona: read(&format!("{}.txt", vertical.as_str())).unwrap_or_else(|| builtin_persona(vertical).to_string()),
            rules: read("rules.txt").unwrap_or_else(|| include_str!("../prompts/rules.txt").to_string()),
        }
    }
}

/// Answers of the model to repeated questions, keyed on the normalised
/// question (one cache per business).
struct ResponseCache {
    ttl: Duration,
    entries: Mutex<HashMap<String, (Instant, String)>>,
}

impl ResponseCache {
    fn get(&self, key: &str) -> Option<String> {
        let map = self.entries.lock().ok()?;
        map.get(key).filter(|(at, _)| at.elapsed() < self.ttl).map(|(_, v)| v.clone())
    }

    fn put(&self, key: String, value: String) {
        if let Ok(mut map) = self.entries.lock() {
            if map.len() >= CACHE_CAPACITY {
                let ttl = self.ttl;
                map.retain(|_, (at, _)| at.elapsed() < ttl);
                if map.len() >= CACHE_CAPACITY {
                    map.clear();
                }
            }
            map.insert(key, (Instant::now(), value));
        }
    }
}

/// The L4 fallback: a model, the tools and the prompts of one business.
pub struct Assistant {
    client: Arc<LlmClient>,
    desk: FrontDesk<Tenant>,
    pipeline: Arc<Pipeline>,
    prompts: Prompts,
    cache: ResponseCache,
    tool_defs: Vec<ToolDef>,
}

impl Assistant {
    /// An assistant over a model client and the business's desk and pipeline.
    pub fn new(client: Arc<LlmClient>, desk: FrontDesk<Tenant>, pipeline: Arc<Pipeline>, prompts: Prompts, cache_ttl: Duration) -> Self {
        let tool_defs = tools::specs()
            .into_iter()
            .map(|t| ToolDef { name: t.name.to_string(), description: t.description.to_string(), parameters: t.parameters })
            .collect();
        Assistant {
            client,
            desk,
            pipeline,
            prompts,
            cache: ResponseCache { ttl: cache_ttl, entries: Mutex::new(HashMap::new()) },
            tool_defs,
        }
    }

    async fn system_prompt(&self, req: &FallbackRequest<'_>) -> String {
        let info = self.desk.info();
        let local = info.local(req.now);
        let mut p = format!("{}\n{}\n", self.prompts.persona.trim(), self.prompts.rules.trim());
        p.push_str(&format!(
            "\nOggi è {} {}, ore {}. Fuso orario {}.\n",
            fluxion_core::speak::weekday(local.weekday()),
            local.date(),
            local.time().strftime("%H:%M"),
            info.business.timezone
        ));
        p.push_str(&business_facts(info, local.date()));
        if let Some(phone) = req.caller_phone {
            if let Ok(Some(c)) = self.desk.repo().client_by_phone(phone).await {
                p.push_str(&format!("\nIl cliente è {} (cliente già registrato).", c.name));
                let upcoming = self.desk.repo().upcoming_for_client(c.id, req.now).await.unwrap_or_default();
                for a in upcoming.iter().take(5) {
                    let service = info.service(a.service_id).map(|s| s.name.as_str()).unwrap_or("?");
                    p.push_str(&format!("\nAppuntamento in programma: id {} {} il {}.", a.id, service, info.local(a.start)));
                }
            }
        }
        if let Some(hint) = req.faq_hint {
            p.push_str(&format!("\nInformazione forse utile (FAQ): {hint}"));
        }
        p
    }

    fn failed(&self, req: &FallbackRequest<'_>, e: &LlmError, started: Instant) -> FallbackReply {
        let outcome = match e {
            LlmError::Timeout => "timeout",
            LlmError::RateLimited { .. } => "rate_limited",
            LlmError::CircuitOpen => "circuit_open",
            _ => "error",
        };
        metrics::counter!(LLM_REQUESTS_TOTAL, "outcome" => outcome).increment(1);
        metrics::histogram!(LLM_SECONDS).record(started.elapsed().as_secs_f64());
        tracing::warn!(error = %e, session = req.session_id, "L4 failed: answering from the FAQ cache or apologising");
        match req.faq_hint {
            Some(hint) => FallbackReply { text: hint.to_string(), from_model: false, ..Default::default() },
            None => FallbackReply {
                text: APOLOGY.to_string(),
                from_model: true,
                model: Some(self.client.model().to_string()),
                ..Default::default()
            },
        }
    }
}

impl Fallback for Assistant {
    async fn answer(&self, req: FallbackRequest<'_>) -> Option<FallbackReply> {
        let started = Instant::now();
        let cache_key = if req.history.is_empty() || req.caller_phone.is_none() { Some(normalize(req.text)) } else { None };
        if let Some(hit) = cache_key.as_ref().and_then(|k| self.cache.get(k)) {
            metrics::counter!(LLM_REQUESTS_TOTAL, "outcome" => "cached").increment(1);
            return Some(FallbackReply { text: hit, from_model: true, model: Some(self.client.model().to_string()), ..Default::default() });
        }
        let mut messages = vec![ChatMessage::system(self.system_prompt(&req).await)];
        for (role, text) in req.history {
            messages.push(match role {
                HistoryRole::User => ChatMessage::user(text.clone()),
                HistoryRole::Assistant => ChatMessage::assistant(text.clone()),
            });
        }
        messages.push(ChatMessage::user(req.text));
        let ctx = ToolContext {
            now: req.now,
            scope: Scope::Caller { phone: req.caller_phone.map(str::to_string), confirmed: req.confirmed },
            session_id: req.session_id.to_string(),
        };
        let tools = Tools::new(&self.desk, &self.pipeline);
        let mut reply = FallbackReply { from_model: true, model: Some(self.client.model().to_string()), ..Default::default() };
        let mut tokens = 0u32;
        for _ in 0..MAX_TOOL_ROUNDS {
            let completion = match self.client.complete(&messages, &self.tool_defs, &mut |_| {}).await {
                Ok(c) => c,
                Err(e) => return Some(self.failed(&req, &e, started)),
            };
            tokens += completion.usage.map(|u| u.total_tokens).unwrap_or(0);
            if completion.tool_calls.is_empty() {
                reply.text = completion.content.trim().to_string();
                break;
            }
            messages.push(ChatMessage::assistant_tool_calls(
                Some(completion.content.clone()).filter(|c| !c.is_empty()),
                completion.tool_calls.clone(),
            ));
            for call in &completion.tool_calls {
                reply.tool_calls.push(call.name.clone());
                let result = match serde_json::from_str::<serde_json::Value>(&call.arguments) {
                    Err(e) => serde_json::json!({ "errore": "argomenti_non_validi", "messaggio": e.to_string() }),
                    Ok(args) => match tools.call(&call.name, &args, &ctx).await {
                        Ok((value, effects)) => {
                            if effects.booking.is_some() {
                                reply.booking = effects.booking;
                            }
                            reply.transfer |= effects.transfer;
                            value
                        }
                        Err(e) => e.to_json(),
                    },
                };
                messages.push(ChatMessage::tool_result(call.id.clone(), result.to_string()));
            }
        }
        if reply.text.is_empty() {
            // The model kept calling tools: say something useful anyway.
            reply.text = APOLOGY.to_string();
        }
        reply.tokens = (tokens > 0).then_some(tokens);
        metrics::counter!(LLM_REQUESTS_TOTAL, "outcome" => "ok").increment(1);
        metrics::counter!(LLM_TOKENS_TOTAL).increment(u64::from(tokens));
        metrics::histogram!(LLM_SECONDS).record(started.elapsed().as_secs_f64());
        if let (Some(key), true) = (cache_key, reply.tool_calls.is_empty()) {
            self.cache.put(key, reply.text.clone());
        }
        Some(reply)
    }
}

/// L4 as configured: a model, or nothing (Fluxion keeps working without one).
pub enum L4 {
    /// No model configured.
    Off,
    /// A model with tools.
    Model(Box<Assistant>),
}

impl Fallback for L4 {
    async fn answer(&self, req: FallbackRequest<'_>) -> Option<FallbackReply> {
        match self {
            L4::Off => None,
            L4::Model(a) => a.answer(req).await,
        }
    }
}
