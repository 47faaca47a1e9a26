//! OpenAI error envelopes: `{"error": {"message", "type", "param", "code"}}`.

use serde::{Deserialize, Serialize};

use crate::ir::{ErrorKind, GatewayError};

#[derive(Debug, Serialize, Deserialize)]
struct Envelope<T> {
    error: T,
}

#[derive(Debug, Serialize)]
struct ErrorBody<'a> {
    message: &'a str,
    #[serde(rename = "type")]
    kind: &'a str,
    param: Option<&'a str>,
    code: Option<&'a str>,
}

/// The `type` the OpenAI API (and so its SDKs) use for each kind.
pub fn error_type(kind: ErrorKind) -> &'static str {
    match kind {
        ErrorKind::InvalidRequest | ErrorKind::NotFound | ErrorKind::NotSupported => {
            "invalid_request_error"
        }
        ErrorKind::Authentication => "authentication_error",
        ErrorKind::PermissionDenied => "permission_error",
        ErrorKind::RateLimited => "rate_limit_error",
        ErrorKind::Timeout => "timeout_error",
        ErrorKind::UpstreamUnreachable
        | ErrorKind::Upstream
        | ErrorKind::Overloaded
        | ErrorKind::Internal => "server_error",
    }
}

/// Serializes an error as the OpenAI API would send it.
pub fn encode_error(err: &GatewayError) -> Vec<u8> {
    let body = Envelope {
        error: ErrorBody {
            message: &err.message,
            kind: error_type(err.kind),
            param: err.param.as_deref(),
            code: err.code.as_deref(),
        },
    };
    serde_json::to_vec(&body).unwrap_or_else(|_| b"{\"error\":{}}".to_vec())
}

/// What an upstream's error body said, read defensively: OpenAI's envelope,
/// vLLM's top-level `{"object":"error","message":..}`, or plain text.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UpstreamErrorBody {
    pub message: Option<String>,
    pub kind: Option<String>,
    pub code: Option<String>,
}

#[derive(Deserialize)]
struct LooseError {
    message: Option<serde_json::Value>,
    #[serde(rename = "type")]
    kind: Option<serde_json::Value>,
    code: Option<serde_json::Value>,
}

#[derive(Deserialize)]
struct LooseEnvelope {
    error: Option<serde_json::Value>,
    message: Option<serde_json::Value>,
    #[serde(rename = "type")]
    kind: Option<serde_json::Value>,
    code: Option<serde_json::Value>,
}

fn as_text(v: Option<serde_json::Value>) -> Option<String> {
    match v? {
        serde_json::Value::String(s) if !s.is_empty() => Some(s),
        serde_json::Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// Reads whatever error an upstream sent. Never fails: an unreadable body
/// gives its first line of text (trimmed) as the message.
pub fn decode_upstream_error(body: &[u8]) -> UpstreamErrorBody {
    if let Ok(env) = serde_json::from_slice::<LooseEnvelope>(body) {
        match env.error {
            Some(serde_json::Value::String(message)) => {
                return UpstreamErrorBody {
                    message: Some(message),
                    ..Default::default()
                };
            }
            Some(obj @ serde_json::Value::Object(_)) => {
                if let Ok(inner) = serde_json::from_value::<LooseError>(obj) {
                    return UpstreamErrorBody {
                        message: as_text(inner.message),
                        kind: as_text(inner.kind),
                        code: as_text(inner.code),
                    };
                }
            }
            _ => {}
        }
        return UpstreamErrorBody {
            message: as_text(env.message),
            kind: as_text(env.kind),
            code: as_text(env.code),
        };
    }
    let text = String::from_utf8_lossy(body);
    let first = text.lines().map(str::trim).find(|l| !l.is_empty());
    UpstreamErrorBody {
        message: first.map(|l| l.chars().take(300).collect()),
        ..Default::default()
    }
}

/// Azure's refusal of a prompt by its content filter: an error with
/// `code: "content_filter"` (or `innererror.code:
/// "ResponsibleAIPolicyViolation"`). Gives the filtered categories of
/// `innererror.content_filter_result` (see
/// [`filtered_categories`](super::wire::filtered_categories)), or `None`
/// when the body is no such error.
pub fn prompt_filter_of(body: &[u8]) -> Option<Vec<String>> {
    let value: serde_json::Value = serde_json::from_slice(body).ok()?;
    let error = value.get("error")?;
    let inner = error.get("innererror");
    let code = |v: Option<&serde_json::Value>| {
        v.and_then(|v| v.get("code"))
            .and_then(serde_json::Value::as_str)
            .map(str::to_owned)
    };
    let filtered = code(Some(error)).as_deref() == Some("content_filter")
        || code(inner).as_deref() == Some("ResponsibleAIPolicyViolation");
    if !filtered {
        return None;
    }
    let results = inner.and_then(|i| {
        i.get("content_filter_result")
            .or_else(|| i.get("content_filter_results"))
    });
    Some(
        results
            .map(super::wire::filtered_categories)
            .unwrap_or_default(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_azure_prompt_filter_errors() {
        let body = br#"{"error":{"message":"The response was filtered due to the prompt triggering Azure OpenAI's content management policy.","type":null,"param":"prompt","code":"content_filter","status":400,
            "innererror":{"code":"ResponsibleAIPolicyViolation","content_filter_result":{
              "hate":{"filtered":true,"severity":"high"},"self_harm":{"filtered":false,"severity":"safe"},
              "custom_blocklists":[{"filtered":true,"id":"myBlocklist"}]}}}}"#;
        assert_eq!(
            prompt_filter_of(body),
            Some(vec![
                "blocklist myBlocklist".to_owned(),
                "hate (high)".to_owned()
            ])
        );
        let bare = br#"{"error":{"message":"filtered","code":"content_filter"}}"#;
        assert_eq!(prompt_filter_of(bare), Some(vec![]));
        let other = br#"{"error":{"message":"bad","code":"invalid_value"}}"#;
        assert_eq!(prompt_filter_of(other), None);
        assert_eq!(prompt_filter_of(b"not json"), None);
    }

    #[test]
    fn encodes_the_openai_envelope() {
        let err = GatewayError::not_found("no such model").with_code("model_not_found");
        let v: serde_json::Value = serde_json::from_slice(&encode_error(&err)).unwrap();
        assert_eq!(v["error"]["message"], "no such model");
        assert_eq!(v["error"]["type"], "invalid_request_error");
        assert_eq!(v["error"]["code"], "model_not_found");
        assert!(v["error"]["param"].is_null());
    }

    #[test]
    fn decodes_openai_vllm_and_text_errors() {
        let openai = decode_upstream_error(
            br#"{"error":{"message":"bad key","type":"invalid_request_error","code":"invalid_api_key"}}"#,
        );
        assert_eq!(openai.message.as_deref(), Some("bad key"));
        assert_eq!(openai.code.as_deref(), Some("invalid_api_key"));

        let vllm = decode_upstream_error(
            br#"{"object":"error","message":"oops","type":"BadRequestError","code":400}"#,
        );
        assert_eq!(vllm.message.as_deref(), Some("oops"));
        assert_eq!(vllm.code.as_deref(), Some("400"));

        let text = decode_upstream_error(b"\n404 page not found\n");
        assert_eq!(text.message.as_deref(), Some("404 page not found"));

        let bare = decode_upstream_error(br#"{"error":"model not loaded"}"#);
        assert_eq!(bare.message.as_deref(), Some("model not loaded"));
    }
}
