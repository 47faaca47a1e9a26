//! Anthropic Messages requests: a client's body → [`ChatRequest`]
//! ([`decode_request`]), and [`ChatRequest`] → a body for an Anthropic
//! endpoint ([`encode_request`], in the private `request_encode` module).
//!
//! Decoding rules (every error is a 400 `invalid_request_error` whose
//! message starts with the field path, Anthropic style `messages.1.content.0`,
//! and whose `param` is that path):
//!
//! * `model`, `max_tokens`, `messages` are required; `null` counts as absent
//!   for every field.
//! * `system`: a string or text blocks (`cache_control` kept) → `system`.
//!   A `system` role inside `messages` (newer API) is hoisted there too.
//! * User blocks: text, image (`base64` / `url` source), `tool_result`
//!   (content a string or text/image blocks, `is_error`). The tool results of
//!   a user message become a [`Role::Tool`] message placed *before* a
//!   [`Role::User`] message holding its other blocks. `document` and other
//!   block types have no canonical form: 400 "cannot be translated".
//! * Assistant blocks: text, `tool_use` (input → compact JSON arguments),
//!   `thinking` / `redacted_thinking` (signed by [`SIGNED_BY_ANTHROPIC`]).
//!   A `thinking` block is signed only when its `signature` is non-empty:
//!   `"signature": ""` (what a client got for reasoning an OpenAI-compatible
//!   endpoint produced) is unsigned reasoning, replayed to such endpoints
//!   and never sent to Anthropic. A thinking block with neither text nor
//!   signature is dropped.
//! * Empty text blocks and empty messages are dropped; consecutive messages
//!   of the same role are merged.
//! * `tools`: custom tools only (no `type`, or `type: "custom"`); a server
//!   tool (`web_search_*`, `bash_*`, …) is a 400 as it cannot be sent to a
//!   non-Anthropic endpoint. `tool_choice` auto/any/tool/none →
//!   Auto/Required/Tool/None; `disable_parallel_tool_use: true` →
//!   `parallel_tool_calls: Some(false)`.
//! * `thinking`: enabled → budget; adaptive → effort `medium` (unless
//!   `output_config.effort`); disabled → disabled. `output_config.effort` →
//!   effort; `output_config.format` json_schema → [`ResponseFormat::JsonSchema`]
//!   named `response`.
//! * `temperature`, `top_p`, `top_k`, `stop_sequences`, `metadata.user_id`,
//!   `stream` map to their canonical fields; every other top-level field is
//!   kept in `extra` (other `metadata` / `output_config` keys are dropped).

use serde_json::{Map, Value};

pub use super::request_encode::{MAX_RAISED_TOKENS, encode_request};
use crate::ir::sealed::{self, Sealed};
use crate::ir::{
    ChatRequest, Content, GatewayError, ImageSource, Message, Reasoning, ResponseFormat, Role,
    SIGNED_BY_ANTHROPIC, Tool, ToolChoice,
};

/// Decodes an Anthropic Messages request body.
pub fn decode_request(body: &[u8]) -> Result<ChatRequest, GatewayError> {
    let value: Value = serde_json::from_slice(body).map_err(|e| {
        GatewayError::invalid_request(format!("the request body is not valid JSON: {e}"))
    })?;
    let Value::Object(mut obj) = value else {
        return Err(GatewayError::invalid_request(
            "the request body must be a JSON object",
        ));
    };
    let mut req = ChatRequest {
        model: string(required(&mut obj, "model")?, "model")?,
        max_tokens: Some(uint(required(&mut obj, "max_tokens")?, "max_tokens")?),
        ..ChatRequest::default()
    };
    let messages = required(&mut obj, "messages")?;
    if let Some(system) = take(&mut obj, "system") {
        req.system = system_blocks(system, "system")?;
    }
    decode_messages(messages, &mut req)?;
    if let Some(tools) = take(&mut obj, "tools") {
        req.tools = decode_tools(tools)?;
    }
    if let Some(choice) = take(&mut obj, "tool_choice") {
        decode_tool_choice(choice, &mut req)?;
    }
    decode_reasoning(
        take(&mut obj, "thinking"),
        take(&mut obj, "output_config"),
        &mut req,
    )?;
    if let Some(v) = take(&mut obj, "temperature") {
        req.temperature = Some(float(v, "temperature")?);
    }
    if let Some(v) = take(&mut obj, "top_p") {
        req.top_p = Some(float(v, "top_p")?);
    }
    if let Some(v) = take(&mut obj, "top_k") {
        req.top_k = Some(uint(v, "top_k")?);
    }
    if let Some(v) = take(&mut obj, "stop_sequences") {
        req.stop = array(v, "stop_sequences")?
            .into_iter()
            .enumerate()
            .map(|(i, s)| string(s, &format!("stop_sequences.{i}")))
            .collect::<Result<_, _>>()?;
    }
    if let Some(v) = take(&mut obj, "metadata") {
        let mut metadata = object(v, "metadata")?;
        if let Some(user) = take(&mut metadata, "user_id") {
            req.user = Some(string(user, "metadata.user_id")?);
        }
    }
    if let Some(v) = take(&mut obj, "stream") {
        req.stream = v
            .as_bool()
            .ok_or_else(|| invalid("stream", "must be a boolean"))?;
    }
    req.extra = obj.into_iter().filter(|(_, v)| !v.is_null()).collect();
    Ok(req)
}

fn decode_messages(value: Value, req: &mut ChatRequest) -> Result<(), GatewayError> {
    for (i, item) in array(value, "messages")?.into_iter().enumerate() {
        let path = format!("messages.{i}");
        let mut msg = object(item, &path)?;
        let role = string(
            required_at(&mut msg, "role", &path)?,
            &format!("{path}.role"),
        )?;
        let content = required_at(&mut msg, "content", &path)?;
        let blocks = blocks(content, &format!("{path}.content"))?;
        match role.as_str() {
            "user" => {
                let mut results = Vec::new();
                let mut others = Vec::new();
                for (j, block) in blocks.into_iter().enumerate() {
                    match user_block(block, &format!("{path}.content.{j}"))? {
                        Some(c @ Content::ToolResult { .. }) => results.push(c),
                        Some(c) => others.push(c),
                        None => {}
                    }
                }
                push_message(&mut req.messages, Role::Tool, results);
                push_message(&mut req.messages, Role::User, others);
            }
            "assistant" => {
                let mut content = Vec::new();
                for (j, block) in blocks.into_iter().enumerate() {
                    content.extend(assistant_block(block, &format!("{path}.content.{j}"))?);
                }
                push_message(&mut req.messages, Role::Assistant, content);
            }
            "system" => {
                let blocks = blocks.into_iter().map(Value::Object).collect();
                let system = system_blocks(Value::Array(blocks), &format!("{path}.content"))?;
                req.system.extend(system);
            }
            other => {
                return Err(invalid(
                    &format!("{path}.role"),
                    format!("unknown role `{other}`; expected `user` or `assistant`"),
                ));
            }
        }
    }
    Ok(())
}

/// Appends a message, merging it into the previous one of the same role.
fn push_message(messages: &mut Vec<Message>, role: Role, content: Vec<Content>) {
    if content.is_empty() {
        return;
    }
    match messages.last_mut() {
        Some(last) if last.role == role => last.content.extend(content),
        _ => messages.push(Message { role, content }),
    }
}

/// A message's `content`: a string is one text block.
fn blocks(content: Value, path: &str) -> Result<Vec<Map<String, Value>>, GatewayError> {
    match content {
        Value::String(text) => {
            let mut block = Map::new();
            block.insert("type".into(), "text".into());
            block.insert("text".into(), Value::String(text));
            Ok(vec![block])
        }
        Value::Array(items) => items
            .into_iter()
            .enumerate()
            .map(|(j, b)| object(b, &format!("{path}.{j}")))
            .collect(),
        _ => Err(invalid(
            path,
            "must be a string or an array of content blocks",
        )),
    }
}

fn block_type(block: &mut Map<String, Value>, path: &str) -> Result<String, GatewayError> {
    string(required_at(block, "type", path)?, &format!("{path}.type"))
}

/// A text block, `None` when empty.
fn text_block(mut block: Map<String, Value>, path: &str) -> Result<Option<Content>, GatewayError> {
    let text = string(
        required_at(&mut block, "text", path)?,
        &format!("{path}.text"),
    )?;
    Ok((!text.is_empty()).then(|| Content::Text {
        text,
        cache_control: take(&mut block, "cache_control"),
    }))
}

fn system_blocks(value: Value, path: &str) -> Result<Vec<Content>, GatewayError> {
    let mut out = Vec::new();
    for (j, mut block) in blocks(value, path)?.into_iter().enumerate() {
        let path = format!("{path}.{j}");
        match block_type(&mut block, &path)?.as_str() {
            "text" => out.extend(text_block(block, &path)?),
            other => {
                return Err(invalid(
                    &format!("{path}.type"),
                    format!("system blocks must be `text`, not `{other}`"),
                ));
            }
        }
    }
    Ok(out)
}

fn user_block(mut block: Map<String, Value>, path: &str) -> Result<Option<Content>, GatewayError> {
    match block_type(&mut block, path)?.as_str() {
        "text" => text_block(block, path),
        "image" => image_block(block, path).map(Some),
        "tool_result" => {
            let id = string(
                required_at(&mut block, "tool_use_id", path)?,
                &format!("{path}.tool_use_id"),
            )?;
            let mut content = Vec::new();
            if let Some(v) = take(&mut block, "content") {
                let content_path = format!("{path}.content");
                for (k, mut inner) in blocks(v, &content_path)?.into_iter().enumerate() {
                    let inner_path = format!("{content_path}.{k}");
                    match block_type(&mut inner, &inner_path)?.as_str() {
                        "text" => content.extend(text_block(inner, &inner_path)?),
                        "image" => content.push(image_block(inner, &inner_path)?),
                        other => return Err(untranslatable(&inner_path, other)),
                    }
                }
            }
            let is_error = match take(&mut block, "is_error") {
                Some(v) => v
                    .as_bool()
                    .ok_or_else(|| invalid(&format!("{path}.is_error"), "must be a boolean"))?,
                None => false,
            };
            Ok(Some(Content::ToolResult {
                id,
                content,
                is_error,
            }))
        }
        t @ ("tool_use" | "thinking" | "redacted_thinking") => Err(invalid(
            &format!("{path}.type"),
            format!("`{t}` blocks are only allowed in assistant messages"),
        )),
        other => Err(untranslatable(path, other)),
    }
}

fn image_block(mut block: Map<String, Value>, path: &str) -> Result<Content, GatewayError> {
    let source_path = format!("{path}.source");
    let mut source = object(required_at(&mut block, "source", path)?, &source_path)?;
    let source = match block_type(&mut source, &source_path)?.as_str() {
        "base64" => ImageSource::Base64 {
            media_type: string(
                required_at(&mut source, "media_type", &source_path)?,
                &format!("{source_path}.media_type"),
            )?,
            data: string(
                required_at(&mut source, "data", &source_path)?,
                &format!("{source_path}.data"),
            )?,
        },
        "url" => ImageSource::Url {
            url: string(
                required_at(&mut source, "url", &source_path)?,
                &format!("{source_path}.url"),
            )?,
        },
        other => {
            return Err(invalid(
                &format!("{source_path}.type"),
                format!(
                    "image sources of type `{other}` cannot be translated for this endpoint; \
                     send the image as `base64` or `url`"
                ),
            ));
        }
    };
    Ok(Content::Image {
        source,
        detail: None,
    })
}

fn assistant_block(
    mut block: Map<String, Value>,
    path: &str,
) -> Result<Option<Content>, GatewayError> {
    let signed_by = || Some(SIGNED_BY_ANTHROPIC.to_owned());
    Ok(match block_type(&mut block, path)?.as_str() {
        "text" => text_block(block, path)?,
        "tool_use" => Some(Content::ToolCall {
            id: string(required_at(&mut block, "id", path)?, &format!("{path}.id"))?,
            name: string(
                required_at(&mut block, "name", path)?,
                &format!("{path}.name"),
            )?,
            arguments: super::wire::arguments_text(take(&mut block, "input").as_ref()),
        }),
        "thinking" => {
            let text = match take(&mut block, "thinking") {
                Some(v) => string(v, &format!("{path}.thinking"))?,
                None => String::new(),
            };
            let signature = match take(&mut block, "signature") {
                Some(v) => Some(string(v, &format!("{path}.signature"))?).filter(|s| !s.is_empty()),
                None => None,
            };
            // An empty signature is no signature: the block is unsigned
            // reasoning. One the gateway wrapped names its own producer.
            let (signature, signed_by) = match signature.as_deref().map(sealed::unwrap) {
                Some(Some(Sealed::Signature {
                    signed_by,
                    signature,
                })) => (Some(signature.to_owned()), Some(signed_by.to_owned())),
                Some(_) => (signature, signed_by()),
                None => (None, None),
            };
            (!text.is_empty() || signature.is_some()).then_some(Content::Reasoning {
                text,
                signature,
                signed_by,
            })
        }
        "redacted_thinking" => {
            let data = string(
                required_at(&mut block, "data", path)?,
                &format!("{path}.data"),
            )?;
            Some(match sealed::unwrap(&data) {
                Some(Sealed::Redacted { signed_by, data }) => Content::RedactedReasoning {
                    data: data.to_owned(),
                    signed_by: Some(signed_by.to_owned()),
                },
                _ => Content::RedactedReasoning {
                    data,
                    signed_by: signed_by(),
                },
            })
        }
        "tool_result" => {
            return Err(invalid(
                &format!("{path}.type"),
                "`tool_result` blocks are only allowed in user messages",
            ));
        }
        other => return Err(untranslatable(path, other)),
    })
}

fn decode_tools(value: Value) -> Result<Vec<Tool>, GatewayError> {
    let mut tools = Vec::new();
    for (i, item) in array(value, "tools")?.into_iter().enumerate() {
        let path = format!("tools.{i}");
        let mut tool = object(item, &path)?;
        let name = take(&mut tool, "name").and_then(|n| n.as_str().map(str::to_owned));
        match take(&mut tool, "type").as_ref().and_then(Value::as_str) {
            None | Some("custom") => {}
            Some(kind) => {
                return Err(invalid(
                    &format!("{path}.type"),
                    format!(
                        "the server tool `{kind}` (`{}`) runs on Anthropic's servers and cannot be \
                         sent to a non-Anthropic endpoint; remove it or route this model to an \
                         Anthropic endpoint",
                        name.as_deref().unwrap_or("unnamed")
                    ),
                ));
            }
        }
        let name = name.ok_or_else(|| invalid(&format!("{path}.name"), "a string is required"))?;
        let description = match take(&mut tool, "description") {
            Some(v) => Some(string(v, &format!("{path}.description"))?),
            None => None,
        };
        let parameters = take(&mut tool, "input_schema")
            .unwrap_or_else(|| serde_json::json!({"type": "object", "properties": {}}));
        let strict = take(&mut tool, "strict").and_then(|v| v.as_bool());
        tools.push(Tool {
            name,
            description,
            parameters,
            strict,
        });
    }
    Ok(tools)
}

fn decode_tool_choice(value: Value, req: &mut ChatRequest) -> Result<(), GatewayError> {
    let mut choice = object(value, "tool_choice")?;
    req.tool_choice = Some(match block_type(&mut choice, "tool_choice")?.as_str() {
        "auto" => ToolChoice::Auto,
        "any" => ToolChoice::Required,
        "none" => ToolChoice::None,
        "tool" => ToolChoice::Tool {
            name: string(
                required_at(&mut choice, "name", "tool_choice")?,
                "tool_choice.name",
            )?,
        },
        other => {
            return Err(invalid(
                "tool_choice.type",
                format!("unknown tool_choice `{other}`; expected auto, any, tool or none"),
            ));
        }
    });
    if take(&mut choice, "disable_parallel_tool_use").and_then(|v| v.as_bool()) == Some(true) {
        req.parallel_tool_calls = Some(false);
    }
    Ok(())
}

fn decode_reasoning(
    thinking: Option<Value>,
    output_config: Option<Value>,
    req: &mut ChatRequest,
) -> Result<(), GatewayError> {
    if let Some(v) = thinking {
        let mut thinking = object(v, "thinking")?;
        req.reasoning = Some(match block_type(&mut thinking, "thinking")?.as_str() {
            "enabled" => Reasoning {
                budget_tokens: Some(uint(
                    required_at(&mut thinking, "budget_tokens", "thinking")?,
                    "thinking.budget_tokens",
                )?),
                ..Reasoning::default()
            },
            "adaptive" => Reasoning {
                effort: Some("medium".to_owned()),
                ..Reasoning::default()
            },
            "disabled" => Reasoning {
                disabled: true,
                ..Reasoning::default()
            },
            other => {
                return Err(invalid(
                    "thinking.type",
                    format!(
                        "unknown thinking type `{other}`; expected enabled, adaptive or disabled"
                    ),
                ));
            }
        });
    }
    let Some(v) = output_config else {
        return Ok(());
    };
    let mut config = object(v, "output_config")?;
    if let Some(effort) = take(&mut config, "effort") {
        let effort = string(effort, "output_config.effort")?;
        req.reasoning.get_or_insert_with(Reasoning::default).effort = Some(effort);
    }
    if let Some(format) = take(&mut config, "format") {
        let mut format = object(format, "output_config.format")?;
        match block_type(&mut format, "output_config.format")?.as_str() {
            "json_schema" => {
                req.response_format = Some(ResponseFormat::JsonSchema {
                    name: "response".to_owned(),
                    schema: required_at(&mut format, "schema", "output_config.format")?,
                    strict: None,
                });
            }
            other => {
                return Err(invalid(
                    "output_config.format.type",
                    format!("unknown output format `{other}`; expected json_schema"),
                ));
            }
        }
    }
    Ok(())
}

// ---- small JSON helpers: every failure names its field ----

fn invalid(path: &str, message: impl std::fmt::Display) -> GatewayError {
    GatewayError::invalid_request(format!("{path}: {message}")).with_param(path)
}

fn untranslatable(path: &str, kind: &str) -> GatewayError {
    invalid(
        &format!("{path}.type"),
        format!(
            "`{kind}` blocks cannot be translated for this endpoint (it does not speak the \
             Anthropic Messages API); send the content as text or image blocks, or route this \
             model to an Anthropic endpoint"
        ),
    )
}

/// Removes `key`, treating `null` as absent.
fn take(obj: &mut Map<String, Value>, key: &str) -> Option<Value> {
    obj.remove(key).filter(|v| !v.is_null())
}

fn required(obj: &mut Map<String, Value>, key: &str) -> Result<Value, GatewayError> {
    take(obj, key).ok_or_else(|| invalid(key, "field required"))
}

fn required_at(obj: &mut Map<String, Value>, key: &str, path: &str) -> Result<Value, GatewayError> {
    take(obj, key).ok_or_else(|| invalid(&format!("{path}.{key}"), "field required"))
}

fn string(v: Value, path: &str) -> Result<String, GatewayError> {
    match v {
        Value::String(s) => Ok(s),
        _ => Err(invalid(path, "must be a string")),
    }
}

fn uint(v: Value, path: &str) -> Result<u64, GatewayError> {
    v.as_u64()
        .ok_or_else(|| invalid(path, "must be a non-negative integer"))
}

fn float(v: Value, path: &str) -> Result<f64, GatewayError> {
    v.as_f64().ok_or_else(|| invalid(path, "must be a number"))
}

fn array(v: Value, path: &str) -> Result<Vec<Value>, GatewayError> {
    match v {
        Value::Array(items) => Ok(items),
        _ => Err(invalid(path, "must be an array")),
    }
}

fn object(v: Value, path: &str) -> Result<Map<String, Value>, GatewayError> {
    match v {
        Value::Object(map) => Ok(map),
        _ => Err(invalid(path, "must be an object")),
    }
}
