//! Anthropic Messages responses: an upstream's body → [`ChatResponse`]
//! ([`decode_response`]) and [`ChatResponse`] → what an Anthropic client
//! receives ([`encode_response`]).
//!
//! * Decoding keeps text, `tool_use` (arguments = compact JSON of `input`,
//!   the name mapped back with `ctx.tool_names`), `thinking` (signed by
//!   [`SIGNED_BY_ANTHROPIC`] when its signature is non-empty, else
//!   unsigned) and `redacted_thinking`; server-tool and
//!   unknown blocks are skipped. A body that is not a message is a 502
//!   saying so; an error envelope (`"type":"error"`) becomes that error.
//! * Encoding: the id gets a `msg_` prefix when it lacks one, the model is
//!   the one the client asked for, tool-call ids are kept when valid for
//!   Anthropic (OpenAI's `call_…` are) and sanitized otherwise, reasoning
//!   without a signature gets `"signature": ""`, refusals become text, and
//!   an empty `content` stays `[]`.
//! * Stop reasons: see [`stop_reason`] and [`native_stop_reason`].

use serde::Deserialize;
use serde_json::{Value, json};

use super::error::kind_of;
use super::wire::{WireBlock, WireError, WireUsage, arguments_object, arguments_text, message_id};
use crate::ir::{
    ChatResponse, Content, ErrorKind, GatewayError, SIGNED_BY_ANTHROPIC, StopKind, StopReason,
    Usage, sealed,
};
use crate::translate::{Context, sanitize_tool_id};

#[derive(Deserialize)]
struct WireResponse {
    #[serde(rename = "type", default)]
    kind: Option<String>,
    #[serde(default)]
    role: Option<String>,
    #[serde(default)]
    id: String,
    #[serde(default)]
    model: String,
    #[serde(default)]
    content: Vec<WireBlock>,
    #[serde(default)]
    stop_reason: Option<String>,
    #[serde(default)]
    stop_sequence: Option<String>,
    #[serde(default)]
    usage: Option<WireUsage>,
    #[serde(default)]
    error: Option<WireError>,
}

/// Decodes an Anthropic Messages response body.
pub fn decode_response(body: &[u8], ctx: &Context) -> Result<ChatResponse, GatewayError> {
    let not_a_message = |why: &str| {
        GatewayError::new(
            ErrorKind::Upstream,
            format!(
                "the upstream's answer is not an Anthropic message ({why}); check that the \
                 endpoint speaks the Anthropic Messages API"
            ),
        )
        .with_code("unexpected_response")
    };
    let wire: WireResponse =
        serde_json::from_slice(body).map_err(|e| not_a_message(&e.to_string()))?;
    match wire.kind.as_deref() {
        Some("message") => {}
        None if wire.role.as_deref() == Some("assistant") => {}
        Some("error") => {
            let err = wire.error.unwrap_or_default();
            return Err(GatewayError::new(kind_of(&err.kind), err.message));
        }
        Some(other) => return Err(not_a_message(&format!("its type is `{other}`"))),
        None => return Err(not_a_message("it has no `type`")),
    }
    let content = wire
        .content
        .into_iter()
        .filter_map(|block| block_content(block, ctx))
        .collect();
    let mut stop = wire
        .stop_reason
        .as_deref()
        .map_or_else(StopReason::default, stop_reason);
    stop.stop_sequence = wire.stop_sequence;
    Ok(ChatResponse {
        id: wire.id,
        model: wire.model,
        content,
        stop,
        usage: wire.usage.unwrap_or_default().apply(Usage::default()),
    })
}

fn block_content(block: WireBlock, ctx: &Context) -> Option<Content> {
    let signed_by = || Some(SIGNED_BY_ANTHROPIC.to_owned());
    Some(match block {
        WireBlock::Text { text } => Content::text(text),
        WireBlock::ToolUse { id, name, input } => Content::ToolCall {
            id,
            name: ctx.tool_names.to_client(&name).to_owned(),
            arguments: arguments_text(input.as_ref()),
        },
        WireBlock::Thinking {
            thinking,
            signature,
        } => {
            // An empty signature is no signature.
            let signature = signature.filter(|s| !s.is_empty());
            Content::Reasoning {
                text: thinking,
                signed_by: signature.as_ref().and_then(|_| signed_by()),
                signature,
            }
        }
        WireBlock::RedactedThinking { data } => Content::RedactedReasoning {
            data,
            signed_by: signed_by(),
        },
        WireBlock::Other => return None,
    })
}

/// Encodes a response for an Anthropic client.
pub fn encode_response(resp: &ChatResponse, ctx: &Context) -> Value {
    let content: Vec<Value> = resp.content.iter().filter_map(encode_block).collect();
    json!({
        "id": message_id(&resp.id),
        "type": "message",
        "role": "assistant",
        "model": ctx.client_model,
        "content": content,
        "stop_reason": native_stop_reason(&resp.stop),
        "stop_sequence": resp.stop.stop_sequence,
        "usage": usage_json(&resp.usage),
    })
}

fn encode_block(block: &Content) -> Option<Value> {
    Some(match block {
        Content::Text { text, .. } | Content::Refusal { text } => {
            json!({"type": "text", "text": text})
        }
        Content::ToolCall {
            id,
            name,
            arguments,
        } => json!({
            "type": "tool_use",
            "id": sanitize_tool_id(id),
            "name": name,
            "input": arguments_object(arguments),
        }),
        Content::Reasoning {
            text,
            signature,
            signed_by,
        } => json!({
            "type": "thinking",
            "thinking": text,
            "signature": signature.as_deref().map_or(String::new(), |s| {
                sealed::wrap_signature(SIGNED_BY_ANTHROPIC, signed_by.as_deref(), s)
            }),
        }),
        Content::RedactedReasoning { data, signed_by } => {
            let data = sealed::wrap_redacted(SIGNED_BY_ANTHROPIC, signed_by.as_deref(), data);
            json!({"type": "redacted_thinking", "data": data})
        }
        Content::Image { .. } | Content::ToolResult { .. } => return None,
    })
}

/// An Anthropic `stop_reason` as a canonical stop reason (the native value kept).
pub fn stop_reason(native: &str) -> StopReason {
    let kind = match native {
        "end_turn" => StopKind::EndTurn,
        "stop_sequence" => StopKind::StopSequence,
        "max_tokens" => StopKind::MaxTokens,
        "tool_use" => StopKind::ToolUse,
        "refusal" => StopKind::ContentFilter,
        "pause_turn" => StopKind::PauseTurn,
        "model_context_window_exceeded" => StopKind::ContextWindowExceeded,
        _ => StopKind::Other,
    };
    StopReason::new(kind, Some(native))
}

/// The Anthropic `stop_reason` for a canonical one (`Other` → `end_turn`).
pub fn native_stop_reason(stop: &StopReason) -> &'static str {
    match stop.kind {
        StopKind::EndTurn | StopKind::Other => "end_turn",
        StopKind::StopSequence => "stop_sequence",
        StopKind::MaxTokens => "max_tokens",
        StopKind::ToolUse => "tool_use",
        StopKind::ContentFilter => "refusal",
        StopKind::PauseTurn => "pause_turn",
        StopKind::ContextWindowExceeded => "model_context_window_exceeded",
    }
}

/// Canonical usage as Anthropic's `usage` object.
pub fn usage_json(u: &Usage) -> Value {
    json!({
        "input_tokens": u.input,
        "cache_creation_input_tokens": u.cache_write,
        "cache_read_input_tokens": u.cache_read,
        "output_tokens": u.output,
    })
}
