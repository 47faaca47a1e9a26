//! Google error envelopes: `{"error": {"code", "message", "status"}}`.
//!
//! `code` is the HTTP status, `status` Google's canonical status name
//! (`INVALID_ARGUMENT`, `RESOURCE_EXHAUSTED`, …). Google sometimes wraps
//! the envelope in a one-element array (`[{"error": …}]`, e.g. from
//! `streamGenerateContent` without `alt=sse`); [`decode_error`] reads both.

use serde_json::{Value, json};

use crate::ir::{ErrorKind, GatewayError};

/// Google's status name for an HTTP status (the canonical gRPC ↔ HTTP
/// mapping; other 4xx read as `INVALID_ARGUMENT`, other 5xx as `INTERNAL`).
pub fn status_name(http: u16) -> &'static str {
    match http {
        401 => "UNAUTHENTICATED",
        403 => "PERMISSION_DENIED",
        404 => "NOT_FOUND",
        409 => "ABORTED",
        412 => "FAILED_PRECONDITION",
        429 => "RESOURCE_EXHAUSTED",
        499 => "CANCELLED",
        501 => "UNIMPLEMENTED",
        // 502 (bad gateway) and Anthropic's 529 (overloaded) are both
        // "try again later" to a Google client.
        502 | 503 | 529 => "UNAVAILABLE",
        504 => "DEADLINE_EXCEEDED",
        // 400 and 500 included.
        400..=499 => "INVALID_ARGUMENT",
        500..=599 => "INTERNAL",
        _ => "UNKNOWN",
    }
}

/// The status name a Google client sees for an error: by its kind where
/// the kind says more than the HTTP status, else by the status.
fn status_of(err: &GatewayError) -> &'static str {
    match err.kind {
        ErrorKind::Authentication => "UNAUTHENTICATED",
        ErrorKind::PermissionDenied => "PERMISSION_DENIED",
        ErrorKind::NotFound => "NOT_FOUND",
        ErrorKind::RateLimited => "RESOURCE_EXHAUSTED",
        ErrorKind::Timeout => "DEADLINE_EXCEEDED",
        ErrorKind::Overloaded | ErrorKind::UpstreamUnreachable => "UNAVAILABLE",
        ErrorKind::NotSupported => "UNIMPLEMENTED",
        ErrorKind::InvalidRequest | ErrorKind::Upstream | ErrorKind::Internal => {
            status_name(err.status)
        }
    }
}

/// The kind a Google status name stands for.
fn kind_of_status(status: &str) -> Option<ErrorKind> {
    Some(match status {
        "INVALID_ARGUMENT" | "FAILED_PRECONDITION" | "OUT_OF_RANGE" => ErrorKind::InvalidRequest,
        "UNAUTHENTICATED" => ErrorKind::Authentication,
        "PERMISSION_DENIED" => ErrorKind::PermissionDenied,
        "NOT_FOUND" => ErrorKind::NotFound,
        "RESOURCE_EXHAUSTED" => ErrorKind::RateLimited,
        "DEADLINE_EXCEEDED" => ErrorKind::Timeout,
        "UNAVAILABLE" => ErrorKind::Overloaded,
        "INTERNAL" | "UNKNOWN" | "UNIMPLEMENTED" | "ABORTED" | "CANCELLED" | "DATA_LOSS" => {
            ErrorKind::Upstream
        }
        _ => return None,
    })
}

/// The kind an HTTP status stands for, when the envelope names no known status.
fn kind_of_code(code: u64) -> ErrorKind {
    match code {
        400 | 409 | 412 | 413 | 422 => ErrorKind::InvalidRequest,
        401 => ErrorKind::Authentication,
        403 => ErrorKind::PermissionDenied,
        404 => ErrorKind::NotFound,
        429 => ErrorKind::RateLimited,
        503 => ErrorKind::Overloaded,
        504 => ErrorKind::Timeout,
        _ => ErrorKind::Upstream,
    }
}

/// Reads a Google error body: the kind, the message (as sent, possibly
/// empty) and the `status` name when there is one. A bad API key is a 400
/// `INVALID_ARGUMENT` with reason `API_KEY_INVALID` at Google: it reads as
/// [`ErrorKind::Authentication`]. `None` for anything that is not the
/// envelope, so a caller can fall back to the HTTP status.
pub fn decode_error(body: &[u8]) -> Option<(ErrorKind, String, Option<String>)> {
    let value: Value = serde_json::from_slice(body).ok()?;
    let (kind, message, status) = read_envelope(&value)?;
    Some((kind?, message, status))
}

/// The envelope in `value` (also inside a one-element array): its kind
/// when the status, the code or the reason says one, its message and its
/// `status` name. The one reader of Google's errors, for bodies and for
/// error chunks in a stream (`wire::error_of`).
pub(crate) fn read_envelope(value: &Value) -> Option<(Option<ErrorKind>, String, Option<String>)> {
    let envelope = match value {
        Value::Array(items) => items.first()?,
        other => other,
    };
    let error = envelope.get("error")?.as_object()?;
    let message = error
        .get("message")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    let status = error
        .get("status")
        .and_then(Value::as_str)
        .map(str::to_owned);
    let code = error.get("code").and_then(Value::as_u64);
    let key_invalid = error
        .get("details")
        .and_then(Value::as_array)
        .is_some_and(|details| {
            details
                .iter()
                .any(|d| d.get("reason").and_then(Value::as_str) == Some("API_KEY_INVALID"))
        });
    let kind = if key_invalid {
        Some(ErrorKind::Authentication)
    } else {
        status
            .as_deref()
            .and_then(kind_of_status)
            .or_else(|| code.map(kind_of_code))
    };
    Some((kind, message, status))
}

/// Serializes an error as the Gemini API would send it.
pub fn encode_error(err: &GatewayError) -> Vec<u8> {
    let body = json!({"error": {
        "code": err.status,
        "message": err.message,
        "status": status_of(err),
    }});
    body.to_string().into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn encoded(err: &GatewayError) -> Value {
        serde_json::from_slice(&encode_error(err)).unwrap_or_default()
    }

    #[test]
    fn status_names_follow_googles_table() {
        for (http, name) in [
            (400, "INVALID_ARGUMENT"),
            (401, "UNAUTHENTICATED"),
            (403, "PERMISSION_DENIED"),
            (404, "NOT_FOUND"),
            (409, "ABORTED"),
            (413, "INVALID_ARGUMENT"),
            (429, "RESOURCE_EXHAUSTED"),
            (500, "INTERNAL"),
            (501, "UNIMPLEMENTED"),
            (502, "UNAVAILABLE"),
            (503, "UNAVAILABLE"),
            (504, "DEADLINE_EXCEEDED"),
            (529, "UNAVAILABLE"),
            (599, "INTERNAL"),
            (200, "UNKNOWN"),
        ] {
            assert_eq!(status_name(http), name, "{http}");
        }
    }

    #[test]
    fn encode_uses_the_kind_then_the_status() {
        let bad = GatewayError::invalid_request("contents[0]: field required");
        assert_eq!(
            encoded(&bad),
            json!({"error": {"code": 400, "message": "contents[0]: field required", "status": "INVALID_ARGUMENT"}})
        );
        let overloaded = GatewayError::new(ErrorKind::Overloaded, "busy");
        assert_eq!(encoded(&overloaded)["error"]["status"], "UNAVAILABLE");
        assert_eq!(encoded(&overloaded)["error"]["code"], 529);
        let slow = GatewayError::new(ErrorKind::Timeout, "slow");
        assert_eq!(encoded(&slow)["error"]["status"], "DEADLINE_EXCEEDED");
        let limited = GatewayError::new(ErrorKind::RateLimited, "slow down");
        assert_eq!(encoded(&limited)["error"]["status"], "RESOURCE_EXHAUSTED");
        let missing = GatewayError::not_found("no such model");
        assert_eq!(encoded(&missing)["error"]["status"], "NOT_FOUND");
        let todo = GatewayError::new(ErrorKind::NotSupported, "later");
        assert_eq!(encoded(&todo)["error"]["status"], "UNIMPLEMENTED");
        let upstream = GatewayError::new(ErrorKind::Upstream, "boom").with_status(503);
        assert_eq!(encoded(&upstream)["error"]["status"], "UNAVAILABLE");
        let internal = GatewayError::internal("bug");
        assert_eq!(encoded(&internal)["error"]["status"], "INTERNAL");
    }

    #[test]
    fn decode_reads_the_envelope_and_its_array_form() {
        let body =
            br#"{"error":{"code":429,"message":"Quota exceeded","status":"RESOURCE_EXHAUSTED"}}"#;
        assert_eq!(
            decode_error(body),
            Some((
                ErrorKind::RateLimited,
                "Quota exceeded".to_owned(),
                Some("RESOURCE_EXHAUSTED".to_owned())
            ))
        );
        let wrapped = br#"[{"error":{"code":503,"message":"overloaded","status":"UNAVAILABLE"}}]"#;
        assert_eq!(
            decode_error(wrapped).map(|(k, m, _)| (k, m)),
            Some((ErrorKind::Overloaded, "overloaded".to_owned()))
        );
        let key = br#"{"error":{"code":400,"message":"API key not valid.","status":"INVALID_ARGUMENT",
            "details":[{"@type":"type.googleapis.com/google.rpc.ErrorInfo","reason":"API_KEY_INVALID"}]}}"#;
        assert_eq!(
            decode_error(key).map(|(k, ..)| k),
            Some(ErrorKind::Authentication)
        );
        let code_only = br#"{"error":{"code":404,"message":"models/x is not found"}}"#;
        assert_eq!(
            decode_error(code_only),
            Some((
                ErrorKind::NotFound,
                "models/x is not found".to_owned(),
                None
            ))
        );
        let bad = br#"{"error":{"code":400,"message":"bad","status":"INVALID_ARGUMENT"}}"#;
        assert_eq!(
            decode_error(bad).map(|(k, ..)| k),
            Some(ErrorKind::InvalidRequest)
        );
        assert_eq!(decode_error(b"not json"), None);
        assert_eq!(decode_error(br#"{"message":"x"}"#), None);
        assert_eq!(decode_error(b"[]"), None);
        assert_eq!(decode_error(br#"{"error":{"message":"x"}}"#), None);
    }

    #[test]
    fn encoded_errors_decode_back() {
        for err in [
            GatewayError::invalid_request("x"),
            GatewayError::new(ErrorKind::Authentication, "x"),
            GatewayError::new(ErrorKind::PermissionDenied, "x"),
            GatewayError::not_found("x"),
            GatewayError::new(ErrorKind::RateLimited, "x"),
            GatewayError::new(ErrorKind::Timeout, "x"),
            GatewayError::new(ErrorKind::Overloaded, "x"),
        ] {
            let (kind, message, _) = decode_error(&encode_error(&err)).unwrap_or_else(|| {
                panic!("{err:?} did not decode");
            });
            assert_eq!((kind, message.as_str()), (err.kind, "x"));
        }
    }
}
