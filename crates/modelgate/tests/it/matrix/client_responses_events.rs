//! The state machine of a Responses stream as the matrix client reads it
//! ([`Stream`]): items added at the next `output_index`, their events
//! naming that index and the item's id, parts opened, filled and closed in
//! order, every `done` equal to what was streamed.

use serde_json::{Value, json};

use super::client_responses::essence;

/// A text part of an item (message content, reasoning summary or text).
#[derive(Debug, Default)]
struct Part {
    kind: String,
    text: String,
    done: bool,
}

/// One output item as its events build it.
#[derive(Debug, Default)]
pub(super) struct Building {
    added: Value,
    id: String,
    kind: String,
    pub(super) done: Option<Value>,
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
    pub(super) fn assembled(&self) -> Value {
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
pub(super) struct Stream {
    pub(super) seq: Option<u64>,
    pub(super) created: Option<Value>,
    pub(super) terminal: Option<Value>,
    pub(super) ended: bool,
    /// The terminal event that told a failure (`error` or
    /// `response.failed`); empty once the other told it too.
    pub(super) failed_by: Option<String>,
    pub(super) items: Vec<Building>,
    pub(super) violations: Vec<String>,
}

impl Stream {
    pub(super) fn violation(&mut self, what: impl Into<String>) {
        self.violations.push(what.into());
    }

    /// A later event's response is the one `response.created` announced.
    pub(super) fn same_response(&mut self, data: &Value) {
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

    pub(super) fn item_event(&mut self, kind: &str, data: &Value) {
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
