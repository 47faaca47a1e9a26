//! A fake Vertex AI location, for the `google-vertex` tests.
//!
//! It serves `/v1/projects/{project}/locations/{location}/publishers/{publisher}/models/{model}:{method}`
//! for one project and location, and checks, in order:
//!
//! 1. `Authorization: Bearer` carries a token [`FakeGoogleToken`] issued
//!    and [`FakeVertex::revoke`] did not revoke: else 401 `UNAUTHENTICATED`;
//! 2. a status forced with [`FakeVertex::force_status`] (403
//!    `PERMISSION_DENIED`, 404 …) is the answer;
//! 3. the path: another project or location, an unknown publisher or
//!    method, or a model whose id starts with `missing` → 404 `NOT_FOUND`;
//! 4. the body: `google` models need `contents` (else 400
//!    `INVALID_ARGUMENT`, which the key test's empty body gets);
//!    `anthropic` models refuse a body with `model` or without
//!    `anthropic_version: "vertex-2023-10-16"` (400).
//!
//! Answers: `generateContent` a Gemini response, `streamGenerateContent`
//! (with `?alt=sse`) its SSE stream, `rawPredict` an Anthropic message,
//! `streamRawPredict` an Anthropic stream, `count-tokens:rawPredict`
//! (with `model` in the body) `{"input_tokens": 11}`. The text is [`ANSWER`].

use std::collections::HashSet;
use std::sync::{Arc, Mutex};

use serde_json::{Value, json};

use crate::google_token::FakeGoogleToken;
use crate::{FakeUpstream, Recorded, Reply, anthropic};

/// The text every answer carries (streams: in two pieces).
pub const ANSWER: &str = "Hello from Vertex";
/// The `anthropic_version` a Claude body must carry.
pub const ANTHROPIC_VERSION: &str = "vertex-2023-10-16";

#[derive(Default)]
struct Control {
    revoked: HashSet<String>,
    forced: Option<u16>,
}

/// A running fake Vertex AI location. Stops when dropped.
pub struct FakeVertex {
    pub upstream: FakeUpstream,
    control: Arc<Mutex<Control>>,
}

impl FakeVertex {
    /// Serves `project` in `location`, accepting the tokens `tokens` issues.
    pub async fn start(project: &str, location: &str, tokens: &FakeGoogleToken) -> Self {
        let control = Arc::new(Mutex::new(Control::default()));
        let issued = tokens.issued_checker();
        let prefix = format!("/v1/projects/{project}/locations/{location}/publishers/");
        let shared = control.clone();
        let upstream = FakeUpstream::start(move |req| {
            let (revoked, forced) = {
                let c = lock(&shared);
                let revoked = req.bearer().is_some_and(|t| c.revoked.contains(t));
                (revoked, c.forced)
            };
            match req.bearer() {
                Some(token) if issued(token) && !revoked => {}
                _ => {
                    return error(
                        401,
                        "UNAUTHENTICATED",
                        "Request had invalid authentication credentials.",
                    );
                }
            }
            if let Some(status) = forced {
                let kind = match status {
                    403 => "PERMISSION_DENIED",
                    404 => "NOT_FOUND",
                    429 => "RESOURCE_EXHAUSTED",
                    _ => "INTERNAL",
                };
                return error(status, kind, &format!("forced {status}"));
            }
            answer(req, &prefix)
        })
        .await;
        Self { upstream, control }
    }

    /// `http://127.0.0.1:PORT` (the endpoint's `base_url`).
    pub fn base_url(&self) -> String {
        self.upstream.url("")
    }

    /// Refuses `token` from now on (401), as a revoked token is.
    pub fn revoke(&self, token: &str) {
        lock(&self.control).revoked.insert(token.to_owned());
    }

    /// Answers every authenticated request with this status (None: normal).
    pub fn force_status(&self, status: Option<u16>) {
        lock(&self.control).forced = status;
    }

    pub fn requests(&self) -> Vec<Recorded> {
        self.upstream.requests()
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// Google's error envelope.
pub fn error(status: u16, kind: &str, message: &str) -> Reply {
    Reply::json(
        status,
        &json!({"error": {"code": status, "message": message, "status": kind}}),
    )
}

fn answer(req: &Recorded, prefix: &str) -> Reply {
    let (path, query) = req.path.split_once('?').unwrap_or((&req.path, ""));
    let Some(rest) = path.strip_prefix(prefix) else {
        return error(
            404,
            "NOT_FOUND",
            &format!("no such project or location: {path}"),
        );
    };
    let Some((publisher, rest)) = rest.split_once("/models/") else {
        return error(404, "NOT_FOUND", "no model in the path");
    };
    let Some((model, method)) = rest.rsplit_once(':') else {
        return error(404, "NOT_FOUND", "no method in the path");
    };
    if model.starts_with("missing") {
        return error(
            404,
            "NOT_FOUND",
            &format!(
                "Publisher Model `projects/p/locations/l/publishers/{publisher}/models/{model}` not found."
            ),
        );
    }
    let body = req.json();
    match (publisher, method) {
        ("google", "generateContent" | "streamGenerateContent") => {
            if body["contents"].as_array().is_none_or(|c| c.is_empty()) {
                return error(400, "INVALID_ARGUMENT", "contents is not specified");
            }
            if method == "generateContent" {
                Reply::json(200, &gemini_response(model, ANSWER, true))
            } else if query.contains("alt=sse") {
                Reply::sse(gemini_stream(model))
            } else {
                error(
                    400,
                    "INVALID_ARGUMENT",
                    "this fake streams only with alt=sse",
                )
            }
        }
        ("anthropic", "rawPredict") if model == "count-tokens" => {
            if body["model"].as_str().is_none() {
                return error(400, "INVALID_ARGUMENT", "model: Field required");
            }
            Reply::json(200, &json!({"input_tokens": 11}))
        }
        ("anthropic", "rawPredict" | "streamRawPredict") => {
            if body.get("model").is_some() {
                return error(
                    400,
                    "INVALID_ARGUMENT",
                    "model: Extra inputs are not permitted",
                );
            }
            if body["anthropic_version"] != ANTHROPIC_VERSION {
                return error(
                    400,
                    "INVALID_ARGUMENT",
                    "anthropic_version: vertex-2023-10-16 is required",
                );
            }
            if method == "rawPredict" {
                Reply::json(200, &anthropic::text_message(model, ANSWER))
            } else {
                let (a, b) = ANSWER.split_at(5);
                Reply::sse(anthropic::text_stream(model, &[a, b]))
            }
        }
        _ => error(
            404,
            "NOT_FOUND",
            &format!("no method `{method}` for publisher `{publisher}`"),
        ),
    }
}

/// A Gemini `GenerateContentResponse` with `text`; `last` adds the finish
/// reason and usage.
pub fn gemini_response(model: &str, text: &str, last: bool) -> Value {
    let mut candidate =
        json!({"content": {"role": "model", "parts": [{"text": text}]}, "index": 0});
    let mut response = json!({"modelVersion": model});
    if last {
        candidate["finishReason"] = json!("STOP");
        response["usageMetadata"] =
            json!({"promptTokenCount": 7, "candidatesTokenCount": 3, "totalTokenCount": 10});
    }
    response["candidates"] = json!([candidate]);
    response
}

/// [`ANSWER`] as Gemini's SSE stream, in two chunks.
pub fn gemini_stream(model: &str) -> String {
    let (a, b) = ANSWER.split_at(5);
    [
        gemini_response(model, a, false),
        gemini_response(model, b, true),
    ]
    .iter()
    .map(|chunk| format!("data: {chunk}\r\n\r\n"))
    .collect()
}
