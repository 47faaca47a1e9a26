//! Canonical [`StreamEvent`]s → a Gemini client's SSE stream of
//! `GenerateContentResponse` chunks ([`StreamEncoder`]).

use crate::ir::StreamEvent;
use crate::translate::Context;

/// Writes stream events as a Gemini stream.
#[derive(Debug)]
pub struct StreamEncoder {}

impl StreamEncoder {
    pub fn new(_ctx: &Context) -> Self {
        Self {}
    }

    pub fn encode(&mut self, _event: &StreamEvent, _out: &mut Vec<u8>) {}
}
