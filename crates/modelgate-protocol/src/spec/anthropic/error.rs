//! Anthropic error envelopes: `{"type":"error","error":{"type","message"}}`.

use serde::Serialize;

use crate::ir::{ErrorKind, GatewayError};

/// The `error.type` Anthropic (and so its SDKs) use for each kind.
pub fn error_type(kind: ErrorKind) -> &'static str {
    match kind {
        ErrorKind::InvalidRequest | ErrorKind::NotSupported => "invalid_request_error",
        ErrorKind::Authentication => "authentication_error",
        ErrorKind::PermissionDenied => "permission_error",
        ErrorKind::NotFound => "not_found_error",
        ErrorKind::RateLimited => "rate_limit_error",
        ErrorKind::Timeout => "timeout_error",
        ErrorKind::Overloaded => "overloaded_error",
        ErrorKind::UpstreamUnreachable | ErrorKind::Upstream | ErrorKind::Internal => "api_error",
    }
}

/// The kind an Anthropic `error.type` stands for.
pub fn kind_of(error_type: &str) -> ErrorKind {
    match error_type {
        "invalid_request_error" | "request_too_large" => ErrorKind::InvalidRequest,
        "authentication_error" => ErrorKind::Authentication,
        "permission_error" | "billing_error" => ErrorKind::PermissionDenied,
        "not_found_error" => ErrorKind::NotFound,
        "rate_limit_error" => ErrorKind::RateLimited,
        "timeout_error" => ErrorKind::Timeout,
        "overloaded_error" => ErrorKind::Overloaded,
        _ => ErrorKind::Upstream,
    }
}

#[derive(Serialize)]
struct Envelope<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    error: Body<'a>,
}

#[derive(Serialize)]
struct Body<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    message: &'a str,
}

/// The error body, also the `data` of an `event: error`.
pub fn encode_error(err: &GatewayError) -> Vec<u8> {
    let envelope = Envelope {
        kind: "error",
        error: Body {
            kind: error_type(err.kind),
            message: &err.message,
        },
    };
    serde_json::to_vec(&envelope).unwrap_or_else(|_| b"{\"type\":\"error\"}".to_vec())
}

/// A whole `event: error` SSE event.
pub fn encode_error_event(err: &GatewayError) -> Vec<u8> {
    let mut out = b"event: error\ndata: ".to_vec();
    out.extend_from_slice(&encode_error(err));
    out.extend_from_slice(b"\n\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_the_anthropic_envelope() {
        let err = GatewayError::new(ErrorKind::Overloaded, "Overloaded");
        let v: serde_json::Value = serde_json::from_slice(&encode_error(&err)).unwrap();
        assert_eq!(v["type"], "error");
        assert_eq!(v["error"]["type"], "overloaded_error");
        assert_eq!(v["error"]["message"], "Overloaded");
        assert_eq!(kind_of("overloaded_error"), ErrorKind::Overloaded);
        assert!(
            String::from_utf8(encode_error_event(&err))
                .unwrap()
                .starts_with("event: error\ndata: {")
        );
    }
}
