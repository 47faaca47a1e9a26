//! Gemini answers: a `GenerateContentResponse` → [`ChatResponse`]
//! ([`decode_response`]) and [`ChatResponse`] → what a Gemini client
//! receives ([`encode_response`]).
//!
//! # Decoding
//!
//! * Only `candidates[0]` is read. Its parts, in order: `text` → Text;
//!   `thought: true` text → Reasoning; `functionCall` → ToolCall (name
//!   mapped back with `ctx.tool_names`, arguments the compact JSON of
//!   `args`, id the given one or `call_{responseId or "gemini"}_{n}`, `n`
//!   counting the answer's calls from 0); other parts (`inlineData`,
//!   `executableCode`, …) are skipped, and so are empty texts.
//! * A part's `thoughtSignature` is a Reasoning signed by
//!   [`SIGNED_BY_GOOGLE`]: a thought part is that one Reasoning (its text
//!   and signature); any other part gets an empty signed Reasoning right
//!   before its content.
//! * `finishReason`: see [`wire::stop_reason`](super::wire): `STOP` →
//!   EndTurn (ToolUse when a function was called), `MAX_TOKENS` →
//!   MaxTokens, the safety family (`SAFETY`, `RECITATION`, `BLOCKLIST`,
//!   `PROHIBITED_CONTENT`, `SPII`, `IMAGE_*`) → ContentFilter, anything else
//!   → Other; the native value is kept. A candidate without a finish
//!   reason reads as `STOP` (native: none).
//! * Never an empty answer: a filtered candidate with no visible content
//!   gets a Refusal naming the reason; a candidate that ended on an unusable
//!   function call (`MALFORMED_FUNCTION_CALL`, `UNEXPECTED_TOOL_CALL`,
//!   `TOO_MANY_TOOL_CALLS`; stop Other) with no visible content gets a Text
//!   saying so (with Google's `finishMessage`) — a Text, not a Refusal,
//!   because the model did not decline. A prompt blocked by
//!   `promptFeedback.blockReason` (no candidates) is a Refusal naming the
//!   reason with stop ContentFilter (native: the block reason); no
//!   candidates and no block reason is a Text saying so, stop Other.
//! * `usageMetadata`: see `wire.rs`; `responseId` → id, `modelVersion` → model.
//! * An error envelope (also inside an array) is that error; a body that
//!   is not a response is a 502 (`unexpected_response`) saying what it is.
//!
//! # Encoding
//!
//! `{"candidates":[{"content":{"role":"model","parts":[…]},"finishReason",
//! "index":0}],"usageMetadata","modelVersion": ctx.client_model,
//! "responseId"}`. Parts:
//!
//! * Text and Refusal → `{text}`; Reasoning → `{text, thought: true}`;
//!   ToolCall → `{functionCall: {name, args, id}}`.
//! * A google-signed Reasoning with text carries its `thoughtSignature` on
//!   its own thought part; one without text puts it on the part that
//!   follows (alone, `{"text":"","thoughtSignature"}`, when none follows),
//!   which is where Gemini put it.
//! * Signatures of other families and redacted reasoning go on a thought
//!   part of their own, wrapped with [`sealed`] (`mg1:sig:…`,
//!   `mg1:redacted:…`), so that a Gemini client that sends the turn back
//!   returns them: **the Gemini request decoder unwraps a
//!   `thoughtSignature` with `sealed::unwrap`** into the signed Reasoning
//!   (or RedactedReasoning) of that family; a value without the prefix is
//!   Google's.
//! * `finishReason`: ContentFilter → SAFETY, EndTurn/ToolUse/StopSequence →
//!   STOP, MaxTokens → MAX_TOKENS, else OTHER.

use serde_json::{Value, json};

use super::SIGNED_BY_GOOGLE;
use super::wire::{
    WireFunctionCall, WirePart, WireResponse, arguments_object, arguments_text, bad_tool_call_text,
    blocked_text, call_id, error_of, is_bad_tool_call, native_finish_reason, stop_reason,
    usage_json, withheld_text,
};
use crate::ir::{ChatResponse, Content, ErrorKind, GatewayError, StopKind, StopReason, sealed};
use crate::translate::Context;

/// Decodes a `GenerateContentResponse`.
pub fn decode_response(body: &[u8], ctx: &Context) -> Result<ChatResponse, GatewayError> {
    let not_a_response = |why: &str| {
        GatewayError::new(
            ErrorKind::Upstream,
            format!(
                "the upstream's answer is not a Gemini GenerateContentResponse ({why}); check \
                 that the endpoint speaks the Gemini API"
            ),
        )
        .with_code("unexpected_response")
    };
    let value: Value = serde_json::from_slice(body).map_err(|e| {
        let start = String::from_utf8_lossy(&body[..body.len().min(40)]).into_owned();
        not_a_response(&format!("not JSON: {e}; it starts with {start:?}"))
    })?;
    if let Some(err) = error_of(&value) {
        return Err(err);
    }
    let Value::Object(obj) = &value else {
        return Err(not_a_response("it is not a JSON object"));
    };
    let known = ["candidates", "promptFeedback", "usageMetadata"];
    if !known.iter().any(|k| obj.contains_key(*k)) {
        let keys: Vec<&str> = obj.keys().map(String::as_str).take(5).collect();
        return Err(not_a_response(&format!(
            "an object with the fields {keys:?} and no `candidates`"
        )));
    }
    let wire: WireResponse =
        serde_json::from_value(value).map_err(|e| not_a_response(&e.to_string()))?;
    let usage = wire
        .usage_metadata
        .map(|u| u.canonical())
        .unwrap_or_default();
    let mut resp = ChatResponse {
        id: wire.response_id.clone(),
        model: wire.model_version.clone(),
        content: Vec::new(),
        stop: StopReason::default(),
        usage,
    };
    let Some(candidate) = wire.candidates.into_iter().next() else {
        let feedback = wire.prompt_feedback.unwrap_or_default();
        if let Some(reason) = feedback.block_reason.as_deref() {
            let text = blocked_text(reason, feedback.block_reason_message.as_deref());
            resp.content.push(Content::Refusal { text });
            resp.stop = StopReason::new(StopKind::ContentFilter, Some(reason));
        } else {
            let text = "The model returned no answer (no candidates and no block reason).";
            resp.content.push(Content::text(text));
            resp.stop = StopReason::new(StopKind::Other, None);
        }
        return Ok(resp);
    };
    let parts = candidate.content.map(|c| c.parts).unwrap_or_default();
    let mut calls = 0;
    for part in parts {
        part_content(part, &wire.response_id, &mut calls, ctx, &mut resp.content);
    }
    let native = candidate.finish_reason.as_deref().unwrap_or("STOP");
    resp.stop = stop_reason(native, calls > 0);
    if candidate.finish_reason.is_none() {
        resp.stop.native = None;
    }
    let visible = resp
        .content
        .iter()
        .any(|c| !matches!(c, Content::Reasoning { .. }));
    if !visible {
        if resp.stop.kind == StopKind::ContentFilter {
            resp.content.push(Content::Refusal {
                text: withheld_text(native),
            });
        } else if is_bad_tool_call(native) {
            let text = bad_tool_call_text(native, candidate.finish_message.as_deref());
            resp.content.push(Content::text(text));
        }
    }
    Ok(resp)
}

/// One part's canonical content, appended to `out`; `calls` counts the
/// function calls so far (for ids).
pub(crate) fn part_content(
    part: WirePart,
    response_id: &str,
    calls: &mut usize,
    ctx: &Context,
    out: &mut Vec<Content>,
) {
    let signature = part.thought_signature.filter(|s| !s.is_empty());
    let google = || Some(SIGNED_BY_GOOGLE.to_owned());
    if part.thought && part.function_call.is_none() {
        let text = part.text.unwrap_or_default();
        if text.is_empty() && signature.is_none() {
            return;
        }
        out.push(Content::Reasoning {
            text,
            signed_by: signature.as_ref().and_then(|_| google()),
            signature,
        });
        return;
    }
    if let Some(signature) = signature {
        out.push(Content::Reasoning {
            text: String::new(),
            signature: Some(signature),
            signed_by: google(),
        });
    }
    if let Some(call) = part.function_call {
        out.push(tool_call(call, response_id, calls, ctx));
    } else if let Some(text) = part.text.filter(|t| !t.is_empty()) {
        out.push(Content::text(text));
    }
}

/// A `functionCall` as a ToolCall (id synthesized when absent).
pub(crate) fn tool_call(
    call: WireFunctionCall,
    response_id: &str,
    calls: &mut usize,
    ctx: &Context,
) -> Content {
    let id = call
        .id
        .filter(|id| !id.is_empty())
        .unwrap_or_else(|| call_id(response_id, *calls));
    *calls += 1;
    Content::ToolCall {
        id,
        name: ctx.tool_names.to_client(&call.name).to_owned(),
        arguments: arguments_text(call.args.as_ref()),
    }
}

/// Encodes a canonical answer as a `GenerateContentResponse`.
pub fn encode_response(resp: &ChatResponse, ctx: &Context) -> Value {
    json!({
        "candidates": [{
            "content": {"role": "model", "parts": encode_parts(&resp.content)},
            "finishReason": native_finish_reason(resp.stop.kind),
            "index": 0,
        }],
        "usageMetadata": usage_json(&resp.usage),
        "modelVersion": ctx.client_model,
        "responseId": resp.id,
    })
}

/// The parts of canonical content (module docs).
fn encode_parts(content: &[Content]) -> Vec<Value> {
    let mut parts = Vec::new();
    // A google signature waiting for the part that follows it.
    let mut pending: Option<&str> = None;
    for block in content {
        let mut part = match block {
            Content::Text { text, .. } | Content::Refusal { text } => json!({"text": text}),
            Content::ToolCall {
                id,
                name,
                arguments,
            } => json!({"functionCall": {
                "name": name,
                "args": arguments_object(arguments),
                "id": id,
            }}),
            Content::Reasoning {
                text,
                signature,
                signed_by,
            } => {
                let google = signed_by.as_deref() == Some(SIGNED_BY_GOOGLE);
                match signature.as_deref() {
                    Some(sig) if google && text.is_empty() => {
                        if let Some(earlier) = pending.replace(sig) {
                            parts.push(json!({"text": "", "thoughtSignature": earlier}));
                        }
                        continue;
                    }
                    Some(sig) => {
                        let sig =
                            sealed::wrap_signature(SIGNED_BY_GOOGLE, signed_by.as_deref(), sig);
                        json!({"text": text, "thought": true, "thoughtSignature": sig})
                    }
                    None if text.is_empty() => continue,
                    None => json!({"text": text, "thought": true}),
                }
            }
            Content::RedactedReasoning { data, signed_by } => {
                let sig = sealed::wrap_redacted(SIGNED_BY_GOOGLE, signed_by.as_deref(), data);
                json!({"text": "", "thought": true, "thoughtSignature": sig})
            }
            Content::Image { .. } | Content::ToolResult { .. } => continue,
        };
        if let Some(sig) = pending.take() {
            if part.get("thoughtSignature").is_some() {
                parts.push(json!({"text": "", "thoughtSignature": sig}));
            } else {
                part["thoughtSignature"] = json!(sig);
            }
        }
        parts.push(part);
    }
    if let Some(sig) = pending {
        parts.push(json!({"text": "", "thoughtSignature": sig}));
    }
    parts
}
