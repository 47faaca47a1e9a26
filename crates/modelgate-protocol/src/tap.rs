//! Reading a stream on the side while it is forwarded untouched.
//!
//! The SSE plumbing is the same for every format; what differs is which
//! events carry usage, the stop reason, the end and errors. A format
//! supplies that as a [`ReadEvent`], and `StreamTap<ItsReader>` does the rest
//! (see `spec/openai_chat/stream.rs` and `spec/anthropic/tap.rs`).

use std::marker::PhantomData;

use crate::framing::sse::{SseDecoder, SseEvent};
use crate::ir::Usage;

/// What the tap learned from a stream.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StreamSummary {
    pub usage: Option<Usage>,
    /// The format's own stop value (`finish_reason` / `stop_reason`).
    pub finish_reason: Option<String>,
    /// The format's end marker was seen (`[DONE]`, `message_stop`).
    pub done: bool,
    /// The message of an error event.
    pub error: Option<String>,
}

/// Reads one decoded event of a format into the summary.
pub trait ReadEvent {
    fn read(event: &SseEvent, summary: &mut StreamSummary);
}

/// A stream reader for the format `R`.
#[derive(Debug)]
pub struct StreamTap<R> {
    decoder: SseDecoder,
    events: Vec<SseEvent>,
    summary: StreamSummary,
    reader: PhantomData<R>,
}

impl<R> Default for StreamTap<R> {
    fn default() -> Self {
        Self {
            decoder: SseDecoder::new(),
            events: Vec::new(),
            summary: StreamSummary::default(),
            reader: PhantomData,
        }
    }
}

impl<R: ReadEvent> StreamTap<R> {
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
            R::read(&event, &mut self.summary);
        }
    }
}
