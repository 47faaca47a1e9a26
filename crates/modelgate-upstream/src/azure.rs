//! Azure OpenAI: where its operations live, how its key is sent, and what
//! its errors mean.
//!
//! URLs (`{base}` is the resource's URL: `https://{resource_name}.openai.azure.com`,
//! or `base_url` without a trailing `/openai` or `/openai/v1`):
//!
//! | `api_version` | chat | Responses | model list |
//! |---|---|---|---|
//! | `v1` (default) | `{base}/openai/v1/chat/completions` | `{base}/openai/v1/responses` | `{base}/openai/v1/models` |
//! | `preview` | the same with `?api-version=preview` | the same | the same |
//! | dated (`2024-10-21`) | `{base}/openai/deployments/{deployment}/chat/completions?api-version=V` | `{base}/openai/responses?api-version=V` | deployments, else models (below) |
//!
//! The deployment is the model id after `model_map`: a path segment
//! (percent-encoded) on the classic API, the body's `model` on the v1 API.
//! A classic endpoint lists its deployments with the data-plane
//! `GET {base}/openai/deployments?api-version=2022-12-01` (ids are
//! deployment names, what requests need); resources that no longer serve
//! it get `GET {base}/openai/models?api-version=V` (base models).
//!
//! The key goes in `api-key` (`auth: api-key`, the default) or as
//! `Authorization: Bearer` (`auth: bearer`, an Entra ID token); either way
//! it is a sensitive header value.

use std::fmt::Write as _;

use http::{HeaderName, HeaderValue};
use modelgate_config::{AzureAuth, EndpointConfig};
use modelgate_protocol::secret::{ApiKey, scrub};
use modelgate_protocol::spec::openai_chat::error::UpstreamErrorBody;
use modelgate_protocol::{ErrorKind, GatewayError};

use crate::auth::Operation;
use crate::endpoint::Endpoint;

/// The api-version of the data-plane deployments list: the last GA
/// version that serves it.
pub const DEPLOYMENTS_API_VERSION: &str = "2022-12-01";

/// Which of Azure's two APIs an endpoint calls.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AzureApi {
    /// The v1 API: no api-version, the deployment in the body.
    V1,
    /// The v1 API's preview features: `?api-version=preview`.
    Preview,
    /// The classic API at a dated version: the deployment in the path.
    Classic { version: String },
}

/// What an Azure endpoint needs beside the common settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Azure {
    pub api: AzureApi,
    pub auth: AzureAuth,
    /// The resource as messages name it: its name, else the base URL's host.
    pub resource: String,
    /// The deployment the key test posts to: the first configured model
    /// (after `model_map`), if any.
    pub probe_deployment: Option<String>,
}

/// The first dated api-version that takes `stream_options` (usage in
/// streams); older ones refuse a request carrying it.
const FIRST_STREAM_USAGE_VERSION: &str = "2024-09-01";

impl Azure {
    /// Whether a stream may ask for usage (`stream_options.include_usage`).
    /// Dated versions compare as text (`YYYY-MM-DD[-preview]`).
    pub fn takes_stream_usage(&self) -> bool {
        match &self.api {
            AzureApi::V1 | AzureApi::Preview => true,
            AzureApi::Classic { version } => version.as_str() >= FIRST_STREAM_USAGE_VERSION,
        }
    }

    pub fn from_config(config: &EndpointConfig, base: &str) -> Self {
        let api = match config.azure_api_version() {
            "v1" => AzureApi::V1,
            "preview" => AzureApi::Preview,
            dated => AzureApi::Classic {
                version: dated.to_owned(),
            },
        };
        let resource = config.resource_name.clone().unwrap_or_else(|| {
            let rest = base.split_once("://").map_or(base, |(_, r)| r);
            let host = rest.split(['/', '?']).next().unwrap_or(rest);
            host.rsplit_once('@').map_or(host, |(_, h)| h).to_owned()
        });
        let probe_deployment = config
            .models
            .default
            .first()
            .map(|id| config.model_map.get(id).unwrap_or(id).clone());
        Self {
            api,
            auth: config.auth.unwrap_or_default(),
            resource,
            probe_deployment,
        }
    }

    /// On the v1 API (`v1` or `preview`).
    pub fn is_v1(&self) -> bool {
        !matches!(self.api, AzureApi::Classic { .. })
    }

    /// The api-version this endpoint calls, as written in the config.
    pub fn version(&self) -> &str {
        match &self.api {
            AzureApi::V1 => "v1",
            AzureApi::Preview => "preview",
            AzureApi::Classic { version } => version,
        }
    }

    /// The query every operation carries, if any.
    fn query(&self) -> Option<String> {
        match &self.api {
            AzureApi::V1 => None,
            AzureApi::Preview => Some("api-version=preview".to_owned()),
            AzureApi::Classic { version } => Some(format!("api-version={version}")),
        }
    }

    /// The credential header for `key`.
    pub fn key_header(&self, key: &ApiKey) -> Option<(HeaderName, HeaderValue)> {
        let (name, value) = match self.auth {
            AzureAuth::ApiKey => (HeaderName::from_static("api-key"), key.expose().to_owned()),
            AzureAuth::Bearer => (
                http::header::AUTHORIZATION,
                format!("Bearer {}", key.expose()),
            ),
        };
        let mut value = HeaderValue::try_from(value).ok()?;
        value.set_sensitive(true);
        Some((name, value))
    }
}

/// The resource's URL from a configured base: trailing slashes and a
/// trailing `/openai` or `/openai/v1` (as Azure's samples write the base
/// URL for the stock OpenAI client) are taken off, since modelgate
/// appends those itself.
pub fn normalize_base(base: &str) -> String {
    let mut base = base.trim_end_matches('/');
    for suffix in ["/openai/v1", "/openai"] {
        if base.len() >= suffix.len()
            && base[base.len() - suffix.len()..].eq_ignore_ascii_case(suffix)
        {
            base = &base[..base.len() - suffix.len()];
            break;
        }
    }
    base.to_owned()
}

/// The chat URL parsed once at build: the whole URL on the v1 API, the
/// deployments collection (`{base}/openai/deployments`, the query set) on
/// the classic API, which [`deployment_url`] completes per request.
pub fn chat_base(azure: &Azure, base: &str) -> String {
    let path = if azure.is_v1() {
        "openai/v1/chat/completions"
    } else {
        "openai/deployments"
    };
    with_query(azure, format!("{base}/{path}"))
}

fn with_query(azure: &Azure, mut url: String) -> String {
    if let Some(query) = azure.query() {
        url.push('?');
        url.push_str(&query);
    }
    url
}

/// The URL of an operation, as a string (for listings, probes and
/// messages). The classic chat URL names the deployment `{deployment}`:
/// only [`deployment_url`] makes a real one.
pub fn url(azure: &Azure, base: &str, op: Operation) -> String {
    let path = match (azure.is_v1(), op) {
        (true, Operation::Chat | Operation::CountTokens) => "openai/v1/chat/completions",
        (true, Operation::Responses) => "openai/v1/responses",
        (true, Operation::Models) => "openai/v1/models",
        (false, Operation::Chat | Operation::CountTokens) => {
            "openai/deployments/{deployment}/chat/completions"
        }
        (false, Operation::Responses) => "openai/responses",
        (false, Operation::Models) => "openai/models",
    };
    with_query(azure, format!("{base}/{path}"))
}

/// The classic chat URL of `deployment`: `chat_base` with the deployment
/// and `chat/completions` appended as path segments. `.` and `..` cannot
/// be path segments; they are sent percent-encoded, so Azure answers that
/// no such deployment exists rather than the request going elsewhere.
pub fn deployment_url(chat_base: &reqwest::Url, deployment: &str) -> Result<reqwest::Url, String> {
    let mut url = chat_base.clone();
    let segment = match deployment {
        "" => return Err("an Azure deployment (the model id) is needed for this operation".into()),
        "." => "%2E",
        ".." => "%2E%2E",
        other => other,
    };
    url.path_segments_mut()
        .map_err(|()| "the base URL cannot take a path".to_owned())?
        .push(segment)
        .push("chat")
        .push("completions");
    Ok(url)
}

/// The URLs a model list is asked at, in order (see the module docs).
pub fn list_urls(azure: &Azure, base: &str) -> Vec<String> {
    match &azure.api {
        AzureApi::Classic { .. } => vec![
            format!("{base}/openai/deployments?api-version={DEPLOYMENTS_API_VERSION}"),
            url(azure, base, Operation::Models),
        ],
        _ => vec![url(azure, base, Operation::Models)],
    }
}

/// The deployment a request named: the path segment after `deployments`
/// (classic API), else the body's `model` (v1 API).
pub fn deployment_of(url: &reqwest::Url, body: Option<&[u8]>) -> Option<String> {
    let segments: Vec<&str> = url.path_segments()?.collect();
    // The last `openai/deployments/NAME`: a proxy's prefix may hold anything.
    let named = segments
        .windows(3)
        .rev()
        .find(|w| w[0] == "openai" && w[1] == "deployments")
        .map(|w| w[2]);
    if let Some(name) = named {
        return Some(crate::endpoint::percent_decode(name));
    }
    let body: serde_json::Value = serde_json::from_slice(body?).ok()?;
    body.get("model")?.as_str().map(str::to_owned)
}

/// What to do when the endpoint refuses its credentials.
pub fn auth_hint(ep: &Endpoint, azure: &Azure) -> String {
    match azure.auth {
        AzureAuth::ApiKey => format!(
            "the key was refused: check `api_key` and that it belongs to resource `{}` (or set `auth: bearer` for an Entra ID token); `modelgate endpoints test {}` checks each key",
            azure.resource, ep.name
        ),
        AzureAuth::Bearer => format!(
            "the Entra ID token was refused: tokens expire after about an hour, and need the role Cognitive Services OpenAI User on resource `{}` (scope https://cognitiveservices.azure.com/.default); a resource key goes with `auth: api-key`",
            azure.resource
        ),
    }
}

/// An Azure error the generic reading would explain badly, explained:
/// a missing deployment, an unknown api-version, or a 404 at a path the
/// resource does not have. `None` for anything else.
pub fn explain(
    ep: &Endpoint,
    azure: &Azure,
    status: u16,
    upstream: &UpstreamErrorBody,
    deployment: Option<&str>,
) -> Option<GatewayError> {
    let said = upstream.message.as_deref().unwrap_or_default();
    let lower = said.to_ascii_lowercase();
    let code = upstream.code.as_deref().unwrap_or_default();
    let mut message = String::new();
    let (kind, code) = if code == "DeploymentNotFound" {
        let named = deployment.map_or_else(
            || "of the name the request gave".to_owned(),
            |d| format!("named `{d}`"),
        );
        let _ = write!(
            message,
            "endpoint `{}`: no deployment {named} in resource `{}`: the model id must be the deployment name (set `model_map` to map a public id to it; `modelgate models {}` lists the deployments)",
            ep.name, azure.resource, ep.name
        );
        (ErrorKind::NotFound, "deployment_not_found")
    } else if lower.contains("api version") || lower.contains("api-version") {
        let _ = write!(
            message,
            "endpoint `{}` answered HTTP {status}: {said}. Check `api_version` (now `{}`): leave it out for the v1 API, or use a version the resource supports, such as `2024-10-21`",
            ep.name,
            azure.version()
        );
        (ErrorKind::InvalidRequest, "api_version_not_supported")
    } else if status == 404 && (code == "404" || lower.starts_with("resource not found")) {
        let _ = write!(
            message,
            "endpoint `{}` answered HTTP 404 ({said}) at `{}`: the resource has no such path. Check `api_version` (now `{}`: `v1`, or a version the resource supports) and that the base URL is the resource's (e.g. https://NAME.openai.azure.com)",
            ep.name,
            crate::endpoint::redact_url(&url(azure, &ep.base_url, Operation::Chat)),
            azure.version()
        );
        (ErrorKind::NotFound, "upstream_error")
    } else {
        return None;
    };
    Some(
        GatewayError::new(kind, scrub(&message, &ep.secrets))
            .with_status(status)
            .with_code(code),
    )
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
#[path = "azure_tests.rs"]
mod tests;
