//! OpenAI Responses requests ↔ the canonical [`ChatRequest`].
//!
//! The decoder runs only when a Responses client's model lives on an
//! endpoint of another format (an `openai-responses` endpoint gets the body
//! untouched), so everything it keeps must mean the same thing to any
//! target, and everything that only OpenAI can honour is either dropped
//! harmlessly or refused with a 400 that says what to do.
//!
//! # Decoding (a client's body → canonical)
//!
//! Errors are 400 `invalid_request` whose `param` is the field's path
//! (`input.3.content.0`, `tools.2.tools.0.name`) and whose message starts
//! with that path. `null` counts as absent for every field.
//!
//! * `model` and `input` are required. `input` is a string (one user
//!   message) or an array of items; an item without a `type` but with a
//!   `role` is a message.
//! * Messages: `system` and `developer` messages are hoisted into
//!   [`ChatRequest::system`] after `instructions`, in order. `user` content
//!   is `input_text` and `input_image` (`image_url`, a data: or https URL,
//!   with its `detail`; an image given by `file_id` is a 400: it lives in
//!   OpenAI's file storage). `assistant` content is `input_text`,
//!   `output_text` and `refusal` ([`Content::Refusal`]). `input_file` parts
//!   are a 400 everywhere (no other format takes OpenAI files). A string
//!   content is one text block; empty texts are not kept.
//! * `function_call` → an assistant [`Content::ToolCall`] (`call_id`,
//!   `arguments`, `{}` when empty); with a `namespace` N the canonical name
//!   of function F is `N.F` (see [`ClientTool`]). `custom_tool_call` → a
//!   tool call whose arguments are the JSON text `{"input": <input>}`.
//! * `function_call_output` and `custom_tool_call_output` → a
//!   [`Role::Tool`](crate::ir::Role::Tool) message with a
//!   [`Content::ToolResult`] (`output`: a string or `input_text` /
//!   `input_image` parts).
//! * `reasoning` → assistant reasoning, read through
//!   [`unwrap_encrypted`](super::wire::unwrap_encrypted): a wrapped
//!   signature gives [`Content::Reasoning`] with the summary texts (joined
//!   by a blank line; the `reasoning_text` content when there is no summary)
//!   and its signer; wrapped redacted reasoning or OpenAI's own blob give
//!   [`Content::RedactedReasoning`] (its summary is not kept: only an
//!   `openai-responses` endpoint could use the blob, and that endpoint
//!   never sees a decoded body); no `encrypted_content` gives unsigned
//!   reasoning (nothing when its text is empty).
//! * Consecutive items of one role merge into one canonical message.
//! * Hosted-tool items echoed in history (`web_search_call`,
//!   `file_search_call`, `computer_call`, `code_interpreter_call`,
//!   `image_generation_call`, `local_shell_call`, `shell_call`,
//!   `apply_patch_call`, `tool_search_call`, `mcp_*`, their outputs, …) are
//!   skipped: the target never ran them. So are the markers
//!   `compaction_trigger` and `configuration_update`. `additional_tools`
//!   items add their tools as `tools` does.
//! * `item_reference` (modelgate stores no items), `compaction` (history
//!   only OpenAI can decrypt) and unknown item types are 400s.
//! * `tools`: `function` {name, description, parameters (an empty object
//!   schema when absent), strict}; `namespace` {name, tools} → each inner
//!   `function` or `custom` tool becomes the canonical tool `NS.NAME` with a
//!   [`ChatRequest::client_tools`] entry; `custom` {name, description,
//!   format} → a function taking one string `input` (the grammar of a
//!   `grammar` format is appended to the description, so that the model
//!   knows the input language) with a `client_tools` entry `custom: true`.
//!   Every other type is a hosted tool: left out, its `type` listed once in
//!   [`ChatRequest::dropped_tools`]. `strict` left out stays unset (Chat
//!   Completions' non-strict default, not Responses' strict one).
//! * `tool_choice`: `auto` / `none` / `required`; `{type: function|custom,
//!   name}` → [`ToolChoice::Tool`] (a bare name that matches one namespaced
//!   tool is given its canonical name); `{type: allowed_tools, mode, tools}` →
//!   the mode, and only the listed tools are offered (a `required` choice
//!   that leaves none, e.g. only hosted tools allowed, is a 400); a choice that forces a
//!   hosted tool is a 400.
//! * `instructions` → the first system block; `max_output_tokens` →
//!   `max_tokens`; `text.format` → [`ResponseFormat`] (`text.verbosity` is
//!   dropped); `reasoning.effort` → [`Reasoning`] (`none` disables it;
//!   `summary` is dropped); `user`, else `safety_identifier`, → `user`;
//!   `temperature`, `top_p`, `stream`, `parallel_tool_calls` as they are.
//! * Stateless: `previous_response_id`, `conversation`, `background: true`
//!   and a stored `prompt` are 400s (they need OpenAI's storage). `store`,
//!   `include`, `prompt_cache_key`, `prompt_cache_retention`,
//!   `prompt_cache_options`, `client_metadata`, `metadata`, `service_tier`,
//!   `truncation`, `top_logprobs`, `max_tool_calls` and `stream_options` are
//!   accepted and dropped: they must never break a translated request.
//!   Other fields go to `extra`.
//!
//! # Encoding (canonical → an `openai-responses` endpoint's body)
//!
//! See `request_encode.rs`.

mod input;
mod tools;

pub use super::request_encode::encode_request;

use serde_json::{Map, Value};

use crate::ir::{ChatRequest, Content, GatewayError, Reasoning, ResponseFormat};

pub(super) type Result<T> = std::result::Result<T, GatewayError>;

/// OpenAI's limit on function names.
pub(super) const NAME_MAX: usize = 64;

/// A 400 naming the field at fault. The message starts with the field's path.
pub(super) fn bad(param: impl Into<String>, message: impl Into<String>) -> GatewayError {
    GatewayError::invalid_request(message).with_param(param)
}

/// The 400 for a field that needs state kept by OpenAI.
fn stateful(field: &str) -> GatewayError {
    bad(
        field,
        format!(
            "{field}: modelgate does not store responses, so `{field}` only works when the \
             model's endpoint is an `openai-responses` endpoint: send the whole conversation in \
             `input` (with `store: false`)."
        ),
    )
}

/// Decodes a client's Responses request. Errors are 400s naming the field.
pub fn decode_request(body: &[u8]) -> Result<ChatRequest> {
    let value: Value = serde_json::from_slice(body).map_err(|e| {
        GatewayError::invalid_request(format!(
            "The request body is not valid JSON ({e}). Send a JSON object with `model` and `input`."
        ))
    })?;
    let Value::Object(map) = value else {
        return Err(GatewayError::invalid_request(
            "The request body must be a JSON object with `model` and `input`.",
        ));
    };
    let mut req = ChatRequest::default();
    let (mut model, mut input, mut instructions, mut tools, mut choice, mut safety) =
        (None, None, None, None, None, None);
    for (key, value) in map {
        let k = key.as_str();
        match k {
            "model" => model = string(&value, k)?,
            "input" => input = Some(value).filter(|v| !v.is_null()),
            "instructions" => instructions = string(&value, k)?,
            "tools" => tools = Some(value),
            "tool_choice" => choice = Some(value),
            "parallel_tool_calls" => req.parallel_tool_calls = boolean(&value, k)?,
            "text" => req.response_format = decode_text(&value)?,
            "reasoning" => req.reasoning = decode_reasoning(&value)?,
            "max_output_tokens" => req.max_tokens = uint(&value, k)?,
            "temperature" => req.temperature = number(&value, k)?,
            "top_p" => req.top_p = number(&value, k)?,
            "stream" => req.stream = boolean(&value, k)?.unwrap_or(false),
            "user" => req.user = string(&value, k)?,
            "safety_identifier" => safety = string(&value, k)?,
            "previous_response_id" | "conversation" if !value.is_null() => {
                return Err(stateful(k));
            }
            "background" if boolean(&value, k)? == Some(true) => return Err(stateful(k)),
            "prompt" if !value.is_null() => {
                return Err(bad(
                    k,
                    "prompt: a stored prompt lives in OpenAI's storage, which only an \
                     `openai-responses` endpoint can read: send its text in `instructions` \
                     and `input` instead.",
                ));
            }
            // Accepted and dropped: they tune OpenAI's own storage, caching
            // and billing, or ask for what a translated answer never has.
            "previous_response_id"
            | "conversation"
            | "background"
            | "prompt"
            | "store"
            | "include"
            | "prompt_cache_key"
            | "prompt_cache_retention"
            | "prompt_cache_options"
            | "client_metadata"
            | "metadata"
            | "service_tier"
            | "truncation"
            | "top_logprobs"
            | "max_tool_calls"
            | "stream_options" => {}
            _ => {
                req.extra.insert(key, value);
            }
        }
    }
    req.model = model
        .filter(|m| !m.is_empty())
        .ok_or_else(|| bad("model", "model is required: name the model to use."))?;
    let input = input.ok_or_else(|| {
        bad(
            "input",
            "input is required: the conversation, as a string or an array of items.",
        )
    })?;
    if let Some(text) = instructions.filter(|t| !t.is_empty()) {
        req.system.push(Content::text(text));
    }
    if let Some(tools) = tools {
        tools::decode_tools(&tools, "tools", &mut req)?;
    }
    input::decode_input(input, &mut req)?;
    if let Some(choice) = choice {
        let decoded = tools::decode_tool_choice(&choice, &mut req)?;
        req.tool_choice = decoded;
    }
    req.user = req.user.or(safety);
    Ok(req)
}

pub(super) fn number(v: &Value, param: &str) -> Result<Option<f64>> {
    match v {
        Value::Null => Ok(None),
        Value::Number(n) => Ok(n.as_f64()),
        _ => Err(bad(param, format!("{param} must be a number."))),
    }
}

pub(super) fn uint(v: &Value, param: &str) -> Result<Option<u64>> {
    match v {
        Value::Null => Ok(None),
        _ => v
            .as_u64()
            .map(Some)
            .ok_or_else(|| bad(param, format!("{param} must be a non-negative integer."))),
    }
}

pub(super) fn boolean(v: &Value, param: &str) -> Result<Option<bool>> {
    match v {
        Value::Null => Ok(None),
        Value::Bool(b) => Ok(Some(*b)),
        _ => Err(bad(param, format!("{param} must be true or false."))),
    }
}

pub(super) fn string(v: &Value, param: &str) -> Result<Option<String>> {
    match v {
        Value::Null => Ok(None),
        Value::String(s) => Ok(Some(s.clone())),
        _ => Err(bad(param, format!("{param} must be a string."))),
    }
}

/// A field of an object, `null` read as absent.
pub(super) fn field<'a>(obj: &'a Map<String, Value>, key: &str) -> Option<&'a Value> {
    obj.get(key).filter(|v| !v.is_null())
}

/// A required non-empty string field of an object at path `p`.
pub(super) fn required_str<'a>(
    obj: &'a Map<String, Value>,
    p: &str,
    key: &str,
    what: &str,
) -> Result<&'a str> {
    let param = format!("{p}.{key}");
    match field(obj, key) {
        Some(Value::String(s)) if !s.is_empty() => Ok(s),
        Some(Value::String(_)) | None => {
            Err(bad(param.clone(), format!("{param} is required: {what}.")))
        }
        Some(_) => Err(bad(param.clone(), format!("{param} must be a string."))),
    }
}

/// `text`: only its `format` is read.
fn decode_text(v: &Value) -> Result<Option<ResponseFormat>> {
    let obj = match v {
        Value::Null => return Ok(None),
        Value::Object(o) => o,
        _ => return Err(bad("text", "text must be an object with a `format`.")),
    };
    let Some(format) = field(obj, "format") else {
        return Ok(None);
    };
    let p = "text.format";
    let kinds = "text.format.type must be \"text\", \"json_object\" or \"json_schema\".";
    let Value::Object(format) = format else {
        return Err(bad(p, format!("{p} must be an object with a `type`.")));
    };
    Ok(Some(match field(format, "type").and_then(Value::as_str) {
        Some("text") => ResponseFormat::Text,
        Some("json_object") => ResponseFormat::JsonObject,
        Some("json_schema") => {
            let schema = field(format, "schema").ok_or_else(|| {
                bad(
                    "text.format.schema",
                    "text.format.schema is required: the JSON Schema the answer must follow.",
                )
            })?;
            ResponseFormat::JsonSchema {
                name: field(format, "name")
                    .and_then(Value::as_str)
                    .unwrap_or("response")
                    .to_owned(),
                schema: schema.clone(),
                strict: boolean(
                    format.get("strict").unwrap_or(&Value::Null),
                    "text.format.strict",
                )?,
            }
        }
        _ => return Err(bad("text.format.type", kinds)),
    }))
}

/// `reasoning`: its `effort` (`none` disables reasoning); an object
/// without one still asks for reasoning, at the target's default.
fn decode_reasoning(v: &Value) -> Result<Option<Reasoning>> {
    let obj = match v {
        Value::Null => return Ok(None),
        Value::Object(o) => o,
        _ => {
            return Err(bad(
                "reasoning",
                "reasoning must be an object, e.g. {\"effort\": \"medium\"}.",
            ));
        }
    };
    let effort = string(
        obj.get("effort").unwrap_or(&Value::Null),
        "reasoning.effort",
    )?;
    Ok(Some(match effort.as_deref() {
        Some("none") => Reasoning {
            disabled: true,
            ..Default::default()
        },
        _ => Reasoning {
            effort,
            ..Default::default()
        },
    }))
}
