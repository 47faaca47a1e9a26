//! Reading a Gemini stream while it is forwarded untouched
//! ([`GeminiStreamTap`]), and the usage of a non-streamed body
//! ([`usage_of_body`]).
//!
//! Only chunks whose data mentions `usageMetadata`, `finishReason`,
//! `blockReason` or `error` are JSON-parsed (a substring check first), so
//! long streams of text cost little.
//!
//! The summary's `usage` is the last `usageMetadata` in canonical terms
//! (`wire.rs`); `finish_reason` holds the Gemini `finishReason` (or the
//! `promptFeedback.blockReason` of a blocked prompt); `done` means a finish
//! (or block) reason was seen, since Gemini streams have no terminator;
//! `error` holds the message of an error chunk.

use serde::Deserialize;
use serde_json::Value;

use super::wire::{WireResponse, WireUsage, error_of};
use crate::framing::sse::SseEvent;
use crate::ir::Usage;
pub use crate::tap::StreamSummary;
use crate::tap::{ReadEvent, StreamTap};

/// Watches a Gemini stream for usage, the finish reason and errors.
pub type GeminiStreamTap = StreamTap<GeminiEvents>;

/// How a Gemini chunk feeds the summary.
#[derive(Debug)]
pub struct GeminiEvents;

impl ReadEvent for GeminiEvents {
    fn read(event: &SseEvent, summary: &mut StreamSummary) {
        let data = event.data.as_str();
        let interesting = ["usageMetadata", "finishReason", "blockReason", "\"error\""];
        if !interesting.iter().any(|k| data.contains(k)) {
            return;
        }
        let Ok(value) = serde_json::from_str::<Value>(data) else {
            return;
        };
        if let Some(err) = error_of(&value) {
            summary.error = Some(err.message);
            return;
        }
        let Ok(chunk) = serde_json::from_value::<WireResponse>(value) else {
            return;
        };
        if let Some(u) = chunk.usage_metadata {
            summary.usage = Some(u.canonical());
        }
        let reason = match chunk.candidates.into_iter().next() {
            Some(candidate) => candidate.finish_reason,
            None => chunk.prompt_feedback.and_then(|f| f.block_reason),
        };
        if let Some(reason) = reason {
            summary.finish_reason = Some(reason);
            summary.done = true;
        }
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct BodyTap {
    #[serde(default)]
    usage_metadata: Option<WireUsage>,
}

/// The usage of a non-streamed `GenerateContentResponse`: its
/// `usageMetadata` in canonical terms. `None` when the body is not JSON or
/// has no `usageMetadata` object.
pub fn usage_of_body(body: &[u8]) -> Option<Usage> {
    let tap: BodyTap = serde_json::from_slice(body).ok()?;
    Some(tap.usage_metadata?.canonical())
}
