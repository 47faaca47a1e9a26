//! Anthropic wire pieces shared by the response, stream and tap codecs.
//!
//! Only the fields the gateway reads are declared; unknown fields and
//! unknown block types are ignored rather than failing the whole body.

use serde::Deserialize;
use serde_json::Value;

use crate::ir::Usage;

/// `usage` of a message, `message_start` or `message_delta`. Absent and
/// `null` fields are `None`, so a cumulative `message_delta` can override
/// only what it carries.
#[derive(Debug, Default, Deserialize)]
pub(super) struct WireUsage {
    pub input_tokens: Option<u64>,
    pub output_tokens: Option<u64>,
    pub cache_creation_input_tokens: Option<u64>,
    pub cache_read_input_tokens: Option<u64>,
}

impl WireUsage {
    /// `base` with every count this usage carries written over it.
    /// Anthropic's `input_tokens` already excludes cache reads and writes,
    /// which is the canonical meaning of [`Usage::input`].
    pub fn apply(&self, mut base: Usage) -> Usage {
        if let Some(n) = self.input_tokens {
            base.input = n;
        }
        if let Some(n) = self.output_tokens {
            base.output = n;
        }
        if let Some(n) = self.cache_creation_input_tokens {
            base.cache_write = n;
        }
        if let Some(n) = self.cache_read_input_tokens {
            base.cache_read = n;
        }
        base
    }
}

/// A response content block (also the `content_block` of `content_block_start`).
#[derive(Debug, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub(super) enum WireBlock {
    Text {
        #[serde(default)]
        text: String,
    },
    ToolUse {
        #[serde(default)]
        id: String,
        #[serde(default)]
        name: String,
        #[serde(default)]
        input: Option<Value>,
    },
    Thinking {
        #[serde(default)]
        thinking: String,
        #[serde(default)]
        signature: Option<String>,
    },
    RedactedThinking {
        #[serde(default)]
        data: String,
    },
    /// Server-tool blocks (`server_tool_use`, `web_search_tool_result`, …)
    /// and anything newer: no canonical form, skipped.
    #[serde(other)]
    Other,
}

/// `error` of an error body or `event: error`.
#[derive(Debug, Default, Deserialize)]
pub(super) struct WireError {
    #[serde(rename = "type", default)]
    pub kind: String,
    #[serde(default)]
    pub message: String,
}

/// Tool-call arguments (a JSON text) as the object Anthropic wants:
/// empty → `{}`; not JSON or not an object → `{"_raw": "<the text>"}`.
pub(super) fn arguments_object(arguments: &str) -> Value {
    if arguments.trim().is_empty() {
        return Value::Object(serde_json::Map::new());
    }
    match serde_json::from_str::<Value>(arguments) {
        Ok(v @ Value::Object(_)) => v,
        _ => serde_json::json!({ "_raw": arguments }),
    }
}

/// A tool `input` object as canonical arguments: compact JSON, `{}` when absent.
pub(super) fn arguments_text(input: Option<&Value>) -> String {
    match input {
        None | Some(Value::Null) => "{}".to_owned(),
        Some(v) => v.to_string(),
    }
}

/// A message id as Anthropic SDKs expect it: `msg_…`.
pub(super) fn message_id(id: &str) -> String {
    if id.starts_with("msg_") {
        id.to_owned()
    } else {
        format!("msg_{id}")
    }
}
