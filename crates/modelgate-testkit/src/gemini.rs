//! Gemini API (`generateContent`) wire bodies for fake upstreams.

use serde_json::{Value, json};

/// `usageMetadata` with prompt and candidate token counts.
pub fn usage(prompt: u64, candidates: u64) -> Value {
    json!({"promptTokenCount": prompt, "candidatesTokenCount": candidates,
           "totalTokenCount": prompt + candidates})
}

/// A `GenerateContentResponse` whose one candidate has `parts`.
pub fn response(model: &str, parts: Value, finish: Option<&str>, usage: Option<Value>) -> Value {
    let mut candidate = json!({"content": {"role": "model", "parts": parts}, "index": 0});
    if let Some(finish) = finish {
        candidate["finishReason"] = json!(finish);
    }
    let mut body =
        json!({"candidates": [candidate], "modelVersion": model, "responseId": "resp-fake"});
    if let Some(usage) = usage {
        body["usageMetadata"] = usage;
    }
    body
}

/// A non-streamed answer with one text.
pub fn text_response(model: &str, text: &str) -> Value {
    response(
        model,
        json!([{"text": text}]),
        Some("STOP"),
        Some(usage(10, 5)),
    )
}

/// A non-streamed answer that calls one function.
pub fn function_call_response(model: &str, name: &str, args: Value) -> Value {
    response(
        model,
        json!([{"functionCall": {"name": name, "args": args}}]),
        Some("STOP"),
        Some(usage(20, 8)),
    )
}

/// A streamed text answer (`alt=sse`): one chunk per piece, the last with
/// the finish reason and usage.
pub fn text_stream(model: &str, pieces: &[&str]) -> String {
    let mut out = String::new();
    let last = pieces.len().saturating_sub(1);
    for (i, piece) in pieces.iter().enumerate() {
        let body = if i == last {
            response(
                model,
                json!([{"text": piece}]),
                Some("STOP"),
                Some(usage(10, pieces.len() as u64)),
            )
        } else {
            response(model, json!([{"text": piece}]), None, None)
        };
        out.push_str(&format!("data: {body}\r\n\r\n"));
    }
    out
}

/// Google's error envelope.
pub fn error(status: u16, message: &str) -> Value {
    let name = match status {
        400 => "INVALID_ARGUMENT",
        401 => "UNAUTHENTICATED",
        403 => "PERMISSION_DENIED",
        404 => "NOT_FOUND",
        429 => "RESOURCE_EXHAUSTED",
        503 => "UNAVAILABLE",
        504 => "DEADLINE_EXCEEDED",
        _ => "INTERNAL",
    };
    json!({"error": {"code": status, "message": message, "status": name}})
}

/// A model list (`GET /v1beta/models`) with ids named `models/ID`.
pub fn model_list(ids: &[&str]) -> Value {
    let models: Vec<Value> = ids
        .iter()
        .map(|id| {
            json!({"name": format!("models/{id}"), "displayName": id,
                          "supportedGenerationMethods": ["generateContent", "countTokens"]})
        })
        .collect();
    json!({"models": models})
}
