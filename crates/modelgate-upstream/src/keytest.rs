//! Testing each key of an endpoint, with a diagnosis a person can act on.
//!
//! Two cheap probes per key, no tokens spent:
//! 1. `GET {base}/models`, the cheapest authenticated call;
//! 2. `POST` of an empty `{}` to the chat operation's URL: a server checks
//!    the key, then refuses the body (400/422), so the route is shown to
//!    exist without calling a model. This catches what the model list
//!    cannot: an `anthropic` endpoint pointed at an OpenAI-compatible
//!    server passes step 1 (both serve `/v1/models`) and would fail every
//!    chat with a 404. When the route is missing, the server is probed for
//!    the spec it does speak (verdict `wrong-spec`, with the spec and base
//!    URL to use in `suggested_spec` / `suggested_base_url`).
//!
//! Step 2 also tells the key truth on servers whose model list is public
//! (OpenRouter): a 401 there means the key is invalid. A server without a
//! model list (404 at step 1) whose chat route accepts the key is `ok`.
//! A direct endpoint has no model list: it gets step 2 only, at its URL.
//! An Azure endpoint takes the same steps at its own URLs
//! (`keytest_azure.rs`).

use std::time::Duration;

use http::Method;
use modelgate_protocol::secret::ApiKey;
use modelgate_protocol::spec::openai_chat::error::decode_upstream_error;
use serde::Serialize;

use crate::auth::{self, Operation};
use crate::endpoint::{Endpoint, redact_url};
use crate::errors;
use crate::probe::{self, RouteDiagnosis};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Verdict {
    Ok,
    Invalid,
    Forbidden,
    RateLimited,
    NotFound,
    NetworkError,
    /// Any other HTTP status (the endpoint itself is failing).
    Error,
    /// The server does not serve the spec's chat operation but looks like
    /// another spec (see `KeyReport::suggested_spec`).
    WrongSpec,
}

impl Verdict {
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Ok => "ok",
            Verdict::Invalid => "invalid",
            Verdict::Forbidden => "forbidden",
            Verdict::RateLimited => "rate-limited",
            Verdict::NotFound => "not-found",
            Verdict::NetworkError => "network-error",
            Verdict::Error => "error",
            Verdict::WrongSpec => "wrong-spec",
        }
    }
}

/// The result for one key.
#[derive(Debug, Clone, Serialize)]
pub struct KeyReport {
    /// The key, masked (`sk-…wxyz`), or `(no key)`.
    pub key: String,
    pub verdict: Verdict,
    pub status: Option<u16>,
    /// What it means and what to do.
    pub hint: String,
    /// With `wrong-spec`: the spec the server seems to speak.
    pub suggested_spec: Option<String>,
    /// With `wrong-spec`, or a base URL that lacks `/v1`: the base URL to use.
    pub suggested_base_url: Option<String>,
}

impl KeyReport {
    pub(crate) fn new(key: &str, verdict: Verdict, status: Option<u16>, hint: String) -> Self {
        Self {
            key: key.to_owned(),
            verdict,
            status,
            hint,
            suggested_spec: None,
            suggested_base_url: None,
        }
    }
}

pub async fn test_keys(ep: &Endpoint) -> Vec<KeyReport> {
    if ep.keys.is_empty() {
        return vec![probe(ep, None).await];
    }
    let mut reports = Vec::with_capacity(ep.keys.len());
    for key in &ep.keys {
        reports.push(probe(ep, Some(key)).await);
    }
    reports
}

async fn probe(ep: &Endpoint, key: Option<&ApiKey>) -> KeyReport {
    let shown = key.map_or_else(|| "(no key)".to_owned(), ApiKey::masked);
    if key.is_some_and(|k| ep.key_header(k).is_none()) {
        return KeyReport::new(
            &shown,
            Verdict::Invalid,
            None,
            "the key has characters that cannot go in an HTTP header".into(),
        );
    }
    if ep.direct {
        return probe_chat(ep, key, &shown, false).await;
    }
    if let Some(azure) = &ep.azure {
        return crate::keytest_azure::probe(ep, azure, key, &shown).await;
    }
    if let Some(vertex) = &ep.vertex {
        return crate::vertex::probe(ep, vertex).await;
    }
    let models_url = ep.url(Operation::Models);
    let (status, response) = match send(ep, key, Method::GET, &models_url).await {
        Ok(response) => (response.status().as_u16(), response),
        Err(report) => return report.for_key(&shown),
    };
    if ep.gemini_version.is_some() {
        return gemini_verdict(ep, &shown, status, response).await;
    }
    match status {
        200..=299 => probe_chat(ep, key, &shown, false).await,
        // No model list here: the chat route says whether the base URL is right.
        404 => probe_chat(ep, key, &shown, true).await,
        401 => KeyReport::new(&shown, Verdict::Invalid, Some(status), INVALID.to_owned()),
        403 => KeyReport::new(
            &shown,
            Verdict::Forbidden,
            Some(status),
            FORBIDDEN.to_owned(),
        ),
        429 => KeyReport::new(
            &shown,
            Verdict::RateLimited,
            Some(status),
            RATE_LIMITED.to_owned(),
        ),
        _ => {
            let body = crate::body::read_error_body(ep, response).await;
            let hint = errors::status_error(ep, status, &body).message;
            KeyReport::new(&shown, Verdict::Error, Some(status), hint)
        }
    }
}

/// The Gemini API's key test is its model list: it needs the key, and
/// Google says what is wrong with one in the error's `reason`/`status`
/// (a bad key is a 400 `API_KEY_INVALID`, not a 401).
async fn gemini_verdict(
    ep: &Endpoint,
    shown: &str,
    status: u16,
    response: reqwest::Response,
) -> KeyReport {
    let report = |verdict, hint: String| KeyReport::new(shown, verdict, Some(status), hint);
    if (200..300).contains(&status) {
        return report(Verdict::Ok, "the key works".to_owned());
    }
    let body = crate::body::read_error_body(ep, response).await;
    let text = String::from_utf8_lossy(&body);
    match status {
        400 if text.contains("API_KEY_INVALID") => report(Verdict::Invalid, INVALID.to_owned()),
        401 => report(Verdict::Invalid, INVALID.to_owned()),
        403 => report(Verdict::Forbidden, FORBIDDEN.to_owned()),
        429 => report(Verdict::RateLimited, RATE_LIMITED.to_owned()),
        _ => report(
            Verdict::Error,
            errors::status_error(ep, status, &body).message,
        ),
    }
}

const INVALID: &str = "the endpoint does not accept this key: check it, or rotate it with `modelgate endpoints update`";
pub(crate) const FORBIDDEN: &str =
    "the key is valid but not allowed here (project, region or model access)";
pub(crate) const RATE_LIMITED: &str = "the key is rate limited or out of quota right now";

/// Step 2: an empty `POST` to the chat URL. `no_model_list`: step 1 got a 404.
async fn probe_chat(
    ep: &Endpoint,
    key: Option<&ApiKey>,
    shown: &str,
    no_model_list: bool,
) -> KeyReport {
    let chat_url = ep.url(Operation::Chat);
    let (status, response) = match send(ep, key, Method::POST, &chat_url).await {
        Ok(response) => (response.status().as_u16(), response),
        Err(report) => return report.for_key(shown),
    };
    let report = |verdict, hint: String| KeyReport::new(shown, verdict, Some(status), hint);
    match status {
        401 => report(Verdict::Invalid, INVALID.to_owned()),
        403 => report(Verdict::Forbidden, FORBIDDEN.to_owned()),
        429 => report(Verdict::RateLimited, RATE_LIMITED.to_owned()),
        404 | 405 if ep.direct => report(
            Verdict::NotFound,
            "nothing answers at this URL: with `direct_endpoint: true` the base URL must be the full operation URL".to_owned(),
        ),
        404 | 405 => {
            // A 404 about the (absent) model means the route is there.
            let body = crate::body::read_error_body(ep, response).await;
            if errors::is_about_model(&decode_upstream_error(&body)) {
                report(Verdict::Ok, "the key works".to_owned())
            } else {
                missing_route(ep, key, shown, status).await
            }
        }
        200..=299 | 400 | 422 if no_model_list => report(
            Verdict::Ok,
            format!(
                "the key was accepted at `{}`; the server has no model list at `{}`, so list the models in the configuration (`models.default`) and set `models.fetch: false`",
                redact_url(&chat_url),
                redact_url(&ep.url(Operation::Models))
            ),
        ),
        400 | 422 if ep.direct => report(
            Verdict::Ok,
            "the key was accepted (the empty probe body was refused, as expected)".to_owned(),
        ),
        200..=299 | 400 | 422 => report(Verdict::Ok, "the key works".to_owned()),
        // The model list accepted the key and the chat route exists; how
        // it treats an empty body is not the key test's business.
        _ if !ep.direct && !no_model_list => report(
            Verdict::Ok,
            format!("the key works (the chat route answered HTTP {status} to the empty probe body)"),
        ),
        _ => {
            let body = crate::body::read_error_body(ep, response).await;
            report(Verdict::Error, errors::status_error(ep, status, &body).message)
        }
    }
}

/// The chat route is missing: say why, as far as the server tells.
async fn missing_route(ep: &Endpoint, key: Option<&ApiKey>, shown: &str, status: u16) -> KeyReport {
    let chat_url = redact_url(&ep.url(Operation::Chat));
    let chat_path = auth::path(ep.spec, Operation::Chat);
    // The empty probe body names nothing a server could miss but the route.
    match probe::diagnose(ep, key, true).await {
        RouteDiagnosis::LacksV1 { base_url } => {
            let mut report = KeyReport::new(
                shown,
                Verdict::NotFound,
                Some(status),
                format!(
                    "`{chat_url}` does not exist, but the server answers below `{}`: set the base URL to it (`modelgate endpoints update {} --base-url …`)",
                    redact_url(&base_url),
                    ep.name
                ),
            );
            report.suggested_base_url = Some(redact_url(&base_url));
            report
        }
        RouteDiagnosis::OtherSpec { spec, base_url } => {
            let mut report = KeyReport::new(
                shown,
                Verdict::WrongSpec,
                Some(status),
                format!(
                    "this server does not serve /{chat_path}; it looks like `{spec}` (base URL `{}`): `modelgate endpoints update {} --spec {spec} --base-url …`",
                    redact_url(&base_url),
                    ep.name
                ),
            );
            report.suggested_spec = Some(spec.id().to_owned());
            report.suggested_base_url = Some(redact_url(&base_url));
            report
        }
        RouteDiagnosis::BaseServes => KeyReport::new(
            shown,
            Verdict::NotFound,
            Some(status),
            format!(
                "the server lists models here but `{chat_url}` does not exist: check that it speaks `{}`",
                ep.spec
            ),
        ),
        RouteDiagnosis::Unknown if ep.spec == modelgate_protocol::Spec::Anthropic => {
            KeyReport::new(
                shown,
                Verdict::NotFound,
                Some(status),
                format!(
                    "`{chat_url}` does not exist: the base URL should be the host, e.g. https://api.anthropic.com"
                ),
            )
        }
        RouteDiagnosis::Unknown => KeyReport::new(
            shown,
            Verdict::NotFound,
            Some(status),
            format!("`{chat_url}` does not exist: the base URL may lack `/v1`"),
        ),
    }
}

/// A probe that got no HTTP answer, before the key it was for is known.
pub(crate) struct NoAnswer {
    hint: String,
}

impl NoAnswer {
    pub(crate) fn for_key(self, shown: &str) -> KeyReport {
        KeyReport::new(shown, Verdict::NetworkError, None, self.hint)
    }
}

/// One probe request with the key, bounded by the first-byte timeout (at most 30s).
pub(crate) async fn send(
    ep: &Endpoint,
    key: Option<&ApiKey>,
    method: Method,
    url: &str,
) -> Result<reqwest::Response, NoAnswer> {
    send_request(ep, probe::request(ep, key, ep.spec, method, url)).await
}

/// Sends a probe request the caller built, bounded as [`send`]'s.
pub(crate) async fn send_request(
    ep: &Endpoint,
    request: reqwest::RequestBuilder,
) -> Result<reqwest::Response, NoAnswer> {
    let timeout = ep.timeouts.first_byte.0.min(Duration::from_secs(30));
    match tokio::time::timeout(timeout, request.send()).await {
        Err(_) => Err(NoAnswer {
            hint: format!("no answer within {}", errors::fmt_duration(timeout)),
        }),
        Ok(Err(e)) => Err(NoAnswer {
            hint: errors::network_error(ep, &e).message,
        }),
        Ok(Ok(response)) => Ok(response),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
#[path = "keytest_tests.rs"]
mod tests;
