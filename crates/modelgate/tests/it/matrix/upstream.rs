//! The endpoint side of a cell: a fake upstream that answers in its spec's
//! exact wire format — streamed when the request it received asks for a
//! stream — from a script that says what the model answers, whatever the
//! format. The bytes of each format are written by hand here
//! ([`upstream_openai`](super::upstream_openai),
//! [`upstream_anthropic`](super::upstream_anthropic),
//! [`upstream_responses`](super::upstream_responses)), never by the codecs
//! under test.

use std::ops::Range;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use modelgate_testkit::{FakeUpstream, Recorded, Reply};
use serde_json::json;
use tokio::sync::mpsc;

use super::{Spec, Wire, upstream_anthropic, upstream_gemini, upstream_openai, upstream_responses};

/// The endpoint's key (checked on every request it receives).
pub const KEY: &str = "sk-matrix-key-0123456789";
/// The model id the endpoint receives (`model_map: {client-model: upstream-model}`);
/// for Azure, the deployment.
pub const UPSTREAM_MODEL: &str = "upstream-model";
/// The model an Azure deployment names in its answers: the underlying
/// model version, not the deployment.
pub const AZURE_MODEL: &str = "gpt-4o-2024-11-20";
/// The `api-version` an Azure endpoint is configured with.
pub const AZURE_API_VERSION: &str = "2024-10-21";
/// OpenRouter's `format` for Anthropic reasoning details.
pub const ANTHROPIC_FORMAT: &str = "anthropic-claude-v1";

/// A tool-call id as each spec writes them. Gemini writes none: the
/// value stands for the id the gateway makes up (see
/// [`Seen::outcome_for`](super::client::Seen::outcome_for)).
pub fn tool_id(spec: Spec, n: &str) -> String {
    match spec.wire() {
        Wire::Chat | Wire::Responses => format!("call_{n}"),
        Wire::Messages => format!("toolu_{n}"),
        Wire::Gemini => format!("<gemini call {n}>"),
    }
}

/// One part of the model's answer.
#[derive(Debug, Clone)]
pub enum Block {
    /// Thinking streamed in pieces, then its signature (a Responses
    /// endpoint's `encrypted_content`).
    Reasoning {
        pieces: Vec<&'static str>,
        signature: &'static str,
    },
    Text(Vec<&'static str>),
    /// A tool call: id suffix (see [`tool_id`]), the tool's name as the
    /// client declared it (`NS.NAME` for a function of a Responses
    /// namespace), the arguments in streamed pieces (for a custom tool:
    /// `{"input": "…"}`, the canonical form).
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

    /// The whole prompt: input, cache reads and cache writes.
    pub fn prompt(self) -> u64 {
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
    /// Anthropic and Responses: every event of the content (text block or
    /// item, then tool block or item) in a single write.
    TextAndToolTogether,
    /// One write per SSE event. OpenAI: every tool call starts (id, name),
    /// then their argument pieces alternate (the first piece of each call,
    /// then the second of each, …), as OpenAI streams parallel calls.
    /// Anthropic and Responses: the tool blocks (items) one after the
    /// other, as those APIs stream them.
    InterleavedTools,
}

/// How a stream ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tail {
    /// Finish reason / `message_delta` / `response.completed`, usage,
    /// `[DONE]` / `message_stop`.
    Complete,
    /// An error event in the spec's own format after the content, then EOF.
    ErrorEvent,
    /// EOF right after the content.
    Cut,
}

/// The message the upstream's in-stream error events carry.
pub fn stream_error_message(spec: Spec) -> &'static str {
    match spec.wire() {
        Wire::Chat | Wire::Responses => "The server had an error while processing your request",
        Wire::Messages => "Overloaded",
        Wire::Gemini => {
            "An internal error has occurred. Please retry or report in https://developers.generativeai.google/guide/troubleshooting"
        }
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
    /// Gemini only: a `thoughtSignature` on the first `functionCall` part,
    /// where Gemini 2.5 and 3 put it when no thought text is shown.
    pub call_signature: Option<&'static str>,
}

impl Answer {
    pub fn new(blocks: Vec<Block>, stop: &'static str, tokens: Tokens) -> Self {
        Self {
            blocks,
            stop,
            tokens,
            layout: Layout::Whole,
            tail: Tail::Complete,
            call_signature: None,
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
    /// OpenAI `error.type` and `error.code` (Responses and Azure too).
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

/// A fake endpoint of one spec answering its requests from scripts.
pub struct Upstream {
    pub spec: Spec,
    pub fake: FakeUpstream,
    sent: Arc<Mutex<Sent>>,
}

impl Upstream {
    /// A fake that answers its n-th request with the n-th script (the last
    /// one again once they run out): one script per turn of a conversation.
    pub async fn start_turns(spec: Spec, scripts: Vec<Script>) -> Self {
        assert!(!scripts.is_empty(), "at least one script");
        let sent = Arc::new(Mutex::new(Sent::default()));
        let log = sent.clone();
        let mut turn = 0;
        let fake = FakeUpstream::start(move |req: &Recorded| {
            let script = &scripts[turn.min(scripts.len() - 1)];
            turn += 1;
            let (status, writes, sse) = render(spec, script, req);
            *log.lock().unwrap() = Sent {
                status,
                bytes: writes.concat(),
            };
            // Google tells the delay in the body (`RetryInfo`), not in a header.
            let retry_after = match script {
                Script::Failure(f) if spec.wire() != Wire::Gemini => f.retry_after,
                _ => None,
            };
            reply(status, writes, sse, retry_after)
        })
        .await;
        Self { spec, fake, sent }
    }

    /// The `base_url` to configure: OpenAI-compatible servers under `/v1`,
    /// Anthropic and Azure as the bare host.
    pub fn base_url(&self) -> String {
        match self.spec {
            Spec::OpenAiChat | Spec::OpenAiResponses => self.fake.url("/v1"),
            Spec::Anthropic | Spec::Azure | Spec::Google => self.fake.url(""),
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

fn reply(status: u16, writes: Vec<Vec<u8>>, sse: bool, retry_after: Option<&str>) -> Reply {
    if !sse {
        let mut reply = Reply::Full {
            status,
            headers: vec![("content-type".into(), "application/json".into())],
            body: Bytes::from(writes.concat()),
        };
        if let Some(after) = retry_after {
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
fn render(spec: Spec, script: &Script, recorded: &Recorded) -> (u16, Vec<Vec<u8>>, bool) {
    let req = &recorded.json();
    if spec.wire() == Wire::Gemini {
        return upstream_gemini::render(script, recorded);
    }
    let answer = match script {
        Script::Failure(f) => {
            let body = match spec.wire() {
                Wire::Messages => json!({"type": "error",
                    "error": {"type": f.anthropic_type, "message": f.message},
                    "request_id": "req_matrix"}),
                Wire::Chat | Wire::Responses => json!({"error": {"message": f.message,
                    "type": f.openai_type, "param": null, "code": f.openai_code}}),
                Wire::Gemini => unreachable!("rendered by upstream_gemini"),
            };
            return (f.status, vec![body.to_string().into_bytes()], false);
        }
        Script::Answer(answer) => answer,
    };
    let model = match spec {
        Spec::Azure => AZURE_MODEL,
        _ => req["model"].as_str().unwrap_or_default(),
    };
    let azure = spec == Spec::Azure;
    let stream = req["stream"] == true;
    if !stream {
        let body = match spec.wire() {
            Wire::Chat => upstream_openai::completion(answer, model, req, azure),
            Wire::Messages => upstream_anthropic::message(answer, model, req),
            Wire::Responses => upstream_responses::response(answer, model, req),
            Wire::Gemini => unreachable!("rendered by upstream_gemini"),
        };
        return (200, vec![body.to_string().into_bytes()], false);
    }
    let (events, together) = match spec.wire() {
        Wire::Chat => (upstream_openai::stream(answer, model, req, azure), None),
        Wire::Messages => {
            let (events, blocks) = upstream_anthropic::stream(answer, model, req);
            (events, Some(blocks))
        }
        Wire::Responses => {
            let (events, items) = upstream_responses::stream(answer, model, req);
            (events, Some(items))
        }
        Wire::Gemini => unreachable!("rendered by upstream_gemini"),
    };
    (200, writes(answer.layout, events, together), true)
}

/// The TCP writes of a stream's events. `together`: the events of the
/// content, sent in one write for [`Layout::TextAndToolTogether`].
pub fn writes(layout: Layout, events: Vec<String>, together: Option<Range<usize>>) -> Vec<Vec<u8>> {
    match layout {
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
    }
}

/// The name the endpoint knows a client's tool by: the same name, or the
/// one the gateway renamed it to (`clock.now` → `clock_now_<hash>`).
/// `names`: the tool names in the request the endpoint received.
pub fn upstream_name(names: &[&str], client_name: &str) -> String {
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
