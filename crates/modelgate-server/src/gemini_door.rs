//! The Gemini API front door: `POST /v1beta/models/{model}:{method}` (and
//! the same under `/v1/`, the google-genai SDK's default), `GET
//! /v1beta/models` and `GET /v1beta/models/{model}`.
//!
//! * The model is in the path, not the body: `ENDPOINT/MODEL` (with a
//!   literal or a `%2F` slash) or a bare id, resolved like any other.
//! * `:generateContent` answers once; `:streamGenerateContent` streams, as
//!   SSE with `?alt=sse`, else as Google does without it: one JSON array
//!   (`[` chunk `,` chunk … `]`) written as the chunks arrive.
//! * `:countTokens` is passed to a `google` endpoint; elsewhere it is
//!   estimated (about four characters per token) and marked so:
//!   `"estimated": true` in the body, `x-modelgate-estimate: true`.
//! * A `google` endpoint gets the body as written (only `drop_params` /
//!   `add_params` edit it) with the mapped model in its URL; other
//!   endpoints get it translated, and their answer translated back.
//! * The caller's gateway key: `x-goog-api-key`, `?key=` or Bearer.
//! * Errors are Google's envelope (`{"error": {"code", "message",
//!   "status"}}`); an unknown method is a 404 naming the served ones.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use futures_util::{Stream, StreamExt};
use http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header};
use modelgate_protocol::body::JsonObject;
use modelgate_protocol::codec::Format;
use modelgate_protocol::framing::sse::SseDecoder;
use modelgate_protocol::{ErrorKind, GatewayError};
use modelgate_upstream::auth::Operation;
use modelgate_upstream::{dispatch, errors};
use serde_json::{Value, json};

use crate::pipeline::{self, RequestLog};
use crate::state::AppState;
use crate::{auth, forward, respond};

/// The route every Gemini request is logged under.
const ROUTE: &str = "/v1beta/models";

/// The methods served on a model.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Call {
    Generate,
    Stream,
    CountTokens,
}

/// `MODEL:method` → the model and the call; the model keeps any `/` or
/// `:` of its own (the method is after the last `:`).
fn parse_tail(tail: &str) -> Result<(&str, Call), GatewayError> {
    let tail = tail.trim_start_matches('/');
    let Some((model, method)) = tail.rsplit_once(':') else {
        return Err(not_served(tail));
    };
    let call = match method {
        "generateContent" => Call::Generate,
        "streamGenerateContent" => Call::Stream,
        "countTokens" => Call::CountTokens,
        _ => return Err(not_served(method)),
    };
    // A model named by its listed name (`models/ENDPOINT/MODEL`).
    let model = model.strip_prefix("models/").unwrap_or(model);
    if model.is_empty() {
        return Err(GatewayError::invalid_request(
            "the path names no model: use /v1beta/models/ENDPOINT/MODEL:generateContent",
        ));
    }
    Ok((model, call))
}

fn not_served(what: &str) -> GatewayError {
    GatewayError::not_found(format!(
        "`{what}` is not served: modelgate serves models/MODEL:generateContent, :streamGenerateContent and :countTokens, and GET models"
    ))
    .with_code("route_not_found")
}

/// The query's parameters (a malformed query reads as none).
fn query_of(uri: &Uri) -> HashMap<String, String> {
    Query::<HashMap<String, String>>::try_from_uri(uri)
        .map(|q| q.0)
        .unwrap_or_default()
}

/// The headers with `?key=` as `x-goog-api-key` when no header carries a key.
fn with_query_key(headers: &HeaderMap, query: &HashMap<String, String>) -> HeaderMap {
    let mut headers = headers.clone();
    let has_header_key = ["authorization", "x-goog-api-key", "x-api-key", "api-key"]
        .iter()
        .any(|h| headers.contains_key(*h));
    if !has_header_key
        && let Some(key) = query.get("key")
        && let Ok(mut value) = HeaderValue::from_str(key)
    {
        value.set_sensitive(true);
        headers.insert("x-goog-api-key", value);
    }
    headers
}

/// The request's headers with its `?key=` as `x-goog-api-key` (for the
/// model list routes).
pub fn key_headers(headers: &HeaderMap, uri: &Uri) -> HeaderMap {
    with_query_key(headers, &query_of(uri))
}

/// `POST /v1beta/models/{*rest}` and `POST /v1/models/{*rest}`.
pub async fn post(
    State(state): State<Arc<AppState>>,
    Path(tail): Path<String>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let started = Instant::now();
    let mut log = None;
    let result = run(&state, &tail, &uri, &headers, body, started, &mut log).await;
    pipeline::conclude(&state, ROUTE, Format::Gemini, started, log, result)
}

async fn run(
    state: &Arc<AppState>,
    tail: &str,
    uri: &Uri,
    headers: &HeaderMap,
    body: Bytes,
    started: Instant,
    log: &mut Option<RequestLog>,
) -> Result<Response, GatewayError> {
    let query = query_of(uri);
    let headers = with_query_key(headers, &query);
    let caller = auth::gateway_caller(state, &headers)?;
    let (model, call) = parse_tail(tail)?;
    let routed = pipeline::route_model(state, Format::Gemini, model.to_owned()).await?;
    if call == Call::CountTokens {
        return count_tokens(state, &routed, body).await;
    }
    let stream = call == Call::Stream;
    let sse = query.get("alt").is_some_and(|alt| alt == "sse");
    *log = Some(RequestLog {
        route: ROUTE,
        endpoint: routed.route.name().to_owned(),
        model: routed.upstream_model.clone(),
        caller: caller.key_id,
        stream,
        started,
    });
    let response = if routed.target == Format::Gemini {
        let endpoint = routed.route.ready()?;
        let mut request = JsonObject::parse(&body).map_err(|e| {
            GatewayError::invalid_request(format!(
                "{e}; send a JSON object (a GenerateContentRequest, with `contents`)"
            ))
        })?;
        // The model is in the URL: only the params settings edit the body.
        let changed = pipeline::shape(&mut request, endpoint, model, model);
        let upstream_body = if changed {
            Bytes::from(request.to_vec())
        } else {
            body.clone()
        };
        drop(request);
        let upstream =
            pipeline::send(state, &routed, stream, upstream_body, &HeaderMap::new()).await?;
        if stream && !pipeline::is_sse(&upstream) {
            // The array form is made from SSE: anything else would come
            // out as an empty answer.
            return Err(GatewayError::new(
                ErrorKind::Upstream,
                format!(
                    "endpoint `{}` answered a streamed request without a stream (asked with alt=sse)",
                    endpoint.name
                ),
            ));
        }
        pipeline::respond_passthrough(state, &routed, Format::Gemini, false, upstream, log).await?
    } else {
        crate::translate::run(state, Format::Gemini, routed, &body, Some(stream), log).await?
    };
    Ok(if stream && !sse {
        json_array(response)
    } else {
        response
    })
}

/// `:countTokens`: Google counts for itself; elsewhere it is estimated.
async fn count_tokens(
    state: &AppState,
    routed: &pipeline::Routed,
    body: Bytes,
) -> Result<Response, GatewayError> {
    if routed.target != Format::Gemini {
        return Ok(estimate(&body));
    }
    let endpoint = routed.route.ready()?;
    let generate = endpoint
        .model_url(Operation::Chat, &routed.upstream_model, false)
        .map_err(GatewayError::internal)?;
    let url = generate
        .as_str()
        .strip_suffix(":generateContent")
        .map(|base| format!("{base}:countTokens"))
        .and_then(|u| reqwest::Url::parse(&u).ok())
        .ok_or_else(|| GatewayError::internal("cannot make the countTokens URL"))?;
    let upstream = dispatch::send_to(
        endpoint,
        &state.cooldowns,
        Method::POST,
        url,
        Some(body),
        &HeaderMap::new(),
    )
    .await?
    .response;
    let status = upstream.status();
    let answer = forward::read_body(endpoint, upstream).await?;
    if !status.is_success() {
        return Err(errors::status_error(endpoint, status.as_u16(), &answer));
    }
    let mut response = (StatusCode::OK, Body::from(answer)).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    Ok(response)
}

/// About four characters per token over the request's texts, marked as an
/// estimate.
fn estimate(body: &[u8]) -> Response {
    let value: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
    // A `generateContentRequest` wrapper counts like the bare request.
    let request = value.get("generateContentRequest").unwrap_or(&value);
    let chars = ["contents", "systemInstruction", "tools"]
        .iter()
        .map(|k| crate::count_tokens::text_chars(&request[k]))
        .sum::<usize>();
    let mut response = respond::json(
        StatusCode::OK,
        &json!({"totalTokens": chars.div_ceil(4), "estimated": true}),
    );
    response
        .headers_mut()
        .insert("x-modelgate-estimate", HeaderValue::from_static("true"));
    response
}

/// An SSE response of Gemini chunks as Google's stream without `alt=sse`:
/// one JSON array, each chunk written as it arrives.
fn json_array(response: Response) -> Response {
    let (mut parts, body) = response.into_parts();
    parts.headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    let body = Body::from_stream(array_stream(body.into_data_stream()));
    Response::from_parts(parts, body)
}

/// SSE `data:` frames → `[`, the frames separated by `,`, `]`.
fn array_stream<S>(inner: S) -> impl Stream<Item = Result<Bytes, axum::Error>> + Send
where
    S: Stream<Item = Result<Bytes, axum::Error>> + Send + Unpin + 'static,
{
    let state = (inner, ArrayWriter::default(), false);
    futures_util::stream::unfold(state, |(mut inner, mut writer, ended)| async move {
        if ended {
            return None;
        }
        loop {
            match inner.next().await {
                Some(Ok(chunk)) => {
                    let out = writer.push(&chunk);
                    if !out.is_empty() {
                        return Some((Ok(Bytes::from(out)), (inner, writer, false)));
                    }
                }
                Some(Err(e)) => return Some((Err(e), (inner, writer, true))),
                None => {
                    let out = writer.finish();
                    return Some((Ok(Bytes::from(out)), (inner, writer, true)));
                }
            }
        }
    })
}

/// Rewrites SSE frames as the elements of one JSON array.
#[derive(Default)]
struct ArrayWriter {
    sse: SseDecoder,
    opened: bool,
}

impl ArrayWriter {
    fn push(&mut self, chunk: &[u8]) -> Vec<u8> {
        let mut frames = Vec::new();
        self.sse.push(chunk, &mut frames);
        self.write(&frames)
    }

    fn finish(&mut self) -> Vec<u8> {
        let mut frames = Vec::new();
        self.sse.finish(&mut frames);
        let mut out = self.write(&frames);
        if !self.opened {
            out.push(b'[');
        }
        out.push(b']');
        out
    }

    fn write(&mut self, frames: &[modelgate_protocol::framing::sse::SseEvent]) -> Vec<u8> {
        let mut out = Vec::new();
        for frame in frames {
            let data = frame.data.trim();
            if data.is_empty() {
                continue;
            }
            out.extend_from_slice(if self.opened { b",\r\n" } else { b"[" });
            self.opened = true;
            out.extend_from_slice(data.as_bytes());
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tails_name_the_model_and_the_call() {
        fn ok(t: &str) -> Result<(&str, Call), String> {
            parse_tail(t).map_err(|e| e.message)
        }
        assert_eq!(
            ok("fake/fake-model:generateContent"),
            Ok(("fake/fake-model", Call::Generate))
        );
        assert_eq!(
            ok("models/gemini-2.5-flash:streamGenerateContent"),
            Ok(("gemini-2.5-flash", Call::Stream))
        );
        assert_eq!(
            ok("ollama/llama3:8b:countTokens"),
            Ok(("ollama/llama3:8b", Call::CountTokens))
        );
        let err = parse_tail("x:embedContent").map(|_| ()).unwrap_err();
        assert_eq!(err.status, 404);
        assert!(err.message.contains("generateContent"), "{}", err.message);
        assert!(parse_tail("no-method").is_err());
        assert!(parse_tail(":generateContent").is_err());
    }

    #[test]
    fn sse_frames_become_one_array() {
        let mut w = ArrayWriter::default();
        let mut out = w.push(b"data: {\"a\":1}\n\ndata: {\"b\"");
        out.extend(w.push(b":2}\n\n"));
        out.extend(w.finish());
        let value: Value = serde_json::from_slice(&out).unwrap_or_default();
        assert_eq!(value, json!([{"a": 1}, {"b": 2}]));
        let mut empty = ArrayWriter::default();
        assert_eq!(empty.finish(), b"[]");
    }

    #[test]
    fn query_key_is_used_only_without_a_header() {
        let query = HashMap::from([("key".to_owned(), "mg-q".to_owned())]);
        let h = with_query_key(&HeaderMap::new(), &query);
        assert_eq!(
            h.get("x-goog-api-key").map(|v| v.as_bytes()),
            Some(&b"mg-q"[..])
        );
        let mut bearer = HeaderMap::new();
        bearer.insert("authorization", HeaderValue::from_static("Bearer mg-h"));
        assert!(!with_query_key(&bearer, &query).contains_key("x-goog-api-key"));
    }
}
