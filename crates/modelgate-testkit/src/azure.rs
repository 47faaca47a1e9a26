//! A fake Azure OpenAI resource: [`answer`] is a [`FakeUpstream`] script
//! ([`start`] runs one on 127.0.0.1:0, counting hits), [`router`] serves
//! the same answers for the `fake-upstream --azure` binary.
//!
//! What it checks, in Azure's order and shapes:
//! 1. the credentials: an `api-key` header among [`Resource::keys`], or
//!    `Authorization: Bearer` with one of [`Resource::tokens`] (Entra ID);
//!    on the v1 API a key as a bearer token too (the stock OpenAI client
//!    sends it so). Else 401 with Azure's message;
//! 2. the `api-version` query: required on the classic API and one of
//!    [`API_VERSIONS`]; absent or `preview` on the v1 API. A missing one is
//!    a 404 `Resource not found`, an unknown one a 400 `API version not
//!    supported`;
//! 3. the route (`/openai/deployments/{d}/chat/completions`,
//!    `/openai/deployments`, `/openai/models`, `/openai/v1/chat/completions`,
//!    `/openai/v1/responses`, `/openai/v1/models`), else 404;
//! 4. the deployment (path segment, or the body's `model` on v1) among
//!    [`Resource::deployments`], else 404 `DeploymentNotFound`.
//!
//! Chat answers are `echo: <last message text>` (a tool call of the first
//! tool, arguments `{"city":"Paris"}`, when tools are offered and no tool
//! result came yet), with Azure's extras: `prompt_filter_results`,
//! per-choice `content_filter_results`, the underlying model version as
//! `model`, and when streamed a leading chunk with empty `choices`. A
//! prompt containing [`PROMPT_TRIGGER`] is refused (400 `content_filter`,
//! `innererror.content_filter_result` marking `hate` high); one containing
//! [`ANSWER_TRIGGER`] is answered with `finish_reason: "content_filter"`,
//! no content, and `violence` marked high.

use axum::extract::Request;
use serde_json::{Value, json};

use crate::{FakeUpstream, Recorded, Reply};

/// A prompt with this text is refused by the prompt filter.
pub const PROMPT_TRIGGER: &str = "trigger-prompt-filter";
/// A prompt with this text gets its answer withheld by the completion filter.
pub const ANSWER_TRIGGER: &str = "trigger-answer-filter";
/// The dated api-versions the classic API accepts.
pub const API_VERSIONS: &[&str] = &[
    "2022-12-01",
    "2023-05-15",
    "2024-02-01",
    "2024-06-01",
    "2024-10-21",
    "2025-04-01-preview",
];
/// The api-versions that still serve the data-plane deployments list.
const LISTING_VERSIONS: &[&str] = &["2022-12-01", "2023-05-15"];

/// One deployment: its name and the model version it serves.
#[derive(Debug, Clone)]
pub struct Deployment {
    pub name: String,
    pub model: String,
}

impl Deployment {
    pub fn new(name: &str, model: &str) -> Self {
        Self {
            name: name.to_owned(),
            model: model.to_owned(),
        }
    }
}

/// The fake resource's settings.
#[derive(Debug, Clone)]
pub struct Resource {
    /// Accepted resource keys.
    pub keys: Vec<String>,
    /// Accepted Entra ID access tokens.
    pub tokens: Vec<String>,
    pub deployments: Vec<Deployment>,
    /// Whether `GET /openai/deployments` is served (older resources).
    pub list_deployments: bool,
}

impl Default for Resource {
    /// Key `fake-azure-key`, token `fake-entra-token`, deployments
    /// `fake-deployment` (gpt-4o) and `fake-mini` (gpt-4o-mini), listed.
    fn default() -> Self {
        Self {
            keys: vec!["fake-azure-key".to_owned()],
            tokens: vec!["fake-entra-token".to_owned()],
            deployments: vec![
                Deployment::new("fake-deployment", "gpt-4o-2024-08-06"),
                Deployment::new("fake-mini", "gpt-4o-mini-2024-07-18"),
            ],
            list_deployments: true,
        }
    }
}

/// Starts a fake resource on 127.0.0.1:0.
pub async fn start(resource: Resource) -> FakeUpstream {
    FakeUpstream::start(move |req| answer(&resource, req)).await
}

/// An axum router answering every request as [`answer`] does (no hit count).
pub fn router(resource: Resource) -> axum::Router {
    let resource = std::sync::Arc::new(resource);
    axum::Router::new().fallback(move |request: Request| {
        let resource = resource.clone();
        async move {
            let recorded = crate::server::record(request).await;
            crate::server::respond(answer(&resource, &recorded)).await
        }
    })
}

/// Azure's error envelope, `{"error": {"code", "message"}}`.
pub fn error(status: u16, code: &str, message: &str) -> Reply {
    Reply::json(
        status,
        &json!({"error": {"code": code, "message": message}}),
    )
    .with_header("apim-request-id", "fake-apim-request")
}

fn not_found() -> Reply {
    error(404, "404", "Resource not found")
}

/// The answer to one request (see the module docs).
pub fn answer(resource: &Resource, req: &Recorded) -> Reply {
    let (path, query) = req.path.split_once('?').unwrap_or((req.path.as_str(), ""));
    let version = query
        .split('&')
        .find_map(|pair| pair.strip_prefix("api-version="));
    let v1 = path.starts_with("/openai/v1/");
    if let Some(refused) = check_credentials(resource, req, v1) {
        return refused;
    }
    match (v1, version) {
        (true, None | Some("preview")) => {}
        (false, None) => return not_found(),
        (false, Some(v)) if API_VERSIONS.contains(&v) => {}
        _ => return error(400, "BadRequest", "API version not supported"),
    }
    let method = req.method.as_str();
    let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    match (method, segments.as_slice()) {
        ("POST", ["openai", "deployments", name, "chat", "completions"]) => {
            chat(resource, &percent_decode(name), req)
        }
        ("GET", ["openai", "deployments"]) => match version {
            Some(v) if resource.list_deployments && LISTING_VERSIONS.contains(&v) => {
                Reply::json(200, &deployment_list(resource))
            }
            _ => not_found(),
        },
        ("GET", ["openai", "models"] | ["openai", "v1", "models"]) => {
            Reply::json(200, &model_list(resource))
        }
        ("POST", ["openai", "v1", "chat", "completions"]) => {
            match req.json().get("model").and_then(Value::as_str) {
                Some(model) => chat(resource, model, req),
                None => error(400, "BadRequest", "Missing required parameter: 'model'."),
            }
        }
        ("POST", ["openai", "v1", "responses"]) => {
            match req.json().get("model").and_then(Value::as_str) {
                Some(model) => responses(resource, model, req),
                None => error(400, "BadRequest", "Missing required parameter: 'model'."),
            }
        }
        _ => not_found(),
    }
}

fn check_credentials(resource: &Resource, req: &Recorded, v1: bool) -> Option<Reply> {
    if let Some(key) = req.header("api-key") {
        return (!resource.keys.iter().any(|k| k == key)).then(bad_key);
    }
    if let Some(token) = req.bearer() {
        let known = resource.tokens.iter().any(|t| t == token)
            || (v1 && resource.keys.iter().any(|k| k == token));
        return (!known).then(|| {
            error(
                401,
                "PermissionDenied",
                "Unauthorized. Access token is missing, invalid, audience is incorrect (https://cognitiveservices.azure.com), or have expired.",
            )
        });
    }
    Some(bad_key())
}

fn bad_key() -> Reply {
    error(
        401,
        "401",
        "Access denied due to invalid subscription key or wrong API endpoint. Make sure to provide a valid key for an active subscription and use a correct regional API endpoint for your resource.",
    )
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: Option<&u8>| b.and_then(|b| char::from(*b).to_digit(16));
        match (bytes[i], hex(bytes.get(i + 1)), hex(bytes.get(i + 2))) {
            (b'%', Some(h), Some(l)) => {
                out.push(u8::try_from(h * 16 + l).unwrap_or(b'?'));
                i += 3;
            }
            (b, _, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn deployment_list(resource: &Resource) -> Value {
    let data: Vec<Value> = resource
        .deployments
        .iter()
        .map(|d| {
            json!({"id": d.name, "model": d.model, "owner": "organization-owner",
                   "object": "deployment", "status": "succeeded",
                   "created_at": 1_700_000_000, "updated_at": 1_700_000_000,
                   "scale_settings": {"scale_type": "standard"}})
        })
        .collect();
    json!({"object": "list", "data": data})
}

/// The resource's base models (not its deployments).
fn model_list(resource: &Resource) -> Value {
    let data: Vec<Value> = resource
        .deployments
        .iter()
        .map(|d| {
            json!({"id": d.model, "object": "model", "created_at": 1_700_000_000,
                   "status": "succeeded", "lifecycle_status": "generally-available",
                   "capabilities": {"chat_completion": true, "completion": false,
                                    "embeddings": false, "fine_tune": false, "inference": true}})
        })
        .collect();
    json!({"object": "list", "data": data})
}

/// `content_filter_results` of nothing filtered.
pub fn filter_ok() -> Value {
    json!({
        "hate": {"filtered": false, "severity": "safe"},
        "self_harm": {"filtered": false, "severity": "safe"},
        "sexual": {"filtered": false, "severity": "safe"},
        "violence": {"filtered": false, "severity": "safe"},
    })
}

fn prompt_filter_results() -> Value {
    let mut results = filter_ok();
    results["jailbreak"] = json!({"filtered": false, "detected": false});
    json!([{"prompt_index": 0, "content_filter_results": results}])
}

fn withheld_results() -> Value {
    let mut results = filter_ok();
    results["violence"] = json!({"filtered": true, "severity": "high"});
    results
}

/// The 400 of a prompt the filter refused.
pub fn prompt_filtered() -> Reply {
    let mut result = filter_ok();
    result["hate"] = json!({"filtered": true, "severity": "high"});
    result["jailbreak"] = json!({"filtered": false, "detected": false});
    Reply::json(
        400,
        &json!({"error": {
            "message": "The response was filtered due to the prompt triggering Azure OpenAI's content management policy. Please modify your prompt and retry. To learn more about our content filtering policies please read our documentation: https://go.microsoft.com/fwlink/?linkid=2198766",
            "type": null, "param": "prompt", "code": "content_filter", "status": 400,
            "innererror": {"code": "ResponsibleAIPolicyViolation", "content_filter_result": result},
        }}),
    )
}

fn message_text(content: &Value) -> String {
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

/// What the model is asked to do with a chat request.
enum Outcome {
    Text(String),
    Tool(String),
    Withheld,
}

fn chat(resource: &Resource, deployment: &str, req: &Recorded) -> Reply {
    let Some(found) = resource.deployments.iter().find(|d| d.name == deployment) else {
        return error(
            404,
            "DeploymentNotFound",
            "The API deployment for this resource does not exist. If you created the deployment within the last 5 minutes, please wait a moment and try again.",
        );
    };
    let request = req.json();
    let Some(messages) = request.get("messages").and_then(Value::as_array) else {
        return Reply::json(
            400,
            &json!({"error": {"message": "'messages' is a required property", "type": "invalid_request_error", "param": null, "code": null}}),
        );
    };
    let prompt: String = messages
        .iter()
        .map(|m| message_text(&m["content"]))
        .collect::<Vec<_>>()
        .join("\n");
    if prompt.contains(PROMPT_TRIGGER) {
        return prompt_filtered();
    }
    let last = messages.last().cloned().unwrap_or(Value::Null);
    let wants_tool = request["tools"].as_array().is_some_and(|t| !t.is_empty())
        && request["tool_choice"] != json!("none")
        && last["role"] != json!("tool");
    let outcome = if prompt.contains(ANSWER_TRIGGER) {
        Outcome::Withheld
    } else if wants_tool {
        let name = request["tools"][0]["function"]["name"]
            .as_str()
            .unwrap_or("tool");
        Outcome::Tool(name.to_owned())
    } else {
        Outcome::Text(format!("echo: {}", message_text(&last["content"])))
    };
    if request["stream"].as_bool().unwrap_or(false) {
        let include_usage = request["stream_options"]["include_usage"]
            .as_bool()
            .unwrap_or(false);
        return Reply::sse(stream(&found.model, &outcome, include_usage));
    }
    Reply::json(200, &completion(&found.model, &outcome))
}

fn usage() -> Value {
    json!({"prompt_tokens": 12, "completion_tokens": 5, "total_tokens": 17,
           "prompt_tokens_details": {"cached_tokens": 0},
           "completion_tokens_details": {"reasoning_tokens": 0}})
}

fn tool_call(name: &str) -> Value {
    json!({"id": "call_az_1", "type": "function",
           "function": {"name": name, "arguments": "{\"city\":\"Paris\"}"}})
}

/// A non-streamed completion in Azure's shape.
fn completion(model: &str, outcome: &Outcome) -> Value {
    let (message, finish, results) = match outcome {
        Outcome::Text(text) => (
            json!({"role": "assistant", "content": text, "refusal": null, "annotations": []}),
            "stop",
            filter_ok(),
        ),
        Outcome::Tool(name) => (
            json!({"role": "assistant", "content": null, "refusal": null, "tool_calls": [tool_call(name)]}),
            "tool_calls",
            json!({}),
        ),
        Outcome::Withheld => (
            json!({"role": "assistant", "content": null, "refusal": null}),
            "content_filter",
            withheld_results(),
        ),
    };
    json!({
        "id": "chatcmpl-az-fake", "object": "chat.completion", "created": 1_700_000_000,
        "model": model, "system_fingerprint": "fp_az",
        "prompt_filter_results": prompt_filter_results(),
        "choices": [{"index": 0, "finish_reason": finish, "logprobs": null,
                     "message": message, "content_filter_results": results}],
        "usage": usage(),
    })
}

fn data(value: &Value) -> String {
    format!("data: {value}\n\n")
}

fn chunk(model: &str, delta: Value, finish: Option<&str>, results: Value) -> String {
    data(&json!({
        "id": "chatcmpl-az-fake", "object": "chat.completion.chunk", "created": 1_700_000_000,
        "model": model, "system_fingerprint": "fp_az",
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish, "logprobs": null,
                     "content_filter_results": results}],
    }))
}

/// A streamed completion in Azure's shape.
fn stream(model: &str, outcome: &Outcome, include_usage: bool) -> String {
    // First the prompt's filter results, with no choices and no id.
    let mut out = data(&json!({
        "choices": [], "created": 0, "id": "", "model": "", "object": "",
        "prompt_filter_results": prompt_filter_results(),
    }));
    out.push_str(&chunk(
        model,
        json!({"role": "assistant", "content": "", "refusal": null}),
        None,
        json!({}),
    ));
    let finish = match outcome {
        Outcome::Text(text) => {
            for piece in text.split_inclusive(' ') {
                out.push_str(&chunk(model, json!({"content": piece}), None, filter_ok()));
            }
            ("stop", json!({}))
        }
        Outcome::Tool(name) => {
            let mut call = tool_call(name);
            call["index"] = json!(0);
            call["function"]["arguments"] = json!("");
            out.push_str(&chunk(
                model,
                json!({"tool_calls": [call]}),
                None,
                json!({}),
            ));
            for piece in ["{\"city\":", "\"Paris\"}"] {
                let delta = json!({"tool_calls": [{"index": 0, "function": {"arguments": piece}}]});
                out.push_str(&chunk(model, delta, None, json!({})));
            }
            ("tool_calls", json!({}))
        }
        Outcome::Withheld => ("content_filter", withheld_results()),
    };
    out.push_str(&chunk(model, json!({}), Some(finish.0), finish.1));
    if include_usage {
        out.push_str(&data(&json!({
            "id": "chatcmpl-az-fake", "object": "chat.completion.chunk", "created": 1_700_000_000,
            "model": model, "choices": [], "usage": usage(),
        })));
    }
    out.push_str("data: [DONE]\n\n");
    out
}

/// `POST /openai/v1/responses`: a text answer (`echo: <last input text>`),
/// streamed as the Responses API streams when asked.
fn responses(resource: &Resource, deployment: &str, req: &Recorded) -> Reply {
    let Some(found) = resource.deployments.iter().find(|d| d.name == deployment) else {
        return error(
            404,
            "DeploymentNotFound",
            "The API deployment for this resource does not exist. If you created the deployment within the last 5 minutes, please wait a moment and try again.",
        );
    };
    let request = req.json();
    let last = match &request["input"] {
        Value::String(s) => s.clone(),
        Value::Array(items) => items
            .last()
            .map(|item| message_text(&item["content"]))
            .unwrap_or_default(),
        _ => String::new(),
    };
    let text = format!("echo: {last}");
    let message = json!({"type": "message", "id": "msg_az_fake", "status": "completed",
        "role": "assistant",
        "content": [{"type": "output_text", "text": text, "annotations": []}]});
    let response = json!({
        "id": "resp_az_fake", "object": "response", "created_at": 1_700_000_000,
        "status": "completed", "model": found.model, "output": [message],
        "usage": {"input_tokens": 12, "input_tokens_details": {"cached_tokens": 0},
                  "output_tokens": 5, "output_tokens_details": {"reasoning_tokens": 0},
                  "total_tokens": 17},
    });
    if !request["stream"].as_bool().unwrap_or(false) {
        return Reply::json(200, &response);
    }
    let mut created = response.clone();
    created["status"] = json!("in_progress");
    created["output"] = json!([]);
    let event = |name: &str, mut body: Value, seq: usize| {
        body["type"] = json!(name);
        body["sequence_number"] = json!(seq);
        format!("event: {name}\ndata: {body}\n\n")
    };
    let mut item = message.clone();
    item["status"] = json!("in_progress");
    item["content"] = json!([]);
    let part = json!({"type": "output_text", "text": "", "annotations": []});
    let events = [
        event("response.created", json!({"response": created}), 0),
        event(
            "response.output_item.added",
            json!({"output_index": 0, "item": item}),
            1,
        ),
        event(
            "response.content_part.added",
            json!({"item_id": "msg_az_fake", "output_index": 0, "content_index": 0, "part": part}),
            2,
        ),
        event(
            "response.output_text.delta",
            json!({"item_id": "msg_az_fake", "output_index": 0, "content_index": 0, "delta": text}),
            3,
        ),
        event(
            "response.output_text.done",
            json!({"item_id": "msg_az_fake", "output_index": 0, "content_index": 0, "text": text}),
            4,
        ),
        event(
            "response.content_part.done",
            json!({"item_id": "msg_az_fake", "output_index": 0, "content_index": 0,
                   "part": message["content"][0]}),
            5,
        ),
        event(
            "response.output_item.done",
            json!({"output_index": 0, "item": message}),
            6,
        ),
        event("response.completed", json!({"response": response}), 7),
    ];
    Reply::sse(events.concat())
}
