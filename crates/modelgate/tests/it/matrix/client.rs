//! The client side of a cell: the request in the front door's format, and
//! an independent reading of the answer — plain JSON and a small SSE
//! parser, no modelgate codec — into one [`Outcome`] that means the same
//! whatever the format.

use serde_json::{Map, Value, json};

use super::{Cell, Front};
use crate::harness::Gateway;

/// The model as the client addresses it (mapped to `upstream-model`).
pub const MODEL: &str = "ep/client-model";
pub const SYSTEM: &str = "You are terse.";
pub const USER: &str = "What's the weather in Paris?";

/// A tool's JSON schema.
pub fn schema(name: &str) -> Value {
    match name {
        "get_weather" => json!({"type": "object",
            "properties": {"city": {"type": "string"}}, "required": ["city"]}),
        _ => json!({"type": "object", "properties": {"tz": {"type": "string"}}}),
    }
}

pub fn description(name: &str) -> String {
    format!("The tool {name}")
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Choice {
    Auto,
    Required,
    None,
    Named(&'static str),
}

/// What the client asks, written in either front door's format by [`Ask::body`].
#[derive(Debug, Clone, Default)]
pub struct Ask {
    pub tools: Vec<&'static str>,
    pub choice: Option<Choice>,
    /// `Some(false)`: `parallel_tool_calls: false` / `disable_parallel_tool_use: true`.
    pub parallel: Option<bool>,
    /// OpenAI `reasoning_effort: low` with `max_tokens: 1000`; Anthropic
    /// `thinking` with a 2048 budget and `max_tokens: 4000`.
    pub reasoning: bool,
    /// OpenAI `temperature: 1.5, stop: [END]`; Anthropic `temperature: 0.5, stop_sequences: [END]`.
    pub sampling: bool,
    /// OpenAI streams: `stream_options.include_usage`.
    pub include_usage: bool,
}

impl Ask {
    /// The conversation: system prompt and one user message.
    pub fn messages(front: Front) -> Vec<Value> {
        match front {
            Front::OpenAi => vec![
                json!({"role": "system", "content": SYSTEM}),
                json!({"role": "user", "content": USER}),
            ],
            Front::Anthropic => vec![json!({"role": "user", "content": USER})],
        }
    }

    pub fn body(&self, front: Front, stream: bool) -> Value {
        self.body_with(front, stream, Self::messages(front))
    }

    /// The request with other messages (system prompt kept).
    pub fn body_with(&self, front: Front, stream: bool, messages: Vec<Value>) -> Value {
        let mut b = Map::new();
        b.insert("model".into(), MODEL.into());
        match front {
            Front::OpenAi => {
                b.insert("messages".into(), messages.into());
                if stream {
                    b.insert("stream".into(), true.into());
                    if self.include_usage {
                        b.insert("stream_options".into(), json!({"include_usage": true}));
                    }
                }
                if !self.tools.is_empty() {
                    let tools: Vec<Value> = self
                        .tools
                        .iter()
                        .map(|n| {
                            json!({"type": "function",
                        "function": {"name": n, "description": description(n),
                                     "parameters": schema(n)}})
                        })
                        .collect();
                    b.insert("tools".into(), tools.into());
                }
                if let Some(choice) = &self.choice {
                    let choice = match choice {
                        Choice::Auto => json!("auto"),
                        Choice::Required => json!("required"),
                        Choice::None => json!("none"),
                        Choice::Named(n) => json!({"type": "function", "function": {"name": n}}),
                    };
                    b.insert("tool_choice".into(), choice);
                }
                if let Some(p) = self.parallel {
                    b.insert("parallel_tool_calls".into(), p.into());
                }
                if self.reasoning {
                    b.insert("reasoning_effort".into(), "low".into());
                    b.insert("max_tokens".into(), 1000.into());
                }
                if self.sampling {
                    b.insert("temperature".into(), 1.5.into());
                    b.insert("stop".into(), json!(["END"]));
                }
            }
            Front::Anthropic => {
                let max_tokens = if self.reasoning { 4000 } else { 256 };
                b.insert("max_tokens".into(), max_tokens.into());
                b.insert("system".into(), SYSTEM.into());
                b.insert("messages".into(), messages.into());
                if stream {
                    b.insert("stream".into(), true.into());
                }
                if !self.tools.is_empty() {
                    let tools: Vec<Value> = self
                        .tools
                        .iter()
                        .map(|n| {
                            json!({"name": n, "description": description(n),
                                        "input_schema": schema(n)})
                        })
                        .collect();
                    b.insert("tools".into(), tools.into());
                }
                let mut choice = self.choice.as_ref().map(|c| match c {
                    Choice::Auto => json!({"type": "auto"}),
                    Choice::Required => json!({"type": "any"}),
                    Choice::None => json!({"type": "none"}),
                    Choice::Named(n) => json!({"type": "tool", "name": n}),
                });
                if self.parallel == Some(false) {
                    choice.get_or_insert_with(|| json!({"type": "auto"}))["disable_parallel_tool_use"] =
                        true.into();
                }
                if let Some(choice) = choice {
                    b.insert("tool_choice".into(), choice);
                }
                if self.reasoning {
                    b.insert(
                        "thinking".into(),
                        json!({"type": "enabled", "budget_tokens": 2048}),
                    );
                }
                if self.sampling {
                    b.insert("temperature".into(), 0.5.into());
                    b.insert("stop_sequences".into(), json!(["END"]));
                }
            }
        }
        Value::Object(b)
    }
}

/// What a client can tell from an answer, the same for both formats.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Outcome {
    pub text: String,
    pub reasoning: String,
    pub signature: Option<String>,
    /// (id, name, arguments)
    pub tool_calls: Vec<(String, String, Value)>,
    /// Canonical: `end_turn`, `tool_use`, `max_tokens`, `refusal`, …
    pub stop: Option<String>,
    /// (input including cache, cache read, output)
    pub usage: Option<(u64, u64, u64)>,
    /// (HTTP status, error type in the client's format)
    pub error: Option<(u16, String)>,
    /// Ended as its format says a complete answer ends.
    pub terminated_properly: bool,
    /// Breaches of the client's wire format (must stay empty).
    pub violations: Vec<String>,
}

/// An error the client saw.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SeenError {
    pub status: u16,
    pub kind: String,
    pub code: Option<String>,
    pub message: String,
}

/// Everything read from one answer.
#[derive(Debug, Clone, Default)]
pub struct Seen {
    pub status: u16,
    pub content_type: String,
    pub retry_after: Option<String>,
    pub body: Vec<u8>,
    pub text: String,
    pub reasoning: String,
    pub signature: Option<String>,
    pub tool_calls: Vec<(String, String, Value)>,
    pub stop: Option<String>,
    pub usage: Option<(u64, u64, u64)>,
    /// The usage object as the client got it (the last one, for streams).
    pub raw_usage: Option<Value>,
    pub error: Option<SeenError>,
    pub terminated_properly: bool,
    pub violations: Vec<String>,
    /// The assistant turn as this client would send it back: an OpenAI
    /// assistant message, or Anthropic content blocks.
    pub replay: Option<Value>,
}

impl Seen {
    pub fn outcome(&self) -> Outcome {
        Outcome {
            text: self.text.clone(),
            reasoning: self.reasoning.clone(),
            signature: self.signature.clone(),
            tool_calls: self.tool_calls.clone(),
            stop: self.stop.clone(),
            usage: self.usage,
            error: self.error.as_ref().map(|e| (e.status, e.kind.clone())),
            terminated_properly: self.terminated_properly,
            violations: self.violations.clone(),
        }
    }

    pub fn body_text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    fn violation(&mut self, what: impl Into<String>) {
        self.violations.push(what.into());
    }

    /// Reads an answer. `model`: the model the answer must name (translated
    /// answers carry the client's; passthrough ones the upstream's own).
    pub fn read(front: Front, stream: bool, response: Raw, model: Option<&str>) -> Self {
        let mut seen = Seen {
            status: response.status,
            content_type: response.content_type,
            retry_after: response.retry_after,
            body: response.body,
            ..Seen::default()
        };
        if seen.status != 200 {
            seen.error_body(front);
            return seen;
        }
        let expected_type = if stream {
            "text/event-stream"
        } else {
            "application/json"
        };
        if !seen.content_type.starts_with(expected_type) {
            let ct = seen.content_type.clone();
            seen.violation(format!("content-type {ct}, expected {expected_type}"));
        }
        if stream {
            let text = seen.body_text();
            let events = parse_sse(&text, &mut seen.violations);
            match front {
                Front::OpenAi => seen.openai_stream(&events, model),
                Front::Anthropic => seen.anthropic_stream(&events, model),
            }
        } else {
            match serde_json::from_slice::<Value>(&seen.body) {
                Ok(v) => match front {
                    Front::OpenAi => seen.openai_body(&v, model),
                    Front::Anthropic => seen.anthropic_body(&v, model),
                },
                Err(e) => seen.violation(format!("the body is not JSON: {e}")),
            }
        }
        seen
    }

    fn error_body(&mut self, front: Front) {
        if !self.content_type.starts_with("application/json") {
            let ct = self.content_type.clone();
            self.violation(format!("error with content-type {ct}"));
        }
        let v: Value = serde_json::from_slice(&self.body).unwrap_or(Value::Null);
        let e = &v["error"];
        if front == Front::Anthropic && v["type"] != "error" {
            self.violation("an Anthropic error body needs \"type\": \"error\"");
        }
        if front == Front::OpenAi {
            for field in ["message", "type", "param", "code"] {
                if e.get(field).is_none() {
                    self.violation(format!("an OpenAI error needs error.{field}"));
                }
            }
        }
        self.error = Some(SeenError {
            status: self.status,
            kind: e["type"].as_str().unwrap_or("<none>").to_owned(),
            code: e["code"].as_str().map(str::to_owned),
            message: e["message"].as_str().unwrap_or_default().to_owned(),
        });
    }

    fn check_model(&mut self, got: &Value, model: Option<&str>, what: &str) {
        if let Some(model) = model
            && got != model
        {
            self.violation(format!("{what} model {got}, expected {model:?}"));
        }
    }

    // ---- OpenAI ----

    fn openai_body(&mut self, v: &Value, model: Option<&str>) {
        if v["object"] != "chat.completion" {
            self.violation(format!("object {}", v["object"]));
        }
        self.check_model(&v["model"], model, "response");
        let choice = &v["choices"][0];
        let msg = &choice["message"];
        if msg["role"] != "assistant" {
            self.violation(format!("message role {}", msg["role"]));
        }
        self.text = msg["content"].as_str().unwrap_or_default().to_owned();
        self.reasoning = msg["reasoning_content"]
            .as_str()
            .or_else(|| msg["reasoning"].as_str())
            .unwrap_or_default()
            .to_owned();
        let details = msg["reasoning_details"].as_array().cloned();
        for d in details.iter().flatten() {
            self.reasoning_detail(d);
        }
        for call in msg["tool_calls"].as_array().into_iter().flatten() {
            if call["type"] != "function" {
                self.violation(format!("tool call type {}", call["type"]));
            }
            let Some(args) = call["function"]["arguments"].as_str() else {
                self.violation("tool call arguments must be a JSON string");
                continue;
            };
            self.tool_calls.push((
                call["id"].as_str().unwrap_or_default().to_owned(),
                call["function"]["name"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned(),
                parse_args(args),
            ));
        }
        match choice["finish_reason"].as_str() {
            Some(reason) => {
                self.stop = Some(openai_stop(reason));
                self.terminated_properly = true;
            }
            None => self.violation("no finish_reason"),
        }
        self.openai_usage(&v["usage"]);
        self.replay = Some(msg.clone());
    }

    /// A reasoning detail of a complete message.
    fn reasoning_detail(&mut self, d: &Value) {
        if d["type"] == "reasoning.text" {
            if let Some(sig) = d["signature"].as_str().filter(|s| !s.is_empty()) {
                self.signature = Some(sig.to_owned());
            }
            if self.reasoning.is_empty() {
                self.reasoning = d["text"].as_str().unwrap_or_default().to_owned();
            }
        }
    }

    fn openai_usage(&mut self, u: &Value) {
        if !u.is_object() {
            return;
        }
        let n = |v: &Value| v.as_u64().unwrap_or(0);
        let (prompt, completion) = (n(&u["prompt_tokens"]), n(&u["completion_tokens"]));
        if n(&u["total_tokens"]) != prompt + completion {
            self.violation(format!(
                "total_tokens {} ≠ prompt + completion",
                u["total_tokens"]
            ));
        }
        self.usage = Some((
            prompt,
            n(&u["prompt_tokens_details"]["cached_tokens"]),
            completion,
        ));
        self.raw_usage = Some(u.clone());
    }

    fn openai_stream(&mut self, events: &[Event], model: Option<&str>) {
        // OpenAI tool-call index → (id, name, arguments)
        let mut calls: Vec<(u64, String, String, String)> = Vec::new();
        // reasoning_details accumulated by index, as OpenRouter-style clients do
        let mut details: Vec<(u64, Map<String, Value>)> = Vec::new();
        let mut ended = false;
        let mut done = false;
        let mut first = true;
        for event in events {
            if ended {
                self.violation(format!("event after the end of the stream: {}", event.data));
                continue;
            }
            if event.name.is_some() {
                self.violation(format!(
                    "an OpenAI stream has no `event:` lines ({event:?})"
                ));
            }
            if event.data == "[DONE]" {
                ended = true;
                done = true;
                continue;
            }
            let Ok(chunk) = serde_json::from_str::<Value>(&event.data) else {
                self.violation(format!("data is not JSON: {}", event.data));
                continue;
            };
            if let Some(e) = chunk.get("error") {
                self.error = Some(SeenError {
                    status: self.status,
                    kind: e["type"].as_str().unwrap_or("<none>").to_owned(),
                    code: e["code"].as_str().map(str::to_owned),
                    message: e["message"].as_str().unwrap_or_default().to_owned(),
                });
                ended = true;
                continue;
            }
            if chunk["object"] != "chat.completion.chunk" {
                self.violation(format!("chunk object {}", chunk["object"]));
            }
            self.check_model(&chunk["model"], model, "chunk");
            let choices = chunk["choices"].as_array().cloned().unwrap_or_default();
            if first {
                first = false;
                if choices.first().map(|c| &c["delta"]["role"]) != Some(&json!("assistant")) {
                    self.violation(format!("the first chunk has no assistant role: {chunk}"));
                }
            }
            if choices.is_empty() {
                if chunk["usage"].is_object() {
                    self.openai_usage(&chunk["usage"]);
                } else {
                    self.violation(format!("a chunk with neither choices nor usage: {chunk}"));
                }
                continue;
            }
            let choice = &choices[0];
            let delta = &choice["delta"];
            if let Some(t) = delta["content"].as_str() {
                self.text.push_str(t);
            }
            if let Some(t) = delta["reasoning_content"]
                .as_str()
                .or_else(|| delta["reasoning"].as_str())
            {
                self.reasoning.push_str(t);
            }
            for d in delta["reasoning_details"].as_array().into_iter().flatten() {
                let index = d["index"].as_u64().unwrap_or(0);
                let Value::Object(d) = d.clone() else {
                    self.violation(format!("a reasoning detail that is not an object: {d}"));
                    continue;
                };
                match details.iter_mut().find(|(i, _)| *i == index) {
                    None => details.push((index, d)),
                    Some((_, acc)) => {
                        for (k, v) in d {
                            match (k.as_str(), v) {
                                ("text", Value::String(t)) => {
                                    let old = acc.get("text").and_then(Value::as_str);
                                    let joined = format!("{}{t}", old.unwrap_or_default());
                                    acc.insert(k, joined.into());
                                }
                                ("signature", Value::String(s)) if s.is_empty() => {}
                                (_, v) => {
                                    acc.insert(k, v);
                                }
                            }
                        }
                    }
                }
            }
            for tc in delta["tool_calls"].as_array().into_iter().flatten() {
                let index = tc["index"].as_u64().unwrap_or(u64::MAX);
                let args = tc["function"]["arguments"].as_str().unwrap_or_default();
                match calls.iter_mut().find(|c| c.0 == index) {
                    Some(call) => call.3.push_str(args),
                    None => {
                        let id = tc["id"].as_str().unwrap_or_default().to_owned();
                        let name = tc["function"]["name"]
                            .as_str()
                            .unwrap_or_default()
                            .to_owned();
                        if id.is_empty() || name.is_empty() || tc["type"] != "function" {
                            self.violation(format!(
                                "the first fragment of tool call {index} lacks id, type or name: {tc}"
                            ));
                        }
                        calls.push((index, id, name, args.to_owned()));
                    }
                }
            }
            if let Some(reason) = choice["finish_reason"].as_str() {
                if self.stop.is_some() {
                    self.violation("a second finish_reason");
                }
                self.stop = Some(openai_stop(reason));
            }
            if chunk["usage"].is_object() {
                self.openai_usage(&chunk["usage"]);
            }
        }
        self.terminated_properly = done && self.error.is_none();
        if done && self.stop.is_none() {
            self.violation("[DONE] without a finish_reason");
        }
        let details: Vec<Value> = details.into_iter().map(|(_, d)| Value::Object(d)).collect();
        for d in &details {
            self.reasoning_detail(d);
        }
        self.tool_calls = calls
            .iter()
            .map(|(_, id, name, args)| (id.clone(), name.clone(), parse_args(args)))
            .collect();
        let mut replay = json!({"role": "assistant",
            "content": if self.text.is_empty() { Value::Null } else { self.text.clone().into() }});
        if !calls.is_empty() {
            replay["tool_calls"] = calls
                .iter()
                .map(|(_, id, name, args)| {
                    json!({"id": id, "type": "function",
                    "function": {"name": name, "arguments": args}})
                })
                .collect();
        }
        if !self.reasoning.is_empty() {
            replay["reasoning_content"] = self.reasoning.clone().into();
        }
        if !details.is_empty() {
            replay["reasoning_details"] = details.into();
        }
        self.replay = Some(replay);
    }

    // ---- Anthropic ----

    fn anthropic_body(&mut self, v: &Value, model: Option<&str>) {
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

    fn anthropic_stream(&mut self, events: &[Event], model: Option<&str>) {
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

/// OpenAI's `finish_reason` in canonical (Anthropic) words.
fn openai_stop(reason: &str) -> String {
    match reason {
        "stop" => "end_turn",
        "tool_calls" => "tool_use",
        "length" => "max_tokens",
        "content_filter" => "refusal",
        other => other,
    }
    .to_owned()
}

/// Tool arguments as JSON; text that is not JSON stays a string (and so
/// differs from any expected object).
fn parse_args(args: &str) -> Value {
    serde_json::from_str(args).unwrap_or_else(|_| Value::String(args.to_owned()))
}

/// One SSE event.
#[derive(Debug, Clone)]
pub struct Event {
    pub name: Option<String>,
    pub data: String,
}

/// A small SSE parser (blank-line separated events, `event:` / `data:`
/// fields, `:` comments skipped).
pub fn parse_sse(text: &str, violations: &mut Vec<String>) -> Vec<Event> {
    let text = text.replace("\r\n", "\n");
    let mut events = Vec::new();
    let mut name: Option<String> = None;
    let mut data: Vec<&str> = Vec::new();
    for line in text.split('\n') {
        if line.is_empty() {
            if name.is_some() || !data.is_empty() {
                events.push(Event {
                    name: name.take(),
                    data: data.join("\n"),
                });
                data.clear();
            }
            continue;
        }
        if line.starts_with(':') {
            continue;
        }
        let (field, value) = line.split_once(':').unwrap_or((line, ""));
        let value = value.strip_prefix(' ').unwrap_or(value);
        match field {
            "event" => name = Some(value.to_owned()),
            "data" => data.push(value),
            other => violations.push(format!("unknown SSE field {other}")),
        }
    }
    if name.is_some() || !data.is_empty() {
        violations.push("the stream's last event is not followed by a blank line".to_owned());
        events.push(Event {
            name,
            data: data.join("\n"),
        });
    }
    events
}

/// A response as it came over the wire.
pub struct Raw {
    pub status: u16,
    pub content_type: String,
    pub retry_after: Option<String>,
    pub body: Vec<u8>,
}

/// Sends a body to the cell's front door and reads the whole answer.
pub async fn call(gw: &Gateway, cell: Cell, body: &Value) -> Seen {
    let path = match cell.front {
        Front::OpenAi => "/v1/chat/completions",
        Front::Anthropic => "/v1/messages",
    };
    let mut request = gw.http.post(format!("{}{path}", gw.url)).json(body);
    if cell.front == Front::Anthropic {
        request = request.header("anthropic-version", "2023-06-01");
    }
    let response = request.send().await.expect("the gateway answers");
    let header = |name: &str| {
        response
            .headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    let status = response.status().as_u16();
    let content_type = header("content-type").unwrap_or_default();
    let retry_after = header("retry-after");
    let bytes = response.bytes().await.expect("the whole body").to_vec();
    let raw = Raw {
        status,
        content_type,
        retry_after,
        body: bytes,
    };
    Seen::read(
        cell.front,
        body["stream"] == true,
        raw,
        (!cell.passthrough()).then_some(MODEL),
    )
}
