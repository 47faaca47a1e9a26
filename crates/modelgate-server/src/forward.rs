//! Forwarding an upstream stream to the client as it arrives.
//!
//! Each upstream chunk goes out as soon as it comes in, unchanged; a tap
//! reads usage and the finish reason on the side. A failure after the first
//! byte cannot change the status any more, so it becomes an error event in
//! the stream, never a silent truncation.

use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use futures_util::{Stream, StreamExt};
use modelgate_protocol::GatewayError;
use modelgate_protocol::framing::sse::encode_data_event;
use modelgate_protocol::spec::openai_chat::error::encode_error;
use modelgate_protocol::spec::openai_chat::stream::ChatStreamTap;
use modelgate_protocol::{ErrorKind, Usage};
use modelgate_upstream::{Endpoint, errors};

use crate::pipeline::RequestLog;
use crate::snapshot::Route;
use crate::state::AppState;

type ByteStream = Pin<Box<dyn Stream<Item = reqwest::Result<Bytes>> + Send>>;

struct Forwarding {
    upstream: ByteStream,
    tap: ChatStreamTap,
    /// Its endpoint is known to be ready: the request was sent through it.
    route: Arc<Route>,
    idle: Duration,
    finished: bool,
    state: Arc<AppState>,
    log: Option<RequestLog>,
}

impl Drop for Forwarding {
    /// Records usage however the stream ended: completed, failed, or the
    /// client went away (the upstream connection closes with this value).
    fn drop(&mut self) {
        if let Some(log) = self.log.take() {
            let usage = self.tap.summary().usage;
            log.finish(&self.state, 200, usage);
        }
    }
}

/// The client-facing body of a streamed OpenAI chat response.
pub fn openai_stream(
    state: Arc<AppState>,
    route: Arc<Route>,
    endpoint: &Endpoint,
    response: reqwest::Response,
    log: RequestLog,
) -> impl Stream<Item = Result<Bytes, std::io::Error>> + Send + use<> {
    let idle = endpoint.timeouts.idle.0;
    let forwarding = Forwarding {
        upstream: Box::pin(response.bytes_stream()),
        tap: ChatStreamTap::new(),
        route,
        idle,
        finished: false,
        state,
        log: Some(log),
    };
    futures_util::stream::unfold(forwarding, |mut f| async move {
        if f.finished {
            return None;
        }
        let next = tokio::time::timeout(f.idle, f.upstream.next()).await;
        let Ok(endpoint) = f.route.ready() else {
            return None;
        };
        let failure = match next {
            Ok(Some(Ok(chunk))) => {
                f.tap.observe(&chunk);
                return Some((Ok(chunk), f));
            }
            Ok(None) => {
                f.finished = true;
                let summary = f.tap.summary();
                if summary.done || summary.finish_reason.is_some() || summary.error.is_some() {
                    return None;
                }
                GatewayError::new(
                    ErrorKind::Upstream,
                    format!(
                        "endpoint `{}` closed the stream before it was complete (no finish_reason, no [DONE])",
                        endpoint.name
                    ),
                )
                .with_code("stream_truncated")
            }
            Ok(Some(Err(e))) => errors::body_error(endpoint, &e),
            Err(_) => errors::idle_timeout(endpoint),
        };
        f.finished = true;
        tracing::warn!(endpoint = %endpoint.name, "stream failed: {}", failure.message);
        let event = encode_data_event(&String::from_utf8_lossy(&encode_error(&failure)));
        Some((Ok(Bytes::from(event)), f))
    })
}

/// Reads a whole non-streamed body, bounded by the idle timeout.
pub async fn read_body(
    endpoint: &Endpoint,
    response: reqwest::Response,
) -> Result<Bytes, GatewayError> {
    match tokio::time::timeout(endpoint.timeouts.idle.0, response.bytes()).await {
        Err(_) => Err(errors::idle_timeout(endpoint)),
        Ok(Err(e)) => Err(errors::body_error(endpoint, &e)),
        Ok(Ok(body)) => Ok(body),
    }
}

/// Time since the request arrived, for the usage log.
pub fn elapsed_ms(since: Instant) -> u64 {
    u64::try_from(since.elapsed().as_millis()).unwrap_or(u64::MAX)
}

/// Usage read from a non-streamed OpenAI response body.
pub fn usage_of_body(body: &[u8]) -> Option<Usage> {
    serde_json::from_slice::<modelgate_protocol::spec::openai_chat::wire::ResponseTap>(body)
        .ok()?
        .usage
        .as_ref()
        .map(Usage::from)
}
