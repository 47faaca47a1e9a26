//! An incremental Server-Sent Events decoder (WHATWG rules).
//!
//! The gateway forwards upstream bytes untouched and feeds a copy through
//! this decoder to read usage and stop reasons, so it must accept the stream
//! however it is split into chunks: `\n`, `\r\n` and `\r` line endings, a
//! `\r\n` pair split across two chunks, multi-line `data:`, comments.
//!
//! Memory is bounded: an event (its `data` so far plus the line being read)
//! may hold at most [`MAX_EVENT_BYTES`]. An upstream that sends a longer one
//! (a line that never ends, `data:` lines that never reach a blank line)
//! does not make the decoder grow: the event is **discarded** whole, up to
//! the blank line that ends it, and [`SseDecoder::overflowed`] turns true.
//! Discarding keeps a passthrough tap reading the events after it (the
//! client still gets every byte); a translating caller cannot translate
//! what it never saw, so it checks `overflowed()` and ends the stream with
//! an error (`stream_too_large`) rather than a silently shortened answer.
//! The check costs one length comparison per line and per chunk, nothing
//! per byte.

/// Largest event the decoder holds: 16 MiB.
///
/// Why this size: the largest legitimate single event is a final chunk that
/// carries a whole answer (servers that "stream" in one event) or an inline
/// image in base64 (a few MiB); 16 MiB is several times that, while a
/// gateway with a thousand streams open cannot be pushed past a known
/// ceiling by upstreams that never end a line.
pub const MAX_EVENT_BYTES: usize = 16 * 1024 * 1024;

/// One decoded event. `data` joins several `data:` lines with `\n`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SseEvent {
    pub event: Option<String>,
    pub data: String,
    pub id: Option<String>,
}

/// Feed bytes with [`SseDecoder::push`]; complete events come out as they end.
#[derive(Debug)]
pub struct SseDecoder {
    line: Vec<u8>,
    /// The last byte seen was `\r`: a following `\n` belongs to the same line end.
    after_cr: bool,
    event: Option<String>,
    data: String,
    id: Option<String>,
    has_data: bool,
    /// Most bytes an event may hold ([`MAX_EVENT_BYTES`] unless set).
    limit: usize,
    /// The line being read outgrew the limit: its bytes are dropped until it ends.
    skipping_line: bool,
    /// The event being read outgrew the limit: its lines are dropped until
    /// the blank line that ends it.
    skipping_event: bool,
    overflowed: bool,
}

impl Default for SseDecoder {
    fn default() -> Self {
        Self::with_limit(MAX_EVENT_BYTES)
    }
}

impl SseDecoder {
    pub fn new() -> Self {
        Self::default()
    }

    /// A decoder that discards events larger than `limit` bytes.
    pub fn with_limit(limit: usize) -> Self {
        Self {
            line: Vec::new(),
            after_cr: false,
            event: None,
            data: String::new(),
            id: None,
            has_data: false,
            limit,
            skipping_line: false,
            skipping_event: false,
            overflowed: false,
        }
    }

    /// An event larger than the limit was discarded (at any point so far).
    pub fn overflowed(&self) -> bool {
        self.overflowed
    }

    /// The most bytes an event may hold.
    pub fn limit(&self) -> usize {
        self.limit
    }

    /// Decodes `chunk`, appending every event it completes to `out`.
    pub fn push(&mut self, chunk: &[u8], out: &mut Vec<SseEvent>) {
        let mut rest = chunk;
        if self.after_cr {
            self.after_cr = false;
            if let Some(stripped) = rest.strip_prefix(b"\n") {
                rest = stripped;
            }
        }
        while let Some(pos) = rest.iter().position(|&b| b == b'\n' || b == b'\r') {
            let (content, end) = (&rest[..pos], rest[pos]);
            rest = &rest[pos + 1..];
            if end == b'\r' {
                match rest.first() {
                    Some(b'\n') => rest = &rest[1..],
                    None => self.after_cr = true,
                    Some(_) => {}
                }
            }
            if self.skipping_line {
                // The end of an overlong line: it was dropped with its event.
                self.skipping_line = false;
            } else if self.line.is_empty() {
                // The whole line is in this chunk: no copy.
                self.process_line(content, out);
            } else if self.line.len() + content.len() > self.limit {
                self.overflow();
            } else {
                self.line.extend_from_slice(content);
                let line = std::mem::take(&mut self.line);
                self.process_line(&line, out);
                self.line = line;
                self.line.clear();
            }
        }
        if rest.is_empty() || self.skipping_line {
            return;
        }
        if self.line.len() + rest.len() > self.limit {
            self.overflow();
            self.skipping_line = true;
        } else {
            self.line.extend_from_slice(rest);
        }
    }

    /// Drops the event being read, and the memory it held.
    fn overflow(&mut self) {
        self.overflowed = true;
        self.skipping_event = true;
        self.line = Vec::new();
        self.data = String::new();
        self.event = None;
        self.id = None;
        self.has_data = false;
    }

    /// Ends the stream: a final event without its blank line is still delivered,
    /// as the WHATWG algorithm would drop it but upstreams that close early
    /// often carry their last (usage) event there.
    pub fn finish(&mut self, out: &mut Vec<SseEvent>) {
        if self.skipping_event {
            return;
        }
        if !self.line.is_empty() {
            let line = std::mem::take(&mut self.line);
            self.process_line(&line, out);
        }
        self.dispatch(out);
    }

    fn process_line(&mut self, line: &[u8], out: &mut Vec<SseEvent>) {
        if line.is_empty() {
            if self.skipping_event {
                self.skipping_event = false;
            } else {
                self.dispatch(out);
            }
            return;
        }
        if self.skipping_event {
            return;
        }
        if line.len() > self.limit {
            // A whole overlong line in one chunk (an `event:` or `id:` too).
            self.overflow();
            return;
        }
        if line[0] == b':' {
            return; // comment / keep-alive
        }
        let (field, value) = match line.iter().position(|&b| b == b':') {
            Some(i) => {
                let value = &line[i + 1..];
                (&line[..i], value.strip_prefix(b" ").unwrap_or(value))
            }
            None => (line, &b""[..]),
        };
        // Valid UTF-8 (the rule) is checked the fast way; the lossy
        // conversion is only for the rare invalid byte.
        let value = match std::str::from_utf8(value) {
            Ok(text) => std::borrow::Cow::Borrowed(text),
            Err(_) => String::from_utf8_lossy(value),
        };
        match field {
            b"data" => {
                // `line.len()` bounds the value and the `\n` joining it.
                if self.data.len() + line.len() > self.limit {
                    self.overflow();
                    return;
                }
                if self.has_data {
                    self.data.push('\n');
                }
                self.data.push_str(&value);
                self.has_data = true;
            }
            b"event" => self.event = Some(value.into_owned()),
            b"id" => self.id = Some(value.into_owned()),
            _ => {} // `retry` and unknown fields do not matter to a proxy
        }
    }

    fn dispatch(&mut self, out: &mut Vec<SseEvent>) {
        if self.has_data {
            out.push(SseEvent {
                event: self.event.take(),
                data: std::mem::take(&mut self.data),
                id: self.id.take(),
            });
        } else {
            self.event = None;
        }
        self.has_data = false;
    }
}

/// Writes one `data:` event (each line of `data` on its own `data:` line).
pub fn encode_data_event(data: &str) -> String {
    let mut out = String::with_capacity(data.len() + 8);
    for line in data.split('\n') {
        out.push_str("data: ");
        out.push_str(line);
        out.push('\n');
    }
    out.push('\n');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode_in_pieces(input: &[u8], piece: usize) -> Vec<SseEvent> {
        let mut decoder = SseDecoder::new();
        let mut out = Vec::new();
        for chunk in input.chunks(piece.max(1)) {
            decoder.push(chunk, &mut out);
        }
        decoder.finish(&mut out);
        out
    }

    const SAMPLE: &[u8] = b": keep-alive\r\nevent: message_start\r\ndata: {\"a\":1}\r\n\r\ndata: line one\ndata:line two\n\ndata: [DONE]\r\rid: 7\ndata: last";

    #[test]
    fn decodes_mixed_line_endings_and_multiline_data() {
        let events = decode_in_pieces(SAMPLE, SAMPLE.len());
        assert_eq!(events.len(), 4);
        assert_eq!(events[0].event.as_deref(), Some("message_start"));
        assert_eq!(events[0].data, "{\"a\":1}");
        assert_eq!(events[1].data, "line one\nline two");
        assert_eq!(events[1].event, None);
        assert_eq!(events[2].data, "[DONE]");
        assert_eq!(events[3].data, "last");
        assert_eq!(events[3].id.as_deref(), Some("7"));
    }

    #[test]
    fn same_events_however_the_bytes_are_split() {
        let whole = decode_in_pieces(SAMPLE, SAMPLE.len());
        for piece in 1..SAMPLE.len() {
            assert_eq!(
                decode_in_pieces(SAMPLE, piece),
                whole,
                "split every {piece} bytes"
            );
        }
    }

    #[test]
    fn event_without_data_is_not_dispatched() {
        let events = decode_in_pieces(b"event: ping\n\ndata: x\n\n", 3);
        assert_eq!(events.len(), 1);
        assert_eq!(events[0].event, None);
    }

    #[test]
    fn encodes_multiline_data() {
        assert_eq!(encode_data_event("a\nb"), "data: a\ndata: b\n\n");
        let events = decode_in_pieces(encode_data_event("a\nb").as_bytes(), 1);
        assert_eq!(events[0].data, "a\nb");
    }

    fn decode_limited(input: &[u8], piece: usize, limit: usize) -> (Vec<SseEvent>, SseDecoder) {
        let mut decoder = SseDecoder::with_limit(limit);
        let mut out = Vec::new();
        for chunk in input.chunks(piece.max(1)) {
            decoder.push(chunk, &mut out);
        }
        decoder.finish(&mut out);
        (out, decoder)
    }

    #[test]
    fn an_overlong_line_is_discarded_with_its_event_and_the_next_events_still_come() {
        let long = "x".repeat(100);
        let input =
            format!("data: small\n\nevent: big\ndata: {long}\ndata: more\n\ndata: after\n\n");
        for piece in [1, 7, 30, input.len()] {
            let (events, decoder) = decode_limited(input.as_bytes(), piece, 64);
            let data: Vec<&str> = events.iter().map(|e| e.data.as_str()).collect();
            assert_eq!(data, ["small", "after"], "split every {piece} bytes");
            assert_eq!(events[1].event, None, "the big event's name went with it");
            assert!(decoder.overflowed());
        }
    }

    #[test]
    fn many_data_lines_that_add_up_past_the_limit_are_discarded() {
        let mut input = String::new();
        for _ in 0..20 {
            input.push_str("data: 0123456789\n");
        }
        input.push_str("\ndata: next\n\n");
        for piece in [1, 5, input.len()] {
            let (events, decoder) = decode_limited(input.as_bytes(), piece, 100);
            assert_eq!(events.len(), 1, "split every {piece} bytes");
            assert_eq!(events[0].data, "next");
            assert!(decoder.overflowed());
        }
    }

    #[test]
    fn a_line_that_never_ends_holds_no_more_than_the_limit() {
        let mut decoder = SseDecoder::with_limit(1024);
        let mut out = Vec::new();
        let chunk = [b'a'; 300];
        for _ in 0..1000 {
            decoder.push(&chunk, &mut out);
        }
        assert!(decoder.overflowed());
        assert!(
            decoder.line.capacity() <= 1024,
            "{}",
            decoder.line.capacity()
        );
        assert!(decoder.data.capacity() <= 1024);
        decoder.finish(&mut out);
        assert!(
            out.is_empty(),
            "the unfinished overlong event is not delivered"
        );
    }

    #[test]
    fn events_within_the_limit_are_untouched() {
        let (events, decoder) = decode_limited(SAMPLE, 3, 64);
        assert_eq!(events, decode_in_pieces(SAMPLE, SAMPLE.len()));
        assert!(!decoder.overflowed());
        assert_eq!(SseDecoder::new().limit(), MAX_EVENT_BYTES);
    }
}
