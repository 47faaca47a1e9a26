//! What the endpoint must receive from a translated request: the
//! request-side mappings of each target format (system prompt, output
//! limit, tools, tool_choice, parallel calls, reasoning, sampling, stream
//! options), for every front door's way of asking them.

use serde_json::{Value, json};

use super::client::{self, Ask, Choice, SYSTEM, USER};
use super::{Cell, Front, Wire};

/// The text of a message's content: a string, or its text blocks
/// (`text`, Responses `input_text`).
pub fn text_of(content: &Value) -> String {
    match content {
        Value::String(s) => s.clone(),
        Value::Array(blocks) => blocks
            .iter()
            .filter(|b| b["type"] == "text" || b["type"] == "input_text")
            .filter_map(|b| b["text"].as_str())
            .collect(),
        _ => String::new(),
    }
}

/// The name the endpoint got for a client's tool: the same when valid
/// (`[A-Za-z0-9_-]`), else a valid rename starting with the sanitized name.
pub fn check_tool_name(cell: Cell, client: &str, sent: &Value) {
    let sent = sent.as_str().unwrap_or_default();
    let valid = |n: &str| {
        !n.is_empty()
            && n.len() <= 64
            && n.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    };
    if valid(client) {
        assert_eq!(sent, client, "{cell}: a valid tool name is kept");
    } else {
        let prefix = client.replace(|c: char| !c.is_ascii_alphanumeric() && c != '-', "_");
        assert!(
            valid(sent) && sent.starts_with(&prefix),
            "{cell}: tool `{client}` renamed validly, got `{sent}`"
        );
    }
}

/// The canonical tool choice the endpoint must get: an Anthropic client
/// says `disable_parallel_tool_use` inside a tool_choice, `auto` when it
/// names no other.
pub fn expected_choice(cell: Cell, ask: &Ask) -> Option<Choice> {
    let mut choice = ask.choice.clone();
    if cell.front == Front::Anthropic && ask.parallel == Some(false) {
        choice.get_or_insert(Choice::Auto);
    }
    choice
}

/// The temperature the client asked (before any clamping).
pub fn temperature(front: Front) -> f64 {
    match front {
        Front::OpenAi | Front::Responses => 1.5,
        Front::Anthropic => 0.5,
    }
}

/// The request-side mappings of a translated request.
pub fn check_translated(cell: Cell, ask: &Ask, body: &Value) {
    let known: &[&str] = match cell.spec.wire() {
        Wire::Messages => &[
            "model",
            "max_tokens",
            "system",
            "messages",
            "tools",
            "tool_choice",
            "thinking",
            "temperature",
            "top_p",
            "top_k",
            "stop_sequences",
            "metadata",
            "stream",
        ],
        Wire::Chat => &[
            "model",
            "messages",
            "max_tokens",
            "temperature",
            "top_p",
            "stop",
            "tools",
            "tool_choice",
            "parallel_tool_calls",
            "reasoning_effort",
            "stream",
            "stream_options",
        ],
        Wire::Responses => &[
            "model",
            "instructions",
            "input",
            "tools",
            "tool_choice",
            "parallel_tool_calls",
            "reasoning",
            "include",
            "max_output_tokens",
            "temperature",
            "top_p",
            "stream",
            "store",
            "text",
            "user",
            "metadata",
        ],
        Wire::Gemini => &[
            "contents",
            "systemInstruction",
            "generationConfig",
            "tools",
            "toolConfig",
        ],
    };
    for key in body.as_object().expect("a JSON object").keys() {
        assert!(
            known.contains(&key.as_str()),
            "{cell}: the endpoint got `{key}`, which is not a field of its format: {body}"
        );
    }
    match cell.spec.wire() {
        Wire::Messages => to_messages(cell, ask, body),
        Wire::Chat => to_chat(cell, ask, body),
        Wire::Responses => to_responses(cell, ask, body),
        Wire::Gemini => super::checks_gemini::to_gemini(cell, ask, body),
    }
}

fn to_messages(cell: Cell, ask: &Ask, body: &Value) {
    let absent = |k: &str| body.get(k).is_none();
    assert_eq!(body["system"], SYSTEM, "{cell}: system prompt is top-level");
    let messages = body["messages"].as_array().expect("messages");
    assert_eq!(messages.len(), 1, "{cell}: only the user turn: {body}");
    assert_eq!(messages[0]["role"], "user", "{cell}");
    assert_eq!(text_of(&messages[0]["content"]), USER, "{cell}");
    let max_tokens = body["max_tokens"].as_u64().expect("max_tokens is required");
    if ask.reasoning {
        assert_eq!(
            body["thinking"],
            json!({"type": "enabled", "budget_tokens": 2048}),
            "{cell}: reasoning effort low → a 2048-token budget"
        );
        assert!(
            max_tokens > 2048,
            "{cell}: max_tokens {max_tokens} raised above the budget"
        );
        assert!(
            absent("temperature"),
            "{cell}: no temperature with thinking"
        );
    } else {
        let expected = ask.max_tokens(cell.front).unwrap_or(4096);
        assert_eq!(
            max_tokens, expected,
            "{cell}: the client's limit, else the default max_tokens"
        );
        assert!(absent("thinking"), "{cell}: no thinking unasked");
    }
    if cell.stream {
        assert_eq!(body["stream"], true, "{cell}");
    } else {
        assert!(body["stream"] != true, "{cell}: not streamed");
    }
    if ask.raw_tools.is_none() {
        for (i, name) in ask.tools.iter().enumerate() {
            let tool = &body["tools"][i];
            check_tool_name(cell, name, &tool["name"]);
            assert_eq!(tool["input_schema"], client::schema(name), "{cell}");
            assert_eq!(tool["description"], client::description(name), "{cell}");
        }
        if ask.tools.is_empty() {
            assert!(absent("tools"), "{cell}");
        }
    }
    if ask.raw_choice.is_some() {
        return;
    }
    let mut choice = ask.choice.as_ref().map(|c| match c {
        Choice::Auto => json!({"type": "auto"}),
        Choice::Required => json!({"type": "any"}),
        Choice::None => json!({"type": "none"}),
        Choice::Named(n) => json!({"type": "tool", "name": n}),
    });
    if ask.parallel == Some(false) {
        choice.get_or_insert_with(|| json!({"type": "auto"}))["disable_parallel_tool_use"] =
            true.into();
    }
    assert_eq!(
        body.get("tool_choice"),
        choice.as_ref(),
        "{cell}: tool_choice"
    );
    if ask.sampling {
        assert_eq!(body["temperature"], 1.0, "{cell}: temperature clamped to 1");
        let stop = (cell.front == Front::OpenAi).then(|| json!(["END"]));
        assert_eq!(
            body.get("stop_sequences"),
            stop.as_ref(),
            "{cell}: stop → stop_sequences (Responses has none)"
        );
    }
}

fn to_chat(cell: Cell, ask: &Ask, body: &Value) {
    let absent = |k: &str| body.get(k).is_none();
    let messages = body["messages"].as_array().expect("messages");
    assert_eq!(
        messages[..],
        [
            json!({"role": "system", "content": SYSTEM}),
            json!({"role": "user", "content": USER})
        ],
        "{cell}: the system prompt is the first message"
    );
    assert_eq!(
        body.get("max_tokens").and_then(Value::as_u64),
        ask.max_tokens(cell.front),
        "{cell}: max_tokens kept"
    );
    if ask.reasoning {
        assert_eq!(
            body["reasoning_effort"], "low",
            "{cell}: effort low / a 2048-token budget → reasoning_effort low"
        );
    } else {
        assert!(absent("reasoning_effort"), "{cell}");
    }
    if cell.stream {
        assert_eq!(body["stream"], true, "{cell}");
        assert_eq!(
            body["stream_options"],
            json!({"include_usage": true}),
            "{cell}: usage always asked of the endpoint"
        );
    } else {
        assert!(body["stream"] != true, "{cell}: not streamed");
        assert!(absent("stream_options"), "{cell}");
    }
    if ask.raw_tools.is_none() {
        for (i, name) in ask.tools.iter().enumerate() {
            let tool = &body["tools"][i];
            assert_eq!(tool["type"], "function", "{cell}");
            check_tool_name(cell, name, &tool["function"]["name"]);
            let f = &tool["function"];
            assert_eq!(f["parameters"], client::schema(name), "{cell}");
            assert_eq!(f["description"], client::description(name), "{cell}");
        }
        if ask.tools.is_empty() {
            assert!(absent("tools"), "{cell}");
        }
    }
    if ask.raw_choice.is_none() {
        let choice = expected_choice(cell, ask).map(|c| match c {
            Choice::Auto => json!("auto"),
            Choice::Required => json!("required"),
            Choice::None => json!("none"),
            Choice::Named(n) => json!({"type": "function", "function": {"name": n}}),
        });
        assert_eq!(
            body.get("tool_choice"),
            choice.as_ref(),
            "{cell}: tool_choice"
        );
    }
    assert_eq!(
        body.get("parallel_tool_calls"),
        ask.parallel.map(Value::from).as_ref(),
        "{cell}: parallel_tool_calls"
    );
    if ask.sampling {
        assert_eq!(body["temperature"], temperature(cell.front), "{cell}");
        let stop = (cell.front == Front::Anthropic).then(|| json!(["END"]));
        assert_eq!(
            body.get("stop"),
            stop.as_ref(),
            "{cell}: stop_sequences → stop (Responses has none)"
        );
    }
}

fn to_responses(cell: Cell, ask: &Ask, body: &Value) {
    let absent = |k: &str| body.get(k).is_none();
    assert_eq!(
        body["instructions"], SYSTEM,
        "{cell}: the system prompt is `instructions`"
    );
    let input = body["input"].as_array().expect("input items");
    assert_eq!(input.len(), 1, "{cell}: only the user turn: {body}");
    let user = &input[0];
    assert!(
        user["role"] == "user" && (user.get("type").is_none() || user["type"] == "message"),
        "{cell}: a user message item: {user}"
    );
    assert_eq!(text_of(&user["content"]), USER, "{cell}");
    assert_eq!(
        body.get("max_output_tokens").and_then(Value::as_u64),
        ask.max_tokens(cell.front),
        "{cell}: max_tokens → max_output_tokens"
    );
    assert_eq!(
        body["store"], false,
        "{cell}: nothing stored upstream (the gateway is stateless)"
    );
    if ask.reasoning {
        assert_eq!(
            body["reasoning"]["effort"], "low",
            "{cell}: effort low / a 2048-token budget → reasoning.effort low"
        );
        let include = body["include"].as_array().cloned().unwrap_or_default();
        assert!(
            include.contains(&json!("reasoning.encrypted_content")),
            "{cell}: reasoning asked back encrypted, to replay it next turn: {body}"
        );
    } else {
        assert!(absent("reasoning"), "{cell}: no reasoning unasked");
    }
    if cell.stream {
        assert_eq!(body["stream"], true, "{cell}");
    } else {
        assert!(body["stream"] != true, "{cell}: not streamed");
    }
    for (i, name) in ask.tools.iter().enumerate() {
        let tool = &body["tools"][i];
        assert_eq!(tool["type"], "function", "{cell}: flat function tools");
        check_tool_name(cell, name, &tool["name"]);
        assert_eq!(tool["parameters"], client::schema(name), "{cell}");
        assert_eq!(tool["description"], client::description(name), "{cell}");
    }
    if ask.tools.is_empty() {
        assert!(absent("tools"), "{cell}");
    }
    let choice = expected_choice(cell, ask).map(|c| match c {
        Choice::Auto => json!("auto"),
        Choice::Required => json!("required"),
        Choice::None => json!("none"),
        Choice::Named(n) => json!({"type": "function", "name": n}),
    });
    assert_eq!(
        body.get("tool_choice"),
        choice.as_ref(),
        "{cell}: tool_choice"
    );
    assert_eq!(
        body.get("parallel_tool_calls"),
        ask.parallel.map(Value::from).as_ref(),
        "{cell}: parallel_tool_calls"
    );
    if ask.sampling {
        assert_eq!(body["temperature"], temperature(cell.front), "{cell}");
    }
}
