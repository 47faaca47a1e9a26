//! Gemini requests: a client's `generateContent` body → [`ChatRequest`]
//! ([`decode_request`]), and [`ChatRequest`] → a body for a Gemini endpoint
//! ([`encode_request`], in the private `request_encode` module).
//!
//! # Decoding (a Gemini client's body → canonical)
//!
//! The model and streaming come from the URL: `model` is left empty and
//! `stream` false for the caller to fill. Field names are camelCase; the
//! snake_case spelling Google's JSON parser also takes is read too. `null`
//! counts as absent. Errors are 400 `invalid_request` whose `param` is the
//! field path (`contents[2].parts[0].inlineData`) and whose message starts
//! with it.
//!
//! * `contents[]`: role `user` (or absent) / `model`; each part is one of
//!   `text`, `inlineData` (images → base64 [`Content::Image`]), `fileData`
//!   (images → URL image; the MIME type, or else the URL's extension, must
//!   say image), `functionCall`, `functionResponse`; other parts
//!   (`executableCode`, `codeExecutionResult`, audio, video, PDFs, …) are a
//!   400: they cannot be translated. Empty texts are not kept.
//! * `thought: true` parts → [`Content::Reasoning`]. A part's
//!   `thoughtSignature` → a [`Content::Reasoning`] signed by
//!   [`SIGNED_BY_GOOGLE`] placed before the part's content (it *is* the
//!   reasoning block of a thought part, with the thought's text); a value
//!   the gateway wrapped for another producer (`ir/sealed.rs`) is read back
//!   as that producer's signature or redacted reasoning; Google's
//!   placeholder `skip_thought_signature_validator` is no signature.
//! * `functionCall {name, args, id?}` → [`Content::ToolCall`] with compact
//!   JSON arguments and the given id, else `call_{name}_{n}` (`n` counts the
//!   calls of the request from 0). `functionResponse {name, response, id?}`
//!   → a [`Role::Tool`] [`Content::ToolResult`] whose content is the
//!   `response` as JSON text and whose id is the given one, else the id of
//!   the earliest unanswered call of that name, calls that came without
//!   an id first (a response that answers no call is a 400); images in
//!   its `parts` (Gemini 3's multimodal function responses) follow that
//!   text in the result. A user turn's responses come before its other
//!   parts, as their own tool message.
//! * `systemInstruction` (its parts' texts) → `system`.
//! * `tools[].functionDeclarations[]` → [`Tool`]s (`parametersJsonSchema`
//!   as it is; `parameters`, Gemini's OpenAPI subset, made JSON Schema:
//!   lower-case type names, `nullable` → a `"null"` type, int64 strings →
//!   numbers, `propertyOrdering` and `format: enum` dropped). Other tool
//!   kinds (`googleSearch`, `codeExecution`, `urlContext`, …) run at Google
//!   only: listed in [`ChatRequest::dropped_tools`].
//! * `toolConfig.functionCallingConfig`: `AUTO` / `VALIDATED` → auto, `ANY`
//!   → required (a forced tool when exactly one name is allowed), `NONE` →
//!   none; `allowedFunctionNames` filters the offered tools (each must be
//!   declared).
//! * `generationConfig`: `maxOutputTokens`, `temperature`, `topP`, `topK`,
//!   `stopSequences`, `seed`, `presencePenalty`, `frequencyPenalty`;
//!   `candidateCount` above 1 is a 400; `responseMimeType`
//!   `application/json` → JSON object, or JSON schema named `response` with
//!   `responseJsonSchema` / `responseSchema` (other non-text types are a
//!   400); `thinkingConfig`: `thinkingBudget` 0 → disabled, -1 → effort
//!   `medium`, N → a budget; `thinkingLevel` → effort (lower case);
//!   `includeThoughts` alone asks for reasoning at the target's default.
//!   Other generation fields are dropped.
//! * `safetySettings`, `cachedContent`, `labels` and unknown top-level
//!   fields go to `extra` (a Gemini endpoint could honour them; a
//!   translated request drops them).

pub(super) mod contents;
mod tools;

use serde_json::{Map, Value};

#[cfg(doc)]
use super::SIGNED_BY_GOOGLE;
pub use super::request_encode::encode_request;
pub use super::request_encode::{SKIP_SIGNATURE, schema};
use crate::ir::{ChatRequest, GatewayError, Reasoning, ResponseFormat};
#[cfg(doc)]
use crate::ir::{Content, Role, Tool};
pub(super) use contents::image_type_of_url;

pub(super) type Result<T> = std::result::Result<T, GatewayError>;

/// Decodes a Gemini `generateContent` body (the model comes from the path).
pub fn decode_request(body: &[u8]) -> Result<ChatRequest> {
    let value: Value = serde_json::from_slice(body).map_err(|e| {
        GatewayError::invalid_request(format!(
            "The request body is not valid JSON ({e}). Send a GenerateContentRequest object."
        ))
    })?;
    let Value::Object(map) = value else {
        return Err(GatewayError::invalid_request(
            "The request body must be a JSON object (a GenerateContentRequest).",
        ));
    };
    let mut req = ChatRequest::default();
    let (mut contents, mut system, mut tools, mut tool_config, mut generation) =
        (None, None, None, None, None);
    for (key, value) in map {
        if value.is_null() {
            continue;
        }
        match camel(&key).as_str() {
            "contents" => contents = Some(value),
            "systemInstruction" => system = Some(value),
            "tools" => tools = Some(value),
            "toolConfig" => tool_config = Some(value),
            "generationConfig" => generation = Some(value),
            // The model is in the URL; a body copy says nothing more.
            "model" => {}
            _ => {
                req.extra.insert(key, value);
            }
        }
    }
    if let Some(system) = system {
        req.system = contents::system_instruction(&system)?;
    }
    let contents = contents.ok_or_else(|| {
        bad(
            "contents",
            "contents is required: the conversation, as an array of {role, parts}.",
        )
    })?;
    contents::decode_contents(&contents, &mut req)?;
    if let Some(tools) = tools {
        tools::decode_tools(&tools, &mut req)?;
    }
    if let Some(config) = tool_config {
        tools::decode_tool_config(&config, &mut req)?;
    }
    if let Some(generation) = generation {
        decode_generation(&generation, &mut req)?;
    }
    Ok(req)
}

fn decode_generation(value: &Value, req: &mut ChatRequest) -> Result<()> {
    let p = "generationConfig";
    let config = object(value, p)?;
    req.max_tokens = uint(get(config, "maxOutputTokens"), &at(p, "maxOutputTokens"))?;
    req.temperature = number(get(config, "temperature"), &at(p, "temperature"))?;
    req.top_p = number(get(config, "topP"), &at(p, "topP"))?;
    req.top_k = uint(get(config, "topK"), &at(p, "topK"))?;
    req.presence_penalty = number(get(config, "presencePenalty"), &at(p, "presencePenalty"))?;
    req.frequency_penalty = number(get(config, "frequencyPenalty"), &at(p, "frequencyPenalty"))?;
    if let Some(seed) = get(config, "seed") {
        let param = at(p, "seed");
        req.seed = Some(
            seed.as_i64()
                .ok_or_else(|| bad(&param, format!("{param} must be an integer.")))?,
        );
    }
    if let Some(stops) = get(config, "stopSequences") {
        let param = at(p, "stopSequences");
        req.stop = array(stops, &param)?
            .iter()
            .enumerate()
            .map(|(i, s)| {
                let param = format!("{param}[{i}]");
                s.as_str()
                    .map(str::to_owned)
                    .ok_or_else(|| bad(&param, format!("{param} must be a string.")))
            })
            .collect::<Result<_>>()?;
    }
    let param = at(p, "candidateCount");
    if uint(get(config, "candidateCount"), &param)?.is_some_and(|n| n > 1) {
        return Err(bad(
            &param,
            format!(
                "{param}: only one candidate can be translated for this model's endpoint; \
                 send candidateCount 1 (or leave it out) and make several requests."
            ),
        ));
    }
    req.response_format = response_format(config)?;
    if let Some(thinking) = get(config, "thinkingConfig") {
        req.reasoning = Some(thinking_config(thinking)?);
    }
    Ok(())
}

fn response_format(config: &Map<String, Value>) -> Result<Option<ResponseFormat>> {
    let p = "generationConfig.responseMimeType";
    let mime = match get(config, "responseMimeType") {
        None => return Ok(None),
        Some(Value::String(m)) => m.as_str(),
        Some(_) => return Err(bad(p, format!("{p} must be a string."))),
    };
    match mime {
        "text/plain" | "" => Ok(None),
        "application/json" => {
            let schema = match get(config, "responseJsonSchema") {
                Some(schema) => Some(schema.clone()),
                None => get(config, "responseSchema").map(tools::openapi_to_json_schema),
            };
            Ok(Some(match schema {
                Some(schema) => ResponseFormat::JsonSchema {
                    name: "response".to_owned(),
                    schema,
                    strict: None,
                },
                None => ResponseFormat::JsonObject,
            }))
        }
        other => Err(bad(
            p,
            format!(
                "{p}: `{other}` answers cannot be translated for this model's endpoint; use \
                 text/plain or application/json."
            ),
        )),
    }
}

fn thinking_config(value: &Value) -> Result<Reasoning> {
    let p = "generationConfig.thinkingConfig";
    let config = object(value, p)?;
    let mut reasoning = Reasoning::default();
    if let Some(budget) = get(config, "thinkingBudget") {
        let param = at(p, "thinkingBudget");
        match budget.as_i64() {
            Some(0) => reasoning.disabled = true,
            Some(-1) => reasoning.effort = Some("medium".to_owned()),
            Some(n) if n > 0 => reasoning.budget_tokens = u64::try_from(n).ok(),
            _ => {
                return Err(bad(
                    &param,
                    format!("{param} must be -1 (dynamic), 0 (off) or a positive integer."),
                ));
            }
        }
    }
    if let Some(level) = get(config, "thinkingLevel") {
        let param = at(p, "thinkingLevel");
        let level = level
            .as_str()
            .ok_or_else(|| bad(&param, format!("{param} must be a string.")))?
            .to_ascii_lowercase();
        if level != "thinking_level_unspecified" {
            reasoning.effort = Some(level);
        }
    }
    Ok(reasoning)
}

// ---- small JSON helpers: every failure names its field ----

/// A 400 naming the field at fault; `message` starts with the path.
pub(super) fn bad(param: &str, message: impl Into<String>) -> GatewayError {
    GatewayError::invalid_request(message).with_param(param)
}

/// `path.key`.
pub(super) fn at(path: &str, key: &str) -> String {
    format!("{path}.{key}")
}

/// A field by its camelCase name, or its snake_case spelling; `null` is absent.
pub(super) fn get<'a>(obj: &'a Map<String, Value>, camel_name: &str) -> Option<&'a Value> {
    obj.get(camel_name)
        .or_else(|| obj.get(&snake(camel_name)))
        .filter(|v| !v.is_null())
}

/// `function_call` → `functionCall`.
pub(super) fn camel(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut upper = false;
    for c in name.chars() {
        if c == '_' && !out.is_empty() {
            upper = true;
        } else if upper {
            out.push(c.to_ascii_uppercase());
            upper = false;
        } else {
            out.push(c);
        }
    }
    out
}

/// `functionCall` → `function_call`.
fn snake(name: &str) -> String {
    let mut out = String::with_capacity(name.len() + 4);
    for c in name.chars() {
        if c.is_ascii_uppercase() {
            out.push('_');
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

pub(super) fn object<'a>(v: &'a Value, param: &str) -> Result<&'a Map<String, Value>> {
    v.as_object()
        .ok_or_else(|| bad(param, format!("{param} must be an object.")))
}

pub(super) fn array<'a>(v: &'a Value, param: &str) -> Result<&'a Vec<Value>> {
    v.as_array()
        .ok_or_else(|| bad(param, format!("{param} must be an array.")))
}

pub(super) fn string<'a>(v: Option<&'a Value>, param: &str) -> Result<Option<&'a str>> {
    match v {
        None => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(bad(param, format!("{param} must be a string."))),
    }
}

/// A required non-empty string.
pub(super) fn required_str<'a>(
    obj: &'a Map<String, Value>,
    path: &str,
    key: &str,
) -> Result<&'a str> {
    let param = at(path, key);
    match string(get(obj, key), &param)? {
        Some(s) if !s.is_empty() => Ok(s),
        _ => Err(bad(&param, format!("{param} is required."))),
    }
}

fn number(v: Option<&Value>, param: &str) -> Result<Option<f64>> {
    match v {
        None => Ok(None),
        Some(v) => v
            .as_f64()
            .map(Some)
            .ok_or_else(|| bad(param, format!("{param} must be a number."))),
    }
}

fn uint(v: Option<&Value>, param: &str) -> Result<Option<u64>> {
    match v {
        None => Ok(None),
        Some(v) => v
            .as_u64()
            .map(Some)
            .ok_or_else(|| bad(param, format!("{param} must be a non-negative integer."))),
    }
}
