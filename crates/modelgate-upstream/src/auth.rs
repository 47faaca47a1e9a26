//! How each spec authenticates and where its operations live.

use http::{HeaderName, HeaderValue};
use modelgate_protocol::Spec;
use modelgate_protocol::secret::ApiKey;

/// The `anthropic-version` sent unless the endpoint's headers set one.
pub const ANTHROPIC_VERSION: &str = "2023-06-01";

/// The operations the gateway performs on an endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operation {
    /// The endpoint's own model operation (chat completions, messages,
    /// responses: whatever its spec calls it).
    Chat,
    /// `POST /responses`, for an endpoint that speaks Responses beside its
    /// own spec (Azure's v1 API).
    Responses,
    Models,
    CountTokens,
}

/// The path of an operation below the base URL.
pub fn path(spec: Spec, op: Operation) -> &'static str {
    match (spec, op) {
        (Spec::Anthropic, Operation::Chat) => "v1/messages",
        (Spec::Anthropic, Operation::Models) => "v1/models",
        (Spec::Anthropic, Operation::CountTokens) => "v1/messages/count_tokens",
        (Spec::Anthropic, Operation::Responses) => "v1/responses",
        (Spec::OpenAiResponses, Operation::Chat) => "responses",
        (_, Operation::Responses) => "responses",
        (_, Operation::Chat) => "chat/completions",
        (_, Operation::Models) => "models",
        (_, Operation::CountTokens) => "chat/completions",
    }
}

/// The credential header for a key, as a spec sends keys by default (an
/// Azure endpoint's own setting is [`Endpoint::key_header`](crate::Endpoint::key_header)'s).
pub fn key_header(spec: Spec, key: &ApiKey) -> Option<(HeaderName, HeaderValue)> {
    let (name, value) = match spec {
        Spec::Anthropic => (
            HeaderName::from_static("x-api-key"),
            key.expose().to_owned(),
        ),
        Spec::Azure => (HeaderName::from_static("api-key"), key.expose().to_owned()),
        _ => (
            http::header::AUTHORIZATION,
            format!("Bearer {}", key.expose()),
        ),
    };
    let mut value = HeaderValue::try_from(value).ok()?;
    value.set_sensitive(true);
    Some((name, value))
}

/// Anthropic's base URL is the host (`https://api.anthropic.com`); a base
/// URL written with `/v1` would double it, so it is taken off. Azure's is
/// the resource's URL: see [`crate::azure::normalize_base`].
pub fn normalize_base(spec: Spec, base: &str) -> String {
    let base = base.trim_end_matches('/');
    match spec {
        Spec::Anthropic => base.strip_suffix("/v1").unwrap_or(base).to_owned(),
        Spec::Google => crate::google::normalize_base(base),
        Spec::Azure => crate::azure::normalize_base(base),
        _ => base.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn anthropic_paths_and_headers() {
        assert_eq!(path(Spec::Anthropic, Operation::Chat), "v1/messages");
        assert_eq!(
            path(Spec::OpenAiChatCompletions, Operation::Models),
            "models"
        );
        let (name, value) = key_header(Spec::Anthropic, &ApiKey::new("sk-ant-123456")).unwrap();
        assert_eq!(name, "x-api-key");
        assert!(value.is_sensitive());
        let (name, value) = key_header(Spec::OpenAiChatCompletions, &ApiKey::new("sk-1")).unwrap();
        assert_eq!(
            (name.as_str(), value.to_str().unwrap()),
            ("authorization", "Bearer sk-1")
        );
        assert_eq!(
            normalize_base(Spec::Anthropic, "https://api.anthropic.com/v1/"),
            "https://api.anthropic.com"
        );
        assert_eq!(
            normalize_base(Spec::OpenAiChatCompletions, "http://h/v1/"),
            "http://h/v1"
        );
    }
}
