//! Turning what went wrong upstream into errors that say what to do.

use std::error::Error as _;
use std::time::Duration;

use modelgate_protocol::secret::scrub;
use modelgate_protocol::spec::openai_chat::error::{
    UpstreamErrorBody, decode_upstream_error, prompt_filter_of,
};
use modelgate_protocol::{ErrorKind, GatewayError, Spec};

use crate::azure;
use crate::endpoint::{Endpoint, redact_url};
use crate::probe::{self, RouteDiagnosis};

/// A failure to get any HTTP response (connect, DNS, TLS, reset).
pub fn network_error(ep: &Endpoint, err: &reqwest::Error) -> GatewayError {
    let at = ep.authority();
    if err.is_timeout() && err.is_connect() {
        return GatewayError::new(
            ErrorKind::Timeout,
            format!(
                "connecting to endpoint `{}` at {at} timed out after {}; check that the host is reachable, or raise `timeouts.connect`",
                ep.name,
                fmt_duration(ep.timeouts.connect.0)
            ),
        )
        .with_code("upstream_timeout");
    }
    let cause = root_cause(err);
    let message = if cause.contains("refused") {
        format!(
            "could not connect to endpoint `{}` at {at}: connection refused. Is the server running at {at}?",
            ep.name
        )
    } else if cause.contains("dns") || cause.contains("resolve") || cause.contains("lookup") {
        let check = if ep.azure.is_some() {
            "Check `resource_name` (or `base_url`): it names the Azure resource"
        } else {
            "Check the base URL"
        };
        format!(
            "could not resolve the host of endpoint `{}` ({at}): {cause}. {check}",
            ep.name
        )
    } else {
        format!("request to endpoint `{}` at {at} failed: {cause}", ep.name)
    };
    GatewayError::new(ErrorKind::UpstreamUnreachable, scrub(&message, &ep.secrets))
        .with_code("upstream_unreachable")
}

/// The innermost cause of a reqwest error, without the URL (which may carry
/// a credential in its query).
fn root_cause(err: &reqwest::Error) -> String {
    let mut source: Option<&dyn std::error::Error> = err.source();
    let mut last = None;
    while let Some(s) = source {
        last = Some(s.to_string());
        source = s.source();
    }
    last.unwrap_or_else(|| {
        // `without_url` needs ownership; the Display of the kind is enough.
        if err.is_body() {
            "the connection broke while reading the response".to_owned()
        } else if err.is_request() {
            "the request could not be sent".to_owned()
        } else {
            "unknown network error".to_owned()
        }
    })
    .to_lowercase()
}

pub fn first_byte_timeout(ep: &Endpoint) -> GatewayError {
    GatewayError::new(
        ErrorKind::Timeout,
        format!(
            "endpoint `{}` sent no response within {} (first_byte timeout); raise `timeouts.first_byte` if the model is slow to start",
            ep.name,
            fmt_duration(ep.timeouts.first_byte.0)
        ),
    )
    .with_code("upstream_timeout")
}

pub fn idle_timeout(ep: &Endpoint) -> GatewayError {
    GatewayError::new(
        ErrorKind::Timeout,
        format!(
            "endpoint `{}` went silent for {} in the middle of its response (idle timeout); raise `timeouts.idle` if the model pauses that long",
            ep.name,
            fmt_duration(ep.timeouts.idle.0)
        ),
    )
    .with_code("upstream_timeout")
}

/// A streamed event past the SSE decoder's limit, in a stream being
/// translated: ending the stream is better than a silently shorter answer.
/// `limit` is the decoder's (`SseDecoder::limit`).
pub fn stream_event_too_large(ep: &Endpoint, limit: usize) -> GatewayError {
    GatewayError::new(
        ErrorKind::Upstream,
        format!(
            "endpoint `{}` sent a stream event larger than {}, the most modelgate holds for one event; the stream was stopped. Ask for less output, or use a client that speaks the endpoint's own API (its streams are passed through unread)",
            ep.name,
            crate::body::fmt_size(limit)
        ),
    )
    .with_code("stream_too_large")
}

/// The connection broke while the response body was arriving.
pub fn body_error(ep: &Endpoint, err: &reqwest::Error) -> GatewayError {
    let message = format!(
        "endpoint `{}` broke off its response: {}",
        ep.name,
        root_cause(err)
    );
    GatewayError::new(ErrorKind::Upstream, scrub(&message, &ep.secrets)).with_code("upstream_error")
}

/// An error status from the endpoint, with the endpoint's own message
/// (credentials masked) and a hint where we can give one.
///
/// A 401/403 is the *endpoint's* credentials failing, not the caller's:
/// it becomes a 502 (`upstream_auth_failed`), so that SDKs do not raise
/// their "your API key is wrong" error at a caller whose key is fine.
/// A 404 gets the hint its body supports; [`explain_404`] probes the
/// server for a better one.
///
/// An error saying the prompt was refused by a content filter (Azure's
/// `code: "content_filter"`) is a 400 `invalid_request` with code
/// `content_filter`, naming the filtered categories. Azure's missing
/// deployment, unknown api-version and missing path get their own hints
/// ([`azure::explain`]).
pub fn status_error(ep: &Endpoint, status: u16, body: &[u8]) -> GatewayError {
    status_error_with(ep, status, body, None, None)
}

/// [`status_error`] for a request that named `deployment` (Azure: the
/// model id after `model_map`), so a missing deployment is named.
pub fn status_error_for(
    ep: &Endpoint,
    status: u16,
    body: &[u8],
    deployment: Option<&str>,
) -> GatewayError {
    status_error_with(ep, status, body, None, deployment)
}

/// [`status_error`] for a 404 of the chat operation, after probing the
/// server (once, a few cheap requests; see [`probe`](crate::probe)) to tell
/// a wrong base URL or spec from a missing model. `key_index` is the key
/// the 404 answered (`UpstreamResponse::key_index`), used for the probes.
///
/// No probe is made when the body already says it is about the model, or
/// for a direct endpoint (whose URL is not built by modelgate).
pub async fn explain_404(ep: &Endpoint, key_index: Option<usize>, body: &[u8]) -> GatewayError {
    let upstream = decode_upstream_error(body);
    // Azure's 404s say what is missing; its layout is not probed.
    if ep.direct || ep.azure.is_some() || ep.vertex.is_some() || is_about_model(&upstream) {
        return status_error_with(ep, 404, body, None, None);
    }
    let key = key_index.and_then(|i| ep.keys.get(i));
    let found = probe::diagnose(ep, key, is_route_miss(&upstream, body)).await;
    status_error_with(ep, 404, body, Some(&found), None)
}

fn status_error_with(
    ep: &Endpoint,
    status: u16,
    body: &[u8],
    found: Option<&RouteDiagnosis>,
    deployment: Option<&str>,
) -> GatewayError {
    let upstream = decode_upstream_error(body);
    let upstream_message = upstream.message.clone().or_else(|| detail_of(body));
    let said = upstream_message
        .as_deref()
        .map(|m| format!(": {m}"))
        .unwrap_or_default();
    if matches!(status, 401 | 403) {
        return auth_failed(ep, status, &said);
    }
    if let Some(categories) = prompt_filter_of(body) {
        return prompt_filtered(ep, status, &categories);
    }
    if let Some(azure) = &ep.azure
        && let Some(err) = azure::explain(ep, azure, status, &upstream, deployment)
    {
        return err;
    }
    let mut message = format!("endpoint `{}` answered HTTP {status}{said}", ep.name);
    if let (404, Some(vertex)) = (status, &ep.vertex) {
        message.push_str(&crate::vertex::not_found_hint(vertex));
    }
    let kind = match status {
        400 | 409 | 413 | 415 | 422 => ErrorKind::InvalidRequest,
        404 => ErrorKind::NotFound,
        408 | 504 => ErrorKind::Timeout,
        429 => ErrorKind::RateLimited,
        529 => ErrorKind::Overloaded,
        _ if status >= 500 => ErrorKind::Upstream,
        _ => ErrorKind::InvalidRequest,
    };
    if status == 404 && ep.vertex.is_none() {
        message.push_str(&not_found_hint(ep, &upstream, body, found));
    }
    // Anthropic names the kind itself (billing_error, request_too_large…).
    let kind = match (ep.spec, upstream.kind.as_deref()) {
        (Spec::Anthropic, Some(t)) if t.ends_with("_error") || t == "request_too_large" => {
            modelgate_protocol::spec::anthropic::error::kind_of(t)
        }
        _ => kind,
    };
    let mut err = GatewayError::new(kind, scrub(&message, &ep.secrets)).with_status(status);
    err.code = upstream.code.or_else(|| Some("upstream_error".to_owned()));
    err
}

/// A content filter refused the prompt: the caller's request is what has to
/// change, so it is a 400-class error (the status the endpoint gave).
fn prompt_filtered(ep: &Endpoint, status: u16, categories: &[String]) -> GatewayError {
    let whose = if ep.azure.is_some() {
        "Azure's content filter"
    } else {
        "its content filter"
    };
    let why = if categories.is_empty() {
        String::new()
    } else {
        format!(" (categories: {})", categories.join(", "))
    };
    let message = format!(
        "endpoint `{}` refused the prompt: it was filtered by {whose}{why}. Rephrase the request; the filter's settings belong to the resource's owner",
        ep.name
    );
    let status = if (400..500).contains(&status) {
        status
    } else {
        400
    };
    GatewayError::new(ErrorKind::InvalidRequest, scrub(&message, &ep.secrets))
        .with_status(status)
        .with_code("content_filter")
        .with_param("prompt")
}

/// The endpoint refused its own credentials (or their absence).
fn auth_failed(ep: &Endpoint, status: u16, said: &str) -> GatewayError {
    let at = ep.authority();
    let message = if let Some(vertex) = &ep.vertex {
        format!(
            "Vertex AI at {at} refused the request of endpoint `{}` (HTTP {status}{said}): {}",
            ep.name,
            crate::vertex::auth_hint(vertex, status)
        )
    } else if let Some(azure) = &ep.azure {
        let missing = if ep.keys.is_empty() {
            format!(
                "; endpoint `{}` has no key: add one with `modelgate endpoints update {} --api-key …`",
                ep.name, ep.name
            )
        } else {
            String::new()
        };
        format!(
            "the server at {at} refused the credentials of endpoint `{}` (HTTP {status}{said}): {}{missing}",
            ep.name,
            azure::auth_hint(ep, azure)
        )
    } else if ep.keys.is_empty() {
        format!(
            "endpoint `{}` has no API key configured and the server at {at} refused the request (HTTP {status}{said}): add one with `modelgate endpoints update {} --api-key …`",
            ep.name, ep.name
        )
    } else {
        format!(
            "the server at {at} refused the credentials of endpoint `{}` (HTTP {status}{said}): check them with `modelgate endpoints test {}`",
            ep.name, ep.name
        )
    };
    GatewayError::new(ErrorKind::Upstream, scrub(&message, &ep.secrets))
        .with_code("upstream_auth_failed")
}

/// FastAPI's `{"detail": "Not Found"}` (vLLM, TGI, LocalAI, many proxies),
/// which the OpenAI-style decoder does not read.
fn detail_of(body: &[u8]) -> Option<String> {
    #[derive(serde::Deserialize)]
    struct Detail {
        detail: String,
    }
    serde_json::from_slice::<Detail>(body)
        .ok()
        .map(|d| d.detail)
        .filter(|d| !d.is_empty())
}

pub(crate) fn is_about_model(upstream: &UpstreamErrorBody) -> bool {
    upstream.code.as_deref() == Some("model_not_found")
        || upstream
            .message
            .as_deref()
            .is_some_and(|m| m.to_lowercase().contains("model"))
}

/// The 404 is the web framework's "no such route", not the API's "no such
/// thing": a body that is not a JSON object (Go's `404 page not found`,
/// an HTML page, nothing), FastAPI's `{"detail":"Not Found"}`, or an
/// envelope that says only "not found" / Express's `Cannot POST /…`.
pub(crate) fn is_route_miss(upstream: &UpstreamErrorBody, body: &[u8]) -> bool {
    let structured = serde_json::from_slice::<serde_json::Value>(body).is_ok_and(|v| v.is_object());
    if !structured {
        return true;
    }
    let said = upstream.message.clone().or_else(|| detail_of(body));
    said.is_some_and(|m| {
        let m = m.trim().trim_end_matches('.').to_lowercase();
        matches!(
            m.as_str(),
            "not found" | "404 not found" | "404 page not found" | "not_found"
        ) || m.starts_with("cannot post")
            || m.starts_with("no route")
    })
}

/// What to do about a 404, from the body and, when the server was probed,
/// from what the probes found.
fn not_found_hint(
    ep: &Endpoint,
    upstream: &UpstreamErrorBody,
    body: &[u8],
    found: Option<&RouteDiagnosis>,
) -> String {
    if is_about_model(upstream) {
        return ". Check the model id: `modelgate models` lists what the endpoint offers"
            .to_owned();
    }
    let route_miss = is_route_miss(upstream, body);
    match found {
        Some(RouteDiagnosis::LacksV1 { base_url }) => {
            return format!(
                ". The base URL `{}` lacks `/v1`: the server answers below `{}`; set `base_url` to it",
                ep.display_url(),
                redact_url(base_url)
            );
        }
        Some(RouteDiagnosis::OtherSpec { spec, base_url }) => {
            return format!(
                ". The server does not serve `/{}` (spec `{}`); it looks like `{spec}` (base URL `{}`): change the endpoint's spec and base URL, then check with `modelgate endpoints test {}`",
                crate::auth::path(ep.spec, crate::auth::Operation::Chat),
                ep.spec,
                redact_url(base_url),
                ep.name
            );
        }
        Some(RouteDiagnosis::BaseServes) if route_miss => {
            return format!(
                ". The server lists models at `{}` but has no `/{}`: check that it speaks `{}` (`modelgate endpoints test {}` checks)",
                redact_url(&ep.url(crate::auth::Operation::Models)),
                crate::auth::path(ep.spec, crate::auth::Operation::Chat),
                ep.spec,
                ep.name
            );
        }
        Some(RouteDiagnosis::BaseServes) => {
            return ". The base URL is right (the server lists its models there): check the model id, `modelgate models` lists what the endpoint offers".to_owned();
        }
        Some(RouteDiagnosis::Unknown) | None => {}
    }
    if !route_miss {
        ". Check the model id and the endpoint's documentation for this path".to_owned()
    } else if ep.direct {
        ". Check the URL: with `direct_endpoint: true` the base URL must be the full operation URL"
            .to_owned()
    } else if ep.spec == Spec::Anthropic {
        format!(
            ". The base URL `{}` should be the API host (e.g. https://api.anthropic.com): modelgate adds `/v1/messages`",
            ep.display_url()
        )
    } else {
        format!(
            ". The base URL `{}` may lack `/v1`: OpenAI-compatible servers usually serve `…/v1/chat/completions`",
            ep.display_url()
        )
    }
}

pub fn fmt_duration(d: Duration) -> String {
    if d.as_millis() < 1000 {
        format!("{}ms", d.as_millis())
    } else if d.subsec_millis() == 0 {
        format!("{}s", d.as_secs())
    } else {
        format!("{:.1}s", d.as_secs_f64())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
#[path = "errors_tests.rs"]
mod tests;
