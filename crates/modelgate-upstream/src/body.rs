//! Reading upstream bodies with a ceiling on memory.
//!
//! Every body is read chunk by chunk and the read stops the moment the
//! total would pass its limit (a `Content-Length` past it fails before a
//! byte is read), so a misbehaving upstream cannot make the gateway hold
//! more than the limit per request. Each wait for a chunk is bounded by
//! the endpoint's idle timeout.

use bytes::{Bytes, BytesMut};
use modelgate_protocol::secret::scrub;
use modelgate_protocol::{ErrorKind, GatewayError};

use crate::endpoint::Endpoint;
use crate::errors;

/// Largest non-streamed response read: 32 MiB.
///
/// Why this size: a long chat answer is well under 1 MiB (128k output
/// tokens are ~0.5 MiB of text); logprobs multiply that by ~20, and a few
/// inline base64 images add some MiB. 32 MiB leaves room for all of it,
/// while a thousand requests in flight cannot be pushed past a known
/// ceiling by an upstream that never stops talking.
pub const MAX_RESPONSE_BYTES: usize = 32 * 1024 * 1024;

/// Largest model list read: 16 MiB. The largest public lists (routers
/// with hundreds of models and their metadata) are a few MiB.
pub const MAX_MODEL_LIST_BYTES: usize = 16 * 1024 * 1024;

/// How much of an error body is read: 64 KiB. Only its message is used,
/// and it sits at the start; the rest (an HTML page, a stack trace) is cut.
pub const MAX_ERROR_BODY_BYTES: usize = 64 * 1024;

/// Reads a whole body of at most `limit` bytes.
///
/// Fails with a 502 `upstream_response_too_large` naming the limit when the
/// body is larger, `upstream_timeout` when the endpoint goes silent for its
/// idle timeout, and `upstream_error` when the connection breaks.
pub async fn read_bounded(
    ep: &Endpoint,
    mut response: reqwest::Response,
    limit: usize,
) -> Result<Bytes, GatewayError> {
    if response
        .content_length()
        .is_some_and(|len| len > limit as u64)
    {
        return Err(too_large(ep, limit));
    }
    // The usual body is one chunk: it is kept as it came, not copied.
    let mut first: Option<Bytes> = None;
    let mut more: Option<BytesMut> = None;
    let mut total = 0usize;
    loop {
        let chunk = match tokio::time::timeout(ep.timeouts.idle.0, response.chunk()).await {
            Err(_) => return Err(errors::idle_timeout(ep)),
            Ok(Err(e)) => return Err(errors::body_error(ep, &e)),
            Ok(Ok(None)) => break,
            Ok(Ok(Some(chunk))) => chunk,
        };
        total = total.saturating_add(chunk.len());
        if total > limit {
            return Err(too_large(ep, limit));
        }
        match (&first, &mut more) {
            (None, _) => first = Some(chunk),
            (Some(head), None) => {
                let mut joined = BytesMut::with_capacity(head.len() + chunk.len());
                joined.extend_from_slice(head);
                joined.extend_from_slice(&chunk);
                more = Some(joined);
            }
            (Some(_), Some(joined)) => joined.extend_from_slice(&chunk),
        }
    }
    Ok(match more {
        Some(joined) => joined.freeze(),
        None => first.unwrap_or_default(),
    })
}

/// The start of an error body (at most [`MAX_ERROR_BODY_BYTES`]), for its
/// message. Never fails: whatever arrived before a timeout, a broken
/// connection or the limit is what there is. The whole read is bounded by
/// the idle timeout, as an error is not worth waiting long for.
pub async fn read_error_body(ep: &Endpoint, mut response: reqwest::Response) -> Bytes {
    let mut body = BytesMut::new();
    let read = async {
        while let Ok(Some(chunk)) = response.chunk().await {
            let room = MAX_ERROR_BODY_BYTES - body.len();
            body.extend_from_slice(&chunk[..chunk.len().min(room)]);
            if body.len() >= MAX_ERROR_BODY_BYTES {
                break;
            }
        }
    };
    let _ = tokio::time::timeout(ep.timeouts.idle.0, read).await;
    body.freeze()
}

/// A body past its limit: a 502 the caller can act on.
pub fn too_large(ep: &Endpoint, limit: usize) -> GatewayError {
    let message = format!(
        "endpoint `{}` sent a response larger than {}, the most modelgate reads into memory; ask for less (e.g. a lower `max_tokens`) or stream the answer (`\"stream\": true`, which has no such limit)",
        ep.name,
        fmt_size(limit)
    );
    GatewayError::new(ErrorKind::Upstream, scrub(&message, &ep.secrets))
        .with_code("upstream_response_too_large")
}

/// `32 MiB`, `64 KiB`, `100 bytes`.
pub fn fmt_size(bytes: usize) -> String {
    const KIB: usize = 1024;
    const MIB: usize = 1024 * 1024;
    if bytes >= MIB && bytes.is_multiple_of(MIB) {
        format!("{} MiB", bytes / MIB)
    } else if bytes >= KIB && bytes.is_multiple_of(KIB) {
        format!("{} KiB", bytes / KIB)
    } else {
        format!("{bytes} bytes")
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use modelgate_config::{EndpointConfig, TimeoutSettings};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    use super::*;

    /// A server that answers one request with `head` then `chunks` in the
    /// chunked transfer encoding (no `Content-Length`), each its own write.
    async fn chunked_server(chunks: Vec<Vec<u8>>) -> String {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            let (mut socket, _) = listener.accept().await.unwrap();
            let mut request = vec![0u8; 4096];
            let _ = socket.read(&mut request).await;
            let head = "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n";
            if socket.write_all(head.as_bytes()).await.is_err() {
                return;
            }
            for chunk in chunks {
                let mut framed = format!("{:x}\r\n", chunk.len()).into_bytes();
                framed.extend_from_slice(&chunk);
                framed.extend_from_slice(b"\r\n");
                // The client may hang up once it has read its limit.
                if socket.write_all(&framed).await.is_err() {
                    return;
                }
            }
            let _ = socket.write_all(b"0\r\n\r\n").await;
        });
        format!("http://{addr}")
    }

    fn endpoint(base: &str) -> Endpoint {
        let config: EndpointConfig = serde_json::from_value(serde_json::json!({
            "name": "ep", "spec": "openai-chat-completions", "base_url": base,
        }))
        .unwrap();
        Endpoint::build(&config, TimeoutSettings::default()).unwrap()
    }

    async fn get(url: &str) -> reqwest::Response {
        reqwest::Client::new().get(url).send().await.unwrap()
    }

    #[tokio::test]
    async fn a_chunked_body_past_the_limit_stops_the_read() {
        let url = chunked_server(vec![vec![b'a'; 600]; 100]).await;
        let ep = endpoint(&url);
        let err = read_bounded(&ep, get(&url).await, 1000).await.unwrap_err();
        assert_eq!(err.status, 502);
        assert_eq!(err.code.as_deref(), Some("upstream_response_too_large"));
        assert!(
            err.message.contains("larger than 1000 bytes"),
            "{}",
            err.message
        );
    }

    #[tokio::test]
    async fn a_body_within_the_limit_is_read_whole_across_chunks() {
        let url = chunked_server(vec![b"{\"a\":".to_vec(), b"1".to_vec(), b"}".to_vec()]).await;
        let ep = endpoint(&url);
        let body = read_bounded(&ep, get(&url).await, 7).await.unwrap();
        assert_eq!(&body[..], b"{\"a\":1}");
    }

    #[tokio::test]
    async fn a_content_length_past_the_limit_fails_before_reading() {
        let upstream = modelgate_testkit::FakeUpstream::start(|_| {
            modelgate_testkit::Reply::text(200, &"x".repeat(5000))
        })
        .await;
        let ep = endpoint(&upstream.url(""));
        let err = read_bounded(&ep, get(&upstream.url("/")).await, 4 * 1024)
            .await
            .unwrap_err();
        assert_eq!(err.code.as_deref(), Some("upstream_response_too_large"));
        assert!(err.message.contains("4 KiB"), "{}", err.message);
    }

    #[tokio::test]
    async fn an_error_body_is_cut_at_its_limit() {
        let url = chunked_server(vec![vec![b'e'; 40 * 1024]; 10]).await;
        let ep = endpoint(&url);
        let body = read_error_body(&ep, get(&url).await).await;
        assert_eq!(body.len(), MAX_ERROR_BODY_BYTES);
    }

    #[test]
    fn sizes_read_as_people_write_them() {
        assert_eq!(fmt_size(MAX_RESPONSE_BYTES), "32 MiB");
        assert_eq!(fmt_size(MAX_ERROR_BODY_BYTES), "64 KiB");
        assert_eq!(fmt_size(1000), "1000 bytes");
    }
}
