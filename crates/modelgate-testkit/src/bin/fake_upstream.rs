//! A standalone fake OpenAI-compatible upstream for SDK conformance tests
//! and benchmarks. Behaviour depends on the request:
//!
//! * `GET …/models` lists `fake-model` and `fake-tools`;
//! * a model named `error-NNN` answers HTTP NNN with an OpenAI error;
//! * with `tools` (and `tool_choice` not `none`) and no tool result yet, it
//!   calls the first tool with `{"city":"Paris"}`;
//! * otherwise it answers `echo: <last message text>`, streamed word by
//!   word (or in `--chunks N` pieces) when asked to stream, with a usage
//!   chunk when `stream_options.include_usage` is set.
//!
//! `POST /v1/messages` does the same in Anthropic's format (errors as
//! Anthropic envelopes, tool calls as `tool_use` with `{"city":"Paris"}`,
//! and, when `thinking` is enabled, a thinking block signed `sig-fake`
//! before the answer). `GET /v1/models` answers in Anthropic's shape when
//! the request has `anthropic-version`. Like Anthropic it refuses a
//! thinking block not signed `sig-fake`, and a tool loop's last assistant
//! turn without its thinking when `thinking` is enabled (`thinking.rs`).
//!
//! `POST /v1/responses` does the same in OpenAI Responses' format (see
//! `responses.rs`: a reasoning item when `reasoning` is asked for, the
//! request's settings echoed; `--canned` does not apply to it).
//!
//! `POST /v1beta/models/{model}:generateContent` (and
//! `:streamGenerateContent`) does the same in the Gemini API's format (see
//! `gemini.rs`: `x-goog-api-key` required, `functionCall` of the first
//! function with `{"city":"Paris"}`, errors in Google's envelope).
//!
//! `--azure` serves a fake Azure OpenAI resource instead, below `/openai/`
//! (see `modelgate_testkit::azure`: key `fake-azure-key`, Entra token
//! `fake-entra-token`, deployments `fake-deployment` and `fake-mini`).
//!
//! Flags: `--listen ADDR` (default 127.0.0.1:0), `--threads N` (default: one
//! per CPU), `--chunks N`, `--delay-ms MS`
//! (between stream chunks), `--canned` (benchmarks: the same pre-serialized
//! answer to every request, `N` chunks when streamed, no request parsing). Prints `fake-upstream listening on http://ADDR`.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::response::Response;
use axum::routing::{get, post};
use modelgate_testkit::{anthropic, openai};
use serde_json::{Value, json};

// The bin is one file at its root; its modes live beside it in a folder.
#[path = "fake_upstream/gemini.rs"]
mod gemini;
#[path = "fake_upstream/responses.rs"]
mod responses;
#[path = "fake_upstream/thinking.rs"]
mod thinking;

#[derive(Clone)]
struct Options {
    chunks: Option<usize>,
    delay: Duration,
    /// `--canned`: fixed answers, built once, no request parsing — for
    /// benchmarks, where the fake must cost as little as possible.
    canned: Option<Arc<Canned>>,
}

/// Pre-serialized answers of `--canned` mode.
struct Canned {
    openai_json: Bytes,
    openai_sse: Vec<Bytes>,
    anthropic_json: Bytes,
    anthropic_sse: Vec<Bytes>,
}

impl Canned {
    fn new(chunks: usize) -> Self {
        let model = "fake-model";
        let pieces: Vec<String> = (0..chunks).map(|i| format!("token{i} ")).collect();
        let refs: Vec<&str> = pieces.iter().map(String::as_str).collect();
        let text = pieces.concat();
        let split = |stream: String| -> Vec<Bytes> {
            stream
                .split_inclusive("\n\n")
                .map(|e| Bytes::from(e.to_owned()))
                .collect()
        };
        Self {
            openai_json: Bytes::from(openai::completion(model, &text).to_string()),
            openai_sse: split(openai::text_stream(model, &refs, true)),
            anthropic_json: Bytes::from(anthropic::text_message(model, &text).to_string()),
            anthropic_sse: split(anthropic::text_stream(model, &refs)),
        }
    }
}

/// Whether a request body asks for a stream, without parsing it.
fn wants_stream(body: &[u8]) -> bool {
    body.windows(13)
        .any(|w| w == b"\"stream\":true" || w == b"\"stream\": tru")
}

fn canned_response(json: &Bytes, sse: &[Bytes], body: &[u8], delay: Duration) -> Response {
    if wants_stream(body) {
        return sse_bytes_response(sse.to_vec(), delay);
    }
    let mut response = Response::new(Body::from(json.clone()));
    response.headers_mut().insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static("application/json"),
    );
    response
}

fn main() {
    let mut listen = "127.0.0.1:0".to_owned();
    let mut options = Options {
        chunks: None,
        delay: Duration::ZERO,
        canned: None,
    };
    let mut canned = false;
    let mut azure = false;
    let mut threads: Option<usize> = None;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = || {
            args.next()
                .unwrap_or_else(|| usage(&format!("{arg} needs a value")))
        };
        match arg.as_str() {
            "--listen" => listen = value(),
            "--canned" => canned = true,
            "--azure" => azure = true,
            "--threads" => {
                threads = Some(
                    value()
                        .parse()
                        .ok()
                        .filter(|n| *n > 0)
                        .unwrap_or_else(|| usage("--threads takes a number above 0")),
                )
            }
            "--chunks" => {
                options.chunks = Some(
                    value()
                        .parse()
                        .unwrap_or_else(|_| usage("--chunks takes a number")),
                )
            }
            "--delay-ms" => {
                options.delay = Duration::from_millis(
                    value()
                        .parse()
                        .unwrap_or_else(|_| usage("--delay-ms takes a number")),
                );
            }
            _ => usage(&format!("unknown argument {arg}")),
        }
    }
    if canned {
        options.canned = Some(Arc::new(Canned::new(options.chunks.unwrap_or(20))));
    }
    // One thread answers without cross-thread wake-ups; more use a
    // work-stealing runtime.
    let runtime = match threads {
        Some(1) => tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build(),
        Some(n) => tokio::runtime::Builder::new_multi_thread()
            .worker_threads(n)
            .enable_all()
            .build(),
        None => tokio::runtime::Runtime::new(),
    }
    .expect("tokio runtime");
    runtime.block_on(async move {
        let app = Router::new()
            .route("/v1/models", get(models))
            .route("/v1/messages", post(messages))
            .route("/models", get(models))
            .route("/v1/chat/completions", post(chat))
            .route("/chat/completions", post(chat))
            .route("/v1/responses", post(responses::create))
            .route("/responses", post(responses::create))
            .route("/v1beta/models", get(gemini::models))
            .route("/v1beta/models/{*rest}", post(gemini::generate))
            .with_state(options);
        let app = if azure {
            modelgate_testkit::azure::router(modelgate_testkit::azure::Resource::default())
        } else {
            app
        };
        let listener = tokio::net::TcpListener::bind(&listen)
            .await
            .unwrap_or_else(|e| usage(&format!("cannot listen on {listen}: {e}")));
        let addr = listener.local_addr().expect("local addr");
        println!("fake-upstream listening on http://{addr}");
        let listener = axum::serve::ListenerExt::tap_io(listener, |tcp| {
            let _ = tcp.set_nodelay(true);
        });
        axum::serve(listener, app).await.expect("serve");
    });
}

fn usage(problem: &str) -> ! {
    eprintln!(
        "fake-upstream: {problem}\nusage: fake-upstream [--listen ADDR] [--chunks N] [--delay-ms MS] [--canned] [--threads N] [--azure]"
    );
    std::process::exit(2)
}

async fn models(headers: http::HeaderMap) -> Response {
    if headers.contains_key("anthropic-version") {
        return json_response(200, &anthropic::model_list(&["fake-model", "fake-tools"]));
    }
    json_response(200, &openai::model_list(&["fake-model", "fake-tools"]))
}

async fn messages(State(options): State<Options>, body: Bytes) -> Response {
    if let Some(c) = &options.canned {
        return canned_response(&c.anthropic_json, &c.anthropic_sse, &body, options.delay);
    }
    let Ok(request) = serde_json::from_slice::<Value>(&body) else {
        return json_response(
            400,
            &json!({"type": "error", "error": {"type": "invalid_request_error", "message": "body is not JSON"}}),
        );
    };
    let model = request["model"].as_str().unwrap_or("fake-model").to_owned();
    if let Some(status) = model
        .strip_prefix("error-")
        .and_then(|s| s.parse::<u16>().ok())
    {
        let kind = match status {
            401 => "authentication_error",
            403 => "permission_error",
            404 => "not_found_error",
            429 => "rate_limit_error",
            529 => "overloaded_error",
            500..=599 => "api_error",
            _ => "invalid_request_error",
        };
        return json_response(
            status,
            &json!({"type": "error", "error": {"type": kind, "message": format!("fake error {status}")}}),
        );
    }
    if let Some(message) = thinking::refusal(&request) {
        return json_response(
            400,
            &json!({"type": "error", "error": {"type": "invalid_request_error", "message": message}}),
        );
    }
    let messages = request["messages"].as_array().cloned().unwrap_or_default();
    let last = messages.last().cloned().unwrap_or(Value::Null);
    let last_blocks = last["content"].as_array().cloned().unwrap_or_default();
    let answered_tool = last_blocks.iter().any(|b| b["type"] == "tool_result");
    let wants_tool = request["tools"].as_array().is_some_and(|t| !t.is_empty())
        && request["tool_choice"]["type"] != json!("none")
        && !answered_tool;
    let thinking = request["thinking"]["type"] == json!("enabled");
    let stream = request["stream"].as_bool().unwrap_or(false);
    let mut blocks = Vec::new();
    if thinking {
        blocks.push(
            json!({"type": "thinking", "thinking": "Let me think.", "signature": "sig-fake"}),
        );
    }
    let stop = if wants_tool {
        let name = request["tools"][0]["name"].as_str().unwrap_or("tool");
        blocks.push(json!({"type": "tool_use", "id": "toolu_fake_1", "name": name, "input": {"city": "Paris"}}));
        "tool_use"
    } else {
        let text = if answered_tool {
            let result = last_blocks
                .iter()
                .find(|b| b["type"] == "tool_result")
                .cloned()
                .unwrap_or_default();
            format!("echo: {}", anthropic_text(&result["content"]))
        } else {
            format!("echo: {}", anthropic_text(&last["content"]))
        };
        blocks.push(json!({"type": "text", "text": text}));
        "end_turn"
    };
    if !stream {
        return json_response(
            200,
            &anthropic::message(&model, Value::Array(blocks), stop, anthropic::usage(10, 5)),
        );
    }
    let mut events = vec![anthropic::message_start(&model, 10)];
    for (index, block) in blocks.iter().enumerate() {
        match block["type"].as_str() {
            Some("thinking") => {
                events.push(anthropic::event(json!({"type": "content_block_start", "index": index, "content_block": {"type": "thinking", "thinking": "", "signature": ""}})));
                events.push(anthropic::event(json!({"type": "content_block_delta", "index": index, "delta": {"type": "thinking_delta", "thinking": "Let me think."}})));
                events.push(anthropic::event(json!({"type": "content_block_delta", "index": index, "delta": {"type": "signature_delta", "signature": "sig-fake"}})));
            }
            Some("tool_use") => {
                events.push(anthropic::tool_block_start(
                    index,
                    "toolu_fake_1",
                    block["name"].as_str().unwrap_or("tool"),
                ));
                events.push(anthropic::json_delta(index, "{\"city\":"));
                events.push(anthropic::json_delta(index, "\"Paris\"}"));
            }
            _ => {
                events.push(anthropic::text_block_start(index));
                let text = block["text"].as_str().unwrap_or_default();
                for piece in split(text, options.chunks) {
                    events.push(anthropic::text_delta(index, &piece));
                }
            }
        }
        events.push(anthropic::block_stop(index));
    }
    events.push(anthropic::message_delta(stop, 5));
    events.push(anthropic::message_stop());
    sse_response(events, options.delay)
}

fn anthropic_text(content: &Value) -> String {
    match content {
        Value::String(s) => s.clone(),
        Value::Array(blocks) => blocks
            .iter()
            .filter_map(|b| b["text"].as_str())
            .collect::<Vec<_>>()
            .join(" "),
        _ => String::new(),
    }
}

fn json_response(status: u16, body: &Value) -> Response {
    let mut response = Response::new(Body::from(body.to_string()));
    *response.status_mut() = http::StatusCode::from_u16(status).unwrap_or(http::StatusCode::OK);
    response.headers_mut().insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static("application/json"),
    );
    response
}

async fn chat(State(options): State<Options>, body: Bytes) -> Response {
    if let Some(c) = &options.canned {
        return canned_response(&c.openai_json, &c.openai_sse, &body, options.delay);
    }
    let Ok(request) = serde_json::from_slice::<Value>(&body) else {
        return json_response(
            400,
            &json!({"error": {"message": "body is not JSON", "type": "invalid_request_error", "param": null, "code": null}}),
        );
    };
    let model = request["model"].as_str().unwrap_or("fake-model").to_owned();
    if let Some(status) = model
        .strip_prefix("error-")
        .and_then(|s| s.parse::<u16>().ok())
    {
        let body = json!({"error": {"message": format!("fake error {status}"), "type": "fake_error", "param": null, "code": format!("fake_{status}")}});
        return json_response(status, &body);
    }
    let messages = request["messages"].as_array().cloned().unwrap_or_default();
    let last = messages.last().cloned().unwrap_or(Value::Null);
    let wants_tool = request["tools"].as_array().is_some_and(|t| !t.is_empty())
        && request["tool_choice"] != json!("none")
        && last["role"] != json!("tool");
    let stream = request["stream"].as_bool().unwrap_or(false);
    let include_usage = request["stream_options"]["include_usage"]
        .as_bool()
        .unwrap_or(false);
    if wants_tool {
        let name = request["tools"][0]["function"]["name"]
            .as_str()
            .unwrap_or("tool")
            .to_owned();
        if !stream {
            return json_response(
                200,
                &openai::tool_call_completion(&model, "call_fake_1", &name, "{\"city\":\"Paris\"}"),
            );
        }
        let mut events = vec![
            openai::chunk(
                &model,
                json!({"role": "assistant", "content": null, "tool_calls": [{"index": 0, "id": "call_fake_1", "type": "function", "function": {"name": name, "arguments": ""}}]}),
                None,
            ),
            openai::chunk(
                &model,
                json!({"tool_calls": [{"index": 0, "function": {"arguments": "{\"city\":"}}]}),
                None,
            ),
            openai::chunk(
                &model,
                json!({"tool_calls": [{"index": 0, "function": {"arguments": "\"Paris\"}"}}]}),
                None,
            ),
            openai::chunk(&model, json!({}), Some("tool_calls")),
        ];
        if include_usage {
            events.push(openai::usage_chunk(&model, 20, 8));
        }
        events.push(openai::DONE.to_owned());
        return sse_response(events, options.delay);
    }
    let text = format!("echo: {}", message_text(&last));
    if !stream {
        return json_response(200, &openai::completion(&model, &text));
    }
    let pieces = split(&text, options.chunks);
    let mut events = vec![openai::chunk(
        &model,
        json!({"role": "assistant", "content": ""}),
        None,
    )];
    events.extend(
        pieces
            .iter()
            .map(|p| openai::chunk(&model, json!({"content": p}), None)),
    );
    events.push(openai::chunk(&model, json!({}), Some("stop")));
    if include_usage {
        events.push(openai::usage_chunk(&model, 10, pieces.len() as u64));
    }
    events.push(openai::DONE.to_owned());
    sse_response(events, options.delay)
}

fn message_text(message: &Value) -> String {
    match &message["content"] {
        Value::String(s) => s.clone(),
        Value::Array(parts) => parts
            .iter()
            .filter_map(|p| p["text"].as_str())
            .collect::<Vec<_>>()
            .join(" "),
        _ => String::new(),
    }
}

/// Word by word, or exactly `n` pieces (the text repeated as needed).
fn split(text: &str, n: Option<usize>) -> Vec<String> {
    match n {
        None => text.split_inclusive(' ').map(str::to_owned).collect(),
        Some(n) => {
            let head: String = text.chars().take(8).collect();
            (0..n.max(1)).map(|i| format!("{head}{i} ")).collect()
        }
    }
}

fn sse_response(events: Vec<String>, delay: Duration) -> Response {
    sse_bytes_response(events.into_iter().map(Bytes::from).collect(), delay)
}

fn sse_bytes_response(events: Vec<Bytes>, delay: Duration) -> Response {
    let stream = futures_util::stream::unfold(
        (events.into_iter(), true),
        move |(mut it, first)| async move {
            let event = it.next()?;
            if !first && !delay.is_zero() {
                tokio::time::sleep(delay).await;
            }
            Some((Ok::<_, Infallible>(event), (it, false)))
        },
    );
    let mut response = Response::new(Body::from_stream(stream));
    response.headers_mut().insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static("text/event-stream"),
    );
    response
}
