//! `POST /v1/responses`: the fake's OpenAI Responses mode.
//!
//! * No `Authorization: Bearer …` → 401 with an OpenAI error.
//! * A model named `error-NNN` answers HTTP NNN with an OpenAI error
//!   (`fake error NNN`, code `fake_NNN`), as the chat mode does.
//! * With function `tools` (and `tool_choice` not `none`) and no
//!   `function_call_output` in `input` yet, it calls the first function
//!   tool with `{"city":"Paris"}` (call id `call_fake_1`).
//! * Otherwise it answers `echo: <text>`: the last `function_call_output`'s
//!   output when the input ends with one, else the last user message's text.
//! * With `reasoning` (effort other than `none`) a reasoning item comes
//!   first, summary `thinking about it`, carrying `encrypted_content`
//!   `enc-fake` when `include` asks for `reasoning.encrypted_content`.
//! * Usage always: 10 in / 5 out for text, 20 / 8 for a tool call, plus 3
//!   reasoning tokens with reasoning.
//! * The request's settings (`instructions`, `tools`, `previous_response_id`,
//!   `reasoning`, …) are echoed in the Response, as OpenAI does, so a test
//!   sees what reached the upstream.
//! * `stream: true`: the full typed event sequence (see
//!   `modelgate_testkit::responses::stream_events`), text word by word
//!   (or in `--chunks N` pieces), arguments in two pieces.
//!
//! Like the real API it refuses replays it cannot have produced (400):
//! a `function_call_output` whose `call_id` no `function_call` in `input`
//! has (without `previous_response_id`), a reasoning item whose
//! `encrypted_content` is not `enc-fake`, and — when reasoning is asked
//! for — one of its own function calls (`fc_fake…`) replayed without a
//! reasoning item before it. So a gateway that drops or mangles replayed
//! items fails loudly.

use std::sync::atomic::{AtomicU64, Ordering};

use axum::body::Bytes;
use axum::extract::State;
use axum::response::Response;
use http::HeaderMap;
use modelgate_testkit::responses;
use serde_json::{Value, json};

use super::{Options, json_response, split, sse_response};

const CALL_ID: &str = "call_fake_1";
const ENCRYPTED: &str = "enc-fake";
const SUMMARY: &str = "thinking about it";

/// Request settings a Response echoes back.
const ECHOED: &[&str] = &[
    "instructions",
    "max_output_tokens",
    "metadata",
    "parallel_tool_calls",
    "previous_response_id",
    "reasoning",
    "store",
    "temperature",
    "text",
    "tool_choice",
    "tools",
    "top_p",
    "truncation",
    "user",
];

/// Numbers the answers, so each Response has its own id.
static ANSWERED: AtomicU64 = AtomicU64::new(0);

pub async fn create(State(options): State<Options>, headers: HeaderMap, body: Bytes) -> Response {
    let has_key = headers
        .get(http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .is_some_and(|k| !k.trim().is_empty());
    if !has_key {
        return error(
            401,
            "You didn't provide an API key (Authorization: Bearer).",
            "invalid_request_error",
            None,
            Some("invalid_api_key"),
        );
    }
    let Ok(request) = serde_json::from_slice::<Value>(&body) else {
        return error(400, "body is not JSON", "invalid_request_error", None, None);
    };
    let model = request["model"].as_str().unwrap_or("fake-model").to_owned();
    if let Some(status) = model
        .strip_prefix("error-")
        .and_then(|s| s.parse::<u16>().ok())
    {
        let code = format!("fake_{status}");
        return error(
            status,
            &format!("fake error {status}"),
            "fake_error",
            None,
            Some(&code),
        );
    }
    let items = input_items(&request["input"]);
    if let Some(refused) = refuse_replay(&request, &items) {
        return refused;
    }
    let mut response = answer(&request, &items, &model);
    let n = ANSWERED.fetch_add(1, Ordering::Relaxed) + 1;
    response["id"] = json!(format!("resp_fake_{n}"));
    for key in ECHOED {
        if let Some(value) = request.get(*key).filter(|v| !v.is_null()) {
            response[*key] = value.clone();
        }
    }
    if !request["stream"].as_bool().unwrap_or(false) {
        return json_response(200, &response);
    }
    let events = responses::stream_events(&response, |text| {
        if serde_json::from_str::<serde_json::Map<String, Value>>(text).is_ok() {
            halves(text)
        } else {
            split(text, options.chunks)
        }
    });
    sse_response(events, options.delay)
}

/// The Response (id and echoed settings still to set).
fn answer(request: &Value, items: &[Value], model: &str) -> Value {
    let answered_tool = items.iter().any(|i| kind(i) == "function_call_output");
    let first_function = request["tools"]
        .as_array()
        .and_then(|tools| tools.iter().find(|t| t["type"] == "function"));
    let tool = first_function.filter(|_| request["tool_choice"] != "none" && !answered_tool);
    let reasoning = request["reasoning"].is_object() && request["reasoning"]["effort"] != "none";
    let encrypted = request["include"]
        .as_array()
        .is_some_and(|i| i.iter().any(|v| v == "reasoning.encrypted_content"));

    let mut output = Vec::new();
    if reasoning {
        output.push(responses::reasoning(
            "rs_fake_1",
            SUMMARY,
            encrypted.then_some(ENCRYPTED),
        ));
    }
    let (input_tokens, mut output_tokens) = match tool {
        Some(tool) => {
            let name = tool["name"].as_str().unwrap_or("tool");
            output.push(responses::function_call(
                "fc_fake_1",
                CALL_ID,
                name,
                "{\"city\":\"Paris\"}",
            ));
            (20, 8)
        }
        None => {
            output.push(responses::message(
                "msg_fake_1",
                &format!("echo: {}", echoed_text(items)),
            ));
            (10, 5)
        }
    };
    let reasoning_tokens = if reasoning { 3 } else { 0 };
    output_tokens += reasoning_tokens;
    let usage = responses::usage_with(input_tokens, 0, output_tokens, reasoning_tokens);
    responses::response(model, Value::Array(output), usage)
}

/// `input` as items: a string is one user message.
fn input_items(input: &Value) -> Vec<Value> {
    match input {
        Value::String(text) => vec![json!({"role": "user", "content": text})],
        Value::Array(items) => items.clone(),
        _ => Vec::new(),
    }
}

/// An item's type; an `EasyInputMessage` has none.
fn kind(item: &Value) -> &str {
    item["type"].as_str().unwrap_or("message")
}

/// The text echoed: a tool's output when the input ends with one, else
/// the last user message.
fn echoed_text(items: &[Value]) -> String {
    if let Some(last) = items.last().filter(|i| kind(i) == "function_call_output") {
        return text_of(&last["output"]);
    }
    items
        .iter()
        .rev()
        .find(|i| kind(i) == "message" && i["role"] == "user")
        .map(|i| text_of(&i["content"]))
        .unwrap_or_default()
}

/// A string, or the `text` of parts joined by spaces.
fn text_of(content: &Value) -> String {
    match content {
        Value::String(s) => s.clone(),
        Value::Array(parts) => parts
            .iter()
            .filter_map(|p| p["text"].as_str())
            .collect::<Vec<_>>()
            .join(" "),
        _ => String::new(),
    }
}

/// The 400 the real API gives a replay it cannot have produced, if any.
fn refuse_replay(request: &Value, items: &[Value]) -> Option<Response> {
    let chained = request["previous_response_id"].is_string();
    let mut reasoning_seen = false;
    for (index, item) in items.iter().enumerate() {
        let param = format!("input[{index}]");
        match kind(item) {
            "reasoning" => {
                reasoning_seen = true;
                let id = item["id"].as_str().unwrap_or_default();
                if item["encrypted_content"]
                    .as_str()
                    .is_some_and(|e| e != ENCRYPTED)
                {
                    let message =
                        format!("The encrypted content for item {id} could not be verified.");
                    return Some(error(
                        400,
                        &message,
                        "invalid_request_error",
                        Some(&param),
                        Some("invalid_encrypted_content"),
                    ));
                }
            }
            "function_call" => {
                let id = item["id"].as_str().unwrap_or_default();
                if id.starts_with("fc_fake") && request["reasoning"].is_object() && !reasoning_seen
                {
                    let message = format!(
                        "Item '{id}' of type 'function_call' was provided without its required 'reasoning' item: 'rs_fake_1'."
                    );
                    return Some(error(
                        400,
                        &message,
                        "invalid_request_error",
                        Some("input"),
                        None,
                    ));
                }
            }
            "function_call_output" => {
                let call_id = item["call_id"].as_str().unwrap_or_default();
                let called = items[..index]
                    .iter()
                    .any(|i| kind(i) == "function_call" && i["call_id"] == call_id);
                if !called && !chained {
                    let message = format!(
                        "No tool call found for function call output with call_id {call_id}."
                    );
                    return Some(error(
                        400,
                        &message,
                        "invalid_request_error",
                        Some("input"),
                        None,
                    ));
                }
            }
            _ => {}
        }
    }
    None
}

/// A JSON string in two pieces, cut after its first `:` (as a model
/// streams `{"city":` then `"Paris"}`).
fn halves(text: &str) -> Vec<String> {
    match text.find(':') {
        Some(at) => vec![text[..=at].to_owned(), text[at + 1..].to_owned()],
        None => vec![text.to_owned()],
    }
}

fn error(
    status: u16,
    message: &str,
    kind: &str,
    param: Option<&str>,
    code: Option<&str>,
) -> Response {
    json_response(
        status,
        &json!({"error": {"message": message, "type": kind, "param": param, "code": code}}),
    )
}
