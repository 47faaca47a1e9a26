//! Responses wire pieces shared by the codecs.
//!
//! # Reasoning carried in `encrypted_content`
//!
//! A Responses client keeps reasoning across turns by sending back the
//! `reasoning` items it received, with their `encrypted_content`. When the
//! reasoning came from another kind of endpoint (an Anthropic thinking
//! signature, a redacted thinking blob) the value is wrapped as
//! [`crate::ir::sealed`] describes (`mg1:sig:anthropic:…`), so that it is
//! replayed only to its producer. Any other value is OpenAI's own blob,
//! produced by an `openai-responses` endpoint ([`SIGNED_BY_RESPONSES`]).
//!
//! # Usage
//!
//! [`ResponsesUsage`] reads and writes `usage`: `input_tokens` counts the
//! whole prompt (cached and cache-written tokens included, as OpenAI
//! counts them) and `output_tokens` includes reasoning; the canonical
//! [`Usage`] splits both out.
//!
//! # Reading a response
//!
//! [`WireResponse`], [`WireItem`] and [`WirePart`] declare only the fields
//! the gateway reads; absent and `null` fields read as their defaults, and
//! unknown item or part types (hosted tools, future additions) read as
//! `Other` rather than failing the whole body.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::framing::sse::SseEvent;
use crate::ir::{Usage, sealed};
use crate::spec::null_as_default;

/// The id of output item `index` of response `response_id`, e.g.
/// `msg_<id>_0`: derived, so the streamed items and the final response
/// object (built separately) name each item the same.
pub fn item_id(prefix: &str, response_id: &str, index: usize) -> String {
    let id = response_id.strip_prefix("resp_").unwrap_or(response_id);
    format!("{prefix}_{id}_{index}")
}

/// The `signed_by` of reasoning produced by an `openai-responses` endpoint.
pub const SIGNED_BY_RESPONSES: &str = "openai-responses";

/// What an `encrypted_content` value holds (see [`crate::ir::sealed`]).
pub use crate::ir::sealed::Sealed as Encrypted;

/// Wraps a signature of visible reasoning for a Responses client.
pub fn wrap_signature(signed_by: &str, signature: &str) -> String {
    sealed::wrap_signature(SIGNED_BY_RESPONSES, Some(signed_by), signature)
}

/// Wraps redacted reasoning for a Responses client.
pub fn wrap_redacted(signed_by: &str, data: &str) -> String {
    sealed::wrap_redacted(SIGNED_BY_RESPONSES, Some(signed_by), data)
}

/// Reads an `encrypted_content` a client sent back. A value without the
/// gateway's prefix (or with a malformed one) is OpenAI's own: it is only
/// ever replayed to an `openai-responses` endpoint.
pub fn unwrap_encrypted(value: &str) -> Encrypted<'_> {
    sealed::unwrap(value).unwrap_or(Encrypted::Redacted {
        signed_by: SIGNED_BY_RESPONSES,
        data: value,
    })
}

/// The `type` of a stream event: its `event:` name, else the data's
/// leading `{"type":"…"` (OpenAI writes `type` first), without parsing.
pub fn event_type(event: &SseEvent) -> Option<&str> {
    if let Some(name) = event.event.as_deref() {
        return Some(name);
    }
    let rest = event.data.trim_start().strip_prefix("{\"type\":\"")?;
    rest.split('"').next()
}

/// A Responses `usage` object. Counts that are absent or `null` read as 0.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResponsesUsage {
    #[serde(default, deserialize_with = "null_as_default")]
    pub input_tokens: u64,
    #[serde(default, deserialize_with = "null_as_default")]
    pub input_tokens_details: InputTokensDetails,
    #[serde(default, deserialize_with = "null_as_default")]
    pub output_tokens: u64,
    #[serde(default, deserialize_with = "null_as_default")]
    pub output_tokens_details: OutputTokensDetails,
    #[serde(default, deserialize_with = "null_as_default")]
    pub total_tokens: u64,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct InputTokensDetails {
    #[serde(default, deserialize_with = "null_as_default")]
    pub cached_tokens: u64,
    /// Newer than `cached_tokens` (the current SDK declares it required),
    /// so always written and read as 0 when absent.
    #[serde(default, deserialize_with = "null_as_default")]
    pub cache_write_tokens: u64,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutputTokensDetails {
    #[serde(default, deserialize_with = "null_as_default")]
    pub reasoning_tokens: u64,
}

impl From<&ResponsesUsage> for Usage {
    /// `input_tokens` includes cached and cache-written tokens; the
    /// canonical `input` is what is left (saturating).
    fn from(u: &ResponsesUsage) -> Self {
        let cache_read = u.input_tokens_details.cached_tokens;
        let cache_write = u.input_tokens_details.cache_write_tokens;
        Usage {
            input: u
                .input_tokens
                .saturating_sub(cache_read.saturating_add(cache_write)),
            cache_read,
            cache_write,
            output: u.output_tokens,
            reasoning: u.output_tokens_details.reasoning_tokens,
        }
    }
}

impl From<&Usage> for ResponsesUsage {
    fn from(u: &Usage) -> Self {
        ResponsesUsage {
            input_tokens: u.prompt_total(),
            input_tokens_details: InputTokensDetails {
                cached_tokens: u.cache_read,
                cache_write_tokens: u.cache_write,
            },
            output_tokens: u.output,
            output_tokens_details: OutputTokensDetails {
                reasoning_tokens: u.reasoning,
            },
            total_tokens: u.total(),
        }
    }
}

/// A Responses `response` object, as far as the gateway reads it (also the
/// `response` of the terminal stream events).
#[derive(Debug, Default, Deserialize)]
pub struct WireResponse {
    #[serde(default, deserialize_with = "null_as_default")]
    pub id: String,
    #[serde(default)]
    pub object: Option<String>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub model: String,
    #[serde(default)]
    pub status: Option<String>,
    /// `None` when absent: a body without `output` is not a response.
    #[serde(default)]
    pub output: Option<Vec<WireItem>>,
    #[serde(default)]
    pub incomplete_details: Option<IncompleteDetails>,
    /// `{code, message}` when `status` is `failed`; kept loose.
    #[serde(default)]
    pub error: Option<Value>,
    #[serde(default)]
    pub usage: Option<ResponsesUsage>,
}

#[derive(Debug, Default, Deserialize)]
pub struct IncompleteDetails {
    #[serde(default)]
    pub reason: Option<String>,
}

/// One output item.
#[derive(Debug, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum WireItem {
    Message {
        #[serde(default, deserialize_with = "null_as_default")]
        content: Vec<WirePart>,
    },
    Reasoning {
        #[serde(default, deserialize_with = "null_as_default")]
        summary: Vec<WireSummary>,
        #[serde(default)]
        encrypted_content: Option<String>,
    },
    FunctionCall {
        #[serde(default, deserialize_with = "null_as_default")]
        call_id: String,
        #[serde(default, deserialize_with = "null_as_default")]
        name: String,
        #[serde(default)]
        namespace: Option<String>,
        #[serde(default, deserialize_with = "null_as_default")]
        arguments: String,
    },
    CustomToolCall {
        #[serde(default, deserialize_with = "null_as_default")]
        call_id: String,
        #[serde(default, deserialize_with = "null_as_default")]
        name: String,
        #[serde(default)]
        namespace: Option<String>,
        #[serde(default, deserialize_with = "null_as_default")]
        input: String,
    },
    /// Hosted tool calls (`web_search_call`, …) and anything newer.
    #[serde(other)]
    Other,
}

/// A part of a message item.
#[derive(Debug, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum WirePart {
    OutputText {
        #[serde(default, deserialize_with = "null_as_default")]
        text: String,
    },
    Refusal {
        #[serde(default, deserialize_with = "null_as_default")]
        refusal: String,
    },
    #[serde(other)]
    Other,
}

/// A `summary` part of a reasoning item (`summary_text`).
#[derive(Debug, Default, Deserialize)]
pub struct WireSummary {
    #[serde(default, deserialize_with = "null_as_default")]
    pub text: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrapped_reasoning_round_trips_and_native_blobs_stay_native() {
        let sig = wrap_signature("anthropic", "EqQBCkYIBx");
        assert_eq!(
            unwrap_encrypted(&sig),
            Encrypted::Signature {
                signed_by: "anthropic",
                signature: "EqQBCkYIBx"
            }
        );
        let red = wrap_redacted("anthropic", "abc:def");
        assert_eq!(
            unwrap_encrypted(&red),
            Encrypted::Redacted {
                signed_by: "anthropic",
                data: "abc:def"
            }
        );
        assert_eq!(wrap_signature(SIGNED_BY_RESPONSES, "gAAAA"), "gAAAA");
        for native in [
            "gAAAAABo",
            "mg1:",
            "mg1:sig:",
            "mg1:sig::x",
            "mg1:other:a:b",
        ] {
            assert_eq!(
                unwrap_encrypted(native),
                Encrypted::Redacted {
                    signed_by: SIGNED_BY_RESPONSES,
                    data: native
                },
                "{native}"
            );
        }
    }

    #[test]
    fn usage_counts_the_whole_prompt_on_the_wire() {
        let u: ResponsesUsage = serde_json::from_str(
            r#"{"input_tokens":100,"input_tokens_details":{"cached_tokens":60,"cache_write_tokens":10},
                "output_tokens":30,"output_tokens_details":{"reasoning_tokens":12},"total_tokens":130}"#,
        )
        .unwrap();
        let c = Usage::from(&u);
        assert_eq!(
            (c.input, c.cache_read, c.cache_write, c.output, c.reasoning),
            (30, 60, 10, 30, 12)
        );
        assert_eq!(ResponsesUsage::from(&c), u);
        let nulls: ResponsesUsage = serde_json::from_str(
            r#"{"input_tokens":5,"input_tokens_details":null,"output_tokens":null}"#,
        )
        .unwrap();
        assert_eq!(Usage::from(&nulls).input, 5);
        let max = u64::MAX;
        let huge = ResponsesUsage::from(&Usage {
            input: max,
            cache_read: max,
            output: max,
            ..Usage::default()
        });
        assert_eq!((huge.input_tokens, huge.total_tokens), (max, max));
    }

    #[test]
    fn unknown_items_and_parts_read_as_other() {
        let r: WireResponse = serde_json::from_str(
            r#"{"id":"resp_1","output":[{"type":"web_search_call","id":"ws_1"},
                {"type":"message","content":[{"type":"output_audio"},{"type":"output_text","text":"hi"}]},
                {"type":"function_call","name":null,"arguments":null}]}"#,
        )
        .unwrap();
        let output = r.output.unwrap();
        assert!(matches!(output[0], WireItem::Other));
        let WireItem::Message { content } = &output[1] else {
            panic!("{:?}", output[1]);
        };
        assert!(matches!(content[0], WirePart::Other));
        assert!(matches!(&content[1], WirePart::OutputText { text } if text == "hi"));
        assert!(matches!(&output[2], WireItem::FunctionCall { name, .. } if name.is_empty()));
    }
}
