//! An incremental Server-Sent Events decoder (WHATWG rules).
//!
//! The gateway forwards upstream bytes untouched and feeds a copy through
//! this decoder to read usage and stop reasons, so it must accept the stream
//! however it is split into chunks: `\n`, `\r\n` and `\r` line endings, a
//! `\r\n` pair split across two chunks, multi-line `data:`, comments.

/// One decoded event. `data` joins several `data:` lines with `\n`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SseEvent {
    pub event: Option<String>,
    pub data: String,
    pub id: Option<String>,
}

/// Feed bytes with [`SseDecoder::push`]; complete events come out as they end.
#[derive(Debug, Default)]
pub struct SseDecoder {
    line: Vec<u8>,
    /// The last byte seen was `\r`: a following `\n` belongs to the same line end.
    after_cr: bool,
    event: Option<String>,
    data: String,
    id: Option<String>,
    has_data: bool,
}

impl SseDecoder {
    pub fn new() -> Self {
        Self::default()
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
            if self.line.is_empty() {
                // The whole line is in this chunk: no copy.
                self.process_line(content, out);
            } else {
                self.line.extend_from_slice(content);
                let line = std::mem::take(&mut self.line);
                self.process_line(&line, out);
                self.line = line;
                self.line.clear();
            }
        }
        self.line.extend_from_slice(rest);
    }

    /// Ends the stream: a final event without its blank line is still delivered,
    /// as the WHATWG algorithm would drop it but upstreams that close early
    /// often carry their last (usage) event there.
    pub fn finish(&mut self, out: &mut Vec<SseEvent>) {
        if !self.line.is_empty() {
            let line = std::mem::take(&mut self.line);
            self.process_line(&line, out);
        }
        self.dispatch(out);
    }

    fn process_line(&mut self, line: &[u8], out: &mut Vec<SseEvent>) {
        if line.is_empty() {
            self.dispatch(out);
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
}
