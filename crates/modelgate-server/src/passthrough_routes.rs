//! Routes that tools expect beside chat, passed through to endpoints that
//! speak them: `POST /v1/embeddings` (RAG tools) and `POST /v1/completions`
//! (legacy and fill-in-the-middle completions, for autocomplete).
//!
//! These exist only in the OpenAI API, so only `openai-chat-completions`
//! endpoints serve them (Azure and the other specs add theirs in their own
//! issues); the body is edited as a chat body is (`model` mapping,
//! `add_params`/`drop_params`) and the answer, stream or not, forwarded as
//! it came, its usage recorded.

use std::sync::Arc;
use std::time::Instant;

use axum::extract::State;
use axum::response::Response;
use bytes::Bytes;
use http::{HeaderMap, Method};
use modelgate_protocol::codec::Format;
use modelgate_protocol::{ErrorKind, GatewayError, Spec};
use modelgate_upstream::dispatch;

use crate::auth;
use crate::pipeline::{self, RequestLog};
use crate::state::AppState;

/// An OpenAI operation beside chat.
#[derive(Debug, Clone, Copy)]
enum Operation {
    Embeddings,
    Completions,
}

impl Operation {
    fn route(self) -> &'static str {
        match self {
            Operation::Embeddings => "/v1/embeddings",
            Operation::Completions => "/v1/completions",
        }
    }

    /// The path below an OpenAI-compatible base URL.
    fn path(self) -> &'static str {
        match self {
            Operation::Embeddings => "embeddings",
            Operation::Completions => "completions",
        }
    }
}

/// `POST /v1/embeddings`.
pub async fn embeddings(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    handle(state, Operation::Embeddings, headers, body).await
}

/// `POST /v1/completions`.
pub async fn completions(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    handle(state, Operation::Completions, headers, body).await
}

async fn handle(state: Arc<AppState>, op: Operation, headers: HeaderMap, body: Bytes) -> Response {
    let started = Instant::now();
    let mut log = None;
    let result = forward(&state, op, &headers, body, started, &mut log).await;
    pipeline::conclude(&state, op.route(), Format::OpenAiChat, started, log, result)
}

async fn forward(
    state: &Arc<AppState>,
    op: Operation,
    headers: &HeaderMap,
    body: Bytes,
    started: Instant,
    log: &mut Option<RequestLog>,
) -> Result<Response, GatewayError> {
    let caller = auth::gateway_caller(state, headers)?;
    let mut request = pipeline::parse(&body)?;
    let routed = pipeline::route_request(state, Format::OpenAiChat, &request).await?;
    let endpoint = routed.route.ready()?;
    if endpoint.spec != Spec::OpenAiChatCompletions || endpoint.direct {
        let why = if endpoint.direct {
            "is a direct endpoint (its base URL is its chat operation)".to_owned()
        } else {
            format!("speaks `{}`", endpoint.spec)
        };
        return Err(GatewayError::new(
            ErrorKind::NotSupported,
            format!(
                "`{}` is passed through only to `openai-chat-completions` endpoints, and endpoint `{}` {why}; use an OpenAI-compatible endpoint for it",
                op.route(),
                endpoint.name
            ),
        )
        .with_code("operation_not_supported"));
    }
    let stream = request.get_bool("stream").unwrap_or(false);
    *log = Some(RequestLog {
        route: op.route(),
        endpoint: routed.route.name().to_owned(),
        model: routed.upstream_model.clone(),
        caller: caller.key_id,
        stream,
        started,
    });
    let changed = pipeline::shape(
        &mut request,
        endpoint,
        &routed.client_model,
        &routed.upstream_model,
    );
    let upstream_body = if changed {
        Bytes::from(request.to_vec())
    } else {
        body.clone()
    };
    drop(request);
    let url = reqwest::Url::parse(&format!("{}/{}", endpoint.base_url, op.path()))
        .map_err(|e| GatewayError::internal(format!("cannot build the {} URL: {e}", op.route())))?;
    let upstream = dispatch::send_to(
        endpoint,
        &state.cooldowns,
        Method::POST,
        url,
        Some(upstream_body),
        &HeaderMap::new(),
    )
    .await?;
    let upstream = pipeline::check_status(endpoint, upstream.response, upstream.key_index).await?;
    pipeline::respond_passthrough(state, &routed, Format::OpenAiChat, false, upstream, log).await
}
