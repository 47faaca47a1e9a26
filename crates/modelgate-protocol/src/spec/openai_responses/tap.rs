//! Reading a Responses stream while it is forwarded untouched
//! ([`ResponsesStreamTap`]), and the usage of a non-streamed body
//! ([`usage_of_body`]).

use crate::framing::sse::SseEvent;
use crate::ir::Usage;
use crate::tap::{ReadEvent, StreamSummary, StreamTap};

/// Watches a Responses stream for usage, status, the end and errors.
pub type ResponsesStreamTap = StreamTap<ResponsesEvents>;

/// How a Responses event feeds the summary.
#[derive(Debug)]
pub struct ResponsesEvents;

impl ReadEvent for ResponsesEvents {
    fn read(_event: &SseEvent, _summary: &mut StreamSummary) {}
}

/// The usage of a non-streamed Responses body.
pub fn usage_of_body(_body: &[u8]) -> Option<Usage> {
    None
}
