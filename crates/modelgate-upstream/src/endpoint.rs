//! An endpoint made ready to use.

use std::collections::BTreeMap;

use modelgate_config::{EndpointConfig, TimeoutSettings};
use modelgate_protocol::Spec;
use modelgate_protocol::secret::ApiKey;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};

use crate::auth::Operation;

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
    pub headers: HeaderMap,
    pub model_map: BTreeMap<String, String>,
    pub add_params: serde_json::Map<String, serde_json::Value>,
    pub drop_params: Vec<String>,
    pub timeouts: TimeoutSettings,
    /// The chat operation's URL, parsed once: parsing it per request
    /// showed up in profiles of the hot path.
    pub chat_url: reqwest::Url,
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
        let base_url = if config.direct_endpoint {
            config.base_url.clone()
        } else {
            crate::auth::normalize_base(config.spec, &config.base_url)
        };
        let chat = if config.direct_endpoint {
            base_url.clone()
        } else {
            format!(
                "{base_url}/{}",
                crate::auth::path(config.spec, Operation::Chat)
            )
        };
        let chat_url = reqwest::Url::parse(&chat).map_err(|e| {
            fail(format!(
                "the base URL gives `{}`, which is not a valid URL: {e}",
                redact_url(&chat)
            ))
        })?;
        Ok(Self {
            name: config.name.clone(),
            spec: config.spec,
            // A direct URL is sent exactly as written.
            base_url,
            direct: config.direct_endpoint,
            keys: config.keys().into_iter().map(ApiKey::new).collect(),
            headers,
            model_map: config.model_map.clone(),
            add_params: config.add_params.clone(),
            drop_params: config.drop_params.clone(),
            timeouts,
            chat_url,
        })
    }

    /// The pooled client to reach it from this thread.
    pub fn client(&self) -> reqwest::Client {
        crate::client::for_this_thread(self.timeouts.connect.0)
    }

    /// The URL of an operation: `{base}/{path}`, or the base URL itself for
    /// a direct endpoint's main operation.
    pub fn url(&self, op: Operation) -> String {
        if self.direct {
            self.base_url.clone()
        } else {
            format!("{}/{}", self.base_url, crate::auth::path(self.spec, op))
        }
    }

    /// The base URL without credentials (`user:pass@`) or query, for messages.
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

/// A URL without its userinfo and query, which may hold credentials.
pub fn redact_url(url: &str) -> String {
    let (scheme, rest) = url.split_once("://").unwrap_or(("", url));
    let rest = rest.split('?').next().unwrap_or(rest);
    let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    let host = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    if scheme.is_empty() {
        format!("{host}{path}")
    } else {
        format!("{scheme}://{host}{path}")
    }
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
            "http://127.0.0.1:8080/v1"
        );
        assert_eq!(
            redact_url("https://api.anthropic.com"),
            "https://api.anthropic.com"
        );
    }
}
