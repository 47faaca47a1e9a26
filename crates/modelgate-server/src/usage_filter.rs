//! Dropping the usage chunk a client did not ask for.
//!
//! To account for every streamed request, modelgate asks an OpenAI-style
//! upstream for usage (`stream_options.include_usage`) even when the client
//! did not. The extra chunk (empty `choices`, a `usage` object) is then
//! removed before forwarding. To remove a whole event and nothing else,
//! bytes are forwarded up to the last complete event; an event split across
//! reads waits for its end (never more than one event is held back).

use bytes::{Bytes, BytesMut};

#[derive(Debug, Default)]
pub struct UsageChunkFilter {
    pending: BytesMut,
}

impl UsageChunkFilter {
    pub fn new() -> Self {
        Self::default()
    }

    /// The complete events of `pending + chunk`, minus usage-only chunks.
    /// The usual case — a chunk of whole events, none of them usage-only —
    /// returns the chunk itself, uncopied.
    pub fn process(&mut self, chunk: Bytes) -> Bytes {
        let complete = if self.pending.is_empty() && ends_an_event(&chunk) {
            chunk
        } else {
            self.pending.extend_from_slice(&chunk);
            let Some(end) = last_event_end(&self.pending) else {
                return Bytes::new();
            };
            self.pending.split_to(end).freeze()
        };
        without_usage_chunks(complete)
    }

    /// What is left when the upstream ends (an unterminated last event).
    pub fn finish(&mut self) -> Bytes {
        std::mem::take(&mut self.pending).freeze()
    }
}

/// `events` with every usage-only event cut out (a copy only if one is).
fn without_usage_chunks(events: Bytes) -> Bytes {
    let mut out: Option<BytesMut> = None;
    let (mut start, mut kept_from) = (0, 0);
    while let Some(len) = event_len(&events[start..]) {
        if is_usage_only(&events[start..start + len]) {
            let o = out.get_or_insert_with(|| BytesMut::with_capacity(events.len()));
            o.extend_from_slice(&events[kept_from..start]);
            kept_from = start + len;
        }
        start += len;
    }
    match out {
        None => events,
        Some(mut o) => {
            o.extend_from_slice(&events[kept_from..]);
            o.freeze()
        }
    }
}

/// A chunk carrying only usage: `"choices":[]` and a `usage` object.
fn is_usage_only(event: &[u8]) -> bool {
    (contains(event, b"\"choices\":[]") || contains(event, b"\"choices\": []"))
        && (contains(event, b"\"usage\":{") || contains(event, b"\"usage\": {"))
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// Whether position `i` (a `\n` or `\r`) ends a blank line: `\n\n`,
/// `\n\r\n` or `\r\r`.
fn blank_line_at(bytes: &[u8], i: usize) -> bool {
    match (bytes[i], i.checked_sub(1).map(|j| bytes[j])) {
        (b'\n', Some(b'\n')) | (b'\r', Some(b'\r')) => true,
        (b'\n', Some(b'\r')) => i >= 2 && bytes[i - 2] == b'\n',
        _ => false,
    }
}

fn ends_an_event(bytes: &[u8]) -> bool {
    !bytes.is_empty() && blank_line_at(bytes, bytes.len() - 1)
}

/// Length of the first event (through its blank line), if complete.
fn event_len(bytes: &[u8]) -> Option<usize> {
    (1..bytes.len())
        .find(|&i| blank_line_at(bytes, i))
        .map(|i| i + 1)
}

/// End of the last complete event in `bytes`.
fn last_event_end(bytes: &[u8]) -> Option<usize> {
    (1..bytes.len())
        .rev()
        .find(|&i| blank_line_at(bytes, i))
        .map(|i| i + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    const STREAM: &str = concat!(
        "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"hi\"}}],\"usage\":null}\n\n",
        "data: {\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}],\"usage\":null}\n\n",
        "data: {\"choices\":[],\"usage\":{\"prompt_tokens\":3,\"completion_tokens\":1,\"total_tokens\":4}}\n\n",
        "data: [DONE]\n\n"
    );

    fn filtered(piece: usize) -> String {
        let mut filter = UsageChunkFilter::new();
        let mut out = Vec::new();
        for chunk in STREAM.as_bytes().chunks(piece) {
            out.extend_from_slice(&filter.process(Bytes::copy_from_slice(chunk)));
        }
        out.extend_from_slice(&filter.finish());
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn drops_only_the_usage_chunk_however_the_stream_is_split() {
        let expected = STREAM.replace(
            "data: {\"choices\":[],\"usage\":{\"prompt_tokens\":3,\"completion_tokens\":1,\"total_tokens\":4}}\n\n",
            "",
        );
        for piece in 1..STREAM.len() {
            assert_eq!(filtered(piece), expected, "split every {piece} bytes");
        }
    }

    #[test]
    fn crlf_events_and_unterminated_tails_pass() {
        let mut filter = UsageChunkFilter::new();
        let a = filter.process(Bytes::from_static(
            b"data: {\"choices\":[]}\r\n\r\ndata: partial",
        ));
        assert_eq!(&a[..], b"data: {\"choices\":[]}\r\n\r\n");
        assert_eq!(&filter.finish()[..], b"data: partial");
        let cr = filter.process(Bytes::from_static(b"data: a\r\rdata: b"));
        assert_eq!(
            &cr[..],
            b"data: a\r\r",
            "bare CR line ends complete events too"
        );
    }

    #[test]
    fn whole_events_without_usage_are_not_copied() {
        let mut filter = UsageChunkFilter::new();
        let chunk = Bytes::from_static(b"data: {\"choices\":[{}],\"usage\":null}\n\n");
        let out = filter.process(chunk.clone());
        assert_eq!(out.as_ptr(), chunk.as_ptr());
    }
}
