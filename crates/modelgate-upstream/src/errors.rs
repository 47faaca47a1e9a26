//! Turning what went wrong upstream into errors that say what to do.

use std::error::Error as _;
use std::time::Duration;

use modelgate_protocol::secret::scrub;
use modelgate_protocol::spec::openai_chat::error::decode_upstream_error;
use modelgate_protocol::{ErrorKind, GatewayError};

use crate::endpoint::Endpoint;

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
        format!(
            "could not resolve the host of endpoint `{}` ({at}): {cause}. Check the base URL",
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
pub fn status_error(ep: &Endpoint, status: u16, body: &[u8]) -> GatewayError {
    let upstream = decode_upstream_error(body);
    let said = upstream
        .message
        .as_deref()
        .map(|m| format!(": {}", scrub(m, &ep.secrets)))
        .unwrap_or_default();
    let mut message = format!("endpoint `{}` answered HTTP {status}{said}", ep.name);
    let kind = match status {
        400 | 409 | 413 | 415 | 422 => ErrorKind::InvalidRequest,
        401 => ErrorKind::Authentication,
        403 => ErrorKind::PermissionDenied,
        404 => ErrorKind::NotFound,
        408 | 504 => ErrorKind::Timeout,
        429 => ErrorKind::RateLimited,
        529 => ErrorKind::Overloaded,
        _ if status >= 500 => ErrorKind::Upstream,
        _ => ErrorKind::InvalidRequest,
    };
    if status == 404 {
        // A server that answered with its own JSON error understood the
        // path; only a bare 404 (HTML, text) suggests a wrong base URL.
        let structured =
            serde_json::from_slice::<serde_json::Value>(body).is_ok_and(|v| v.is_object());
        let about_model = upstream.code.as_deref() == Some("model_not_found")
            || upstream
                .message
                .as_deref()
                .is_some_and(|m| m.to_lowercase().contains("model"));
        if about_model {
            message.push_str(
                ". Check the model id: `modelgate models` lists what the endpoint offers",
            );
        } else if structured {
            message.push_str(". Check the model id and the endpoint's documentation for this path");
        } else if ep.direct {
            message.push_str(". Check the URL: with `direct_endpoint: true` the base URL must be the full operation URL");
        } else if ep.spec == modelgate_protocol::Spec::Anthropic {
            message.push_str(&format!(
                ". The base URL `{}` should be the API host (e.g. https://api.anthropic.com): modelgate adds `/v1/messages`",
                ep.display_url()
            ));
        } else {
            message.push_str(&format!(
                ". The base URL `{}` may lack `/v1`: OpenAI-compatible servers usually serve `…/v1/chat/completions`",
                ep.display_url()
            ));
        }
    }
    // Anthropic names the kind itself (billing_error, request_too_large…).
    let kind = match (ep.spec, upstream.kind.as_deref()) {
        (modelgate_protocol::Spec::Anthropic, Some(t))
            if t.ends_with("_error") || t == "request_too_large" =>
        {
            modelgate_protocol::spec::anthropic::error::kind_of(t)
        }
        _ => kind,
    };
    let mut err = GatewayError::new(kind, message).with_status(status);
    err.code = upstream.code.or_else(|| Some("upstream_error".to_owned()));
    err
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
