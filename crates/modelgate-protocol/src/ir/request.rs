//! The canonical chat request.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::content::Content;

/// A chat request, whatever format it arrived in.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ChatRequest {
    /// The model as the client named it (before `model_map`).
    pub model: String,
    /// System prompt blocks (text), in order. OpenAI `system`/`developer`
    /// messages anywhere in the conversation are hoisted here.
    pub system: Vec<Content>,
    pub messages: Vec<Message>,
    pub tools: Vec<Tool>,
    pub tool_choice: Option<ToolChoice>,
    /// `Some(false)`: at most one tool call per turn.
    pub parallel_tool_calls: Option<bool>,
    pub response_format: Option<ResponseFormat>,
    /// Output token limit (OpenAI `max_completion_tokens`/`max_tokens`, Anthropic `max_tokens`).
    pub max_tokens: Option<u64>,
    pub temperature: Option<f64>,
    pub top_p: Option<f64>,
    pub top_k: Option<u64>,
    pub stop: Vec<String>,
    pub seed: Option<i64>,
    pub frequency_penalty: Option<f64>,
    pub presence_penalty: Option<f64>,
    pub reasoning: Option<Reasoning>,
    pub stream: bool,
    /// The client asked for usage in the stream (OpenAI `stream_options.include_usage`).
    pub include_usage: bool,
    /// End-user id (OpenAI `user`, Anthropic `metadata.user_id`).
    pub user: Option<String>,
    /// Fields the decoder did not understand, kept for a target of the same format.
    pub extra: serde_json::Map<String, serde_json::Value>,
    /// Tools the client declared in a shape other formats lack (a function
    /// inside a Responses `namespace`, a free-form `custom` tool), by their
    /// canonical name, so the answer can give them back in that shape.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub client_tools: BTreeMap<String, ClientTool>,
    /// Hosted tools the client offered that the target cannot run (e.g.
    /// `web_search`), left out of the upstream request. The gateway names
    /// them in the `x-modelgate-dropped-tools` response header.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub dropped_tools: Vec<String>,
}

/// How a client declared a tool whose canonical form is a plain function.
///
/// A Responses `namespace` tool groups functions: the canonical name of
/// function `F` in namespace `N` is `N.F` (a dot, which no target allows, so
/// every encoder renames it reversibly and the answer maps back exactly).
/// A `custom` tool takes free-form text: canonically a function with one
/// string parameter `input`, given back as a `custom_tool_call`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClientTool {
    /// The namespace the function was declared in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// The tool's own name (without the namespace).
    pub name: String,
    /// A free-form `custom` tool.
    #[serde(default)]
    pub custom: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    User,
    Assistant,
    /// Tool results (OpenAI `tool` messages). Formats without a tool role
    /// carry them in a user turn.
    Tool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Message {
    pub role: Role,
    pub content: Vec<Content>,
}

/// A tool the model may call.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Tool {
    pub name: String,
    pub description: Option<String>,
    /// JSON Schema of the arguments (an object schema).
    pub parameters: serde_json::Value,
    pub strict: Option<bool>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "mode", rename_all = "snake_case")]
pub enum ToolChoice {
    Auto,
    /// Must call some tool (OpenAI `required`, Anthropic `any`).
    Required,
    None,
    /// Must call this tool.
    Tool {
        name: String,
    },
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ResponseFormat {
    Text,
    JsonObject,
    JsonSchema {
        name: String,
        schema: serde_json::Value,
        strict: Option<bool>,
    },
}

/// Reasoning asked for: an effort level, a token budget, or off.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Reasoning {
    /// `none`, `minimal`, `low`, `medium`, `high`, `xhigh`, `max` (open set).
    pub effort: Option<String>,
    pub budget_tokens: Option<u64>,
    /// Explicitly disabled (`effort: none`, `thinking: disabled`).
    pub disabled: bool,
}

impl Reasoning {
    /// The thinking budget for a target that wants tokens: the explicit
    /// budget, or the effort mapped by the gateway's table
    /// (minimal 1024, low 2048, medium 8192, high 24576, higher 32768).
    pub fn budget(&self) -> Option<u64> {
        if self.disabled {
            return None;
        }
        self.budget_tokens.or_else(|| {
            Some(match self.effort.as_deref()? {
                "none" => return None,
                "minimal" => 1024,
                "low" => 2048,
                "medium" => 8192,
                "high" => 24576,
                _ => 32768,
            })
        })
    }

    /// The effort level for a target that wants one: the explicit effort, or
    /// the budget mapped back by the same table.
    pub fn effort_level(&self) -> Option<String> {
        if self.disabled {
            return Some("none".to_owned());
        }
        if let Some(effort) = &self.effort {
            return Some(effort.clone());
        }
        let budget = self.budget_tokens?;
        Some(
            match budget {
                0..=1535 => "minimal",
                1536..=4095 => "low",
                4096..=16383 => "medium",
                _ => "high",
            }
            .to_owned(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn effort_and_budget_convert_both_ways() {
        let effort = |e: &str| Reasoning {
            effort: Some(e.into()),
            ..Default::default()
        };
        let budget = |b: u64| Reasoning {
            budget_tokens: Some(b),
            ..Default::default()
        };
        assert_eq!(effort("low").budget(), Some(2048));
        assert_eq!(effort("high").budget(), Some(24576));
        assert_eq!(effort("none").budget(), None);
        assert_eq!(budget(2048).effort_level().as_deref(), Some("low"));
        assert_eq!(budget(24576).effort_level().as_deref(), Some("high"));
        assert_eq!(budget(5000).budget(), Some(5000));
        let off = Reasoning {
            disabled: true,
            ..Default::default()
        };
        assert_eq!(off.budget(), None);
        assert_eq!(off.effort_level().as_deref(), Some("none"));
    }
}
