//! OpenAI Responses answers: an endpoint's response object →
//! [`ChatResponse`] ([`decode_response`]) and [`ChatResponse`] → what a
//! Responses client receives ([`encode_response`]).
//!
//! # Encoding (canonical → a Responses client)
//!
//! * `id` is [`response_id`] of the canonical id; `model` is the client's
//!   model name; `created_at` comes from the context. The request-echo
//!   fields the SDK requires (`tools`, `tool_choice`, `parallel_tool_calls`,
//!   …) carry neutral values: the gateway does not keep the request.
//! * Output items follow the canonical blocks in order. Consecutive text
//!   and refusal blocks make ONE `message` item (parts `output_text` and
//!   `refusal`); reasoning is a `reasoning` item whose `encrypted_content`
//!   carries a signature or redacted data in the gateway's envelope (see
//!   `wire.rs`); a tool call is a `function_call`, or, when the client
//!   declared it so (`ctx.client_tools`), a `function_call` with its
//!   `namespace` or a `custom_tool_call` with its `input` text.
//! * Item ids are `wire::item_id(prefix, id, output_index)` with the
//!   prefixes `msg`, `rs`, `fc`, `ctc`: the stream encoder derives the same
//!   ids, and builds its final `response.completed` with this function.
//! * `status` and `incomplete_details` come from [`status_of`]. A
//!   content-filter stop without any answer text gets one more `message`
//!   item holding a refusal ([`FILTERED_REFUSAL`]), never a silent empty
//!   answer.
//! * Usage: `input_tokens` is the whole prompt (cache reads and writes
//!   included), `output_tokens` includes reasoning.
//!
//! # Decoding (an endpoint's answer → canonical)
//!
//! * Items in order: message parts (`output_text` → text, `refusal` →
//!   refusal); `reasoning` → reasoning (summary texts joined by a blank
//!   line) when it has summary text or no `encrypted_content`, its
//!   `encrypted_content` the signature, signed by [`SIGNED_BY_RESPONSES`];
//!   without summary text, redacted reasoning of the same signer. A value in
//!   the gateway's `mg1:` envelope (our own answer read back, or another
//!   gateway upstream) gives back the block it was made from, so
//!   `decode(encode(x))` keeps `x`'s reasoning.
//! * `function_call` → a tool call (the name mapped back with
//!   `ctx.tool_names`, `NS.NAME` when it has a `namespace`);
//!   `custom_tool_call` → a tool call with arguments `{"input": …}`; hosted
//!   tool items are skipped.
//! * A `queued` or `in_progress` answer (a background response) is an
//!   error: the gateway does not poll.
//! * Stop: see [`stop_reason`]; the native value is the `status`.
//! * A `failed` status or an `error` (object or top-level envelope) is that
//!   error; a body that is not a response is a 502 that says what it
//!   looks like.

use serde_json::{Map, Value, json};

use super::wire::{
    Encrypted, ResponsesUsage, SIGNED_BY_RESPONSES, WireItem, WirePart, WireResponse, item_id,
    unwrap_encrypted, wrap_redacted, wrap_signature,
};
use crate::ir::{ChatResponse, Content, ErrorKind, GatewayError, StopKind, StopReason, Usage};
use crate::translate::Context;

/// The refusal given when a content filter stopped the answer before any
/// text: a client sees why the answer is empty.
pub const FILTERED_REFUSAL: &str = "The response was stopped by a content filter.";

/// A Responses id for a canonical response id: `resp_` is added when missing.
pub fn response_id(id: &str) -> String {
    if id.starts_with("resp_") {
        id.to_owned()
    } else {
        format!("resp_{id}")
    }
}

/// The Responses `status` and `incomplete_details.reason` of a stop.
/// Running out of output tokens or of context window is
/// `max_output_tokens`; a filter is `content_filter`; everything else
/// completed.
pub fn status_of(stop: &StopReason) -> (&'static str, Option<&'static str>) {
    match stop.kind {
        StopKind::MaxTokens | StopKind::ContextWindowExceeded => {
            ("incomplete", Some("max_output_tokens"))
        }
        StopKind::ContentFilter => ("incomplete", Some("content_filter")),
        StopKind::EndTurn
        | StopKind::StopSequence
        | StopKind::ToolUse
        | StopKind::PauseTurn
        | StopKind::Other => ("completed", None),
    }
}

/// Canonical usage as a Responses `usage` object.
pub fn encode_usage(usage: &Usage) -> Value {
    serde_json::to_value(ResponsesUsage::from(usage)).unwrap_or(Value::Null)
}

/// Encodes a canonical answer as a Responses `response` object.
pub fn encode_response(resp: &ChatResponse, ctx: &Context) -> Value {
    let (status, reason) = status_of(&resp.stop);
    json!({
        "id": response_id(&resp.id),
        "object": "response",
        "created_at": ctx.created,
        "status": status,
        "error": null,
        "incomplete_details": reason.map(|r| json!({"reason": r})),
        "instructions": null,
        "max_output_tokens": null,
        "metadata": {},
        "model": ctx.client_model,
        "output": output_items(resp, ctx),
        "parallel_tool_calls": true,
        "previous_response_id": null,
        "reasoning": {"effort": null, "summary": null},
        "store": false,
        "background": false,
        "temperature": null,
        "text": {"format": {"type": "text"}},
        "tool_choice": "auto",
        "tools": [],
        "top_p": null,
        "truncation": "disabled",
        "usage": encode_usage(&resp.usage),
    })
}

/// The `output` items of a canonical answer (see the module docs).
pub fn output_items(resp: &ChatResponse, ctx: &Context) -> Vec<Value> {
    let mut output = Vec::new();
    // The parts of the message item being built, if one is open.
    let mut parts: Option<Vec<Value>> = None;
    let mut answered = false;
    for block in &resp.content {
        match block {
            Content::Text { text, .. } => {
                answered |= !text.is_empty();
                parts.get_or_insert_default().push(text_part(text));
            }
            Content::Refusal { text } => {
                answered |= !text.is_empty();
                parts.get_or_insert_default().push(refusal_part(text));
            }
            Content::Reasoning { .. } | Content::RedactedReasoning { .. } => {
                close_message(&mut output, &mut parts, &resp.id);
                let id = item_id("rs", &resp.id, output.len());
                output.extend(reasoning_item(&id, block));
            }
            Content::ToolCall {
                id: call_id,
                name,
                arguments,
            } => {
                close_message(&mut output, &mut parts, &resp.id);
                let custom = ctx.client_tools.get(name).is_some_and(|t| t.custom);
                let id = item_id(if custom { "ctc" } else { "fc" }, &resp.id, output.len());
                output.push(tool_call_item(&id, call_id, name, arguments, ctx));
            }
            // Not produced by a model's answer.
            Content::Image { .. } | Content::ToolResult { .. } => {}
        }
    }
    close_message(&mut output, &mut parts, &resp.id);
    if resp.stop.kind == StopKind::ContentFilter && !answered {
        let id = item_id("msg", &resp.id, output.len());
        output.push(message_item(&id, vec![refusal_part(FILTERED_REFUSAL)]));
    }
    output
}

/// Appends the open message item, if any.
fn close_message(output: &mut Vec<Value>, parts: &mut Option<Vec<Value>>, resp_id: &str) {
    if let Some(parts) = parts.take() {
        let id = item_id("msg", resp_id, output.len());
        output.push(message_item(&id, parts));
    }
}

/// A completed assistant `message` item.
pub fn message_item(id: &str, content: Vec<Value>) -> Value {
    json!({
        "type": "message",
        "id": id,
        "role": "assistant",
        "status": "completed",
        "content": content,
    })
}

/// An `output_text` part.
pub fn text_part(text: &str) -> Value {
    json!({"type": "output_text", "text": text, "annotations": [], "logprobs": []})
}

/// A `refusal` part.
pub fn refusal_part(text: &str) -> Value {
    json!({"type": "refusal", "refusal": text})
}

/// The `reasoning` item of a reasoning or redacted-reasoning block (`None`
/// for other blocks). A signature or redacted data without a known signer
/// cannot be replayed anywhere, so it is not sent.
pub fn reasoning_item(id: &str, block: &Content) -> Option<Value> {
    let (text, encrypted) = match block {
        Content::Reasoning {
            text,
            signature,
            signed_by,
        } => {
            let encrypted = match (signature.as_deref(), signed_by.as_deref()) {
                (Some(signature), Some(by)) if !signature.is_empty() => {
                    Some(wrap_signature(by, signature))
                }
                _ => None,
            };
            (text.as_str(), encrypted)
        }
        Content::RedactedReasoning { data, signed_by } => {
            ("", signed_by.as_deref().map(|by| wrap_redacted(by, data)))
        }
        _ => return None,
    };
    let summary: Vec<Value> = if text.is_empty() {
        Vec::new()
    } else {
        vec![json!({"type": "summary_text", "text": text})]
    };
    Some(json!({
        "type": "reasoning",
        "id": id,
        "summary": summary,
        "encrypted_content": encrypted,
    }))
}

/// The item of a tool call, in the shape the client declared the tool:
/// a `custom_tool_call` for a custom tool, a `function_call` with its
/// `namespace` for a namespaced one, else a plain `function_call`.
/// `name` is the canonical name; `id` the item id.
pub fn tool_call_item(
    id: &str,
    call_id: &str,
    name: &str,
    arguments: &str,
    ctx: &Context,
) -> Value {
    let declared = ctx.client_tools.get(name);
    let own_name = declared.map_or(name, |t| t.name.as_str());
    let namespace = declared.and_then(|t| t.namespace.as_deref());
    let mut item = Map::new();
    if declared.is_some_and(|t| t.custom) {
        item.insert("type".into(), "custom_tool_call".into());
        item.insert("id".into(), id.into());
        item.insert("call_id".into(), call_id.into());
        item.insert("name".into(), own_name.into());
        item.insert("input".into(), custom_input(arguments).into());
    } else {
        let arguments = if arguments.is_empty() {
            "{}"
        } else {
            arguments
        };
        item.insert("type".into(), "function_call".into());
        item.insert("id".into(), id.into());
        item.insert("call_id".into(), call_id.into());
        item.insert("name".into(), own_name.into());
        item.insert("arguments".into(), arguments.into());
        item.insert("status".into(), "completed".into());
    }
    if let Some(ns) = namespace {
        item.insert("namespace".into(), ns.into());
    }
    Value::Object(item)
}

/// The free-form text of a custom tool's call: the `input` string of the
/// canonical arguments, or the arguments themselves when the model did not
/// wrap them.
pub fn custom_input(arguments: &str) -> String {
    #[derive(serde::Deserialize)]
    struct Wrapped {
        input: String,
    }
    serde_json::from_str::<Wrapped>(arguments).map_or_else(|_| arguments.to_owned(), |w| w.input)
}

fn not_a_response(detail: &str) -> GatewayError {
    GatewayError::new(
        ErrorKind::Upstream,
        format!(
            "The endpoint answered something that is not an OpenAI Responses response{detail}. \
             Check that the endpoint's spec is set to the format it speaks."
        ),
    )
}

/// What a body that is not a Responses response looks like, when recognisable.
fn looks_like(v: &Value) -> &'static str {
    if v.get("choices").is_some() {
        " (it looks like an OpenAI chat completion)"
    } else if v.get("type").and_then(Value::as_str) == Some("message") && v.get("content").is_some()
    {
        " (it looks like an Anthropic Messages response)"
    } else if v.get("candidates").is_some() {
        " (it looks like a Google Gemini response)"
    } else if v.get("output").is_some_and(Value::is_object) {
        " (it looks like a Bedrock Converse response)"
    } else {
        ""
    }
}

/// The kind of a Responses error `code`: the caller's prompt or images at
/// fault, a rate limit, a timeout; anything else is the upstream's failure.
fn error_kind(code: Option<&str>) -> ErrorKind {
    match code.unwrap_or("") {
        "rate_limit_exceeded" => ErrorKind::RateLimited,
        "vector_store_timeout" => ErrorKind::Timeout,
        "invalid_prompt"
        | "context_length_exceeded"
        | "invalid_base64_image"
        | "unsupported_image_media_type"
        | "empty_image_file"
        | "failed_to_download_image" => ErrorKind::InvalidRequest,
        c if c.starts_with("invalid_image") || c.starts_with("image_") => ErrorKind::InvalidRequest,
        _ => ErrorKind::Upstream,
    }
}

/// The error a response's `error` (or a top-level error envelope) names.
fn upstream_error(error: &Value) -> GatewayError {
    let text = |k: &str| match error.get(k) {
        Some(Value::String(s)) if !s.is_empty() => Some(s.clone()),
        Some(Value::Number(n)) => Some(n.to_string()),
        _ => None,
    };
    let message = text("message")
        .or_else(|| error.as_str().filter(|s| !s.is_empty()).map(str::to_owned))
        .unwrap_or_else(|| "the endpoint's response failed".to_owned());
    let code = text("code");
    let mut err = GatewayError::new(error_kind(code.as_deref()), message);
    err.code = code;
    err.param = text("param");
    err
}

/// Decodes a Responses `response` object.
pub fn decode_response(body: &[u8], ctx: &Context) -> Result<ChatResponse, GatewayError> {
    let wire: WireResponse = match serde_json::from_slice(body) {
        Ok(wire) => wire,
        Err(e) => return Err(unreadable(body, &e)),
    };
    if let Some(error) = wire.error.as_ref().filter(|e| !e.is_null()) {
        return Err(upstream_error(error));
    }
    let status = wire.status.as_deref().unwrap_or("completed");
    match status {
        "failed" => return Err(upstream_error(&Value::Null)),
        "queued" | "in_progress" => {
            return Err(GatewayError::new(
                ErrorKind::Upstream,
                format!(
                    "The endpoint answered a response that is still `{status}` (a background \
                     response), which the gateway does not poll."
                ),
            ));
        }
        _ => {}
    }
    let Some(output) = wire.output else {
        let value: Value = serde_json::from_slice(body).unwrap_or_default();
        return Err(not_a_response(looks_like(&value)));
    };
    let mut content = Vec::with_capacity(output.len());
    for item in output {
        decode_item(item, ctx, &mut content);
    }
    let has_tool_calls = content
        .iter()
        .any(|c| matches!(c, Content::ToolCall { .. }));
    let reason = wire.incomplete_details.and_then(|d| d.reason);
    Ok(ChatResponse {
        id: wire.id,
        model: wire.model,
        content,
        stop: stop_reason(status, reason.as_deref(), has_tool_calls),
        usage: wire.usage.as_ref().map(Usage::from).unwrap_or_default(),
    })
}

/// The error for a body that did not read as a response: the upstream's
/// error envelope, a response with a malformed field, or something else.
fn unreadable(body: &[u8], e: &serde_json::Error) -> GatewayError {
    let Ok(value) = serde_json::from_slice::<Value>(body) else {
        return not_a_response(" (not JSON)");
    };
    if let Some(error) = value.get("error").filter(|e| !e.is_null()) {
        return upstream_error(error);
    }
    if value.get("object").and_then(Value::as_str) == Some("response") {
        return GatewayError::new(
            ErrorKind::Upstream,
            format!("The endpoint's Responses response could not be read: {e}"),
        );
    }
    not_a_response(looks_like(&value))
}

/// Appends the canonical blocks of one output item.
fn decode_item(item: WireItem, ctx: &Context, out: &mut Vec<Content>) {
    match item {
        WireItem::Message { content } => {
            out.extend(content.into_iter().filter_map(|part| match part {
                WirePart::OutputText { text } => Some(Content::text(text)),
                WirePart::Refusal { refusal } => Some(Content::Refusal { text: refusal }),
                WirePart::Other => None,
            }));
        }
        WireItem::Reasoning {
            summary,
            encrypted_content,
        } => {
            let text = summary
                .iter()
                .map(|s| s.text.as_str())
                .filter(|t| !t.is_empty())
                .collect::<Vec<_>>()
                .join("\n\n");
            out.push(reasoning_block(
                text,
                encrypted_content.filter(|e| !e.is_empty()).as_deref(),
            ));
        }
        WireItem::FunctionCall {
            call_id,
            name,
            namespace,
            arguments,
        } => out.push(Content::ToolCall {
            id: call_id,
            name: canonical_name(&name, namespace.as_deref(), ctx),
            arguments: if arguments.is_empty() {
                "{}".to_owned()
            } else {
                arguments
            },
        }),
        WireItem::CustomToolCall {
            call_id,
            name,
            namespace,
            input,
        } => out.push(Content::ToolCall {
            id: call_id,
            name: canonical_name(&name, namespace.as_deref(), ctx),
            arguments: json!({ "input": input }).to_string(),
        }),
        WireItem::Other => {}
    }
}

/// The canonical name of a called tool: the client's name for what the
/// target used, inside its namespace (`NS.NAME`) when it has one.
fn canonical_name(name: &str, namespace: Option<&str>, ctx: &Context) -> String {
    let name = ctx.tool_names.to_client(name);
    match namespace.filter(|ns| !ns.is_empty()) {
        Some(ns) => format!("{ns}.{name}"),
        None => name.to_owned(),
    }
}

/// The block of a reasoning item. OpenAI's own `encrypted_content` is the
/// signature of the summary text, or redacted reasoning when there is no
/// text; a value in the gateway's envelope (another gateway upstream, or
/// our own answer read back) gives back the block it was made from.
fn reasoning_block(text: String, encrypted: Option<&str>) -> Content {
    let Some(encrypted) = encrypted else {
        return Content::Reasoning {
            text,
            signature: None,
            signed_by: None,
        };
    };
    match unwrap_encrypted(encrypted) {
        Encrypted::Signature {
            signed_by,
            signature,
        } => Content::Reasoning {
            text,
            signature: Some(signature.to_owned()),
            signed_by: Some(signed_by.to_owned()),
        },
        Encrypted::Redacted { signed_by, data }
            if text.is_empty() || signed_by != SIGNED_BY_RESPONSES =>
        {
            Content::RedactedReasoning {
                data: data.to_owned(),
                signed_by: Some(signed_by.to_owned()),
            }
        }
        Encrypted::Redacted { signed_by, data } => Content::Reasoning {
            text,
            signature: Some(data.to_owned()),
            signed_by: Some(signed_by.to_owned()),
        },
    }
}

/// The canonical stop of a Responses answer (the native value is the
/// `status`): incomplete for lack of output tokens → max tokens, by a
/// content filter → content filter, for another reason → other; otherwise
/// tool use when the answer calls a tool, else end of turn.
pub fn stop_reason(
    status: &str,
    incomplete_reason: Option<&str>,
    has_tool_calls: bool,
) -> StopReason {
    let kind = match (status, incomplete_reason) {
        ("incomplete", Some("max_output_tokens")) => StopKind::MaxTokens,
        ("incomplete", Some("content_filter")) => StopKind::ContentFilter,
        _ if has_tool_calls => StopKind::ToolUse,
        ("incomplete", _) => StopKind::Other,
        _ => StopKind::EndTurn,
    };
    StopReason::new(kind, Some(status))
}
