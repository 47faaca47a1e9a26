//! The settings only an `azure` endpoint has, and their checks.
//!
//! - Where: `resource_name` (the base URL is then
//!   `https://{resource_name}.openai.azure.com`) or `base_url` (the
//!   resource's URL, or an API-management proxy's with its path prefix),
//!   exactly one of them. A base URL stops before `/openai`; modelgate
//!   builds the rest, so a query (`?api-version=…`) or a deployment path
//!   in it is refused with a hint.
//! - Which API: `api_version` is `v1` (the default), `preview`, or a dated
//!   version (`2024-10-21`, `2025-04-01-preview`).
//! - How the key goes: `auth: api-key` (default) or `bearer` (an Entra ID
//!   token, which must then be given as `api_key`).
//!
//! These fields on an endpoint of another spec are refused: they would do
//! nothing there, which is surely not what the writer meant.

use crate::validate::{FieldError, check_base_url};
use crate::{AzureAuth, EndpointConfig};
use modelgate_protocol::Spec;

/// The API version used when `api_version` is not set.
pub const DEFAULT_API_VERSION: &str = "v1";

/// The URL of an Azure resource given its name: `https://{name}.openai.azure.com`.
pub fn azure_resource_url(name: &str) -> String {
    format!("https://{name}.openai.azure.com")
}

impl EndpointConfig {
    /// The Azure API version to call: `api_version`, else [`DEFAULT_API_VERSION`].
    pub fn azure_api_version(&self) -> &str {
        self.api_version.as_deref().unwrap_or(DEFAULT_API_VERSION)
    }
}

/// The Azure fields must be absent from an endpoint of another spec.
pub(crate) fn check_absent(ep: &EndpointConfig) -> Result<(), FieldError> {
    let set = [
        ("resource_name", ep.resource_name.is_some()),
        // The Gemini API has path versions too (see `google.rs`).
        (
            "api_version",
            ep.api_version.is_some() && ep.spec != Spec::Google,
        ),
        ("auth", ep.auth.is_some()),
    ];
    match set.iter().find(|(_, set)| *set) {
        Some((field, _)) => Err(FieldError::new(
            *field,
            format!(
                "`{field}` is a setting of `azure` endpoints, and this one's spec is `{}`: remove it (or set `spec: azure`)",
                ep.spec
            ),
        )),
        None => Ok(()),
    }
}

/// Checks an `azure` endpoint's location, API version and auth.
pub(crate) fn check(ep: &EndpointConfig) -> Result<(), FieldError> {
    match (&ep.resource_name, ep.base_url.is_empty()) {
        (None, true) => {
            return Err(FieldError::new(
                "resource_name",
                "an `azure` endpoint needs `resource_name` (NAME in https://NAME.openai.azure.com) or `base_url` (the resource's URL, or a proxy's)",
            ));
        }
        (Some(_), false) => {
            return Err(FieldError::new(
                "resource_name",
                "give either `resource_name` or `base_url`, not both: `resource_name: NAME` stands for `base_url: https://NAME.openai.azure.com`",
            ));
        }
        (Some(name), true) => {
            if ep.direct_endpoint {
                return Err(FieldError::new(
                    "direct_endpoint",
                    "a direct endpoint is reached at its `base_url`, written in full; give `base_url` instead of `resource_name`",
                ));
            }
            check_resource_name(name)?;
        }
        (None, false) => {
            check_base_url(&ep.base_url)?;
            if !ep.direct_endpoint {
                check_azure_base(&ep.base_url)?;
            }
        }
    }
    if let Some(version) = &ep.api_version {
        check_api_version(version)?;
    }
    if ep.auth == Some(AzureAuth::Bearer) && ep.keys().is_empty() {
        return Err(FieldError::new(
            "auth",
            "with `auth: bearer`, give the Microsoft Entra ID access token as `api_key` (e.g. `api_key: ${AZURE_OPENAI_TOKEN}`)",
        ));
    }
    Ok(())
}

/// An Azure resource name becomes a DNS label: letters, digits and `-`,
/// not at either end, at most 64 characters.
fn check_resource_name(name: &str) -> Result<(), FieldError> {
    if name.contains("${") {
        return Ok(()); // checked once resolved
    }
    let err = |message: String| Err(FieldError::new("resource_name", message));
    if name.is_empty() {
        return err("the resource name is empty".to_owned());
    }
    if name.contains("://") || name.contains('.') {
        // A host or URL pasted where the name goes.
        let host = name.split_once("://").map_or(name, |(_, rest)| rest);
        let label = host.split(['.', '/', ':']).next().unwrap_or_default();
        return err(format!(
            "`{name}` is a host or URL, not a resource name: write `resource_name: {label}`, or `base_url: {}` for another host",
            if name.contains("://") {
                name.to_owned()
            } else {
                format!("https://{name}")
            }
        ));
    }
    let valid = name.len() <= 64
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        && !name.starts_with('-')
        && !name.ends_with('-');
    if !valid {
        return err(format!(
            "`{name}` is not a valid Azure resource name: use letters, digits and `-` (not first or last), at most 64 characters; it becomes the host NAME.openai.azure.com"
        ));
    }
    Ok(())
}

/// A base URL modelgate can append `/openai/…` to.
fn check_azure_base(url: &str) -> Result<(), FieldError> {
    if url.contains("${") {
        return Ok(());
    }
    let err = |message: String| Err(FieldError::new("base_url", message));
    let lower = url.to_ascii_lowercase();
    if lower.contains("api-version=") {
        return err(format!(
            "`{url}` carries `api-version`: set it with `api_version` instead (e.g. `api_version: 2024-10-21`, or leave it out for the v1 API)"
        ));
    }
    if url.contains(['?', '#']) {
        return err(format!(
            "`{url}` has a query or fragment: modelgate appends `/openai/…` to the base URL, so it must end with a path"
        ));
    }
    if lower.contains("/openai/deployments") {
        let root = &url[..lower.find("/openai/deployments").unwrap_or(url.len())];
        return err(format!(
            "`{url}` names a deployment: the base URL stops before `/openai` (here `{root}`), and the deployment is the model id (map public ids to deployments with `model_map`)"
        ));
    }
    Ok(())
}

/// `v1`, `preview`, or a dated version (`YYYY-MM-DD`, optionally `-preview`).
fn check_api_version(version: &str) -> Result<(), FieldError> {
    if version.contains("${") || is_api_version(version) {
        return Ok(());
    }
    Err(FieldError::new(
        "api_version",
        format!(
            "`{version}` is not an Azure OpenAI API version: use `v1` (the default), `preview`, or a dated version such as `2024-10-21` or `2025-04-01-preview`"
        ),
    ))
}

/// Whether `version` is one modelgate knows how to call.
pub fn is_api_version(version: &str) -> bool {
    if matches!(version, "v1" | "preview") {
        return true;
    }
    let date = version.strip_suffix("-preview").unwrap_or(version);
    let bytes = date.as_bytes();
    bytes.len() == 10
        && bytes.iter().enumerate().all(|(i, b)| match i {
            4 | 7 => *b == b'-',
            _ => b.is_ascii_digit(),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn api_versions() {
        for ok in ["v1", "preview", "2024-10-21", "2025-04-01-preview"] {
            assert!(is_api_version(ok), "{ok}");
        }
        for bad in [
            "V1",
            "2024-10",
            "2024/10/21",
            "latest",
            "2024-10-21-beta",
            "",
        ] {
            assert!(!is_api_version(bad), "{bad}");
        }
    }
}
