//! [`ChatRequest`] → an Anthropic Messages body ([`encode_request`]).
//!
//! Rules:
//!
//! * `model` is the target's; `max_tokens` the request's or the target's default.
//! * `system`: one string (blocks joined with a blank line) when no block has
//!   `cache_control`, else an array of text blocks.
//! * Tool messages become `user` messages of `tool_result` blocks (content a
//!   string when the result is one text, blocks otherwise, omitted when
//!   empty; `is_error` only when true). Consecutive same-role messages are
//!   merged with `tool_result` blocks first; empty text blocks are dropped
//!   and a message left with no blocks is not sent.
//! * Images: base64 of image/jpeg|png|gif|webp (`image/jpg` is read as
//!   jpeg), else a 400 naming the media type; URLs as `url` sources. Images
//!   in assistant messages are dropped (Anthropic has no such thing).
//! * Reasoning is sent back only when Anthropic signed it: `thinking` needs a
//!   signature, `redacted_thinking` the signer; unsigned or foreign reasoning
//!   is dropped. Block order is kept.
//! * Tool calls: ids through [`sanitize_tool_id`] (results too, so they still
//!   match), names through [`ToolNames::to_target`] (128), arguments parsed
//!   (`{}` when empty, `{"_raw": text}` when not a JSON object). Refusals
//!   are sent as text. Tool calls outside assistant messages and tool
//!   results inside them are dropped (Anthropic rejects both).
//! * Tools: `input_schema` is the parameters when they are an object schema
//!   (`"type"` added when only missing), else `{"type":"object","properties":{}}`.
//!   `strict` is not sent (a beta feature on Anthropic). `tool_choice` and
//!   `disable_parallel_tool_use` are only sent with tools; the latter goes
//!   on the given choice or on `auto`, never on `none`.
//! * A request left with no message (only system prompts, or only empty
//!   turns) is a 400: Anthropic needs at least one user or assistant message.
//! * Thinking: a budget ([`Reasoning::budget`], at least 1024) becomes
//!   `thinking: enabled`, and `max_tokens` is raised to `budget + max_tokens`
//!   when it is not above the budget — saturating, and capped at
//!   [`MAX_RAISED_TOKENS`] (or the client's own `max_tokens` when larger);
//!   the budget is then lowered to `max_tokens - 1` if needed (Anthropic
//!   wants it below `max_tokens`), never below 1024. Anthropic rejects
//!   with thinking: a forced tool choice (downgraded to `auto`),
//!   `temperature` / `top_k` (dropped) and `top_p` below 0.95 (dropped).
//!   Anthropic also rejects
//!   thinking when the last assistant turn has a `tool_use` but does not
//!   start with a thinking block (history from a client that could not keep
//!   signatures): then thinking is not enabled for this request.
//!   `output_config.effort` is not sent (not every model takes it).
//! * `temperature` is clamped to 0–1. `stop` → `stop_sequences`, `user` →
//!   `metadata.user_id`, JSON-schema response format → `output_config.format`
//!   (JSON-object mode has no Anthropic form and is not sent). Seed and
//!   penalties are not sent; neither is `extra`.

use serde_json::{Map, Value, json};

use super::wire::arguments_object;
use crate::ir::{
    ChatRequest, Content, GatewayError, ImageSource, Message, Reasoning, ResponseFormat, Role,
    SIGNED_BY_ANTHROPIC, ToolChoice,
};
use crate::translate::{Target, ToolNames, sanitize_tool_id};

/// Anthropic's smallest thinking budget.
const MIN_BUDGET: u64 = 1024;
/// The most `max_tokens` is raised to, to make room for a thinking budget:
/// a client's huge budget must not become an absurd (or overflowing)
/// `max_tokens`. A client's own larger `max_tokens` is kept as it is.
pub const MAX_RAISED_TOKENS: u64 = 128_000;
/// The longest tool name Anthropic accepts.
const MAX_TOOL_NAME: usize = 128;

/// Encodes a request for an Anthropic Messages endpoint.
pub fn encode_request(
    req: &ChatRequest,
    target: &Target,
    names: &mut ToolNames,
) -> Result<Value, GatewayError> {
    let mut body = Map::new();
    body.insert("model".into(), target.model.clone().into());
    let mut max_tokens = req.max_tokens.unwrap_or(target.default_max_tokens);
    if let Some(system) = encode_system(&req.system) {
        body.insert("system".into(), system);
    }
    let messages = encode_messages(&req.messages, names)?;
    if messages.is_empty() {
        return Err(GatewayError::invalid_request(
            "the conversation has no user or assistant message; Anthropic needs at least one",
        )
        .with_param("messages"));
    }
    let budget = req
        .reasoning
        .as_ref()
        .and_then(Reasoning::budget)
        .map(|b| b.max(MIN_BUDGET))
        .filter(|_| thinking_allowed(&messages));
    body.insert(
        "messages".into(),
        Value::Array(
            messages
                .into_iter()
                .map(|(role, content)| json!({"role": role, "content": content}))
                .collect(),
        ),
    );
    if !req.tools.is_empty() {
        encode_tools(req, budget.is_some(), names, &mut body);
    }
    if let Some(asked) = budget {
        let (raised, budget) = thinking_room(max_tokens, asked);
        max_tokens = raised;
        body.insert(
            "thinking".into(),
            json!({"type": "enabled", "budget_tokens": budget}),
        );
    }
    body.insert("max_tokens".into(), max_tokens.into());
    if let Some(t) = req.temperature.filter(|_| budget.is_none()) {
        body.insert("temperature".into(), t.clamp(0.0, 1.0).into());
    }
    if let Some(p) = req.top_p.filter(|&p| budget.is_none() || p >= 0.95) {
        body.insert("top_p".into(), p.into());
    }
    if let Some(k) = req.top_k.filter(|_| budget.is_none()) {
        body.insert("top_k".into(), k.into());
    }
    if !req.stop.is_empty() {
        body.insert("stop_sequences".into(), req.stop.clone().into());
    }
    if let Some(user) = &req.user {
        body.insert("metadata".into(), json!({"user_id": user}));
    }
    if let Some(ResponseFormat::JsonSchema { schema, .. }) = &req.response_format {
        body.insert(
            "output_config".into(),
            json!({"format": {"type": "json_schema", "schema": schema}}),
        );
    }
    if req.stream {
        body.insert("stream".into(), true.into());
    }
    Ok(Value::Object(body))
}

/// `max_tokens` and the thinking budget to send for a client's `max_tokens`
/// and a budget of at least [`MIN_BUDGET`]: `max_tokens` raised above the
/// budget when it is not (by the budget, saturating, at most
/// [`MAX_RAISED_TOKENS`] unless the client asked for more), then the budget
/// lowered below `max_tokens` when the cap left no room. The budget stays
/// at least [`MIN_BUDGET`] and below `max_tokens`.
fn thinking_room(max_tokens: u64, budget: u64) -> (u64, u64) {
    let mut max_tokens = max_tokens;
    if max_tokens <= budget {
        let cap = MAX_RAISED_TOKENS.max(max_tokens);
        max_tokens = budget
            .saturating_add(max_tokens)
            .min(cap)
            .max(MIN_BUDGET + 1);
    }
    (max_tokens, budget.min(max_tokens.saturating_sub(1)))
}

fn encode_system(system: &[Content]) -> Option<Value> {
    let texts: Vec<(&str, Option<&Value>)> = system
        .iter()
        .filter_map(|c| match c {
            Content::Text {
                text,
                cache_control,
            } => Some((text.as_str(), cache_control.as_ref())),
            Content::Refusal { text } => Some((text.as_str(), None)),
            _ => None,
        })
        .filter(|(text, _)| !text.is_empty())
        .collect();
    if texts.is_empty() {
        return None;
    }
    if texts.iter().all(|(_, cc)| cc.is_none()) {
        let joined: Vec<&str> = texts.iter().map(|(t, _)| *t).collect();
        return Some(joined.join("\n\n").into());
    }
    Some(Value::Array(
        texts.into_iter().map(|(t, cc)| text_value(t, cc)).collect(),
    ))
}

fn text_value(text: &str, cache_control: Option<&Value>) -> Value {
    let mut block = json!({"type": "text", "text": text});
    if let Some(cc) = cache_control {
        block["cache_control"] = cc.clone();
    }
    block
}

type Turn = (&'static str, Vec<Value>);

fn encode_messages(messages: &[Message], names: &mut ToolNames) -> Result<Vec<Turn>, GatewayError> {
    let mut turns: Vec<Turn> = Vec::new();
    for (i, message) in messages.iter().enumerate() {
        let (role, assistant) = match message.role {
            Role::Assistant => ("assistant", true),
            Role::User | Role::Tool => ("user", false),
        };
        let mut blocks = Vec::new();
        for block in &message.content {
            if let Some(v) = encode_block(block, assistant, names, i)? {
                blocks.push(v);
            }
        }
        if blocks.is_empty() {
            continue;
        }
        match turns.last_mut() {
            Some((last, content)) if *last == role => content.extend(blocks),
            _ => turns.push((role, blocks)),
        }
    }
    for (role, content) in &mut turns {
        if *role == "user" {
            // A stable partition: results first, as Anthropic requires.
            let (mut results, others): (Vec<Value>, Vec<Value>) =
                content.drain(..).partition(|b| b["type"] == "tool_result");
            results.extend(others);
            *content = results;
        }
    }
    Ok(turns)
}

fn encode_block(
    block: &Content,
    assistant: bool,
    names: &mut ToolNames,
    message: usize,
) -> Result<Option<Value>, GatewayError> {
    let signed = |by: &Option<String>| by.as_deref() == Some(SIGNED_BY_ANTHROPIC);
    Ok(match block {
        Content::Text {
            text,
            cache_control,
        } => (!text.is_empty()).then(|| text_value(text, cache_control.as_ref())),
        Content::Refusal { text } => (!text.is_empty()).then(|| text_value(text, None)),
        Content::Image { source, .. } if !assistant => Some(encode_image(source, message)?),
        Content::Image { .. } => None,
        Content::ToolCall {
            id,
            name,
            arguments,
        } => assistant.then(|| {
            json!({
                "type": "tool_use",
                "id": sanitize_tool_id(id),
                "name": names.to_target(name, MAX_TOOL_NAME),
                "input": arguments_object(arguments),
            })
        }),
        Content::ToolResult {
            id,
            content,
            is_error,
        } if !assistant => {
            let mut result = json!({"type": "tool_result", "tool_use_id": sanitize_tool_id(id)});
            let mut inner = Vec::new();
            for c in content {
                match c {
                    Content::Text { text, .. } | Content::Refusal { text } if !text.is_empty() => {
                        inner.push(text_value(text, None));
                    }
                    Content::Image { source, .. } => inner.push(encode_image(source, message)?),
                    _ => {}
                }
            }
            match inner.as_slice() {
                [] => {}
                [one] if one["type"] == "text" => result["content"] = one["text"].clone(),
                _ => result["content"] = Value::Array(inner),
            }
            if *is_error {
                result["is_error"] = true.into();
            }
            Some(result)
        }
        Content::Reasoning {
            text,
            signature: Some(signature),
            signed_by,
        } if assistant && signed(signed_by) && !signature.is_empty() => Some(json!({
            "type": "thinking", "thinking": text, "signature": signature,
        })),
        Content::RedactedReasoning { data, signed_by } if assistant && signed(signed_by) => {
            Some(json!({"type": "redacted_thinking", "data": data}))
        }
        Content::ToolResult { .. }
        | Content::Reasoning { .. }
        | Content::RedactedReasoning { .. } => None,
    })
}

fn encode_image(source: &ImageSource, message: usize) -> Result<Value, GatewayError> {
    Ok(match source {
        ImageSource::Url { url } => json!({"type": "image", "source": {"type": "url", "url": url}}),
        ImageSource::Base64 { media_type, data } => {
            let lower = media_type.to_ascii_lowercase();
            let media_type = match lower.as_str() {
                "image/jpeg" | "image/jpg" => "image/jpeg",
                "image/png" => "image/png",
                "image/gif" => "image/gif",
                "image/webp" => "image/webp",
                _ => {
                    return Err(GatewayError::invalid_request(format!(
                        "message {message} has an image of type `{media_type}`, which Anthropic \
                         endpoints do not accept; send image/jpeg, image/png, image/gif or image/webp"
                    ))
                    .with_param("messages"));
                }
            };
            json!({"type": "image", "source": {"type": "base64", "media_type": media_type, "data": data}})
        }
    })
}

/// Whether Anthropic will take `thinking` with this history: the last
/// assistant turn, if it called tools, must start with a thinking block.
fn thinking_allowed(turns: &[Turn]) -> bool {
    let Some((_, content)) = turns.iter().rev().find(|(role, _)| *role == "assistant") else {
        return true;
    };
    let calls_tools = content.iter().any(|b| b["type"] == "tool_use");
    let starts_thinking = content
        .first()
        .is_some_and(|b| b["type"] == "thinking" || b["type"] == "redacted_thinking");
    !calls_tools || starts_thinking
}

fn encode_tools(
    req: &ChatRequest,
    thinking: bool,
    names: &mut ToolNames,
    body: &mut Map<String, Value>,
) {
    let tools: Vec<Value> = req
        .tools
        .iter()
        .map(|tool| {
            let mut t = json!({
                "name": names.to_target(&tool.name, MAX_TOOL_NAME),
                "input_schema": input_schema(&tool.parameters),
            });
            if let Some(d) = &tool.description {
                t["description"] = d.clone().into();
            }
            t
        })
        .collect();
    body.insert("tools".into(), tools.into());
    let mut choice = req.tool_choice.as_ref().map(|c| match c {
        ToolChoice::Auto => json!({"type": "auto"}),
        ToolChoice::Required => json!({"type": "any"}),
        ToolChoice::None => json!({"type": "none"}),
        ToolChoice::Tool { name } => {
            json!({"type": "tool", "name": names.to_target(name, MAX_TOOL_NAME)})
        }
    });
    if thinking
        && matches!(
            req.tool_choice,
            Some(ToolChoice::Required | ToolChoice::Tool { .. })
        )
    {
        choice = Some(json!({"type": "auto"}));
    }
    if req.parallel_tool_calls == Some(false) {
        let c = choice.get_or_insert_with(|| json!({"type": "auto"}));
        if c["type"] != "none" {
            c["disable_parallel_tool_use"] = true.into();
        }
    }
    if let Some(c) = choice {
        body.insert("tool_choice".into(), c);
    }
}

/// An object schema for `input_schema`.
fn input_schema(parameters: &Value) -> Value {
    match parameters {
        Value::Object(schema) if schema.get("type") == Some(&Value::from("object")) => {
            parameters.clone()
        }
        Value::Object(schema)
            if !schema.contains_key("type") && schema.contains_key("properties") =>
        {
            let mut schema = schema.clone();
            schema.insert("type".into(), "object".into());
            Value::Object(schema)
        }
        _ => json!({"type": "object", "properties": {}}),
    }
}
