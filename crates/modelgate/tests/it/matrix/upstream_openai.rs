//! The fake's OpenAI Chat Completions answers (an `openai-chat-completions`
//! endpoint, and an `azure` deployment with Azure's additions: the
//! underlying model's name, `prompt_filter_results` — in a stream, a first
//! chunk with no choices and empty `id`/`object`/`model` —, and
//! `content_filter_results` on every choice).

use modelgate_testkit::openai;
use serde_json::{Value, json};

use super::Spec;
use super::upstream::{ANTHROPIC_FORMAT, Answer, Block, Layout, Tail, Tokens};
use super::upstream::{stream_error_message, tool_id, upstream_name};

/// Azure's verdict on a prompt or an answer: nothing filtered.
fn filter_results() -> Value {
    let safe = json!({"filtered": false, "severity": "safe"});
    json!({"hate": safe, "self_harm": safe, "sexual": safe, "violence": safe})
}

fn prompt_filter_results() -> Value {
    json!([{"prompt_index": 0, "content_filter_results": filter_results()}])
}

fn finish(stop: &str) -> &'static str {
    match stop {
        "tool_use" => "tool_calls",
        "max_tokens" => "length",
        _ => "stop",
    }
}

fn usage(t: Tokens) -> Value {
    openai::usage_with_cache(t.prompt(), t.cache_read, t.output)
}

/// The tool names of a chat request.
fn names(req: &Value) -> Vec<&str> {
    req["tools"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|t| t["function"]["name"].as_str())
        .collect()
}

/// A non-streamed chat completion.
pub fn completion(answer: &Answer, model: &str, req: &Value, azure: bool) -> Value {
    let names = names(req);
    let mut message = json!({"role": "assistant", "content": null, "refusal": null});
    let mut text = String::new();
    let mut calls = Vec::new();
    for block in &answer.blocks {
        match block {
            Block::Reasoning { pieces, signature } => {
                let reasoning = pieces.concat();
                message["reasoning_content"] = reasoning.clone().into();
                message["reasoning_details"] = json!([{"type": "reasoning.text",
                    "text": reasoning, "signature": signature,
                    "format": ANTHROPIC_FORMAT, "index": 0}]);
            }
            Block::Text(pieces) => text.push_str(&pieces.concat()),
            Block::Tool { id, name, pieces } => calls.push(json!({
                "id": tool_id(Spec::OpenAiChat, id), "type": "function",
                "function": {"name": upstream_name(&names, name),
                             "arguments": pieces.concat()}})),
        }
    }
    if !text.is_empty() {
        message["content"] = text.into();
    }
    if !calls.is_empty() {
        message["tool_calls"] = calls.into();
    }
    let mut body = json!({
        "id": "chatcmpl-matrix", "object": "chat.completion", "created": 1_700_000_000,
        "model": model,
        "choices": [{"index": 0, "message": message, "logprobs": null,
                     "finish_reason": finish(answer.stop)}],
        "usage": usage(answer.tokens),
    });
    if azure {
        body["prompt_filter_results"] = prompt_filter_results();
        body["choices"][0]["content_filter_results"] = filter_results();
    }
    body
}

/// One `data:` event of a chunk (Azure: with its empty filter results).
fn chunk(model: &str, delta: Value, finish: Option<&str>, azure: bool) -> String {
    if !azure {
        return openai::chunk(model, delta, finish);
    }
    let chunk = json!({
        "id": "chatcmpl-matrix", "object": "chat.completion.chunk", "created": 1_700_000_000,
        "model": model, "system_fingerprint": "fp_matrix",
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish, "logprobs": null,
                     "content_filter_results": {}}],
    });
    format!("data: {chunk}\n\n")
}

/// The events of a chat-completion stream.
pub fn stream(answer: &Answer, model: &str, req: &Value, azure: bool) -> Vec<String> {
    let names = names(req);
    let chunk = |delta: Value| chunk(model, delta, None, azure);
    let mut events = Vec::new();
    if azure {
        let filter = json!({"choices": [], "created": 0, "id": "", "model": "", "object": "",
                            "prompt_filter_results": prompt_filter_results()});
        events.push(format!("data: {filter}\n\n"));
    }
    events.push(chunk(json!({"role": "assistant", "content": ""})));
    let merge = answer.layout == Layout::TextAndToolTogether;
    let interleave = answer.layout == Layout::InterleavedTools;
    let mut held_text: Option<String> = None;
    // Interleaved: (OpenAI index, argument pieces) of the calls started.
    let mut held_pieces: Vec<(usize, &[&'static str])> = Vec::new();
    let mut tool_index = 0;
    for block in &answer.blocks {
        match block {
            Block::Reasoning { pieces, signature } => {
                for piece in pieces {
                    events.push(chunk(json!({"reasoning_content": piece})));
                }
                events.push(chunk(
                    json!({"reasoning_details": [{"type": "reasoning.text",
                    "text": "", "signature": signature, "format": ANTHROPIC_FORMAT, "index": 0}]}),
                ));
            }
            Block::Text(pieces) if merge => held_text = Some(pieces.concat()),
            Block::Text(pieces) => {
                for piece in pieces {
                    events.push(chunk(json!({"content": piece})));
                }
            }
            Block::Tool { id, name, pieces } => {
                let mut first = json!({"index": tool_index, "id": tool_id(Spec::OpenAiChat, id),
                    "type": "function",
                    "function": {"name": upstream_name(&names, name), "arguments": ""}});
                if let Some(text) = held_text.take() {
                    first["function"]["arguments"] = pieces.concat().into();
                    events.push(chunk(json!({"content": text, "tool_calls": [first]})));
                } else if interleave {
                    events.push(chunk(json!({"tool_calls": [first]})));
                    held_pieces.push((tool_index, pieces));
                } else {
                    events.push(chunk(json!({"tool_calls": [first]})));
                    for piece in pieces {
                        events.push(chunk(json!({"tool_calls": [
                            {"index": tool_index, "function": {"arguments": piece}}]})));
                    }
                }
                tool_index += 1;
            }
        }
    }
    if let Some(text) = held_text {
        events.push(chunk(json!({"content": text})));
    }
    let rounds = held_pieces.iter().map(|(_, p)| p.len()).max().unwrap_or(0);
    for round in 0..rounds {
        for (index, pieces) in &held_pieces {
            if let Some(piece) = pieces.get(round) {
                events.push(chunk(json!({"tool_calls": [
                    {"index": index, "function": {"arguments": piece}}]})));
            }
        }
    }
    match answer.tail {
        Tail::Complete => {
            events.push(self::chunk(
                model,
                json!({}),
                Some(finish(answer.stop)),
                azure,
            ));
            if req["stream_options"]["include_usage"] == true {
                events.push(openai::usage_chunk_with(model, usage(answer.tokens)));
            }
            events.push(openai::DONE.to_owned());
        }
        Tail::ErrorEvent => events.push(openai::error_event(
            stream_error_message(Spec::OpenAiChat),
            "server_error",
        )),
        Tail::Cut => {}
    }
    events
}
