//! Streaming an upstream response to the client as it arrives.
//!
//! Passthrough forwards each upstream chunk unchanged while a tap reads
//! usage and the stop reason; translation decodes each chunk into stream
//! events and encodes them in the client's format. Either way a chunk goes
//! out as soon as it came in, and a failure after the first byte becomes an
//! error event in the client's format, never a silent truncation.

use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use bytes::BytesMut;
use futures_util::{FutureExt, Stream, StreamExt};
use modelgate_protocol::codec::{Format, StreamDecoder, StreamEncoder};
use modelgate_protocol::framing::sse::{SseDecoder, SseEvent};
use modelgate_protocol::secret::{scrub, scrub_bytes};
use modelgate_protocol::spec::anthropic::tap::MessagesStreamTap;
use modelgate_protocol::spec::gemini::tap::GeminiStreamTap;
use modelgate_protocol::spec::openai_chat::tap::{ChatStreamTap, StreamSummary};
use modelgate_protocol::spec::openai_responses::tap::ResponsesStreamTap;
use modelgate_protocol::{ErrorKind, GatewayError, StreamEvent, Usage};
use modelgate_upstream::{Endpoint, errors};

use crate::open_streams::OpenStream;
use crate::pipeline::RequestLog;
use crate::respond::stream_error;
use crate::snapshot::Route;
use crate::state::AppState;
use crate::usage_filter::UsageChunkFilter;

type ByteStream = Pin<Box<dyn Stream<Item = reqwest::Result<Bytes>> + Send>>;

/// Reads a passthrough stream on the side.
pub enum Tap {
    OpenAiChat(ChatStreamTap),
    Anthropic(MessagesStreamTap),
    OpenAiResponses(ResponsesStreamTap),
    Gemini(GeminiStreamTap),
}

impl Tap {
    pub fn new(format: Format) -> Self {
        match format {
            Format::OpenAiChat => Tap::OpenAiChat(ChatStreamTap::new()),
            Format::Anthropic => Tap::Anthropic(MessagesStreamTap::new()),
            Format::OpenAiResponses => Tap::OpenAiResponses(ResponsesStreamTap::new()),
            Format::Gemini => Tap::Gemini(GeminiStreamTap::new()),
        }
    }

    fn observe(&mut self, chunk: &[u8]) {
        match self {
            Tap::OpenAiChat(t) => t.observe(chunk),
            Tap::Anthropic(t) => t.observe(chunk),
            Tap::OpenAiResponses(t) => t.observe(chunk),
            Tap::Gemini(t) => t.observe(chunk),
        }
    }

    /// The end-of-stream event of the format.
    fn terminator(&self) -> &'static [u8] {
        match self {
            Tap::OpenAiChat(_) => b"data: [DONE]\n\n",
            Tap::Anthropic(_) => b"event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n",
            // Its terminal events carry the whole answer: one cannot be
            // made up, so a Responses stream is complete or truncated.
            Tap::OpenAiResponses(_) => b"",
            // A Gemini stream simply ends after its last chunk.
            Tap::Gemini(_) => b"",
        }
    }

    fn summary(&self) -> &StreamSummary {
        match self {
            Tap::OpenAiChat(t) => t.summary(),
            Tap::Anthropic(t) => t.summary(),
            Tap::OpenAiResponses(t) => t.summary(),
            Tap::Gemini(t) => t.summary(),
        }
    }
}

/// What happens to each upstream chunk. (Both states are boxed: one
/// allocation per stream keeps the enum small.)
pub enum Mode {
    Passthrough(Box<Passthrough>),
    Translate(Box<Translation>),
}

/// The state of a stream passed through.
pub struct Passthrough {
    tap: Tap,
    /// Set when modelgate asked for usage the client did not want.
    strip_usage: Option<UsageChunkFilter>,
}

/// The state of a stream being translated.
pub struct Translation {
    sse: SseDecoder,
    decoder: StreamDecoder,
    encoder: StreamEncoder,
    usage: Option<Usage>,
    /// The end (or an error) was encoded: nothing more goes out.
    complete: bool,
}

impl Mode {
    pub fn passthrough(front: Format, strip_usage: bool) -> Self {
        Mode::Passthrough(Box::new(Passthrough {
            tap: Tap::new(front),
            strip_usage: strip_usage.then(UsageChunkFilter::new),
        }))
    }

    pub fn translate(decoder: StreamDecoder, encoder: StreamEncoder) -> Self {
        Mode::Translate(Box::new(Translation {
            sse: SseDecoder::new(),
            decoder,
            encoder,
            usage: None,
            complete: false,
        }))
    }

    fn is_complete(&self) -> bool {
        matches!(self, Mode::Translate(t) if t.complete)
    }

    /// Turns one upstream chunk into what the client gets.
    fn process(&mut self, chunk: Bytes, endpoint: &Endpoint) -> Bytes {
        match self {
            Mode::Passthrough(p) => {
                let had_error = p.tap.summary().error.is_some();
                p.tap.observe(&chunk);
                // The upstream's error event may echo a secret; only the
                // chunk that completed it is searched, to keep the hot path free.
                let chunk = if !had_error && p.tap.summary().error.is_some() {
                    scrub_bytes(&chunk, &endpoint.secrets).unwrap_or(chunk)
                } else {
                    chunk
                };
                match &mut p.strip_usage {
                    Some(filter) => filter.process(chunk),
                    None => chunk,
                }
            }
            Mode::Translate(t) => {
                let mut frames = Vec::new();
                t.sse.push(&chunk, &mut frames);
                let mut out = translate_frames(&frames, t, endpoint, false);
                if t.sse.overflowed() && !t.complete {
                    // An event too large to hold was dropped: stop rather
                    // than send an answer with a hole in it.
                    let err = errors::stream_event_too_large(endpoint, t.sse.limit());
                    t.encoder.encode(&StreamEvent::Error(err), &mut out);
                    t.complete = true;
                }
                Bytes::from(out)
            }
        }
    }

    /// The upstream ended: what is left to send, or the failure to report.
    fn end(&mut self, endpoint: &Endpoint) -> Result<Bytes, GatewayError> {
        match self {
            Mode::Passthrough(p) => {
                let mut rest = p
                    .strip_usage
                    .as_mut()
                    .map(UsageChunkFilter::finish)
                    .unwrap_or_default();
                let s = p.tap.summary();
                if s.done || s.error.is_some() {
                    return Ok(rest);
                }
                if s.finish_reason.is_some() {
                    // The answer is complete, only the terminator is
                    // missing: add it, so the client sees a proper end.
                    let mut with_end = rest.to_vec();
                    with_end.extend_from_slice(p.tap.terminator());
                    rest = Bytes::from(with_end);
                    return Ok(rest);
                }
                Err(GatewayError::new(
                    ErrorKind::Upstream,
                    format!(
                        "endpoint `{}` closed the stream before it was complete",
                        endpoint.name
                    ),
                )
                .with_code("stream_truncated"))
            }
            Mode::Translate(t) => {
                let mut frames = Vec::new();
                t.sse.finish(&mut frames);
                Ok(Bytes::from(translate_frames(&frames, t, endpoint, true)))
            }
        }
    }

    /// Encodes a transport failure as the client's error event.
    fn fail(&mut self, front: Format, err: GatewayError) -> Bytes {
        match self {
            Mode::Passthrough(p) => Bytes::from(stream_error(front, &err, p.tap.summary())),
            Mode::Translate(t) => {
                let mut out = Vec::new();
                t.encoder.encode(&StreamEvent::Error(err), &mut out);
                Bytes::from(out)
            }
        }
    }

    fn usage(&self) -> Option<Usage> {
        match self {
            Mode::Passthrough(p) => p.tap.summary().usage,
            Mode::Translate(t) => t.usage,
        }
    }
}

fn translate_frames(
    frames: &[SseEvent],
    t: &mut Translation,
    endpoint: &Endpoint,
    last: bool,
) -> Vec<u8> {
    let mut events = Vec::new();
    for frame in frames {
        t.decoder.feed(frame, &mut events);
    }
    if last && !t.complete {
        t.decoder.finish(&mut events);
    }
    let mut out = Vec::new();
    for event in &mut events {
        match event {
            StreamEvent::Usage(u) => t.usage = Some(*u),
            StreamEvent::MessageStop => t.complete = true,
            StreamEvent::Error(e) => {
                // The upstream's own words may echo a key.
                e.message = scrub(&e.message, &endpoint.secrets);
                t.complete = true;
            }
            _ => {}
        }
        t.encoder.encode(event, &mut out);
    }
    out
}

struct Forwarding {
    upstream: ByteStream,
    /// What the upstream gave while chunks were being gathered, to handle
    /// on the next turn (an error or its end).
    held: Option<Option<reqwest::Result<Bytes>>>,
    mode: Mode,
    front: Format,
    /// Its endpoint is known to be ready: the request was sent through it.
    route: Arc<Route>,
    idle: Duration,
    finished: bool,
    state: Arc<AppState>,
    log: Option<RequestLog>,
    /// How the stream ended, for its usage row: 200 when complete, the
    /// failure's status, or [`CLIENT_CLOSED`].
    outcome: u16,
    /// Counted among the open streams while this lives (declared last:
    /// dropped after `drop` has recorded the usage).
    open: OpenStream,
}

/// The outcome of a stream whose client went away before its end (nginx's
/// code for it; no response carries it).
pub const CLIENT_CLOSED: u16 = 499;

/// Most bytes handed to the client in one batch. While a slow client
/// holds the one batch in flight, the next one gathers at most this much:
/// memory per stream stays bounded whatever the two speeds.
const MAX_BATCH: usize = 64 * 1024;

impl Drop for Forwarding {
    /// Records usage however the stream ended: completed, failed, or the
    /// client went away (the upstream connection closes with this value).
    fn drop(&mut self) {
        if let Some(log) = self.log.take() {
            log.finish(&self.state, self.outcome, self.mode.usage());
        }
    }
}

/// The client-facing body of a streamed response.
///
/// A task of its own reads the upstream and hands the body whole batches:
/// the upstream connection decodes one chunk at a time, and were the body
/// itself to wait for the next one, each wait would make the server write
/// what it had, a syscall per event.
pub fn stream(
    state: Arc<AppState>,
    route: Arc<Route>,
    front: Format,
    mode: Mode,
    response: reqwest::Response,
    log: Option<RequestLog>,
) -> impl Stream<Item = Result<Bytes, std::io::Error>> + Send + use<> {
    let idle = route
        .ready()
        .map_or(Duration::from_secs(120), |e| e.timeouts.idle.0);
    let open = state.streams.open();
    let forwarding = Forwarding {
        upstream: Box::pin(response.bytes_stream()),
        held: None,
        mode,
        front,
        route,
        idle,
        finished: false,
        state,
        log,
        outcome: 200,
        open,
    };
    // One batch in flight: a slow client holds the upstream back instead
    // of piling its answer up in memory.
    let (batches, received) = tokio::sync::mpsc::channel(1);
    tokio::spawn(forwarding.run(batches));
    futures_util::stream::unfold(received, |mut received| async move {
        let batch = received.recv().await?;
        Some((Ok(batch), received))
    })
}

impl Forwarding {
    /// Sends batches until the stream ends or the client goes away.
    async fn run(mut self, batches: tokio::sync::mpsc::Sender<Bytes>) {
        let mut cut = self.open.cut_signal();
        loop {
            let batch = tokio::select! {
                batch = self.next_batch() => batch,
                () = batches.closed() => {
                    self.client_went_away();
                    return;
                }
                () = cut.fired() => {
                    self.cut_off(&batches).await;
                    return;
                }
            };
            let Some(batch) = batch else { return };
            let sent = tokio::select! {
                sent = batches.send(batch) => sent.is_ok(),
                () = cut.fired() => {
                    self.cut_off(&batches).await;
                    return;
                }
            };
            if !sent {
                self.client_went_away();
                return;
            }
        }
    }

    /// The gateway stops before the stream ended: the client gets an error
    /// event (briefly waited for, if it reads at all) and the usage row says
    /// the stream was cut.
    async fn cut_off(&mut self, batches: &tokio::sync::mpsc::Sender<Bytes>) {
        let err = GatewayError::new(
            ErrorKind::Overloaded,
            "modelgate is shutting down and could not wait for this stream to finish; retry the request",
        )
        .with_status(503)
        .with_code("gateway_shutting_down");
        self.finished = true;
        self.outcome = err.status;
        let event = self.mode.fail(self.front, err);
        let _ = tokio::time::timeout(Duration::from_millis(500), batches.send(event)).await;
    }

    fn client_went_away(&mut self) {
        if !self.finished {
            self.outcome = CLIENT_CLOSED;
        }
    }

    /// What goes to the client next: every chunk that has arrived, handled
    /// by the mode; `None` once the stream is over.
    async fn next_batch(&mut self) -> Option<Bytes> {
        loop {
            if self.finished {
                return None;
            }
            let next = match self.held.take() {
                Some(held) => Ok(held),
                None => tokio::time::timeout(self.idle, self.upstream.next()).await,
            };
            let route = Arc::clone(&self.route);
            let failure = match (route.ready(), next) {
                // Unreachable (routes never change), but never a silent end.
                (Err(e), _) => e,
                (Ok(endpoint), Ok(Some(Ok(chunk)))) => {
                    let out = self.gather(chunk, endpoint).await;
                    // A translated stream is over once its end was encoded;
                    // an upstream that keeps the connection open is not waited for.
                    self.finished = self.mode.is_complete();
                    if out.is_empty() {
                        continue;
                    }
                    return Some(out);
                }
                (Ok(endpoint), Ok(None)) => {
                    self.finished = true;
                    match self.mode.end(endpoint) {
                        Ok(rest) if rest.is_empty() => return None,
                        Ok(rest) => return Some(rest),
                        Err(e) => e,
                    }
                }
                (Ok(endpoint), Ok(Some(Err(e)))) => errors::body_error(endpoint, &e),
                (Ok(endpoint), Err(_)) => errors::idle_timeout(endpoint),
            };
            self.finished = true;
            self.outcome = failure.status;
            tracing::warn!(endpoint = %route.name(), "stream failed: {}", failure.message);
            return Some(self.mode.fail(self.front, failure));
        }
    }

    /// `chunk` and the chunks that have already arrived after it, as one
    /// write (up to [`MAX_BATCH`] bytes): a burst costs one syscall, not one
    /// per event. The upstream
    /// connection hands over one decoded chunk at a time, so when none is
    /// ready this yields once to let it decode what its buffer already
    /// holds; nothing waits for the network or a timer.
    async fn gather(&mut self, chunk: Bytes, endpoint: &Endpoint) -> Bytes {
        let first = self.mode.process(chunk, endpoint);
        let mut gathered: Option<BytesMut> = None;
        let mut yielded = false;
        while !self.mode.is_complete()
            && gathered.as_ref().map_or(first.len(), BytesMut::len) < MAX_BATCH
        {
            match self.upstream.next().now_or_never() {
                None if !yielded => {
                    YieldToReady(false).await;
                    yielded = true;
                }
                None => break,
                Some(Some(Ok(more))) => {
                    let more = self.mode.process(more, endpoint);
                    gathered
                        .get_or_insert_with(|| BytesMut::from(&first[..]))
                        .extend_from_slice(&more);
                    yielded = false;
                }
                Some(other) => {
                    // An error or the end: handled on the next turn.
                    self.held = Some(other);
                    break;
                }
            }
        }
        gathered.map_or(first, BytesMut::freeze)
    }
}

/// Lets the tasks already woken (here, the upstream connection this task
/// just asked for its next chunk) run before this one goes on. Unlike
/// `tokio::task::yield_now` it does not make the runtime poll for I/O
/// first: that is a syscall per event, the very cost gathering saves.
struct YieldToReady(bool);

impl std::future::Future for YieldToReady {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut std::task::Context<'_>) -> std::task::Poll<()> {
        if self.0 {
            return std::task::Poll::Ready(());
        }
        self.0 = true;
        cx.waker().wake_by_ref();
        std::task::Poll::Pending
    }
}

/// Reads a whole non-streamed body, at most
/// [`MAX_RESPONSE_BYTES`](modelgate_upstream::body::MAX_RESPONSE_BYTES),
/// each chunk within the idle timeout.
pub async fn read_body(
    endpoint: &Endpoint,
    response: reqwest::Response,
) -> Result<Bytes, GatewayError> {
    modelgate_upstream::body::read_bounded(
        endpoint,
        response,
        modelgate_upstream::body::MAX_RESPONSE_BYTES,
    )
    .await
}

/// Time since the request arrived, for the usage log.
pub fn elapsed_ms(since: Instant) -> u64 {
    u64::try_from(since.elapsed().as_millis()).unwrap_or(u64::MAX)
}

/// Usage read from a non-streamed passthrough body.
pub fn usage_of_body(format: Format, body: &[u8]) -> Option<Usage> {
    match format {
        Format::OpenAiChat => modelgate_protocol::spec::openai_chat::tap::usage_of_body(body),
        Format::Anthropic => modelgate_protocol::spec::anthropic::tap::usage_of_body(body),
        Format::OpenAiResponses => {
            modelgate_protocol::spec::openai_responses::tap::usage_of_body(body)
        }
        Format::Gemini => modelgate_protocol::spec::gemini::tap::usage_of_body(body),
    }
}
