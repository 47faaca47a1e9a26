//! Vertex AI (`spec: google-vertex`): where a model's operations live,
//! the endpoint's access tokens, its key test and its error hints.
//!
//! | publisher | operation | URL (`{base}`: `base_url`, default [`vertex_url`] of the location) |
//! |---|---|---|
//! | google | generate | `{base}/v1/projects/{p}/locations/{l}/publishers/google/models/{m}:generateContent` |
//! | google | stream | `…/publishers/google/models/{m}:streamGenerateContent?alt=sse` |
//! | anthropic | generate | `…/publishers/anthropic/models/{m}:rawPredict` |
//! | anthropic | stream | `…/publishers/anthropic/models/{m}:streamRawPredict` |
//! | anthropic | count tokens | `…/publishers/anthropic/models/count-tokens:rawPredict` (`model` in the body) |
//!
//! The publisher of a model is [`EndpointConfig::publisher_of`] (its
//! `model_publishers` entry, else `claude*` is Anthropic's and the rest
//! Google's): it also decides the wire format (Gemini or Anthropic
//! Messages). A Claude body carries `anthropic_version:
//! "vertex-2023-10-16"` and no `model` ([`edit_claude_body`]): the model is
//! in the URL.
//!
//! Requests carry `Authorization: Bearer {token}`, the token from the
//! endpoint's [`TokenSource`] (shared by its requests; one exchange at a
//! time). Credentials that cannot be loaded do not stop the gateway: each
//! request to the endpoint fails with the diagnosis instead (a 502).
//!
//! There is no model list per location for publisher models that a
//! service account can read cheaply: the endpoint's models are the
//! configured ones (`models.default`, or `ENDPOINT/MODEL`).

use std::collections::BTreeMap;
use std::sync::Arc;

use http::{HeaderName, HeaderValue};
use modelgate_config::{EndpointConfig, Publisher, vertex_url};
use modelgate_protocol::secret::scrub;
use modelgate_protocol::{ErrorKind, GatewayError};
use serde_json::{Map, Value};

use crate::endpoint::{Endpoint, percent_encode};
use crate::google_auth::{AccessToken, AuthError, AuthErrorKind, Credentials, TokenSource};
use crate::keytest::{KeyReport, Verdict};

/// The `anthropic_version` a Claude body on Vertex AI carries.
pub const ANTHROPIC_VERSION: &str = "vertex-2023-10-16";

/// A `google-vertex` endpoint's project, location, publishers and tokens.
#[derive(Debug, Clone)]
pub struct Vertex {
    pub project: String,
    pub location: String,
    publishers: BTreeMap<String, Publisher>,
    /// The model the key test calls: the first configured one (mapped).
    probe_model: Option<String>,
    /// The token source, or why the credentials could not be loaded.
    tokens: Result<Arc<TokenSource>, AuthError>,
}

impl Vertex {
    /// Loads the credentials the endpoint names (a failure is kept, and
    /// reported by every request: see the module docs).
    pub fn from_config(config: &EndpointConfig, connect_timeout: std::time::Duration) -> Self {
        let tokens = Credentials::from_setting(config.credentials.as_deref())
            .map(|c| Arc::new(TokenSource::new(c).with_connect_timeout(connect_timeout)));
        Self {
            project: config.project_id.clone().unwrap_or_default(),
            location: config.location.clone().unwrap_or_default(),
            publishers: config.model_publishers.clone(),
            probe_model: config.models.default.first().map(|m| {
                config
                    .model_map
                    .get(m)
                    .cloned()
                    .unwrap_or_else(|| m.clone())
            }),
            tokens,
        }
    }

    /// Who publishes `model` (an upstream id).
    pub fn publisher_of(&self, model: &str) -> Publisher {
        publisher_of(&self.publishers, model)
    }

    /// `{base}/v1/projects/{p}/locations/{l}`.
    pub fn location_url(&self, base: &str) -> String {
        format!(
            "{base}/v1/projects/{}/locations/{}",
            percent_encode(&self.project),
            percent_encode(&self.location)
        )
    }

    /// The URL of an operation that names no model: Claude's token count
    /// (`publishers/anthropic/models/count-tokens:rawPredict`, the model in
    /// the body), else the location itself (it serves nothing: a 404).
    pub fn op_url(&self, base: &str, op: crate::auth::Operation) -> String {
        match op {
            crate::auth::Operation::CountTokens => format!(
                "{}/publishers/anthropic/models/count-tokens:rawPredict",
                self.location_url(base)
            ),
            _ => self.location_url(base),
        }
    }

    /// The URL that generates with `model`, streamed or not.
    pub fn model_url(&self, base: &str, model: &str, stream: bool) -> String {
        let (publisher, method) = match (self.publisher_of(model), stream) {
            (Publisher::Google, false) => ("google", "generateContent"),
            (Publisher::Google, true) => ("google", "streamGenerateContent?alt=sse"),
            (Publisher::Anthropic, false) => ("anthropic", "rawPredict"),
            (Publisher::Anthropic, true) => ("anthropic", "streamRawPredict"),
        };
        format!(
            "{}/publishers/{publisher}/models/{}:{method}",
            self.location_url(base),
            percent_encode(model)
        )
    }

    /// A token, or the credentials' diagnosis.
    pub async fn token(&self) -> Result<AccessToken, AuthError> {
        match &self.tokens {
            Ok(source) => source.token().await,
            Err(e) => Err(e.clone()),
        }
    }

    /// The credentials as the key test names them: the service account's
    /// email, else what kind they are (never a secret).
    pub fn shown(&self) -> String {
        match &self.tokens {
            Ok(source) => match source.credentials() {
                Credentials::ServiceAccount(sa) => sa.client_email.clone(),
                Credentials::AuthorizedUser(_) => "(gcloud user credentials)".to_owned(),
                Credentials::Metadata(_) => "(metadata server)".to_owned(),
            },
            Err(_) => "(credentials)".to_owned(),
        }
    }

    /// The secrets the credentials hold that a message could echo.
    pub fn secrets(&self) -> Vec<modelgate_protocol::secret::ApiKey> {
        match &self.tokens {
            Ok(source) => source.credentials().secrets(),
            Err(_) => Vec::new(),
        }
    }

    /// Forgets a token the upstream refused (401), so the next request
    /// exchanges a new one.
    pub async fn invalidate(&self, rejected: &AccessToken) {
        if let Ok(source) = &self.tokens {
            source.invalidate(rejected).await;
        }
    }
}

fn publisher_of(map: &BTreeMap<String, Publisher>, model: &str) -> Publisher {
    match map.get(model) {
        Some(p) => *p,
        None if model.starts_with("claude") => Publisher::Anthropic,
        None => Publisher::Google,
    }
}

/// The default base URL of a location (re-exported for callers here).
pub fn default_base(location: &str) -> String {
    vertex_url(location)
}

/// `Authorization: Bearer {token}`, sensitive.
pub fn bearer(token: &AccessToken) -> Result<(HeaderName, HeaderValue), AuthError> {
    Ok((http::header::AUTHORIZATION, token.header_value()?))
}

/// A Claude body for Vertex AI: `anthropic_version` set (unless the client
/// set one), `model` removed (it is in the URL; Vertex refuses it).
pub fn edit_claude_body(body: &mut Map<String, Value>) {
    body.remove("model");
    body.entry("anthropic_version")
        .or_insert_with(|| Value::String(ANTHROPIC_VERSION.to_owned()));
}

/// A request could not get a token: a 502 naming what is wrong.
pub fn auth_error(ep: &Endpoint, e: &AuthError) -> GatewayError {
    let what = match e.kind {
        AuthErrorKind::Credentials => "cannot load its credentials",
        AuthErrorKind::Refused => "the token exchange was refused",
        AuthErrorKind::Unreachable => "cannot reach the token endpoint",
        AuthErrorKind::Malformed => "the token endpoint answered something that is not a token",
    };
    let message = format!(
        "endpoint `{}` (google-vertex): {what}: {}. Check it with `modelgate endpoints test {}`",
        ep.name, e.message, ep.name
    );
    GatewayError::new(ErrorKind::Upstream, scrub(&message, &ep.secrets))
        .with_code("upstream_auth_failed")
}

/// What a 401 or 403 from Vertex AI means.
pub fn auth_hint(vertex: &Vertex, status: u16) -> String {
    if status == 403 {
        format!(
            "the Vertex AI API may not be enabled in project `{}` (`gcloud services enable aiplatform.googleapis.com --project {}`), or the service account lacks `roles/aiplatform.user` on it",
            vertex.project, vertex.project
        )
    } else {
        "Vertex AI refused the access token: the service account may be disabled or its key deleted"
            .to_owned()
    }
}

/// What a 404 from Vertex AI means.
pub fn not_found_hint(vertex: &Vertex) -> String {
    format!(
        "; the model is not offered in location `{}` of project `{}` (Claude models: enable them in the Model Garden and pick a location that serves them, e.g. `us-east5`; or try `location: global`)",
        vertex.location, vertex.project
    )
}

/// The key test: a token exchange, then one cheap authenticated call
/// (`POST {}` to a model's generate URL: Vertex checks the token and the
/// project's permission, then refuses the empty body with a 400). The
/// model is the first of `models.default`, else `gemini-2.0-flash`.
pub async fn probe(ep: &Endpoint, vertex: &Vertex) -> KeyReport {
    let model = vertex.probe_model.as_deref();
    let shown = vertex.shown();
    let shown = shown.as_str();
    let token = match vertex.token().await {
        Ok(token) => token,
        Err(e) => {
            let verdict = match e.kind {
                AuthErrorKind::Unreachable => Verdict::NetworkError,
                _ => Verdict::Invalid,
            };
            let hint = scrub(&auth_error(ep, &e).message, &ep.secrets);
            return KeyReport::new(shown, verdict, None, hint);
        }
    };
    let model = model.unwrap_or("gemini-2.0-flash");
    let url = vertex.model_url(&ep.base_url, model, false);
    let mut request = ep
        .client()
        .post(&url)
        .headers(ep.headers.clone())
        .header(http::header::CONTENT_TYPE, "application/json")
        .body("{}");
    match token.header_value() {
        Ok(value) => request = request.header(http::header::AUTHORIZATION, value),
        Err(e) => return KeyReport::new(shown, Verdict::Invalid, None, e.message),
    }
    let response = match tokio::time::timeout(ep.timeouts.first_byte.0, request.send()).await {
        Ok(Ok(response)) => response,
        Ok(Err(e)) => {
            return KeyReport::new(
                shown,
                Verdict::NetworkError,
                None,
                scrub(&crate::errors::network_error(ep, &e).message, &ep.secrets),
            );
        }
        Err(_) => {
            return KeyReport::new(
                shown,
                Verdict::NetworkError,
                None,
                format!("{} did not answer in time", ep.display_url()),
            );
        }
    };
    let status = response.status().as_u16();
    let (verdict, hint) = match status {
        // The token and the permission passed; the empty body was refused.
        200..=299 | 400 | 422 => (
            Verdict::Ok,
            format!("the token exchange and an authenticated call to `{model}` succeeded"),
        ),
        401 => (Verdict::Invalid, auth_hint(vertex, 401)),
        403 => (Verdict::Forbidden, auth_hint(vertex, 403)),
        404 => (
            Verdict::NotFound,
            format!(
                "`{model}`{}",
                not_found_hint(vertex).trim_start_matches("; ")
            ),
        ),
        429 => (
            Verdict::RateLimited,
            "the credentials work, but the project's Vertex AI quota is used up for now".to_owned(),
        ),
        _ => (Verdict::Error, format!("Vertex AI answered HTTP {status}")),
    };
    KeyReport::new(shown, verdict, Some(status), scrub(&hint, &ep.secrets))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vertex(location: &str) -> Vertex {
        Vertex {
            project: "my-project".into(),
            location: location.into(),
            publishers: BTreeMap::from([("my-tuned".to_owned(), Publisher::Anthropic)]),
            probe_model: None,
            tokens: Err(AuthError {
                kind: AuthErrorKind::Credentials,
                message: "none".into(),
            }),
        }
    }

    #[test]
    fn urls_name_project_location_publisher_model_and_method() {
        let v = vertex("us-east5");
        let base = default_base("us-east5");
        assert_eq!(
            v.model_url(&base, "gemini-2.5-pro", false),
            "https://us-east5-aiplatform.googleapis.com/v1/projects/my-project/locations/us-east5/publishers/google/models/gemini-2.5-pro:generateContent"
        );
        assert!(
            v.model_url(&base, "gemini-2.5-pro", true).ends_with(
                "/publishers/google/models/gemini-2.5-pro:streamGenerateContent?alt=sse"
            )
        );
        assert!(
            v.model_url(&base, "claude-sonnet-4@20250514", false)
                .ends_with("/publishers/anthropic/models/claude-sonnet-4%4020250514:rawPredict")
        );
        assert!(
            v.model_url(&base, "my-tuned", true)
                .ends_with("/publishers/anthropic/models/my-tuned:streamRawPredict")
        );
        let global = vertex("global");
        assert_eq!(
            global.model_url(&default_base("global"), "gemini-2.5-flash", false),
            "https://aiplatform.googleapis.com/v1/projects/my-project/locations/global/publishers/google/models/gemini-2.5-flash:generateContent"
        );
    }

    #[test]
    fn a_global_endpoint_without_base_url_calls_the_global_host() {
        let config: EndpointConfig = serde_json::from_value(serde_json::json!({
            "name": "vx",
            "spec": "google-vertex",
            "project_id": "my-project",
            "location": "global",
            "credentials": "{\"type\": \"service_account\"}",
        }))
        .unwrap();
        let ep = Endpoint::build(&config, modelgate_config::TimeoutSettings::default()).unwrap();
        let url = ep
            .model_url(crate::auth::Operation::Chat, "claude-opus-4", true)
            .unwrap();
        assert_eq!(
            url.as_str(),
            "https://aiplatform.googleapis.com/v1/projects/my-project/locations/global/publishers/anthropic/models/claude-opus-4:streamRawPredict"
        );
        // Unloadable credentials do not stop the build: requests report them.
        let vertex = ep.vertex.as_ref().unwrap();
        assert!(
            vertex
                .tokens
                .as_ref()
                .is_err_and(|e| e.message.contains("is missing"))
        );
    }

    #[test]
    fn claude_bodies_lose_model_and_gain_the_vertex_version() {
        let mut body = serde_json::json!({"model": "claude-x", "max_tokens": 5})
            .as_object()
            .cloned()
            .unwrap();
        edit_claude_body(&mut body);
        assert_eq!(
            Value::Object(body),
            serde_json::json!({"max_tokens": 5, "anthropic_version": ANTHROPIC_VERSION})
        );
    }

    #[test]
    fn hints_name_the_project_and_location() {
        let v = vertex("europe-west1");
        assert!(auth_hint(&v, 403).contains("roles/aiplatform.user"));
        assert!(auth_hint(&v, 403).contains("my-project"));
        assert!(not_found_hint(&v).contains("europe-west1"));
    }
}
