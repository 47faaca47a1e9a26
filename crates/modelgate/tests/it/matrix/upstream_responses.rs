//! The fake's OpenAI Responses answers, written from the API reference and
//! the SDK's types (`openai/types/responses/`), not from the codecs.
//!
//! * One output item per script block, in order, `output_index` = block
//!   index: reasoning → a `reasoning` item (the pieces as one summary part,
//!   the signature as `encrypted_content`); text → a `message` item with one
//!   `output_text` part; a tool call → a `function_call`, with `namespace`
//!   and the function's own name when the request declared it inside a
//!   `namespace` tool, or a `custom_tool_call` carrying the raw `input`
//!   when it declared a `custom` tool.
//! * Non-streamed: the `response` object. Streamed: typed events (`event:`
//!   line = `data.type`) numbered by `sequence_number` from 0 —
//!   `response.created`, `response.in_progress`, each item's `added`,
//!   part/delta/done events and `output_item.done`, then
//!   `response.completed` (`response.incomplete` for a `max_tokens` stop)
//!   holding the whole response. An error tail is an `error` event; an
//!   error or cut tail leaves the last item open.

use std::ops::Range;

use serde_json::{Map, Value, json};

use super::Spec;
use super::upstream::{Answer, Block, Tail, Tokens, stream_error_message, tool_id, upstream_name};

/// The id of every response the fake gives.
pub const RESPONSE_ID: &str = "resp_matrix";

/// How the request declared a tool the script calls.
struct Declared {
    name: String,
    namespace: Option<String>,
    custom: bool,
}

/// The declaration of `client_name` (`NS.NAME` for a namespaced function)
/// in the request's tools; a translated request's functions may have been
/// renamed (see [`upstream_name`]).
fn declared(req: &Value, client_name: &str) -> Declared {
    let tools = req["tools"].as_array().cloned().unwrap_or_default();
    let s = |v: &Value| v.as_str().unwrap_or_default().to_owned();
    for tool in &tools {
        match tool["type"].as_str() {
            Some("function" | "custom") if tool["name"] == client_name => {
                return Declared {
                    name: client_name.to_owned(),
                    namespace: None,
                    custom: tool["type"] == "custom",
                };
            }
            Some("namespace") => {
                let ns = s(&tool["name"]);
                for inner in tool["tools"].as_array().into_iter().flatten() {
                    if format!("{ns}.{}", s(&inner["name"])) == client_name {
                        return Declared {
                            name: s(&inner["name"]),
                            namespace: Some(ns),
                            custom: inner["type"] == "custom",
                        };
                    }
                }
            }
            _ => {}
        }
    }
    let names: Vec<&str> = tools
        .iter()
        .filter(|t| t["type"] == "function")
        .filter_map(|t| t["name"].as_str())
        .collect();
    Declared {
        name: upstream_name(&names, client_name),
        namespace: None,
        custom: false,
    }
}

/// The raw text of a custom tool's call: the `input` of the canonical
/// `{"input": …}` arguments.
fn custom_input(arguments: &str) -> String {
    let v: Value = serde_json::from_str(arguments).unwrap_or_default();
    v["input"].as_str().unwrap_or(arguments).to_owned()
}

fn usage(t: Tokens) -> Value {
    json!({
        "input_tokens": t.prompt(),
        "input_tokens_details": {"cached_tokens": t.cache_read, "cache_write_tokens": t.cache_write},
        "output_tokens": t.output,
        "output_tokens_details": {"reasoning_tokens": 0},
        "total_tokens": t.prompt() + t.output,
    })
}

/// The response object around `output`, echoing the request's settings.
fn shell(model: &str, req: &Value, status: &str) -> Value {
    let echo = |k: &str, default: Value| req.get(k).cloned().unwrap_or(default);
    json!({
        "id": RESPONSE_ID, "object": "response", "created_at": 1_700_000_000,
        "status": status, "background": false, "error": null, "incomplete_details": null,
        "instructions": echo("instructions", Value::Null),
        "max_output_tokens": echo("max_output_tokens", Value::Null),
        "model": model, "output": [],
        "parallel_tool_calls": echo("parallel_tool_calls", true.into()),
        "previous_response_id": null,
        "reasoning": {"effort": req["reasoning"]["effort"].clone(), "summary": null},
        "store": echo("store", true.into()),
        "temperature": echo("temperature", 1.0.into()),
        "text": {"format": {"type": "text"}},
        "tool_choice": echo("tool_choice", "auto".into()),
        "tools": echo("tools", json!([])),
        "top_p": 1.0, "truncation": "disabled", "usage": null, "metadata": {},
    })
}

/// One output item: (as first added, as done).
fn item(block: &Block, index: usize, req: &Value) -> (Value, Value) {
    match block {
        Block::Reasoning { pieces, signature } => {
            let id = format!("rs_matrix_{index}");
            (
                json!({"type": "reasoning", "id": id, "summary": []}),
                json!({"type": "reasoning", "id": id, "encrypted_content": signature,
                       "summary": [{"type": "summary_text", "text": pieces.concat()}]}),
            )
        }
        Block::Text(pieces) => {
            let id = format!("msg_matrix_{index}");
            let added = json!({"type": "message", "id": id, "status": "in_progress",
                               "role": "assistant", "content": []});
            let mut done = added.clone();
            done["status"] = "completed".into();
            done["content"] = json!([text_part(&pieces.concat())]);
            (added, done)
        }
        Block::Tool { id, name, pieces } => {
            let declared = declared(req, name);
            let call_id = tool_id(Spec::OpenAiResponses, id);
            let mut added = Map::new();
            let mut done;
            if declared.custom {
                added.insert("type".into(), "custom_tool_call".into());
                added.insert("id".into(), format!("ctc_matrix_{index}").into());
                added.insert("call_id".into(), call_id.into());
                added.insert("name".into(), declared.name.into());
                added.insert("input".into(), "".into());
                done = added.clone();
                done.insert("input".into(), custom_input(&pieces.concat()).into());
            } else {
                added.insert("type".into(), "function_call".into());
                added.insert("id".into(), format!("fc_matrix_{index}").into());
                added.insert("call_id".into(), call_id.into());
                added.insert("name".into(), declared.name.into());
                added.insert("arguments".into(), "".into());
                added.insert("status".into(), "in_progress".into());
                done = added.clone();
                done.insert("arguments".into(), pieces.concat().into());
                done.insert("status".into(), "completed".into());
            }
            if let Some(ns) = declared.namespace {
                added.insert("namespace".into(), ns.clone().into());
                done.insert("namespace".into(), ns.into());
            }
            (Value::Object(added), Value::Object(done))
        }
    }
}

fn text_part(text: &str) -> Value {
    json!({"type": "output_text", "annotations": [], "logprobs": [], "text": text})
}

/// The complete response: status, `incomplete_details`, output, usage.
fn complete(answer: &Answer, model: &str, req: &Value) -> Value {
    let incomplete = answer.stop == "max_tokens";
    let mut body = shell(
        model,
        req,
        if incomplete {
            "incomplete"
        } else {
            "completed"
        },
    );
    if incomplete {
        body["incomplete_details"] = json!({"reason": "max_output_tokens"});
    }
    body["output"] = answer
        .blocks
        .iter()
        .enumerate()
        .map(|(i, b)| item(b, i, req).1)
        .collect();
    body["usage"] = usage(answer.tokens);
    body
}

/// A non-streamed response object.
pub fn response(answer: &Answer, model: &str, req: &Value) -> Value {
    complete(answer, model, req)
}

/// Numbered typed events.
struct Events {
    list: Vec<String>,
    next: u64,
}

impl Events {
    fn push(&mut self, mut data: Value) {
        data["sequence_number"] = self.next.into();
        self.next += 1;
        let kind = data["type"].as_str().unwrap_or_default().to_owned();
        self.list.push(format!("event: {kind}\ndata: {data}\n\n"));
    }
}

/// The events of a Responses stream, and the range of those that belong
/// to output items.
pub fn stream(answer: &Answer, model: &str, req: &Value) -> (Vec<String>, Range<usize>) {
    let mut ev = Events {
        list: Vec::new(),
        next: 0,
    };
    let started = shell(model, req, "in_progress");
    ev.push(json!({"type": "response.created", "response": started}));
    ev.push(json!({"type": "response.in_progress", "response": started}));
    let first_item = ev.list.len();
    for (i, block) in answer.blocks.iter().enumerate() {
        let (added, done) = item(block, i, req);
        let id = added["id"].clone();
        let at = |kind: &str| json!({"type": kind, "item_id": id, "output_index": i});
        ev.push(json!({"type": "response.output_item.added", "output_index": i, "item": added}));
        let close = answer.tail == Tail::Complete || i + 1 < answer.blocks.len();
        match block {
            Block::Reasoning { pieces, .. } => {
                let part = json!({"type": "summary_text", "text": ""});
                let mut e = at("response.reasoning_summary_part.added");
                e["summary_index"] = 0.into();
                e["part"] = part;
                ev.push(e);
                for piece in pieces {
                    let mut e = at("response.reasoning_summary_text.delta");
                    e["summary_index"] = 0.into();
                    e["delta"] = (*piece).into();
                    ev.push(e);
                }
                if close {
                    let text = pieces.concat();
                    let mut e = at("response.reasoning_summary_text.done");
                    e["summary_index"] = 0.into();
                    e["text"] = text.clone().into();
                    ev.push(e);
                    let mut e = at("response.reasoning_summary_part.done");
                    e["summary_index"] = 0.into();
                    e["part"] = json!({"type": "summary_text", "text": text});
                    ev.push(e);
                }
            }
            Block::Text(pieces) => {
                let mut e = at("response.content_part.added");
                e["content_index"] = 0.into();
                e["part"] = text_part("");
                ev.push(e);
                for piece in pieces {
                    let mut e = at("response.output_text.delta");
                    e["content_index"] = 0.into();
                    e["delta"] = (*piece).into();
                    e["logprobs"] = json!([]);
                    ev.push(e);
                }
                if close {
                    let text = pieces.concat();
                    let mut e = at("response.output_text.done");
                    e["content_index"] = 0.into();
                    e["text"] = text.clone().into();
                    e["logprobs"] = json!([]);
                    ev.push(e);
                    let mut e = at("response.content_part.done");
                    e["content_index"] = 0.into();
                    e["part"] = text_part(&text);
                    ev.push(e);
                }
            }
            Block::Tool { .. } if done["type"] == "custom_tool_call" => {
                let input = done["input"].as_str().unwrap_or_default().to_owned();
                let cut = input.char_indices().nth(input.chars().count() / 2);
                let (head, tail) = input.split_at(cut.map_or(0, |(at, _)| at));
                for piece in [head, tail].into_iter().filter(|p| !p.is_empty()) {
                    let mut e = at("response.custom_tool_call_input.delta");
                    e["delta"] = piece.into();
                    ev.push(e);
                }
                if close {
                    let mut e = at("response.custom_tool_call_input.done");
                    e["input"] = input.into();
                    ev.push(e);
                }
            }
            Block::Tool { pieces, .. } => {
                for piece in pieces {
                    let mut e = at("response.function_call_arguments.delta");
                    e["delta"] = (*piece).into();
                    ev.push(e);
                }
                if close {
                    let mut e = at("response.function_call_arguments.done");
                    e["arguments"] = pieces.concat().into();
                    ev.push(e);
                }
            }
        }
        if close {
            ev.push(json!({"type": "response.output_item.done", "output_index": i, "item": done}));
        }
    }
    let items = first_item..ev.list.len();
    match answer.tail {
        Tail::Complete => {
            let response = complete(answer, model, req);
            let kind = if response["status"] == "incomplete" {
                "response.incomplete"
            } else {
                "response.completed"
            };
            ev.push(json!({"type": kind, "response": response}));
        }
        Tail::ErrorEvent => ev.push(json!({"type": "error", "code": "server_error",
            "message": stream_error_message(Spec::OpenAiResponses), "param": null})),
        Tail::Cut => {}
    }
    (ev.list, items)
}
