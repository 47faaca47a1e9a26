//! Reading an OpenAI chat stream while it is forwarded untouched
//! ([`ChatStreamTap`]), and the usage of a non-streamed body
//! ([`usage_of_body`]).

use crate::framing::sse::SseEvent;
use crate::ir::Usage;
pub use crate::tap::StreamSummary;
use crate::tap::{ReadEvent, StreamTap};

use super::wire::ResponseTap;

/// Watches the bytes of an OpenAI chat stream for usage, finish reason,
/// `[DONE]` and error events. Only events that can carry those fields are
/// JSON-parsed, so the tap stays cheap on long streams.
pub type ChatStreamTap = StreamTap<ChatEvents>;

/// How an OpenAI chat event feeds the summary.
#[derive(Debug)]
pub struct ChatEvents;

impl ReadEvent for ChatEvents {
    fn read(event: &SseEvent, summary: &mut StreamSummary) {
        let data = event.data.trim();
        if data == "[DONE]" {
            summary.done = true;
            return;
        }
        let interesting = data.contains("\"usage\":{")
            || data.contains("\"usage\": {")
            || data.contains("\"finish_reason\":\"")
            || data.contains("\"finish_reason\": \"")
            || data.starts_with("{\"error\"");
        if !interesting {
            return;
        }
        let Ok(tap) = serde_json::from_str::<ResponseTap>(data) else {
            return;
        };
        if let Some(message) = tap.error_message() {
            summary.error = Some(message);
            return;
        }
        if let Some(u) = &tap.usage {
            summary.usage = Some(Usage::from(u));
        }
        if let Some(reason) = tap.choices.into_iter().find_map(|c| c.finish_reason) {
            summary.finish_reason = Some(reason);
        }
    }
}

/// The usage of a non-streamed chat completion (or of any body with a
/// top-level `usage`), in canonical terms; `None` when the body is not JSON
/// or has no usage.
pub fn usage_of_body(body: &[u8]) -> Option<Usage> {
    /// Only `usage`: every other field is skipped, not built.
    #[derive(serde::Deserialize)]
    struct UsageOnly {
        #[serde(default)]
        usage: Option<super::wire::ChatUsage>,
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

    #[test]
    fn reads_usage_finish_reason_and_done() {
        let stream = concat!(
            "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"hi\"},\"finish_reason\":null}],\"usage\":null}\n\n",
            "data: {\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}],\"usage\":null}\n\n",
            "data: {\"choices\":[],\"usage\":{\"prompt_tokens\":5,\"completion_tokens\":2,\"total_tokens\":7}}\n\n",
            "data: [DONE]\n\n"
        );
        let mut tap = ChatStreamTap::new();
        for piece in stream.as_bytes().chunks(7) {
            tap.observe(piece);
        }
        let s = tap.finish();
        assert!(s.done);
        assert_eq!(s.finish_reason.as_deref(), Some("stop"));
        assert_eq!(s.usage.map(|u| (u.input, u.output)), Some((5, 2)));
        assert_eq!(s.error, None);
    }

    #[test]
    fn reads_error_events() {
        let mut tap = ChatStreamTap::new();
        tap.observe(
            b"data: {\"error\":{\"message\":\"overloaded\",\"type\":\"server_error\"}}\n\n",
        );
        assert_eq!(tap.finish().error.as_deref(), Some("overloaded"));
        let mut tap = ChatStreamTap::new();
        tap.observe(b"data: {\"error\":{\"code\":500}}\n\n");
        assert_eq!(tap.finish().error.as_deref(), Some("stream error"));
    }

    #[test]
    fn a_null_error_is_no_error() {
        let mut tap = ChatStreamTap::new();
        tap.observe(b"data: {\"error\":null,\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}]}\n\n");
        tap.observe(
            b"data: {\"choices\":[],\"usage\":{\"prompt_tokens\":5,\"completion_tokens\":2}}\n\n",
        );
        let s = tap.finish();
        assert_eq!(s.error, None);
        assert_eq!(s.finish_reason.as_deref(), Some("stop"));
        assert_eq!(s.usage.map(|u| (u.input, u.output)), Some((5, 2)));
    }

    #[test]
    fn usage_of_a_body() {
        let body = br#"{"id":"c","object":"chat.completion","choices":[{"index":0,
            "message":{"role":"assistant","content":"hi"},"finish_reason":"stop"}],
            "usage":{"prompt_tokens":100,"completion_tokens":30,"total_tokens":130,
            "prompt_tokens_details":{"cached_tokens":60},
            "completion_tokens_details":{"reasoning_tokens":10}}}"#;
        let u = usage_of_body(body).unwrap();
        assert_eq!(
            (u.input, u.cache_read, u.cache_write, u.output, u.reasoning),
            (40, 60, 0, 30, 10)
        );
        assert_eq!(usage_of_body(br#"{"choices":[]}"#), None);
        assert_eq!(usage_of_body(br#"{"usage":null}"#), None);
        assert_eq!(usage_of_body(b"not json"), None);
        let max = u64::MAX;
        let huge = format!(
            r#"{{"usage":{{"prompt_tokens":{max},"completion_tokens":{max},
                "prompt_tokens_details":{{"cached_tokens":{max},"cache_write_tokens":{max}}}}}}}"#
        );
        let u = usage_of_body(huge.as_bytes()).unwrap();
        assert_eq!((u.input, u.prompt_total()), (0, max));
    }
}
