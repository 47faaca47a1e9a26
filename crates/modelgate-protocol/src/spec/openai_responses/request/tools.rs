//! Decoding a Responses request's `tools` and `tool_choice` (the rules are
//! in the docs of the `request` module).

use serde_json::{Map, Value, json};

use super::{Result, bad, boolean, field, required_str};
use crate::ir::{ChatRequest, ClientTool, Tool, ToolChoice};

/// Adds the tools of `v` (at path `p`: `tools`, or an `additional_tools`
/// item's) to the request.
pub(super) fn decode_tools(v: &Value, p: &str, req: &mut ChatRequest) -> Result<()> {
    let items = match v {
        Value::Null => return Ok(()),
        Value::Array(items) => items,
        _ => {
            return Err(bad(p, format!("{p} must be an array of tool definitions.")));
        }
    };
    for (i, item) in items.iter().enumerate() {
        let pi = format!("{p}.{i}");
        let tool = object(item, &pi)?;
        match tool_type(tool, &pi)? {
            "function" => req.tools.push(function_tool(tool, &pi, None)?),
            "custom" => {
                let (tool, client) = custom_tool(tool, &pi, None)?;
                req.client_tools.insert(tool.name.clone(), client);
                req.tools.push(tool);
            }
            "namespace" => {
                let ns = required_str(tool, &pi, "name", "the namespace's name")?;
                let pt = format!("{pi}.tools");
                let Some(Value::Array(inner)) = field(tool, "tools") else {
                    return Err(bad(
                        pt.clone(),
                        format!("{pt} is required: an array of `function` and `custom` tools."),
                    ));
                };
                for (j, item) in inner.iter().enumerate() {
                    let pj = format!("{pt}.{j}");
                    let inner = object(item, &pj)?;
                    let (tool, custom) = match tool_type(inner, &pj)? {
                        "function" => (function_tool(inner, &pj, Some(ns))?, false),
                        "custom" => (custom_tool(inner, &pj, Some(ns))?.0, true),
                        other => {
                            let param = format!("{pj}.type");
                            return Err(bad(
                                param.clone(),
                                format!(
                                    "{param}: a namespace holds `function` and `custom` tools, not `{other}`."
                                ),
                            ));
                        }
                    };
                    let client = ClientTool {
                        namespace: Some(ns.to_owned()),
                        name: required_str(inner, &pj, "name", "the tool's name")?.to_owned(),
                        custom,
                    };
                    req.client_tools.insert(tool.name.clone(), client);
                    req.tools.push(tool);
                }
            }
            // A hosted tool (web search, file search, code interpreter, MCP,
            // …): only OpenAI runs it.
            hosted => {
                if !req.dropped_tools.iter().any(|t| t == hosted) {
                    req.dropped_tools.push(hosted.to_owned());
                }
            }
        }
    }
    Ok(())
}

fn object<'a>(v: &'a Value, p: &str) -> Result<&'a Map<String, Value>> {
    v.as_object()
        .ok_or_else(|| bad(p, format!("{p} must be a tool definition (an object).")))
}

fn tool_type<'a>(tool: &'a Map<String, Value>, p: &str) -> Result<&'a str> {
    required_str(
        tool,
        p,
        "type",
        "`function`, `custom`, `namespace` or a hosted tool's type",
    )
}

/// The canonical name of a tool declared in namespace `ns`.
fn canonical(ns: Option<&str>, name: &str) -> String {
    ns.map_or_else(|| name.to_owned(), |ns| format!("{ns}.{name}"))
}

fn description(tool: &Map<String, Value>, p: &str) -> Result<Option<String>> {
    super::string(
        tool.get("description").unwrap_or(&Value::Null),
        &format!("{p}.description"),
    )
}

fn function_tool(tool: &Map<String, Value>, p: &str, ns: Option<&str>) -> Result<Tool> {
    let name = required_str(tool, p, "name", "the function's name")?;
    let parameters = match field(tool, "parameters") {
        None => json!({"type": "object", "properties": {}}),
        Some(schema @ Value::Object(_)) => schema.clone(),
        Some(_) => {
            let param = format!("{p}.parameters");
            return Err(bad(
                param.clone(),
                format!("{param} must be a JSON Schema object."),
            ));
        }
    };
    Ok(Tool {
        name: canonical(ns, name),
        description: description(tool, p)?,
        parameters,
        strict: boolean(
            tool.get("strict").unwrap_or(&Value::Null),
            &format!("{p}.strict"),
        )?,
    })
}

/// A `custom` tool as a function taking its free-form text as `input`.
fn custom_tool(tool: &Map<String, Value>, p: &str, ns: Option<&str>) -> Result<(Tool, ClientTool)> {
    let name = required_str(tool, p, "name", "the tool's name")?;
    let mut description = description(tool, p)?;
    let mut input = "The tool's input: free-form text.";
    if let Some(format) = field(tool, "format") {
        let pf = format!("{p}.format");
        let format = format
            .as_object()
            .ok_or_else(|| bad(pf.clone(), format!("{pf} must be an object with a `type`.")))?;
        match field(format, "type").and_then(Value::as_str) {
            Some("text") => {}
            Some("grammar") => {
                let syntax = required_str(format, &pf, "syntax", "`lark` or `regex`")?;
                let definition =
                    required_str(format, &pf, "definition", "the grammar's definition")?;
                let language = match syntax {
                    "lark" => "Lark grammar".to_owned(),
                    "regex" => "regular expression".to_owned(),
                    other => format!("{other} grammar"),
                };
                let rule = format!(
                    "The `input` must be written in the language of this {language}:\n{definition}"
                );
                description = Some(match description.filter(|d| !d.is_empty()) {
                    Some(d) => format!("{d}\n\n{rule}"),
                    None => rule,
                });
                input =
                    "The tool's input, written in the language given in the tool's description.";
            }
            _ => {
                let param = format!("{pf}.type");
                return Err(bad(
                    param.clone(),
                    format!("{param} must be \"text\" or \"grammar\"."),
                ));
            }
        }
    }
    let tool = Tool {
        name: canonical(ns, name),
        description,
        parameters: json!({
            "type": "object",
            "properties": {"input": {"type": "string", "description": input}},
            "required": ["input"],
            "additionalProperties": false,
        }),
        strict: None,
    };
    let client = ClientTool {
        namespace: ns.map(str::to_owned),
        name: name.to_owned(),
        custom: true,
    };
    Ok((tool, client))
}

/// `tool_choice`, decoded after the tools so that a forced tool's name
/// can be given its canonical form.
pub(super) fn decode_tool_choice(v: &Value, req: &mut ChatRequest) -> Result<Option<ToolChoice>> {
    let p = "tool_choice";
    let invalid = || {
        bad(
            p,
            "tool_choice must be \"auto\", \"none\", \"required\" or an object such as \
             {\"type\": \"function\", \"name\": \"...\"}.",
        )
    };
    let obj = match v {
        Value::Null => return Ok(None),
        Value::String(s) => {
            return Ok(Some(match s.as_str() {
                "auto" => ToolChoice::Auto,
                "none" => ToolChoice::None,
                "required" => ToolChoice::Required,
                _ => return Err(invalid()),
            }));
        }
        Value::Object(obj) => obj,
        _ => return Err(invalid()),
    };
    let kind = field(obj, "type")
        .and_then(Value::as_str)
        .ok_or_else(invalid)?;
    Ok(Some(match kind {
        "function" | "custom" => {
            let name = required_str(obj, p, "name", "the name of the tool to call")?;
            ToolChoice::Tool {
                name: resolve(name, req),
            }
        }
        "allowed_tools" => {
            let required = match field(obj, "mode").and_then(Value::as_str) {
                None | Some("auto") => false,
                Some("required") => true,
                Some(_) => {
                    return Err(bad(
                        "tool_choice.mode",
                        "tool_choice.mode must be \"auto\" or \"required\".",
                    ));
                }
            };
            restrict_to_allowed(obj, req, required)?;
            if required {
                ToolChoice::Required
            } else {
                ToolChoice::Auto
            }
        }
        hosted => {
            return Err(bad(
                p,
                format!(
                    "tool_choice forces the hosted tool `{hosted}`, which this endpoint cannot \
                     run; let the model choose (\"auto\") or use a model on an \
                     `openai-responses` endpoint."
                ),
            ));
        }
    }))
}

/// `allowed_tools`: only the listed tools are offered to the model (the
/// others are left out of the upstream request, which no target's
/// `tool_choice` can express otherwise). Listed hosted tools cannot run
/// here; when `required` leaves no tool to call, that is a 400 rather than
/// a call the client did not allow.
fn restrict_to_allowed(
    obj: &Map<String, Value>,
    req: &mut ChatRequest,
    required: bool,
) -> Result<()> {
    let p = "tool_choice.tools";
    let Some(listed) = field(obj, "tools") else {
        return Ok(());
    };
    let listed = listed
        .as_array()
        .ok_or_else(|| bad(p, "tool_choice.tools must be an array of tools"))?;
    let mut allowed = Vec::new();
    let mut hosted = Vec::new();
    for (i, entry) in listed.iter().enumerate() {
        let kind = entry
            .get("type")
            .and_then(Value::as_str)
            .ok_or_else(|| bad(format!("{p}.{i}.type"), format!("{p}.{i} needs a `type`")))?;
        match (kind, entry.get("name").and_then(Value::as_str)) {
            ("function" | "custom", Some(name)) => {
                let ns = entry.get("namespace").and_then(Value::as_str);
                let name = ns.map_or_else(|| resolve(name, req), |ns| format!("{ns}.{name}"));
                allowed.push(name);
            }
            ("function" | "custom", None) => {
                return Err(bad(
                    format!("{p}.{i}.name"),
                    format!("{p}.{i} needs a `name`"),
                ));
            }
            (other, _) => hosted.push(other.to_owned()),
        }
    }
    req.tools.retain(|t| allowed.contains(&t.name));
    if required && req.tools.is_empty() {
        let why = match hosted.first() {
            Some(h) => format!(
                "tool_choice requires one of the allowed tools, and the only ones allowed are \
                 hosted (`{h}`), which this endpoint cannot run; allow a function tool or use a \
                 model on an `openai-responses` endpoint."
            ),
            None => "tool_choice requires one of the allowed tools, and none of them is among \
                     `tools`; list them in `tools` too."
                .to_owned(),
        };
        return Err(bad(p, why));
    }
    Ok(())
}

/// The canonical name of a forced tool: the name itself when a tool has
/// it, else the one namespaced tool declared under that name.
fn resolve(name: &str, req: &ChatRequest) -> String {
    if req.tools.iter().any(|t| t.name == name) {
        return name.to_owned();
    }
    let mut matches = req.client_tools.iter().filter(|(_, c)| c.name == name);
    match (matches.next(), matches.next()) {
        (Some((canonical, _)), None) => canonical.clone(),
        _ => name.to_owned(),
    }
}
