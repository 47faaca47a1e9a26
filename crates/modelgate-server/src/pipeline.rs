//! The request path of `POST /v1/chat/completions`, top to bottom:
//! authenticate → resolve → shape → dispatch → respond → record.

use std::sync::Arc;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use axum::body::Body;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use modelgate_protocol::body::JsonObject;
use modelgate_protocol::{GatewayError, Usage};
use modelgate_store::UsageRecord;
use modelgate_upstream::{Endpoint, dispatch, errors};

use crate::auth::{self, Caller};
use crate::catalogue::Resolved;
use crate::forward::{self, elapsed_ms};
use crate::respond::openai_error;
use crate::state::AppState;

pub async fn chat_completions(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let started = Instant::now();
    let caller = match auth::gateway_caller(&state, &headers) {
        Ok(caller) => caller,
        Err(e) => return openai_error(&e),
    };
    match chat(state, caller, body, started).await {
        Ok(response) => response,
        Err(e) => openai_error(&e),
    }
}

async fn chat(
    state: Arc<AppState>,
    caller: Caller,
    body: Bytes,
    started: Instant,
) -> Result<Response, GatewayError> {
    let mut request = JsonObject::parse(&body).map_err(|e| {
        GatewayError::invalid_request(format!(
            "{e}; send a JSON object with `model` and `messages`"
        ))
    })?;
    let Some(model) = request.get_str("model").map(|m| m.into_owned()) else {
        return Err(GatewayError::invalid_request(
            "the request has no `model`; name one as ENDPOINT/MODEL or by its id (see `GET /v1/models`)",
        )
        .with_param("model"));
    };
    let stream = request.get_bool("stream").unwrap_or(false);
    let resolved = resolve(&state, &model).await?;
    let route = resolved.route;
    let endpoint = route.ready()?;
    let upstream_model = endpoint.map_model(&resolved.model).to_owned();
    let log = RequestLog {
        endpoint: endpoint.name.clone(),
        model: upstream_model.clone(),
        caller: caller.key_id,
        stream,
        started,
    };

    let changed = shape(&mut request, endpoint, &model, &upstream_model);
    let upstream_body = if changed {
        Bytes::from(request.to_vec())
    } else {
        body.clone()
    };
    drop(request);

    let sent = dispatch::send(
        endpoint,
        &state.cooldowns,
        Method::POST,
        "chat/completions",
        Some(upstream_body),
    )
    .await;
    let upstream = match sent {
        Ok(upstream) => upstream.response,
        Err(e) => {
            log.finish(&state, e.status, None);
            return Err(e);
        }
    };
    let status = upstream.status();
    if !status.is_success() {
        let body = forward::read_body(endpoint, upstream)
            .await
            .unwrap_or_default();
        let err = errors::status_error(endpoint, status.as_u16(), &body);
        log.finish(&state, err.status, None);
        return Err(err);
    }
    let content_type = upstream.headers().get(header::CONTENT_TYPE).cloned();
    let is_sse = content_type
        .as_ref()
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/event-stream"));
    if is_sse {
        let body = forward::openai_stream(state.clone(), route.clone(), endpoint, upstream, log);
        let mut response = Response::new(Body::from_stream(body));
        let h = response.headers_mut();
        h.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/event-stream"),
        );
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
        h.insert("x-accel-buffering", HeaderValue::from_static("no"));
        add_route_header(&mut response, endpoint);
        return Ok(response);
    }
    let body = match forward::read_body(endpoint, upstream).await {
        Ok(body) => body,
        Err(e) => {
            log.finish(&state, e.status, None);
            return Err(e);
        }
    };
    log.finish(&state, status.as_u16(), forward::usage_of_body(&body));
    let mut response = (StatusCode::OK, Body::from(body)).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        content_type.unwrap_or(HeaderValue::from_static("application/json")),
    );
    add_route_header(&mut response, endpoint);
    Ok(response)
}

/// Resolves the model, fetching stale model lists once if a bare id is unknown.
async fn resolve(state: &AppState, model: &str) -> Result<Resolved, GatewayError> {
    let ttl = state.catalogue_ttl();
    let snapshot = state.snapshot.load_full();
    if let Some(found) = state.catalogue.resolve(&snapshot, model, ttl)? {
        return Ok(found);
    }
    state
        .catalogue
        .refresh_stale(&snapshot, &state.cooldowns, ttl)
        .await;
    state
        .catalogue
        .resolve(&snapshot, model, ttl)?
        .ok_or_else(|| state.catalogue.unknown_model(&snapshot, model, ttl))
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

fn add_route_header(response: &mut Response, ep: &Endpoint) {
    if let Ok(v) = HeaderValue::from_str(&ep.name) {
        response.headers_mut().insert("x-modelgate-endpoint", v);
    }
}

/// What is recorded about a request once it ends.
pub struct RequestLog {
    pub endpoint: String,
    pub model: String,
    pub caller: Option<String>,
    pub stream: bool,
    pub started: Instant,
}

impl RequestLog {
    pub fn finish(self, state: &AppState, status: u16, usage: Option<Usage>) {
        let at = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX));
        tracing::debug!(endpoint = %self.endpoint, model = %self.model, status, "request finished");
        state.usage.record(UsageRecord {
            at,
            latency_ms: elapsed_ms(self.started),
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
