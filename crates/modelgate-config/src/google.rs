//! The settings only Google endpoints have, and their checks.
//!
//! - `google` (the Gemini API): `base_url` is optional (default
//!   [`GEMINI_API_URL`]; a Gemini-compatible service or proxy otherwise),
//!   `api_version` is the path version, `v1beta` (default), `v1` or
//!   `v1alpha`; keys go in `x-goog-api-key`.
//! - `google-vertex` (Vertex AI): `project_id` and `location` are required;
//!   `base_url` is optional (default [`vertex_url`] of the location, for
//!   Vertex proxies otherwise); `credentials` is the service account's JSON
//!   key (inline, a file path or `${VAR}`), absent for application default
//!   credentials; `model_publishers` says who publishes a model whose id
//!   does not (by default `claude*` is Anthropic's, the rest Google's).
//!
//! These fields on an endpoint of another spec are refused: they would do
//! nothing there.

use crate::validate::FieldError;
use crate::{EndpointConfig, Publisher};
use modelgate_protocol::Spec;

/// The Gemini API's host.
pub const GEMINI_API_URL: &str = "https://generativelanguage.googleapis.com";

/// The Gemini API version used when `api_version` is not set.
pub const DEFAULT_GEMINI_VERSION: &str = "v1beta";

const GEMINI_VERSIONS: [&str; 3] = ["v1beta", "v1", "v1alpha"];

/// The Vertex AI host of a location: `https://{location}-aiplatform.googleapis.com`,
/// or `https://aiplatform.googleapis.com` for `global`.
pub fn vertex_url(location: &str) -> String {
    if location == "global" {
        "https://aiplatform.googleapis.com".to_owned()
    } else {
        format!("https://{location}-aiplatform.googleapis.com")
    }
}

impl EndpointConfig {
    /// The Gemini API path version: `api_version`, else [`DEFAULT_GEMINI_VERSION`].
    pub fn gemini_api_version(&self) -> &str {
        self.api_version
            .as_deref()
            .unwrap_or(DEFAULT_GEMINI_VERSION)
    }

    /// Who publishes `model` (an upstream id) on Vertex AI.
    pub fn publisher_of(&self, model: &str) -> Publisher {
        if let Some(p) = self.model_publishers.get(model) {
            return *p;
        }
        if model.starts_with("claude") {
            Publisher::Anthropic
        } else {
            Publisher::Google
        }
    }
}

/// The Vertex fields must be absent from an endpoint of another spec.
pub(crate) fn check_vertex_absent(ep: &EndpointConfig) -> Result<(), FieldError> {
    let set = [
        ("project_id", ep.project_id.is_some()),
        ("location", ep.location.is_some()),
        ("credentials", ep.credentials.is_some()),
        ("model_publishers", !ep.model_publishers.is_empty()),
    ];
    match set.iter().find(|(_, set)| *set) {
        Some((field, _)) => Err(FieldError::new(
            *field,
            format!(
                "`{field}` is a setting of `google-vertex` endpoints, and this one's spec is `{}`: remove it (or set `spec: google-vertex`)",
                ep.spec
            ),
        )),
        None => Ok(()),
    }
}

/// Checks a `google` endpoint's API version.
pub(crate) fn check_google(ep: &EndpointConfig) -> Result<(), FieldError> {
    check_vertex_absent(ep)?;
    if let Some(version) = &ep.api_version
        && !version.contains("${")
        && !GEMINI_VERSIONS.contains(&version.as_str())
    {
        return Err(FieldError::new(
            "api_version",
            format!(
                "`{version}` is not a Gemini API version: use `v1beta` (the default), `v1` or `v1alpha`"
            ),
        ));
    }
    Ok(())
}

/// Checks a `google-vertex` endpoint's project, location and credentials.
pub(crate) fn check_vertex(ep: &EndpointConfig) -> Result<(), FieldError> {
    if ep.api_version.is_some() {
        return Err(FieldError::new(
            "api_version",
            "a `google-vertex` endpoint always calls Vertex AI's `v1` API: remove `api_version`",
        ));
    }
    let Some(project) = ep.project_id.as_deref() else {
        return Err(FieldError::new(
            "project_id",
            "a `google-vertex` endpoint needs `project_id` (the Google Cloud project, e.g. `my-project-123`)",
        ));
    };
    if !project.contains("${") && !is_dns_label(project, 6, 30) {
        return Err(FieldError::new(
            "project_id",
            format!(
                "`{project}` is not a Google Cloud project id: 6 to 30 lowercase letters, digits or `-`, starting with a letter (the id, not the project's display name)"
            ),
        ));
    }
    let Some(location) = ep.location.as_deref() else {
        return Err(FieldError::new(
            "location",
            "a `google-vertex` endpoint needs `location`: a region such as `us-central1` (Claude models: e.g. `us-east5`), or `global`",
        ));
    };
    if !location.contains("${") && !is_dns_label(location, 2, 40) {
        return Err(FieldError::new(
            "location",
            format!(
                "`{location}` is not a Vertex AI location: write a region such as `us-central1`, or `global`"
            ),
        ));
    }
    if let Some(credentials) = ep.credentials.as_deref()
        && credentials.trim().is_empty()
    {
        return Err(FieldError::new(
            "credentials",
            "`credentials` is empty: give the service account's JSON key (inline or a file path), or leave it out for application default credentials",
        ));
    }
    if !ep.keys().is_empty() {
        return Err(FieldError::new(
            "api_key",
            "a `google-vertex` endpoint authenticates with `credentials` (a service account) or application default credentials, not API keys: remove `api_key`",
        ));
    }
    Ok(())
}

/// Lowercase letters, digits and `-`, starting with a letter, not ending
/// with `-`, `min..=max` long.
fn is_dns_label(s: &str, min: usize, max: usize) -> bool {
    (min..=max).contains(&s.len())
        && s.starts_with(|c: char| c.is_ascii_lowercase())
        && !s.ends_with('-')
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

/// Whether `spec` is one of the Google specs (they may leave out `base_url`).
pub(crate) fn has_default_base(spec: Spec) -> bool {
    matches!(spec, Spec::Google | Spec::GoogleVertex)
}

#[cfg(test)]
#[path = "google_tests.rs"]
mod endpoint_tests;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vertex_hosts_and_publishers() {
        assert_eq!(
            vertex_url("us-central1"),
            "https://us-central1-aiplatform.googleapis.com"
        );
        assert_eq!(vertex_url("global"), "https://aiplatform.googleapis.com");
        assert!(is_dns_label("my-project-123", 6, 30));
        assert!(!is_dns_label("My Project", 6, 30));
        assert!(!is_dns_label("proj-", 2, 30));
    }
}
