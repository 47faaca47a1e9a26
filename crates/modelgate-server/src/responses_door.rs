//! The Responses API's stored-response routes: `GET /v1/responses/{id}`,
//! `GET /v1/responses/{id}/input_items`, `DELETE /v1/responses/{id}` and
//! `POST /v1/responses/{id}/cancel`.
//!
//! modelgate stores no responses (see the README: the Responses front door
//! is stateless). These routes only make sense when the response lives on
//! an endpoint that speaks Responses itself, so they are passed through to
//! one: the endpoint the `x-modelgate-endpoint` request header names, else
//! the only such endpoint configured. Anything else is a clear 400 in the
//! Responses error shape.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use http::{HeaderMap, HeaderValue, Method, header};
use modelgate_protocol::codec::Format;
use modelgate_protocol::{ErrorKind, GatewayError};
use modelgate_upstream::auth::Operation;
use modelgate_upstream::{Endpoint, dispatch};

use crate::auth;
use crate::pipeline;
use crate::respond;
use crate::snapshot::Route;
use crate::state::AppState;

/// The request header that picks the endpoint a stored response lives on
/// (the same name as the response header that says which endpoint answered).
pub const ENDPOINT_HEADER: &str = "x-modelgate-endpoint";

/// `GET /v1/responses/{id}`.
pub async fn get(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    stored(&state, &headers, Method::GET, &id, "").await
}

/// `DELETE /v1/responses/{id}`.
pub async fn delete(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    stored(&state, &headers, Method::DELETE, &id, "").await
}

/// `GET /v1/responses/{id}/input_items`.
pub async fn input_items(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    stored(&state, &headers, Method::GET, &id, "/input_items").await
}

/// `POST /v1/responses/{id}/cancel`.
pub async fn cancel(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    stored(&state, &headers, Method::POST, &id, "/cancel").await
}

async fn stored(
    state: &AppState,
    headers: &HeaderMap,
    method: Method,
    id: &str,
    suffix: &str,
) -> Response {
    match forward(state, headers, method, id, suffix).await {
        Ok(response) => response,
        Err(e) => respond::error(Format::OpenAiResponses, &e),
    }
}

async fn forward(
    state: &AppState,
    headers: &HeaderMap,
    method: Method,
    id: &str,
    suffix: &str,
) -> Result<Response, GatewayError> {
    auth::gateway_caller(state, headers)?;
    check_id(id)?;
    let route = pick(state, headers)?;
    let endpoint = route.ready()?;
    let base = endpoint
        .model_url(Operation::Responses, "", false)
        .map_err(GatewayError::internal)?;
    let mut url = base.clone();
    url.set_path(&format!(
        "{}/{id}{suffix}",
        base.path().trim_end_matches('/')
    ));
    let upstream = dispatch::send_to(
        endpoint,
        &state.cooldowns,
        method,
        url,
        None,
        &HeaderMap::new(),
    )
    .await?;
    let upstream = pipeline::check_status(endpoint, upstream.response, upstream.key_index).await?;
    let status = upstream.status();
    let content_type = upstream.headers().get(header::CONTENT_TYPE).cloned();
    let body = pipeline::read(endpoint, upstream).await?;
    let mut response = (status, Body::from(body)).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        content_type.unwrap_or(HeaderValue::from_static("application/json")),
    );
    pipeline::add_route_header(&mut response, endpoint);
    Ok(response)
}

/// Response ids are opaque but short and URL-safe (`resp_…`); anything else
/// is refused before it is put in an upstream URL.
fn check_id(id: &str) -> Result<(), GatewayError> {
    let fine = !id.is_empty()
        && id.len() <= 256
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
    if fine {
        return Ok(());
    }
    Err(GatewayError::invalid_request(
        "the response id must be 1 to 256 letters, digits, `_` or `-` (as the `id` of a response, `resp_…`)",
    )
    .with_param("response_id"))
}

/// The endpoint that keeps stored responses: the one the header names, or
/// the only Responses-speaking endpoint.
fn pick(state: &AppState, headers: &HeaderMap) -> Result<Arc<Route>, GatewayError> {
    let snapshot = state.snapshot.load();
    let speaks = |route: &Route| route.ready().is_ok_and(Endpoint::speaks_responses);
    let candidates: Vec<&Arc<Route>> = snapshot.routes.values().filter(|r| speaks(r)).collect();
    let names = || {
        candidates
            .iter()
            .map(|r| format!("`{}`", r.name()))
            .collect::<Vec<_>>()
            .join(", ")
    };
    if let Some(wanted) = headers.get(ENDPOINT_HEADER) {
        let wanted = wanted.to_str().unwrap_or_default();
        let Some(route) = snapshot.routes.get(wanted) else {
            return Err(GatewayError::new(
                ErrorKind::NotFound,
                format!("no endpoint named `{wanted}` (header `{ENDPOINT_HEADER}`)"),
            )
            .with_code("endpoint_not_found"));
        };
        if !speaks(route) {
            return Err(stateless(&format!(
                "endpoint `{wanted}` does not speak the Responses API, so it keeps no responses"
            )));
        }
        return Ok(route.clone());
    }
    match candidates.as_slice() {
        [only] => Ok((*only).clone()),
        [] => Err(stateless(
            "no endpoint here speaks the Responses API (spec `openai-responses`, or `azure` with `api_version: v1`)",
        )),
        _ => Err(stateless(&format!(
            "several endpoints speak the Responses API ({}): name the one that created the response with the `{ENDPOINT_HEADER}` header",
            names()
        ))),
    }
}

fn stateless(why: &str) -> GatewayError {
    GatewayError::invalid_request(format!(
        "modelgate does not store responses; a stored response can only be read from the endpoint that created it, and {why}"
    ))
    .with_code("response_not_stored")
}

/// The `x-modelgate-dropped-tools` header: the hosted tools the client
/// offered that the endpoint cannot run, left out of the upstream request.
pub fn add_dropped_tools_header(response: &mut Response, dropped: &[String]) {
    if dropped.is_empty() {
        return;
    }
    if let Ok(v) = HeaderValue::from_str(&dropped.join(", ")) {
        response
            .headers_mut()
            .insert("x-modelgate-dropped-tools", v);
    }
}
