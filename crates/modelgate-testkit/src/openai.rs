//! OpenAI chat wire bodies for fake upstreams.

use serde_json::{Value, json};

use crate::Reply;

pub fn usage(prompt: u64, completion: u64) -> Value {
    json!({"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion})
}

/// A non-streamed chat completion with one text choice.
pub fn completion(model: &str, text: &str) -> Value {
    json!({
        "id": "chatcmpl-fake",
        "object": "chat.completion",
        "created": 1_700_000_000,
        "model": model,
        "choices": [{"index": 0, "finish_reason": "stop", "logprobs": null,
                     "message": {"role": "assistant", "content": text, "refusal": null}}],
        "usage": usage(10, 5),
    })
}

/// A completion that calls one tool.
pub fn tool_call_completion(model: &str, id: &str, name: &str, arguments: &str) -> Value {
    json!({
        "id": "chatcmpl-fake",
        "object": "chat.completion",
        "created": 1_700_000_000,
        "model": model,
        "choices": [{"index": 0, "finish_reason": "tool_calls", "logprobs": null,
                     "message": {"role": "assistant", "content": null, "refusal": null,
                                 "tool_calls": [{"id": id, "type": "function",
                                                 "function": {"name": name, "arguments": arguments}}]}}],
        "usage": usage(20, 8),
    })
}

/// One `data:` event of a chunk with a content delta (or the finish).
pub fn chunk(model: &str, delta: Value, finish: Option<&str>) -> String {
    let chunk = json!({
        "id": "chatcmpl-fake", "object": "chat.completion.chunk", "created": 1_700_000_000,
        "model": model,
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
        "usage": null,
    });
    format!("data: {chunk}\n\n")
}

/// The usage chunk sent when `stream_options.include_usage` is set.
pub fn usage_chunk(model: &str, prompt: u64, completion: u64) -> String {
    let chunk = json!({
        "id": "chatcmpl-fake", "object": "chat.completion.chunk", "created": 1_700_000_000,
        "model": model, "choices": [], "usage": usage(prompt, completion),
    });
    format!("data: {chunk}\n\n")
}

pub const DONE: &str = "data: [DONE]\n\n";

/// A whole stream: the pieces as content deltas, a stop, optional usage, `[DONE]`.
pub fn text_stream(model: &str, pieces: &[&str], include_usage: bool) -> String {
    let mut out = chunk(model, json!({"role": "assistant", "content": ""}), None);
    for piece in pieces {
        out.push_str(&chunk(model, json!({"content": piece}), None));
    }
    out.push_str(&chunk(model, json!({}), Some("stop")));
    if include_usage {
        out.push_str(&usage_chunk(model, 10, pieces.len() as u64));
    }
    out.push_str(DONE);
    out
}

/// An OpenAI error body.
pub fn error(status: u16, message: &str, kind: &str, code: &str) -> Reply {
    Reply::json(
        status,
        &json!({"error": {"message": message, "type": kind, "param": null, "code": code}}),
    )
}

/// `GET /models`.
pub fn model_list(ids: &[&str]) -> Value {
    let data: Vec<Value> = ids
        .iter()
        .map(|id| json!({"id": id, "object": "model", "created": 0, "owned_by": "fake"}))
        .collect();
    json!({"object": "list", "data": data})
}

/// Usage whose prompt includes `cached` tokens read from a cache.
pub fn usage_with_cache(prompt: u64, cached: u64, completion: u64) -> Value {
    json!({"prompt_tokens": prompt, "completion_tokens": completion,
           "total_tokens": prompt + completion,
           "prompt_tokens_details": {"cached_tokens": cached}})
}

/// The usage chunk (`choices: []`) with a whole `usage` object.
pub fn usage_chunk_with(model: &str, usage: Value) -> String {
    let chunk = json!({
        "id": "chatcmpl-fake", "object": "chat.completion.chunk", "created": 1_700_000_000,
        "model": model, "choices": [], "usage": usage,
    });
    format!("data: {chunk}\n\n")
}

/// A `data: {"error": ..}` event in the middle of a stream.
pub fn error_event(message: &str, kind: &str) -> String {
    let error = json!({"error": {"message": message, "type": kind, "param": null, "code": null}});
    format!("data: {error}\n\n")
}
