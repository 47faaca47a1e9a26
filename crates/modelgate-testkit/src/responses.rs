//! OpenAI Responses wire bodies for fake upstreams: `POST /v1/responses`
//! answers and their SSE streams.
//!
//! A stream is derived from the finished [`response`]: [`stream_events`]
//! turns its output items into the typed event sequence OpenAI sends
//! (`response.created`, `response.in_progress`, per item
//! `output_item.added` … `output_item.done`, `response.completed`), every
//! event numbered by `sequence_number` from 0. Errors use the Chat
//! Completions envelope (`openai::error`), as OpenAI does.

use serde_json::{Value, json};

/// Errors and the model list are Chat Completions' (`{"error": {..}}`).
pub use crate::openai::{error, model_list};

/// Usage without cache or reasoning tokens.
pub fn usage(input: u64, output: u64) -> Value {
    usage_with(input, 0, output, 0)
}

/// Usage with `cached` input tokens (included in `input`) and `reasoning`
/// output tokens (included in `output`), as OpenAI counts them.
pub fn usage_with(input: u64, cached: u64, output: u64, reasoning: u64) -> Value {
    json!({
        "input_tokens": input,
        "input_tokens_details": {"cached_tokens": cached},
        "output_tokens": output,
        "output_tokens_details": {"reasoning_tokens": reasoning},
        "total_tokens": input + output,
    })
}

/// A completed assistant `message` output item with one `output_text` part.
pub fn message(id: &str, text: &str) -> Value {
    json!({
        "type": "message", "id": id, "role": "assistant", "status": "completed",
        "content": [output_text(text)],
    })
}

fn output_text(text: &str) -> Value {
    json!({"type": "output_text", "text": text, "annotations": [], "logprobs": []})
}

/// A completed `function_call` output item.
pub fn function_call(id: &str, call_id: &str, name: &str, arguments: &str) -> Value {
    json!({
        "type": "function_call", "id": id, "call_id": call_id, "name": name,
        "arguments": arguments, "status": "completed",
    })
}

/// A `reasoning` output item with one summary part; `encrypted_content`
/// only when given (OpenAI sends it only when `include` asks for it).
pub fn reasoning(id: &str, summary: &str, encrypted: Option<&str>) -> Value {
    let mut item = json!({
        "type": "reasoning", "id": id,
        "summary": [{"type": "summary_text", "text": summary}],
    });
    if let Some(encrypted) = encrypted {
        item["encrypted_content"] = json!(encrypted);
    }
    item
}

/// A completed Response object with the given output items. The request
/// settings a real answer echoes are at their defaults; set them on the
/// returned value to echo a request.
pub fn response(model: &str, output: Value, usage: Value) -> Value {
    json!({
        "id": "resp_fake", "object": "response", "created_at": 1_700_000_000,
        "status": "completed", "completed_at": 1_700_000_001,
        "error": null, "incomplete_details": null,
        "instructions": null, "max_output_tokens": null, "model": model,
        "output": output,
        "parallel_tool_calls": true, "previous_response_id": null,
        "reasoning": {"effort": null, "summary": null},
        "store": false, "temperature": 1.0, "top_p": 1.0,
        "text": {"format": {"type": "text"}},
        "tool_choice": "auto", "tools": [], "truncation": "disabled",
        "metadata": {}, "user": null,
        "usage": usage,
    })
}

/// A text answer (usage 10 in, 5 out).
pub fn text_response(model: &str, text: &str) -> Value {
    response(model, json!([message("msg_fake", text)]), usage(10, 5))
}

/// An answer that calls one function (usage 20 in, 8 out).
pub fn function_call_response(model: &str, call_id: &str, name: &str, arguments: &str) -> Value {
    response(
        model,
        json!([function_call("fc_fake", call_id, name, arguments)]),
        usage(20, 8),
    )
}

/// Numbers events as it formats them: each `data` gets the next
/// `sequence_number`, and its `type` is written as the `event:` line.
#[derive(Debug, Default)]
pub struct EventWriter {
    next: u64,
    events: Vec<String>,
}

impl EventWriter {
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends one event.
    pub fn push(&mut self, mut data: Value) -> &mut Self {
        data["sequence_number"] = json!(self.next);
        self.next += 1;
        let name = data["type"].as_str().unwrap_or("unknown").to_owned();
        self.events.push(format!("event: {name}\ndata: {data}\n\n"));
        self
    }

    /// The events so far, one string each.
    pub fn into_events(self) -> Vec<String> {
        self.events
    }
}

/// The whole event sequence of `response` (a completed Response object),
/// one SSE event per string. `split` cuts a text or an arguments string
/// into its deltas.
pub fn stream_events(response: &Value, mut split: impl FnMut(&str) -> Vec<String>) -> Vec<String> {
    let mut w = EventWriter::new();
    let mut started = response.clone();
    started["status"] = json!("in_progress");
    started["output"] = json!([]);
    started["usage"] = Value::Null;
    started["completed_at"] = Value::Null;
    w.push(json!({"type": "response.created", "response": started}));
    w.push(json!({"type": "response.in_progress", "response": started}));
    let items = response["output"].as_array().cloned().unwrap_or_default();
    for (index, item) in items.iter().enumerate() {
        item_events(&mut w, index, item, &mut split);
    }
    let kind = match response["status"].as_str() {
        Some("incomplete") => "response.incomplete",
        Some("failed") => "response.failed",
        _ => "response.completed",
    };
    w.push(json!({"type": kind, "response": response}));
    w.into_events()
}

/// `output_item.added`, the item's own deltas, `output_item.done`.
fn item_events(
    w: &mut EventWriter,
    index: usize,
    item: &Value,
    split: &mut impl FnMut(&str) -> Vec<String>,
) {
    let id = item["id"].as_str().unwrap_or_default();
    let mut added = item.clone();
    match item["type"].as_str() {
        Some("message") => {
            added["status"] = json!("in_progress");
            added["content"] = json!([]);
            w.push(
                json!({"type": "response.output_item.added", "output_index": index, "item": added}),
            );
            let parts = item["content"].as_array().cloned().unwrap_or_default();
            for (part_index, part) in parts.iter().enumerate() {
                let at = json!({"item_id": id, "output_index": index, "content_index": part_index});
                text_part_events(w, &at, part, split);
            }
        }
        Some("function_call") => {
            added["status"] = json!("in_progress");
            added["arguments"] = json!("");
            w.push(
                json!({"type": "response.output_item.added", "output_index": index, "item": added}),
            );
            let arguments = item["arguments"].as_str().unwrap_or_default();
            for piece in split(arguments) {
                w.push(json!({"type": "response.function_call_arguments.delta",
                              "item_id": id, "output_index": index, "delta": piece}));
            }
            w.push(
                json!({"type": "response.function_call_arguments.done", "item_id": id,
                          "output_index": index, "name": item["name"], "arguments": arguments}),
            );
        }
        Some("reasoning") => {
            // The summary arrives as deltas; the encrypted content only
            // with the finished item.
            added["summary"] = json!([]);
            if let Some(map) = added.as_object_mut() {
                map.remove("encrypted_content");
            }
            w.push(
                json!({"type": "response.output_item.added", "output_index": index, "item": added}),
            );
            let summary = item["summary"].as_array().cloned().unwrap_or_default();
            for (summary_index, part) in summary.iter().enumerate() {
                let text = part["text"].as_str().unwrap_or_default();
                let at = |kind: &str| json!({"type": kind, "item_id": id, "output_index": index, "summary_index": summary_index});
                let mut event = at("response.reasoning_summary_part.added");
                event["part"] = json!({"type": "summary_text", "text": ""});
                w.push(event);
                for piece in split(text) {
                    let mut event = at("response.reasoning_summary_text.delta");
                    event["delta"] = json!(piece);
                    w.push(event);
                }
                let mut event = at("response.reasoning_summary_text.done");
                event["text"] = json!(text);
                w.push(event);
                let mut event = at("response.reasoning_summary_part.done");
                event["part"] = json!({"type": "summary_text", "text": text});
                w.push(event);
            }
        }
        _ => {
            w.push(
                json!({"type": "response.output_item.added", "output_index": index, "item": added}),
            );
        }
    }
    w.push(json!({"type": "response.output_item.done", "output_index": index, "item": item}));
}

/// One content part of a message: `content_part.added`, the text (or
/// refusal) deltas and their `.done`, `content_part.done`. `at` holds
/// `item_id`, `output_index` and `content_index`.
fn text_part_events(
    w: &mut EventWriter,
    at: &Value,
    part: &Value,
    split: &mut impl FnMut(&str) -> Vec<String>,
) {
    let with = |mut fields: Value| {
        if let (Some(map), Some(at)) = (fields.as_object_mut(), at.as_object()) {
            map.extend(at.clone());
        }
        fields
    };
    let (delta_kind, done_kind, field, empty) = if part["type"] == "refusal" {
        let empty = json!({"type": "refusal", "refusal": ""});
        (
            "response.refusal.delta",
            "response.refusal.done",
            "refusal",
            empty,
        )
    } else {
        let empty = output_text("");
        (
            "response.output_text.delta",
            "response.output_text.done",
            "text",
            empty,
        )
    };
    w.push(with(
        json!({"type": "response.content_part.added", "part": empty}),
    ));
    let text = part[field].as_str().unwrap_or_default();
    for piece in split(text) {
        let mut event = with(json!({"type": delta_kind, "delta": piece}));
        if field == "text" {
            event["logprobs"] = json!([]);
        }
        w.push(event);
    }
    let mut done = with(json!({"type": done_kind}));
    done[field] = json!(text);
    if field == "text" {
        done["logprobs"] = json!([]);
    }
    w.push(done);
    w.push(with(
        json!({"type": "response.content_part.done", "part": part}),
    ));
}

/// A whole text stream: the pieces as `output_text` deltas of one message.
pub fn text_stream(model: &str, pieces: &[&str]) -> String {
    let response = text_response(model, &pieces.concat());
    let mut pieces = pieces.iter().map(|p| (*p).to_owned());
    // The message text gets the given pieces; nothing else is split.
    stream_events(&response, |text| {
        if text.is_empty() {
            Vec::new()
        } else {
            pieces.by_ref().collect()
        }
    })
    .concat()
}

/// An `error` event (in place of a terminal event) with the given number.
pub fn error_event(sequence_number: u64, code: &str, message: &str) -> String {
    let data = json!({"type": "error", "code": code, "message": message, "param": null,
                      "sequence_number": sequence_number});
    format!("event: error\ndata: {data}\n\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(stream: &str) -> Vec<Value> {
        stream
            .split("\n\n")
            .filter(|e| !e.is_empty())
            .map(|event| {
                let (name, data) = event.split_once('\n').expect("two lines");
                let data: Value =
                    serde_json::from_str(data.strip_prefix("data: ").expect("data line"))
                        .expect("json");
                assert_eq!(name.strip_prefix("event: "), data["type"].as_str());
                data
            })
            .collect()
    }

    #[test]
    fn a_text_stream_is_the_typed_sequence_numbered_from_zero() {
        let events = parse(&text_stream("m", &["echo: ", "hi"]));
        let kinds: Vec<&str> = events.iter().filter_map(|e| e["type"].as_str()).collect();
        assert_eq!(
            kinds,
            [
                "response.created",
                "response.in_progress",
                "response.output_item.added",
                "response.content_part.added",
                "response.output_text.delta",
                "response.output_text.delta",
                "response.output_text.done",
                "response.content_part.done",
                "response.output_item.done",
                "response.completed",
            ]
        );
        for (n, event) in events.iter().enumerate() {
            assert_eq!(event["sequence_number"], json!(n));
        }
        assert_eq!(events[0]["response"]["status"], "in_progress");
        assert_eq!(events[0]["response"]["usage"], Value::Null);
        assert_eq!(events[6]["text"], "echo: hi");
        assert_eq!(
            events[9]["response"]["output"][0]["content"][0]["text"],
            "echo: hi"
        );
        assert_eq!(events[9]["response"]["usage"]["total_tokens"], 15);
    }

    #[test]
    fn reasoning_and_function_call_events() {
        let response = response(
            "m",
            json!([
                reasoning("rs_1", "why", Some("enc")),
                function_call("fc_1", "call_1", "f", "{}")
            ]),
            usage(1, 2),
        );
        let events: Vec<Value> = stream_events(&response, |t| vec![t.to_owned()])
            .iter()
            .flat_map(|e| parse(e))
            .collect();
        let added = &events[2];
        assert_eq!(added["item"]["type"], "reasoning");
        assert!(added["item"].get("encrypted_content").is_none());
        assert_eq!(events[4]["type"], "response.reasoning_summary_text.delta");
        assert_eq!(events[4]["delta"], "why");
        assert_eq!(events[7]["item"]["encrypted_content"], "enc");
        assert_eq!(events[8]["item"]["arguments"], "");
        assert_eq!(events[9]["type"], "response.function_call_arguments.delta");
        assert_eq!(events[10]["name"], "f");
        assert_eq!(events[11]["item"]["status"], "completed");
    }
}
