//! [`ChatRequest`] → a Gemini `generateContent` body ([`encode_request`]).
//!
//! Rules:
//!
//! * The model (and streaming) go in the URL, not the body.
//! * `system` texts → `systemInstruction {parts: [{text}]}`.
//! * Messages → `contents` with roles `user` (user and tool messages) and
//!   `model`; consecutive turns of one role are merged, empty texts dropped,
//!   a turn with no part not sent. A request left with no content is a 400.
//! * Tool calls (in assistant messages) → `functionCall {name, args, id?}`:
//!   the name through [`ToolNames::to_target`] (64), the arguments parsed
//!   (`{}` when empty, `{"_raw": text}` when not a JSON object). Tool results
//!   (outside assistant messages) → `functionResponse {name, response,
//!   id?}`: the name is that of the call with the result's id in an earlier
//!   assistant message (a result answering no call is a 400, as Gemini
//!   needs the name); `response` is the result's text parsed when it is a
//!   JSON object, else `{"content": text}` (`{"error": text}` for a failed
//!   call, Gemini's documented key); images of a result follow it as
//!   `inlineData` / `fileData` parts. The `id` is sent only when it is not
//!   one the Gemini decoder made up (`call_{name}_{n}`), so a Gemini
//!   client's history goes back as it came.
//! * Reasoning signed by Google: with text, a `{text, thought: true,
//!   thoughtSignature}` part; without, its signature goes on the next part
//!   of the turn (an empty text part carries it when none follows).
//!   Reasoning signed by others, unsigned reasoning and redacted reasoning
//!   are dropped: Gemini cannot read them. Gemini 3 rejects a model turn
//!   whose first `functionCall` has no signature (history from another
//!   model, or a client that lost it): such a call gets Google's documented
//!   placeholder [`SKIP_SIGNATURE`], which the decoder reads as no signature.
//! * Images: base64 → `inlineData`, URLs → `fileData` (the MIME type from
//!   the URL's extension when it names an image type).
//! * `tools: [{functionDeclarations}]` only when there are tools, their
//!   parameters through [`schema::sanitize`] (left out when they declare
//!   no property: Gemini rejects an empty object there); `tool_choice` → `toolConfig`
//!   (a forced tool is `ANY` with one allowed name). `parallel_tool_calls`
//!   has no Gemini form.
//! * `generationConfig`: `maxOutputTokens`, `temperature`, `topP`, `topK`,
//!   `stopSequences`, `seed`, `presencePenalty`, `frequencyPenalty`; JSON
//!   mode → `responseMimeType: application/json` (+ `responseSchema`,
//!   sanitized, for a JSON schema); reasoning → `thinkingConfig`
//!   (disabled or effort `none` → `thinkingBudget: 0`; else the
//!   [`Reasoning::budget`] and `includeThoughts: true`).
//! * `extra`, `user` and `stream` are not sent.

pub mod schema;

use std::collections::HashMap;

use serde_json::{Map, Value, json};

use super::SIGNED_BY_GOOGLE;
use super::request::image_type_of_url;
use crate::ir::{
    ChatRequest, Content, GatewayError, ImageSource, Message, Reasoning, ResponseFormat, Role,
    ToolChoice,
};
use crate::translate::{Target, ToolNames};

/// The `thoughtSignature` Google documents for function calls that have
/// none (history made by another model): it turns Gemini 3's check off.
pub const SKIP_SIGNATURE: &str = "skip_thought_signature_validator";

/// The longest function name sent to Gemini (its limit is 128; 64 keeps
/// names valid for every other format's clients too).
const MAX_TOOL_NAME: usize = 64;

/// Encodes a canonical request for a Gemini endpoint (the model goes in
/// the URL, not the body).
pub fn encode_request(
    req: &ChatRequest,
    _target: &Target,
    names: &mut ToolNames,
) -> Result<Value, GatewayError> {
    let mut body = Map::new();
    let system: Vec<Value> = req
        .system
        .iter()
        .filter_map(|c| match c {
            Content::Text { text, .. } | Content::Refusal { text } if !text.is_empty() => {
                Some(json!({"text": text}))
            }
            _ => None,
        })
        .collect();
    if !system.is_empty() {
        body.insert("systemInstruction".into(), json!({"parts": system}));
    }
    let mut contents = encode_contents(&req.messages, names)?;
    for (role, parts) in &mut contents {
        let first_call = parts.iter_mut().find(|p| p.get("functionCall").is_some());
        if *role == "model"
            && let Some(part) = first_call
            && part.get("thoughtSignature").is_none()
        {
            part["thoughtSignature"] = SKIP_SIGNATURE.into();
        }
    }
    if contents.is_empty() {
        return Err(GatewayError::invalid_request(
            "the conversation has no user or model turn; Gemini needs at least one",
        )
        .with_param("messages"));
    }
    body.insert(
        "contents".into(),
        Value::Array(
            contents
                .into_iter()
                .map(|(role, parts)| json!({"role": role, "parts": parts}))
                .collect(),
        ),
    );
    if !req.tools.is_empty() {
        encode_tools(req, names, &mut body);
    }
    let generation = generation_config(req);
    if !generation.is_empty() {
        body.insert("generationConfig".into(), Value::Object(generation));
    }
    Ok(Value::Object(body))
}

type Turn = (&'static str, Vec<Value>);

/// Whether `id` is one the Gemini decoder made up for a call of `name`
/// that came without one (`call_{name}_{n}`).
fn synthesized(id: &str, name: &str) -> bool {
    id.strip_prefix("call_")
        .and_then(|rest| rest.strip_prefix(name))
        .and_then(|rest| rest.strip_prefix('_'))
        .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
}

fn encode_contents(messages: &[Message], names: &mut ToolNames) -> Result<Vec<Turn>, GatewayError> {
    // Call id → canonical name, filled as assistant turns go by.
    let mut calls: HashMap<&str, &str> = HashMap::new();
    let mut turns: Vec<Turn> = Vec::new();
    for (i, message) in messages.iter().enumerate() {
        let model = message.role == Role::Assistant;
        let mut parts = Vec::new();
        let mut pending: Option<&str> = None;
        for block in &message.content {
            let mut new = Vec::new();
            match block {
                Content::Text { text, .. } | Content::Refusal { text } if !text.is_empty() => {
                    new.push(json!({"text": text}));
                }
                Content::Image { source, .. } => new.push(image(source)),
                Content::ToolCall {
                    id,
                    name,
                    arguments,
                } if model => {
                    calls.insert(id, name);
                    let mut call = json!({
                        "name": names.to_target(name, MAX_TOOL_NAME),
                        "args": arguments_object(arguments),
                    });
                    if !synthesized(id, name) {
                        call["id"] = id.clone().into();
                    }
                    new.push(json!({"functionCall": call}));
                }
                Content::ToolResult {
                    id,
                    content,
                    is_error,
                } if !model => {
                    let name = calls.get(id.as_str()).copied().ok_or_else(|| {
                        GatewayError::invalid_request(format!(
                            "messages[{i}]: the tool result for call `{id}` answers no earlier \
                             tool call; Gemini needs the name of the function it answers"
                        ))
                        .with_param(format!("messages[{i}]"))
                    })?;
                    let mut response = json!({
                        "name": names.to_target(name, MAX_TOOL_NAME),
                        "response": response_object(content, *is_error),
                    });
                    if !synthesized(id, name) {
                        response["id"] = id.clone().into();
                    }
                    new.push(json!({"functionResponse": response}));
                    new.extend(content.iter().filter_map(|c| match c {
                        Content::Image { source, .. } => Some(image(source)),
                        _ => None,
                    }));
                }
                Content::Reasoning {
                    text,
                    signature: Some(signature),
                    signed_by,
                } if model
                    && signed_by.as_deref() == Some(SIGNED_BY_GOOGLE)
                    && !signature.is_empty() =>
                {
                    if text.is_empty() {
                        if let Some(earlier) = pending.replace(signature) {
                            parts.push(json!({"text": "", "thoughtSignature": earlier}));
                        }
                    } else {
                        parts.push(
                            json!({"text": text, "thought": true, "thoughtSignature": signature}),
                        );
                    }
                    continue;
                }
                _ => continue,
            }
            if let (Some(signature), Some(first)) = (pending.take(), new.first_mut()) {
                first["thoughtSignature"] = signature.into();
            }
            parts.extend(new);
        }
        if let Some(signature) = pending {
            parts.push(json!({"text": "", "thoughtSignature": signature}));
        }
        if parts.is_empty() {
            continue;
        }
        let role = if model { "model" } else { "user" };
        match turns.last_mut() {
            Some((last, content)) if *last == role => content.extend(parts),
            _ => turns.push((role, parts)),
        }
    }
    Ok(turns)
}

/// A tool call's arguments as the object Gemini wants.
fn arguments_object(arguments: &str) -> Value {
    if arguments.trim().is_empty() {
        return json!({});
    }
    match serde_json::from_str::<Value>(arguments) {
        Ok(v @ Value::Object(_)) => v,
        _ => json!({"_raw": arguments}),
    }
}

/// A tool result as a `functionResponse.response` object.
fn response_object(content: &[Content], is_error: bool) -> Value {
    let text: Vec<&str> = content
        .iter()
        .filter_map(|c| match c {
            Content::Text { text, .. } | Content::Refusal { text } => Some(text.as_str()),
            _ => None,
        })
        .collect();
    let text = text.join("\n");
    if let Ok(v @ Value::Object(_)) = serde_json::from_str::<Value>(&text) {
        return v;
    }
    if is_error {
        json!({"error": text})
    } else {
        json!({"content": text})
    }
}

fn image(source: &ImageSource) -> Value {
    match source {
        ImageSource::Base64 { media_type, data } => {
            json!({"inlineData": {"mimeType": media_type, "data": data}})
        }
        ImageSource::Url { url } => {
            let mut file = json!({"fileUri": url});
            if let Some(mime) = image_type_of_url(url) {
                file["mimeType"] = mime.into();
            }
            json!({"fileData": file})
        }
    }
}

fn encode_tools(req: &ChatRequest, names: &mut ToolNames, body: &mut Map<String, Value>) {
    let declarations: Vec<Value> = req
        .tools
        .iter()
        .map(|tool| {
            let mut decl = json!({"name": names.to_target(&tool.name, MAX_TOOL_NAME)});
            let parameters = schema::sanitize(&tool.parameters);
            // A function without parameters is sent without `parameters`:
            // Gemini rejects an object schema with no properties there.
            if parameters.get("properties").is_some() {
                decl["parameters"] = parameters;
            }
            if let Some(d) = tool.description.as_ref().filter(|d| !d.is_empty()) {
                decl["description"] = d.clone().into();
            }
            decl
        })
        .collect();
    body.insert(
        "tools".into(),
        json!([{"functionDeclarations": declarations}]),
    );
    let config = match &req.tool_choice {
        None => return,
        Some(ToolChoice::Auto) => json!({"mode": "AUTO"}),
        Some(ToolChoice::Required) => json!({"mode": "ANY"}),
        Some(ToolChoice::None) => json!({"mode": "NONE"}),
        Some(ToolChoice::Tool { name }) => json!({
            "mode": "ANY",
            "allowedFunctionNames": [names.to_target(name, MAX_TOOL_NAME)],
        }),
    };
    body.insert(
        "toolConfig".into(),
        json!({"functionCallingConfig": config}),
    );
}

fn generation_config(req: &ChatRequest) -> Map<String, Value> {
    let mut config = Map::new();
    let mut put = |key: &str, value: Option<Value>| {
        if let Some(v) = value {
            config.insert(key.into(), v);
        }
    };
    put("maxOutputTokens", req.max_tokens.map(Value::from));
    put("temperature", req.temperature.map(Value::from));
    put("topP", req.top_p.map(Value::from));
    put("topK", req.top_k.map(Value::from));
    put(
        "stopSequences",
        (!req.stop.is_empty()).then(|| req.stop.clone().into()),
    );
    put("seed", req.seed.map(Value::from));
    put("presencePenalty", req.presence_penalty.map(Value::from));
    put("frequencyPenalty", req.frequency_penalty.map(Value::from));
    match &req.response_format {
        Some(ResponseFormat::JsonObject) => {
            put("responseMimeType", Some("application/json".into()));
        }
        Some(ResponseFormat::JsonSchema { schema, .. }) => {
            put("responseMimeType", Some("application/json".into()));
            put("responseSchema", Some(schema::sanitize(schema)));
        }
        Some(ResponseFormat::Text) | None => {}
    }
    put(
        "thinkingConfig",
        req.reasoning.as_ref().map(thinking_config),
    );
    config
}

fn thinking_config(reasoning: &Reasoning) -> Value {
    if reasoning.disabled || reasoning.effort.as_deref() == Some("none") {
        return json!({"thinkingBudget": 0});
    }
    match reasoning.budget() {
        Some(budget) => json!({"thinkingBudget": budget, "includeThoughts": true}),
        None => json!({"includeThoughts": true}),
    }
}
