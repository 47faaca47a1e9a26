//! The sanitizer on the tool schemas real agents send: Claude Code's
//! (zod-generated, draft-07, `additionalProperties: false`), Codex's, and
//! an MCP server's (pydantic: `$defs`, `anyOf` with null, `title`,
//! `default`).

use modelgate_protocol::ir::{ChatRequest, Role, Tool};
use modelgate_protocol::spec::gemini::request::schema::{ALLOWED, sanitize};
use serde_json::{Value, json};

use super::{encode, msg, text};

const TYPES: &[&str] = &[
    "STRING", "NUMBER", "INTEGER", "BOOLEAN", "ARRAY", "OBJECT", "NULL",
];

/// Walks a sanitized schema: every node holds only allowed keywords with
/// values Gemini takes. Returns the number of nodes seen.
fn check(node: &Value, path: &str) -> usize {
    let obj = node
        .as_object()
        .unwrap_or_else(|| panic!("{path}: not an object: {node}"));
    let mut seen = 1;
    for (key, value) in obj {
        let here = format!("{path}.{key}");
        assert!(ALLOWED.contains(&key.as_str()), "{here}: not allowed");
        match key.as_str() {
            "type" => assert!(
                value.as_str().is_some_and(|t| TYPES.contains(&t)),
                "{here}: {value}"
            ),
            "enum" => assert!(
                value
                    .as_array()
                    .is_some_and(|v| v.iter().all(Value::is_string)),
                "{here}: {value}"
            ),
            "format" => assert!(value == "enum" || value == "date-time", "{here}: {value}"),
            "nullable" => assert!(value.is_boolean(), "{here}"),
            "properties" => {
                let props = value.as_object().unwrap_or_else(|| panic!("{here}"));
                for (name, schema) in props {
                    seen += check(schema, &format!("{here}.{name}"));
                }
            }
            "items" => seen += check(value, &here),
            "anyOf" => {
                for (i, branch) in value.as_array().into_iter().flatten().enumerate() {
                    seen += check(branch, &format!("{here}[{i}]"));
                }
            }
            "required" | "propertyOrdering" => {
                let names = value.as_array().unwrap_or_else(|| panic!("{here}"));
                let props = obj.get("properties").and_then(Value::as_object);
                for n in names {
                    let n = n.as_str().unwrap_or_else(|| panic!("{here}: {n}"));
                    assert!(
                        props.is_some_and(|p| p.contains_key(n)),
                        "{here}: `{n}` is not a property"
                    );
                }
            }
            _ => {}
        }
    }
    seen
}

fn claude_code_tools() -> Vec<(&'static str, Value)> {
    let draft7 = "http://json-schema.org/draft-07/schema#";
    vec![
        (
            "Bash",
            json!({"type": "object", "properties": {
                "command": {"type": "string", "description": "The command to execute"},
                "timeout": {"type": "number", "description": "Optional timeout in milliseconds (max 600000)"},
                "description": {"type": "string", "description": "Clear, concise description of what this command does in 5-10 words"},
                "run_in_background": {"type": "boolean", "description": "Set to true to run this command in the background."}
            }, "required": ["command"], "additionalProperties": false, "$schema": draft7}),
        ),
        (
            "Edit",
            json!({"type": "object", "properties": {
                "file_path": {"type": "string", "description": "The absolute path to the file to modify"},
                "old_string": {"type": "string", "description": "The text to replace"},
                "new_string": {"type": "string", "description": "The text to replace it with (must be different from old_string)"},
                "replace_all": {"type": "boolean", "default": false, "description": "Replace all occurences of old_string (default false)"}
            }, "required": ["file_path", "old_string", "new_string"], "additionalProperties": false, "$schema": draft7}),
        ),
        (
            "TodoWrite",
            json!({"type": "object", "properties": {
                "todos": {"type": "array", "items": {"type": "object", "properties": {
                    "content": {"type": "string", "minLength": 1},
                    "status": {"type": "string", "enum": ["pending", "in_progress", "completed"]},
                    "activeForm": {"type": "string", "minLength": 1}
                }, "required": ["content", "status", "activeForm"], "additionalProperties": false},
                "description": "The updated todo list"}
            }, "required": ["todos"], "additionalProperties": false, "$schema": draft7}),
        ),
        (
            "WebFetch",
            json!({"type": "object", "properties": {
                "url": {"type": "string", "format": "uri", "description": "The URL to fetch content from"},
                "prompt": {"type": "string", "description": "The prompt to run on the fetched content"}
            }, "required": ["url", "prompt"], "additionalProperties": false, "$schema": draft7}),
        ),
    ]
}

fn codex_tools() -> Vec<(&'static str, Value)> {
    vec![
        (
            "shell",
            json!({"type": "object", "properties": {
                "command": {"type": "array", "items": {"type": "string"}, "description": "The command to execute"},
                "workdir": {"type": "string", "description": "The working directory to execute the command in"},
                "timeout_ms": {"type": "number", "description": "The timeout for the command in milliseconds"},
                "with_escalated_permissions": {"type": "boolean"},
                "justification": {"type": "string"}
            }, "required": ["command"], "additionalProperties": false}),
        ),
        (
            "apply_patch",
            json!({"type": "object", "properties": {
                "input": {"type": "string", "description": "The entire contents of the apply_patch command"}
            }, "required": ["input"], "additionalProperties": false}),
        ),
        (
            "update_plan",
            json!({"type": "object", "properties": {
                "explanation": {"type": "string"},
                "plan": {"type": "array", "description": "The list of steps", "items": {
                    "type": "object", "properties": {
                        "step": {"type": "string"},
                        "status": {"type": "string", "description": "One of: pending, in_progress, completed"}
                    }, "required": ["step", "status"], "additionalProperties": false}}
            }, "required": ["plan"], "additionalProperties": false}),
        ),
    ]
}

fn mcp_tool() -> Value {
    json!({
        "$defs": {
            "Filter": {"title": "Filter", "type": "object", "properties": {
                "field": {"title": "Field", "type": "string"},
                "op": {"title": "Op", "enum": ["eq", "lt", "gt"], "type": "string"},
                "value": {"anyOf": [{"type": "string"}, {"type": "number"}, {"type": "null"}], "default": null},
                "and": {"anyOf": [{"items": {"$ref": "#/$defs/Filter"}, "type": "array"}, {"type": "null"}]}
            }, "required": ["field", "op"]}
        },
        "title": "searchArguments",
        "type": "object",
        "properties": {
            "query": {"title": "Query", "type": "string", "examples": ["rust"]},
            "limit": {"anyOf": [{"type": "integer", "exclusiveMinimum": 0}, {"type": "null"}], "default": 10, "title": "Limit"},
            "filter": {"anyOf": [{"$ref": "#/$defs/Filter"}, {"type": "null"}], "default": null},
            "since": {"type": "string", "format": "date-time"},
            "kind": {"const": "docs"}
        },
        "required": ["query"]
    })
}

#[test]
fn every_agent_schema_comes_out_in_geminis_subset() {
    let mut all = claude_code_tools();
    all.extend(codex_tools());
    all.push(("search", mcp_tool()));
    for (name, schema) in &all {
        let out = sanitize(schema);
        assert!(check(&out, name) > 1, "{name}: {out}");
        assert_eq!(out["type"], "OBJECT", "{name}");
    }
}

#[test]
fn what_the_sanitizer_keeps_and_changes() {
    let tools = claude_code_tools();
    let todo = sanitize(&tools[2].1);
    assert_eq!(
        todo["properties"]["todos"]["items"]["properties"]["status"],
        json!({"type": "STRING", "enum": ["pending", "in_progress", "completed"]})
    );
    assert_eq!(
        todo["properties"]["todos"]["items"]["required"],
        json!(["content", "status", "activeForm"])
    );
    assert_eq!(
        sanitize(&tools[1].1)["properties"]["replace_all"],
        json!({"type": "BOOLEAN", "description": "Replace all occurences of old_string (default false)"})
    );
    assert_eq!(
        sanitize(&tools[3].1)["properties"]["url"],
        json!({"type": "STRING", "description": "The URL to fetch content from"})
    );
    let mcp = sanitize(&mcp_tool());
    assert_eq!(
        mcp["properties"]["limit"],
        json!({"type": "INTEGER", "title": "Limit", "nullable": true})
    );
    assert_eq!(
        mcp["properties"]["since"],
        json!({"type": "STRING", "format": "date-time"})
    );
    assert_eq!(
        mcp["properties"]["kind"],
        json!({"type": "STRING", "enum": ["docs"]})
    );
    let filter = &mcp["properties"]["filter"];
    assert_eq!(filter["nullable"], true);
    assert_eq!(
        filter["properties"]["op"]["enum"],
        json!(["eq", "lt", "gt"])
    );
    assert_eq!(
        filter["properties"]["value"],
        json!({"anyOf": [{"type": "STRING"}, {"type": "NUMBER"}], "nullable": true})
    );
    // The recursive reference stops at a plain object.
    assert_eq!(
        filter["properties"]["and"],
        json!({"type": "ARRAY", "items": {"type": "OBJECT"}, "nullable": true})
    );
}

#[test]
fn encoded_tools_carry_sanitized_parameters() {
    let mut all = claude_code_tools();
    all.extend(codex_tools());
    let req = ChatRequest {
        messages: vec![msg(Role::User, vec![text("hi")])],
        tools: all
            .iter()
            .map(|(name, schema)| Tool {
                name: (*name).into(),
                description: None,
                parameters: schema.clone(),
                strict: None,
            })
            .collect(),
        ..ChatRequest::default()
    };
    let body = encode(&req);
    let declarations = body["tools"][0]["functionDeclarations"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert_eq!(declarations.len(), all.len());
    for decl in &declarations {
        check(&decl["parameters"], &decl["name"].to_string());
    }
}
