//! Reading an Anthropic Messages stream while it is forwarded untouched
//! ([`MessagesStreamTap`]), and the usage of a non-streamed body
//! ([`usage_of_body`]).
//!
//! The twin of [`ChatStreamTap`](crate::spec::openai_chat::tap::ChatStreamTap):
//! only `message_start`, `message_delta` and `error` events are JSON-parsed,
//! chosen by their `event:` name (or the leading `{"type":"…"` of the data
//! when a server omits the name), so long streams of deltas cost no parsing.
//!
//! The summary's `usage` combines `message_start`'s counts with the
//! cumulative ones of `message_delta`; `finish_reason` holds the Anthropic
//! `stop_reason`; `done` means `message_stop` was seen; `error` holds the
//! message of an `error` event.

use serde::Deserialize;

use super::stream_decode::event_type;
use super::wire::{WireError, WireUsage};
use crate::framing::sse::SseEvent;
use crate::ir::Usage;
pub use crate::tap::StreamSummary;
use crate::tap::{ReadEvent, StreamTap};

#[derive(Deserialize)]
struct StartTap {
    message: StartMessageTap,
}

#[derive(Deserialize)]
struct StartMessageTap {
    #[serde(default)]
    usage: Option<WireUsage>,
}

#[derive(Deserialize)]
struct DeltaTap {
    #[serde(default)]
    delta: Option<DeltaBodyTap>,
    #[serde(default)]
    usage: Option<WireUsage>,
}

#[derive(Deserialize)]
struct DeltaBodyTap {
    #[serde(default)]
    stop_reason: Option<String>,
}

/// A Messages response: only its `usage` is read.
#[derive(Deserialize)]
struct BodyTap {
    #[serde(default)]
    usage: Option<WireUsage>,
}

/// The usage of a non-streamed Messages response: its `usage`
/// (`input_tokens`, `output_tokens`, `cache_creation_input_tokens`,
/// `cache_read_input_tokens`; absent or `null` counts are 0) in canonical
/// terms. `None` when the body is not JSON or has no `usage` object.
pub fn usage_of_body(body: &[u8]) -> Option<Usage> {
    let tap: BodyTap = serde_json::from_slice(body).ok()?;
    Some(tap.usage?.apply(Usage::default()))
}

#[derive(Deserialize)]
struct ErrorTap {
    #[serde(default)]
    error: WireError,
}

/// Watches the bytes of an Anthropic stream for usage, the stop reason,
/// `message_stop` and error events.
pub type MessagesStreamTap = StreamTap<MessagesEvents>;

/// How an Anthropic event feeds the summary.
#[derive(Debug)]
pub struct MessagesEvents;

impl ReadEvent for MessagesEvents {
    fn read(event: &SseEvent, summary: &mut StreamSummary) {
        match event_type(event) {
            Some("message_start") => {
                if let Ok(start) = serde_json::from_str::<StartTap>(&event.data)
                    && let Some(u) = start.message.usage
                {
                    summary.usage = Some(u.apply(Usage::default()));
                }
            }
            Some("message_delta") => {
                if let Ok(delta) = serde_json::from_str::<DeltaTap>(&event.data) {
                    if let Some(reason) = delta.delta.and_then(|d| d.stop_reason) {
                        summary.finish_reason = Some(reason);
                    }
                    if let Some(u) = delta.usage {
                        let base = summary.usage.unwrap_or_default();
                        summary.usage = Some(u.apply(base));
                    }
                }
            }
            Some("message_stop") => summary.done = true,
            Some("error") => {
                let err = serde_json::from_str::<ErrorTap>(&event.data)
                    .map(|e| e.error.message)
                    .unwrap_or_default();
                summary.error = Some(if err.is_empty() {
                    "stream error".to_owned()
                } else {
                    err
                });
            }
            _ => {}
        }
    }
}
