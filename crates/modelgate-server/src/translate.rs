//! Translation: the client speaks one format, the endpoint another.
//!
//! client body → canonical request → endpoint body (plus the endpoint's
//! add/drop params) → dispatch → endpoint answer → canonical → client
//! answer, streamed event by event when the client asked for a stream.

use std::sync::Arc;

use axum::response::Response;
use bytes::Bytes;
use http::StatusCode;
use modelgate_config::{ReasoningFormat as FormatSetting, ReasoningKey as KeySetting};
use modelgate_protocol::codec::Format;
use modelgate_protocol::secret::scrub;
use modelgate_protocol::translate::{
    Context, DEFAULT_MAX_TOKENS, ReasoningFormat, ReasoningKey, Target, ToolNames,
};
use modelgate_protocol::{ErrorKind, GatewayError};
use modelgate_upstream::Endpoint;
use serde_json::Value;

use crate::forward::Mode;
use crate::pipeline::{self, RequestLog, Routed, add_route_header, unix_secs};
use crate::respond;
use crate::responses_door::add_dropped_tools_header;
use crate::state::AppState;

/// `stream`: set when the URL, not the body, says whether to stream.
pub async fn run(
    state: &Arc<AppState>,
    front: Format,
    routed: Routed,
    body: &[u8],
    stream: Option<bool>,
    log: &mut Option<RequestLog>,
) -> Result<Response, GatewayError> {
    let endpoint = routed.route.ready()?;
    let mut request = front.decode_request(body)?;
    // Gemini's URL, not its body, says whether to stream.
    if let Some(stream) = stream {
        request.stream = stream;
        // Its streams always carry usage.
        request.include_usage = stream;
    }
    let target = target(&routed);
    let mut names = ToolNames::default();
    let mut encoded = routed
        .target
        .encode_request(&request, &target, &mut names)?;
    apply_settings(&mut encoded, endpoint);
    if endpoint.vertex.is_some()
        && routed.target == Format::Anthropic
        && let Value::Object(map) = &mut encoded
    {
        modelgate_upstream::vertex::edit_claude_body(map);
    }
    let upstream_body = serde_json::to_vec(&encoded).map_err(|e| {
        GatewayError::internal(format!("cannot serialize the translated request: {e}"))
    })?;
    let ctx = Context {
        client_model: routed.client_model.clone(),
        include_usage: request.include_usage,
        created: unix_secs(),
        tool_names: names,
        client_tools: request.client_tools.clone(),
    };
    let upstream = pipeline::send(
        state,
        &routed,
        request.stream,
        Bytes::from(upstream_body),
        &http::HeaderMap::new(),
    )
    .await?;

    if request.stream {
        if !pipeline::is_sse(&upstream) {
            return Err(GatewayError::new(
                ErrorKind::Upstream,
                format!(
                    "endpoint `{}` answered a streamed request without a stream; is `{}` the right spec for it?",
                    endpoint.name, endpoint.spec
                ),
            ));
        }
        let mode = Mode::translate(
            routed.target.stream_decoder(&ctx),
            front.stream_encoder(&ctx),
        );
        let mut response = pipeline::streamed(state, &routed, front, mode, upstream, log);
        add_dropped_tools_header(&mut response, &request.dropped_tools);
        return Ok(response);
    }

    let body = pipeline::read(endpoint, upstream).await?;
    let decoded = routed.target.decode_response(&body, &ctx);
    let answer = match decoded {
        Ok(answer) => answer,
        Err(mut e) => {
            // An error body the upstream answered with 200 may echo a key.
            e.message = scrub(&e.message, &endpoint.secrets);
            return Err(e);
        }
    };
    if let Some(log) = log.take() {
        log.finish(state, 200, Some(answer.usage));
    }
    let mut response = respond::json(StatusCode::OK, &front.encode_response(&answer, &ctx));
    add_route_header(&mut response, endpoint);
    add_dropped_tools_header(&mut response, &request.dropped_tools);
    Ok(response)
}

/// The endpoint's settings as the encoder needs them.
fn target(routed: &Routed) -> Target {
    let config = &routed.route.config;
    Target {
        model: routed.upstream_model.clone(),
        default_max_tokens: config
            .max_tokens_for(&routed.upstream_model)
            .unwrap_or(DEFAULT_MAX_TOKENS),
        reasoning_format: match config.reasoning_format {
            None | Some(FormatSetting::ReasoningEffort) => ReasoningFormat::ReasoningEffort,
            Some(FormatSetting::ReasoningObject) => ReasoningFormat::ReasoningObject,
            Some(FormatSetting::Disabled) => ReasoningFormat::Disabled,
        },
        reasoning_key: match config.reasoning_key {
            None | Some(KeySetting::ReasoningContent) => ReasoningKey::ReasoningContent,
            Some(KeySetting::Reasoning) => ReasoningKey::Reasoning,
        },
    }
}

/// `drop_params` and `add_params` on a translated body, as on a passthrough one.
fn apply_settings(body: &mut Value, ep: &Endpoint) {
    let Value::Object(map) = body else {
        return;
    };
    for key in &ep.drop_params {
        map.remove(key);
    }
    if !ep.takes_stream_usage() {
        map.remove("stream_options");
    }
    modelgate_protocol::body::merge_objects(map, &ep.add_params);
}
