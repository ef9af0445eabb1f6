//! The chat-completions vocabulary: messages, tool definitions, tool calls
//! and the completed answer, serialised to the OpenAI wire format.

use std::time::Duration;

use serde::ser::{SerializeMap, Serializer};
use serde::{Deserialize, Serialize};

/// Who wrote a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Instructions from the application (wire `"system"`).
    System,
    /// The caller (wire `"user"`).
    User,
    /// The model (wire `"assistant"`), possibly with tool calls.
    Assistant,
    /// The result of a tool call (wire `"tool"`), with `tool_call_id`.
    Tool,
}

/// One message of the conversation.
///
/// Serialises as `{"role", "content"?, "tool_calls"?, "tool_call_id"?}`:
/// `content` is omitted only for an assistant message that carries tool
/// calls (otherwise a missing content is sent as `""`), `tool_calls` only
/// when non-empty, `tool_call_id` only when set.
#[derive(Debug, Clone, PartialEq)]
pub struct ChatMessage {
    /// Who wrote it.
    pub role: Role,
    /// The text, if any.
    pub content: Option<String>,
    /// Tool calls made by the assistant in this turn (assistant messages only).
    pub tool_calls: Vec<ToolCall>,
    /// The call this message answers (tool messages only).
    pub tool_call_id: Option<String>,
}

impl ChatMessage {
    fn text(role: Role, content: impl Into<String>) -> Self {
        ChatMessage { role, content: Some(content.into()), tool_calls: Vec::new(), tool_call_id: None }
    }

    /// A system message (instructions).
    pub fn system(content: impl Into<String>) -> Self {
        Self::text(Role::System, content)
    }

    /// A user message (what the caller said).
    pub fn user(content: impl Into<String>) -> Self {
        Self::text(Role::User, content)
    }

    /// An assistant message with text only.
    pub fn assistant(content: impl Into<String>) -> Self {
        Self::text(Role::Assistant, content)
    }

    /// An assistant message carrying the tool calls the model made, as
    /// returned in [`Completion::tool_calls`]; `content` is the text said
    /// alongside, if any.
    pub fn assistant_tool_calls(content: Option<String>, tool_calls: Vec<ToolCall>) -> Self {
        ChatMessage { role: Role::Assistant, content, tool_calls, tool_call_id: None }
    }

    /// A tool message: the `result` (usually JSON text) of the call `tool_call_id`.
    pub fn tool_result(tool_call_id: impl Into<String>, result: impl Into<String>) -> Self {
        ChatMessage { role: Role::Tool, content: Some(result.into()), tool_calls: Vec::new(), tool_call_id: Some(tool_call_id.into()) }
    }

    /// Characters this message contributes to the prompt (content, tool-call
    /// names and arguments), for the token estimate.
    pub(crate) fn prompt_chars(&self) -> usize {
        self.content.as_deref().map_or(0, |c| c.chars().count())
            + self.tool_calls.iter().map(|t| t.name.chars().count() + t.arguments.chars().count()).sum::<usize>()
    }
}

impl Serialize for ChatMessage {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(None)?;
        map.serialize_entry("role", &self.role)?;
        match &self.content {
            Some(c) => map.serialize_entry("content", c)?,
            None if self.tool_calls.is_empty() => map.serialize_entry("content", "")?,
            None => {}
        }
        if !self.tool_calls.is_empty() {
            map.serialize_entry("tool_calls", &self.tool_calls)?;
        }
        if let Some(id) = &self.tool_call_id {
            map.serialize_entry("tool_call_id", id)?;
        }
        map.end()
    }
}

/// A function call requested by the model.
///
/// Serialises to the wire shape
/// `{"id", "type": "function", "function": {"name", "arguments"}}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ToolCall {
    /// The provider's call id, echoed back in the tool message (`call_…`).
    pub id: String,
    /// The function name, one of the [`ToolDef::name`]s sent.
    pub name: String,
    /// The arguments as the model wrote them: JSON text, not validated here
    /// (small models sometimes emit invalid JSON; the caller decides).
    pub arguments: String,
}

impl Serialize for ToolCall {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(3))?;
        map.serialize_entry("id", &self.id)?;
        map.serialize_entry("type", "function")?;
        map.serialize_entry(
            "function",
            &FunctionWire { name: &self.name, arguments: Some(&self.arguments), description: None, parameters: None },
        )?;
        map.end()
    }
}

/// A function the model may call.
///
/// Serialises to `{"type": "function", "function": {"name", "description", "parameters"}}`.
#[derive(Debug, Clone, PartialEq)]
pub struct ToolDef {
    /// The function name (`[a-zA-Z0-9_-]`, at most 64 characters for OpenAI).
    pub name: String,
    /// What the function does, for the model.
    pub description: String,
    /// The arguments as a JSON Schema object.
    pub parameters: serde_json::Value,
}

impl ToolDef {
    /// Characters this definition contributes to the prompt, for the token estimate.
    pub(crate) fn prompt_chars(&self) -> usize {
        self.name.chars().count() + self.description.chars().count() + self.parameters.to_string().chars().count()
    }
}

impl Serialize for ToolDef {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(2))?;
        map.serialize_entry("type", "function")?;
        map.serialize_entry(
            "function",
            &FunctionWire { name: &self.name, arguments: None, description: Some(&self.description), parameters: Some(&self.parameters) },
        )?;
        map.end()
    }
}

#[derive(Serialize)]
struct FunctionWire<'a> {
    name: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    description: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    parameters: Option<&'a serde_json::Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    arguments: Option<&'a str>,
}

/// Token counts reported by the provider for one call.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Usage {
    /// Tokens in the prompt (messages and tool definitions).
    #[serde(default)]
    pub prompt_tokens: u32,
    /// Tokens generated.
    #[serde(default)]
    pub completion_tokens: u32,
    /// `prompt_tokens + completion_tokens`.
    #[serde(default)]
    pub total_tokens: u32,
}

/// The assembled answer of one call.
#[derive(Debug, Clone, PartialEq)]
pub struct Completion {
    /// All the text, as also delivered piece by piece to `on_delta`.
    pub content: String,
    /// Tool calls, in the order of their stream `index`.
    pub tool_calls: Vec<ToolCall>,
    /// Why generation stopped (`"stop"`, `"tool_calls"`, `"length"`…), when sent.
    pub finish_reason: Option<String>,
    /// Token counts, when the provider sent them (`usage` or `x_groq.usage`).
    pub usage: Option<Usage>,
    /// The model that answered, as reported by the provider (else the configured one).
    pub model: String,
    /// Wall time of the whole call, retries and waits included.
    pub latency: Duration,
    /// HTTP attempts made (1 when the first succeeded).
    pub attempts: u32,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn messages_serialise_to_openai_wire_format() {
        let call = ToolCall { id: "call_1".into(), name: "book".into(), arguments: r#"{"day":"lunedì"}"#.into() };
        let msgs = vec![
            ChatMessage::system("Sei la receptionist."),
            ChatMessage::user("Vorrei prenotare"),
            ChatMessage::assistant_tool_calls(None, vec![call]),
            ChatMessage::tool_result("call_1", r#"{"ok":true}"#),
        ];
        let v = serde_json::to_value(&msgs).expect("serialise");
        assert_eq!(
            v,
            json!([
                {"role": "system", "content": "Sei la receptionist."},
                {"role": "user", "content": "Vorrei prenotare"},
                {"role": "assistant", "tool_calls": [
                    {"id": "call_1", "type": "function", "function": {"name": "book", "arguments": "{\"day\":\"lunedì\"}"}}
                ]},
                {"role": "tool", "content": "{\"ok\":true}", "tool_call_id": "call_1"}
            ])
        );
    }

    #[test]
    fn tool_def_serialises_as_function() {
        let t = ToolDef { name: "book".into(), description: "Prenota".into(), parameters: json!({"type": "object"}) };
        assert_eq!(
            serde_json::to_value(&t).expect("serialise"),
            json!({"type": "function", "function": {"name": "book", "description": "Prenota", "parameters": {"type": "object"}}})
        );
    }
}
