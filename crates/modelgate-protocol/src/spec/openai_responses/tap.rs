//! Reading a Responses stream while it is forwarded untouched
//! ([`ResponsesStreamTap`]), and the usage of a non-streamed body
//! ([`usage_of_body`]).
//!
//! The twin of the other formats' taps: only the terminal events are
//! JSON-parsed (`response.completed`, `response.incomplete`,
//! `response.failed`, and the `response.done` some Codex-style backends
//! send), chosen by their `event:` name or the data's leading
//! `{"type":"…"`, so long streams of deltas cost no parsing. Usage exists
//! only in those events' `response` object.
//!
//! * `usage`: the terminal response's `usage`, in canonical terms;
//! * `finish_reason`: its `status` (`completed`, `failed`), or for an
//!   incomplete response its `incomplete_details.reason`
//!   (`max_output_tokens`, `content_filter`) when it has one;
//! * `done`: a terminal event was seen;
//! * `error`: the message of an `error` event or of a failed response.

use serde::Deserialize;
use serde_json::Value;

use super::wire::{IncompleteDetails, ResponsesUsage, event_type};
use crate::framing::sse::SseEvent;
use crate::ir::Usage;
pub use crate::tap::StreamSummary;
use crate::tap::{ReadEvent, StreamTap};

/// Watches a Responses stream for usage, status, the end and errors.
pub type ResponsesStreamTap = StreamTap<ResponsesEvents>;

/// How a Responses event feeds the summary.
#[derive(Debug)]
pub struct ResponsesEvents;

/// A terminal event: only the fields of its `response` the tap reads
/// (the output items are skipped, not built).
#[derive(Deserialize)]
struct TerminalTap {
    #[serde(default)]
    response: Option<ResponseTap>,
}

#[derive(Deserialize)]
struct ResponseTap {
    #[serde(default)]
    status: Option<String>,
    #[serde(default)]
    incomplete_details: Option<IncompleteDetails>,
    #[serde(default)]
    error: Option<Value>,
    #[serde(default)]
    usage: Option<ResponsesUsage>,
}

/// An `error` event: `{"type":"error","code","message"}` (some servers
/// nest it as `{"error":{"message"}}`).
#[derive(Deserialize)]
struct ErrorTap {
    #[serde(default)]
    message: Option<String>,
    #[serde(default)]
    error: Option<Value>,
}

/// The message of an error value, if it has a non-empty one.
fn message_of(error: &Value) -> Option<String> {
    error
        .get("message")
        .and_then(Value::as_str)
        .or_else(|| error.as_str())
        .filter(|m| !m.is_empty())
        .map(str::to_owned)
}

/// The `sequence_number` of an event's data, found without parsing it.
fn sequence_number(data: &str) -> Option<u64> {
    const KEY: &str = "\"sequence_number\":";
    let rest = data[data.find(KEY)? + KEY.len()..].trim_start();
    let end = rest
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(rest.len());
    rest[..end].parse().ok()
}

impl ReadEvent for ResponsesEvents {
    fn read(event: &SseEvent, summary: &mut StreamSummary) {
        if let Some(n) = sequence_number(&event.data) {
            summary.last_sequence = Some(n);
        }
        match event_type(event) {
            Some(
                "response.completed" | "response.incomplete" | "response.failed" | "response.done",
            ) => {
                summary.done = true;
                let Ok(tap) = serde_json::from_str::<TerminalTap>(&event.data) else {
                    return;
                };
                let Some(response) = tap.response else {
                    return;
                };
                if let Some(u) = &response.usage {
                    summary.usage = Some(Usage::from(u));
                }
                let reason = response.incomplete_details.and_then(|d| d.reason);
                let failed = response.status.as_deref() == Some("failed");
                summary.finish_reason = reason.or(response.status);
                let error = response.error.filter(|e| !e.is_null());
                if failed || error.is_some() {
                    let message = error.as_ref().and_then(message_of);
                    summary.error = Some(message.unwrap_or_else(|| "response failed".to_owned()));
                }
            }
            Some("error") => {
                let message = serde_json::from_str::<ErrorTap>(&event.data)
                    .ok()
                    .and_then(|e| {
                        e.message
                            .filter(|m| !m.is_empty())
                            .or_else(|| e.error.as_ref().and_then(message_of))
                    });
                summary.error = Some(message.unwrap_or_else(|| "stream error".to_owned()));
            }
            _ => {}
        }
    }
}

/// The usage of a non-streamed Responses body (`input_tokens` includes
/// cached tokens; the canonical counts split them out). `None` when the
/// body is not JSON or has no `usage` object.
pub fn usage_of_body(body: &[u8]) -> Option<Usage> {
    /// Only `usage`: every other field is skipped, not built.
    #[derive(Deserialize)]
    struct UsageOnly {
        #[serde(default)]
        usage: Option<ResponsesUsage>,
    }
    serde_json::from_slice::<UsageOnly>(body)
        .ok()?
        .usage
        .as_ref()
        .map(Usage::from)
}

#[cfg(test)]
mod tests {
    use super::*;

    const USAGE: &str = r#""usage":{"input_tokens":100,"input_tokens_details":{"cached_tokens":60},"output_tokens":30,"output_tokens_details":{"reasoning_tokens":12},"total_tokens":130}"#;

    fn summary_of(stream: &str) -> StreamSummary {
        let mut tap = ResponsesStreamTap::new();
        for piece in stream.as_bytes().chunks(7) {
            tap.observe(piece);
        }
        tap.finish()
    }

    #[test]
    fn remembers_the_last_sequence_number() {
        let s = summary_of(
            "event: response.created\ndata: {\"type\":\"response.created\",\"sequence_number\":0}\n\n\
             event: response.output_text.delta\ndata: {\"type\":\"response.output_text.delta\",\"sequence_number\": 41,\"delta\":\"x\"}\n\n",
        );
        assert_eq!(s.last_sequence, Some(41));
        assert_eq!(summary_of("data: {}\n\n").last_sequence, None);
        assert_eq!(sequence_number("{\"sequence_number\":\"x\"}"), None);
    }

    #[test]
    fn reads_usage_status_and_the_end() {
        let stream = format!(
            "event: response.created\ndata: {{\"type\":\"response.created\",\"response\":{{\"status\":\"in_progress\",\"usage\":null}},\"sequence_number\":0}}\n\n\
             event: response.output_text.delta\ndata: {{\"type\":\"response.output_text.delta\",\"delta\":\"\\\"usage\\\":{{\",\"sequence_number\":1}}\n\n\
             event: response.completed\ndata: {{\"type\":\"response.completed\",\"response\":{{\"id\":\"resp_1\",\"status\":\"completed\",\"output\":[{{\"type\":\"message\",\"content\":[]}}],{USAGE}}},\"sequence_number\":2}}\n\n"
        );
        let s = summary_of(&stream);
        assert!(s.done);
        assert_eq!(s.finish_reason.as_deref(), Some("completed"));
        let u = s.usage.unwrap();
        assert_eq!(
            (u.input, u.cache_read, u.output, u.reasoning),
            (40, 60, 30, 12)
        );
        assert_eq!(s.error, None);
    }

    #[test]
    fn events_without_names_are_read_by_their_type() {
        let stream = format!(
            "data: {{\"type\":\"response.incomplete\",\"response\":{{\"status\":\"incomplete\",\"incomplete_details\":{{\"reason\":\"max_output_tokens\"}},{USAGE}}}}}\n\n"
        );
        let s = summary_of(&stream);
        assert!(s.done);
        assert_eq!(s.finish_reason.as_deref(), Some("max_output_tokens"));
        assert_eq!(s.usage.map(|u| u.output), Some(30));
    }

    #[test]
    fn only_terminal_events_count() {
        let s = summary_of(
            "event: response.in_progress\ndata: {\"type\":\"response.in_progress\",\"response\":{\"status\":\"in_progress\",\"usage\":{\"input_tokens\":9}}}\n\n",
        );
        assert_eq!(s, StreamSummary::default());
    }

    #[test]
    fn reads_failed_responses_and_error_events() {
        let s = summary_of(
            "event: response.failed\ndata: {\"type\":\"response.failed\",\"response\":{\"status\":\"failed\",\"error\":{\"code\":\"server_error\",\"message\":\"The model crashed\"},\"usage\":null}}\n\n",
        );
        assert!(s.done);
        assert_eq!(s.finish_reason.as_deref(), Some("failed"));
        assert_eq!(s.error.as_deref(), Some("The model crashed"));
        assert_eq!(s.usage, None);

        let s = summary_of(
            "event: response.failed\ndata: {\"type\":\"response.failed\",\"response\":{\"status\":\"failed\",\"error\":null}}\n\n",
        );
        assert_eq!(s.error.as_deref(), Some("response failed"));

        let s = summary_of(
            "event: error\ndata: {\"type\":\"error\",\"code\":\"rate_limit_exceeded\",\"message\":\"Slow down\",\"param\":null,\"sequence_number\":3}\n\n",
        );
        assert_eq!(s.error.as_deref(), Some("Slow down"));
        assert!(!s.done);

        let s = summary_of("data: {\"type\":\"error\",\"error\":{\"message\":\"nested\"}}\n\n");
        assert_eq!(s.error.as_deref(), Some("nested"));
        let s = summary_of("event: error\ndata: not json\n\n");
        assert_eq!(s.error.as_deref(), Some("stream error"));
    }

    #[test]
    fn a_garbled_terminal_event_still_ends_the_stream() {
        let s = summary_of("event: response.completed\ndata: {\"response\":\n\n");
        assert!(s.done);
        assert_eq!((s.usage, s.error), (None, None));
    }

    #[test]
    fn usage_of_a_body() {
        let body = format!(
            r#"{{"id":"resp_1","object":"response","status":"completed","output":[],{USAGE}}}"#
        );
        let u = usage_of_body(body.as_bytes()).unwrap();
        assert_eq!(
            (u.input, u.cache_read, u.cache_write, u.output, u.reasoning),
            (40, 60, 0, 30, 12)
        );
        assert_eq!(usage_of_body(br#"{"output":[]}"#), None);
        assert_eq!(usage_of_body(br#"{"usage":null}"#), None);
        assert_eq!(usage_of_body(b"not json"), None);
    }
}
