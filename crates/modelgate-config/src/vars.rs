//! `${VAR}` references in endpoint settings.
//!
//! They are resolved when an endpoint is used (when the routing snapshot is
//! built), never when the file is loaded, and the resolved values are never
//! written back: the file and the store keep `${VAR}`, so secrets stay in
//! the environment.

use serde_json::Value;

use crate::{EndpointConfig, normalize_endpoint};

/// Why a string's `${VAR}` references could not be resolved.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VarError {
    #[error("environment variable `{var}` is not set")]
    Missing { var: String },
    #[error("unterminated `${{` (write `$${{` for a literal `${{`)")]
    Unterminated,
    /// `${…}` whose contents are not a variable name, e.g. `${my-key}`.
    #[error(
        "`${{{name}}}` is not a valid variable reference: names are letters, digits and `_`, \
         not starting with a digit (write `$${{` for a literal `${{`)"
    )]
    BadName { name: String },
}

/// The environment of this process, as a lookup for [`resolve_vars`].
pub fn env_lookup(name: &str) -> Option<String> {
    std::env::var(name).ok()
}

/// Replaces every `${NAME}` in `input` with `lookup(NAME)`. `$${` is an
/// escape for a literal `${`; any other `$` is kept as is.
pub fn resolve_vars(
    input: &str,
    lookup: &dyn Fn(&str) -> Option<String>,
) -> Result<String, VarError> {
    if !input.contains('$') {
        return Ok(input.to_owned());
    }
    let mut out = String::with_capacity(input.len());
    let mut rest = input;
    while let Some(pos) = rest.find('$') {
        out.push_str(&rest[..pos]);
        let after = &rest[pos..];
        if let Some(tail) = after.strip_prefix("$${") {
            out.push_str("${");
            rest = tail;
        } else if let Some(tail) = after.strip_prefix("${") {
            let end = tail.find('}').ok_or(VarError::Unterminated)?;
            let name = &tail[..end];
            if !is_var_name(name) {
                return Err(VarError::BadName {
                    name: name.to_owned(),
                });
            }
            let value = lookup(name).ok_or_else(|| VarError::Missing {
                var: name.to_owned(),
            })?;
            out.push_str(&value);
            rest = &tail[end + 1..];
        } else {
            out.push('$');
            rest = &after[1..];
        }
    }
    out.push_str(rest);
    Ok(out)
}

fn is_var_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// A `${VAR}` in an endpoint's settings that could not be resolved.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "endpoints.{endpoint}.{field}: {error}; set it in the environment of the modelgate process, \
     or write the value into the config"
)]
pub struct ResolveError {
    /// The endpoint's name.
    pub endpoint: String,
    /// Where in the endpoint, e.g. `headers.X-Org`, `api_keys[1]`, `add_params.extra.user`.
    pub field: String,
    #[source]
    pub error: VarError,
}

impl ResolveError {
    /// The variable that is not set, when that is the problem.
    pub fn var(&self) -> Option<&str> {
        match &self.error {
            VarError::Missing { var } => Some(var),
            _ => None,
        }
    }
}

impl EndpointConfig {
    /// A copy with every `${VAR}` in every string setting resolved (object
    /// keys are left alone), normalized like a loaded endpoint.
    pub fn resolve(
        &self,
        lookup: &dyn Fn(&str) -> Option<String>,
    ) -> Result<EndpointConfig, ResolveError> {
        // Walking the JSON form reaches every string, including those nested
        // in add_params, without a list of fields to keep in sync. Neither
        // conversion can fail: every map key is a string, and the only typed
        // scalars (spec, durations) serialize to strings without `$`, so
        // they come back unchanged.
        let mut value = serde_json::to_value(self).expect("an endpoint serializes to JSON");
        let mut path = String::new();
        resolve_value(&mut value, &mut path, lookup).map_err(|(field, error)| ResolveError {
            endpoint: self.name.clone(),
            field,
            error,
        })?;
        let mut resolved: EndpointConfig =
            serde_json::from_value(value).expect("only free-text strings changed");
        normalize_endpoint(&mut resolved);
        Ok(resolved)
    }
}

fn resolve_value(
    value: &mut Value,
    path: &mut String,
    lookup: &dyn Fn(&str) -> Option<String>,
) -> Result<(), (String, VarError)> {
    match value {
        Value::String(s) => {
            *s = resolve_vars(s, lookup).map_err(|e| (path.clone(), e))?;
        }
        Value::Array(items) => {
            for (i, item) in items.iter_mut().enumerate() {
                let len = path.len();
                path.push_str(&format!("[{i}]"));
                resolve_value(item, path, lookup)?;
                path.truncate(len);
            }
        }
        Value::Object(map) => {
            for (key, item) in map.iter_mut() {
                let len = path.len();
                if !path.is_empty() {
                    path.push('.');
                }
                path.push_str(key);
                resolve_value(item, path, lookup)?;
                path.truncate(len);
            }
        }
        Value::Null | Value::Bool(_) | Value::Number(_) => {}
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn env(name: &str) -> Option<String> {
        match name {
            "KEY" => Some("sk-123".into()),
            "HOST" => Some("gpu-box".into()),
            "EMPTY" => Some(String::new()),
            _ => None,
        }
    }

    #[test]
    fn replaces_variables() {
        assert_eq!(
            resolve_vars("Bearer ${KEY}", &env),
            Ok("Bearer sk-123".into())
        );
        assert_eq!(
            resolve_vars("http://${HOST}:8080/${KEY}", &env),
            Ok("http://gpu-box:8080/sk-123".into())
        );
        assert_eq!(resolve_vars("a${EMPTY}b", &env), Ok("ab".into()));
        assert_eq!(resolve_vars("no vars", &env), Ok("no vars".into()));
    }

    #[test]
    fn escapes_and_lone_dollars() {
        assert_eq!(resolve_vars("$${KEY}", &env), Ok("${KEY}".into()));
        assert_eq!(
            resolve_vars("cost $5 $$ $", &env),
            Ok("cost $5 $$ $".into())
        );
        // A `$` before the escape is just a `$`.
        assert_eq!(resolve_vars("$$${KEY}", &env), Ok("$${KEY}".into()));
        // A resolved value is not scanned again.
        let lookup = |_: &str| Some("${KEY}".to_owned());
        assert_eq!(resolve_vars("${X}", &lookup), Ok("${KEY}".into()));
    }

    #[test]
    fn errors() {
        assert_eq!(
            resolve_vars("${OLLAMA_KEY}", &env),
            Err(VarError::Missing {
                var: "OLLAMA_KEY".into()
            })
        );
        assert_eq!(resolve_vars("x ${KEY", &env), Err(VarError::Unterminated));
        assert_eq!(
            resolve_vars("${my-key}", &env),
            Err(VarError::BadName {
                name: "my-key".into()
            })
        );
        assert!(resolve_vars("${}", &env).is_err());
        assert_eq!(
            VarError::Missing {
                var: "OLLAMA_KEY".into()
            }
            .to_string(),
            "environment variable `OLLAMA_KEY` is not set"
        );
    }

    fn endpoint() -> EndpointConfig {
        serde_json::from_value(json!({
            "name": "local",
            "spec": "openai-chat-completions",
            "base_url": "http://${HOST}:11434/v1/",
            "api_keys": ["${KEY}", "literal-$${KEY}"],
            "headers": {"X-Org": "org-${KEY}"},
            "model_map": {"fast": "${HOST}-small"},
            "models": {"default": ["${HOST}-large"]},
            "add_params": {"extra": {"list": ["${KEY}", 1, true]}, "n": 2},
            "drop_params": ["${HOST}"],
            "description": "on ${HOST}",
            "tags": ["${HOST}"],
            "timeouts": {"idle": "30s"}
        }))
        .expect("endpoint")
    }

    #[test]
    fn resolves_every_string_of_an_endpoint() {
        let ep = endpoint().resolve(&env).expect("resolve");
        assert_eq!(ep.base_url, "http://gpu-box:11434/v1", "normalized too");
        assert_eq!(ep.keys(), vec!["sk-123", "literal-${KEY}"]);
        assert_eq!(ep.headers["X-Org"], "org-sk-123");
        assert_eq!(ep.model_map["fast"], "gpu-box-small");
        assert_eq!(ep.models.default, vec!["gpu-box-large"]);
        assert_eq!(ep.add_params["extra"], json!({"list": ["sk-123", 1, true]}));
        assert_eq!(ep.add_params["n"], json!(2));
        assert_eq!(ep.drop_params, vec!["gpu-box"]);
        assert_eq!(ep.description.as_deref(), Some("on gpu-box"));
        assert_eq!(ep.tags, vec!["gpu-box"]);
        assert_eq!(ep.timeouts.idle, Some(crate::HumanDuration::from_secs(30)));
        // The original keeps its references.
        assert_eq!(endpoint().api_keys[0], "${KEY}");
    }

    #[test]
    fn missing_variable_names_endpoint_field_and_var() {
        // One field at a time refers to an unset variable, so the result does
        // not depend on the order fields are visited in.
        type Edit = fn(&mut EndpointConfig);
        let cases: [(&str, Edit); 4] = [
            ("add_params.extra.list[0]", |ep| {
                ep.add_params["extra"]["list"][0] = json!("${OLLAMA_KEY}");
            }),
            ("api_keys[1]", |ep| ep.api_keys[1] = "${OLLAMA_KEY}".into()),
            ("headers.X-Org", |ep| {
                ep.headers.insert("X-Org".into(), "${OLLAMA_KEY}".into());
            }),
            ("models.default[0]", |ep| {
                ep.models.default[0] = "x${OLLAMA_KEY}".into();
            }),
        ];
        for (field, edit) in cases {
            let mut ep = endpoint();
            edit(&mut ep);
            let err = ep.resolve(&env).expect_err(field);
            assert_eq!(err.field, field);
            assert_eq!(err.var(), Some("OLLAMA_KEY"));
            let text = err.to_string();
            assert!(
                text.starts_with(&format!("endpoints.local.{field}: ")),
                "{text}"
            );
            assert!(text.contains("`OLLAMA_KEY` is not set"), "{text}");
            assert!(
                text.contains("set it in the environment of the modelgate process"),
                "{text}"
            );
        }
    }

    #[test]
    fn unterminated_in_endpoint() {
        let mut ep = endpoint();
        ep.description = Some("oops ${HOST".into());
        let err = ep.resolve(&env).expect_err("unterminated");
        assert_eq!(err.error, VarError::Unterminated);
        assert_eq!(err.field, "description");
        assert_eq!(err.var(), None);
    }
}
