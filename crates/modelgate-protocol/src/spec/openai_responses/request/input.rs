//! Decoding a Responses request's `input`: messages, content parts, tool
//! calls and their outputs, reasoning items (the rules are in the docs of
//! the `request` module).

use serde_json::{Map, Value, json};

use super::{Result, bad, field, required_str, tools};
use crate::ir::{ChatRequest, Content, ImageSource, Message, Role};
use crate::spec::openai_responses::wire::{Encrypted, unwrap_encrypted};

/// Which content parts a place may hold.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Parts {
    /// `system` and `developer` messages: text only.
    System,
    /// `user` messages and tool outputs: text and images.
    User,
    /// `assistant` messages: text (input or output) and refusals.
    Assistant,
}

impl Parts {
    fn role(self) -> &'static str {
        match self {
            Parts::System => "system",
            Parts::User => "user",
            Parts::Assistant => "assistant",
        }
    }
}

pub(super) fn decode_input(input: Value, req: &mut ChatRequest) -> Result<()> {
    let items = match input {
        Value::String(text) => {
            push_merged(&mut req.messages, Role::User, text_block(&text));
            return Ok(());
        }
        Value::Array(items) => items,
        _ => {
            return Err(bad(
                "input",
                "input must be a string or an array of items (messages, function calls and their outputs).",
            ));
        }
    };
    for (i, item) in items.iter().enumerate() {
        let p = format!("input.{i}");
        let Value::Object(obj) = item else {
            return Err(bad(
                p.clone(),
                format!("{p} must be an object: a message or an item with a `type`."),
            ));
        };
        let kind = match field(obj, "type") {
            Some(Value::String(kind)) => kind.as_str(),
            None if obj.contains_key("role") => "message",
            Some(_) | None => {
                let param = format!("{p}.type");
                return Err(bad(
                    param.clone(),
                    format!(
                        "{param} is required: `message`, `function_call`, `function_call_output`, `reasoning`, …"
                    ),
                ));
            }
        };
        decode_item(kind, obj, &p, req)?;
    }
    Ok(())
}

fn decode_item(kind: &str, obj: &Map<String, Value>, p: &str, req: &mut ChatRequest) -> Result<()> {
    let (role, blocks) = match kind {
        "message" => return decode_message(obj, p, req),
        "function_call" => {
            let arguments = match field(obj, "arguments") {
                None => String::new(),
                Some(Value::String(s)) => s.clone(),
                Some(other) => other.to_string(),
            };
            let call = Content::ToolCall {
                id: required_str(obj, p, "call_id", "the id of the call")?.to_owned(),
                name: call_name(obj, p)?,
                arguments: if arguments.trim().is_empty() {
                    "{}".to_owned()
                } else {
                    arguments
                },
            };
            (Role::Assistant, vec![call])
        }
        "custom_tool_call" => {
            let input = match field(obj, "input") {
                None => "",
                Some(Value::String(s)) => s.as_str(),
                Some(_) => {
                    let param = format!("{p}.input");
                    return Err(bad(param.clone(), format!("{param} must be a string.")));
                }
            };
            let call = Content::ToolCall {
                id: required_str(obj, p, "call_id", "the id of the call")?.to_owned(),
                name: call_name(obj, p)?,
                arguments: json!({ "input": input }).to_string(),
            };
            (Role::Assistant, vec![call])
        }
        "function_call_output" | "custom_tool_call_output" => {
            let id = required_str(obj, p, "call_id", "the id of the call this answers")?;
            let content =
                decode_content(field(obj, "output"), &format!("{p}.output"), Parts::User)?;
            let result = Content::ToolResult {
                id: id.to_owned(),
                content,
                is_error: false,
            };
            (Role::Tool, vec![result])
        }
        "reasoning" => (Role::Assistant, decode_reasoning(obj)),
        "additional_tools" => {
            let tools = field(obj, "tools").unwrap_or(&Value::Null);
            return tools::decode_tools(tools, &format!("{p}.tools"), req);
        }
        "item_reference" => {
            return Err(bad(
                p,
                format!(
                    "{p} is an `item_reference`: modelgate does not store items, so references \
                     only work when the model's endpoint is an `openai-responses` endpoint; send \
                     the item itself instead."
                ),
            ));
        }
        "compaction" => {
            return Err(bad(
                p,
                format!(
                    "{p} is a `compaction` item: it holds earlier conversation encrypted by \
                     OpenAI, which only an `openai-responses` endpoint can read; start a new \
                     conversation, or compact it locally, to use this model."
                ),
            ));
        }
        // Markers that ask OpenAI's server to do something mid-conversation;
        // they carry no content for another model.
        "compaction_trigger" | "configuration_update" => return Ok(()),
        kind if is_hosted_item(kind) => return Ok(()),
        other => {
            let param = format!("{p}.type");
            return Err(bad(
                param.clone(),
                format!(
                    "{param}: item type `{other}` cannot be translated to another format; send \
                     messages, function calls, their outputs and reasoning, or use a model on an \
                     `openai-responses` endpoint."
                ),
            ));
        }
    };
    push_merged(&mut req.messages, role, blocks);
    Ok(())
}

/// Items of hosted tools (run by OpenAI, or answered for them by the
/// client): the target never offered those tools, so their history is
/// left out.
fn is_hosted_item(kind: &str) -> bool {
    matches!(
        kind,
        "web_search_call"
            | "file_search_call"
            | "computer_call"
            | "computer_call_output"
            | "code_interpreter_call"
            | "image_generation_call"
            | "local_shell_call"
            | "local_shell_call_output"
            | "shell_call"
            | "shell_call_output"
            | "apply_patch_call"
            | "apply_patch_call_output"
            | "tool_search_call"
            | "tool_search_output"
            | "program"
            | "program_output"
    ) || kind.starts_with("mcp_")
}

/// The canonical name of a called tool: `namespace.name` when namespaced.
fn call_name(obj: &Map<String, Value>, p: &str) -> Result<String> {
    let name = required_str(obj, p, "name", "the name of the called tool")?;
    Ok(match field(obj, "namespace").and_then(Value::as_str) {
        Some(ns) if !ns.is_empty() => format!("{ns}.{name}"),
        _ => name.to_owned(),
    })
}

fn decode_message(obj: &Map<String, Value>, p: &str, req: &mut ChatRequest) -> Result<()> {
    let role = required_str(obj, p, "role", "user, assistant, system or developer")?;
    let content = field(obj, "content");
    let pc = format!("{p}.content");
    match role {
        "system" | "developer" => req
            .system
            .extend(decode_content(content, &pc, Parts::System)?),
        "user" => {
            let blocks = decode_content(content, &pc, Parts::User)?;
            push_merged(&mut req.messages, Role::User, blocks);
        }
        "assistant" => {
            let blocks = decode_content(content, &pc, Parts::Assistant)?;
            push_merged(&mut req.messages, Role::Assistant, blocks);
        }
        other => {
            let param = format!("{p}.role");
            return Err(bad(
                param.clone(),
                format!(
                    "{param}: unknown role `{other}`; expected user, assistant, system or developer."
                ),
            ));
        }
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

fn text_block(text: &str) -> Vec<Content> {
    if text.is_empty() {
        Vec::new()
    } else {
        vec![Content::text(text)]
    }
}

/// A message's `content` or a tool's `output`: absent, a string, or parts.
fn decode_content(content: Option<&Value>, p: &str, allowed: Parts) -> Result<Vec<Content>> {
    let parts = match content {
        None => return Ok(Vec::new()),
        Some(Value::String(s)) => return Ok(text_block(s)),
        Some(Value::Array(parts)) => parts,
        Some(_) => {
            return Err(bad(
                p,
                format!("{p} must be a string or an array of content parts."),
            ));
        }
    };
    let mut blocks = Vec::with_capacity(parts.len());
    for (j, part) in parts.iter().enumerate() {
        let pp = format!("{p}.{j}");
        let Value::Object(part) = part else {
            return Err(bad(
                pp.clone(),
                format!("{pp} must be an object with a `type`."),
            ));
        };
        let kind = field(part, "type").and_then(Value::as_str).unwrap_or("");
        match (kind, allowed) {
            ("input_text", _) | ("output_text", Parts::Assistant) => {
                let text = required_string(part, &pp, "text")?;
                blocks.extend(text_block(text));
            }
            ("refusal", Parts::Assistant) => {
                let text = required_string(part, &pp, "refusal")?;
                if !text.is_empty() {
                    blocks.push(Content::Refusal {
                        text: text.to_owned(),
                    });
                }
            }
            ("input_image", Parts::User) => blocks.push(decode_image(part, &pp)?),
            ("input_file", _) => {
                return Err(bad(
                    pp.clone(),
                    format!(
                        "{pp} is an `input_file` part, which cannot be translated to another \
                         format; send its text as `input_text`, or use a model on an \
                         `openai-responses` endpoint."
                    ),
                ));
            }
            _ => {
                let kind = if kind.is_empty() { "(none)" } else { kind };
                return Err(bad(
                    pp.clone(),
                    format!(
                        "{pp}: content part type `{kind}` is not allowed in a {} message; send \
                         `input_text`{}.",
                        allowed.role(),
                        match allowed {
                            Parts::System => "",
                            Parts::User => " or `input_image`",
                            Parts::Assistant => ", `output_text` or `refusal`",
                        }
                    ),
                ));
            }
        }
    }
    Ok(blocks)
}

/// A string field that must be present (it may be empty).
fn required_string<'a>(part: &'a Map<String, Value>, pp: &str, key: &str) -> Result<&'a str> {
    field(part, key).and_then(Value::as_str).ok_or_else(|| {
        let param = format!("{pp}.{key}");
        bad(param.clone(), format!("{param} is required: a string."))
    })
}

fn decode_image(part: &Map<String, Value>, pp: &str) -> Result<Content> {
    let url = field(part, "image_url").and_then(Value::as_str);
    let Some(url) = url.filter(|u| !u.is_empty()) else {
        if field(part, "file_id").is_some() {
            return Err(bad(
                pp,
                format!(
                    "{pp} names an uploaded file (`file_id`), which only OpenAI can read: \
                     upload-free images only; send the image as `image_url` (an https URL or a \
                     data: URL)."
                ),
            ));
        }
        let param = format!("{pp}.image_url");
        return Err(bad(
            param.clone(),
            format!("{param} is required: an https URL or a data: URL."),
        ));
    };
    Ok(Content::Image {
        source: ImageSource::from_url(url),
        detail: field(part, "detail")
            .and_then(Value::as_str)
            .map(str::to_owned),
    })
}

/// A `reasoning` item's blocks (see the module docs of `request`).
fn decode_reasoning(obj: &Map<String, Value>) -> Vec<Content> {
    let texts = |key: &str, kind: &str| -> String {
        let Some(Value::Array(items)) = field(obj, key) else {
            return String::new();
        };
        let texts: Vec<&str> = items
            .iter()
            .filter(|it| {
                it.get("type")
                    .and_then(Value::as_str)
                    .is_none_or(|t| t == kind)
            })
            .filter_map(|it| it.get("text").and_then(Value::as_str))
            .filter(|t| !t.is_empty())
            .collect();
        texts.join("\n\n")
    };
    let mut text = texts("summary", "summary_text");
    if text.is_empty() {
        text = texts("content", "reasoning_text");
    }
    let encrypted = field(obj, "encrypted_content")
        .and_then(Value::as_str)
        .filter(|e| !e.is_empty());
    let block = match encrypted.map(unwrap_encrypted) {
        Some(Encrypted::Signature {
            signed_by,
            signature,
        }) => Content::Reasoning {
            text,
            signature: Some(signature.to_owned()),
            signed_by: Some(signed_by.to_owned()),
        },
        Some(Encrypted::Redacted { signed_by, data }) => Content::RedactedReasoning {
            data: data.to_owned(),
            signed_by: Some(signed_by.to_owned()),
        },
        None if text.is_empty() => return Vec::new(),
        None => Content::Reasoning {
            text,
            signature: None,
            signed_by: None,
        },
    };
    vec![block]
}
