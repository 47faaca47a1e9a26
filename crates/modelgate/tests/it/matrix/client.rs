//! The client side of a cell: the request in the front door's format, and
//! an independent reading of the answer — plain JSON and a small SSE
//! parser, no modelgate codec — into one [`Outcome`] that means the same
//! whatever the format. Reading each format's answer is in
//! [`client_openai`](super::client_openai),
//! [`client_anthropic`](super::client_anthropic) and
//! [`client_responses`](super::client_responses).

use reqwest::header::HeaderMap;
use serde_json::Value;

pub use super::ask::{Ask, Choice, MODEL, SYSTEM, USER, description, schema};
use super::{Cell, Front, Wire};
use crate::harness::Gateway;

/// What a client can tell from an answer, the same for every format.
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
    /// assistant message, Anthropic content blocks, or Responses output
    /// items.
    pub replay: Option<Value>,
    /// The answer's headers.
    pub headers: HeaderMap,
    /// Responses: the output items as the client reassembled them.
    pub items: Vec<Value>,
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

    /// [`Seen::outcome`] compared with `expected` in `cell`. Gemini calls
    /// have no id: the gateway makes them up, so the client's ids must be
    /// non-empty and distinct, and then stand for the expected ones (in
    /// order); the cases that send a call back check its id is the one
    /// the client got.
    pub fn outcome_for(&self, cell: Cell, expected: &Outcome) -> Outcome {
        let mut outcome = self.outcome();
        if cell.spec.wire() != Wire::Gemini {
            return outcome;
        }
        let ids: Vec<&str> = outcome.tool_calls.iter().map(|c| c.0.as_str()).collect();
        let distinct = ids
            .iter()
            .enumerate()
            .all(|(i, id)| !id.is_empty() && !ids[..i].contains(id));
        if !distinct {
            let ids = format!("{ids:?}");
            outcome.violations.push(format!(
                "Gemini calls need non-empty distinct ids, got {ids}"
            ));
            return outcome;
        }
        for (seen, want) in outcome.tool_calls.iter_mut().zip(&expected.tool_calls) {
            seen.0.clone_from(&want.0);
        }
        outcome
    }

    /// A header of the answer.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    pub fn body_text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    pub(super) fn violation(&mut self, what: impl Into<String>) {
        self.violations.push(what.into());
    }

    /// Reads an answer. `model`: the model the answer must name (translated
    /// answers carry the client's; passthrough ones the upstream's own).
    pub fn read(front: Front, stream: bool, response: Raw, model: Option<&str>) -> Self {
        let header = |name: &str| {
            let value = response.headers.get(name)?;
            value.to_str().ok().map(str::to_owned)
        };
        let mut seen = Seen {
            status: response.status,
            content_type: header("content-type").unwrap_or_default(),
            retry_after: header("retry-after"),
            body: response.body,
            headers: response.headers,
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
                Front::Responses => seen.responses_stream(&events, model),
            }
        } else {
            match serde_json::from_slice::<Value>(&seen.body) {
                Ok(v) => match front {
                    Front::OpenAi => seen.openai_body(&v, model),
                    Front::Anthropic => seen.anthropic_body(&v, model),
                    Front::Responses => seen.responses_body(&v, model),
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
        if front != Front::Anthropic {
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

    pub(super) fn check_model(&mut self, got: &Value, model: Option<&str>, what: &str) {
        if let Some(model) = model
            && got != model
        {
            self.violation(format!("{what} model {got}, expected {model:?}"));
        }
    }
}

/// Tool arguments as JSON; text that is not JSON stays a string (and so
/// differs from any expected object).
pub(super) fn parse_args(args: &str) -> Value {
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
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

/// The path of a front door.
pub fn path(front: Front) -> &'static str {
    match front {
        Front::OpenAi => "/v1/chat/completions",
        Front::Anthropic => "/v1/messages",
        Front::Responses => "/v1/responses",
    }
}

/// Sends a body to the cell's front door and reads the whole answer.
pub async fn call(gw: &Gateway, cell: Cell, body: &Value) -> Seen {
    let mut request = gw
        .http
        .post(format!("{}{}", gw.url, path(cell.front)))
        .json(body);
    if cell.front == Front::Anthropic {
        request = request.header("anthropic-version", "2023-06-01");
    }
    let response = request.send().await.expect("the gateway answers");
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let bytes = response.bytes().await.expect("the whole body").to_vec();
    let raw = Raw {
        status,
        headers,
        body: bytes,
    };
    Seen::read(
        cell.front,
        body["stream"] == true,
        raw,
        (!cell.passthrough()).then_some(MODEL),
    )
}
