//! [`ChatRequest`] → an OpenAI Responses body ([`encode_request`]), for a
//! Chat Completions or Anthropic client whose model lives on an
//! `openai-responses` endpoint.
//!
//! Rules:
//!
//! * `model` is the target's. The system text blocks become `instructions`
//!   (joined by a blank line; left out when there are none).
//! * `input` items, in conversation order:
//!   * user text and images → one `{"type":"message","role":"user"}` item
//!     of `input_text` / `input_image` parts (`detail` as given, else
//!     `auto`; refusals are sent as text);
//!   * assistant text → `{"type":"message","role":"assistant"}` with one
//!     `output_text` part per run of text blocks (joined without separator,
//!     as Anthropic splits one answer around citations), refusals →
//!     `refusal` parts;
//!   * tool calls → `function_call` items (`call_id`, the name through
//!     [`ToolNames::to_target`] (64), `arguments`, `{}` when empty);
//!   * tool results, wherever they are → `function_call_output` items:
//!     `output` a string when the result is text only (texts joined by a
//!     blank line), else `input_text` / `input_image` parts; an error
//!     result's text starts with `Error: ` (Responses has no error flag);
//!   * reasoning: only blocks an `openai-responses` endpoint produced
//!     (`signed_by` [`SIGNED_BY_RESPONSES`]) are sent, as `reasoning` items
//!     whose `encrypted_content` is the signature (a reasoning block, its
//!     text as the one summary) or the data (redacted reasoning, empty
//!     summary). Other reasoning is dropped: an OpenAI model cannot read
//!     another producer's signatures and has no field for plain reasoning
//!     text. Items are sent without `id`: with `store: false` OpenAI looks
//!     nothing up, and the blob carries the reasoning;
//!   * images and tool results inside an assistant message, and tool calls
//!     outside one, are dropped (no Responses item holds them there).
//! * `tools` → flat `{"type":"function","name","description","parameters",
//!   "strict"}`; `strict` is always sent, `false` unless the client asked
//!   for it, because Responses makes an unmarked tool strict (and rejects
//!   or rewrites schemas that are not strict-compatible).
//! * `tool_choice` → `auto` / `none` / `required` / `{"type":"function","name"}`;
//!   `parallel_tool_calls` as it is. Both only with tools: OpenAI rejects
//!   them in a request that offers none.
//! * `text.format` from the response format (flat: `{"type":"json_schema",
//!   "name","schema","strict"}`).
//! * Reasoning: `reasoning: {"effort", "summary": "auto"}` from
//!   [`Reasoning::effort_level`] (just `{"summary":"auto"}` when reasoning
//!   is asked with neither effort nor budget) plus
//!   `include: ["reasoning.encrypted_content"]`, so that the answer's
//!   reasoning can come back on the next turn; nothing when reasoning is
//!   disabled or not asked (`effort: "none"` is not known to every model).
//! * `max_output_tokens` (at least [`MIN_OUTPUT_TOKENS`], OpenAI's
//!   minimum: a client's `max_tokens: 1` probe must not become a 400),
//!   `temperature`, `top_p`, `stream` (only when
//!   true), `user`, and `store: false` always: modelgate is stateless.
//! * Dropped: `stop`, `seed`, `frequency_penalty`, `presence_penalty` and
//!   `top_k` have no Responses equivalent; `extra` belongs to a same-format
//!   target (passthrough); usage needs no asking (it is in every answer).

use serde_json::{Map, Value, json};

use super::request::NAME_MAX;
use super::wire::SIGNED_BY_RESPONSES;
use crate::ir::{
    ChatRequest, Content, GatewayError, ImageSource, Reasoning, ResponseFormat, Role, ToolChoice,
};
use crate::translate::{Target, ToolNames};

/// The smallest `max_output_tokens` OpenAI accepts.
const MIN_OUTPUT_TOKENS: u64 = 16;

/// Encodes a canonical request for an `openai-responses` endpoint.
pub fn encode_request(
    req: &ChatRequest,
    target: &Target,
    names: &mut ToolNames,
) -> Result<Value, GatewayError> {
    let mut body = Map::new();
    body.insert("model".into(), target.model.clone().into());
    let system: Vec<&str> = req
        .system
        .iter()
        .filter_map(Content::as_text)
        .filter(|t| !t.is_empty())
        .collect();
    if !system.is_empty() {
        body.insert("instructions".into(), system.join("\n\n").into());
    }
    let mut input = Vec::new();
    for message in &req.messages {
        match message.role {
            Role::Assistant => encode_assistant(&message.content, names, &mut input),
            Role::User | Role::Tool => encode_user_side(&message.content, &mut input),
        }
    }
    body.insert("input".into(), input.into());
    if !req.tools.is_empty() {
        let tools: Vec<Value> = req
            .tools
            .iter()
            .map(|tool| {
                let mut t =
                    json!({"type": "function", "name": names.to_target(&tool.name, NAME_MAX)});
                if let Some(d) = &tool.description {
                    t["description"] = d.clone().into();
                }
                t["parameters"] = tool.parameters.clone();
                t["strict"] = tool.strict.unwrap_or(false).into();
                t
            })
            .collect();
        body.insert("tools".into(), tools.into());
    }
    if let Some(choice) = req.tool_choice.as_ref().filter(|_| !req.tools.is_empty()) {
        let choice = match choice {
            ToolChoice::Auto => "auto".into(),
            ToolChoice::Required => "required".into(),
            ToolChoice::None => "none".into(),
            ToolChoice::Tool { name } => {
                json!({"type": "function", "name": names.to_target(name, NAME_MAX)})
            }
        };
        body.insert("tool_choice".into(), choice);
    }
    if let Some(v) = req.parallel_tool_calls.filter(|_| !req.tools.is_empty()) {
        body.insert("parallel_tool_calls".into(), v.into());
    }
    if let Some(format) = &req.response_format {
        body.insert("text".into(), json!({"format": encode_format(format)}));
    }
    if let Some(reasoning) = req.reasoning.as_ref().and_then(encode_reasoning) {
        body.insert("reasoning".into(), reasoning);
        body.insert("include".into(), json!(["reasoning.encrypted_content"]));
    }
    if let Some(v) = req.max_tokens {
        body.insert("max_output_tokens".into(), v.max(MIN_OUTPUT_TOKENS).into());
    }
    if let Some(v) = req.temperature {
        body.insert("temperature".into(), v.into());
    }
    if let Some(v) = req.top_p {
        body.insert("top_p".into(), v.into());
    }
    if req.stream {
        body.insert("stream".into(), true.into());
    }
    body.insert("store".into(), false.into());
    if let Some(user) = &req.user {
        body.insert("user".into(), user.clone().into());
    }
    Ok(Value::Object(body))
}

/// The `reasoning` object, or `None` when reasoning is off.
fn encode_reasoning(r: &Reasoning) -> Option<Value> {
    match r.effort_level().as_deref() {
        Some("none") => None,
        Some(effort) => Some(json!({"effort": effort, "summary": "auto"})),
        None => Some(json!({"summary": "auto"})),
    }
}

fn encode_format(f: &ResponseFormat) -> Value {
    match f {
        ResponseFormat::Text => json!({"type": "text"}),
        ResponseFormat::JsonObject => json!({"type": "json_object"}),
        ResponseFormat::JsonSchema {
            name,
            schema,
            strict,
        } => {
            let mut format = json!({"type": "json_schema", "name": name, "schema": schema});
            if let Some(strict) = strict {
                format["strict"] = (*strict).into();
            }
            format
        }
    }
}

fn image_part(source: &ImageSource, detail: Option<&String>) -> Value {
    json!({
        "type": "input_image",
        "image_url": source.to_url(),
        "detail": detail.map_or("auto", String::as_str),
    })
}

/// A user or tool turn: text and images as user messages, each tool
/// result as a `function_call_output` item, in order.
fn encode_user_side(blocks: &[Content], input: &mut Vec<Value>) {
    let mut parts = Vec::new();
    for block in blocks {
        match block {
            Content::Text { text, .. } | Content::Refusal { text } if !text.is_empty() => {
                parts.push(json!({"type": "input_text", "text": text}));
            }
            Content::Image { source, detail } => parts.push(image_part(source, detail.as_ref())),
            Content::ToolResult {
                id,
                content,
                is_error,
            } => {
                flush_message("user", &mut parts, input);
                input.push(json!({
                    "type": "function_call_output",
                    "call_id": id,
                    "output": tool_output(content, *is_error),
                }));
            }
            _ => {}
        }
    }
    flush_message("user", &mut parts, input);
}

/// A tool result's `output`: a string when it is text only (texts joined
/// by a blank line), else `input_text` / `input_image` parts.
fn tool_output(content: &[Content], is_error: bool) -> Value {
    let mut parts = Vec::new();
    for block in content {
        match block {
            Content::Text { text, .. } | Content::Refusal { text } if !text.is_empty() => {
                parts.push(json!({"type": "input_text", "text": text}));
            }
            Content::Image { source, detail } => parts.push(image_part(source, detail.as_ref())),
            _ => {}
        }
    }
    if is_error {
        // Responses has no error flag: say it in the text.
        match parts.first_mut() {
            Some(first) if first["type"] == "input_text" => {
                let text = format!("Error: {}", first["text"].as_str().unwrap_or_default());
                first["text"] = text.into();
            }
            _ => parts.insert(0, json!({"type": "input_text", "text": "Error"})),
        }
    }
    if parts.iter().all(|p| p["type"] == "input_text") {
        let texts: Vec<&str> = parts.iter().filter_map(|p| p["text"].as_str()).collect();
        return texts.join("\n\n").into();
    }
    parts.into()
}

/// Emits pending parts as one message item of `role`.
fn flush_message(role: &str, parts: &mut Vec<Value>, input: &mut Vec<Value>) {
    if parts.is_empty() {
        return;
    }
    input.push(json!({"type": "message", "role": role, "content": std::mem::take(parts)}));
}

/// An assistant turn: text and refusals as an assistant message, tool calls
/// and OpenAI's own reasoning as their items, in order.
fn encode_assistant(blocks: &[Content], names: &mut ToolNames, input: &mut Vec<Value>) {
    let mut parts: Vec<Value> = Vec::new();
    for block in blocks {
        match block {
            Content::Text { text, .. } if !text.is_empty() => match parts.last_mut() {
                Some(last) if last["type"] == "output_text" => {
                    let joined = format!("{}{text}", last["text"].as_str().unwrap_or_default());
                    last["text"] = joined.into();
                }
                _ => parts.push(json!({"type": "output_text", "text": text})),
            },
            Content::Refusal { text } if !text.is_empty() => {
                parts.push(json!({"type": "refusal", "refusal": text}));
            }
            Content::ToolCall {
                id,
                name,
                arguments,
            } => {
                flush_message("assistant", &mut parts, input);
                input.push(json!({
                    "type": "function_call",
                    "call_id": id,
                    "name": names.to_target(name, NAME_MAX),
                    "arguments": if arguments.is_empty() { "{}" } else { arguments },
                }));
            }
            Content::Reasoning {
                text,
                signature: Some(blob),
                signed_by: Some(by),
            } if by == SIGNED_BY_RESPONSES && !blob.is_empty() => {
                flush_message("assistant", &mut parts, input);
                let summary = if text.is_empty() {
                    json!([])
                } else {
                    json!([{"type": "summary_text", "text": text}])
                };
                input.push(
                    json!({"type": "reasoning", "summary": summary, "encrypted_content": blob}),
                );
            }
            Content::RedactedReasoning {
                data,
                signed_by: Some(by),
            } if by == SIGNED_BY_RESPONSES && !data.is_empty() => {
                flush_message("assistant", &mut parts, input);
                input.push(json!({"type": "reasoning", "summary": [], "encrypted_content": data}));
            }
            _ => {}
        }
    }
    flush_message("assistant", &mut parts, input);
}
