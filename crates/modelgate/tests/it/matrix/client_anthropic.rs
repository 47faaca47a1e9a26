//! The Anthropic half of the matrix client: a Messages response, or a
//! Messages stream, read into [`Seen`] with plain JSON and
//! [`parse_sse`](super::client::parse_sse), no modelgate codec.

use serde_json::{Map, Value, json};

use super::client::{Event, Seen, SeenError, parse_args};

impl Seen {
    pub(super) fn anthropic_body(&mut self, v: &Value, model: Option<&str>) {
        if v["type"] != "message" || v["role"] != "assistant" {
            self.violation(format!("type {} role {}", v["type"], v["role"]));
        }
        self.check_model(&v["model"], model, "message");
        let content = v["content"].as_array().cloned().unwrap_or_default();
        for block in &content {
            match block["type"].as_str() {
                Some("text") => self
                    .text
                    .push_str(block["text"].as_str().unwrap_or_default()),
                Some("thinking") => {
                    self.reasoning
                        .push_str(block["thinking"].as_str().unwrap_or_default());
                    if let Some(s) = block["signature"].as_str().filter(|s| !s.is_empty()) {
                        self.signature = Some(s.to_owned());
                    }
                }
                Some("tool_use") => {
                    if !block["input"].is_object() {
                        self.violation(format!("tool_use input is not an object: {block}"));
                    }
                    self.tool_calls.push((
                        block["id"].as_str().unwrap_or_default().to_owned(),
                        block["name"].as_str().unwrap_or_default().to_owned(),
                        block["input"].clone(),
                    ));
                }
                _ => self.violation(format!("unexpected block {block}")),
            }
        }
        match v["stop_reason"].as_str() {
            Some(stop) => {
                self.stop = Some(stop.to_owned());
                self.terminated_properly = true;
            }
            None => self.violation("no stop_reason"),
        }
        self.anthropic_usage(&v["usage"]);
        self.replay = Some(content.into());
    }

    fn anthropic_usage(&mut self, u: &Value) {
        let n = |k: &str| u[k].as_u64().unwrap_or(0);
        let (input, read, write) = (
            n("input_tokens"),
            n("cache_read_input_tokens"),
            n("cache_creation_input_tokens"),
        );
        self.usage = Some((input + read + write, read, n("output_tokens")));
        self.raw_usage = Some(u.clone());
    }

    pub(super) fn anthropic_stream(&mut self, events: &[Event], model: Option<&str>) {
        #[derive(Default)]
        struct Block {
            kind: String,
            id: String,
            name: String,
            text: String,
            signature: String,
            start_input: Value,
        }
        let mut blocks: Vec<Block> = Vec::new();
        let mut open: Option<usize> = None;
        let mut started = false;
        let mut delta_seen = false;
        let mut ended = false;
        let mut stopped = false;
        let mut usage = Map::new();
        for event in events {
            let Ok(data) = serde_json::from_str::<Value>(&event.data) else {
                self.violation(format!("data is not JSON: {}", event.data));
                continue;
            };
            let kind = data["type"].as_str().unwrap_or_default().to_owned();
            if event.name.as_deref() != Some(kind.as_str()) {
                self.violation(format!("event {:?} carries type {kind}", event.name));
            }
            if ended {
                self.violation(format!("event after the end of the stream: {kind}"));
                continue;
            }
            if !started && kind != "message_start" && kind != "error" && kind != "ping" {
                self.violation(format!("{kind} before message_start"));
            }
            match kind.as_str() {
                "ping" => {}
                "error" => {
                    self.error = Some(SeenError {
                        status: self.status,
                        kind: data["error"]["type"]
                            .as_str()
                            .unwrap_or("<none>")
                            .to_owned(),
                        code: None,
                        message: data["error"]["message"]
                            .as_str()
                            .unwrap_or_default()
                            .to_owned(),
                    });
                    ended = true;
                }
                "message_start" => {
                    if started {
                        self.violation("a second message_start");
                    }
                    started = true;
                    let message = &data["message"];
                    self.check_model(&message["model"], model, "message_start");
                    if let Some(u) = message["usage"].as_object() {
                        usage.clone_from(u);
                    }
                }
                "content_block_start" => {
                    let index = data["index"].as_u64().unwrap_or(u64::MAX);
                    if index != blocks.len() as u64 {
                        self.violation(format!(
                            "block {index} started, expected index {}",
                            blocks.len()
                        ));
                    }
                    if let Some(o) = open {
                        self.violation(format!("block {index} started while block {o} is open"));
                    }
                    if delta_seen {
                        self.violation("a block started after message_delta");
                    }
                    let cb = &data["content_block"];
                    let s = |k: &str| cb[k].as_str().unwrap_or_default().to_owned();
                    blocks.push(Block {
                        kind: s("type"),
                        id: s("id"),
                        name: s("name"),
                        text: if cb["type"] == "thinking" {
                            s("thinking")
                        } else {
                            s("text")
                        },
                        signature: s("signature"),
                        start_input: cb["input"].clone(),
                    });
                    open = Some(blocks.len() - 1);
                }
                "content_block_delta" => {
                    let index = data["index"].as_u64().unwrap_or(u64::MAX);
                    let Some(i) = open.filter(|&o| o as u64 == index) else {
                        self.violation(format!("a delta for block {index}, which is not open"));
                        continue;
                    };
                    let delta = &data["delta"];
                    let piece = |k: &str| delta[k].as_str().unwrap_or_default().to_owned();
                    let block = &mut blocks[i];
                    let fits = match delta["type"].as_str().unwrap_or_default() {
                        "text_delta" => {
                            block.text.push_str(&piece("text"));
                            block.kind == "text"
                        }
                        "thinking_delta" => {
                            block.text.push_str(&piece("thinking"));
                            block.kind == "thinking"
                        }
                        "signature_delta" => {
                            block.signature = piece("signature");
                            block.kind == "thinking"
                        }
                        "input_json_delta" => {
                            block.text.push_str(&piece("partial_json"));
                            block.kind == "tool_use"
                        }
                        _ => false,
                    };
                    if !fits {
                        let kind = blocks[i].kind.clone();
                        self.violation(format!("delta {delta} in a {kind} block"));
                    }
                }
                "content_block_stop" => {
                    let index = data["index"].as_u64().unwrap_or(u64::MAX);
                    if open.is_some_and(|o| o as u64 == index) {
                        open = None;
                    } else {
                        self.violation(format!("stop of block {index}, which is not open"));
                    }
                }
                "message_delta" => {
                    if let Some(o) = open {
                        self.violation(format!("message_delta while block {o} is open"));
                    }
                    delta_seen = true;
                    self.stop = data["delta"]["stop_reason"].as_str().map(str::to_owned);
                    for (k, v) in data["usage"].as_object().into_iter().flatten() {
                        if !v.is_null() {
                            usage.insert(k.clone(), v.clone());
                        }
                    }
                }
                "message_stop" => {
                    if !delta_seen {
                        self.violation("message_stop without message_delta");
                    }
                    ended = true;
                    stopped = true;
                }
                other => self.violation(format!("unknown event {other}")),
            }
        }
        if started {
            self.anthropic_usage(&Value::Object(usage));
        }
        self.terminated_properly = stopped && self.error.is_none();
        let mut replay = Vec::new();
        for block in &blocks {
            match block.kind.as_str() {
                "text" => {
                    self.text.push_str(&block.text);
                    replay.push(json!({"type": "text", "text": block.text}));
                }
                "thinking" => {
                    self.reasoning.push_str(&block.text);
                    if !block.signature.is_empty() {
                        self.signature = Some(block.signature.clone());
                    }
                    replay.push(json!({"type": "thinking", "thinking": block.text,
                                       "signature": block.signature}));
                }
                "tool_use" => {
                    let input = if block.text.is_empty() {
                        match &block.start_input {
                            Value::Object(_) => block.start_input.clone(),
                            _ => json!({}),
                        }
                    } else {
                        parse_args(&block.text)
                    };
                    if !input.is_object() {
                        self.violation(format!("tool input is not an object: {input}"));
                    }
                    self.tool_calls
                        .push((block.id.clone(), block.name.clone(), input.clone()));
                    replay.push(json!({"type": "tool_use", "id": block.id,
                                       "name": block.name, "input": input}));
                }
                other => self.violation(format!("unexpected block type {other}")),
            }
        }
        self.replay = Some(replay.into());
    }
}
