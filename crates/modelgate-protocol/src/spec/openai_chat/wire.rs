//! OpenAI wire types that the gateway reads or writes itself. Passthrough
//! bodies are never deserialized into these: only the fields we need are.

use serde::{Deserialize, Serialize};

use crate::ir::Usage;

/// `usage` of a chat completion or of the final stream chunk.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChatUsage {
    #[serde(default)]
    pub prompt_tokens: u64,
    #[serde(default)]
    pub completion_tokens: u64,
    #[serde(default)]
    pub total_tokens: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prompt_tokens_details: Option<PromptTokensDetails>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub completion_tokens_details: Option<CompletionTokensDetails>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PromptTokensDetails {
    #[serde(default)]
    pub cached_tokens: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cache_write_tokens: Option<u64>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CompletionTokensDetails {
    #[serde(default)]
    pub reasoning_tokens: u64,
}

impl From<&ChatUsage> for Usage {
    /// OpenAI's `prompt_tokens` includes cached tokens and `completion_tokens`
    /// includes reasoning tokens; the canonical fields split them out.
    fn from(u: &ChatUsage) -> Self {
        let details = u.prompt_tokens_details.clone().unwrap_or_default();
        let cache_read = details.cached_tokens;
        let cache_write = details.cache_write_tokens.unwrap_or(0);
        Usage {
            input: u.prompt_tokens.saturating_sub(cache_read + cache_write),
            cache_read,
            cache_write,
            output: u.completion_tokens,
            reasoning: u
                .completion_tokens_details
                .as_ref()
                .map_or(0, |d| d.reasoning_tokens),
        }
    }
}

/// The few fields of a response or chunk the gateway reads while passing it on.
#[derive(Debug, Default, Deserialize)]
pub struct ResponseTap {
    #[serde(default)]
    pub usage: Option<ChatUsage>,
    #[serde(default)]
    pub choices: Vec<ChoiceTap>,
}

#[derive(Debug, Default, Deserialize)]
pub struct ChoiceTap {
    #[serde(default)]
    pub finish_reason: Option<String>,
}

/// `GET /models` list.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ModelList {
    #[serde(default = "list_object")]
    pub object: String,
    pub data: Vec<ModelEntry>,
}

fn list_object() -> String {
    "list".to_owned()
}

/// One model of a list. Upstreams add their own fields; they are ignored.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ModelEntry {
    pub id: String,
    #[serde(default = "model_object")]
    pub object: String,
    #[serde(default)]
    pub created: u64,
    #[serde(default)]
    pub owned_by: String,
}

fn model_object() -> String {
    "model".to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_usage_splits_cached_and_reasoning() {
        let u: ChatUsage = serde_json::from_str(
            r#"{"prompt_tokens":100,"completion_tokens":30,"total_tokens":130,
                "prompt_tokens_details":{"cached_tokens":60},
                "completion_tokens_details":{"reasoning_tokens":10}}"#,
        )
        .unwrap();
        let c = Usage::from(&u);
        assert_eq!(
            (c.input, c.cache_read, c.output, c.reasoning),
            (40, 60, 30, 10)
        );
        assert_eq!(c.prompt_total(), 100);
    }

    #[test]
    fn model_list_tolerates_missing_fields() {
        let l: ModelList = serde_json::from_str(r#"{"data":[{"id":"llama3","extra":1}]}"#).unwrap();
        assert_eq!(l.data[0].id, "llama3");
        assert_eq!(l.data[0].object, "model");
    }
}
