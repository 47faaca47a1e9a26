//! What a Gemini endpoint must receive from a translated request:
//! `contents` / `parts`, `systemInstruction`, `generationConfig`,
//! `tools[].functionDeclarations` with schemas Gemini accepts, and
//! `toolConfig` — for every front door's way of asking them.

use serde_json::{Value, json};

use super::checks::{check_tool_name, expected_choice, temperature};
use super::client::{self, Ask, Choice, SYSTEM, USER};
use super::{Cell, Front};

/// Schema keywords Gemini rejects in `parameters`; none may reach it.
pub const UNSUPPORTED: &[&str] = &[
    "additionalProperties",
    "$schema",
    "$ref",
    "$defs",
    "definitions",
];

/// The keys of `schema` (at any depth) that Gemini rejects, with their paths.
pub fn unsupported_keys(schema: &Value) -> Vec<String> {
    fn walk(v: &Value, path: &str, out: &mut Vec<String>) {
        match v {
            Value::Object(map) => {
                for (k, v) in map {
                    // A property may be *named* like a keyword: only keys of
                    // a schema count, not the names under `properties`.
                    if UNSUPPORTED.contains(&k.as_str()) && !path.ends_with(".properties") {
                        out.push(format!("{path}.{k}"));
                    }
                    walk(v, &format!("{path}.{k}"), out);
                }
            }
            Value::Array(items) => {
                for (i, v) in items.iter().enumerate() {
                    walk(v, &format!("{path}[{i}]"), out);
                }
            }
            _ => {}
        }
    }
    let mut out = Vec::new();
    walk(schema, "", &mut out);
    out
}

/// [`client::schema`] as Gemini's OpenAPI subset must get it (upper-case
/// type names), written by hand.
pub fn parameters(name: &str) -> Value {
    match name {
        "get_weather" => json!({"type": "OBJECT",
            "properties": {"city": {"type": "STRING"}}, "required": ["city"]}),
        _ => json!({"type": "OBJECT", "properties": {"tz": {"type": "STRING"}}}),
    }
}

/// The function declarations of a Gemini request.
pub fn declarations(body: &Value) -> Vec<Value> {
    body["tools"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|t| {
            t["functionDeclarations"]
                .as_array()
                .cloned()
                .unwrap_or_default()
        })
        .collect()
}

pub fn to_gemini(cell: Cell, ask: &Ask, body: &Value) {
    let absent = |k: &str| body.get(k).is_none();
    assert_eq!(
        body["systemInstruction"]["parts"],
        json!([{"text": SYSTEM}]),
        "{cell}: the system prompt is `systemInstruction`: {body}"
    );
    assert_eq!(
        body["contents"],
        json!([{"role": "user", "parts": [{"text": USER}]}]),
        "{cell}: only the user turn, as parts: {body}"
    );
    let config = &body["generationConfig"];
    assert_eq!(
        config.get("maxOutputTokens").and_then(Value::as_u64),
        ask.max_tokens(cell.front),
        "{cell}: max_tokens → generationConfig.maxOutputTokens: {body}"
    );
    if ask.reasoning {
        assert_eq!(
            config["thinkingConfig"],
            json!({"thinkingBudget": 2048, "includeThoughts": true}),
            "{cell}: effort low / a 2048-token budget → thinkingConfig, thoughts asked back: {body}"
        );
    } else {
        assert!(
            config.get("thinkingConfig").is_none(),
            "{cell}: no thinking unasked: {body}"
        );
    }
    assert!(absent("stream"), "{cell}: streaming is in the URL");
    let declared = declarations(body);
    if ask.raw_tools.is_none() {
        assert_eq!(declared.len(), ask.tools.len(), "{cell}: {body}");
        for (name, f) in ask.tools.iter().zip(&declared) {
            check_tool_name(cell, name, &f["name"]);
            assert_eq!(f["parameters"], parameters(name), "{cell}: {f}");
            assert_eq!(f["description"], client::description(name), "{cell}");
        }
        if ask.tools.is_empty() {
            assert!(absent("tools"), "{cell}");
        }
    }
    for f in &declared {
        let bad = unsupported_keys(f);
        assert!(
            bad.is_empty(),
            "{cell}: schema keywords Gemini rejects reached it: {bad:?} in {f}"
        );
    }
    if ask.raw_choice.is_none() {
        let choice = expected_choice(cell, ask).map(|c| match c {
            Choice::Auto => json!({"mode": "AUTO"}),
            Choice::Required => json!({"mode": "ANY"}),
            Choice::None => json!({"mode": "NONE"}),
            Choice::Named(n) => json!({"mode": "ANY", "allowedFunctionNames": [n]}),
        });
        assert_eq!(
            body["toolConfig"].get("functionCallingConfig"),
            choice.as_ref(),
            "{cell}: tool_choice → toolConfig.functionCallingConfig: {body}"
        );
    }
    if ask.sampling {
        assert_eq!(config["temperature"], temperature(cell.front), "{cell}");
        let stop = (cell.front != Front::Responses).then(|| json!(["END"]));
        assert_eq!(
            config.get("stopSequences"),
            stop.as_ref(),
            "{cell}: stop → stopSequences (Responses has none)"
        );
    }
}
