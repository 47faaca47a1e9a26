//! Anthropic error envelopes: `{"type":"error","error":{"type","message"}}`.

use serde::{Deserialize, Serialize};

use super::wire::WireError;
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

#[derive(Deserialize)]
struct WireEnvelope {
    #[serde(rename = "type")]
    kind: String,
    error: WireError,
}

/// Reads an Anthropic error body, `{"type":"error","error":{"type","message"}}`:
/// the kind its `error.type` stands for ([`kind_of`]) and its message (as
/// sent, possibly empty). `None` for anything else — not JSON, not that
/// envelope — so that a caller can fall back to its own reading of the
/// status.
pub fn decode_error(body: &[u8]) -> Option<(ErrorKind, String)> {
    let envelope: WireEnvelope = serde_json::from_slice(body).ok()?;
    (envelope.kind == "error").then(|| (kind_of(&envelope.error.kind), envelope.error.message))
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
    fn decodes_anthropic_error_bodies() {
        let body = br#"{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"},"request_id":"req_1"}"#;
        assert_eq!(
            decode_error(body),
            Some((ErrorKind::Overloaded, "Overloaded".to_owned()))
        );
        let body = br#"{"type":"error","error":{"type":"rate_limit_error","message":"slow down"}}"#;
        assert_eq!(
            decode_error(body),
            Some((ErrorKind::RateLimited, "slow down".to_owned()))
        );
        let body = br#"{"type":"error","error":{"type":"billing_error","message":"pay"}}"#;
        assert_eq!(
            decode_error(body).map(|e| e.0),
            Some(ErrorKind::PermissionDenied)
        );
        // An unknown type is the upstream's own failure; a missing message is empty.
        let body = br#"{"type":"error","error":{"type":"brand_new_error"}}"#;
        assert_eq!(
            decode_error(body),
            Some((ErrorKind::Upstream, String::new()))
        );
        // What our own encoder writes reads back.
        let err = GatewayError::new(ErrorKind::NotFound, "no such model");
        assert_eq!(
            decode_error(&encode_error(&err)),
            Some((ErrorKind::NotFound, "no such model".to_owned()))
        );
        // Not the Anthropic envelope.
        for body in [
            &br#"{"error":{"message":"x","type":"invalid_request_error"}}"#[..],
            br#"{"type":"message","content":[]}"#,
            br#"{"type":"error","error":"oops"}"#,
            br#"{"type":"error"}"#,
            b"<html>502</html>",
            b"",
        ] {
            assert_eq!(
                decode_error(body),
                None,
                "{}",
                String::from_utf8_lossy(body)
            );
        }
    }

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
