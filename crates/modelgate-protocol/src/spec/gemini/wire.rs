//! Gemini wire pieces shared by the answer codecs (response, streams, tap):
//! the `GenerateContentResponse` as read, usage, finish reasons and the
//! Google error envelope.
//!
//! Usage (`usageMetadata`) in canonical terms (see `ir/usage.rs`):
//!
//! * `input` = `promptTokenCount` + `toolUsePromptTokenCount` −
//!   `cachedContentTokenCount` (Google's prompt count includes cached
//!   tokens; the tool-use prompt is prompt too, and Google's total counts it);
//! * `cache_read` = `cachedContentTokenCount` (Gemini reports no cache writes);
//! * `output` = `candidatesTokenCount` + `thoughtsTokenCount` (Google's
//!   candidates count excludes thoughts; canonical output includes them,
//!   as OpenAI's `completion_tokens` does);
//! * `reasoning` = `thoughtsTokenCount`.
//!
//! Subtractions saturate at 0 and sums at `u64::MAX`.

use serde::Deserialize;
use serde_json::{Value, json};

use crate::ir::{ErrorKind, GatewayError, StopKind, StopReason, Usage};
use crate::spec::null_as_default;

/// A `GenerateContentResponse` (a whole answer or one stream chunk).
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct WireResponse {
    #[serde(default, deserialize_with = "null_as_default")]
    pub candidates: Vec<WireCandidate>,
    #[serde(default)]
    pub prompt_feedback: Option<WirePromptFeedback>,
    #[serde(default)]
    pub usage_metadata: Option<WireUsage>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub model_version: String,
    #[serde(default, deserialize_with = "null_as_default")]
    pub response_id: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct WireCandidate {
    #[serde(default)]
    pub content: Option<WireContent>,
    #[serde(default)]
    pub finish_reason: Option<String>,
    #[serde(default)]
    pub finish_message: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct WireContent {
    #[serde(default, deserialize_with = "null_as_default")]
    pub parts: Vec<WirePart>,
}

/// A `Part`: one data field plus metadata. Fields not read here
/// (`inlineData`, `executableCode`, …) are ignored.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct WirePart {
    #[serde(default)]
    pub text: Option<String>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub thought: bool,
    #[serde(default)]
    pub thought_signature: Option<String>,
    #[serde(default)]
    pub function_call: Option<WireFunctionCall>,
}

#[derive(Debug, Default, Deserialize)]
pub(crate) struct WireFunctionCall {
    #[serde(default)]
    pub id: Option<String>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub name: String,
    #[serde(default)]
    pub args: Option<Value>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct WirePromptFeedback {
    #[serde(default)]
    pub block_reason: Option<String>,
    #[serde(default)]
    pub block_reason_message: Option<String>,
}

/// `usageMetadata`; absent or `null` counts are 0.
#[derive(Debug, Default, Clone, Copy, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct WireUsage {
    #[serde(default, deserialize_with = "null_as_default")]
    pub prompt_token_count: u64,
    #[serde(default, deserialize_with = "null_as_default")]
    pub cached_content_token_count: u64,
    #[serde(default, deserialize_with = "null_as_default")]
    pub candidates_token_count: u64,
    #[serde(default, deserialize_with = "null_as_default")]
    pub thoughts_token_count: u64,
    #[serde(default, deserialize_with = "null_as_default")]
    pub tool_use_prompt_token_count: u64,
}

impl WireUsage {
    /// In canonical terms (module docs).
    pub fn canonical(&self) -> Usage {
        let prompt = self
            .prompt_token_count
            .saturating_add(self.tool_use_prompt_token_count);
        Usage {
            input: prompt.saturating_sub(self.cached_content_token_count),
            cache_read: self.cached_content_token_count,
            cache_write: 0,
            output: self
                .candidates_token_count
                .saturating_add(self.thoughts_token_count),
            reasoning: self.thoughts_token_count,
        }
    }
}

/// Canonical usage as `usageMetadata` (cache writes count as prompt).
pub(crate) fn usage_json(u: &Usage) -> Value {
    let thoughts = u.reasoning.min(u.output);
    let candidates = u.output - thoughts;
    let mut v = json!({
        "promptTokenCount": u.prompt_total(),
        "candidatesTokenCount": candidates,
        "totalTokenCount": u.total(),
    });
    if u.cache_read > 0 {
        v["cachedContentTokenCount"] = json!(u.cache_read);
    }
    if thoughts > 0 {
        v["thoughtsTokenCount"] = json!(thoughts);
    }
    v
}

/// A Gemini `finishReason` as canonical (the native value kept). `STOP`
/// is `ToolUse` when the answer called a function (Gemini has no
/// tool-call finish reason).
pub(crate) fn stop_reason(native: &str, called_tool: bool) -> StopReason {
    let kind = match native {
        "STOP" if called_tool => StopKind::ToolUse,
        "STOP" => StopKind::EndTurn,
        "MAX_TOKENS" => StopKind::MaxTokens,
        _ if is_filtered(native) => StopKind::ContentFilter,
        _ => StopKind::Other,
    };
    StopReason::new(kind, Some(native))
}

/// Finish (and block) reasons that mean a safety or policy filter.
fn is_filtered(native: &str) -> bool {
    matches!(
        native,
        "SAFETY"
            | "RECITATION"
            | "BLOCKLIST"
            | "PROHIBITED_CONTENT"
            | "SPII"
            | "IMAGE_SAFETY"
            | "IMAGE_PROHIBITED_CONTENT"
            | "IMAGE_RECITATION"
            | "MODEL_ARMOR"
            | "JAILBREAK"
    )
}

/// Finish reasons that mean the model's function call was unusable.
pub(crate) fn is_bad_tool_call(native: &str) -> bool {
    matches!(
        native,
        "MALFORMED_FUNCTION_CALL" | "UNEXPECTED_TOOL_CALL" | "TOO_MANY_TOOL_CALLS"
    )
}

/// The text given for a candidate that ended on an unusable function call
/// with nothing else answered, so a client never receives an empty answer.
pub(crate) fn bad_tool_call_text(native: &str, message: Option<&str>) -> String {
    let mut text = format!("The model's function call could not be used ({native}).");
    if let Some(m) = message.filter(|m| !m.is_empty()) {
        text.push(' ');
        text.push_str(m);
    }
    text
}

/// The refusal given for a prompt Google blocked (`promptFeedback`).
pub(crate) fn blocked_text(reason: &str, message: Option<&str>) -> String {
    let mut text = format!("The prompt was blocked by Google's safety filters ({reason}).");
    if let Some(m) = message.filter(|m| !m.is_empty()) {
        text.push(' ');
        text.push_str(m);
    }
    text
}

/// The refusal given for a candidate withheld by a filter with nothing answered.
pub(crate) fn withheld_text(reason: &str) -> String {
    format!("The answer was withheld by Google's safety filters ({reason}).")
}

/// The Gemini `finishReason` for a canonical stop.
pub(crate) fn native_finish_reason(kind: StopKind) -> &'static str {
    match kind {
        StopKind::EndTurn | StopKind::StopSequence | StopKind::ToolUse | StopKind::PauseTurn => {
            "STOP"
        }
        StopKind::MaxTokens | StopKind::ContextWindowExceeded => "MAX_TOKENS",
        StopKind::ContentFilter => "SAFETY",
        StopKind::Other => "OTHER",
    }
}

/// The id of the `n`th function call (from 0) of an answer that gave none:
/// stable for the same answer, so a call and its result still match.
pub(crate) fn call_id(response_id: &str, n: usize) -> String {
    let base = if response_id.is_empty() {
        "gemini"
    } else {
        response_id
    };
    format!("call_{base}_{n}")
}

/// A function call's `args` as canonical arguments (compact JSON, `{}`
/// when absent).
pub(crate) fn arguments_text(args: Option<&Value>) -> String {
    match args {
        None | Some(Value::Null) => "{}".to_owned(),
        Some(v) => v.to_string(),
    }
}

/// Canonical arguments as an `args` object (non-objects under `_raw`).
pub(crate) fn arguments_object(arguments: &str) -> Value {
    if arguments.trim().is_empty() {
        return Value::Object(serde_json::Map::new());
    }
    match serde_json::from_str::<Value>(arguments) {
        Ok(v @ Value::Object(_)) => v,
        _ => json!({ "_raw": arguments }),
    }
}

/// The error a Google error envelope (`{"error": {…}}`, or that inside a
/// one-element array, as the non-SSE stream endpoint sends it) describes;
/// `None` when `value` is not one.
pub(crate) fn error_of(value: &Value) -> Option<GatewayError> {
    let (kind, message, _) = super::error::read_envelope(value)?;
    let message = Some(message)
        .filter(|m| !m.is_empty())
        .unwrap_or_else(|| "the upstream reported an error".to_owned());
    // Google's `status` is told by the kind (`status_name` gives it back
    // to a Gemini client); it is not made the error's code, which other
    // formats' clients read in their own vocabulary (`rate_limit_exceeded`,
    // `server_error`…).
    Some(GatewayError::new(
        kind.unwrap_or(ErrorKind::Upstream),
        message,
    ))
}

/// The Google `status` name shown to a Gemini client for an error kind.
pub(crate) fn status_name(kind: ErrorKind) -> &'static str {
    match kind {
        ErrorKind::InvalidRequest => "INVALID_ARGUMENT",
        ErrorKind::Authentication => "UNAUTHENTICATED",
        ErrorKind::PermissionDenied => "PERMISSION_DENIED",
        ErrorKind::NotFound => "NOT_FOUND",
        ErrorKind::RateLimited => "RESOURCE_EXHAUSTED",
        ErrorKind::Timeout => "DEADLINE_EXCEEDED",
        ErrorKind::Overloaded | ErrorKind::UpstreamUnreachable => "UNAVAILABLE",
        ErrorKind::NotSupported => "UNIMPLEMENTED",
        ErrorKind::Upstream | ErrorKind::Internal => "INTERNAL",
    }
}
