//! Any JSON Schema a client sends → the OpenAPI-subset `Schema` Gemini's
//! `parameters` (and `responseSchema`) accept ([`sanitize`]).
//!
//! Gemini rejects keywords outside its subset, so the output holds only
//! [`ALLOWED`] keywords:
//!
//! * `$ref` to `#/$defs/…` / `#/definitions/…` (or `#`) is inlined, its
//!   sibling keywords (a `description`) winning over the target's; a ref
//!   met again inside its own expansion (a recursive schema) becomes
//!   `{"type": "OBJECT"}`; an unresolvable ref too, and any ref past the
//!   first 512 inlined (definitions that each use the next twice would
//!   otherwise grow the output exponentially).
//! * `type` names are upper-cased (`STRING`); `type: ["string", "null"]` is
//!   `STRING` + `nullable: true`; several non-null types become an `anyOf`.
//! * `anyOf` / `oneOf`: `{"type": "null"}` branches become `nullable: true`;
//!   one branch left is merged into the node, several stay an `anyOf` of
//!   sanitized branches. `allOf`: object branches are merged (properties,
//!   required), otherwise the first branch is used.
//! * `const` (string) → a one-value `enum`; `enum` values become strings
//!   (a `null` value makes the node `nullable`), a node with an `enum` and
//!   no `type` is a `STRING`. Gemini rejects an `enum` on other types
//!   ("enum only allowed for STRING type"): there the values are listed in
//!   the `description` instead, and the type is kept.
//! * `format` is kept only for strings and only `enum` / `date-time` (the
//!   Gemini API rejects the others).
//! * `required` keeps only names of declared properties; a tuple `items`
//!   keeps its first schema; a node with `properties` but no `type` is an
//!   `OBJECT`, with `items` an `ARRAY`. An empty `properties` is left out
//!   (Gemini: "should be non-empty for OBJECT type"), and so are
//!   `properties` / `required` on non-objects and `items` on non-arrays
//!   ("only allowed for OBJECT type"). Unknown type names are dropped.
//! * Everything else (`$schema`, `$id`, `$defs`, `definitions`,
//!   `additionalProperties`, `examples`, `default`, `not`, `if`, …) is dropped.

use serde_json::{Map, Value, json};

/// The keywords the output may hold.
pub const ALLOWED: &[&str] = &[
    "type",
    "format",
    "title",
    "description",
    "nullable",
    "enum",
    "items",
    "minItems",
    "maxItems",
    "properties",
    "required",
    "minProperties",
    "maxProperties",
    "minLength",
    "maxLength",
    "pattern",
    "minimum",
    "maximum",
    "anyOf",
    "propertyOrdering",
];

/// Keywords copied as they are when their value has the right JSON type.
const NUMBERS: &[&str] = &[
    "minItems",
    "maxItems",
    "minProperties",
    "maxProperties",
    "minLength",
    "maxLength",
    "minimum",
    "maximum",
];

/// The schema Gemini accepts for `schema` (see the module doc).
pub fn sanitize(schema: &Value) -> Value {
    let mut defs = Map::new();
    if let Value::Object(root) = schema {
        for key in ["definitions", "$defs"] {
            if let Some(Value::Object(d)) = root.get(key) {
                defs.extend(d.iter().map(|(k, v)| (k.clone(), v.clone())));
            }
        }
    }
    let mut walker = Walker {
        root: schema,
        defs: &defs,
        stack: Vec::new(),
        expansions: 0,
    };
    Value::Object(walker.walk(schema))
}

struct Walker<'a> {
    root: &'a Value,
    defs: &'a Map<String, Value>,
    /// The refs being expanded, to stop at recursion.
    stack: Vec<String>,
    /// Refs inlined so far: definitions that each use the next one twice
    /// would otherwise grow the output exponentially.
    expansions: usize,
}

/// The most `$ref`s inlined in one schema; later ones become plain objects.
const MAX_EXPANSIONS: usize = 512;

impl Walker<'_> {
    fn walk(&mut self, node: &Value) -> Map<String, Value> {
        let Value::Object(node) = node else {
            // `true` / `{}`: any value; Gemini has no such schema, so the
            // node stays empty (no constraint).
            return Map::new();
        };
        if let Some(Value::String(reference)) = node.get("$ref") {
            return self.expand(reference, node);
        }
        let mut out = Map::new();
        let mut nullable = node.get("nullable") == Some(&Value::Bool(true));
        // `type`
        match node.get("type") {
            Some(Value::String(t)) if t == "null" => nullable = true,
            Some(Value::String(t)) => {
                if let Some(t) = type_name(t) {
                    out.insert("type".into(), t.into());
                }
            }
            Some(Value::Array(types)) => {
                let named: Vec<&str> = types
                    .iter()
                    .filter_map(Value::as_str)
                    .filter(|t| *t == "null" || type_name(t).is_some())
                    .collect();
                nullable |= named.contains(&"null");
                let real: Vec<&str> = named.into_iter().filter(|t| *t != "null").collect();
                match real.as_slice() {
                    [] => {}
                    [one] => {
                        out.insert("type".into(), one.to_ascii_uppercase().into());
                    }
                    many => {
                        let branches = many
                            .iter()
                            .map(|t| json!({"type": t.to_ascii_uppercase()}))
                            .collect();
                        out.insert("anyOf".into(), Value::Array(branches));
                    }
                }
            }
            _ => {}
        }
        for key in ["title", "description", "pattern"] {
            if let Some(v @ Value::String(_)) = node.get(key) {
                out.insert(key.into(), v.clone());
            }
        }
        for key in NUMBERS {
            match node.get(*key) {
                Some(v @ Value::Number(_)) => {
                    out.insert((*key).into(), v.clone());
                }
                // Gemini's own int64 fields come as strings.
                Some(Value::String(s)) => {
                    if let Ok(n) = s.parse::<i64>() {
                        out.insert((*key).into(), n.into());
                    }
                }
                _ => {}
            }
        }
        // `enum` / `const`
        let mut values: Option<Vec<Value>> = None;
        if let Some(Value::Array(items)) = node.get("enum") {
            nullable |= items.iter().any(Value::is_null);
            values = Some(items.iter().filter_map(enum_value).collect());
        } else if let Some(Value::String(c)) = node.get("const") {
            values = Some(vec![c.clone().into()]);
        }
        if let Some(values) = values.filter(|v| !v.is_empty()) {
            match out.get("type").and_then(Value::as_str) {
                None | Some("STRING") => {
                    out.insert("type".into(), "STRING".into());
                    out.insert("enum".into(), Value::Array(values));
                }
                // Gemini takes enums of strings only: the values of a
                // number (or boolean) enum are told in the description, so
                // that the arguments keep their type.
                Some(_) => {
                    let listed: Vec<&str> = values.iter().filter_map(Value::as_str).collect();
                    let note = format!("Allowed values: {}.", listed.join(", "));
                    let description = match node.get("description").and_then(Value::as_str) {
                        Some(d) if !d.is_empty() => format!("{d} {note}"),
                        _ => note,
                    };
                    out.insert("description".into(), description.into());
                }
            }
        }
        if out.get("type").and_then(Value::as_str) == Some("STRING")
            && let Some(Value::String(f)) = node.get("format")
            && (f == "enum" || f == "date-time")
        {
            out.insert("format".into(), f.clone().into());
        }
        // `properties` / `required` / `propertyOrdering`
        if let Some(Value::Object(props)) = node.get("properties") {
            let props: Map<String, Value> = props
                .iter()
                .map(|(name, s)| (name.clone(), Value::Object(self.walk(s))))
                .collect();
            let declared = |v: &Value| v.as_str().is_some_and(|n| props.contains_key(n));
            for key in ["required", "propertyOrdering"] {
                if let Some(Value::Array(names)) = node.get(key) {
                    let names: Vec<Value> = names.iter().filter(|v| declared(v)).cloned().collect();
                    if !names.is_empty() {
                        out.insert(key.into(), Value::Array(names));
                    }
                }
            }
            out.entry("type").or_insert_with(|| "OBJECT".into());
            // Gemini rejects an empty `properties` ("should be non-empty
            // for OBJECT type"); an object without them is free-form.
            if !props.is_empty() {
                out.insert("properties".into(), Value::Object(props));
            }
        }
        // `items`
        let items = match node.get("items") {
            Some(Value::Array(tuple)) => tuple.first(),
            other => other,
        };
        if let Some(items) = items {
            out.insert("items".into(), Value::Object(self.walk(items)));
            out.entry("type").or_insert_with(|| "ARRAY".into());
        }
        // `anyOf` / `oneOf` / `allOf`
        let mut branches = Vec::new();
        for key in ["anyOf", "oneOf"] {
            if let Some(Value::Array(list)) = node.get(key) {
                branches.extend(list.iter());
            }
        }
        if !branches.is_empty() {
            let mut kept = Vec::new();
            for branch in branches {
                let walked = self.walk(branch);
                if is_null_branch(branch) {
                    nullable = true;
                } else {
                    kept.push(walked);
                }
            }
            match kept.len() {
                0 => {}
                1 => merge_under(&mut out, kept.remove(0)),
                _ => {
                    out.insert(
                        "anyOf".into(),
                        Value::Array(kept.into_iter().map(Value::Object).collect()),
                    );
                }
            }
        }
        if let Some(Value::Array(list)) = node.get("allOf") {
            let walked: Vec<Map<String, Value>> = list.iter().map(|b| self.walk(b)).collect();
            merge_under(&mut out, merge_all_of(walked));
        }
        if nullable {
            out.insert("nullable".into(), true.into());
        }
        // Gemini takes `properties` and `required` on objects only, and
        // `items` on arrays only (MCP servers do put them elsewhere).
        let kind = out.get("type").and_then(Value::as_str).map(str::to_owned);
        if let Some(kind) = kind {
            if kind != "OBJECT" {
                for key in ["properties", "required", "propertyOrdering"] {
                    out.remove(key);
                }
            }
            if kind != "ARRAY" {
                out.remove("items");
            }
        }
        out
    }

    /// Inlines a `$ref`, the referring node's siblings winning.
    fn expand(&mut self, reference: &str, node: &Map<String, Value>) -> Map<String, Value> {
        let target = if reference == "#" {
            Some(self.root)
        } else {
            reference
                .strip_prefix("#/$defs/")
                .or_else(|| reference.strip_prefix("#/definitions/"))
                .and_then(|name| self.defs.get(name))
        };
        let mut out = match target {
            Some(target)
                if !self.stack.iter().any(|r| r == reference)
                    && self.expansions < MAX_EXPANSIONS =>
            {
                self.expansions += 1;
                self.stack.push(reference.to_owned());
                let out = self.walk(target);
                self.stack.pop();
                out
            }
            // Recursive or unresolvable: an object the model fills freely.
            _ => json!({"type": "OBJECT"})
                .as_object()
                .cloned()
                .unwrap_or_default(),
        };
        let mut siblings = node.clone();
        siblings.remove("$ref");
        if !siblings.is_empty() {
            let own = self.walk(&Value::Object(siblings));
            out.extend(own);
        }
        out
    }
}

/// Gemini's name for a JSON Schema type (`None` for names it lacks).
fn type_name(t: &str) -> Option<&'static str> {
    Some(match t {
        "string" | "STRING" => "STRING",
        "number" | "NUMBER" => "NUMBER",
        "integer" | "INTEGER" => "INTEGER",
        "boolean" | "BOOLEAN" => "BOOLEAN",
        "array" | "ARRAY" => "ARRAY",
        "object" | "OBJECT" => "OBJECT",
        "null" | "NULL" => "NULL",
        _ => return None,
    })
}

/// An enum value as Gemini wants it: a string (`null` is left out).
fn enum_value(v: &Value) -> Option<Value> {
    match v {
        Value::Null => None,
        Value::String(_) => Some(v.clone()),
        other => Some(other.to_string().into()),
    }
}

fn is_null_branch(branch: &Value) -> bool {
    branch.get("type").and_then(Value::as_str) == Some("null")
}

/// Adds `branch`'s keywords to `out`, keeping those `out` already has.
fn merge_under(out: &mut Map<String, Value>, branch: Map<String, Value>) {
    for (key, value) in branch {
        out.entry(key).or_insert(value);
    }
}

/// `allOf`: object branches merged (properties and required united),
/// anything else reduced to its first branch.
fn merge_all_of(branches: Vec<Map<String, Value>>) -> Map<String, Value> {
    let all_objects = branches
        .iter()
        .all(|b| b.get("type").and_then(Value::as_str) == Some("OBJECT"));
    if !all_objects {
        return branches.into_iter().next().unwrap_or_default();
    }
    let mut out = Map::new();
    let mut props = Map::new();
    let mut required: Vec<Value> = Vec::new();
    for mut branch in branches {
        if let Some(Value::Object(p)) = branch.remove("properties") {
            props.extend(p);
        }
        if let Some(Value::Array(r)) = branch.remove("required") {
            for name in r {
                if !required.contains(&name) {
                    required.push(name);
                }
            }
        }
        branch.remove("propertyOrdering");
        merge_under(&mut out, branch);
    }
    if !props.is_empty() {
        out.insert("properties".into(), Value::Object(props));
    }
    if !required.is_empty() {
        out.insert("required".into(), Value::Array(required));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn types_nullable_and_enums() {
        let schema = json!({
            "$schema": "http://json-schema.org/draft-07/schema#",
            "type": "object",
            "additionalProperties": false,
            "properties": {
                "a": {"type": ["string", "null"], "format": "uri", "default": "x"},
                "b": {"anyOf": [{"type": "integer", "minimum": 1}, {"type": "null"}], "description": "B"},
                "c": {"enum": [1, 2, null]},
                "n": {"type": "integer", "enum": [1, 2, 4], "description": "Level."},
                "d": {"const": "fixed"},
                "e": {"type": "string", "format": "date-time", "examples": ["2020"]},
                "f": {"type": ["string", "number"]},
                "g": {"oneOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}]}
            },
            "required": ["a", "zz"]
        });
        assert_eq!(
            sanitize(&schema),
            json!({
                "type": "OBJECT",
                "properties": {
                    "a": {"type": "STRING", "nullable": true},
                    "b": {"type": "INTEGER", "minimum": 1, "description": "B", "nullable": true},
                    "c": {"type": "STRING", "enum": ["1", "2"], "nullable": true},
                    "n": {"type": "INTEGER", "description": "Level. Allowed values: 1, 2, 4."},
                    "d": {"type": "STRING", "enum": ["fixed"]},
                    "e": {"type": "STRING", "format": "date-time"},
                    "f": {"anyOf": [{"type": "STRING"}, {"type": "NUMBER"}]},
                    "g": {"anyOf": [{"type": "STRING"}, {"type": "ARRAY", "items": {"type": "STRING"}}]}
                },
                "required": ["a"]
            })
        );
    }

    #[test]
    fn refs_are_inlined_and_recursion_stops() {
        let schema = json!({
            "type": "object",
            "properties": {
                "root": {"$ref": "#/$defs/Node", "description": "the tree"},
                "old": {"$ref": "#/definitions/Leaf"},
                "missing": {"$ref": "#/$defs/Nope"}
            },
            "$defs": {"Node": {"type": "object", "properties": {
                "name": {"type": "string"},
                "children": {"type": "array", "items": {"$ref": "#/$defs/Node"}}
            }}},
            "definitions": {"Leaf": {"type": "boolean"}}
        });
        assert_eq!(
            sanitize(&schema),
            json!({
                "type": "OBJECT",
                "properties": {
                    "root": {"type": "OBJECT", "description": "the tree", "properties": {
                        "name": {"type": "STRING"},
                        "children": {"type": "ARRAY", "items": {"type": "OBJECT"}}
                    }},
                    "old": {"type": "BOOLEAN"},
                    "missing": {"type": "OBJECT"}
                }
            })
        );
    }

    #[test]
    fn exponential_refs_are_bounded() {
        let mut defs = serde_json::Map::new();
        for i in 0..40 {
            let next = json!({"$ref": format!("#/$defs/D{}", i + 1)});
            defs.insert(
                format!("D{i}"),
                json!({"type": "object", "properties": {"a": next.clone(), "b": next}}),
            );
        }
        defs.insert("D40".into(), json!({"type": "string"}));
        let schema = json!({"$ref": "#/$defs/D0", "$defs": defs});
        let out = sanitize(&schema).to_string();
        assert!(out.len() < 200_000, "{} bytes", out.len());
        assert!(out.contains("\"OBJECT\""));
    }

    #[test]
    fn all_of_merges_objects_else_takes_the_first() {
        let schema = json!({"allOf": [
            {"type": "object", "properties": {"a": {"type": "string"}}, "required": ["a"]},
            {"type": "object", "properties": {"b": {"type": "number"}}, "required": ["b"]}
        ]});
        assert_eq!(
            sanitize(&schema),
            json!({"type": "OBJECT", "properties": {"a": {"type": "STRING"}, "b": {"type": "NUMBER"}}, "required": ["a", "b"]})
        );
        let mixed = json!({"allOf": [{"type": "string", "maxLength": 3}, {"minLength": 1}]});
        assert_eq!(sanitize(&mixed), json!({"type": "STRING", "maxLength": 3}));
    }

    #[test]
    fn objects_without_properties_and_odd_nodes() {
        assert_eq!(
            sanitize(&json!({"type": "object"})),
            json!({"type": "OBJECT"})
        );
        assert_eq!(
            sanitize(&json!({"type": "object", "properties": {}, "required": []})),
            json!({"type": "OBJECT"})
        );
        assert_eq!(
            sanitize(
                &json!({"type": "string", "properties": {"a": {"type": "string"}},
                             "required": ["a"], "items": {"type": "string"}})
            ),
            json!({"type": "STRING"})
        );
        assert_eq!(
            sanitize(&json!({"type": "any", "description": "d"})),
            json!({"description": "d"})
        );
        assert_eq!(
            sanitize(&json!({"type": ["object", "null"], "properties": {"a": {"type": "string"}}})),
            json!({"type": "OBJECT", "nullable": true, "properties": {"a": {"type": "STRING"}}})
        );
        assert_eq!(sanitize(&json!(true)), json!({}));
        assert_eq!(
            sanitize(&json!({"items": [{"type": "string"}], "minItems": "2"})),
            json!({"type": "ARRAY", "items": {"type": "STRING"}, "minItems": 2})
        );
        assert_eq!(
            sanitize(&json!({"type": "string", "format": "uri"})),
            json!({"type": "STRING"})
        );
    }
}
