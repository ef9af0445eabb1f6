//! Assembles a streamed chat completion from the `data:` payloads of its
//! server-sent events (OpenAI *chat completion chunk* objects, then
//! `[DONE]`): text deltas, tool-call deltas merged by `index`, the finish
//! reason and usage (`usage`, or Groq's `x_groq.usage`).

use std::collections::BTreeMap;

use serde::Deserialize;

use super::error::truncate_chars;
use super::types::{ToolCall, Usage};
use super::LlmError;

#[derive(Deserialize)]
struct Chunk {
    #[serde(default)]
    model: Option<String>,
    #[serde(default)]
    choices: Vec<Choice>,
    #[serde(default)]
    usage: Option<Usage>,
    #[serde(default)]
    x_groq: Option<XGroq>,
    #[serde(default)]
    error: Option<serde_json::Value>,
}

#[derive(Deserialize)]
struct XGroq {
    #[serde(default)]
    usage: Option<Usage>,
}

#[derive(Deserialize)]
struct Choice {
    #[serde(default)]
    index: u32,
    #[serde(default)]
    delta: Option<Delta>,
    #[serde(default)]
    finish_reason: Option<String>,
}

#[derive(Deserialize)]
struct Delta {
    #[serde(default)]
    content: Option<String>,
    #[serde(default)]
    tool_calls: Option<Vec<ToolCallDelta>>,
}

#[derive(Deserialize)]
struct ToolCallDelta {
    #[serde(default)]
    index: Option<u32>,
    #[serde(default)]
    id: Option<String>,
    #[serde(default)]
    function: Option<FunctionDelta>,
}

#[derive(Deserialize)]
struct FunctionDelta {
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    arguments: Option<String>,
}

#[derive(Default)]
struct PartialCall {
    id: String,
    name: String,
    arguments: String,
}

/// What one event contributed.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Step {
    /// A non-empty piece of text for the caller.
    Text(String),
    /// `[DONE]`: the stream is complete.
    Done,
    /// Nothing for the caller (role, tool-call delta, usage, keep-alive).
    Nothing,
}

/// The answer assembled so far.
#[derive(Default)]
pub(crate) struct Accumulator {
    content: String,
    calls: BTreeMap<u32, PartialCall>,
    finish_reason: Option<String>,
    usage: Option<Usage>,
    model: Option<String>,
    done: bool,
}

/// The assembled parts, before timing is added.
pub(crate) struct Assembled {
    pub content: String,
    pub tool_calls: Vec<ToolCall>,
    pub finish_reason: Option<String>,
    pub usage: Option<Usage>,
    pub model: Option<String>,
}

impl Accumulator {
    /// Applies the `data` of one event.
    ///
    /// # Errors
    /// [`LlmError::Malformed`] when it is neither `[DONE]` nor a chunk object,
    /// or when it is an `{"error": …}` event.
    pub(crate) fn apply(&mut self, data: &str) -> Result<Step, LlmError> {
        let data = data.trim();
        if data.is_empty() {
            return Ok(Step::Nothing);
        }
        if data == "[DONE]" {
            self.done = true;
            return Ok(Step::Done);
        }
        let chunk: Chunk = serde_json::from_str(data)
            .map_err(|e| LlmError::Malformed(format!("chunk is not a chat completion chunk ({e}): {}", truncate_chars(data, 200))))?;
        if let Some(err) = chunk.error {
            let msg = err.get("message").and_then(|m| m.as_str()).map(str::to_string).unwrap_or_else(|| err.to_string());
            return Err(LlmError::Malformed(format!("error event in stream: {}", truncate_chars(&msg, 500))));
        }
        if let Some(model) = chunk.model.filter(|m| !m.is_empty()) {
            self.model = Some(model);
        }
        if let Some(usage) = chunk.usage.or(chunk.x_groq.and_then(|x| x.usage)) {
            self.usage = Some(usage);
        }
        let mut text = String::new();
        // n = 1 is always requested: only choice 0 matters.
        for choice in chunk.choices.into_iter().filter(|c| c.index == 0) {
            if let Some(reason) = choice.finish_reason {
                self.finish_reason = Some(reason);
            }
            let Some(delta) = choice.delta else { continue };
            if let Some(piece) = delta.content {
                text.push_str(&piece);
            }
            for (pos, d) in delta.tool_calls.unwrap_or_default().into_iter().enumerate() {
                // Some local servers omit `index` when sending whole calls.
                let index = d.index.unwrap_or(pos as u32);
                let call = self.calls.entry(index).or_default();
                if let Some(id) = d.id.filter(|id| !id.is_empty()) {
                    call.id = id;
                }
                if let Some(f) = d.function {
                    if let Some(name) = f.name {
                        call.name.push_str(&name);
                    }
                    if let Some(args) = f.arguments {
                        call.arguments.push_str(&args);
                    }
                }
            }
        }
        if text.is_empty() {
            Ok(Step::Nothing)
        } else {
            self.content.push_str(&text);
            Ok(Step::Text(text))
        }
    }

    /// Ends the stream.
    ///
    /// # Errors
    /// [`LlmError::Transport`] when the stream ended with neither `[DONE]`
    /// nor a finish reason (cut short); [`LlmError::Malformed`] for a tool
    /// call without a name.
    pub(crate) fn finish(self) -> Result<Assembled, LlmError> {
        if !self.done && self.finish_reason.is_none() {
            return Err(LlmError::Transport("stream ended before [DONE]".into()));
        }
        let mut tool_calls = Vec::with_capacity(self.calls.len());
        for (index, c) in self.calls {
            if c.name.is_empty() {
                return Err(LlmError::Malformed(format!("tool call {index} has no function name")));
            }
            let id = if c.id.is_empty() { format!("call_{index}") } else { c.id };
            tool_calls.push(ToolCall { id, name: c.name, arguments: c.arguments });
        }
        Ok(Assembled { content: self.content, tool_calls, finish_reason: self.finish_reason, usage: self.usage, model: self.model })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn assembles_openai_tool_call_deltas_and_usage() {
        let mut acc = Accumulator::default();
        let events = [
            r#"{"id":"c","model":"gpt-4o-mini","choices":[{"index":0,"delta":{"role":"assistant","content":null,"tool_calls":[{"index":0,"id":"call_a","type":"function","function":{"name":"book","arguments":""}}]},"finish_reason":null}],"usage":null}"#,
            r#"{"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"{\"day\":"}}]}}]}"#,
            r#"{"choices":[{"index":0,"delta":{"tool_calls":[{"index":1,"id":"call_b","function":{"name":"faq","arguments":"{}"}}]}}]}"#,
            r#"{"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"\"lun\"}"}}]}}]}"#,
            r#"{"choices":[{"index":0,"delta":{},"finish_reason":"tool_calls"}]}"#,
            r#"{"choices":[],"usage":{"prompt_tokens":10,"completion_tokens":5,"total_tokens":15}}"#,
            "[DONE]",
        ];
        for e in events {
            acc.apply(e).expect("valid chunk");
        }
        let a = acc.finish().expect("complete");
        assert_eq!(
            a.tool_calls,
            vec![
                ToolCall { id: "call_a".into(), name: "book".into(), arguments: r#"{"day":"lun"}"#.into() },
                ToolCall { id: "call_b".into(), name: "faq".into(), arguments: "{}".into() },
            ]
        );
        assert_eq!(a.finish_reason.as_deref(), Some("tool_calls"));
        assert_eq!(a.usage, Some(Usage { prompt_tokens: 10, completion_tokens: 5, total_tokens: 15 }));
        assert_eq!(a.model.as_deref(), Some("gpt-4o-mini"));
    }

    #[test]
    fn reads_groq_usage_and_text() {
        let mut acc = Accumulator::default();
        assert_eq!(acc.apply(r#"{"choices":[{"index":0,"delta":{"content":"Buon"}}]}"#).ok(), Some(Step::Text("Buon".into())));
        assert_eq!(acc.apply(r#"{"choices":[{"index":0,"delta":{"content":""}}]}"#).ok(), Some(Step::Nothing));
        acc.apply(r#"{"choices":[{"index":0,"delta":{"content":"giorno"},"finish_reason":"stop"}],"x_groq":{"id":"req_1","usage":{"prompt_tokens":3,"completion_tokens":2,"total_tokens":5}}}"#)
            .expect("valid");
        assert_eq!(acc.apply("[DONE]").ok(), Some(Step::Done));
        let a = acc.finish().expect("complete");
        assert_eq!(a.content, "Buongiorno");
        assert_eq!(a.usage.map(|u| u.total_tokens), Some(5));
    }

    #[test]
    fn rejects_garbage_error_events_and_truncation() {
        let mut acc = Accumulator::default();
        assert!(matches!(acc.apply("{not json"), Err(LlmError::Malformed(_))));
        assert!(matches!(acc.apply(r#"{"error":{"message":"overloaded"}}"#), Err(LlmError::Malformed(m)) if m.contains("overloaded")));
        let mut acc = Accumulator::default();
        acc.apply(r#"{"choices":[{"index":0,"delta":{"content":"Buon"}}]}"#).expect("valid");
        assert!(matches!(acc.finish(), Err(LlmError::Transport(_))));
        let mut acc = Accumulator::default();
        acc.apply(r#"{"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"{}"}}]}}]}"#).expect("valid");
        acc.apply("[DONE]").expect("done");
        assert!(matches!(acc.finish(), Err(LlmError::Malformed(_))));
    }
}
