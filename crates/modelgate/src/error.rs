//! How a failed command reports itself.
//!
//! Text mode: `error: MESSAGE (CODE)` on standard error. JSON mode (`--json`):
//! `{"error": {"message": ..., "code": ..., "type": ..., "status": ...}}` on
//! **standard output**, so a script reading stdout always gets JSON, the
//! result or the error, and `chat --json`'s error is the last of its JSON
//! lines. Either way the exit code is non-zero.

use std::fmt;

use serde_json::{Map, Value, json};

/// An error with what the server said about it: its code (`invalid_api_key`,
/// `stream_truncated`, …), type and HTTP status, when known.
#[derive(Debug, Clone, Default)]
pub struct CliError {
    pub message: String,
    pub code: Option<String>,
    pub kind: Option<String>,
    pub status: Option<u16>,
}

impl CliError {
    pub fn new(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            ..Self::default()
        }
    }

    pub fn with_code(mut self, code: &str) -> Self {
        self.code = Some(code.to_owned());
        self
    }

    /// The error of an OpenAI-shaped body (`{"error": {"message", "type",
    /// "code"}}`) or of an error event; `None` when `body` is not one.
    pub fn from_error_body(body: &Value) -> Option<Self> {
        let error = body.get("error")?;
        let text = |field: &str| error.get(field).and_then(Value::as_str).map(str::to_owned);
        Some(Self {
            message: text("message")
                .or_else(|| error.as_str().map(str::to_owned))
                .unwrap_or_else(|| "the server reported an error without a message".to_owned()),
            code: text("code"),
            kind: text("type"),
            status: None,
        })
    }

    /// The error of a non-2xx answer.
    pub fn from_reply(status: u16, body: &Value) -> Self {
        let mut error = Self::from_error_body(body)
            .unwrap_or_else(|| Self::new(format!("the server answered HTTP {status}")));
        error.status = Some(status);
        error
    }

    /// Adds what to do to the message.
    pub fn with_hint(mut self, hint: &str) -> Self {
        self.message = format!("{}. {hint}", self.message.trim_end_matches('.'));
        self
    }

    fn to_json(&self, message: String) -> Value {
        let mut error = Map::new();
        error.insert("message".into(), json!(message));
        if let Some(code) = &self.code {
            error.insert("code".into(), json!(code));
        }
        if let Some(kind) = &self.kind {
            error.insert("type".into(), json!(kind));
        }
        if let Some(status) = self.status {
            error.insert("status".into(), json!(status));
        }
        json!({ "error": error })
    }
}

impl fmt::Display for CliError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for CliError {}

/// Prints a command's failure, as text on stderr or JSON on stdout.
pub fn report(error: &anyhow::Error, json: bool) {
    // `{:#}` keeps the context chain: "cannot read X: permission denied".
    let message = format!("{error:#}");
    let details = error
        .downcast_ref::<CliError>()
        .cloned()
        .unwrap_or_default();
    if json {
        println!("{}", details.to_json(message));
    } else {
        match &details.code {
            Some(code) if !message.contains(code.as_str()) => {
                eprintln!("error: {message} ({code})");
            }
            _ => eprintln!("error: {message}"),
        }
    }
}

/// A usage error from the argument parser, as JSON (`--json` was asked).
pub fn usage_json(message: &str) -> Value {
    CliError::new(message)
        .with_code("usage")
        .to_json(message.to_owned())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn reads_openai_error_bodies() {
        let e = CliError::from_reply(
            401,
            &json!({"error": {"message": "no key", "type": "authentication_error", "code": "invalid_api_key"}}),
        );
        assert_eq!(e.message, "no key");
        assert_eq!(e.code.as_deref(), Some("invalid_api_key"));
        assert_eq!(e.status, Some(401));
        let v = e.to_json(e.message.clone());
        assert_eq!(v["error"]["type"], "authentication_error");
        assert_eq!(v["error"]["status"], 401);
    }

    #[test]
    fn a_body_that_is_no_error_says_the_status() {
        let e = CliError::from_reply(502, &json!("<html>"));
        assert_eq!(e.message, "the server answered HTTP 502");
        assert!(e.code.is_none());
    }

    #[test]
    fn hints_follow_the_message() {
        let e = CliError::new("the key is wrong.").with_hint("pass --gateway-key");
        assert_eq!(e.message, "the key is wrong. pass --gateway-key");
    }

    #[test]
    fn context_keeps_the_details() {
        let e = anyhow::Error::from(CliError::new("inner").with_code("c")).context("outer");
        assert_eq!(
            e.downcast_ref::<CliError>().unwrap().code.as_deref(),
            Some("c")
        );
        assert_eq!(format!("{e:#}"), "outer: inner");
    }
}
