//! The fake's Gemini (`google`) answers, written from the Gemini API
//! reference (wire-formats.md §4), never with the gateway's codec.
//!
//! * Non-streamed: one `GenerateContentResponse` — `candidates[0]` with
//!   `content {role: model, parts}`, `finishReason`, `index`;
//!   `usageMetadata`, `modelVersion`, `responseId`.
//! * Streamed (`:streamGenerateContent?alt=sse`): `data:` chunks of partial
//!   responses, no event names and no terminator. A text piece is one
//!   chunk; a function call is one whole part (`{name, args}`, no id: Gemini
//!   calls have none), its argument pieces joined; a thought is a `{text,
//!   thought: true}` part per piece, the last one carrying the
//!   `thoughtSignature` (or, with [`Answer::call_signature`], the
//!   signature on the first `functionCall` part, as Gemini 2.5 and 3 sign
//!   calls). Every chunk carries the prompt's `usageMetadata`
//!   (`promptTokenCount`, `totalTokenCount`), the last content chunk
//!   `finishReason` and the whole `usageMetadata`. What the layouts mean here, as Gemini cannot split a
//!   call: [`Layout::TextAndToolTogether`] and
//!   [`Layout::InterleavedTools`] put every part of the answer in one
//!   chunk (Gemini's parallel calls arrive together); the others as in
//!   [`writes`].
//! * An in-stream error is a chunk holding Google's error envelope; a
//!   failure is that envelope with its HTTP status (a 429 says its delay
//!   in a `RetryInfo` detail).
//! * Stop reasons: `end_turn` / `tool_use` → `STOP`, `max_tokens` →
//!   `MAX_TOKENS`, `refusal` → `SAFETY`, `recitation` → `RECITATION`,
//!   `malformed_function_call` → `MALFORMED_FUNCTION_CALL`. Usage: `promptTokenCount`
//!   includes the cache (`cachedContentTokenCount`).

use modelgate_testkit::Recorded;
use serde_json::{Value, json};

use super::upstream::{
    Answer, Block, Failure, Layout, Script, Tail, Tokens, upstream_name, writes,
};

/// The model version Gemini names in its answers.
pub const GEMINI_MODEL: &str = "gemini-2.5-flash";
/// The `responseId` of every answer.
pub const RESPONSE_ID: &str = "matrixResp01";

/// The status name Google gives an HTTP status.
fn status_name(status: u16) -> &'static str {
    match status {
        400 => "INVALID_ARGUMENT",
        403 => "PERMISSION_DENIED",
        404 => "NOT_FOUND",
        429 => "RESOURCE_EXHAUSTED",
        503 => "UNAVAILABLE",
        504 => "DEADLINE_EXCEEDED",
        _ => "INTERNAL",
    }
}

/// Google's error envelope.
pub fn error_body(status: u16, message: &str, retry_after: Option<&str>) -> Value {
    let mut error = json!({"code": status, "message": message, "status": status_name(status)});
    if let Some(after) = retry_after {
        error["details"] = json!([{"@type": "type.googleapis.com/google.rpc.RetryInfo",
                                    "retryDelay": format!("{after}s")}]);
    }
    json!({"error": error})
}

pub fn usage(t: Tokens) -> Value {
    let mut usage = json!({"promptTokenCount": t.prompt(), "candidatesTokenCount": t.output,
                           "totalTokenCount": t.prompt() + t.output});
    if t.cache_read > 0 {
        usage["cachedContentTokenCount"] = t.cache_read.into();
    }
    usage
}

pub fn finish_reason(stop: &str) -> &'static str {
    match stop {
        "max_tokens" => "MAX_TOKENS",
        "refusal" => "SAFETY",
        "recitation" => "RECITATION",
        "malformed_function_call" => "MALFORMED_FUNCTION_CALL",
        _ => "STOP",
    }
}

/// The function names of a Gemini request.
fn names(req: &Value) -> Vec<&str> {
    req["tools"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|t| t["functionDeclarations"].as_array().into_iter().flatten())
        .filter_map(|f| f["name"].as_str())
        .collect()
}

/// The parts of each block, one list per chunk a stream gives it.
fn block_parts(block: &Block, names: &[&str]) -> Vec<Vec<Value>> {
    match block {
        Block::Reasoning { pieces, signature } => pieces
            .iter()
            .enumerate()
            .map(|(i, piece)| {
                let mut part = json!({"text": piece, "thought": true});
                if i + 1 == pieces.len() {
                    part["thoughtSignature"] = (*signature).into();
                }
                vec![part]
            })
            .collect(),
        Block::Text(pieces) => pieces.iter().map(|p| vec![json!({"text": p})]).collect(),
        Block::Tool { name, pieces, .. } => {
            let args: Value = serde_json::from_str(&pieces.concat()).unwrap();
            vec![vec![
                json!({"functionCall": {"name": upstream_name(names, name), "args": args}}),
            ]]
        }
    }
}

/// The parts of every block, per chunk, `call_signature` on the first call.
fn all_parts(answer: &Answer, names: &[&str]) -> Vec<Vec<Vec<Value>>> {
    let mut per_block: Vec<Vec<Vec<Value>>> = answer
        .blocks
        .iter()
        .map(|b| block_parts(b, names))
        .collect();
    if let Some(signature) = answer.call_signature {
        let call = per_block
            .iter_mut()
            .flatten()
            .flatten()
            .find(|p| p.get("functionCall").is_some());
        if let Some(call) = call {
            call["thoughtSignature"] = signature.into();
        }
    }
    per_block
}

/// A response holding `parts`.
fn chunk(parts: Vec<Value>) -> Value {
    json!({"candidates": [{"content": {"role": "model", "parts": parts}, "index": 0}],
           "modelVersion": GEMINI_MODEL, "responseId": RESPONSE_ID})
}

fn finish(chunk: &mut Value, answer: &Answer) {
    chunk["candidates"][0]["finishReason"] = finish_reason(answer.stop).into();
    chunk["usageMetadata"] = usage(answer.tokens);
}

/// The stop of a script whose prompt Gemini blocks: no candidates,
/// `promptFeedback.blockReason: SAFETY`.
pub const PROMPT_BLOCKED: &str = "prompt_blocked";

fn blocked(answer: &Answer) -> Value {
    let prompt = answer.tokens.prompt();
    json!({"promptFeedback": {"blockReason": "SAFETY", "safetyRatings": [
              {"category": "HARM_CATEGORY_DANGEROUS_CONTENT", "probability": "HIGH", "blocked": true}]},
           "usageMetadata": {"promptTokenCount": prompt, "totalTokenCount": prompt},
           "modelVersion": GEMINI_MODEL, "responseId": RESPONSE_ID})
}

/// A non-streamed answer: every part, merged as Gemini gives them whole.
pub fn response(answer: &Answer, req: &Value) -> Value {
    if answer.stop == PROMPT_BLOCKED {
        return blocked(answer);
    }
    let names = names(req);
    let parts: Vec<Value> = all_parts(answer, &names)
        .into_iter()
        .map(|block| {
            let mut pieces = block.into_iter().flatten();
            let mut part = pieces.next().unwrap_or_default();
            for piece in pieces {
                let text = format!(
                    "{}{}",
                    part["text"].as_str().unwrap_or_default(),
                    piece["text"].as_str().unwrap_or_default()
                );
                part["text"] = text.into();
                if let Some(signature) = piece.get("thoughtSignature") {
                    part["thoughtSignature"] = signature.clone();
                }
            }
            part
        })
        .collect();
    let mut body = chunk(parts);
    finish(&mut body, answer);
    body
}

/// The SSE events of a streamed answer.
pub fn stream(answer: &Answer, req: &Value) -> Vec<String> {
    if answer.stop == PROMPT_BLOCKED {
        return vec![format!("data: {}\r\n\r\n", blocked(answer))];
    }
    let names = names(req);
    let per_block = all_parts(answer, &names);
    let mut chunks: Vec<Value> = match answer.layout {
        Layout::TextAndToolTogether | Layout::InterleavedTools => {
            vec![chunk(per_block.into_iter().flatten().flatten().collect())]
        }
        _ => per_block.into_iter().flatten().map(chunk).collect(),
    };
    // As Gemini does, every chunk tells the prompt's usage so far.
    for c in &mut chunks {
        let mut so_far = usage(Tokens {
            output: 0,
            ..answer.tokens
        });
        if let Some(map) = so_far.as_object_mut() {
            map.remove("candidatesTokenCount");
        }
        c["usageMetadata"] = so_far;
    }
    match answer.tail {
        Tail::Complete => match chunks.last_mut() {
            Some(last) => finish(last, answer),
            None => {
                let mut only = chunk(vec![json!({"text": ""})]);
                finish(&mut only, answer);
                chunks.push(only);
            }
        },
        Tail::ErrorEvent => chunks.push(error_body(
            500,
            super::upstream::stream_error_message(super::Spec::Google),
            None,
        )),
        Tail::Cut => {}
    }
    chunks
        .iter()
        .map(|c| format!("data: {c}\r\n\r\n"))
        .collect()
}

/// The status, the writes of the body, and whether it is an SSE stream,
/// by the method in the path.
pub fn render(script: &Script, recorded: &Recorded) -> (u16, Vec<Vec<u8>>, bool) {
    let answer = match script {
        Script::Failure(Failure {
            status,
            message,
            retry_after,
            ..
        }) => {
            let body = error_body(*status, message, *retry_after);
            return (*status, vec![body.to_string().into_bytes()], false);
        }
        Script::Answer(answer) => answer,
    };
    let req = recorded.json();
    if recorded.path.ends_with(":streamGenerateContent?alt=sse") {
        (200, writes(answer.layout, stream(answer, &req), None), true)
    } else {
        let body = response(answer, &req);
        (200, vec![body.to_string().into_bytes()], false)
    }
}
