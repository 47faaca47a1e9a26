//! The conformance matrix: every (front door × endpoint spec × stream or
//! not) cell runs the same cases.
//!
//! A cell starts a fake endpoint that answers in its spec's exact wire
//! format ([`upstream`]), the real gateway with one endpoint `ep` of that
//! spec (`model_map: {client-model: upstream-model}`, one key), sends the
//! case's request in the front door's format ([`client::Ask`]), reads the
//! answer with an independent summarizer ([`client::Seen`]) and compares
//! its [`client::Outcome`] with what the case expects — the same for every
//! cell of a case, up to format naming. [`Run::start`] also checks what
//! the endpoint received: once, on its path, with its auth, the mapped
//! model, and either the client's body unchanged (passthrough, whose
//! answer must then reach the client byte for byte) or the request-side
//! mappings (system prompt, max_tokens, tools, tool_choice, parallel
//! calls, reasoning, sampling, stream options).
//!
//! Tests are named `matrix::CASE::FRONT_front::SPEC_endpoint::{stream,non_stream}`;
//! cases that mean nothing without a stream (split arguments, one chunk
//! carrying text and a tool call, interleaved tool calls, failures
//! mid-stream) have stream cells only.

mod cases;
mod client;
mod client_anthropic;
mod client_openai;
mod upstream;

use std::fmt;
use std::future::Future;
use std::time::Duration;

use serde_json::{Value, json};

use crate::harness::Gateway;
use client::{Ask, Choice, Outcome, SYSTEM, Seen, USER};
use upstream::{KEY, Script, UPSTREAM_MODEL, Upstream};

/// The front door a client uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Front {
    OpenAi,
    Anthropic,
}

/// The endpoint's spec.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Spec {
    OpenAiChat,
    Anthropic,
}

#[derive(Debug, Clone, Copy)]
pub struct Cell {
    pub front: Front,
    pub spec: Spec,
    pub stream: bool,
}

impl Cell {
    /// The client speaks the endpoint's own format.
    pub fn passthrough(self) -> bool {
        matches!(
            (self.front, self.spec),
            (Front::OpenAi, Spec::OpenAiChat) | (Front::Anthropic, Spec::Anthropic)
        )
    }
}

impl fmt::Display for Cell {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "[{:?} client → {:?} endpoint, {}]",
            self.front,
            self.spec,
            if self.stream { "stream" } else { "non-stream" }
        )
    }
}

/// Runs one cell of a case, bounded in time so that a hang fails.
pub async fn cell<F, Fut>(front: Front, spec: Spec, stream: bool, case: F)
where
    F: FnOnce(Cell) -> Fut,
    Fut: Future<Output = ()>,
{
    let cell = Cell {
        front,
        spec,
        stream,
    };
    if tokio::time::timeout(Duration::from_secs(60), case(cell))
        .await
        .is_err()
    {
        panic!("{cell}: no complete answer within 60 s");
    }
}

/// One request through a cell, with everything needed to look further.
pub struct Run {
    pub cell: Cell,
    pub ask: Ask,
    /// What the client sent.
    pub request: Value,
    pub upstream: Upstream,
    pub gw: Gateway,
    pub seen: Seen,
}

impl Run {
    /// Starts the fake endpoint and the gateway, sends the case's request,
    /// reads the answer and checks what the endpoint received.
    pub async fn start(cell: Cell, ask: Ask, script: Script) -> Run {
        let upstream = Upstream::start(cell.spec, script).await;
        let spec = match cell.spec {
            Spec::OpenAiChat => "openai-chat-completions",
            Spec::Anthropic => "anthropic",
        };
        let yaml = format!(
            "endpoints:\n  - name: ep\n    spec: {spec}\n    base_url: {}\n    api_key: {KEY}\n    model_map: {{client-model: {UPSTREAM_MODEL}}}\n",
            upstream.base_url()
        );
        let gw = Gateway::start(&yaml).await;
        let request = ask.body(cell.front, cell.stream);
        let seen = client::call(&gw, cell, &request).await;
        let run = Run {
            cell,
            ask,
            request,
            upstream,
            gw,
            seen,
        };
        run.check_upstream_request();
        run
    }

    /// The client's answer means `expected`.
    pub fn expect(&self, expected: Outcome) {
        assert_eq!(
            self.seen.outcome(),
            expected,
            "{}: the answer the client got differs from the expected one\n--- client body ---\n{}",
            self.cell,
            self.seen.body_text()
        );
    }

    /// What the gateway recorded: one request on `ep` / `upstream-model`
    /// with (input including cache, cache read, output) tokens.
    pub async fn expect_recorded(&self, usage: (u64, u64, u64)) {
        self.gw.state.usage.flush().await;
        let rows = self.gw.state.store.usage_summary().await.unwrap();
        let rows: Vec<_> = rows
            .iter()
            .map(|r| {
                (
                    r.endpoint.as_str(),
                    r.model.as_str(),
                    r.requests,
                    (r.input_tokens, r.cached_tokens, r.output_tokens),
                )
            })
            .collect();
        assert_eq!(
            rows,
            [("ep", UPSTREAM_MODEL, 1, usage)],
            "{}: recorded usage",
            self.cell
        );
    }

    /// The body the endpoint received last.
    pub fn sent(&self) -> Value {
        self.upstream.last().json()
    }

    fn check_upstream_request(&self) {
        let cell = self.cell;
        assert_eq!(
            self.upstream.hits(),
            1,
            "{cell}: the endpoint is called exactly once"
        );
        let got = self.upstream.last();
        match cell.spec {
            Spec::OpenAiChat => {
                assert_eq!(got.path, "/v1/chat/completions", "{cell}");
                assert_eq!(got.bearer(), Some(KEY), "{cell}: bearer key");
            }
            Spec::Anthropic => {
                assert_eq!(got.path, "/v1/messages", "{cell}");
                assert_eq!(got.header("x-api-key"), Some(KEY), "{cell}: x-api-key");
                assert!(
                    got.header("anthropic-version").is_some(),
                    "{cell}: anthropic-version sent"
                );
            }
        }
        let body = got.json();
        assert_eq!(body["model"], UPSTREAM_MODEL, "{cell}: model mapped");
        if cell.passthrough() {
            let mut expected = self.request.clone();
            expected["model"] = UPSTREAM_MODEL.into();
            // Usage is recorded for every stream: an OpenAI endpoint is asked
            // for it even when the client did not, and the client does not
            // get that chunk.
            let strip_usage = cell.front == Front::OpenAi
                && cell.stream
                && self.request["stream_options"]["include_usage"] != true;
            if strip_usage {
                expected["stream_options"] = json!({"include_usage": true});
            }
            assert_eq!(
                body, expected,
                "{cell}: passthrough sends the client's body, only the model changed"
            );
            let (status, bytes) = self.upstream.last_answer();
            if status == 200 {
                self.check_forwarded(&bytes, strip_usage);
            }
        } else {
            check_translated(cell, &self.ask, &body);
        }
    }
}

impl Run {
    /// A passthrough answer reaches the client byte for byte — but for the
    /// usage chunk the client did not ask for, and the error event the
    /// gateway adds when the endpoint's stream ends early.
    fn check_forwarded(&self, sent: &[u8], strip_usage: bool) {
        let cell = self.cell;
        let sent = String::from_utf8_lossy(sent);
        let expected: String = sent
            .split_inclusive("\n\n")
            .filter(|event| {
                let data = event.trim().strip_prefix("data: ").unwrap_or_default();
                let chunk: Value = serde_json::from_str(data).unwrap_or_default();
                !(strip_usage && chunk["choices"] == json!([]) && chunk["usage"].is_object())
            })
            .collect();
        let got = self.seen.body_text();
        let added = got.strip_prefix(expected.as_str()).unwrap_or_else(|| {
            panic!(
                "{cell}: a passthrough answer reaches the client byte for byte\n--- endpoint sent ---\n{sent}\n--- client got ---\n{got}"
            )
        });
        if !added.is_empty() {
            let mut violations = Vec::new();
            let events = client::parse_sse(added, &mut violations);
            let is_error = |e: &client::Event| match cell.front {
                Front::OpenAi => e.data.starts_with("{\"error\""),
                Front::Anthropic => e.name.as_deref() == Some("error"),
            };
            assert!(
                events.len() == 1 && is_error(&events[0]) && violations.is_empty(),
                "{cell}: after the endpoint's bytes, the gateway may add one error event, not {added:?}"
            );
        }
    }
}

/// The text of a message's content: a string, or its text blocks.
fn text_of(content: &Value) -> String {
    match content {
        Value::String(s) => s.clone(),
        Value::Array(blocks) => blocks
            .iter()
            .filter(|b| b["type"] == "text")
            .filter_map(|b| b["text"].as_str())
            .collect(),
        _ => String::new(),
    }
}

/// The name the endpoint got for a client's tool: the same when valid
/// (`[A-Za-z0-9_-]`), else a valid rename starting with the sanitized name.
fn check_tool_name(cell: Cell, client: &str, sent: &Value) {
    let sent = sent.as_str().unwrap_or_default();
    let valid = |n: &str| {
        !n.is_empty()
            && n.len() <= 64
            && n.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    };
    if valid(client) {
        assert_eq!(sent, client, "{cell}: a valid tool name is kept");
    } else {
        let prefix = client.replace(|c: char| !c.is_ascii_alphanumeric() && c != '-', "_");
        assert!(
            valid(sent) && sent.starts_with(&prefix),
            "{cell}: tool `{client}` renamed validly, got `{sent}`"
        );
    }
}

/// The request-side mappings of a translated request.
fn check_translated(cell: Cell, ask: &Ask, body: &Value) {
    let known: &[&str] = match cell.spec {
        Spec::Anthropic => &[
            "model",
            "max_tokens",
            "system",
            "messages",
            "tools",
            "tool_choice",
            "thinking",
            "temperature",
            "top_p",
            "top_k",
            "stop_sequences",
            "metadata",
            "stream",
        ],
        Spec::OpenAiChat => &[
            "model",
            "messages",
            "max_tokens",
            "temperature",
            "top_p",
            "stop",
            "tools",
            "tool_choice",
            "parallel_tool_calls",
            "reasoning_effort",
            "stream",
            "stream_options",
        ],
    };
    for key in body.as_object().expect("a JSON object").keys() {
        assert!(
            known.contains(&key.as_str()),
            "{cell}: the endpoint got `{key}`, which is not a field of its format: {body}"
        );
    }
    let absent = |k: &str| body.get(k).is_none();
    match cell.spec {
        Spec::Anthropic => {
            assert_eq!(body["system"], SYSTEM, "{cell}: system prompt is top-level");
            let messages = body["messages"].as_array().expect("messages");
            assert_eq!(messages.len(), 1, "{cell}: only the user turn: {body}");
            assert_eq!(messages[0]["role"], "user", "{cell}");
            assert_eq!(text_of(&messages[0]["content"]), USER, "{cell}");
            let max_tokens = body["max_tokens"].as_u64().expect("max_tokens is required");
            if ask.reasoning {
                assert_eq!(
                    body["thinking"],
                    json!({"type": "enabled", "budget_tokens": 2048}),
                    "{cell}: reasoning_effort low → a 2048-token budget"
                );
                assert!(
                    max_tokens > 2048,
                    "{cell}: max_tokens {max_tokens} raised above the budget"
                );
                assert!(
                    absent("temperature"),
                    "{cell}: no temperature with thinking"
                );
            } else {
                assert_eq!(max_tokens, 4096, "{cell}: the default max_tokens");
                assert!(absent("thinking"), "{cell}: no thinking unasked");
            }
            if cell.stream {
                assert_eq!(body["stream"], true, "{cell}");
            } else {
                assert!(body["stream"] != true, "{cell}: not streamed");
            }
            for (i, name) in ask.tools.iter().enumerate() {
                let tool = &body["tools"][i];
                check_tool_name(cell, name, &tool["name"]);
                assert_eq!(tool["input_schema"], client::schema(name), "{cell}");
                assert_eq!(tool["description"], client::description(name), "{cell}");
            }
            if ask.tools.is_empty() {
                assert!(absent("tools"), "{cell}");
            }
            let mut choice = ask.choice.as_ref().map(|c| match c {
                Choice::Auto => json!({"type": "auto"}),
                Choice::Required => json!({"type": "any"}),
                Choice::None => json!({"type": "none"}),
                Choice::Named(n) => json!({"type": "tool", "name": n}),
            });
            if ask.parallel == Some(false) {
                choice.get_or_insert_with(|| json!({"type": "auto"}))["disable_parallel_tool_use"] =
                    true.into();
            }
            assert_eq!(
                body.get("tool_choice"),
                choice.as_ref(),
                "{cell}: tool_choice"
            );
            if ask.sampling {
                assert_eq!(body["temperature"], 1.0, "{cell}: temperature clamped to 1");
                assert_eq!(body["stop_sequences"], json!(["END"]), "{cell}");
            }
        }
        Spec::OpenAiChat => {
            let messages = body["messages"].as_array().expect("messages");
            assert_eq!(
                messages[..],
                [
                    json!({"role": "system", "content": SYSTEM}),
                    json!({"role": "user", "content": USER})
                ],
                "{cell}: the system prompt is the first message"
            );
            let max_tokens = if ask.reasoning { 4000 } else { 256 };
            assert_eq!(body["max_tokens"], max_tokens, "{cell}: max_tokens kept");
            if ask.reasoning {
                assert_eq!(
                    body["reasoning_effort"], "low",
                    "{cell}: a 2048-token budget → reasoning_effort low"
                );
            } else {
                assert!(absent("reasoning_effort"), "{cell}");
            }
            if cell.stream {
                assert_eq!(body["stream"], true, "{cell}");
                assert_eq!(
                    body["stream_options"],
                    json!({"include_usage": true}),
                    "{cell}: usage always asked of the endpoint"
                );
            } else {
                assert!(body["stream"] != true, "{cell}: not streamed");
                assert!(absent("stream_options"), "{cell}");
            }
            for (i, name) in ask.tools.iter().enumerate() {
                let tool = &body["tools"][i];
                assert_eq!(tool["type"], "function", "{cell}");
                check_tool_name(cell, name, &tool["function"]["name"]);
                assert_eq!(
                    tool["function"]["parameters"],
                    client::schema(name),
                    "{cell}"
                );
                assert_eq!(
                    tool["function"]["description"],
                    client::description(name),
                    "{cell}"
                );
            }
            if ask.tools.is_empty() {
                assert!(absent("tools"), "{cell}");
            }
            // An Anthropic client says `disable_parallel_tool_use` inside a
            // tool_choice, `auto` when it names no other.
            let mut choice = ask.choice.clone();
            if cell.front == Front::Anthropic && ask.parallel == Some(false) {
                choice.get_or_insert(Choice::Auto);
            }
            let choice = choice.as_ref().map(|c| match c {
                Choice::Auto => json!("auto"),
                Choice::Required => json!("required"),
                Choice::None => json!("none"),
                Choice::Named(n) => json!({"type": "function", "function": {"name": n}}),
            });
            assert_eq!(
                body.get("tool_choice"),
                choice.as_ref(),
                "{cell}: tool_choice"
            );
            assert_eq!(
                body.get("parallel_tool_calls"),
                ask.parallel.map(Value::from).as_ref(),
                "{cell}: parallel_tool_calls"
            );
            if ask.sampling {
                assert_eq!(body["temperature"], 0.5, "{cell}");
                assert_eq!(
                    body["stop"],
                    json!(["END"]),
                    "{cell}: stop_sequences → stop"
                );
            }
        }
    }
}

/// Generates the cells of each case: `CASE: [stream, non_stream];` gives
/// 2 fronts × 2 specs × the listed modes, each a `#[tokio::test]` calling
/// `cases::CASE(cell)`.
macro_rules! matrix {
    ($($case:ident: [$($mode:ident),+];)+) => {
        $(
            mod $case {
                matrix!(@front $case, openai_front, OpenAi, [$($mode),+]);
                matrix!(@front $case, anthropic_front, Anthropic, [$($mode),+]);
            }
        )+
    };
    (@front $case:ident, $front_mod:ident, $front:ident, [$($mode:ident),+]) => {
        mod $front_mod {
            matrix!(@spec $case, $front, openai_endpoint, OpenAiChat, [$($mode),+]);
            matrix!(@spec $case, $front, anthropic_endpoint, Anthropic, [$($mode),+]);
        }
    };
    (@spec $case:ident, $front:ident, $spec_mod:ident, $spec:ident, [$($mode:ident),+]) => {
        mod $spec_mod {
            $(
                #[tokio::test]
                async fn $mode() {
                    crate::matrix::cell(
                        crate::matrix::Front::$front,
                        crate::matrix::Spec::$spec,
                        matrix!(@stream $mode),
                        crate::matrix::cases::$case,
                    )
                    .await;
                }
            )+
        }
    };
    (@stream stream) => { true };
    (@stream non_stream) => { false };
}

matrix! {
    text: [stream, non_stream];
    tool_choice_auto: [stream, non_stream];
    tool_choice_required: [stream, non_stream];
    tool_choice_none: [stream, non_stream];
    tool_choice_named: [stream, non_stream];
    parallel_tool_calls: [stream, non_stream];
    args_split: [stream];
    text_and_tool_in_one_chunk: [stream];
    interleaved_tool_calls: [stream];
    reasoning_with_signature: [stream, non_stream];
    usage_with_cache: [stream, non_stream];
    upstream_error: [stream, non_stream];
    upstream_overloaded: [stream, non_stream];
    mid_stream_error: [stream];
    stream_cut_short: [stream];
}
