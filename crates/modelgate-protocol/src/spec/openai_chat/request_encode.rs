//! Encoding a canonical request for an OpenAI-compatible endpoint (the
//! rules are in the docs of the `request` module).

use serde_json::{Map, Value, json};

use super::request::{NAME_MAX, Result, bad};
use crate::ir::{
    ChatRequest, Content, ImageSource, Reasoning, ResponseFormat, Role, Tool, ToolChoice,
};
use crate::translate::{ReasoningFormat, Target, ToolNames};

/// Encodes a canonical request for an OpenAI-compatible endpoint.
pub fn encode_request(req: &ChatRequest, target: &Target, names: &mut ToolNames) -> Result<Value> {
    let mut body = Map::new();
    body.insert("model".into(), target.model.clone().into());
    let mut messages = Vec::with_capacity(req.messages.len() + 1);
    let system: Vec<&str> = req
        .system
        .iter()
        .filter_map(Content::as_text)
        .filter(|t| !t.is_empty())
        .collect();
    if !system.is_empty() {
        messages.push(json!({"role": "system", "content": system.join("\n\n")}));
    }
    // Where an assistant turn with nothing to send was left out: the
    // messages on either side may now form a run of one role.
    let mut seams = Vec::new();
    for (i, m) in req.messages.iter().enumerate() {
        match m.role {
            Role::Assistant => match encode_assistant(&m.content, i, target, names)? {
                Some(msg) => messages.push(msg),
                None => seams.push(messages.len()),
            },
            Role::User | Role::Tool => encode_user_side(&m.content, &mut messages),
        }
    }
    seams.dedup();
    for seam in seams.into_iter().rev() {
        merge_at(&mut messages, seam);
    }
    body.insert("messages".into(), messages.into());
    let mut set = |k: &str, v: Value| {
        body.insert(k.to_owned(), v);
    };
    if let Some(v) = req.max_tokens {
        set("max_tokens", v.into());
    }
    if let Some(v) = req.temperature {
        set("temperature", v.into());
    }
    if let Some(v) = req.top_p {
        set("top_p", v.into());
    }
    if let Some(v) = req.top_k {
        set("top_k", v.into());
    }
    if !req.stop.is_empty() {
        set("stop", req.stop.clone().into());
    }
    if let Some(v) = req.seed {
        set("seed", v.into());
    }
    if let Some(v) = req.frequency_penalty {
        set("frequency_penalty", v.into());
    }
    if let Some(v) = req.presence_penalty {
        set("presence_penalty", v.into());
    }
    if let Some(v) = &req.user {
        set("user", v.clone().into());
    }
    if let Some(f) = &req.response_format {
        set("response_format", encode_response_format(f));
    }
    if !req.tools.is_empty() {
        let tools = req
            .tools
            .iter()
            .map(|t| encode_tool(t, names))
            .collect::<Vec<_>>();
        set("tools", tools.into());
    }
    if let Some(choice) = &req.tool_choice {
        set(
            "tool_choice",
            match choice {
                ToolChoice::Auto => "auto".into(),
                ToolChoice::Required => "required".into(),
                ToolChoice::None => "none".into(),
                ToolChoice::Tool { name } => {
                    let name = names.to_target(name, NAME_MAX);
                    json!({"type": "function", "function": {"name": name}})
                }
            },
        );
    }
    if let Some(v) = req.parallel_tool_calls {
        set("parallel_tool_calls", v.into());
    }
    if let Some(r) = &req.reasoning {
        match target.reasoning_format {
            ReasoningFormat::ReasoningEffort => {
                if let Some(effort) = r.effort_level() {
                    set("reasoning_effort", effort.into());
                }
            }
            ReasoningFormat::ReasoningObject => set("reasoning", encode_reasoning_object(r)),
            ReasoningFormat::Disabled => {}
        }
    }
    if req.stream {
        set("stream", true.into());
        set("stream_options", json!({"include_usage": true}));
    }
    Ok(Value::Object(body))
}

/// OpenRouter's `reasoning` object.
fn encode_reasoning_object(r: &Reasoning) -> Value {
    if r.disabled {
        json!({"enabled": false})
    } else if let Some(effort) = &r.effort {
        json!({"effort": effort})
    } else if let Some(budget) = r.budget() {
        json!({"max_tokens": budget})
    } else {
        json!({"enabled": true})
    }
}

fn encode_response_format(f: &ResponseFormat) -> Value {
    match f {
        ResponseFormat::Text => json!({"type": "text"}),
        ResponseFormat::JsonObject => json!({"type": "json_object"}),
        ResponseFormat::JsonSchema {
            name,
            schema,
            strict,
        } => {
            let mut spec = json!({"name": name, "schema": schema});
            if let Some(strict) = strict {
                spec["strict"] = (*strict).into();
            }
            json!({"type": "json_schema", "json_schema": spec})
        }
    }
}

fn encode_tool(tool: &Tool, names: &mut ToolNames) -> Value {
    let mut function = json!({"name": names.to_target(&tool.name, NAME_MAX)});
    if let Some(d) = &tool.description {
        function["description"] = d.clone().into();
    }
    function["parameters"] = tool.parameters.clone();
    if let Some(strict) = tool.strict {
        function["strict"] = strict.into();
    }
    json!({"type": "function", "function": function})
}

fn image_part(source: &ImageSource, detail: Option<&String>) -> Value {
    let mut image = json!({"url": source.to_url()});
    if let Some(d) = detail {
        image["detail"] = d.clone().into();
    }
    json!({"type": "image_url", "image_url": image})
}

/// A user or tool turn: runs of tool results become `tool` messages (plus
/// one `user` message with their images); other blocks a `user` message.
fn encode_user_side(blocks: &[Content], out: &mut Vec<Value>) {
    let mut parts: Vec<Value> = Vec::new();
    let mut i = 0;
    while i < blocks.len() {
        if let Content::ToolResult { .. } = &blocks[i] {
            flush_user(&mut parts, out);
            let mut images = Vec::new();
            while let Some(Content::ToolResult {
                id,
                content,
                is_error,
            }) = blocks.get(i)
            {
                let mut text = Vec::new();
                for block in content {
                    match block {
                        Content::Text { text: t, .. } | Content::Refusal { text: t } => {
                            text.push(t.as_str())
                        }
                        Content::Image { source, detail } => {
                            images.push(image_part(source, detail.as_ref()))
                        }
                        _ => {}
                    }
                }
                let mut text = text.join("\n\n");
                if *is_error {
                    // OpenAI has no error flag: say it in the text.
                    text = if text.is_empty() {
                        "Error".to_owned()
                    } else {
                        format!("Error: {text}")
                    };
                }
                out.push(json!({"role": "tool", "tool_call_id": id, "content": text}));
                i += 1;
            }
            flush_user(&mut images, out);
            continue;
        }
        match &blocks[i] {
            Content::Text { text, .. } | Content::Refusal { text } if !text.is_empty() => {
                parts.push(json!({"type": "text", "text": text}));
            }
            Content::Image { source, detail } => parts.push(image_part(source, detail.as_ref())),
            _ => {}
        }
        i += 1;
    }
    flush_user(&mut parts, out);
}

/// Emits pending user parts as one `user` message: a string for a lone text.
fn flush_user(parts: &mut Vec<Value>, out: &mut Vec<Value>) {
    let content = match parts.as_slice() {
        [] => return,
        [single] if single["type"] == "text" => single["text"].clone(),
        _ => Value::Array(std::mem::take(parts)),
    };
    parts.clear();
    out.push(json!({"role": "user", "content": content}));
}

/// Merges the message at `seam` into the one before it when both are
/// `user` or both `assistant` messages (a run the encoder created by
/// leaving a message out). `tool` messages are one per result and stay apart.
fn merge_at(messages: &mut Vec<Value>, seam: usize) {
    let Some(prev) = seam.checked_sub(1).and_then(|p| messages.get(p)) else {
        return;
    };
    let role = prev["role"].as_str().unwrap_or_default().to_owned();
    if !matches!(role.as_str(), "user" | "assistant")
        || messages
            .get(seam)
            .is_none_or(|next| next["role"] != role.as_str())
    {
        return;
    }
    let next = messages.remove(seam);
    let prev = &mut messages[seam - 1];
    if role == "user" {
        let mut parts = user_parts(prev["content"].take());
        parts.extend(user_parts(next["content"].clone()));
        prev["content"] = match parts.as_slice() {
            [single] if single["type"] == "text" => single["text"].clone(),
            _ => Value::Array(parts),
        };
        return;
    }
    let Value::Object(next) = next else { return };
    for (key, value) in next {
        let slot = &mut prev[key.as_str()];
        match (key.as_str(), slot.take(), value) {
            ("role", old, _) => *slot = old,
            ("tool_calls", Value::Array(mut calls), Value::Array(more)) => {
                calls.extend(more);
                *slot = Value::Array(calls);
            }
            (_, Value::String(a), Value::String(b)) => {
                // Text and refusals join as they are; reasoning fields by a blank line.
                let sep = if matches!(key.as_str(), "content" | "refusal") || a.is_empty() {
                    ""
                } else {
                    "\n\n"
                };
                *slot = format!("{a}{sep}{b}").into();
            }
            (_, Value::Null, b) => *slot = b,
            (_, a, _) => *slot = a,
        }
    }
}

/// A user message's `content` as parts: a string is one text part.
fn user_parts(content: Value) -> Vec<Value> {
    match content {
        Value::String(text) => vec![json!({"type": "text", "text": text})],
        Value::Array(parts) => parts,
        _ => Vec::new(),
    }
}

/// An assistant message, or `None` when nothing of it can be sent (no text,
/// refusal, tool call or reasoning for this target): an empty assistant
/// message is rejected or misread by many servers.
fn encode_assistant(
    blocks: &[Content],
    i: usize,
    target: &Target,
    names: &mut ToolNames,
) -> Result<Option<Value>> {
    let (mut text, mut refusal, mut reasoning, mut calls) =
        (String::new(), String::new(), Vec::new(), Vec::new());
    for block in blocks {
        match block {
            Content::Text { text: t, .. } => text.push_str(t),
            Content::Refusal { text: t } => refusal.push_str(t),
            Content::ToolCall {
                id,
                name,
                arguments,
            } => calls.push(json!({
                "id": id,
                "type": "function",
                "function": {
                    "name": names.to_target(name, NAME_MAX),
                    "arguments": if arguments.is_empty() { "{}" } else { arguments },
                },
            })),
            Content::Reasoning {
                text: t,
                signed_by: None,
                ..
            } if !t.is_empty() => reasoning.push(t.as_str()),
            Content::Reasoning { .. } | Content::RedactedReasoning { .. } => {}
            Content::Image { .. } | Content::ToolResult { .. } => {
                return Err(bad(
                    format!("messages[{i}].content"),
                    "An assistant message with images or tool results cannot be sent to an OpenAI-compatible endpoint.",
                ));
            }
        }
    }
    if target.reasoning_format == ReasoningFormat::Disabled {
        reasoning.clear();
    }
    if text.is_empty() && refusal.is_empty() && calls.is_empty() && reasoning.is_empty() {
        return Ok(None);
    }
    let mut msg = json!({"role": "assistant"});
    msg["content"] = match (text.is_empty(), calls.is_empty()) {
        (false, _) => text.into(),
        (true, false) => Value::Null,
        (true, true) => "".into(),
    };
    if !refusal.is_empty() {
        msg["refusal"] = refusal.into();
    }
    if !calls.is_empty() {
        msg["tool_calls"] = calls.into();
    }
    if !reasoning.is_empty() {
        msg[target.reasoning_key.field()] = reasoning.join("\n\n").into();
    }
    Ok(Some(msg))
}
