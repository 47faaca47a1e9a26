//! The Responses half of the matrix client: a `response` object, or a
//! Responses stream, read into [`Seen`] with plain JSON and
//! [`parse_sse`](super::client::parse_sse), no modelgate codec.
//!
//! A stream is held to what the API reference and the SDK's event types
//! say: every event's `event:` line is its `type`; `sequence_number`s
//! increase; `response.created` comes first and one terminal event
//! (`response.completed` / `.incomplete` / `.failed`, or `error`) last
//! — a failure may be told by both an `error` event and `response.failed`,
//! with the same code;
//! each item is added at the next `output_index`, its deltas and `done`
//! events name that index and the item's id, every `done` text equals
//! its deltas, and the items reassembled from the events equal the
//! `output` of the terminal response. The outcome is read from the
//! reassembled items (so a stream that fails halfway still shows what
//! came), with the same rules as a whole `response`.

use serde_json::{Value, json};

use super::client::{Event, Seen, SeenError, parse_args};
use super::client_responses_events::{Building, Stream};

/// What a client can act on in an output item (compared between the
/// reassembled stream and the terminal response).
pub(super) fn essence(item: &Value) -> Value {
    let field = |k: &str| item.get(k).cloned().unwrap_or(Value::Null);
    let texts = |k: &str| -> Value {
        item[k]
            .as_array()
            .into_iter()
            .flatten()
            .map(|p| json!([p["type"], p.get("text").or(p.get("refusal"))]))
            .collect()
    };
    json!({
        "type": field("type"), "id": field("id"), "role": field("role"),
        "content": texts("content"), "summary": texts("summary"),
        "encrypted_content": field("encrypted_content"),
        "call_id": field("call_id"), "name": field("name"), "namespace": field("namespace"),
        "arguments": field("arguments"), "input": field("input"),
    })
}

/// The canonical stop of a finished response.
fn stop_of(response: &Value, items: &[Value]) -> Option<String> {
    let calls = items
        .iter()
        .any(|i| i["type"] == "function_call" || i["type"] == "custom_tool_call");
    match response["status"].as_str()? {
        "completed" if calls => Some("tool_use".to_owned()),
        "completed" => Some("end_turn".to_owned()),
        "incomplete" => Some(
            match response["incomplete_details"]["reason"].as_str() {
                Some("max_output_tokens") => "max_tokens",
                Some("content_filter") => "refusal",
                other => other.unwrap_or("incomplete"),
            }
            .to_owned(),
        ),
        _ => None,
    }
}

impl Seen {
    pub(super) fn responses_body(&mut self, v: &Value, model: Option<&str>) {
        if v["object"] != "response" {
            self.violation(format!("object {}", v["object"]));
        }
        self.check_model(&v["model"], model, "response");
        let Some(output) = v["output"].as_array().cloned() else {
            self.violation("a response without `output`");
            return;
        };
        self.finish_response(v, output);
    }

    /// The outcome of a terminal response and its output items.
    fn finish_response(&mut self, response: &Value, items: Vec<Value>) {
        for item in &items {
            self.read_item(item);
        }
        match response["status"].as_str() {
            Some("completed" | "incomplete") => {
                self.stop = stop_of(response, &items);
                self.terminated_properly = self.error.is_none();
            }
            Some("failed") => self.responses_error(&response["error"]),
            other => self.violation(format!("a final response with status {other:?}")),
        }
        if response["usage"].is_object() {
            self.responses_usage(&response["usage"]);
        } else {
            self.violation("a final response without usage");
        }
        self.replay = Some(items.clone().into());
        self.items = items;
    }

    fn responses_error(&mut self, e: &Value) {
        if e["message"].as_str().is_none() {
            self.violation(format!("an error without a message: {e}"));
        }
        let code = e["code"].as_str().map(str::to_owned);
        self.error = Some(SeenError {
            status: self.status,
            kind: code.clone().unwrap_or_else(|| "<none>".to_owned()),
            code,
            message: e["message"].as_str().unwrap_or_default().to_owned(),
        });
    }

    fn responses_usage(&mut self, u: &Value) {
        let n = |v: &Value| v.as_u64().unwrap_or(0);
        let (input, output) = (n(&u["input_tokens"]), n(&u["output_tokens"]));
        if n(&u["total_tokens"]) != input + output {
            self.violation(format!(
                "total_tokens {} ≠ input + output",
                u["total_tokens"]
            ));
        }
        self.usage = Some((
            input,
            n(&u["input_tokens_details"]["cached_tokens"]),
            output,
        ));
        self.raw_usage = Some(u.clone());
    }

    /// Text, reasoning and tool calls of one output item.
    fn read_item(&mut self, item: &Value) {
        let s = |k: &str| item[k].as_str().unwrap_or_default().to_owned();
        match item["type"].as_str().unwrap_or_default() {
            "message" => {
                if item["role"] != "assistant" {
                    self.violation(format!("message role {}", item["role"]));
                }
                for part in item["content"].as_array().into_iter().flatten() {
                    match part["type"].as_str() {
                        Some("output_text") => self
                            .text
                            .push_str(part["text"].as_str().unwrap_or_default()),
                        Some("refusal") => {}
                        _ => self.violation(format!("a message part {part}")),
                    }
                }
            }
            "reasoning" => {
                let texts = |k: &str| -> Vec<String> {
                    item[k]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .filter_map(|p| p["text"].as_str().map(str::to_owned))
                        .collect()
                };
                let mut text = texts("summary");
                if text.is_empty() {
                    text = texts("content");
                }
                self.reasoning.push_str(&text.join("\n\n"));
                if let Some(blob) = item["encrypted_content"].as_str().filter(|b| !b.is_empty()) {
                    self.signature = Some(blob.to_owned());
                }
            }
            "function_call" => {
                let Some(args) = item["arguments"].as_str() else {
                    self.violation(format!("function_call arguments must be a string: {item}"));
                    return;
                };
                if s("call_id").is_empty() || s("name").is_empty() {
                    self.violation(format!("a function_call without call_id or name: {item}"));
                }
                self.tool_calls
                    .push((s("call_id"), s("name"), parse_args(args)));
            }
            "custom_tool_call" => {
                if s("call_id").is_empty() || item["input"].as_str().is_none() {
                    self.violation(format!(
                        "a custom_tool_call without call_id or input: {item}"
                    ));
                }
                self.tool_calls
                    .push((s("call_id"), s("name"), Value::String(s("input"))));
            }
            other => self.violation(format!("an output item of type {other:?}")),
        }
    }

    pub(super) fn responses_stream(&mut self, events: &[Event], model: Option<&str>) {
        let mut state = Stream::default();
        for event in events {
            let Ok(data) = serde_json::from_str::<Value>(&event.data) else {
                state.violation(format!("data is not JSON: {}", event.data));
                continue;
            };
            let kind = data["type"].as_str().unwrap_or_default().to_owned();
            if event.name.as_deref() != Some(kind.as_str()) {
                state.violation(format!("event {:?} carries type {kind}", event.name));
            }
            match data["sequence_number"].as_u64() {
                None => state.violation(format!("{kind} without a sequence_number")),
                Some(n) if state.seq.is_some_and(|last| n <= last) => state.violation(format!(
                    "{kind}: sequence_number {n} after {}",
                    state.seq.unwrap_or_default()
                )),
                Some(n) => state.seq = Some(n),
            }
            // A failure may be told twice, by an `error` event and a
            // `response.failed` (either first) naming the same code.
            let failure = kind == "error" || kind == "response.failed";
            let second_telling = failure
                && state
                    .failed_by
                    .as_deref()
                    .is_some_and(|k| !k.is_empty() && k != kind);
            if state.ended && !second_telling {
                state.violation(format!("event after the end of the stream: {kind}"));
                continue;
            }
            if second_telling {
                let error = if kind == "error" {
                    &data
                } else {
                    &data["response"]["error"]
                };
                let first = self.error.as_ref().and_then(|e| e.code.clone());
                if error["code"].as_str() != first.as_deref() {
                    state.violation(format!(
                        "{kind} with code {} after {first:?}",
                        error["code"]
                    ));
                }
                state.failed_by = Some(String::new());
                continue;
            }
            if state.created.is_none() && kind != "response.created" && kind != "error" {
                state.violation(format!("{kind} before response.created"));
            }
            match kind.as_str() {
                "response.created" => {
                    if state.created.is_some() {
                        state.violation("a second response.created");
                    }
                    self.check_model(&data["response"]["model"], model, "response.created");
                    state.created = Some(data["response"].clone());
                }
                "response.in_progress" | "response.queued" => state.same_response(&data),
                "response.completed" | "response.incomplete" => {
                    state.same_response(&data);
                    self.check_model(&data["response"]["model"], model, &kind);
                    state.terminal = Some(data["response"].clone());
                    state.ended = true;
                }
                "response.failed" => {
                    state.same_response(&data);
                    self.responses_error(&data["response"]["error"]);
                    state.ended = true;
                    state.failed_by = Some(kind.clone());
                }
                "error" => {
                    self.responses_error(&data);
                    state.ended = true;
                    state.failed_by = Some(kind.clone());
                }
                _ => state.item_event(&kind, &data),
            }
        }
        self.violations.append(&mut state.violations);
        let assembled: Vec<Value> = state.items.iter().map(Building::assembled).collect();
        let Some(terminal) = state.terminal else {
            for item in &assembled {
                self.read_item(item);
            }
            self.replay = Some(assembled.clone().into());
            self.items = assembled;
            return;
        };
        let output = terminal["output"].as_array().cloned().unwrap_or_default();
        if state.items.iter().any(|b| b.done.is_none()) {
            self.violation("the response ended with items still open");
        }
        let streamed: Vec<Value> = assembled.iter().map(essence).collect();
        let finished: Vec<Value> = output.iter().map(essence).collect();
        if streamed != finished {
            self.violation(format!(
                "the streamed items differ from the final response's output\n  streamed: {streamed:?}\n  final:    {finished:?}"
            ));
        }
        self.finish_response(&terminal, output);
        // The outcome is what the events carried.
        if streamed != finished {
            self.text.clear();
            self.reasoning.clear();
            self.tool_calls.clear();
            for item in &assembled {
                self.read_item(item);
            }
        }
    }
}
