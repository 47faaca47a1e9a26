//! Cheap probes that tell a wrong base URL or a wrong spec from a wrong
//! model, for the key test and for explaining a 404.
//!
//! A probe spends no tokens: it lists models (`GET`) or posts an empty
//! object `{}` to a chat route, which every server we know refuses with a
//! validation error (400/422) before calling a model. It reads only the
//! status, never the body, and gives up after [`PROBE_TIMEOUT`] at most.
//!
//! How a status reads:
//! - same spec, same credentials: anything but 404/405 means the route
//!   exists ([`route_exists`]);
//! - another spec's route, credentials sent that spec's way: only a 2xx or
//!   a validation error (400/422) counts ([`accepted`]). A 401 there says
//!   nothing, since servers that check keys before routing answer 401 to
//!   every path.

use std::time::Duration;

use http::Method;
use modelgate_protocol::Spec;
use modelgate_protocol::secret::ApiKey;

use crate::auth::{self, Operation};
use crate::endpoint::Endpoint;

/// Longest wait for one probe (shorter when the endpoint's `first_byte`
/// timeout is): a probe runs while a person or a client waits for an error.
pub const PROBE_TIMEOUT: Duration = Duration::from_secs(10);

/// What probing the server around a missing route found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RouteDiagnosis {
    /// The operation answers below `{base}/v1`, not below the base URL.
    LacksV1 { base_url: String },
    /// The server speaks another spec, at this base URL.
    OtherSpec { spec: Spec, base_url: String },
    /// The server lists its models below this base URL: the base URL is right.
    BaseServes,
    /// Nothing conclusive.
    Unknown,
}

/// The status a request got, or `None` when no answer came in time.
pub async fn status(
    ep: &Endpoint,
    key: Option<&ApiKey>,
    auth_as: Spec,
    method: Method,
    url: &str,
) -> Option<u16> {
    let request = request(ep, key, auth_as, method, url);
    let timeout = ep.timeouts.first_byte.0.min(PROBE_TIMEOUT);
    match tokio::time::timeout(timeout, request.send()).await {
        Ok(Ok(response)) => Some(response.status().as_u16()),
        _ => None,
    }
}

/// A probe request: the endpoint's headers, `key` sent the way `auth_as`
/// sends keys, and for a `POST` the empty body `{}`.
pub fn request(
    ep: &Endpoint,
    key: Option<&ApiKey>,
    auth_as: Spec,
    method: Method,
    url: &str,
) -> reqwest::RequestBuilder {
    let mut request = ep
        .client()
        .request(method.clone(), url)
        .headers(ep.headers.clone());
    if auth_as == Spec::Anthropic && !ep.headers.contains_key("anthropic-version") {
        request = request.header("anthropic-version", auth::ANTHROPIC_VERSION);
    }
    // The endpoint's own way when probing its own spec (Azure's `auth`).
    let header = |k: &ApiKey| {
        if auth_as == ep.spec {
            ep.key_header(k)
        } else {
            auth::key_header(auth_as, k)
        }
    };
    if let Some((name, value)) = key.and_then(header) {
        request = request.header(name, value);
    }
    if method == Method::POST {
        request = request
            .header(http::header::CONTENT_TYPE, "application/json")
            .body("{}");
    }
    request
}

/// A same-spec probe found the route.
pub fn route_exists(status: Option<u16>) -> bool {
    status.is_some_and(|s| !matches!(s, 404 | 405))
}

/// Another spec's route answered as that spec would to an empty request.
pub fn accepted(status: Option<u16>) -> bool {
    status.is_some_and(|s| (200..300).contains(&s) || matches!(s, 400 | 422))
}

/// Why the endpoint's chat route answered 404, as far as probes tell.
///
/// `route_miss`: the 404 looked like the web framework's "no such route".
/// Only then is the server asked whether it speaks another spec: servers
/// that speak both (LiteLLM, some proxies) would otherwise have a genuine
/// "no such thing" blamed on the spec.
pub async fn diagnose(ep: &Endpoint, key: Option<&ApiKey>, route_miss: bool) -> RouteDiagnosis {
    // Azure's paths are fixed and its errors say what is missing.
    if ep.direct || ep.spec == Spec::Azure {
        return RouteDiagnosis::Unknown;
    }
    match ep.spec {
        Spec::Anthropic if route_miss => match other_spec(ep, key).await {
            Some((spec, base_url)) => RouteDiagnosis::OtherSpec { spec, base_url },
            None => RouteDiagnosis::Unknown,
        },
        Spec::Anthropic => RouteDiagnosis::Unknown,
        _ => diagnose_openai_like(ep, key, route_miss).await,
    }
}

async fn diagnose_openai_like(
    ep: &Endpoint,
    key: Option<&ApiKey>,
    route_miss: bool,
) -> RouteDiagnosis {
    let base = ep.base_url.as_str();
    let with_v1 = (!base.ends_with("/v1")).then(|| format!("{base}/v1"));
    let models_here = ep.url(Operation::Models);
    let (here, below_v1) = match &with_v1 {
        Some(v1) => {
            let models_v1 = format!("{v1}/{}", auth::path(ep.spec, Operation::Models));
            tokio::join!(
                status(ep, key, ep.spec, Method::GET, &models_here),
                status(ep, key, ep.spec, Method::GET, &models_v1)
            )
        }
        None => (
            status(ep, key, ep.spec, Method::GET, &models_here).await,
            None,
        ),
    };
    let ok = |s: Option<u16>| s.is_some_and(|s| (200..300).contains(&s));
    if let Some(v1) = with_v1.as_ref().filter(|_| !ok(here)) {
        if ok(below_v1) {
            return RouteDiagnosis::LacksV1 {
                base_url: v1.clone(),
            };
        }
        // No model list below `/v1` either (many servers have none): ask
        // the chat route itself.
        let chat_v1 = format!("{v1}/{}", auth::path(ep.spec, Operation::Chat));
        if route_exists(status(ep, key, ep.spec, Method::POST, &chat_v1).await) {
            return RouteDiagnosis::LacksV1 {
                base_url: v1.clone(),
            };
        }
    }
    // Before "the base URL is right": an Anthropic server lists models
    // at `/v1/models` too.
    if route_miss && let Some((spec, base_url)) = other_spec(ep, key).await {
        return RouteDiagnosis::OtherSpec { spec, base_url };
    }
    if ok(here) {
        RouteDiagnosis::BaseServes
    } else {
        RouteDiagnosis::Unknown
    }
}

/// The other supported spec, if the server answers its chat route, with
/// the base URL that spec would need.
async fn other_spec(ep: &Endpoint, key: Option<&ApiKey>) -> Option<(Spec, String)> {
    match ep.spec {
        Spec::Anthropic => {
            // Anthropic's base URL is the host; OpenAI-compatible servers
            // usually sit below `/v1`, some at the root.
            let host = ep.base_url.as_str();
            for base in [format!("{host}/v1"), host.to_owned()] {
                let chat = format!(
                    "{base}/{}",
                    auth::path(Spec::OpenAiChatCompletions, Operation::Chat)
                );
                let found = status(ep, key, Spec::OpenAiChatCompletions, Method::POST, &chat).await;
                if accepted(found) {
                    return Some((Spec::OpenAiChatCompletions, base));
                }
            }
            None
        }
        Spec::OpenAiChatCompletions => {
            let host = auth::normalize_base(Spec::Anthropic, &ep.base_url);
            let chat = format!("{host}/{}", auth::path(Spec::Anthropic, Operation::Chat));
            let found = status(ep, key, Spec::Anthropic, Method::POST, &chat).await;
            accepted(found).then_some((Spec::Anthropic, host))
        }
        _ => None,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use modelgate_config::{EndpointConfig, TimeoutSettings};
    use modelgate_testkit::{FakeUpstream, Reply};
    use serde_json::json;

    use super::*;

    fn endpoint(spec: &str, base: &str) -> Endpoint {
        let config: EndpointConfig = serde_json::from_value(json!({
            "name": "ep", "spec": spec, "base_url": base, "api_key": "sk-probe-key-1234",
        }))
        .unwrap();
        Endpoint::build(&config, TimeoutSettings::default()).unwrap()
    }

    /// An OpenAI-compatible server below `/v1` that 404s everything else FastAPI's way.
    async fn openai_below_v1() -> FakeUpstream {
        FakeUpstream::start(|req| match req.path.as_str() {
            "/v1/models" => Reply::json(200, &json!({"object": "list", "data": []})),
            "/v1/chat/completions" => {
                Reply::json(400, &json!({"error": {"message": "model is required"}}))
            }
            _ => Reply::json(404, &json!({"detail": "Not Found"})),
        })
        .await
    }

    #[tokio::test]
    async fn a_base_url_without_v1_is_told_apart() {
        let upstream = openai_below_v1().await;
        let ep = endpoint("openai-chat-completions", &upstream.url(""));
        let found = diagnose(&ep, ep.keys.first(), true).await;
        assert_eq!(
            found,
            RouteDiagnosis::LacksV1 {
                base_url: upstream.url("/v1")
            }
        );
        assert!(
            upstream
                .requests()
                .iter()
                .all(|r| r.bearer() == Some("sk-probe-key-1234"))
        );
    }

    #[tokio::test]
    async fn a_right_base_url_is_recognised() {
        let upstream = openai_below_v1().await;
        let ep = endpoint("openai-chat-completions", &upstream.url("/v1"));
        assert_eq!(diagnose(&ep, None, true).await, RouteDiagnosis::BaseServes);
    }

    #[tokio::test]
    async fn an_anthropic_endpoint_at_an_openai_server_is_named() {
        let upstream = openai_below_v1().await;
        let ep = endpoint("anthropic", &upstream.url(""));
        assert_eq!(
            diagnose(&ep, ep.keys.first(), true).await,
            RouteDiagnosis::OtherSpec {
                spec: Spec::OpenAiChatCompletions,
                base_url: upstream.url("/v1")
            }
        );
    }

    #[tokio::test]
    async fn an_openai_endpoint_at_an_anthropic_server_is_named() {
        let upstream = FakeUpstream::start(|req| match req.path.as_str() {
            "/v1/messages" if req.header("x-api-key").is_some() => {
                Reply::json(400, &json!({"type": "error", "error": {"type": "invalid_request_error", "message": "model: Field required"}}))
            }
            _ => Reply::json(404, &json!({"type": "error", "error": {"type": "not_found_error", "message": "Not found"}})),
        })
        .await;
        let ep = endpoint("openai-chat-completions", &upstream.url("/v1"));
        assert_eq!(
            diagnose(&ep, ep.keys.first(), true).await,
            RouteDiagnosis::OtherSpec {
                spec: Spec::Anthropic,
                base_url: upstream.url("")
            }
        );
    }

    #[tokio::test]
    async fn a_server_refusing_everything_proves_nothing() {
        let upstream = FakeUpstream::start(|req| {
            if req.path.ends_with("/chat/completions") && req.path.starts_with("/v1") {
                Reply::text(404, "404 page not found")
            } else {
                Reply::json(401, &json!({"error": {"message": "unauthorized"}}))
            }
        })
        .await;
        let ep = endpoint("openai-chat-completions", &upstream.url("/v1"));
        assert_eq!(diagnose(&ep, None, true).await, RouteDiagnosis::Unknown);
    }
}
