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
//! mappings ([`checks`]).
//!
//! Front doors: OpenAI chat (`openai_front`), Anthropic messages
//! (`anthropic_front`), OpenAI Responses (`responses_front`). Endpoint
//! specs: `openai-chat-completions` (`openai_endpoint`), `anthropic`
//! (`anthropic_endpoint`), `openai-responses` (`responses_endpoint`),
//! `azure` (`azure_endpoint`: the OpenAI chat format on Azure's classic
//! deployment URL with `api-version` and `api-key`), `google`
//! (`google_endpoint`: the Gemini API, the model and the stream in the
//! URL, the key in `x-goog-api-key`; see [`upstream_gemini`] and
//! [`checks_gemini`]). Passthrough cells: chat → openai-chat-completions,
//! chat → azure, messages → anthropic, responses → openai-responses.
//! A front door or spec more is one variant of [`Front`] / [`Spec`] (a
//! new format one of [`Wire`]), its arms, and one entry in the groups of
//! the [`matrix!`] call.
//!
//! Tests are named `matrix::CASE::FRONT_front::SPEC_endpoint::{stream,non_stream}`.
//! Every cell that exists is declared in the [`matrix!`] call at the end,
//! and nothing else is left out:
//! * cases that mean nothing without a stream (split arguments, one chunk
//!   carrying text and a tool call, interleaved tool calls, failures
//!   mid-stream) have stream cells only;
//! * Gemini sends a function call whole, in one part, and several calls
//!   in one chunk: against `google` the split-argument case still cuts
//!   every SSE event in two writes (its argument pieces are joined), and
//!   the text-and-tool and interleaved cases send all their parts in one
//!   chunk ([`upstream_gemini`]);
//! * Gemini calls have no id: the client's ids must be non-empty and
//!   distinct ([`client::Seen::outcome_for`]), and the cases that send a
//!   call back use the id the client got;
//! * the Gemini-only cases ([`cases_gemini`]: id-less parallel calls,
//!   thought signatures, an agent's tool schema; [`cases_gemini_stops`]:
//!   blocked prompts, safety, recitation, malformed-call and length
//!   stops) run at the `google` column only;
//! * the Codex-shaped cases ([`cases_codex`]) exist for the Responses
//!   front door only: namespace, custom and hosted tools, reasoning items
//!   and `previous_response_id` cannot be said in the other formats. Their
//!   `openai-responses` cells check the passthrough of the same request.

mod ask;
mod cases;
mod cases_codex;
mod cases_failures;
mod cases_gemini;
mod cases_gemini_stops;
mod cases_reasoning;
mod checks;
mod checks_gemini;
mod client;
mod client_anthropic;
mod client_openai;
mod client_responses;
mod client_responses_events;
mod selfcheck;
mod selfcheck_gemini;
mod upstream;
mod upstream_anthropic;
mod upstream_gemini;
mod upstream_openai;
mod upstream_responses;

use std::fmt;
use std::future::Future;
use std::time::Duration;

use serde_json::{Value, json};

use crate::harness::Gateway;
use client::{Ask, Outcome, Seen};
use upstream::{AZURE_API_VERSION, KEY, Script, UPSTREAM_MODEL, Upstream};

/// The front door a client uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Front {
    OpenAi,
    Anthropic,
    Responses,
}

/// The endpoint's spec.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Spec {
    OpenAiChat,
    Anthropic,
    OpenAiResponses,
    Azure,
    /// The Gemini API (`google`).
    Google,
}

/// A wire format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wire {
    Chat,
    Messages,
    Responses,
    /// Gemini `generateContent`.
    Gemini,
}

impl Front {
    pub fn wire(self) -> Wire {
        match self {
            Front::OpenAi => Wire::Chat,
            Front::Anthropic => Wire::Messages,
            Front::Responses => Wire::Responses,
        }
    }
}

impl Spec {
    /// The format the endpoint speaks.
    pub fn wire(self) -> Wire {
        match self {
            Spec::OpenAiChat | Spec::Azure => Wire::Chat,
            Spec::Anthropic => Wire::Messages,
            Spec::OpenAiResponses => Wire::Responses,
            Spec::Google => Wire::Gemini,
        }
    }

    /// The spec's id in a configuration file.
    pub fn id(self) -> &'static str {
        match self {
            Spec::OpenAiChat => "openai-chat-completions",
            Spec::Anthropic => "anthropic",
            Spec::OpenAiResponses => "openai-responses",
            Spec::Azure => "azure",
            Spec::Google => "google",
        }
    }
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
        self.front.wire() == self.spec.wire()
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

/// The configuration of the one endpoint `ep`.
fn config(spec: Spec, base_url: &str) -> String {
    let mut yaml = format!(
        "endpoints:\n  - name: ep\n    spec: {}\n    base_url: {base_url}\n    api_key: {KEY}\n    model_map: {{client-model: {UPSTREAM_MODEL}}}\n",
        spec.id()
    );
    if spec == Spec::Azure {
        yaml.push_str(&format!("    api_version: \"{AZURE_API_VERSION}\"\n"));
    }
    yaml
}

/// The fake endpoint of the cell's spec, answering `scripts` turn by
/// turn, and the gateway in front of it.
pub async fn serve(cell: Cell, scripts: Vec<Script>) -> (Upstream, Gateway) {
    let upstream = Upstream::start_turns(cell.spec, scripts).await;
    let gw = Gateway::start(&config(cell.spec, &upstream.base_url())).await;
    (upstream, gw)
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
        Self::start_turns(cell, ask, vec![script]).await
    }

    /// [`Run::start`] with an endpoint that answers later requests (the
    /// next turns, sent by the case) with the next scripts.
    pub async fn start_turns(cell: Cell, ask: Ask, scripts: Vec<Script>) -> Run {
        let (upstream, gw) = serve(cell, scripts).await;
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

    /// The client's answer means `expected`. For a Gemini endpoint, whose
    /// calls have no id, the gateway's ids stand for the expected ones
    /// (see [`Seen::outcome_for`]).
    pub fn expect(&self, expected: Outcome) {
        assert_eq!(
            self.seen.outcome_for(self.cell, &expected),
            expected,
            "{}: the answer the client got differs from the expected one\n--- client body ---\n{}",
            self.cell,
            self.seen.body_text()
        );
    }

    /// What the gateway recorded: one request on `ep` / `upstream-model`
    /// with (input including cache, cache read, output) tokens.
    pub async fn expect_recorded(&self, usage: (u64, u64, u64)) {
        self.expect_recorded_turns(1, usage).await;
    }

    /// What the gateway recorded for `requests` requests: their summed
    /// (input including cache, cache read, output) tokens.
    pub async fn expect_recorded_turns(&self, requests: u64, usage: (u64, u64, u64)) {
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
            [("ep", UPSTREAM_MODEL, requests, usage)],
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
            "{cell}: the endpoint is called exactly once\n--- client got ---\n{}",
            self.seen.body_text()
        );
        check_address(cell, &self.upstream.last());
        let body = self.upstream.last().json();
        if cell.spec.wire() == Wire::Gemini {
            // The model is in the URL (checked by `check_address`).
            assert!(body.get("model").is_none(), "{cell}: no model in the body");
        } else {
            assert_eq!(body["model"], UPSTREAM_MODEL, "{cell}: model mapped");
        }
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
            checks::check_translated(cell, &self.ask, &body);
        }
    }

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
                Front::Responses => {
                    matches!(e.name.as_deref(), Some("error" | "response.failed"))
                }
            };
            // A Responses failure may be told twice (`error`, `response.failed`).
            let most = if cell.front == Front::Responses { 2 } else { 1 };
            assert!(
                (1..=most).contains(&events.len())
                    && events.iter().all(is_error)
                    && violations.is_empty(),
                "{cell}: after the endpoint's bytes, the gateway may add one error event, not {added:?}"
            );
        }
    }
}

/// The endpoint got the request on its path with its auth.
pub fn check_address(cell: Cell, got: &modelgate_testkit::Recorded) {
    match cell.spec {
        Spec::OpenAiChat => {
            assert_eq!(got.path, "/v1/chat/completions", "{cell}");
            assert_eq!(got.bearer(), Some(KEY), "{cell}: bearer key");
        }
        Spec::OpenAiResponses => {
            assert_eq!(got.path, "/v1/responses", "{cell}");
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
        Spec::Google => {
            let method = if cell.stream {
                "streamGenerateContent?alt=sse"
            } else {
                "generateContent"
            };
            assert_eq!(
                got.path,
                format!("/v1beta/models/{UPSTREAM_MODEL}:{method}"),
                "{cell}: the mapped model and the method in the URL"
            );
            assert_eq!(
                got.header("x-goog-api-key"),
                Some(KEY),
                "{cell}: x-goog-api-key"
            );
            assert_eq!(
                got.header("authorization"),
                None,
                "{cell}: the key in `x-goog-api-key` only"
            );
        }
        Spec::Azure => {
            assert_eq!(
                got.path,
                format!(
                    "/openai/deployments/{UPSTREAM_MODEL}/chat/completions?api-version={AZURE_API_VERSION}"
                ),
                "{cell}: Azure's deployment URL, the mapped model as the deployment"
            );
            assert_eq!(got.header("api-key"), Some(KEY), "{cell}: api-key");
            assert_eq!(
                got.header("authorization"),
                None,
                "{cell}: the key in `api-key` only"
            );
        }
    }
}

/// Generates the cells of each case. A group names the module of its
/// cases, the front doors they run at (`[openai_front: OpenAi, …]`) and
/// the endpoint specs (`[openai_endpoint: OpenAiChat, …]`); `CASE: [stream, non_stream];` gives those fronts ×
/// specs × the listed modes, each a `#[tokio::test]` calling
/// `MODULE::CASE(cell)`. A new front door or spec is one more entry here.
macro_rules! matrix {
    ($($module:ident $fronts:tt $specs:tt { $($case:ident: $modes:tt;)+ })+) => {
        $($(
            matrix!(@case $module, $case, $fronts, $specs, $modes);
        )+)+
    };
    (@case $module:ident, $case:ident, [$($front_mod:ident: $front:ident),+], $specs:tt, $modes:tt) => {
        mod $case {
            $(
                matrix!(@front $module, $case, $front_mod, $front, $specs, $modes);
            )+
        }
    };
    (@front $module:ident, $case:ident, $front_mod:ident, $front:ident,
     [$($spec_mod:ident: $spec:ident),+], $modes:tt) => {
        mod $front_mod {
            $(
                matrix!(@spec $module, $case, $front, $spec_mod, $spec, $modes);
            )+
        }
    };
    (@spec $module:ident, $case:ident, $front:ident, $spec_mod:ident, $spec:ident,
     [$($mode:ident),+]) => {
        mod $spec_mod {
            $(
                #[tokio::test]
                async fn $mode() {
                    crate::matrix::cell(
                        crate::matrix::Front::$front,
                        crate::matrix::Spec::$spec,
                        matrix!(@stream $mode),
                        crate::matrix::$module::$case,
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
    cases [openai_front: OpenAi, anthropic_front: Anthropic, responses_front: Responses]
        [openai_endpoint: OpenAiChat, anthropic_endpoint: Anthropic,
         responses_endpoint: OpenAiResponses, azure_endpoint: Azure, google_endpoint: Google] {
        text: [stream, non_stream];
        tool_choice_auto: [stream, non_stream];
        tool_choice_required: [stream, non_stream];
        tool_choice_none: [stream, non_stream];
        tool_choice_named: [stream, non_stream];
        parallel_tool_calls: [stream, non_stream];
        args_split: [stream];
        text_and_tool_in_one_chunk: [stream];
        interleaved_tool_calls: [stream];
    }
    cases_reasoning [openai_front: OpenAi, anthropic_front: Anthropic, responses_front: Responses]
        [openai_endpoint: OpenAiChat, anthropic_endpoint: Anthropic,
         responses_endpoint: OpenAiResponses, azure_endpoint: Azure, google_endpoint: Google] {
        reasoning_with_signature: [stream, non_stream];
    }
    cases_failures [openai_front: OpenAi, anthropic_front: Anthropic, responses_front: Responses]
        [openai_endpoint: OpenAiChat, anthropic_endpoint: Anthropic,
         responses_endpoint: OpenAiResponses, azure_endpoint: Azure, google_endpoint: Google] {
        usage_with_cache: [stream, non_stream];
        upstream_error: [stream, non_stream];
        upstream_overloaded: [stream, non_stream];
        mid_stream_error: [stream];
        stream_cut_short: [stream];
    }
    cases_gemini [openai_front: OpenAi, anthropic_front: Anthropic, responses_front: Responses]
        [google_endpoint: Google] {
        gemini_parallel_calls: [stream, non_stream];
        gemini_thought_signature: [stream, non_stream];
        gemini_signed_call: [stream, non_stream];
        gemini_agent_schema: [stream, non_stream];
    }
    cases_gemini_stops [openai_front: OpenAi, anthropic_front: Anthropic, responses_front: Responses]
        [google_endpoint: Google] {
        gemini_prompt_blocked: [stream, non_stream];
        gemini_safety_stop: [stream, non_stream];
        gemini_recitation_stop: [stream, non_stream];
        gemini_malformed_call: [stream, non_stream];
        gemini_max_tokens: [stream, non_stream];
    }
    cases_codex [responses_front: Responses]
        [openai_endpoint: OpenAiChat, anthropic_endpoint: Anthropic,
         responses_endpoint: OpenAiResponses, azure_endpoint: Azure, google_endpoint: Google] {
        codex_namespace_tool: [stream, non_stream];
        codex_custom_tool: [stream, non_stream];
        codex_hosted_tools_dropped: [stream, non_stream];
        codex_hosted_tool_forced: [stream, non_stream];
        codex_reasoning_replay: [stream, non_stream];
        codex_agent_loop: [stream, non_stream];
        codex_stateless: [stream, non_stream];
    }
}
