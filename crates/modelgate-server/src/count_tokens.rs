//! `POST /v1/messages/count_tokens`.
//!
//! An Anthropic endpoint counts for itself (the request is passed through).
//! Other endpoints, and Anthropic-compatible ones that answer 404 there,
//! cannot count, so modelgate estimates: about four
//! characters per token over every text of the request. The answer then
//! says so: `"estimated": true` in the body and `x-modelgate-estimate: true`.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use modelgate_protocol::GatewayError;
use modelgate_protocol::codec::Format;
use modelgate_upstream::auth::Operation;
use modelgate_upstream::{dispatch, errors};
use serde_json::{Value, json};

use crate::pipeline::{parse, route_request};
use crate::state::AppState;
use crate::{auth, forward, respond};

pub async fn count_tokens(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let result = async {
        auth::gateway_caller(&state, &headers)?;
        count(&state, &headers, &body).await
    };
    match result.await {
        Ok(response) => response,
        Err(e) => respond::error(Format::Anthropic, &e),
    }
}

async fn count(
    state: &AppState,
    headers: &HeaderMap,
    body: &Bytes,
) -> Result<Response, GatewayError> {
    let mut request = parse(body)?;
    let routed = route_request(state, Format::Anthropic, &request).await?;
    let endpoint = routed.route.ready()?;
    if routed.target == Format::Anthropic {
        request.set_str("model", &routed.upstream_model);
        let upstream = dispatch::send(
            endpoint,
            &state.cooldowns,
            Method::POST,
            Operation::CountTokens,
            Some(Bytes::from(request.to_vec())),
            &crate::pipeline::passed_on(headers),
        )
        .await?
        .response;
        let status = upstream.status();
        let answer = forward::read_body(endpoint, upstream).await?;
        // Anthropic-compatible proxies often lack count_tokens: estimate then.
        if status == StatusCode::NOT_FOUND {
            return Ok(estimate(body));
        }
        if !status.is_success() {
            return Err(errors::status_error(endpoint, status.as_u16(), &answer));
        }
        let mut response = (StatusCode::OK, Body::from(answer)).into_response();
        response.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        return Ok(response);
    }
    Ok(estimate(body))
}

/// About four characters per token, marked as an estimate.
fn estimate(body: &[u8]) -> Response {
    let value: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
    let chars = ["system", "messages", "tools"]
        .iter()
        .map(|k| text_chars(&value[k]))
        .sum::<usize>();
    let tokens = chars.div_ceil(4);
    let mut response = respond::json(
        StatusCode::OK,
        &json!({"input_tokens": tokens, "estimated": true}),
    );
    response
        .headers_mut()
        .insert("x-modelgate-estimate", HeaderValue::from_static("true"));
    response
}

/// Characters of every string in a JSON value (keys of schemas included,
/// since tool definitions cost tokens too).
pub(crate) fn text_chars(value: &Value) -> usize {
    match value {
        Value::String(s) => s.chars().count(),
        Value::Array(items) => items.iter().map(text_chars).sum(),
        Value::Object(map) => map.iter().map(|(k, v)| k.len() + text_chars(v)).sum(),
        _ => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_every_text() {
        let v = json!({"messages": [{"role": "user", "content": "abcd"}]});
        // "role"+"user"+"content"+"abcd" = 4+4+7+4
        assert_eq!(text_chars(&v["messages"]), 19);
    }
}
