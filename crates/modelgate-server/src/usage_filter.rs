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
    pub fn process(&mut self, chunk: &[u8]) -> Bytes {
        self.pending.extend_from_slice(chunk);
        let Some(end) = last_event_end(&self.pending) else {
            return Bytes::new();
        };
        let complete = self.pending.split_to(end).freeze();
        if !contains(&complete, b"\"usage\"") {
            return complete;
        }
        let mut out = BytesMut::with_capacity(complete.len());
        let mut start = 0;
        while let Some(len) = event_len(&complete[start..]) {
            let event = &complete[start..start + len];
            if !is_usage_only(event) {
                out.extend_from_slice(event);
            }
            start += len;
        }
        out.freeze()
    }

    /// What is left when the upstream ends (an unterminated last event).
    pub fn finish(&mut self) -> Bytes {
        std::mem::take(&mut self.pending).freeze()
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

/// Length of the first event (through its blank line), if complete.
fn event_len(bytes: &[u8]) -> Option<usize> {
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'\n' {
            match bytes.get(i + 1) {
                Some(b'\n') => return Some(i + 2),
                Some(b'\r') if bytes.get(i + 2) == Some(&b'\n') => return Some(i + 3),
                _ => {}
            }
        }
        i += 1;
    }
    None
}

/// End of the last complete event in `bytes`.
fn last_event_end(bytes: &[u8]) -> Option<usize> {
    let mut end = None;
    let mut start = 0;
    while let Some(len) = event_len(&bytes[start..]) {
        start += len;
        end = Some(start);
    }
    end
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
            out.extend_from_slice(&filter.process(chunk));
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
        let a = filter.process(b"data: {\"choices\":[]}\r\n\r\ndata: partial");
        assert_eq!(&a[..], b"data: {\"choices\":[]}\r\n\r\n");
        assert_eq!(&filter.finish()[..], b"data: partial");
    }
}
