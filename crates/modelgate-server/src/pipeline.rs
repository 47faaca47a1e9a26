//! The request path of every front door, top to bottom:
//! authenticate → resolve → shape → dispatch → respond → record.
//!
//! When the client speaks the endpoint's own format the request is passed
//! through (the body edited only where settings ask); otherwise
//! [`crate::translate`] converts it both ways.

use std::sync::Arc;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use axum::body::Body;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use modelgate_protocol::body::JsonObject;
use modelgate_protocol::codec::Format;
use modelgate_protocol::{ErrorKind, GatewayError, Usage};
use modelgate_store::UsageRecord;
use modelgate_upstream::auth::Operation;
use modelgate_upstream::{Endpoint, dispatch, errors};

use crate::auth;
use crate::catalogue::{Need, Resolved};
use crate::forward::{self, Mode, elapsed_ms};
use crate::respond;
use crate::snapshot::Route;
use crate::state::AppState;

/// `POST /v1/chat/completions`.
pub async fn chat_completions(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    handle(state, Format::OpenAiChat, headers, body).await
}

/// `POST /v1/responses`.
pub async fn responses(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    handle(state, Format::OpenAiResponses, headers, body).await
}

/// `POST /v1/messages`.
pub async fn messages(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    handle(state, Format::Anthropic, headers, body).await
}

async fn handle(state: Arc<AppState>, front: Format, headers: HeaderMap, body: Bytes) -> Response {
    let started = Instant::now();
    let mut log = None;
    let result = chat(&state, front, &headers, body, started, &mut log).await;
    conclude(&state, route_of(front), front, started, log, result)
}

/// A model request's answer; an error is recorded against its endpoint
/// when it was routed (whoever finished it took `log`), else only logged.
pub fn conclude(
    state: &AppState,
    route: &'static str,
    format: Format,
    started: Instant,
    log: Option<RequestLog>,
    result: Result<Response, GatewayError>,
) -> Response {
    match result {
        Ok(response) => response,
        Err(e) => {
            match log {
                Some(log) => log.finish(state, e.status, None),
                None => log_unrouted(route, e.status, started),
            }
            respond::error(format, &e)
        }
    }
}

/// The front door's path, for log lines.
fn route_of(front: Format) -> &'static str {
    match front {
        Format::OpenAiChat => "/v1/chat/completions",
        Format::Anthropic => "/v1/messages",
        Format::OpenAiResponses => "/v1/responses",
        Format::Gemini => "/v1beta/models",
    }
}

/// The log line of a model request refused before it reached an endpoint
/// (bad body, unknown model, missing key): nothing to record as usage.
fn log_unrouted(route: &str, status: u16, started: Instant) {
    tracing::info!(
        target: "modelgate::request",
        "POST {route} status={status} latency_ms={}",
        elapsed_ms(started)
    );
}

/// The request's model and the route it resolves to.
pub struct Routed {
    pub route: Arc<Route>,
    /// The model as the client wrote it.
    pub client_model: String,
    /// The model id sent upstream (after `model_map`).
    pub upstream_model: String,
    /// The endpoint's wire format.
    pub target: Format,
}

/// The longest model id accepted. Real ids are far shorter (the longest
/// seen in the wild are Hugging Face paths of ~100 bytes); a bound keeps a
/// hostile id from costing suggestion work or storage.
pub const MAX_MODEL_ID_BYTES: usize = 256;

/// Refuses a model id longer than [`MAX_MODEL_ID_BYTES`], before any work is
/// done with it.
pub fn check_model_id(model: &str) -> Result<(), GatewayError> {
    if model.len() <= MAX_MODEL_ID_BYTES {
        return Ok(());
    }
    Err(GatewayError::invalid_request(format!(
        "the model id is {} bytes long; modelgate accepts ids of at most {MAX_MODEL_ID_BYTES} bytes: name the model as ENDPOINT/MODEL or by its id (see `GET /v1/models`)",
        model.len()
    ))
    .with_param("model")
    .with_code("model_id_too_long"))
}

/// Reads `model` from a body and resolves it.
pub async fn route_request(
    state: &AppState,
    front: Format,
    request: &JsonObject<'_>,
) -> Result<Routed, GatewayError> {
    let Some(model) = request.get_str("model") else {
        return Err(GatewayError::invalid_request(
            "the request has no `model`; name one as ENDPOINT/MODEL or by its id (see `GET /v1/models`)",
        )
        .with_param("model"));
    };
    route_model(state, front, model.into_owned()).await
}

/// Resolves a model named outside the body (Gemini's URL names it).
pub async fn route_model(
    state: &AppState,
    front: Format,
    model: String,
) -> Result<Routed, GatewayError> {
    check_model_id(&model)?;
    let resolved = resolve(state, &model).await?;
    let endpoint = resolved.route.ready()?;
    let upstream_model = endpoint.map_model(&resolved.model).to_owned();
    let target = target_format(front, endpoint, &upstream_model).ok_or_else(|| {
        GatewayError::new(
            ErrorKind::NotSupported,
            format!(
                "endpoint `{}` uses spec `{}`, which cannot be reached yet",
                endpoint.name, endpoint.spec
            ),
        )
        .with_code("spec_not_supported")
    })?;
    Ok(Routed {
        route: resolved.route,
        client_model: model,
        upstream_model,
        target,
    })
}

/// The format a request is sent to the endpoint in: its spec's, except
/// that a Responses client reaches an endpoint that also speaks Responses
/// (Azure's v1 API) without translation, and that Vertex AI's format is
/// its model's publisher's.
fn target_format(front: Format, endpoint: &Endpoint, upstream_model: &str) -> Option<Format> {
    if front == Format::OpenAiResponses && endpoint.speaks_responses() {
        return Some(Format::OpenAiResponses);
    }
    if let Some(vertex) = &endpoint.vertex {
        return Some(match vertex.publisher_of(upstream_model) {
            modelgate_config::Publisher::Google => Format::Gemini,
            modelgate_config::Publisher::Anthropic => Format::Anthropic,
        });
    }
    Format::of_spec(endpoint.spec)
}

pub fn parse(body: &[u8]) -> Result<JsonObject<'_>, GatewayError> {
    JsonObject::parse(body).map_err(|e| {
        GatewayError::invalid_request(format!(
            "{e}; send a JSON object with `model` and `messages`"
        ))
    })
}

/// Authenticates, routes and answers one model request. Once routed,
/// `log` holds the request's record: whoever ends the request takes it
/// (a stream carries it to its end); an error leaves it for the caller.
async fn chat(
    state: &Arc<AppState>,
    front: Format,
    headers: &HeaderMap,
    body: Bytes,
    started: Instant,
    log: &mut Option<RequestLog>,
) -> Result<Response, GatewayError> {
    let caller = auth::gateway_caller(state, headers)?;
    let mut request = parse(&body)?;
    let routed = route_request(state, front, &request).await?;
    let stream = request.get_bool("stream").unwrap_or(false);
    *log = Some(RequestLog {
        route: route_of(front),
        endpoint: routed.route.name().to_owned(),
        model: routed.upstream_model.clone(),
        caller: caller.key_id,
        stream,
        started,
    });
    if routed.target != front {
        drop(request);
        return crate::translate::run(state, front, routed, &body, None, log).await;
    }
    let endpoint = routed.route.ready()?;
    let mut changed = shape(
        &mut request,
        endpoint,
        &routed.client_model,
        &routed.upstream_model,
    );
    if endpoint.vertex.is_some() {
        changed |= vertex_body(&mut request, routed.target);
    }
    // Usage is recorded for every stream: ask for it, and drop the chunk
    // later if the client did not.
    let strip_usage = front == Format::OpenAiChat
        && stream
        && endpoint.takes_stream_usage()
        && !client_wants_usage(&request);
    if strip_usage {
        request.merge(
            "stream_options",
            &serde_json::json!({"include_usage": true}),
        );
        changed = true;
    }
    let upstream_body = if changed {
        Bytes::from(request.to_vec())
    } else {
        body.clone()
    };
    drop(request);
    let upstream = send(state, &routed, stream, upstream_body, &passed_on(headers)).await?;
    respond_passthrough(state, &routed, front, strip_usage, upstream, log).await
}

/// The endpoint's answer, passed through: a stream chunk by chunk, a body
/// as it came (its usage read on the side).
pub async fn respond_passthrough(
    state: &Arc<AppState>,
    routed: &Routed,
    front: Format,
    strip_usage: bool,
    upstream: reqwest::Response,
    log: &mut Option<RequestLog>,
) -> Result<Response, GatewayError> {
    let endpoint = routed.route.ready()?;
    if is_sse(&upstream) {
        let mode = Mode::passthrough(front, strip_usage);
        return Ok(streamed(state, routed, front, mode, upstream, log));
    }
    let content_type = upstream.headers().get(header::CONTENT_TYPE).cloned();
    let body = read(endpoint, upstream).await?;
    if let Some(log) = log.take() {
        log.finish(state, 200, forward::usage_of_body(front, &body));
    }
    let mut response = (StatusCode::OK, Body::from(body)).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        content_type.unwrap_or(HeaderValue::from_static("application/json")),
    );
    add_route_header(&mut response, endpoint);
    Ok(response)
}

/// The client's streamed response: each upstream chunk handled by `mode`.
pub fn streamed(
    state: &Arc<AppState>,
    routed: &Routed,
    front: Format,
    mode: Mode,
    upstream: reqwest::Response,
    log: &mut Option<RequestLog>,
) -> Response {
    let body = forward::stream(
        state.clone(),
        routed.route.clone(),
        front,
        mode,
        upstream,
        log.take(),
    );
    let mut response = respond::sse(Body::from_stream(body));
    if let Ok(endpoint) = routed.route.ready() {
        add_route_header(&mut response, endpoint);
    }
    response
}

/// Sends the model request with key fallback; an error status becomes the
/// endpoint's error, explained. `stream`: the request streams (Gemini's
/// URL says so).
pub async fn send(
    state: &AppState,
    routed: &Routed,
    stream: bool,
    body: Bytes,
    extra: &HeaderMap,
) -> Result<reqwest::Response, GatewayError> {
    let endpoint = routed.route.ready()?;
    let op = match routed.target {
        Format::OpenAiResponses if endpoint.spec != modelgate_protocol::Spec::OpenAiResponses => {
            Operation::Responses
        }
        _ => Operation::Chat,
    };
    let url = endpoint
        .model_url(op, &routed.upstream_model, stream)
        .map_err(GatewayError::internal)?;
    let upstream = dispatch::send_to(
        endpoint,
        &state.cooldowns,
        Method::POST,
        url,
        Some(body),
        extra,
    )
    .await?;
    check_status(endpoint, upstream.response, upstream.key_index).await
}

/// The response if its status is a success, else the endpoint's error
/// (`key_index`: the key that got it, for the probes that explain a 404).
pub async fn check_status(
    endpoint: &Endpoint,
    upstream: reqwest::Response,
    key_index: Option<usize>,
) -> Result<reqwest::Response, GatewayError> {
    let status = upstream.status();
    if status.is_success() {
        return Ok(upstream);
    }
    let retry_after = modelgate_upstream::cooldown::retry_after_now(upstream.headers());
    let body = modelgate_upstream::body::read_error_body(endpoint, upstream).await;
    let mut err = if status == StatusCode::NOT_FOUND {
        errors::explain_404(endpoint, key_index, &body).await
    } else {
        errors::status_error(endpoint, status.as_u16(), &body)
    };
    err.retry_after = retry_after;
    Err(err)
}

/// Reads a non-streamed body.
pub async fn read(endpoint: &Endpoint, upstream: reqwest::Response) -> Result<Bytes, GatewayError> {
    forward::read_body(endpoint, upstream).await
}

/// Client headers a same-format endpoint should see: Anthropic's beta
/// flags turn on features the body relies on.
pub fn passed_on(headers: &HeaderMap) -> HeaderMap {
    let mut out = HeaderMap::new();
    for value in headers.get_all("anthropic-beta") {
        out.append("anthropic-beta", value.clone());
    }
    out
}

fn client_wants_usage(request: &JsonObject<'_>) -> bool {
    request
        .get_value("stream_options")
        .and_then(|o| o.get("include_usage").and_then(serde_json::Value::as_bool))
        .unwrap_or(false)
}

pub fn is_sse(response: &reqwest::Response) -> bool {
    response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/event-stream"))
}

/// Resolves the model; a bare id that no known list has makes the lists
/// that are missing or stale be fetched (once, shared), then is looked up again.
async fn resolve(state: &AppState, model: &str) -> Result<Resolved, GatewayError> {
    let snapshot = state.snapshot.load_full();
    if let Some(found) = state.catalogue.resolve(&snapshot, model)? {
        return Ok(found);
    }
    state.ensure_models(&snapshot, Need::Fresh, None).await;
    state
        .catalogue
        .resolve(&snapshot, model)?
        .ok_or_else(|| state.catalogue.unknown_model(&snapshot, model))
}

/// Applies the endpoint's settings to the body: model id, dropped and added
/// params. Returns whether anything changed, so an unchanged body is sent
/// as the very bytes the client wrote.
pub fn shape(
    request: &mut JsonObject<'_>,
    ep: &Endpoint,
    sent_model: &str,
    upstream_model: &str,
) -> bool {
    let mut changed = false;
    if sent_model != upstream_model {
        request.set_str("model", upstream_model);
        changed = true;
    }
    for key in &ep.drop_params {
        if request.contains(key) {
            request.remove(key);
            changed = true;
        }
    }
    for (key, value) in &ep.add_params {
        request.merge(key, value);
        changed = true;
    }
    changed
}

/// A body for Vertex AI: the model is in the URL, so `model` goes (Vertex
/// refuses it); a Claude body carries `anthropic_version` (Vertex's own).
fn vertex_body(request: &mut JsonObject<'_>, target: Format) -> bool {
    let mut changed = false;
    if request.contains("model") {
        request.remove("model");
        changed = true;
    }
    if target == Format::Anthropic && !request.contains("anthropic_version") {
        request.set_str(
            "anthropic_version",
            modelgate_upstream::vertex::ANTHROPIC_VERSION,
        );
        changed = true;
    }
    changed
}

pub fn add_route_header(response: &mut Response, ep: &Endpoint) {
    if let Ok(v) = HeaderValue::from_str(&ep.name) {
        response.headers_mut().insert("x-modelgate-endpoint", v);
    }
}

/// What is recorded about a request once it ends.
pub struct RequestLog {
    /// The front door's path, for the log line.
    pub route: &'static str,
    pub endpoint: String,
    pub model: String,
    pub caller: Option<String>,
    pub stream: bool,
    pub started: Instant,
}

impl RequestLog {
    /// Records the request's end (its strings move into the record) and
    /// writes its log line: no bodies, no keys.
    pub fn finish(self, state: &AppState, status: u16, usage: Option<Usage>) {
        let latency_ms = elapsed_ms(self.started);
        if tracing::enabled!(target: "modelgate::request", tracing::Level::INFO) {
            let tokens = usage.map_or_else(String::new, |u| {
                format!(
                    " input_tokens={} output_tokens={}",
                    u.prompt_total(),
                    u.output
                )
            });
            tracing::info!(
                target: "modelgate::request",
                "POST {} model={} endpoint={} status={status} stream={} latency_ms={latency_ms}{tokens}",
                self.route,
                self.model,
                self.endpoint,
                self.stream,
            );
        }
        // Long strings are cut where they are stored (the store's
        // `USAGE_TEXT_MAX_BYTES`), once, for every field.
        state.usage.record(UsageRecord {
            at: unix_millis(),
            latency_ms,
            endpoint: self.endpoint,
            model: self.model,
            caller: self.caller,
            status,
            stream: self.stream,
            input_tokens: usage.map(|u| u.prompt_total()),
            output_tokens: usage.map(|u| u.output),
            cached_tokens: usage.map(|u| u.cache_read),
        });
    }
}

fn unix_millis() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

pub fn unix_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}
