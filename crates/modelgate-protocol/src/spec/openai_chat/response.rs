//! OpenAI Chat Completions responses ↔ the canonical [`ChatResponse`].
//!
//! # Decoding (an endpoint's answer → canonical)
//!
//! * Only `choices[0]` is read (`n > 1` is not translated).
//! * The message's blocks, in order: reasoning (`reasoning_details` when
//!   present, else `reasoning_content` / `reasoning`, unsigned), text,
//!   refusal, tool calls (names mapped back to the client's with
//!   [`ToolNames::to_client`](crate::translate::ToolNames::to_client)).
//! * `finish_reason` through [`stop_reason`]; usage through
//!   [`ChatUsage`] (missing usage counts as zeros).
//! * An answer withheld by a content filter (`finish_reason:
//!   "content_filter"` with no text, as Azure OpenAI sends it) gets a
//!   refusal block saying so, naming the filtered categories of the
//!   choice's `content_filter_results` ([`withheld_text`]): a client of
//!   another format would otherwise get an empty answer and no reason.
//! * A body with a top-level `error` is the upstream's error (502); any
//!   other body that is not a chat completion is a 502 that says so, and
//!   which format it looks like when it can tell.
//!
//! # Encoding (canonical → what an OpenAI client receives)
//!
//! * `model` is the client's model name, `created` comes from the context.
//! * Text blocks are joined into `content` (`null` when there is none),
//!   refusals into `refusal`; all reasoning text goes to
//!   `reasoning_content` (DeepSeek style); signed reasoning and redacted
//!   reasoning also go to OpenRouter-style `reasoning_details` so that a
//!   client can send them back.
//! * Tool names are already the client's: they are not mapped again.

use serde_json::{Value, json};

use super::error::decode_upstream_error;
use super::request::decode_assistant;
use super::wire::{
    ChatUsage, CompletionTokensDetails, PromptTokensDetails, filtered_categories, reasoning_format,
    withheld_text,
};
use crate::ir::{ChatResponse, Content, ErrorKind, GatewayError, StopKind, StopReason, Usage};
use crate::translate::Context;

pub use super::wire::ANTHROPIC_REASONING_FORMAT;

fn not_a_completion(detail: &str) -> GatewayError {
    GatewayError::new(
        ErrorKind::Upstream,
        format!(
            "The endpoint answered something that is not an OpenAI chat completion{detail}. \
             Check that the endpoint's spec is set to the format it speaks."
        ),
    )
}

/// What a body that is not a chat completion looks like, when recognisable.
fn looks_like(v: &Value) -> &'static str {
    if v.get("type").and_then(Value::as_str) == Some("message") && v.get("content").is_some() {
        " (it looks like an Anthropic Messages response)"
    } else if v.get("candidates").is_some() {
        " (it looks like a Google Gemini response)"
    } else if v.get("object").and_then(Value::as_str) == Some("response") {
        " (it looks like an OpenAI Responses API response)"
    } else if v.get("output").is_some() {
        " (it looks like a Bedrock Converse response)"
    } else {
        ""
    }
}

/// Decodes an endpoint's non-streaming chat completion.
pub fn decode_response(body: &[u8], ctx: &Context) -> Result<ChatResponse, GatewayError> {
    let value: Value = serde_json::from_slice(body).map_err(|_| not_a_completion(" (not JSON)"))?;
    if value.get("error").is_some_and(|e| !e.is_null()) {
        let err = decode_upstream_error(body);
        let message = err
            .message
            .unwrap_or_else(|| "the endpoint returned an error".to_owned());
        let mut out = GatewayError::new(ErrorKind::Upstream, message);
        out.code = err.code;
        return Err(out);
    }
    let Some(choices) = value.get("choices").and_then(Value::as_array) else {
        return Err(not_a_completion(looks_like(&value)));
    };
    let str_field = |k: &str| {
        value
            .get(k)
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_owned()
    };
    let mut resp = ChatResponse {
        id: str_field("id"),
        model: str_field("model"),
        ..Default::default()
    };
    if let Some(choice) = choices.first() {
        if let Some(msg) = choice.get("message").and_then(Value::as_object) {
            resp.content = decode_assistant(msg, "choices[0].message", Some(&ctx.tool_names))
                .map_err(|e| {
                    GatewayError::new(
                        ErrorKind::Upstream,
                        format!(
                            "The endpoint's chat completion could not be read: {}",
                            e.message
                        ),
                    )
                })?;
        }
        resp.stop = match choice.get("finish_reason").and_then(Value::as_str) {
            Some(reason) => stop_reason(reason),
            None => StopReason::default(),
        };
        if resp.stop.kind == StopKind::ContentFilter && !has_answer(&resp.content) {
            let categories = choice
                .get("content_filter_results")
                .map(filtered_categories)
                .unwrap_or_default();
            resp.content.push(Content::Refusal {
                text: withheld_text(&categories),
            });
        }
    }
    if let Some(usage) = value.get("usage").filter(|u| u.is_object()) {
        let usage: ChatUsage = serde_json::from_value(usage.clone()).unwrap_or_default();
        resp.usage = Usage::from(&usage);
    }
    Ok(resp)
}

/// Whether the answer says anything: text, a refusal or a tool call.
fn has_answer(content: &[Content]) -> bool {
    content.iter().any(|block| match block {
        Content::Text { text, .. } | Content::Refusal { text } => !text.is_empty(),
        Content::ToolCall { .. } => true,
        _ => false,
    })
}

/// OpenAI `finish_reason` → canonical; the original value is kept in `native`.
pub fn stop_reason(finish_reason: &str) -> StopReason {
    let kind = match finish_reason {
        "stop" => StopKind::EndTurn,
        "length" => StopKind::MaxTokens,
        "tool_calls" | "function_call" => StopKind::ToolUse,
        "content_filter" => StopKind::ContentFilter,
        _ => StopKind::Other,
    };
    StopReason::new(kind, Some(finish_reason))
}

/// Canonical stop reason → OpenAI `finish_reason`.
pub fn finish_reason(stop: &StopReason) -> &'static str {
    match stop.kind {
        StopKind::EndTurn | StopKind::StopSequence | StopKind::PauseTurn | StopKind::Other => {
            "stop"
        }
        StopKind::MaxTokens | StopKind::ContextWindowExceeded => "length",
        StopKind::ToolUse => "tool_calls",
        StopKind::ContentFilter => "content_filter",
    }
}

/// Canonical usage → OpenAI `usage` (`prompt_tokens` counts cached tokens).
pub fn encode_usage(usage: &Usage) -> Value {
    let prompt = usage.prompt_total();
    let wire = ChatUsage {
        prompt_tokens: prompt,
        completion_tokens: usage.output,
        total_tokens: usage.total(),
        prompt_tokens_details: Some(PromptTokensDetails {
            cached_tokens: usage.cache_read,
            cache_write_tokens: (usage.cache_write > 0).then_some(usage.cache_write),
        }),
        completion_tokens_details: Some(CompletionTokensDetails {
            reasoning_tokens: usage.reasoning,
        }),
    };
    serde_json::to_value(wire).unwrap_or(Value::Null)
}

/// One OpenRouter-style `reasoning_details` item for a block a client must
/// send back (signed or redacted reasoning); `None` for anything else.
fn reasoning_detail(block: &Content) -> Option<Value> {
    let (mut detail, signed_by) = match block {
        Content::Reasoning {
            text,
            signature: Some(signature),
            signed_by,
        } if !signature.is_empty() => (
            json!({"type": "reasoning.text", "text": text, "signature": signature}),
            signed_by,
        ),
        Content::RedactedReasoning { data, signed_by } => (
            json!({"type": "reasoning.encrypted", "data": data}),
            signed_by,
        ),
        _ => return None,
    };
    if let Some(format) = reasoning_format(signed_by.as_deref()) {
        detail["format"] = format.into();
    }
    Some(detail)
}

/// Encodes a canonical response for an OpenAI client.
pub fn encode_response(resp: &ChatResponse, ctx: &Context) -> Value {
    let (mut text, mut refusal, mut reasoning) = (String::new(), String::new(), Vec::new());
    let mut calls = Vec::new();
    let mut details = Vec::new();
    for block in &resp.content {
        match block {
            Content::Text { text: t, .. } => text.push_str(t),
            Content::Refusal { text: t } => refusal.push_str(t),
            Content::ToolCall {
                id,
                name,
                arguments,
            } => {
                let arguments = if arguments.is_empty() {
                    "{}"
                } else {
                    arguments
                };
                calls.push(json!({
                    "id": id,
                    "type": "function",
                    "function": {"name": name, "arguments": arguments},
                }));
            }
            Content::Reasoning { text: t, .. } if !t.is_empty() => reasoning.push(t.as_str()),
            _ => {}
        }
        details.extend(reasoning_detail(block));
    }
    let mut message = json!({
        "role": "assistant",
        "content": if text.is_empty() { Value::Null } else { text.into() },
        "refusal": if refusal.is_empty() { Value::Null } else { refusal.into() },
    });
    if !calls.is_empty() {
        message["tool_calls"] = calls.into();
    }
    if !reasoning.is_empty() {
        message["reasoning_content"] = reasoning.join("\n\n").into();
    }
    if !details.is_empty() {
        message["reasoning_details"] = details.into();
    }
    json!({
        "id": resp.id,
        "object": "chat.completion",
        "created": ctx.created,
        "model": ctx.client_model,
        "choices": [{
            "index": 0,
            "message": message,
            "finish_reason": finish_reason(&resp.stop),
            "logprobs": null,
        }],
        "usage": encode_usage(&resp.usage),
    })
}
