//! An endpoint made ready to use.

use std::collections::BTreeMap;

use modelgate_config::{EndpointConfig, TimeoutSettings};
use modelgate_protocol::Spec;
use modelgate_protocol::secret::{ApiKey, MIN_SCRUBBED_LEN};
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};

use crate::auth::Operation;
use crate::azure::{self, Azure};
use crate::google;
use crate::vertex::Vertex;

/// An endpoint with its `${VAR}`s resolved and everything a request needs
/// prepared once, so the request path allocates nothing for configuration.
#[derive(Debug, Clone)]
pub struct Endpoint {
    pub name: String,
    pub spec: Spec,
    /// Without trailing slash.
    pub base_url: String,
    pub direct: bool,
    pub keys: Vec<ApiKey>,
    /// Everything configured that must never reach a client or a log, longest
    /// first: the keys, the values of configured headers and the
    /// credentials in the base URL. Every error path scrubs with it
    /// (`scrub(&message, &ep.secrets)`); see [`secrets_of`].
    pub secrets: Vec<ApiKey>,
    pub headers: HeaderMap,
    pub model_map: BTreeMap<String, String>,
    pub add_params: serde_json::Map<String, serde_json::Value>,
    pub drop_params: Vec<String>,
    pub timeouts: TimeoutSettings,
    /// The chat operation's URL, parsed once: parsing it per request
    /// showed up in profiles of the hot path. For Azure's classic API,
    /// whose chat URL names the deployment, it is the deployments
    /// collection that [`model_url`](Self::model_url) completes.
    pub chat_url: reqwest::Url,
    /// Azure's API, auth and resource, for an `azure` endpoint.
    pub azure: Option<Azure>,
    /// A `google` endpoint's path version (`v1beta`, `v1`, `v1alpha`).
    pub gemini_version: Option<String>,
    /// A `google-vertex` endpoint's project, location, publishers and
    /// token source (it has no keys: requests carry its access token).
    pub vertex: Option<Vertex>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("endpoint `{endpoint}`: {message}")]
pub struct EndpointBuildError {
    pub endpoint: String,
    pub message: String,
}

impl Endpoint {
    /// Builds the runtime form of an endpoint whose variables are resolved.
    pub fn build(
        config: &EndpointConfig,
        defaults: TimeoutSettings,
    ) -> Result<Self, EndpointBuildError> {
        let fail = |message: String| EndpointBuildError {
            endpoint: config.name.clone(),
            message,
        };
        let mut headers = HeaderMap::new();
        for (name, value) in &config.headers {
            let name = HeaderName::from_bytes(name.as_bytes())
                .map_err(|_| fail(format!("`{name}` is not a valid HTTP header name")))?;
            let mut value = HeaderValue::from_str(value)
                .map_err(|_| fail(format!("the value of header `{name}` is not valid in HTTP")))?;
            value.set_sensitive(true);
            headers.insert(name, value);
        }
        if config.spec == Spec::Anthropic && !headers.contains_key("anthropic-version") {
            headers.insert(
                "anthropic-version",
                HeaderValue::from_static(crate::auth::ANTHROPIC_VERSION),
            );
        }
        let timeouts = defaults.with_overrides(&config.timeouts);
        let configured_base = config.effective_base_url();
        let base_url = if config.direct_endpoint {
            configured_base.clone()
        } else {
            crate::auth::normalize_base(config.spec, &configured_base)
        };
        let azure = (config.spec == Spec::Azure).then(|| Azure::from_config(config, &base_url));
        let gemini_version =
            (config.spec == Spec::Google).then(|| config.gemini_api_version().to_owned());
        let vertex = (config.spec == Spec::GoogleVertex)
            .then(|| Vertex::from_config(config, timeouts.connect.0));
        let chat = match (&azure, &gemini_version, &vertex) {
            _ if config.direct_endpoint => base_url.clone(),
            // The model and publisher go in the path: see `model_url`.
            (_, _, Some(vertex)) => vertex.location_url(&base_url),
            (Some(azure), _, _) => azure::chat_base(azure, &base_url),
            // The model goes in the path: see `model_url`.
            (_, Some(version), _) => google::models_url(&base_url, version),
            (None, None, None) => format!(
                "{base_url}/{}",
                crate::auth::path(config.spec, Operation::Chat)
            ),
        };
        let chat_url = reqwest::Url::parse(&chat).map_err(|e| {
            fail(format!(
                "the base URL gives `{}`, which is not a valid URL: {e}",
                redact_url(&chat)
            ))
        })?;
        let keys: Vec<ApiKey> = config.keys().into_iter().map(ApiKey::new).collect();
        let mut secrets = secrets_of(&keys, &config.headers, &config.base_url);
        if let Some(vertex) = &vertex {
            // gcloud's refresh token and client secret, if those are the credentials.
            secrets.extend(vertex.secrets());
            secrets.sort_by_key(|s| std::cmp::Reverse(s.expose().len()));
        }
        Ok(Self {
            name: config.name.clone(),
            spec: config.spec,
            // A direct URL is sent exactly as written.
            base_url,
            direct: config.direct_endpoint,
            keys,
            secrets,
            headers,
            model_map: config.model_map.clone(),
            add_params: config.add_params.clone(),
            drop_params: config.drop_params.clone(),
            timeouts,
            chat_url,
            azure,
            gemini_version,
            vertex,
        })
    }

    /// The pooled client to reach it from this thread.
    pub fn client(&self) -> reqwest::Client {
        crate::client::for_this_thread(self.timeouts.connect.0)
    }

    /// The URL of an operation: `{base}/{path}`, or the base URL itself for
    /// a direct endpoint's main operation. An Azure endpoint's are in
    /// [`azure::url`] (its classic chat URL names the deployment
    /// `{deployment}`: use [`model_url`](Self::model_url) to send).
    pub fn url(&self, op: Operation) -> String {
        match (&self.azure, &self.gemini_version, &self.vertex) {
            _ if self.direct => self.base_url.clone(),
            (Some(azure), _, _) => azure::url(azure, &self.base_url, op),
            (_, Some(version), _) => google::models_url(&self.base_url, version),
            (_, _, Some(vertex)) => vertex.op_url(&self.base_url, op),
            (None, None, None) => format!("{}/{}", self.base_url, crate::auth::path(self.spec, op)),
        }
    }

    /// The URL of a model operation for the (mapped) model `model`,
    /// streamed or not. Most specs ignore both (they are in the body);
    /// Azure's classic API puts the deployment in the path, Gemini the
    /// model and whether it streams.
    pub fn model_url(
        &self,
        op: Operation,
        model: &str,
        stream: bool,
    ) -> Result<reqwest::Url, String> {
        if let (Operation::Chat, Some(vertex), false) = (op, &self.vertex, self.direct) {
            let url = vertex.model_url(&self.base_url, model, stream);
            return reqwest::Url::parse(&url).map_err(|e| format!("invalid URL: {e}"));
        }
        if let (Operation::Chat, Some(version), false) = (op, &self.gemini_version, self.direct) {
            let url = google::generate_url(&self.base_url, version, model, stream);
            return reqwest::Url::parse(&url).map_err(|e| format!("invalid URL: {e}"));
        }
        match (op, &self.azure) {
            (Operation::Chat, Some(azure)) if !self.direct && !azure.is_v1() => {
                azure::deployment_url(&self.chat_url, model)
            }
            (Operation::Chat, _) => Ok(self.chat_url.clone()),
            _ => reqwest::Url::parse(&self.url(op)).map_err(|e| format!("invalid URL: {e}")),
        }
    }

    /// Whether a streamed chat request may carry `stream_options` (asking
    /// for usage): every endpoint but an Azure one on an api-version older
    /// than 2024-09-01, which refuses the field (its streams then record no
    /// usage).
    pub fn takes_stream_usage(&self) -> bool {
        self.azure
            .as_ref()
            .is_none_or(crate::azure::Azure::takes_stream_usage)
    }

    /// Whether the endpoint takes Responses requests as they are (a
    /// Responses client's body is passed through rather than translated):
    /// a Responses endpoint, or Azure on its v1 API.
    pub fn speaks_responses(&self) -> bool {
        self.spec == Spec::OpenAiResponses
            || self
                .azure
                .as_ref()
                .is_some_and(|azure| azure.is_v1() && !self.direct)
    }

    /// The credential header for `key`, sent the way this endpoint sends keys.
    pub fn key_header(&self, key: &ApiKey) -> Option<(HeaderName, HeaderValue)> {
        match &self.azure {
            Some(azure) => azure.key_header(key),
            None if self.spec == Spec::Google => google::key_header(key),
            None => crate::auth::key_header(self.spec, key),
        }
    }

    /// The base URL with its credentials masked, for messages ([`redact_url`]).
    pub fn display_url(&self) -> String {
        redact_url(&self.base_url)
    }

    /// `host:port` of the base URL, for messages such as "is the server running at …".
    pub fn authority(&self) -> String {
        let rest = self
            .base_url
            .split_once("://")
            .map_or(self.base_url.as_str(), |(_, r)| r);
        let host = rest.split(['/', '?']).next().unwrap_or(rest);
        let host = host.rsplit_once('@').map_or(host, |(_, h)| h);
        if host.contains(':') && !host.ends_with(']') {
            host.to_owned()
        } else if self.base_url.starts_with("https://") {
            format!("{host}:443")
        } else {
            format!("{host}:80")
        }
    }

    /// The upstream model id for the id the client used.
    pub fn map_model<'a>(&'a self, public: &'a str) -> &'a str {
        self.model_map.get(public).map_or(public, String::as_str)
    }
}

/// Percent-encodes everything but RFC 3986's unreserved characters: safe
/// as a path segment and as a query value.
pub fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Headers whose values are protocol settings, not credentials: masking
/// `2023-06-01` in an error message would only hide what went wrong.
const SETTING_HEADERS: &[&str] = &[
    "accept",
    "anthropic-beta",
    "anthropic-version",
    "content-type",
    "openai-beta",
    "user-agent",
];

/// Query parameters whose values are shown in messages; every other value
/// is masked, since services put keys in queries (`?key=…`, `?sig=…`).
const SHOWN_QUERY_PARAMS: &[&str] = &["api-version", "alt", "beta"];

/// What to scrub from upstream errors for an endpoint, longest first (so a
/// value that contains another is masked whole):
/// - every key;
/// - the value of every configured header but protocol settings
///   ([`SETTING_HEADERS`]), and its last word too (`Bearer TOKEN`: the
///   upstream may echo the token alone);
/// - the user and password of the base URL, as written and decoded, and
///   the values of its query parameters.
///
/// Secrets shorter than [`MIN_SCRUBBED_LEN`] are left out: masking every
/// `abc` would garble messages and protect nothing.
pub fn secrets_of(
    keys: &[ApiKey],
    headers: &BTreeMap<String, String>,
    base_url: &str,
) -> Vec<ApiKey> {
    let mut found: Vec<String> = keys.iter().map(|k| k.expose().to_owned()).collect();
    for (name, value) in headers {
        if SETTING_HEADERS.contains(&name.to_ascii_lowercase().as_str()) {
            continue;
        }
        let value = value.trim();
        found.push(value.to_owned());
        if let Some((_, last)) = value.rsplit_once(char::is_whitespace) {
            found.push(last.to_owned());
        }
    }
    if let Ok(url) = reqwest::Url::parse(base_url) {
        for part in [url.username(), url.password().unwrap_or_default()] {
            found.push(part.to_owned());
            found.push(percent_decode(part));
        }
        for (_, value) in url.query_pairs() {
            found.push(value.into_owned());
        }
    }
    found.retain(|s| s.len() >= MIN_SCRUBBED_LEN);
    found.sort_by(|a, b| b.len().cmp(&a.len()).then_with(|| a.cmp(b)));
    found.dedup();
    found.into_iter().map(ApiKey::new).collect()
}

pub(crate) fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| char::from(b).to_digit(16);
        match (bytes[i], bytes.get(i + 1), bytes.get(i + 2)) {
            (b'%', Some(&h), Some(&l)) if hex(h).is_some() && hex(l).is_some() => {
                let value = hex(h).unwrap_or(0) * 16 + hex(l).unwrap_or(0);
                out.push(u8::try_from(value).unwrap_or(b'?'));
                i += 3;
            }
            (b, _, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// A URL safe to show in a message or a log line.
///
/// Decision: the userinfo goes whole (a "user name" is often a token, as in
/// `https://TOKEN@host`), replaced by `***@` so a person still sees that
/// the URL carries credentials; query values are masked (`?key=***`)
/// except the few that are settings ([`SHOWN_QUERY_PARAMS`], e.g. Azure's
/// `api-version`, which a 404 may be about); a fragment is dropped.
pub fn redact_url(url: &str) -> String {
    let (scheme, rest) = match url.split_once("://") {
        Some((scheme, rest)) => (Some(scheme), rest),
        None => (None, url),
    };
    let rest = rest.split('#').next().unwrap_or(rest);
    let (rest, query) = match rest.split_once('?') {
        Some((rest, query)) => (rest, Some(query)),
        None => (rest, None),
    };
    let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    let mut out = String::with_capacity(url.len());
    if let Some(scheme) = scheme {
        out.push_str(scheme);
        out.push_str("://");
    }
    match authority.rsplit_once('@') {
        Some((_, host)) => {
            out.push_str("***@");
            out.push_str(host);
        }
        None => out.push_str(authority),
    }
    out.push_str(path);
    if let Some(query) = query.filter(|q| !q.is_empty()) {
        out.push('?');
        for (i, pair) in query.split('&').enumerate() {
            if i > 0 {
                out.push('&');
            }
            match pair.split_once('=') {
                Some((name, value)) if SHOWN_QUERY_PARAMS.contains(&name) => {
                    out.push_str(name);
                    out.push('=');
                    out.push_str(value);
                }
                Some((name, _)) => {
                    out.push_str(name);
                    out.push_str("=***");
                }
                None => out.push_str(pair),
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percent_encoding_keeps_only_unreserved_characters() {
        assert_eq!(percent_encode("my-model_1.0~x"), "my-model_1.0~x");
        assert_eq!(percent_encode("a b/c?d&é"), "a%20b%2Fc%3Fd%26%C3%A9");
    }

    #[test]
    fn urls_lose_credentials_for_display() {
        assert_eq!(
            redact_url("http://user:hunter2@127.0.0.1:8080/v1?key=secret"),
            "http://***@127.0.0.1:8080/v1?key=***"
        );
        assert_eq!(
            redact_url("https://api.anthropic.com"),
            "https://api.anthropic.com"
        );
        assert_eq!(
            redact_url("https://TOKEN123456@git.example/v1/models"),
            "https://***@git.example/v1/models"
        );
        assert_eq!(
            redact_url(
                "https://r.openai.azure.com/openai/deployments/d/chat/completions?api-version=2024-06-01&sig=abcdef"
            ),
            "https://r.openai.azure.com/openai/deployments/d/chat/completions?api-version=2024-06-01&sig=***"
        );
        // A `@` in the path or query is not userinfo; a fragment goes.
        assert_eq!(
            redact_url("http://h:1/a@b?x=p@ss#frag"),
            "http://h:1/a@b?x=***"
        );
        assert_eq!(redact_url("u:p@host/v1"), "***@host/v1");
        assert_eq!(redact_url(""), "");
    }

    fn endpoint_config(yaml_like: serde_json::Value) -> EndpointConfig {
        serde_json::from_value(yaml_like).unwrap()
    }

    #[test]
    fn secrets_hold_keys_header_values_and_url_credentials_longest_first() {
        let config = endpoint_config(serde_json::json!({
            "name": "ep",
            "spec": "openai-chat-completions",
            "base_url": "http://proxyuser:p%40ssw0rd!@127.0.0.1:9/v1?token=query-secret-1",
            "api_keys": ["sk-key-one-1111", "short"],
            "headers": {
                "X-Tenant-Token": "tenant-secret-abcdef",
                "Proxy-Authorization": "Bearer proxy-token-42",
                "anthropic-version": "2023-06-01",
                "X-Small": "abc",
            },
        }));
        let ep = Endpoint::build(&config, TimeoutSettings::default()).unwrap();
        let secrets: Vec<&str> = ep.secrets.iter().map(ApiKey::expose).collect();
        for want in [
            "sk-key-one-1111",
            "tenant-secret-abcdef",
            "Bearer proxy-token-42",
            "proxy-token-42",
            "proxyuser",
            "p%40ssw0rd!",
            "p@ssw0rd!",
            "query-secret-1",
        ] {
            assert!(secrets.contains(&want), "{want} missing from {secrets:?}");
        }
        for not in ["short", "2023-06-01", "abc"] {
            assert!(!secrets.contains(&not), "{not} in {secrets:?}");
        }
        assert!(
            secrets.windows(2).all(|w| w[0].len() >= w[1].len()),
            "longest first: {secrets:?}"
        );
        let said = modelgate_protocol::secret::scrub(
            "denied for Bearer proxy-token-42 (tenant-secret-abcdef)",
            &ep.secrets,
        );
        assert!(
            !said.contains("proxy-token-42") && !said.contains("tenant-secret"),
            "{said}"
        );
    }
}
