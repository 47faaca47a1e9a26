//! OpenAI wire types that the gateway reads or writes itself. Passthrough
//! bodies are never deserialized into these: only the fields we need are.

use serde::{Deserialize, Serialize};

use crate::ir::Usage;
use crate::spec::null_as_default;

/// `usage` of a chat completion or of the final stream chunk. Counts that
/// are absent or `null` read as 0.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChatUsage {
    #[serde(default, deserialize_with = "null_as_default")]
    pub prompt_tokens: u64,
    #[serde(default, deserialize_with = "null_as_default")]
    pub completion_tokens: u64,
    #[serde(default, deserialize_with = "null_as_default")]
    pub total_tokens: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prompt_tokens_details: Option<PromptTokensDetails>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub completion_tokens_details: Option<CompletionTokensDetails>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PromptTokensDetails {
    #[serde(default, deserialize_with = "null_as_default")]
    pub cached_tokens: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cache_write_tokens: Option<u64>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CompletionTokensDetails {
    #[serde(default, deserialize_with = "null_as_default")]
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
            input: u
                .prompt_tokens
                .saturating_sub(cache_read.saturating_add(cache_write)),
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

/// The few fields of a response or chunk the gateway reads while passing
/// it on: one parse gives them all (`null` reads as absent).
#[derive(Debug, Default, Deserialize)]
pub struct ResponseTap {
    /// A top-level `error` (an error body, or an error event mid-stream).
    #[serde(default)]
    pub error: Option<serde_json::Value>,
    #[serde(default)]
    pub usage: Option<ChatUsage>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub choices: Vec<ChoiceTap>,
}

impl ResponseTap {
    /// The message of `error`, when there is an error: its `message`, the
    /// error itself when it is a string, else a generic text.
    pub fn error_message(&self) -> Option<String> {
        let error = self.error.as_ref()?;
        let message = error
            .get("message")
            .and_then(serde_json::Value::as_str)
            .or_else(|| error.as_str())
            .filter(|m| !m.is_empty());
        Some(message.unwrap_or("stream error").to_owned())
    }
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

/// Most categories named in one content-filter message, and the longest
/// name kept: the annotations come from the upstream.
const MAX_CATEGORIES: usize = 8;
const MAX_CATEGORY_LEN: usize = 64;

/// The categories an Azure content-filter annotation says were filtered:
/// `content_filter_results` of a choice or chunk, `content_filter_result`
/// of an error's `innererror`, or one entry of `prompt_filter_results`.
///
/// Each category object with `"filtered": true` is named, with its severity
/// when it has one other than `safe` (`hate (high)`, `jailbreak`,
/// `protected material text`); filtered custom blocklists are named by id
/// (`blocklist my-list`), whether written as a list of `{filtered, id}` or
/// as `{filtered, details: [...]}`; the names come sorted. Anything else (the `error` Azure
/// sometimes puts there, unknown shapes) is skipped.
pub fn filtered_categories(results: &serde_json::Value) -> Vec<String> {
    use serde_json::Value;
    let cut = |s: &str| s.chars().take(MAX_CATEGORY_LEN).collect::<String>();
    let filtered = |v: &Value| v.get("filtered").and_then(Value::as_bool) == Some(true);
    let mut out: Vec<String> = Vec::new();
    let Some(map) = results.as_object() else {
        return out;
    };
    for (name, value) in map {
        if name == "custom_blocklists" {
            let entries = value
                .as_array()
                .or_else(|| value.get("details").and_then(Value::as_array));
            for entry in entries.into_iter().flatten().filter(|e| filtered(e)) {
                let id = entry.get("id").and_then(Value::as_str).unwrap_or("custom");
                out.push(format!("blocklist {}", cut(id)));
            }
            if entries.is_none() && filtered(value) {
                out.push("custom blocklist".to_owned());
            }
            continue;
        }
        if !filtered(value) {
            continue;
        }
        let mut category = cut(name).replace('_', " ");
        if let Some(severity) = value
            .get("severity")
            .and_then(Value::as_str)
            .filter(|s| *s != "safe")
        {
            category = format!("{category} ({})", cut(severity));
        }
        out.push(category);
    }
    // Sorted, so the message does not depend on the order of the JSON keys.
    out.sort();
    out.dedup();
    out.truncate(MAX_CATEGORIES);
    out
}

/// The text a client gets in place of an answer the endpoint's content
/// filter withheld.
pub fn withheld_text(categories: &[String]) -> String {
    if categories.is_empty() {
        "The answer was withheld by the endpoint's content filter.".to_owned()
    } else {
        format!(
            "The answer was withheld by the endpoint's content filter (categories: {}).",
            categories.join(", ")
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filtered_categories_name_what_was_filtered() {
        let results = serde_json::json!({
            "hate": {"filtered": true, "severity": "high"},
            "self_harm": {"filtered": false, "severity": "safe"},
            "violence": {"filtered": true, "severity": "safe"},
            "jailbreak": {"filtered": true, "detected": true},
            "protected_material_text": {"filtered": false, "detected": false},
            "custom_blocklists": [{"filtered": true, "id": "my-list"}, {"filtered": false, "id": "other"}],
            "error": {"code": "content_filter_error", "message": "The contents are not filtered"},
        });
        assert_eq!(
            filtered_categories(&results),
            ["blocklist my-list", "hate (high)", "jailbreak", "violence"]
        );
        let details = serde_json::json!({"custom_blocklists": {"filtered": true, "details": [{"filtered": true, "id": "b"}]}});
        assert_eq!(filtered_categories(&details), ["blocklist b"]);
        assert!(filtered_categories(&serde_json::json!({})).is_empty());
        assert!(filtered_categories(&serde_json::json!("x")).is_empty());
        let many: serde_json::Map<String, serde_json::Value> = (0..20)
            .map(|i| (format!("c{i:02}"), serde_json::json!({"filtered": true})))
            .collect();
        assert_eq!(
            filtered_categories(&serde_json::Value::Object(many)).len(),
            8
        );
    }

    #[test]
    fn withheld_text_lists_categories() {
        assert_eq!(
            withheld_text(&["hate (high)".into(), "jailbreak".into()]),
            "The answer was withheld by the endpoint's content filter (categories: hate (high), jailbreak)."
        );
        assert_eq!(
            withheld_text(&[]),
            "The answer was withheld by the endpoint's content filter."
        );
    }

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
    fn usage_sums_saturate() {
        let max = u64::MAX;
        let u: ChatUsage = serde_json::from_value(serde_json::json!({
            "prompt_tokens": max, "completion_tokens": max, "total_tokens": max,
            "prompt_tokens_details": {"cached_tokens": max, "cache_write_tokens": max},
        }))
        .unwrap();
        let c = Usage::from(&u);
        assert_eq!((c.input, c.cache_read, c.cache_write), (0, max, max));
        assert_eq!((c.prompt_total(), c.total()), (max, max));
    }

    #[test]
    fn nulls_read_as_absent() {
        let tap: ResponseTap = serde_json::from_str(
            r#"{"error":null,"choices":null,"usage":{"prompt_tokens":3,"completion_tokens":null,
                "prompt_tokens_details":{"cached_tokens":null}}}"#,
        )
        .unwrap();
        assert_eq!(tap.error_message(), None);
        assert!(tap.choices.is_empty());
        let u = Usage::from(tap.usage.as_ref().unwrap());
        assert_eq!((u.input, u.cache_read, u.output), (3, 0, 0));
    }

    #[test]
    fn model_list_tolerates_missing_fields() {
        let l: ModelList = serde_json::from_str(r#"{"data":[{"id":"llama3","extra":1}]}"#).unwrap();
        assert_eq!(l.data[0].id, "llama3");
        assert_eq!(l.data[0].object, "model");
    }
}

/// The `format` OpenRouter gives Anthropic reasoning details.
pub const ANTHROPIC_REASONING_FORMAT: &str = "anthropic-claude-v1";

/// The `format` OpenRouter gives OpenAI (Responses) encrypted reasoning.
pub const RESPONSES_REASONING_FORMAT: &str = "openai-responses-v1";

/// The `format` of a `reasoning_details` entry whose signature or blob
/// `signed_by` made: OpenRouter's names for the families it knows, the
/// signer itself otherwise, so that the entry sent back names its producer.
pub fn reasoning_format(signed_by: Option<&str>) -> Option<&str> {
    match signed_by? {
        crate::ir::SIGNED_BY_ANTHROPIC => Some(ANTHROPIC_REASONING_FORMAT),
        crate::spec::openai_responses::wire::SIGNED_BY_RESPONSES => {
            Some(RESPONSES_REASONING_FORMAT)
        }
        other => Some(other),
    }
}

/// The signer a `reasoning_details` `format` names (the inverse of
/// [`reasoning_format`]); no format, no signer.
pub fn signer(format: Option<&str>) -> Option<String> {
    let format = format.filter(|f| !f.is_empty())?;
    Some(if format.starts_with("anthropic") {
        crate::ir::SIGNED_BY_ANTHROPIC.to_owned()
    } else if format.starts_with("openai-responses") {
        crate::spec::openai_responses::wire::SIGNED_BY_RESPONSES.to_owned()
    } else {
        format.to_owned()
    })
}

#[cfg(test)]
mod signer_tests {
    use super::*;

    #[test]
    fn a_reasoning_format_names_its_signer_both_ways() {
        for signer_name in ["anthropic", "openai-responses", "google"] {
            let format = reasoning_format(Some(signer_name));
            assert_eq!(signer(format).as_deref(), Some(signer_name));
        }
        assert_eq!(
            reasoning_format(Some("anthropic")),
            Some("anthropic-claude-v1")
        );
        assert_eq!(
            reasoning_format(Some("openai-responses")),
            Some("openai-responses-v1")
        );
        assert_eq!(reasoning_format(None), None);
        assert_eq!(signer(None), None);
        assert_eq!(signer(Some("")), None);
    }
}
