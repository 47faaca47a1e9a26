//! Reading an OpenAI chat stream while it is forwarded untouched.

use crate::framing::sse::{SseDecoder, SseEvent};
use crate::ir::Usage;

use super::wire::ResponseTap;

/// What the tap learned from a stream.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StreamSummary {
    pub usage: Option<Usage>,
    pub finish_reason: Option<String>,
    /// The upstream sent `data: [DONE]`.
    pub done: bool,
    /// The upstream sent an `{"error": ...}` event.
    pub error: Option<String>,
}

/// Watches the bytes of an OpenAI chat stream for usage, finish reason,
/// `[DONE]` and error events. Only events that can carry those fields are
/// JSON-parsed, so the tap stays cheap on long streams.
#[derive(Debug, Default)]
pub struct ChatStreamTap {
    decoder: SseDecoder,
    events: Vec<SseEvent>,
    summary: StreamSummary,
}

impl ChatStreamTap {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn observe(&mut self, chunk: &[u8]) {
        self.decoder.push(chunk, &mut self.events);
        self.drain();
    }

    pub fn finish(mut self) -> StreamSummary {
        self.decoder.finish(&mut self.events);
        self.drain();
        self.summary
    }

    pub fn summary(&self) -> &StreamSummary {
        &self.summary
    }

    fn drain(&mut self) {
        for event in self.events.drain(..) {
            let data = event.data.trim();
            if data == "[DONE]" {
                self.summary.done = true;
                continue;
            }
            let interesting = data.contains("\"usage\":{")
                || data.contains("\"usage\": {")
                || data.contains("\"finish_reason\":\"")
                || data.contains("\"finish_reason\": \"")
                || data.starts_with("{\"error\"");
            if !interesting {
                continue;
            }
            if let Ok(v) = serde_json::from_str::<serde_json::Value>(data)
                && let Some(err) = v.get("error")
            {
                let message = err.get("message").and_then(|m| m.as_str());
                self.summary.error = Some(message.unwrap_or("stream error").to_owned());
                continue;
            }
            if let Ok(tap) = serde_json::from_str::<ResponseTap>(data) {
                if let Some(u) = &tap.usage {
                    self.summary.usage = Some(Usage::from(u));
                }
                if let Some(reason) = tap.choices.iter().find_map(|c| c.finish_reason.clone()) {
                    self.summary.finish_reason = Some(reason);
                }
            }
        }
    }
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
    }
}
