//! Responses in the caller's format.

use axum::body::Body;
use axum::response::{IntoResponse, Response};
use http::{HeaderValue, StatusCode, header};
use modelgate_protocol::GatewayError;
use modelgate_protocol::codec::Format;
use modelgate_protocol::framing::sse::encode_data_event;
use modelgate_protocol::tap::StreamSummary;

/// An error as the client's own API would answer it.
pub fn error(format: Format, err: &GatewayError) -> Response {
    let status = match (format, err.status) {
        // Many HTTP stacks do not know 529; OpenAI clients (chat and
        // Responses) get 503.
        (Format::OpenAiChat | Format::OpenAiResponses, 529) => StatusCode::SERVICE_UNAVAILABLE,
        (_, s) => StatusCode::from_u16(s).unwrap_or(StatusCode::BAD_GATEWAY),
    };
    let mut response = (status, Body::from(format.encode_error(err))).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    if let Some(after) = err.retry_after {
        headers.insert(
            header::RETRY_AFTER,
            HeaderValue::from(after.as_secs().max(1)),
        );
    }
    response
}

/// An OpenAI-shaped error (the admin API and model routes use it too).
pub fn openai_error(err: &GatewayError) -> Response {
    error(Format::OpenAiChat, err)
}

/// An error after the stream began, as an event of the client's format
/// (`summary`: what the client was sent so far, for Responses numbering).
pub fn stream_error(format: Format, err: &GatewayError, summary: &StreamSummary) -> Vec<u8> {
    match format {
        Format::OpenAiChat | Format::Gemini => {
            encode_data_event(&String::from_utf8_lossy(&format.encode_error(err))).into_bytes()
        }
        Format::Anthropic => modelgate_protocol::spec::anthropic::error::encode_error_event(err),
        Format::OpenAiResponses => {
            let next = summary.last_sequence.map_or(0, |n| n.saturating_add(1));
            modelgate_protocol::spec::openai_responses::error::encode_error_event(err, next)
        }
    }
}

/// A JSON body with a status.
pub fn json(status: StatusCode, value: &serde_json::Value) -> Response {
    let body = serde_json::to_vec(value).unwrap_or_default();
    let mut response = (status, Body::from(body)).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}

/// The headers of a streamed response.
pub fn sse(body: Body) -> Response {
    let mut response = Response::new(body);
    let h = response.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/event-stream"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    h.insert("x-accel-buffering", HeaderValue::from_static("no"));
    response
}
