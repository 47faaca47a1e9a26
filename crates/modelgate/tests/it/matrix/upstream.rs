//! The endpoint side of a cell: a fake upstream that answers in its spec's
//! exact wire format — streamed when the request it received asks for a
//! stream — from a script that says what the model answers, whatever the
//! format.

use std::ops::Range;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use modelgate_testkit::{FakeUpstream, Recorded, Reply, anthropic, openai};
use serde_json::{Value, json};
use tokio::sync::mpsc;

use super::Spec;

/// The endpoint's key (checked on every request it receives).
pub const KEY: &str = "sk-matrix-key-0123456789";
/// The model id the endpoint receives (`model_map: {client-model: upstream-model}`).
pub const UPSTREAM_MODEL: &str = "upstream-model";
/// OpenRouter's `format` for Anthropic reasoning details.
pub const ANTHROPIC_FORMAT: &str = "anthropic-claude-v1";

/// A tool-call id as each spec writes them.
pub fn tool_id(spec: Spec, n: &str) -> String {
    match spec {
        Spec::OpenAiChat => format!("call_{n}"),
        Spec::Anthropic => format!("toolu_{n}"),
    }
}

/// One part of the model's answer.
#[derive(Debug, Clone)]
pub enum Block {
    /// Thinking streamed in pieces, then its signature.
    Reasoning {
        pieces: Vec<&'static str>,
        signature: &'static str,
    },
    Text(Vec<&'static str>),
    /// A tool call: id suffix (see [`tool_id`]), the tool's name as the
    /// client declared it, the arguments in streamed pieces.
    Tool {
        id: &'static str,
        name: &'static str,
        pieces: Vec<&'static str>,
    },
}

impl Block {
    pub fn text(pieces: &[&'static str]) -> Self {
        Block::Text(pieces.to_vec())
    }

    pub fn tool(id: &'static str, name: &'static str, pieces: &[&'static str]) -> Self {
        Block::Tool {
            id,
            name,
            pieces: pieces.to_vec(),
        }
    }
}

/// Token counts as the canonical model means them: `input` excludes the cache.
#[derive(Debug, Clone, Copy, Default)]
pub struct Tokens {
    pub input: u64,
    pub cache_read: u64,
    pub cache_write: u64,
    pub output: u64,
}

impl Tokens {
    pub fn new(input: u64, output: u64) -> Self {
        Self {
            input,
            output,
            ..Self::default()
        }
    }

    fn prompt(self) -> u64 {
        self.input + self.cache_read + self.cache_write
    }
}

/// How a stream is cut into TCP writes (HTTP chunks).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    /// The whole stream in one write.
    Whole,
    /// One write per SSE event.
    PerEvent,
    /// Every SSE event cut in the middle: two writes, neither a whole event.
    SplitEvents,
    /// OpenAI: one chunk whose delta has both `content` and `tool_calls`.
    /// Anthropic: every content-block event (text block, then tool block)
    /// in a single write.
    TextAndToolTogether,
    /// One write per SSE event. OpenAI: every tool call starts (id, name),
    /// then their argument pieces alternate (the first piece of each call,
    /// then the second of each, …), as OpenAI streams parallel calls.
    /// Anthropic: the tool blocks one after the other, as Anthropic does.
    InterleavedTools,
}

/// How a stream ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tail {
    /// Finish reason / `message_delta`, usage, `[DONE]` / `message_stop`.
    Complete,
    /// An error event in the spec's own format after the content, then EOF.
    ErrorEvent,
    /// EOF right after the content.
    Cut,
}

/// The message the upstream's in-stream error events carry.
pub fn stream_error_message(spec: Spec) -> &'static str {
    match spec {
        Spec::OpenAiChat => "The server had an error while processing your request",
        Spec::Anthropic => "Overloaded",
    }
}

#[derive(Debug, Clone)]
pub struct Answer {
    pub blocks: Vec<Block>,
    /// Canonical stop reason: `end_turn`, `tool_use`, `max_tokens`.
    pub stop: &'static str,
    pub tokens: Tokens,
    pub layout: Layout,
    pub tail: Tail,
}

impl Answer {
    pub fn new(blocks: Vec<Block>, stop: &'static str, tokens: Tokens) -> Self {
        Self {
            blocks,
            stop,
            tokens,
            layout: Layout::Whole,
            tail: Tail::Complete,
        }
    }

    pub fn layout(mut self, layout: Layout) -> Self {
        self.layout = layout;
        self
    }

    pub fn tail(mut self, tail: Tail) -> Self {
        self.tail = tail;
        self
    }
}

/// An error status with a body in the endpoint's format.
#[derive(Debug, Clone)]
pub struct Failure {
    pub status: u16,
    pub message: &'static str,
    /// Anthropic `error.type`.
    pub anthropic_type: &'static str,
    /// OpenAI `error.type` and `error.code`.
    pub openai_type: &'static str,
    pub openai_code: Option<&'static str>,
    pub retry_after: Option<&'static str>,
}

#[derive(Debug, Clone)]
pub enum Script {
    Answer(Answer),
    Failure(Failure),
}

/// What the fake sent for the last request.
#[derive(Debug, Clone, Default)]
struct Sent {
    status: u16,
    bytes: Vec<u8>,
}

/// A fake endpoint of one spec answering every request with one script.
pub struct Upstream {
    pub spec: Spec,
    pub fake: FakeUpstream,
    sent: Arc<Mutex<Sent>>,
}

impl Upstream {
    pub async fn start(spec: Spec, script: Script) -> Self {
        let sent = Arc::new(Mutex::new(Sent::default()));
        let log = sent.clone();
        let fake = FakeUpstream::start(move |req: &Recorded| {
            let (status, writes, sse) = render(spec, &script, &req.json());
            *log.lock().unwrap() = Sent {
                status,
                bytes: writes.concat(),
            };
            reply(status, writes, sse, &script)
        })
        .await;
        Self { spec, fake, sent }
    }

    /// The `base_url` to configure: OpenAI-compatible servers under `/v1`,
    /// Anthropic as the bare host.
    pub fn base_url(&self) -> String {
        match self.spec {
            Spec::OpenAiChat => self.fake.url("/v1"),
            Spec::Anthropic => self.fake.url(""),
        }
    }

    /// Every byte of the last answer, and its status.
    pub fn last_answer(&self) -> (u16, Vec<u8>) {
        let sent = self.sent.lock().unwrap();
        (sent.status, sent.bytes.clone())
    }

    pub fn hits(&self) -> usize {
        self.fake.hits()
    }

    pub fn last(&self) -> Recorded {
        self.fake.last()
    }
}

fn reply(status: u16, writes: Vec<Vec<u8>>, sse: bool, script: &Script) -> Reply {
    if !sse {
        let mut reply = Reply::Full {
            status,
            headers: vec![("content-type".into(), "application/json".into())],
            body: Bytes::from(writes.concat()),
        };
        if let Script::Failure(Failure {
            retry_after: Some(after),
            ..
        }) = script
        {
            reply = reply.with_header("retry-after", after);
        }
        return reply;
    }
    if writes.len() == 1 {
        return Reply::sse(String::from_utf8(writes.concat()).unwrap());
    }
    let (tx, rx) = mpsc::channel(writes.len());
    for write in writes {
        tx.try_send(Bytes::from(write)).unwrap();
    }
    Reply::Stream(rx)
}

/// The status, the writes of the body, and whether it is an SSE stream.
fn render(spec: Spec, script: &Script, req: &Value) -> (u16, Vec<Vec<u8>>, bool) {
    let answer = match script {
        Script::Failure(f) => {
            let body = match spec {
                Spec::Anthropic => json!({"type": "error",
                    "error": {"type": f.anthropic_type, "message": f.message},
                    "request_id": "req_matrix"}),
                Spec::OpenAiChat => json!({"error": {"message": f.message,
                    "type": f.openai_type, "param": null, "code": f.openai_code}}),
            };
            return (f.status, vec![body.to_string().into_bytes()], false);
        }
        Script::Answer(answer) => answer,
    };
    let model = req["model"].as_str().unwrap_or_default();
    let stream = req["stream"] == true;
    if !stream {
        let body = match spec {
            Spec::OpenAiChat => openai_completion(answer, model, req),
            Spec::Anthropic => anthropic_message(answer, model, req),
        };
        return (200, vec![body.to_string().into_bytes()], false);
    }
    let (events, together) = match spec {
        Spec::OpenAiChat => (openai_stream(answer, model, req), None),
        Spec::Anthropic => {
            let (events, blocks) = anthropic_stream(answer, model, req);
            (events, Some(blocks))
        }
    };
    let writes: Vec<Vec<u8>> = match answer.layout {
        Layout::Whole => vec![events.concat().into_bytes()],
        Layout::PerEvent | Layout::InterleavedTools => {
            events.into_iter().map(String::into_bytes).collect()
        }
        Layout::SplitEvents => events
            .iter()
            .flat_map(|e| {
                let (head, tail) = e.as_bytes().split_at(e.len() / 2);
                [head.to_vec(), tail.to_vec()]
            })
            .collect(),
        Layout::TextAndToolTogether => match together {
            None => events.into_iter().map(String::into_bytes).collect(),
            Some(range) => {
                let mut writes: Vec<Vec<u8>> = events[..range.start]
                    .iter()
                    .map(|e| e.clone().into_bytes())
                    .collect();
                writes.push(events[range.clone()].concat().into_bytes());
                writes.extend(events[range.end..].iter().map(|e| e.clone().into_bytes()));
                writes
            }
        },
    };
    (200, writes, true)
}

/// The name the endpoint knows a client's tool by: the same name, or the
/// one the gateway renamed it to (`clock.now` → `clock_now_<hash>`).
fn upstream_name(spec: Spec, req: &Value, client_name: &str) -> String {
    let names: Vec<&str> = req["tools"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|t| match spec {
            Spec::OpenAiChat => t["function"]["name"].as_str(),
            Spec::Anthropic => t["name"].as_str(),
        })
        .collect();
    if names.contains(&client_name) {
        return client_name.to_owned();
    }
    let sanitized: String = client_name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect();
    names
        .iter()
        .find(|n| n.starts_with(&format!("{sanitized}_")))
        .map_or_else(|| client_name.to_owned(), |n| (*n).to_owned())
}

fn openai_finish(stop: &str) -> &'static str {
    match stop {
        "tool_use" => "tool_calls",
        "max_tokens" => "length",
        _ => "stop",
    }
}

fn openai_usage(t: Tokens) -> Value {
    openai::usage_with_cache(t.prompt(), t.cache_read, t.output)
}

fn openai_completion(answer: &Answer, model: &str, req: &Value) -> Value {
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
                "function": {"name": upstream_name(Spec::OpenAiChat, req, name),
                             "arguments": pieces.concat()}})),
        }
    }
    if !text.is_empty() {
        message["content"] = text.into();
    }
    if !calls.is_empty() {
        message["tool_calls"] = calls.into();
    }
    json!({
        "id": "chatcmpl-matrix", "object": "chat.completion", "created": 1_700_000_000,
        "model": model,
        "choices": [{"index": 0, "message": message, "logprobs": null,
                     "finish_reason": openai_finish(answer.stop)}],
        "usage": openai_usage(answer.tokens),
    })
}

fn openai_stream(answer: &Answer, model: &str, req: &Value) -> Vec<String> {
    let chunk = |delta: Value| openai::chunk(model, delta, None);
    let mut events = vec![chunk(json!({"role": "assistant", "content": ""}))];
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
                    "function": {"name": upstream_name(Spec::OpenAiChat, req, name), "arguments": ""}});
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
            events.push(openai::chunk(
                model,
                json!({}),
                Some(openai_finish(answer.stop)),
            ));
            if req["stream_options"]["include_usage"] == true {
                events.push(openai::usage_chunk_with(model, openai_usage(answer.tokens)));
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

fn anthropic_usage(t: Tokens) -> Value {
    anthropic::usage_with_cache(t.input, t.cache_read, t.cache_write, t.output)
}

fn anthropic_message(answer: &Answer, model: &str, req: &Value) -> Value {
    let content: Vec<Value> = answer
        .blocks
        .iter()
        .map(|block| match block {
            Block::Reasoning { pieces, signature } => {
                json!({"type": "thinking", "thinking": pieces.concat(), "signature": signature})
            }
            Block::Text(pieces) => json!({"type": "text", "text": pieces.concat()}),
            Block::Tool { id, name, pieces } => {
                let input: Value = serde_json::from_str(&pieces.concat()).unwrap();
                json!({"type": "tool_use", "id": tool_id(Spec::Anthropic, id),
                       "name": upstream_name(Spec::Anthropic, req, name), "input": input})
            }
        })
        .collect();
    anthropic::message(
        model,
        content.into(),
        answer.stop,
        anthropic_usage(answer.tokens),
    )
}

/// The events, and the range of those that belong to content blocks.
fn anthropic_stream(answer: &Answer, model: &str, req: &Value) -> (Vec<String>, Range<usize>) {
    let mut start_usage = anthropic_usage(answer.tokens);
    start_usage["output_tokens"] = 1.into();
    let mut events = vec![anthropic::message_start_with_usage(model, start_usage)];
    let first_block = events.len();
    for (i, block) in answer.blocks.iter().enumerate() {
        match block {
            Block::Reasoning { pieces, signature } => {
                events.push(anthropic::thinking_block_start(i));
                for piece in pieces {
                    events.push(anthropic::thinking_delta(i, piece));
                }
                events.push(anthropic::signature_delta(i, signature));
            }
            Block::Text(pieces) => {
                events.push(anthropic::text_block_start(i));
                for piece in pieces {
                    events.push(anthropic::text_delta(i, piece));
                }
            }
            Block::Tool { id, name, pieces } => {
                let name = upstream_name(Spec::Anthropic, req, name);
                events.push(anthropic::tool_block_start(
                    i,
                    &tool_id(Spec::Anthropic, id),
                    &name,
                ));
                for piece in pieces {
                    events.push(anthropic::json_delta(i, piece));
                }
            }
        }
        if answer.tail == Tail::Complete || i + 1 < answer.blocks.len() {
            events.push(anthropic::block_stop(i));
        }
    }
    let blocks = first_block..events.len();
    match answer.tail {
        Tail::Complete => {
            events.push(anthropic::message_delta(answer.stop, answer.tokens.output));
            events.push(anthropic::message_stop());
        }
        Tail::ErrorEvent => events.push(anthropic::error_event(
            "overloaded_error",
            stream_error_message(Spec::Anthropic),
        )),
        Tail::Cut => {}
    }
    (events, blocks)
}
