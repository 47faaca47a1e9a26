//! Reading a stream on the side while it is forwarded untouched.
//!
//! The SSE plumbing is the same for every format; what differs is which
//! events carry usage, the stop reason, the end and errors. A format
//! supplies that as a [`ReadEvent`], and `StreamTap<ItsReader>` does the rest
//! (see `spec/openai_chat/stream.rs` and `spec/anthropic/tap.rs`).
//!
//! Memory is bounded by the decoder's limit ([`MAX_EVENT_BYTES`]): the only
//! thing a tap buffers is the event being read. An event past the limit is
//! discarded and the tap goes on with the next one; the bytes themselves
//! still reach the client untouched, so the only loss is what that one
//! event would have told the summary (see [`StreamTap::overflowed`]).
//!
//! [`MAX_EVENT_BYTES`]: crate::framing::sse::MAX_EVENT_BYTES

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
    /// The `sequence_number` of the last event (Responses streams number
    /// their events), so that an event the gateway adds continues the count.
    pub last_sequence: Option<u64>,
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

    /// An event larger than the limit went by unread.
    pub fn overflowed(&self) -> bool {
        self.decoder.overflowed()
    }

    fn drain(&mut self) {
        for event in self.events.drain(..) {
            R::read(&event, &mut self.summary);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct CountEvents;

    impl ReadEvent for CountEvents {
        fn read(event: &SseEvent, summary: &mut StreamSummary) {
            if event.data == "[DONE]" {
                summary.done = true;
            }
        }
    }

    #[test]
    fn an_endless_line_is_not_buffered_and_the_tap_reads_on() {
        let mut tap = StreamTap::<CountEvents>::new();
        let piece = vec![b'z'; 1024 * 1024];
        tap.observe(b"data: ");
        // 20 MiB without a line end: past the 16 MiB limit.
        for _ in 0..20 {
            tap.observe(&piece);
        }
        assert!(tap.overflowed());
        assert!(tap.decoder.limit() >= crate::framing::sse::MAX_EVENT_BYTES);
        tap.observe(b"\n\ndata: [DONE]\n\n");
        assert!(tap.finish().done, "events after the discarded one are read");
    }
}
