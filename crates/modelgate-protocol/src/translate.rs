//! What a translation needs besides the request itself: the target's
//! settings, and the per-request context that maps the answer back.

use std::collections::{BTreeMap, HashMap};

use crate::ir::ClientTool;

/// How reasoning is asked of an OpenAI-compatible endpoint.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum ReasoningFormat {
    /// `"reasoning_effort": "high"` (OpenAI, DeepSeek).
    #[default]
    ReasoningEffort,
    /// `"reasoning": {"effort": "high"}` or `{"max_tokens": N}` (OpenRouter).
    ReasoningObject,
    /// Never sent.
    Disabled,
}

/// Which delta/message field an OpenAI-compatible endpoint puts reasoning
/// text in. Decoders accept both; this decides what is sent back.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum ReasoningKey {
    #[default]
    ReasoningContent,
    Reasoning,
}

impl ReasoningKey {
    pub fn field(self) -> &'static str {
        match self {
            ReasoningKey::ReasoningContent => "reasoning_content",
            ReasoningKey::Reasoning => "reasoning",
        }
    }
}

/// The endpoint a request is encoded for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// The upstream model id (after `model_map`).
    pub model: String,
    /// `max_tokens` when the client gave none and the format requires it.
    pub default_max_tokens: u64,
    pub reasoning_format: ReasoningFormat,
    pub reasoning_key: ReasoningKey,
}

impl Target {
    pub fn new(model: impl Into<String>) -> Self {
        Self {
            model: model.into(),
            default_max_tokens: DEFAULT_MAX_TOKENS,
            reasoning_format: ReasoningFormat::default(),
            reasoning_key: ReasoningKey::default(),
        }
    }
}

/// `max_tokens` sent to formats that require it when neither the client
/// nor the endpoint's settings give one.
pub const DEFAULT_MAX_TOKENS: u64 = 4096;

/// Per-request context for turning the upstream's answer into the client's format.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Context {
    /// The model id to show the client (what it asked for).
    pub client_model: String,
    /// The client asked for usage in an OpenAI stream.
    pub include_usage: bool,
    /// Unix seconds for OpenAI's `created` (the protocol crate reads no clock).
    pub created: u64,
    /// Tool names as sent upstream → as the client declared them.
    pub tool_names: ToolNames,
    /// The request's [`ChatRequest::client_tools`], for a Responses answer.
    ///
    /// [`ChatRequest::client_tools`]: crate::ir::ChatRequest::client_tools
    pub client_tools: BTreeMap<String, ClientTool>,
}

/// Reversible renaming of tool names for a target's naming rules.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ToolNames {
    to_client: HashMap<String, String>,
}

impl ToolNames {
    /// The target-side name for `name`, recording how to map it back.
    /// Names valid for the target are kept; others are sanitized, made
    /// unique, and remembered.
    pub fn to_target(&mut self, name: &str, max_len: usize) -> String {
        let valid = !name.is_empty()
            && name.len() <= max_len
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
        if valid {
            return name.to_owned();
        }
        let mut base: String = name
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '_' || c == '-' {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        if base.is_empty() {
            base.push_str("tool");
        }
        let suffix = format!("_{:08x}", fnv1a(name) as u32);
        base.truncate(max_len.saturating_sub(suffix.len()));
        base.push_str(&suffix);
        self.to_client.insert(base.clone(), name.to_owned());
        base
    }

    /// The client's name for a name the target used.
    pub fn to_client<'a>(&'a self, name: &'a str) -> &'a str {
        self.to_client.get(name).map_or(name, String::as_str)
    }
}

/// A tool-call id valid for targets that allow only `[A-Za-z0-9_-]`:
/// valid ids are kept, others are rewritten deterministically, so a call
/// and its result (rewritten separately) still match.
pub fn sanitize_tool_id(id: &str) -> String {
    if !id.is_empty()
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    {
        return id.to_owned();
    }
    let cleaned: String = id
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect();
    format!("{cleaned}_{:08x}", fnv1a(id) as u32)
}

/// A small stable hash (FNV-1a), so renamings do not change between runs.
fn fnv1a(s: &str) -> u64 {
    s.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn valid_names_are_kept_and_others_map_back() {
        let mut names = ToolNames::default();
        assert_eq!(names.to_target("get_weather", 64), "get_weather");
        let renamed = names.to_target("github.create_issue", 64);
        assert!(renamed.starts_with("github_create_issue_"));
        assert_eq!(names.to_client(&renamed), "github.create_issue");
        assert_eq!(names.to_client("get_weather"), "get_weather");
        let long = "x".repeat(100);
        let short = names.to_target(&long, 64);
        assert_eq!(short.len(), 64);
        assert_eq!(names.to_client(&short), long);
        assert_ne!(
            names.to_target("a.b", 64),
            names.to_target("a:b", 64),
            "distinct names stay distinct"
        );
    }

    #[test]
    fn tool_ids_are_sanitized_deterministically() {
        assert_eq!(sanitize_tool_id("call_abc-1"), "call_abc-1");
        let a = sanitize_tool_id("functions.get_weather:0");
        assert_eq!(a, sanitize_tool_id("functions.get_weather:0"));
        assert!(
            a.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        );
        assert_ne!(sanitize_tool_id("a.b"), sanitize_tool_id("a:b"));
    }
}
