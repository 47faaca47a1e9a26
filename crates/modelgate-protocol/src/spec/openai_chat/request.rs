//! OpenAI Chat Completions requests ↔ the canonical [`ChatRequest`].
//!
//! # Decoding (a client's body → canonical)
//!
//! * `system` and `developer` messages, wherever they appear, are hoisted
//!   into [`ChatRequest::system`] as text blocks, in order.
//! * `user`: a string or parts (`text`, `image_url` with its `detail`; a
//!   text part keeps an OpenRouter-style `cache_control`). `input_audio` and
//!   `file` parts are a 400: they cannot be translated to another format.
//! * `assistant`: reasoning first (`reasoning_details` when present and
//!   non-empty, else `reasoning_content`, else `reasoning`), then the
//!   content (text and `refusal` parts), the `refusal` field, then
//!   `tool_calls` (arguments `""` become `"{}"`). In `reasoning_details`,
//!   `reasoning.text` items become [`Reasoning`](crate::ir::Content::Reasoning) blocks
//!   — signed by `"anthropic"` when `format` starts with `anthropic`, else
//!   by the format string, and only when the item carries a signature —,
//!   `reasoning.encrypted` items [`RedactedReasoning`](crate::ir::Content::RedactedReasoning)
//!   blocks, `reasoning.summary` items unsigned reasoning; others are skipped.
//! * `tool`: one [`ToolResult`](crate::ir::Content::ToolResult) (`is_error: false`).
//! * Empty text blocks are never kept; a message left with no blocks is
//!   dropped; consecutive messages of one role (tool results included) are
//!   merged.
//! * The deprecated `function` role and assistant `function_call` are 400s
//!   (use `tools` and `tool` messages).
//! * Known fields are read (`max_completion_tokens` before `max_tokens`,
//!   `user` before `safety_identifier`, the `reasoning` object over
//!   `reasoning_effort`; `null` is "not set"); every other top-level field,
//!   `n` included, goes to `extra`.
//!
//! # Encoding (canonical → an OpenAI-compatible endpoint's body)
//!
//! * The system blocks become one leading `system` message (joined by a
//!   blank line). `developer` is never sent: many compatible servers reject it.
//! * Tool results become one `tool` message each (texts joined by a blank
//!   line; an error result's text starts with `Error: `, OpenAI having no
//!   error flag); images in tool results follow in one `user` message. Tool
//!   results found in a user message are sent the same way, before the text
//!   that followed them.
//! * Assistant text blocks are joined without separator (Anthropic splits
//!   one answer into several blocks around citations); unsigned reasoning is
//!   sent back in the target's reasoning field (joined by a blank line)
//!   unless reasoning is disabled for the target; signed and redacted
//!   reasoning are dropped — signatures go only to the spec that made them.
//!   Images or tool results in an assistant message are a 400. An assistant
//!   message left with nothing to send (e.g. only signed reasoning) is not
//!   sent, and the `user` (or `assistant`) messages it separated are merged.
//! * Tool names are renamed for OpenAI's rules through
//!   [`ToolNames`](crate::translate::ToolNames); tool-call ids are kept.
//! * `max_tokens` (not `max_completion_tokens`: compatible servers know it).
//! * The `reasoning` object (OpenRouter) is `{"effort"}` when an effort was
//!   given, else `{"max_tokens": budget}`, `{"enabled": false}` when
//!   disabled, `{"enabled": true}` when reasoning was asked with neither.
//! * A stream always asks for usage (`stream_options.include_usage`): the
//!   gateway needs it; the client's own wish is honoured by the encoder.
//! * `extra` is not sent: it belongs to a same-format target (passthrough).

mod messages;

pub use super::request_encode::encode_request;
pub(crate) use messages::decode_assistant;

use serde_json::{Value, json};

use crate::ir::{ChatRequest, GatewayError, Reasoning, ResponseFormat, Tool, ToolChoice};

pub(super) type Result<T> = std::result::Result<T, GatewayError>;

/// OpenAI's limit on function names.
pub(super) const NAME_MAX: usize = 64;

pub(super) fn bad(param: impl Into<String>, message: impl Into<String>) -> GatewayError {
    GatewayError::invalid_request(message).with_param(param)
}

/// Decodes a client's Chat Completions request. Errors are 400s naming the field.
pub fn decode_request(body: &[u8]) -> Result<ChatRequest> {
    let value: Value = serde_json::from_slice(body).map_err(|e| {
        GatewayError::invalid_request(format!(
            "The request body is not valid JSON ({e}). Send a JSON object with `model` and `messages`."
        ))
    })?;
    let Value::Object(map) = value else {
        return Err(GatewayError::invalid_request(
            "The request body must be a JSON object with `model` and `messages`.",
        ));
    };
    let mut req = ChatRequest::default();
    let (mut model, mut messages) = (None, None);
    let (mut effort, mut reasoning, mut max_completion, mut max_tokens, mut safety) =
        (None, None, None, None, None);
    for (key, value) in map {
        let k = key.as_str();
        match k {
            "model" => model = string(&value, k)?,
            "messages" => messages = Some(value),
            "max_completion_tokens" => max_completion = uint(&value, k)?,
            "max_tokens" => max_tokens = uint(&value, k)?,
            "temperature" => req.temperature = number(&value, k)?,
            "top_p" => req.top_p = number(&value, k)?,
            "top_k" => req.top_k = uint(&value, k)?,
            "frequency_penalty" => req.frequency_penalty = number(&value, k)?,
            "presence_penalty" => req.presence_penalty = number(&value, k)?,
            "seed" => req.seed = int(&value, k)?,
            "stop" => req.stop = decode_stop(&value)?,
            "reasoning_effort" => effort = string(&value, k)?,
            "reasoning" => reasoning = Some(value),
            "tools" => req.tools = decode_tools(&value)?,
            "tool_choice" => req.tool_choice = decode_tool_choice(&value)?,
            "parallel_tool_calls" => req.parallel_tool_calls = boolean(&value, k)?,
            "response_format" => req.response_format = decode_response_format(&value)?,
            "stream" => req.stream = boolean(&value, k)?.unwrap_or(false),
            "stream_options" => {
                req.include_usage = match &value {
                    Value::Null => false,
                    Value::Object(o) => o
                        .get("include_usage")
                        .map_or(Ok(None), |v| boolean(v, "stream_options.include_usage"))?
                        .unwrap_or(false),
                    _ => return Err(bad(k, "`stream_options` must be an object.")),
                }
            }
            "user" => req.user = string(&value, k)?,
            "safety_identifier" => safety = string(&value, k)?,
            _ => {
                req.extra.insert(key, value);
            }
        }
    }
    req.model = model
        .filter(|m| !m.is_empty())
        .ok_or_else(|| bad("model", "`model` is required: name the model to use."))?;
    let messages = messages.ok_or_else(|| {
        bad(
            "messages",
            "`messages` is required: an array of chat messages.",
        )
    })?;
    messages::decode_messages(messages, &mut req)?;
    req.max_tokens = max_completion.or(max_tokens);
    req.user = req.user.or(safety);
    req.reasoning = decode_reasoning(effort, reasoning)?;
    Ok(req)
}

fn number(v: &Value, param: &str) -> Result<Option<f64>> {
    match v {
        Value::Null => Ok(None),
        Value::Number(n) => Ok(n.as_f64()),
        _ => Err(bad(param, format!("`{param}` must be a number."))),
    }
}

fn uint(v: &Value, param: &str) -> Result<Option<u64>> {
    match v {
        Value::Null => Ok(None),
        _ => v
            .as_u64()
            .map(Some)
            .ok_or_else(|| bad(param, format!("`{param}` must be a non-negative integer."))),
    }
}

fn int(v: &Value, param: &str) -> Result<Option<i64>> {
    match v {
        Value::Null => Ok(None),
        _ => v
            .as_i64()
            .map(Some)
            .ok_or_else(|| bad(param, format!("`{param}` must be an integer."))),
    }
}

fn boolean(v: &Value, param: &str) -> Result<Option<bool>> {
    match v {
        Value::Null => Ok(None),
        Value::Bool(b) => Ok(Some(*b)),
        _ => Err(bad(param, format!("`{param}` must be true or false."))),
    }
}

fn string(v: &Value, param: &str) -> Result<Option<String>> {
    match v {
        Value::Null => Ok(None),
        Value::String(s) => Ok(Some(s.clone())),
        _ => Err(bad(param, format!("`{param}` must be a string."))),
    }
}

fn decode_stop(v: &Value) -> Result<Vec<String>> {
    let err = || bad("stop", "`stop` must be a string or an array of strings.");
    match v {
        Value::Null => Ok(Vec::new()),
        Value::String(s) => Ok(vec![s.clone()]),
        Value::Array(items) => items
            .iter()
            .map(|s| s.as_str().map(str::to_owned).ok_or_else(err))
            .collect(),
        _ => Err(err()),
    }
}

fn decode_reasoning(effort: Option<String>, object: Option<Value>) -> Result<Option<Reasoning>> {
    let mut out = effort.map(|e| effort_reasoning(&e));
    match object {
        None | Some(Value::Null) => {}
        Some(Value::Object(o)) => {
            let r = out.get_or_insert_with(Reasoning::default);
            if let Some(e) = o
                .get("effort")
                .map_or(Ok(None), |v| string(v, "reasoning.effort"))?
            {
                *r = effort_reasoning(&e);
            }
            if let Some(max) = o
                .get("max_tokens")
                .map_or(Ok(None), |v| uint(v, "reasoning.max_tokens"))?
            {
                r.budget_tokens = Some(max);
            }
            if o.get("enabled")
                .map_or(Ok(None), |v| boolean(v, "reasoning.enabled"))?
                == Some(false)
            {
                r.disabled = true;
            }
        }
        Some(_) => return Err(bad("reasoning", "`reasoning` must be an object.")),
    }
    Ok(out)
}

fn effort_reasoning(effort: &str) -> Reasoning {
    if effort == "none" {
        Reasoning {
            disabled: true,
            ..Default::default()
        }
    } else {
        Reasoning {
            effort: Some(effort.to_owned()),
            ..Default::default()
        }
    }
}

fn decode_tools(v: &Value) -> Result<Vec<Tool>> {
    let Some(items) = v.as_array() else {
        return match v {
            Value::Null => Ok(Vec::new()),
            _ => Err(bad(
                "tools",
                "`tools` must be an array of tool definitions.",
            )),
        };
    };
    let mut tools = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        let p = format!("tools[{i}]");
        let kind = item
            .get("type")
            .and_then(Value::as_str)
            .unwrap_or("function");
        if kind != "function" {
            return Err(bad(
                format!("{p}.type"),
                format!(
                    "Tool type `{kind}` cannot be translated to another format; only `function` tools can."
                ),
            ));
        }
        let function = item
            .get("function")
            .filter(|f| f.is_object())
            .ok_or_else(|| {
                bad(
                    format!("{p}.function"),
                    format!("`{p}.function` is required: an object with `name` and `parameters`."),
                )
            })?;
        let name = function
            .get("name")
            .and_then(Value::as_str)
            .filter(|n| !n.is_empty());
        let name = name.ok_or_else(|| {
            bad(
                format!("{p}.function.name"),
                format!("`{p}.function.name` is required."),
            )
        })?;
        tools.push(Tool {
            name: name.to_owned(),
            description: function
                .get("description")
                .and_then(Value::as_str)
                .map(str::to_owned),
            parameters: match function.get("parameters") {
                None | Some(Value::Null) => json!({"type": "object", "properties": {}}),
                Some(p) => p.clone(),
            },
            strict: function.get("strict").and_then(Value::as_bool),
        });
    }
    Ok(tools)
}

fn decode_tool_choice(v: &Value) -> Result<Option<ToolChoice>> {
    let err = || {
        bad(
            "tool_choice",
            "`tool_choice` must be \"auto\", \"required\", \"none\" or {\"type\":\"function\",\"function\":{\"name\":...}}.",
        )
    };
    Ok(Some(match v {
        Value::Null => return Ok(None),
        Value::String(s) => match s.as_str() {
            "auto" => ToolChoice::Auto,
            "required" => ToolChoice::Required,
            "none" => ToolChoice::None,
            _ => return Err(err()),
        },
        Value::Object(o) => match o.get("type").and_then(Value::as_str) {
            Some("function") => {
                let name = o
                    .get("function")
                    .and_then(|f| f.get("name"))
                    .and_then(Value::as_str);
                ToolChoice::Tool {
                    name: name.ok_or_else(err)?.to_owned(),
                }
            }
            Some("allowed_tools") => ToolChoice::Auto,
            _ => return Err(err()),
        },
        _ => return Err(err()),
    }))
}

fn decode_response_format(v: &Value) -> Result<Option<ResponseFormat>> {
    let p = "response_format";
    Ok(Some(match v.get("type").and_then(Value::as_str) {
        _ if v.is_null() => return Ok(None),
        Some("text") => ResponseFormat::Text,
        Some("json_object") => ResponseFormat::JsonObject,
        Some("json_schema") => {
            let missing = || {
                bad(
                    "response_format.json_schema",
                    "`response_format.json_schema` is required: an object with `name` and `schema`.",
                )
            };
            let spec = v.get("json_schema").filter(|s| s.is_object());
            let spec = spec.ok_or_else(missing)?;
            ResponseFormat::JsonSchema {
                name: spec
                    .get("name")
                    .and_then(Value::as_str)
                    .unwrap_or("response")
                    .to_owned(),
                schema: spec.get("schema").cloned().unwrap_or_else(|| json!({})),
                strict: spec.get("strict").and_then(Value::as_bool),
            }
        }
        _ => {
            return Err(bad(
                p,
                "`response_format.type` must be \"text\", \"json_object\" or \"json_schema\".",
            ));
        }
    }))
}
