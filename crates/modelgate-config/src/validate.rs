//! Semantic checks on endpoints, shared by the file loader and the admin API
//! (which receives endpoints as JSON), so both refuse the same things.

use std::collections::HashMap;

use modelgate_protocol::Spec;

use crate::{ConfigFile, EndpointConfig, HumanDuration};

/// A setting that is well-formed but not acceptable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct FieldError {
    /// Path inside the endpoint (or file), e.g. `base_url`, `api_keys[1]`, `headers.X-Org`.
    pub field: String,
    pub message: String,
}

impl FieldError {
    pub(crate) fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            message: message.into(),
        }
    }
}

/// A problem in one endpoint of a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EndpointError {
    /// Index in `ConfigFile::endpoints`.
    pub index: usize,
    /// For a duplicate name: the index of the endpoint that has it first.
    pub duplicate_of: Option<usize>,
    pub error: FieldError,
}

/// What the file-wide checks found: a file setting or an endpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FileError {
    /// `field` is a path from the top of the file, e.g. `timeouts.connect`.
    File(FieldError),
    Endpoint(EndpointError),
}

const MAX_NAME_LEN: usize = 64;

/// Tidies what has one obvious meaning: surrounding spaces and trailing
/// slashes of `base_url` (URLs are built as `{base}/path`), surrounding
/// spaces of `resource_name` and `api_version`. A `direct_endpoint` URL is
/// sent as written, so it is only trimmed.
pub fn normalize_endpoint(ep: &mut EndpointConfig) {
    let trimmed = ep.base_url.trim();
    let url = if ep.direct_endpoint {
        trimmed
    } else {
        trimmed.trim_end_matches('/')
    };
    if url.len() != ep.base_url.len() {
        ep.base_url = url.to_owned();
    }
    for value in [
        &mut ep.resource_name,
        &mut ep.api_version,
        &mut ep.project_id,
        &mut ep.location,
    ]
    .into_iter()
    .flatten()
    {
        if value.trim().len() != value.len() {
            *value = value.trim().to_owned();
        }
    }
}

/// Checks one endpoint on its own (name uniqueness is [`validate_file`]'s).
/// Expects a normalized endpoint; `${VAR}` references are not resolved here.
pub fn validate_endpoint(ep: &EndpointConfig) -> Result<(), FieldError> {
    check_name(&ep.name)?;
    match ep.spec {
        Spec::Azure => crate::google::check_vertex_absent(ep)?,
        Spec::Google => crate::google::check_google(ep)?,
        Spec::GoogleVertex => crate::google::check_vertex(ep)?,
        _ => crate::google::check_vertex_absent(ep)?,
    }
    if ep.spec == Spec::Azure {
        crate::azure::check(ep)?;
    } else {
        crate::azure::check_absent(ep)?;
        if !ep.base_url.is_empty() {
            check_base_url(&ep.base_url)?;
        } else if !crate::google::has_default_base(ep.spec) {
            // Google's specs default to Google's hosts; the others have none.
            let message = "missing field (the URL of the API, e.g. http://localhost:11434/v1)";
            return Err(FieldError::new("base_url", message));
        }
    }
    check_keys(ep)?;
    for (from, to) in &ep.model_map {
        if from.trim().is_empty() {
            return Err(FieldError::new("model_map", "a public model id is empty"));
        }
        if to.trim().is_empty() {
            let message = format!("the endpoint model id for `{from}` is empty");
            return Err(FieldError::new(format!("model_map.{from}"), message));
        }
    }
    for (i, param) in ep.drop_params.iter().enumerate() {
        let field = format!("drop_params[{i}]");
        match param.as_str() {
            "" => return Err(FieldError::new(field, "empty parameter name")),
            "model" => {
                let message = "`model` cannot be dropped; use model_map to change it";
                return Err(FieldError::new(field, message));
            }
            "messages" => {
                let message = "`messages` cannot be dropped: it is the conversation itself";
                return Err(FieldError::new(field, message));
            }
            _ => {}
        }
    }
    for (name, value) in &ep.headers {
        let field = format!("headers.{name}");
        if name.is_empty() || !name.bytes().all(is_token_byte) {
            let message = format!("`{name}` is not a valid HTTP header name");
            return Err(FieldError::new(field, message));
        }
        if value.contains(['\r', '\n', '\0']) {
            let message = "a header value may not contain line breaks";
            return Err(FieldError::new(field, message));
        }
    }
    let t = &ep.timeouts;
    check_timeouts("timeouts", [t.connect, t.first_byte, t.idle])
}

/// Checks the file-wide settings and every endpoint, then that the names are
/// unique. Stops at the first problem.
pub fn validate_file(file: &ConfigFile) -> Result<(), FileError> {
    let t = &file.timeouts;
    // catalogue.ttl may be 0: never cache.
    check_timeouts(
        "timeouts",
        [Some(t.connect), Some(t.first_byte), Some(t.idle)],
    )
    .map_err(FileError::File)?;
    let mut seen: HashMap<&str, usize> = HashMap::new();
    for (index, ep) in file.endpoints.iter().enumerate() {
        let fail = |error, duplicate_of| {
            FileError::Endpoint(EndpointError {
                index,
                duplicate_of,
                error,
            })
        };
        validate_endpoint(ep).map_err(|e| fail(e, None))?;
        if let Some(&first) = seen.get(ep.name.as_str()) {
            let message = format!("endpoint name `{}` is used twice", ep.name);
            return Err(fail(FieldError::new("name", message), Some(first)));
        }
        seen.insert(&ep.name, index);
    }
    Ok(())
}

fn check_name(name: &str) -> Result<(), FieldError> {
    let err = |message: String| Err(FieldError::new("name", message));
    let mut chars = name.chars();
    let Some(first) = chars.next() else {
        return err("an endpoint needs a name".into());
    };
    if !first.is_ascii_alphanumeric() {
        return err(format!("`{name}` must start with a letter or digit"));
    }
    if let Some(bad) = chars.find(|&c| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-')))
    {
        // `/` matters most: clients address models as `NAME/MODEL`.
        return err(format!(
            "`{name}` contains `{bad}`; use letters, digits, `.`, `_` and `-`"
        ));
    }
    if name.len() > MAX_NAME_LEN {
        return err(format!("`{name}` is longer than {MAX_NAME_LEN} characters"));
    }
    if Spec::is_reserved_name(name) {
        return err(format!(
            "`{name}` is a built-in spec name; pick another name such as `my-{name}`"
        ));
    }
    Ok(())
}

pub(crate) fn check_base_url(url: &str) -> Result<(), FieldError> {
    if url.contains("${") {
        return Ok(()); // checked once resolved, when the endpoint is used
    }
    let err = |message: String| Err(FieldError::new("base_url", message));
    let lower = url.to_ascii_lowercase();
    let Some(rest) = ["http://", "https://"]
        .into_iter()
        .find_map(|scheme| lower.strip_prefix(scheme))
    else {
        return err(format!(
            "`{url}` must start with http:// or https://, e.g. http://localhost:11434/v1"
        ));
    };
    if url.contains(char::is_whitespace) {
        return err(format!("`{url}` contains spaces"));
    }
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let host_port = authority.rsplit('@').next().unwrap_or_default();
    let host = if host_port.starts_with('[') {
        host_port.split_inclusive(']').next().unwrap_or_default()
    } else {
        host_port.split(':').next().unwrap_or_default()
    };
    if host.is_empty() || host == "[]" {
        return err(format!("`{url}` has no host"));
    }
    Ok(())
}

fn check_keys(ep: &EndpointConfig) -> Result<(), FieldError> {
    if ep.api_key.is_some() && !ep.api_keys.is_empty() {
        let message = "give either api_key or api_keys (primary first, then fallbacks)";
        return Err(FieldError::new("api_key", message));
    }
    if ep.api_key.as_deref().is_some_and(|k| k.trim().is_empty()) {
        return Err(FieldError::new("api_key", "the key is empty"));
    }
    if let Some(i) = ep.api_keys.iter().position(|k| k.trim().is_empty()) {
        return Err(FieldError::new(
            format!("api_keys[{i}]"),
            "the key is empty",
        ));
    }
    Ok(())
}

/// A zero timeout would fail every request at once; it is surely a mistake.
fn check_timeouts(section: &str, values: [Option<HumanDuration>; 3]) -> Result<(), FieldError> {
    for (name, value) in ["connect", "first_byte", "idle"].into_iter().zip(values) {
        if value.is_some_and(|d| d.get().is_zero()) {
            let message = "must be more than 0, e.g. 10s";
            return Err(FieldError::new(format!("{section}.{name}"), message));
        }
    }
    Ok(())
}

/// RFC 9110 `tchar`.
fn is_token_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

#[cfg(test)]
#[path = "validate_tests.rs"]
mod tests;
