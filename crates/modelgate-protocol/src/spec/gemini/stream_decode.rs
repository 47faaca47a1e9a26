//! Gemini streams (`streamGenerateContent?alt=sse`) → canonical
//! [`StreamEvent`]s ([`StreamDecoder`]).

use crate::framing::sse::SseEvent;
use crate::ir::StreamEvent;
use crate::translate::Context;

/// Reads a Gemini endpoint's stream of `GenerateContentResponse` chunks.
#[derive(Debug)]
pub struct StreamDecoder {}

impl StreamDecoder {
    pub fn new(_ctx: &Context) -> Self {
        Self {}
    }

    pub fn feed(&mut self, _event: &SseEvent, _out: &mut Vec<StreamEvent>) {}

    /// The upstream's stream ended.
    pub fn finish(&mut self, _out: &mut Vec<StreamEvent>) {}
}
