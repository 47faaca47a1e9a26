//! `tools` and `toolConfig` → canonical tools and tool choice, and
//! Gemini's OpenAPI-subset schemas → JSON Schema (rules in the parent
//! module's doc).

use serde_json::{Map, Value, json};

use super::{Result, array, at, bad, camel, get, object, required_str, string};
use crate::ir::{ChatRequest, Tool, ToolChoice};

pub(super) fn decode_tools(value: &Value, req: &mut ChatRequest) -> Result<()> {
    for (i, tool) in array(value, "tools")?.iter().enumerate() {
        let path = format!("tools[{i}]");
        let tool = object(tool, &path)?;
        for (key, entry) in tool {
            if entry.is_null() {
                continue;
            }
            let key = camel(key);
            if key != "functionDeclarations" {
                // Google-hosted tools (search, code execution, …) only run
                // at Google.
                if !req.dropped_tools.contains(&key) {
                    req.dropped_tools.push(key);
                }
                continue;
            }
            let p = at(&path, "functionDeclarations");
            for (j, decl) in array(entry, &p)?.iter().enumerate() {
                let p = format!("{p}[{j}]");
                req.tools.push(declaration(object(decl, &p)?, &p)?);
            }
        }
    }
    Ok(())
}

fn declaration(decl: &Map<String, Value>, path: &str) -> Result<Tool> {
    let name = required_str(decl, path, "name")?;
    let description = string(get(decl, "description"), &at(path, "description"))?
        .filter(|d| !d.is_empty())
        .map(str::to_owned);
    let parameters = match (get(decl, "parametersJsonSchema"), get(decl, "parameters")) {
        (Some(schema), _) => schema.clone(),
        (None, Some(schema)) => openapi_to_json_schema(schema),
        (None, None) => json!({"type": "object", "properties": {}}),
    };
    Ok(Tool {
        name: name.to_owned(),
        description,
        parameters,
        strict: None,
    })
}

pub(super) fn decode_tool_config(value: &Value, req: &mut ChatRequest) -> Result<()> {
    let p = "toolConfig";
    let Some(config) = get(object(value, p)?, "functionCallingConfig") else {
        return Ok(());
    };
    let p = at(p, "functionCallingConfig");
    let config = object(config, &p)?;
    let mut allowed = Vec::new();
    if let Some(names) = get(config, "allowedFunctionNames") {
        let param = at(&p, "allowedFunctionNames");
        for (k, name) in array(names, &param)?.iter().enumerate() {
            let param = format!("{param}[{k}]");
            let name = name
                .as_str()
                .ok_or_else(|| bad(&param, format!("{param} must be a string.")))?;
            if !req.tools.iter().any(|t| t.name == name) {
                return Err(bad(
                    &param,
                    format!("{param}: no function named `{name}` is declared in `tools`."),
                ));
            }
            allowed.push(name.to_owned());
        }
    }
    let mode_param = at(&p, "mode");
    let mode = string(get(config, "mode"), &mode_param)?.map(str::to_ascii_uppercase);
    req.tool_choice = match mode.as_deref() {
        None | Some("MODE_UNSPECIFIED") => None,
        Some("AUTO" | "VALIDATED") => Some(ToolChoice::Auto),
        Some("NONE") => Some(ToolChoice::None),
        Some("ANY") => Some(match allowed.as_slice() {
            [one] => ToolChoice::Tool { name: one.clone() },
            _ => ToolChoice::Required,
        }),
        Some(other) => {
            return Err(bad(
                &mode_param,
                format!(
                    "{mode_param}: unknown mode `{other}`; expected AUTO, ANY, NONE or VALIDATED."
                ),
            ));
        }
    };
    if !allowed.is_empty() {
        req.tools.retain(|t| allowed.contains(&t.name));
    }
    Ok(())
}

/// Gemini's OpenAPI-subset `Schema` → JSON Schema: type names lower-cased,
/// `nullable: true` → a `"null"` type (or an `anyOf` branch), int64 strings
/// → numbers, `propertyOrdering` and `format: enum` dropped.
pub(super) fn openapi_to_json_schema(schema: &Value) -> Value {
    let Value::Object(node) = schema else {
        return schema.clone();
    };
    let mut out = Map::new();
    for (key, value) in node {
        let key = camel(key);
        match key.as_str() {
            "type" => {
                let t = value.as_str().map(str::to_ascii_lowercase);
                match t.as_deref() {
                    Some("type_unspecified") | None => {}
                    Some(t) => {
                        out.insert(key, t.into());
                    }
                }
            }
            "nullable" | "propertyOrdering" => {}
            "format" if value == "enum" => {}
            "properties" => {
                if let Value::Object(props) = value {
                    let props = props
                        .iter()
                        .map(|(k, v)| (k.clone(), openapi_to_json_schema(v)))
                        .collect();
                    out.insert(key, Value::Object(props));
                }
            }
            "items" => {
                out.insert(key, openapi_to_json_schema(value));
            }
            "anyOf" => {
                let branches = value
                    .as_array()
                    .map(|b| b.iter().map(openapi_to_json_schema).collect())
                    .unwrap_or_default();
                out.insert(key, Value::Array(branches));
            }
            "minItems" | "maxItems" | "minLength" | "maxLength" | "minProperties"
            | "maxProperties" => {
                let n = match value {
                    Value::String(s) => s.parse::<u64>().map(Value::from).unwrap_or(Value::Null),
                    other => other.clone(),
                };
                if !n.is_null() {
                    out.insert(key, n);
                }
            }
            _ => {
                out.insert(key, value.clone());
            }
        }
    }
    if node.get("nullable") == Some(&Value::Bool(true)) {
        match out.get_mut("type") {
            Some(t @ Value::String(_)) => {
                let name = t.clone();
                *t = json!([name, "null"]);
            }
            _ => {
                if let Some(Value::Array(branches)) = out.get_mut("anyOf") {
                    branches.push(json!({"type": "null"}));
                }
            }
        }
    }
    Value::Object(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn openapi_schemas_become_json_schema() {
        let schema = json!({
            "type": "OBJECT",
            "propertyOrdering": ["a", "b"],
            "properties": {
                "a": {"type": "STRING", "nullable": true, "format": "enum", "enum": ["x", "y"]},
                "b": {"type": "ARRAY", "items": {"type": "INTEGER"}, "max_items": "3"},
                "c": {"anyOf": [{"type": "STRING"}, {"type": "NUMBER"}], "nullable": true}
            },
            "required": ["a"]
        });
        assert_eq!(
            openapi_to_json_schema(&schema),
            json!({
                "type": "object",
                "properties": {
                    "a": {"type": ["string", "null"], "enum": ["x", "y"]},
                    "b": {"type": "array", "items": {"type": "integer"}, "maxItems": 3},
                    "c": {"anyOf": [{"type": "string"}, {"type": "number"}, {"type": "null"}]}
                },
                "required": ["a"]
            })
        );
    }
}
