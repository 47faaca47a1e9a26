//! The JSON bodies of `endpoints add` (every given setting) and
//! `endpoints update` (a PATCH of the given settings; `null` clears one),
//! and the checks of their flags.
//!
//! Decisions:
//! - `--add-param KEY=JSON` takes JSON only. A bare word is refused rather
//!   than taken as a string: `x=true`, `x=1` and `x=null` are JSON and would
//!   silently change type next to `x=yes`, and a shell eats the quotes of
//!   `stop="\n"`, which must then reach modelgate as a JSON string.
//! - On update, `--model` and `--fetch-models` change their part of the
//!   `models` section and keep the rest (`max_tokens`), so the patch merges
//!   them into the endpoint as it is; flags that take a list or a map
//!   replace the whole setting, as `--api-key` always did.
//! - `--fetch-models` / `--no-fetch-models` are sent only when given: the
//!   gateway's default (fetch, except for direct endpoints) applies otherwise.

use anyhow::{Context, Result, bail};
use modelgate_protocol::Spec;
use serde_json::{Map, Value, json};

use crate::cli::EndpointArgs;

/// Fields `--unset` clears, as the admin API names them; `SECTION.PART`
/// clears one part of a section and keeps the others.
pub const UNSETTABLE: [&str; 25] = [
    "headers",
    "models",
    "models.default",
    "models.fetch",
    "models.max_tokens",
    "model_map",
    "add_params",
    "drop_params",
    "description",
    "tags",
    "timeouts",
    "timeouts.connect",
    "timeouts.first_byte",
    "timeouts.idle",
    "default_max_tokens",
    "reasoning_format",
    "reasoning_key",
    "direct_endpoint",
    "resource_name",
    "api_version",
    "auth",
    "project_id",
    "location",
    "credentials",
    "model_publishers",
];

/// Every endpoint has these; they are changed, never cleared.
const REQUIRED: [(&str, &str); 3] = [
    (
        "name",
        "an endpoint cannot be renamed; add one with the new name and remove this one",
    ),
    ("spec", "change it with --spec"),
    ("base_url", "change it with --base-url"),
];

/// `--spec`: one of the seven ids, with a suggestion for a typo.
pub fn parse_spec(given: &str) -> Result<String, String> {
    if given.parse::<Spec>().is_ok() {
        return Ok(given.to_owned());
    }
    let ids = Spec::ALL.map(Spec::id);
    let close = modelgate_config::nearest(given, ids, 2);
    let suggestion = match close.as_slice() {
        [] => String::new(),
        [one] => format!("did you mean `{one}`? "),
        [first, second, ..] => format!("did you mean `{first}` or `{second}`? "),
    };
    Err(format!(
        "unknown spec `{given}`; {suggestion}The specs are: {}",
        ids.join(", ")
    ))
}

/// `--unset FIELD`: a known field (`-` may stand for `_`); `api_key(s)` is
/// the same as `--no-api-key`.
pub fn parse_unset_field(given: &str) -> Result<String, String> {
    let field = given.trim().replace('-', "_");
    if UNSETTABLE.contains(&field.as_str()) {
        return Ok(field);
    }
    if field == "api_key" || field == "api_keys" {
        return Ok("api_keys".to_owned());
    }
    if let Some((_, why)) = REQUIRED.iter().find(|(name, _)| *name == field) {
        return Err(format!("`{field}` cannot be cleared: {why}"));
    }
    let suggestion = modelgate_config::suggest(&field, UNSETTABLE)
        .map(|s| format!("did you mean `{s}`? "))
        .unwrap_or_default();
    Err(format!(
        "no setting `{given}`; {suggestion}These can be cleared: {}",
        UNSETTABLE.join(", ")
    ))
}

/// The body of `endpoints add`.
pub fn add_body(args: &EndpointArgs) -> Result<Value> {
    let (Some(spec), Some(base_url)) = (&args.spec, &args.base_url) else {
        bail!(
            "an endpoint needs --spec and --base-url, e.g. --spec openai-chat-completions --base-url http://localhost:11434/v1"
        );
    };
    if !args.unset.is_empty() {
        bail!("--unset clears a setting of an existing endpoint: use it with `endpoints update`");
    }
    let mut body = given_settings(args)?;
    body.insert("name".into(), json!(args.name));
    body.insert("spec".into(), json!(spec));
    body.insert("base_url".into(), json!(base_url));
    let mut models = Map::new();
    if !args.models.is_empty() {
        models.insert("default".into(), json!(args.models));
    }
    if let Some(fetch) = args.fetch_models() {
        models.insert("fetch".into(), json!(fetch));
    }
    if !models.is_empty() {
        body.insert("models".into(), Value::Object(models));
    }
    Ok(Value::Object(body))
}

/// Whether `update` was given anything to change.
pub fn has_changes(args: &EndpointArgs) -> bool {
    args.spec.is_some()
        || args.base_url.is_some()
        || args.direct().is_some()
        || !args.api_keys.is_empty()
        || args.no_api_key
        || !args.models.is_empty()
        || args.fetch_models().is_some()
        || !args.model_map.is_empty()
        || !args.headers.is_empty()
        || !args.add_params.is_empty()
        || !args.drop_params.is_empty()
        || args.description.is_some()
        || !args.tags.is_empty()
        || !args.unset.is_empty()
}

/// The PATCH of `endpoints update`, given the endpoint as the admin API
/// shows it now (for the sections whose parts change separately).
pub fn update_patch(args: &EndpointArgs, current: &Value) -> Result<Value> {
    check_contradictions(args)?;
    let mut patch = given_settings(args)?;
    if let Some(spec) = &args.spec {
        patch.insert("spec".into(), json!(spec));
    }
    if let Some(url) = &args.base_url {
        patch.insert("base_url".into(), json!(url));
    }
    let unset = |field: &str| args.unset.iter().any(|u| u == field);
    for field in &args.unset {
        if !field.contains('.') {
            patch.insert(field.clone(), Value::Null);
        }
    }
    if args.no_api_key {
        patch.insert("api_keys".into(), Value::Null);
    }

    let touches_models = !args.models.is_empty()
        || args.fetch_models().is_some()
        || args.unset.iter().any(|u| u.starts_with("models."));
    if touches_models {
        let mut models = if unset("models") {
            Map::new()
        } else {
            section(current, "models")
        };
        for part in ["default", "fetch", "max_tokens"] {
            if unset(&format!("models.{part}")) {
                models.remove(part);
            }
        }
        if !args.models.is_empty() {
            models.insert("default".into(), json!(args.models));
        }
        if let Some(fetch) = args.fetch_models() {
            models.insert("fetch".into(), json!(fetch));
        }
        patch.insert("models".into(), object_or_null(models));
    }

    let timeout_parts = ["connect", "first_byte", "idle"];
    if !unset("timeouts")
        && timeout_parts
            .iter()
            .any(|p| unset(&format!("timeouts.{p}")))
    {
        let mut timeouts = section(current, "timeouts");
        for part in timeout_parts {
            if unset(&format!("timeouts.{part}")) {
                timeouts.remove(part);
            }
        }
        patch.insert("timeouts".into(), object_or_null(timeouts));
    }
    Ok(Value::Object(patch))
}

/// A flag and `--unset` of the same setting.
fn check_contradictions(args: &EndpointArgs) -> Result<()> {
    let given = [
        ("headers", "--header", !args.headers.is_empty()),
        ("model_map", "--map", !args.model_map.is_empty()),
        ("add_params", "--add-param", !args.add_params.is_empty()),
        ("drop_params", "--drop-param", !args.drop_params.is_empty()),
        ("description", "--description", args.description.is_some()),
        ("tags", "--tag", !args.tags.is_empty()),
        ("direct_endpoint", "--direct", args.direct().is_some()),
        ("models.default", "--model", !args.models.is_empty()),
        (
            "models.fetch",
            "--fetch-models",
            args.fetch_models().is_some(),
        ),
        ("api_keys", "--api-key", !args.api_keys.is_empty()),
    ];
    for (field, flag, set) in given {
        if set && args.unset.iter().any(|u| u == field) {
            bail!("{flag} sets `{field}` and --unset {field} clears it: give one of them");
        }
    }
    Ok(())
}

fn section(current: &Value, name: &str) -> Map<String, Value> {
    current
        .get(name)
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default()
}

/// An emptied section is cleared, so the endpoint reads as never set.
fn object_or_null(map: Map<String, Value>) -> Value {
    if map.is_empty() {
        Value::Null
    } else {
        Value::Object(map)
    }
}

/// The settings both commands send as given.
fn given_settings(args: &EndpointArgs) -> Result<Map<String, Value>> {
    let mut body = Map::new();
    let mut put = |key: &str, value: Value| {
        body.insert(key.into(), value);
    };
    if let Some(direct) = args.direct() {
        put("direct_endpoint", json!(direct));
    }
    if !args.api_keys.is_empty() {
        put("api_keys", json!(args.api_keys));
    }
    if !args.model_map.is_empty() {
        put(
            "model_map",
            Value::Object(pairs(&args.model_map, "--map", |_, v| Ok(json!(v)))?),
        );
    }
    if !args.headers.is_empty() {
        put(
            "headers",
            Value::Object(pairs(&args.headers, "--header", |_, v| Ok(json!(v)))?),
        );
    }
    if !args.add_params.is_empty() {
        put(
            "add_params",
            Value::Object(pairs(&args.add_params, "--add-param", param_value)?),
        );
    }
    if !args.drop_params.is_empty() {
        put("drop_params", json!(args.drop_params));
    }
    if let Some(d) = &args.description {
        put("description", json!(d));
    }
    if !args.tags.is_empty() {
        put("tags", json!(args.tags));
    }
    Ok(body)
}

/// The JSON value of `--add-param KEY=JSON`.
fn param_value(key: &str, raw: &str) -> Result<Value> {
    serde_json::from_str(raw).map_err(|e| {
        let plain = !raw.is_empty()
            && raw
                .chars()
                .all(|c| c.is_alphanumeric() || "-_.:/ ".contains(c));
        let example = if plain {
            format!("--add-param '{key}=\"{raw}\"'")
        } else {
            "--add-param 'stop=\"\\n\"'".to_owned()
        };
        anyhow::anyhow!(
            "--add-param {key}: `{raw}` is not JSON ({e}); the value is JSON, so a string needs double quotes, inside single quotes for the shell: {example}"
        )
    })
}

/// `K=V` arguments as a JSON object.
fn pairs(
    items: &[String],
    flag: &str,
    value: impl Fn(&str, &str) -> Result<Value>,
) -> Result<Map<String, Value>> {
    let mut map = Map::new();
    for item in items {
        let (k, v) = item
            .split_once('=')
            .with_context(|| format!("{flag} takes KEY=VALUE, got `{item}`"))?;
        let k = k.trim();
        if k.is_empty() {
            bail!("{flag} takes KEY=VALUE, got `{item}` with no key");
        }
        map.insert(k.to_owned(), value(k, v)?);
    }
    Ok(map)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use clap::Parser;

    use super::*;
    use crate::cli::{Cli, Command, EndpointsCommand};

    fn args(rest: &[&str]) -> EndpointArgs {
        let mut all = vec!["modelgate", "endpoints", "update", "local"];
        all.extend_from_slice(rest);
        match Cli::try_parse_from(all).unwrap().command {
            Command::Endpoints {
                command: EndpointsCommand::Update(a),
                ..
            } => a,
            _ => unreachable!(),
        }
    }

    #[test]
    fn a_mistyped_spec_gets_a_suggestion_and_the_list() {
        let e = parse_spec("openai").unwrap_err();
        assert!(
            e.contains("did you mean `openai-responses` or `openai-chat-completions`?"),
            "{e}"
        );
        let e = parse_spec("antropic").unwrap_err();
        assert!(e.contains("did you mean `anthropic`?"), "{e}");
        for spec in Spec::ALL {
            assert!(e.contains(spec.id()), "{e}");
        }
        assert_eq!(parse_spec("azure").unwrap(), "azure");
    }

    #[test]
    fn unset_fields_are_checked() {
        assert_eq!(parse_unset_field("add-params").unwrap(), "add_params");
        assert_eq!(parse_unset_field("api_key").unwrap(), "api_keys");
        assert!(
            parse_unset_field("base_url")
                .unwrap_err()
                .contains("--base-url")
        );
        let e = parse_unset_field("header").unwrap_err();
        assert!(e.contains("did you mean `headers`"), "{e}");
    }

    /// Every optional field of an endpoint (the config schema's properties)
    /// can be cleared, so a new field does not silently miss `--unset`.
    #[test]
    fn every_optional_field_can_be_unset() {
        let schema = modelgate_config::json_schema();
        let endpoint = &schema["$defs"]["EndpointConfig"];
        let props = endpoint["properties"]
            .as_object()
            .expect("EndpointConfig properties");
        for field in props.keys() {
            let ok = UNSETTABLE.contains(&field.as_str())
                || REQUIRED.iter().any(|(r, _)| r == field)
                || field == "api_key"
                || field == "api_keys";
            assert!(ok, "`{field}` cannot be unset");
        }
    }

    #[test]
    fn add_params_must_be_json() {
        let body = add_body(&{
            let mut a = args(&[
                "--add-param",
                "temperature=0.2",
                "--add-param",
                "stop=\"\\n\"",
            ]);
            a.spec = Some("openai-chat-completions".into());
            a.base_url = Some("http://x/v1".into());
            a
        })
        .unwrap();
        assert_eq!(body["add_params"]["temperature"], json!(0.2));
        assert_eq!(body["add_params"]["stop"], json!("\n"));
        let e = update_patch(&args(&["--add-param", "mode=fast"]), &json!({}))
            .unwrap_err()
            .to_string();
        assert!(e.contains("`fast` is not JSON"), "{e}");
        assert!(e.contains(r#"--add-param 'mode="fast"'"#), "{e}");
        let e = update_patch(&args(&["--add-param", r"stop=\n"]), &json!({}))
            .unwrap_err()
            .to_string();
        assert!(e.contains(r#"--add-param 'stop="\n"'"#), "{e}");
    }

    #[test]
    fn fetch_is_sent_only_when_given() {
        let mut a = args(&["--model", "m"]);
        a.spec = Some("openai-chat-completions".into());
        a.base_url = Some("http://x/v1".into());
        assert_eq!(add_body(&a).unwrap()["models"], json!({"default": ["m"]}));
        a.no_fetch_models = true;
        assert_eq!(
            add_body(&a).unwrap()["models"],
            json!({"default": ["m"], "fetch": false})
        );
    }

    #[test]
    fn update_merges_model_parts_and_clears_fields() {
        let current = json!({
            "models": {"default": ["a"], "max_tokens": {"a": 10}},
            "timeouts": {"connect": "5s", "idle": "1m"},
        });
        let patch = update_patch(
            &args(&[
                "--no-fetch-models",
                "--unset",
                "headers",
                "--unset",
                "timeouts.idle",
                "--no-api-key",
            ]),
            &current,
        )
        .unwrap();
        assert_eq!(
            patch,
            json!({
                "models": {"default": ["a"], "max_tokens": {"a": 10}, "fetch": false},
                "timeouts": {"connect": "5s"},
                "headers": null,
                "api_keys": null,
            })
        );
        let patch = update_patch(
            &args(&["--unset", "models.max_tokens", "--unset", "models.default"]),
            &current,
        )
        .unwrap();
        assert_eq!(patch, json!({"models": null}));
    }

    #[test]
    fn setting_and_clearing_the_same_field_is_refused() {
        let e = update_patch(
            &args(&["--header", "a=b", "--unset", "headers"]),
            &json!({}),
        )
        .unwrap_err()
        .to_string();
        assert!(
            e.contains("--header") && e.contains("--unset headers"),
            "{e}"
        );
        assert!(!has_changes(&args(&[])));
        assert!(has_changes(&args(&["--no-api-key"])));
    }
}
