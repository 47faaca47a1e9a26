//! `POST /v1beta/models/{model}:generateContent` and
//! `:streamGenerateContent?alt=sse`: the fake's Gemini API mode.
//!
//! * No `x-goog-api-key` → 401 `UNAUTHENTICATED` (Google's envelope).
//! * A model named `error-NNN` answers HTTP NNN with Google's envelope
//!   (`fake error NNN`).
//! * With `tools[].functionDeclarations` (and `toolConfig` mode not `NONE`)
//!   and no `functionResponse` in the last turn, it calls the first
//!   function with `{"city":"Paris"}`.
//! * Otherwise it answers `echo: <text>`: the last turn's texts, or its
//!   function response as JSON.
//! * Streamed word by word (or in `--chunks N` pieces), usage on the last chunk.
//! * `GET /v1beta/models` lists `fake-model` and `fake-tools`.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::response::Response;
use http::HeaderMap;
use modelgate_testkit::gemini;
use serde_json::{Value, json};

use super::{Options, json_response, split, sse_response};

pub async fn models(headers: HeaderMap) -> Response {
    if !headers.contains_key("x-goog-api-key") {
        return json_response(401, &gemini::error(401, "API key missing"));
    }
    json_response(200, &gemini::model_list(&["fake-model", "fake-tools"]))
}

pub async fn generate(
    State(options): State<Options>,
    Path(tail): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if !headers.contains_key("x-goog-api-key") {
        return json_response(401, &gemini::error(401, "API key missing"));
    }
    let Some((model, method)) = tail.rsplit_once(':') else {
        return json_response(404, &gemini::error(404, "no method in the path"));
    };
    let stream = match method {
        "generateContent" => false,
        "streamGenerateContent" => true,
        "countTokens" => {
            return json_response(200, &json!({"totalTokens": 7}));
        }
        _ => return json_response(404, &gemini::error(404, "unknown method")),
    };
    if let Some(status) = model
        .strip_prefix("error-")
        .and_then(|s| s.parse::<u16>().ok())
    {
        return json_response(
            status,
            &gemini::error(status, &format!("fake error {status}")),
        );
    }
    let Ok(request) = serde_json::from_slice::<Value>(&body) else {
        return json_response(400, &gemini::error(400, "body is not JSON"));
    };
    let last_parts = request["contents"]
        .as_array()
        .and_then(|c| c.last())
        .and_then(|turn| turn["parts"].as_array())
        .cloned()
        .unwrap_or_default();
    let answered = last_parts
        .iter()
        .find(|p| p.get("functionResponse").is_some());
    let first_function = request["tools"]
        .as_array()
        .and_then(|tools| {
            tools
                .iter()
                .find_map(|t| t["functionDeclarations"].as_array()?.first()?["name"].as_str())
        })
        .map(str::to_owned);
    let mode = request["toolConfig"]["functionCallingConfig"]["mode"].as_str();
    if let (Some(name), None, false) = (first_function, answered, mode == Some("NONE")) {
        let body = gemini::function_call_response(model, &name, json!({"city": "Paris"}));
        if stream {
            return sse_response(vec![format!("data: {body}\r\n\r\n")], options.delay);
        }
        return json_response(200, &body);
    }
    let said = match answered {
        Some(part) => part["functionResponse"]["response"].to_string(),
        None => last_parts
            .iter()
            .filter_map(|p| p["text"].as_str())
            .collect::<Vec<_>>()
            .join(" "),
    };
    let text = format!("echo: {said}");
    if !stream {
        return json_response(200, &gemini::text_response(model, &text));
    }
    let pieces = split(&text, options.chunks);
    let refs: Vec<&str> = pieces.iter().map(String::as_str).collect();
    let events = gemini::text_stream(model, &refs)
        .split_inclusive("\r\n\r\n")
        .map(str::to_owned)
        .collect();
    sse_response(events, options.delay)
}
