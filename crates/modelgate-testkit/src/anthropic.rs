//! Anthropic Messages wire bodies for fake upstreams.

use serde_json::{Value, json};

use crate::Reply;

pub fn usage(input: u64, output: u64) -> Value {
    json!({"input_tokens": input, "output_tokens": output,
           "cache_creation_input_tokens": 0, "cache_read_input_tokens": 0})
}

/// A non-streamed message with the given content blocks.
pub fn message(model: &str, content: Value, stop_reason: &str, usage: Value) -> Value {
    json!({
        "id": "msg_fake", "type": "message", "role": "assistant", "model": model,
        "content": content, "stop_reason": stop_reason, "stop_sequence": null, "usage": usage,
    })
}

/// A text answer.
pub fn text_message(model: &str, text: &str) -> Value {
    message(
        model,
        json!([{"type": "text", "text": text}]),
        "end_turn",
        usage(10, 5),
    )
}

/// One SSE event: `event: TYPE` + `data: JSON` (whose `type` is TYPE).
pub fn event(data: Value) -> String {
    let name = data["type"].as_str().unwrap_or("unknown").to_owned();
    format!("event: {name}\ndata: {data}\n\n")
}

pub fn message_start(model: &str, input_tokens: u64) -> String {
    event(json!({"type": "message_start", "message": {
        "id": "msg_fake", "type": "message", "role": "assistant", "model": model, "content": [],
        "stop_reason": null, "stop_sequence": null,
        "usage": {"input_tokens": input_tokens, "output_tokens": 1}}}))
}

pub fn text_block_start(index: usize) -> String {
    event(
        json!({"type": "content_block_start", "index": index, "content_block": {"type": "text", "text": ""}}),
    )
}

pub fn text_delta(index: usize, text: &str) -> String {
    event(
        json!({"type": "content_block_delta", "index": index, "delta": {"type": "text_delta", "text": text}}),
    )
}

pub fn tool_block_start(index: usize, id: &str, name: &str) -> String {
    event(json!({"type": "content_block_start", "index": index,
                 "content_block": {"type": "tool_use", "id": id, "name": name, "input": {}}}))
}

pub fn json_delta(index: usize, partial: &str) -> String {
    event(json!({"type": "content_block_delta", "index": index,
                 "delta": {"type": "input_json_delta", "partial_json": partial}}))
}

pub fn block_stop(index: usize) -> String {
    event(json!({"type": "content_block_stop", "index": index}))
}

pub fn message_delta(stop_reason: &str, output_tokens: u64) -> String {
    event(
        json!({"type": "message_delta", "delta": {"stop_reason": stop_reason, "stop_sequence": null},
                 "usage": {"output_tokens": output_tokens}}),
    )
}

pub fn message_stop() -> String {
    event(json!({"type": "message_stop"}))
}

/// A whole text stream.
pub fn text_stream(model: &str, pieces: &[&str]) -> String {
    let mut out = message_start(model, 10);
    out.push_str(&text_block_start(0));
    for p in pieces {
        out.push_str(&text_delta(0, p));
    }
    out.push_str(&block_stop(0));
    out.push_str(&message_delta("end_turn", pieces.len() as u64));
    out.push_str(&message_stop());
    out
}

/// An Anthropic error body.
pub fn error(status: u16, kind: &str, message: &str) -> Reply {
    Reply::json(
        status,
        &json!({"type": "error", "error": {"type": kind, "message": message}}),
    )
}

/// `GET /v1/models`.
pub fn model_list(ids: &[&str]) -> Value {
    let data: Vec<Value> = ids
        .iter()
        .map(|id| json!({"type": "model", "id": id, "display_name": id, "created_at": "2025-01-01T00:00:00Z"}))
        .collect();
    json!({"data": data, "has_more": false, "first_id": ids.first(), "last_id": ids.last()})
}

/// `message_start` with a whole `usage` object (cache counts included).
pub fn message_start_with_usage(model: &str, usage: Value) -> String {
    event(json!({"type": "message_start", "message": {
        "id": "msg_fake", "type": "message", "role": "assistant", "model": model, "content": [],
        "stop_reason": null, "stop_sequence": null, "usage": usage}}))
}

/// Usage with cache reads and writes (`input` excludes both, as Anthropic counts).
pub fn usage_with_cache(input: u64, cache_read: u64, cache_write: u64, output: u64) -> Value {
    json!({"input_tokens": input, "output_tokens": output,
           "cache_creation_input_tokens": cache_write, "cache_read_input_tokens": cache_read})
}

pub fn thinking_block_start(index: usize) -> String {
    event(json!({"type": "content_block_start", "index": index,
                 "content_block": {"type": "thinking", "thinking": "", "signature": ""}}))
}

pub fn thinking_delta(index: usize, thinking: &str) -> String {
    event(json!({"type": "content_block_delta", "index": index,
                 "delta": {"type": "thinking_delta", "thinking": thinking}}))
}

pub fn signature_delta(index: usize, signature: &str) -> String {
    event(json!({"type": "content_block_delta", "index": index,
                 "delta": {"type": "signature_delta", "signature": signature}}))
}

/// An `event: error` in the middle of a stream.
pub fn error_event(kind: &str, message: &str) -> String {
    event(json!({"type": "error", "error": {"type": kind, "message": message}}))
}
