//! The Responses half of the matrix client: a `response` object, or a
//! Responses stream, read into [`Seen`] with plain JSON and
//! [`parse_sse`](super::client::parse_sse), no modelgate codec.
//!
//! A stream is held to what the API reference and the SDK's event types
//! say: every event's `event:` line is its `type`; `sequence_number`s
//! increase; `response.created` comes first and one terminal event
//! (`response.completed` / `.incomplete` / `.failed`, or `error`) last;
//! each item is added at the next `output_index`, its deltas and `done`
//! events name that index and the item's id, every `done` text equals
//! its deltas, and the items reassembled from the events equal the
//! `output` of the terminal response. The outcome is read from the
//! reassembled items (so a stream that fails halfway still shows what
//! came), with the same rules as a whole `response`.

use serde_json::{Value, json};

use super::client::{Event, Seen, SeenError, parse_args};

/// What a client can act on in an output item (compared between the
/// reassembled stream and the terminal response).
fn essence(item: &Value) -> Value {
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
            if state.ended {
                state.violation(format!("event after the end of the stream: {kind}"));
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
                }
                "error" => {
                    self.responses_error(&data);
                    state.ended = true;
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

/// A text part of an item (message content, reasoning summary or text).
#[derive(Debug, Default)]
struct Part {
    kind: String,
    text: String,
    done: bool,
}

/// One output item as its events build it.
#[derive(Debug, Default)]
struct Building {
    added: Value,
    id: String,
    kind: String,
    done: Option<Value>,
    /// Message content, or reasoning text, by `content_index`.
    parts: Vec<Part>,
    /// Reasoning summary by `summary_index`.
    summary: Vec<Part>,
    /// Function arguments or custom tool input, if streamed.
    streamed: Option<String>,
    streamed_done: bool,
}

impl Building {
    /// The streamed field of a tool call item.
    fn field(&self) -> &'static str {
        if self.kind == "custom_tool_call" {
            "input"
        } else {
            "arguments"
        }
    }

    /// The item as its events tell it: the `done` item (else the added
    /// one) with the streamed texts.
    fn assembled(&self) -> Value {
        let mut item = self.done.clone().unwrap_or_else(|| self.added.clone());
        let parts = |parts: &[Part], summary: bool| -> Value {
            parts
                .iter()
                .map(|p| match p.kind.as_str() {
                    "refusal" => json!({"type": "refusal", "refusal": p.text}),
                    _ if summary => json!({"type": "summary_text", "text": p.text}),
                    kind => json!({"type": kind, "text": p.text}),
                })
                .collect()
        };
        if !self.parts.is_empty() {
            item["content"] = parts(&self.parts, false);
        }
        if !self.summary.is_empty() {
            item["summary"] = parts(&self.summary, true);
        }
        if let Some(text) = &self.streamed {
            item[self.field()] = text.clone().into();
        }
        item
    }
}

/// The state of a stream being read.
#[derive(Debug, Default)]
struct Stream {
    seq: Option<u64>,
    created: Option<Value>,
    terminal: Option<Value>,
    ended: bool,
    items: Vec<Building>,
    violations: Vec<String>,
}

impl Stream {
    fn violation(&mut self, what: impl Into<String>) {
        self.violations.push(what.into());
    }

    /// A later event's response is the one `response.created` announced.
    fn same_response(&mut self, data: &Value) {
        let id = &data["response"]["id"];
        if let Some(created) = &self.created
            && created["id"] != *id
        {
            let first = created["id"].clone();
            self.violation(format!("response id {id} after {first}"));
        }
    }

    /// The open item an event names by `output_index` and `item_id`.
    fn open_item(&mut self, kind: &str, data: &Value) -> Option<usize> {
        let index = data["output_index"].as_u64().unwrap_or(u64::MAX);
        let Some(item) = usize::try_from(index).ok().and_then(|i| self.items.get(i)) else {
            self.violation(format!("{kind} for output_index {index}, never added"));
            return None;
        };
        if item.done.is_some() {
            self.violation(format!("{kind} for item {index}, already done"));
            return None;
        }
        if kind != "response.output_item.done" && data["item_id"] != item.id.as_str() {
            let id = item.id.clone();
            self.violation(format!(
                "{kind}: item_id {} for output_index {index}, whose item is {id}",
                data["item_id"]
            ));
        }
        Some(index as usize)
    }

    fn item_event(&mut self, kind: &str, data: &Value) {
        if kind == "response.output_item.added" {
            return self.added(data);
        }
        let Some(i) = self.open_item(kind, data) else {
            return;
        };
        let text = |k: &str| data[k].as_str().unwrap_or_default().to_owned();
        let item_kind = self.items[i].kind.clone();
        let fits = match kind {
            "response.output_item.done" => {
                self.item_done(i, data);
                true
            }
            "response.content_part.added" => {
                let part = &data["part"];
                let kind = part["type"].as_str().unwrap_or_default().to_owned();
                let text = part.get("text").or(part.get("refusal")).cloned();
                let at = data["content_index"].as_u64();
                let item = &mut self.items[i];
                let ok = at == Some(item.parts.len() as u64)
                    && text.as_ref().and_then(Value::as_str) == Some("");
                item.parts.push(Part {
                    kind: kind.clone(),
                    ..Part::default()
                });
                ok && match item_kind.as_str() {
                    "message" => kind == "output_text" || kind == "refusal",
                    "reasoning" => kind == "reasoning_text",
                    _ => false,
                }
            }
            "response.output_text.delta"
            | "response.refusal.delta"
            | "response.reasoning_text.delta" => {
                let part_kind = match kind {
                    "response.output_text.delta" => "output_text",
                    "response.refusal.delta" => "refusal",
                    _ => "reasoning_text",
                };
                let delta = text("delta");
                self.part_delta(i, "content_index", data, part_kind, &delta)
            }
            "response.output_text.done"
            | "response.refusal.done"
            | "response.reasoning_text.done"
            | "response.content_part.done" => {
                let full = match kind {
                    "response.refusal.done" => text("refusal"),
                    "response.content_part.done" => {
                        let part = &data["part"];
                        let t = part.get("text").or(part.get("refusal"));
                        t.and_then(Value::as_str).unwrap_or_default().to_owned()
                    }
                    _ => text("text"),
                };
                // The part is done at its `content_part.done`; its text's
                // `done` comes first.
                let closes = kind == "response.content_part.done";
                self.part_done(i, "content_index", data, &full, closes)
            }
            "response.reasoning_summary_part.added" => {
                let at = data["summary_index"].as_u64();
                let item = &mut self.items[i];
                let ok = at == Some(item.summary.len() as u64)
                    && data["part"]["type"] == "summary_text"
                    && data["part"]["text"] == "";
                item.summary.push(Part {
                    kind: "summary_text".to_owned(),
                    ..Part::default()
                });
                ok && item_kind == "reasoning"
            }
            "response.reasoning_summary_text.delta" => {
                let delta = text("delta");
                self.part_delta(i, "summary_index", data, "summary_text", &delta)
            }
            "response.reasoning_summary_text.done" => {
                self.part_done(i, "summary_index", data, &text("text"), false)
            }
            "response.reasoning_summary_part.done" => {
                let full = data["part"]["text"].as_str().unwrap_or_default().to_owned();
                self.part_done(i, "summary_index", data, &full, true)
            }
            "response.function_call_arguments.delta" | "response.custom_tool_call_input.delta" => {
                let item = &mut self.items[i];
                item.streamed
                    .get_or_insert_default()
                    .push_str(&text("delta"));
                !item.streamed_done
                    && item.kind
                        == if kind.contains("custom") {
                            "custom_tool_call"
                        } else {
                            "function_call"
                        }
            }
            "response.function_call_arguments.done" | "response.custom_tool_call_input.done" => {
                let item = &mut self.items[i];
                let full = text(item.field());
                let ok = !item.streamed_done
                    && item.streamed.as_ref().is_none_or(|s| *s == full)
                    && data[item.field()].is_string();
                item.streamed = Some(full);
                item.streamed_done = true;
                ok
            }
            "response.output_text.annotation.added" => item_kind == "message",
            _ => {
                self.violation(format!("unknown event {kind}"));
                true
            }
        };
        if !fits {
            self.violation(format!(
                "{kind} does not fit item {i} ({item_kind}): {data}"
            ));
        }
    }

    fn added(&mut self, data: &Value) {
        let item = &data["item"];
        let index = data["output_index"].as_u64();
        if index != Some(self.items.len() as u64) {
            let next = self.items.len();
            self.violation(format!(
                "item added at output_index {index:?}, expected {next}"
            ));
        }
        let id = item["id"].as_str().unwrap_or_default().to_owned();
        if id.is_empty() || self.items.iter().any(|b| b.id == id) {
            self.violation(format!("an item added without a fresh id: {item}"));
        }
        let kind = item["type"].as_str().unwrap_or_default().to_owned();
        if !["message", "reasoning", "function_call", "custom_tool_call"].contains(&kind.as_str()) {
            self.violation(format!("an item of type {kind:?} added"));
        }
        self.items.push(Building {
            added: item.clone(),
            id,
            kind,
            ..Building::default()
        });
    }

    /// `output_item.done`: the item matches what was added and streamed.
    fn item_done(&mut self, i: usize, data: &Value) {
        let done = &data["item"];
        let building = &self.items[i];
        let mut wrong = Vec::new();
        for k in ["id", "type", "call_id", "name", "namespace"] {
            if building.added.get(k) != done.get(k) {
                wrong.push(format!(
                    "{k} {:?} → {:?}",
                    building.added.get(k),
                    done.get(k)
                ));
            }
        }
        if building
            .parts
            .iter()
            .chain(&building.summary)
            .any(|p| !p.done)
        {
            wrong.push("a part still open".to_owned());
        }
        // What was streamed must be what the done item holds.
        let streamed = essence(&building.assembled());
        let finished = essence(done);
        let mut keys = Vec::new();
        if !building.parts.is_empty() {
            keys.push("content");
        }
        if !building.summary.is_empty() {
            keys.push("summary");
        }
        if building.streamed.is_some() {
            keys.push(building.field());
        }
        for k in keys {
            if streamed[k] != finished[k] {
                wrong.push(format!(
                    "{k} streamed {} but done {}",
                    streamed[k], finished[k]
                ));
            }
        }
        if !wrong.is_empty() {
            self.violation(format!("output_item.done {i}: {}", wrong.join("; ")));
        }
        self.items[i].done = Some(done.clone());
    }

    /// A delta of part `data[index_key]`, which must be open and of `kind`.
    fn part_delta(
        &mut self,
        i: usize,
        index_key: &str,
        data: &Value,
        kind: &str,
        delta: &str,
    ) -> bool {
        let summary = index_key == "summary_index";
        let item = &mut self.items[i];
        let parts = if summary {
            &mut item.summary
        } else {
            &mut item.parts
        };
        let at = data[index_key].as_u64().unwrap_or(u64::MAX);
        match usize::try_from(at).ok().and_then(|at| parts.get_mut(at)) {
            Some(part) if !part.done && part.kind == kind => {
                part.text.push_str(delta);
                true
            }
            _ => false,
        }
    }

    /// The end of a part's text (`closes`: the part itself ends).
    fn part_done(
        &mut self,
        i: usize,
        index_key: &str,
        data: &Value,
        full: &str,
        closes: bool,
    ) -> bool {
        let summary = index_key == "summary_index";
        let item = &mut self.items[i];
        let parts = if summary {
            &mut item.summary
        } else {
            &mut item.parts
        };
        let at = data[index_key].as_u64().unwrap_or(u64::MAX);
        match usize::try_from(at).ok().and_then(|at| parts.get_mut(at)) {
            Some(part) if !part.done && part.text == full => {
                part.done = closes;
                true
            }
            _ => false,
        }
    }
}
