//! Decoding the `messages` of a request (and the assistant message of a
//! response): roles, content parts, reasoning, tool calls.

use serde_json::{Map, Value};

use super::{Result, bad};
use crate::ir::{ChatRequest, Content, ImageSource, Message, Role};
use crate::spec::openai_chat::wire::signer;
use crate::translate::ToolNames;

/// Which part types a role's content may hold.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Parts {
    /// `system`, `developer`: text only.
    Text,
    /// `user` and `tool`: text and images.
    TextImages,
    /// `assistant`: text and refusals.
    Assistant,
}

pub(super) fn decode_messages(value: Value, req: &mut ChatRequest) -> Result<()> {
    let Value::Array(items) = value else {
        return Err(bad(
            "messages",
            "`messages` must be an array of chat messages.",
        ));
    };
    if items.is_empty() {
        return Err(bad(
            "messages",
            "`messages` must contain at least one message.",
        ));
    }
    for (i, item) in items.iter().enumerate() {
        let p = format!("messages[{i}]");
        let Value::Object(msg) = item else {
            return Err(bad(
                p.clone(),
                format!("`{p}` must be an object with `role` and `content`."),
            ));
        };
        let role = msg.get("role").and_then(Value::as_str).ok_or_else(|| {
            bad(
                format!("{p}.role"),
                format!("`{p}.role` is required: system, developer, user, assistant or tool."),
            )
        })?;
        let content = msg.get("content");
        let (role, blocks) = match role {
            "system" | "developer" => {
                req.system.extend(decode_parts(content, &p, Parts::Text)?);
                continue;
            }
            "user" => (Role::User, decode_parts(content, &p, Parts::TextImages)?),
            "assistant" => (Role::Assistant, decode_assistant(msg, &p, None)?),
            "tool" => {
                let id = msg.get("tool_call_id").and_then(Value::as_str);
                let id = id.ok_or_else(|| {
                    let param = format!("{p}.tool_call_id");
                    let message =
                        format!("`{param}` is required: the id of the tool call this answers.");
                    bad(param, message)
                })?;
                let content = decode_parts(content, &p, Parts::TextImages)?;
                (
                    Role::Tool,
                    vec![Content::ToolResult {
                        id: id.to_owned(),
                        content,
                        is_error: false,
                    }],
                )
            }
            "function" => {
                return Err(bad(
                    format!("{p}.role"),
                    "The deprecated `function` role cannot be translated; send `tool` messages with `tool_call_id`.",
                ));
            }
            other => {
                return Err(bad(
                    format!("{p}.role"),
                    format!(
                        "Unknown role `{other}`; expected system, developer, user, assistant or tool."
                    ),
                ));
            }
        };
        push_merged(&mut req.messages, role, blocks);
    }
    Ok(())
}

/// Appends blocks to the conversation, merging with a previous message of
/// the same role; nothing is appended for no blocks.
fn push_merged(messages: &mut Vec<Message>, role: Role, content: Vec<Content>) {
    if content.is_empty() {
        return;
    }
    match messages.last_mut() {
        Some(last) if last.role == role => last.content.extend(content),
        _ => messages.push(Message { role, content }),
    }
}

fn text_block(text: &str, cache_control: Option<&Value>) -> Option<Content> {
    (!text.is_empty()).then(|| Content::Text {
        text: text.to_owned(),
        cache_control: cache_control.filter(|c| !c.is_null()).cloned(),
    })
}

/// A message's `content`: absent, null, a string, or an array of parts.
fn decode_parts(content: Option<&Value>, p: &str, allowed: Parts) -> Result<Vec<Content>> {
    let parts = match content {
        None | Some(Value::Null) => return Ok(Vec::new()),
        Some(Value::String(s)) => return Ok(text_block(s, None).into_iter().collect()),
        Some(Value::Array(parts)) => parts,
        Some(_) => {
            return Err(bad(
                format!("{p}.content"),
                format!("`{p}.content` must be a string or an array of content parts."),
            ));
        }
    };
    let mut blocks = Vec::with_capacity(parts.len());
    for (j, part) in parts.iter().enumerate() {
        let pp = format!("{p}.content[{j}]");
        let kind = part.get("type").and_then(Value::as_str).unwrap_or("");
        match (kind, allowed) {
            ("text", _) => {
                let text = part.get("text").and_then(Value::as_str).ok_or_else(|| {
                    bad(
                        format!("{pp}.text"),
                        format!("`{pp}.text` is required: a string."),
                    )
                })?;
                blocks.extend(text_block(text, part.get("cache_control")));
            }
            ("image_url", Parts::TextImages) => blocks.push(decode_image(part, &pp)?),
            ("refusal", Parts::Assistant) => {
                let text = part.get("refusal").and_then(Value::as_str).unwrap_or("");
                if !text.is_empty() {
                    blocks.push(Content::Refusal {
                        text: text.to_owned(),
                    });
                }
            }
            ("input_audio" | "file", _) => {
                return Err(bad(
                    format!("{pp}.type"),
                    format!(
                        "Content part type `{kind}` cannot be translated to another format; send text or images, or use an endpoint that speaks OpenAI Chat Completions."
                    ),
                ));
            }
            _ => {
                return Err(bad(
                    format!("{pp}.type"),
                    format!("Content part type `{kind}` is not allowed here."),
                ));
            }
        }
    }
    Ok(blocks)
}

fn decode_image(part: &Value, pp: &str) -> Result<Content> {
    let image = part.get("image_url");
    let (url, detail) = match image {
        Some(Value::String(url)) => (Some(url.as_str()), None),
        Some(obj) => (
            obj.get("url").and_then(Value::as_str),
            obj.get("detail").and_then(Value::as_str),
        ),
        None => (None, None),
    };
    let url = url.filter(|u| !u.is_empty()).ok_or_else(|| {
        bad(
            format!("{pp}.image_url.url"),
            format!("`{pp}.image_url.url` is required: an https URL or a data: URL."),
        )
    })?;
    Ok(Content::Image {
        source: ImageSource::from_url(url),
        detail: detail.map(str::to_owned),
    })
}

/// An assistant message's blocks, in canonical order: reasoning, content
/// (text, refusal parts), `refusal`, tool calls. Shared with the response
/// decoder, which passes `names` to map tool names back.
pub(crate) fn decode_assistant(
    msg: &Map<String, Value>,
    p: &str,
    names: Option<&ToolNames>,
) -> Result<Vec<Content>> {
    let mut blocks = decode_reasoning_fields(msg);
    blocks.extend(decode_parts(msg.get("content"), p, Parts::Assistant)?);
    if let Some(refusal) = msg
        .get("refusal")
        .and_then(Value::as_str)
        .filter(|r| !r.is_empty())
    {
        blocks.push(Content::Refusal {
            text: refusal.to_owned(),
        });
    }
    if msg.get("function_call").is_some_and(|f| !f.is_null()) {
        return Err(bad(
            format!("{p}.function_call"),
            "The deprecated `function_call` cannot be translated; use `tool_calls`.",
        ));
    }
    let calls = match msg.get("tool_calls") {
        None | Some(Value::Null) => return Ok(blocks),
        Some(Value::Array(calls)) => calls,
        Some(_) => {
            return Err(bad(
                format!("{p}.tool_calls"),
                format!("`{p}.tool_calls` must be an array."),
            ));
        }
    };
    for (k, call) in calls.iter().enumerate() {
        let pc = format!("{p}.tool_calls[{k}]");
        let kind = call
            .get("type")
            .and_then(Value::as_str)
            .unwrap_or("function");
        if kind != "function" {
            return Err(bad(
                format!("{pc}.type"),
                format!("Tool call type `{kind}` cannot be translated to another format."),
            ));
        }
        let id = call
            .get("id")
            .and_then(Value::as_str)
            .ok_or_else(|| bad(format!("{pc}.id"), format!("`{pc}.id` is required.")))?;
        let function = call.get("function");
        let name = function.and_then(|f| f.get("name")).and_then(Value::as_str);
        let name = name.ok_or_else(|| {
            bad(
                format!("{pc}.function.name"),
                format!("`{pc}.function.name` is required."),
            )
        })?;
        let arguments = match function.and_then(|f| f.get("arguments")) {
            None | Some(Value::Null) => String::new(),
            Some(Value::String(s)) => s.clone(),
            Some(other) => other.to_string(),
        };
        blocks.push(Content::ToolCall {
            id: id.to_owned(),
            name: names.map_or(name, |n| n.to_client(name)).to_owned(),
            arguments: if arguments.trim().is_empty() {
                "{}".to_owned()
            } else {
                arguments
            },
        });
    }
    Ok(blocks)
}

/// `reasoning_details` when present (non-empty), else the plain reasoning string.
fn decode_reasoning_fields(msg: &Map<String, Value>) -> Vec<Content> {
    let text = ["reasoning_content", "reasoning"].iter().find_map(|k| {
        msg.get(*k)
            .and_then(Value::as_str)
            .filter(|t| !t.is_empty())
    });
    if let Some(details) = msg
        .get("reasoning_details")
        .and_then(Value::as_array)
        .filter(|d| !d.is_empty())
    {
        let mut blocks: Vec<Content> = details.iter().filter_map(decode_reasoning_detail).collect();
        // A client that accumulated a stream holds the text in
        // `reasoning_content` and the signature in a detail whose text is
        // empty (streams carry them apart); the signature covers that text.
        let details_have_text = blocks
            .iter()
            .any(|b| matches!(b, Content::Reasoning { text, .. } if !text.is_empty()));
        if let (false, Some(plain)) = (details_have_text, text)
            && let Some(Content::Reasoning { text, .. }) = blocks
                .iter_mut()
                .find(|b| matches!(b, Content::Reasoning { .. }))
        {
            *text = plain.to_owned();
        }
        return blocks;
    }
    text.map(|t| Content::Reasoning {
        text: t.to_owned(),
        signature: None,
        signed_by: None,
    })
    .into_iter()
    .collect()
}

/// One OpenRouter-style `reasoning_details` item; unknown types give nothing.
fn decode_reasoning_detail(d: &Value) -> Option<Content> {
    let field = |k: &str| d.get(k).and_then(Value::as_str);
    match field("type")? {
        "reasoning.text" => {
            let text = field("text").unwrap_or("");
            let signature = field("signature").filter(|s| !s.is_empty());
            if text.is_empty() && signature.is_none() {
                return None;
            }
            Some(Content::Reasoning {
                text: text.to_owned(),
                signature: signature.map(str::to_owned),
                signed_by: signature.and_then(|_| signer(field("format"))),
            })
        }
        "reasoning.summary" => {
            field("summary")
                .filter(|s| !s.is_empty())
                .map(|s| Content::Reasoning {
                    text: s.to_owned(),
                    signature: None,
                    signed_by: None,
                })
        }
        "reasoning.encrypted" => {
            field("data")
                .filter(|s| !s.is_empty())
                .map(|data| Content::RedactedReasoning {
                    data: data.to_owned(),
                    signed_by: signer(field("format")),
                })
        }
        _ => None,
    }
}
