//! `GET /v1/models` and `GET /v1/models/{id}`, in OpenAI's shape, or in
//! Anthropic's when the caller sends `anthropic-version` (as its SDKs do).

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::response::Response;
use http::{HeaderMap, StatusCode};
use modelgate_protocol::codec::Format;
use serde_json::{Value, json};

use crate::auth;
use crate::catalogue::Need;
use crate::respond::{self, json};
use crate::state::AppState;

fn format_of(headers: &HeaderMap) -> Format {
    // The google-genai SDK lists under `/v1/models` by default.
    if headers.contains_key("x-goog-api-client") {
        Format::Gemini
    } else if headers.contains_key("anthropic-version") {
        Format::Anthropic
    } else {
        Format::OpenAiChat
    }
}

/// Every model of every endpoint, as `ENDPOINT/MODEL` (unambiguous ids).
pub async fn list(State(state): State<Arc<AppState>>, headers: HeaderMap) -> Response {
    let format = format_of(&headers);
    list_as(state, headers, format).await
}

/// `GET /v1beta/models`, in Gemini's shape.
pub async fn list_gemini(
    State(state): State<Arc<AppState>>,
    uri: http::Uri,
    headers: HeaderMap,
) -> Response {
    let headers = crate::gemini_door::key_headers(&headers, &uri);
    list_as(state, headers, Format::Gemini).await
}

/// `GET /v1beta/models/{id}`, in Gemini's shape.
pub async fn get_gemini(
    State(state): State<Arc<AppState>>,
    uri: http::Uri,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    let headers = crate::gemini_door::key_headers(&headers, &uri);
    let id = id.strip_prefix("models/").unwrap_or(&id).to_owned();
    get_as(state, headers, id, Format::Gemini).await
}

async fn list_as(state: Arc<AppState>, headers: HeaderMap, format: Format) -> Response {
    if let Err(e) = auth::gateway_caller(&state, &headers) {
        return respond::error(format, &e);
    }
    let snapshot = state.snapshot.load_full();
    state.ensure_models(&snapshot, Need::Missing, None).await;
    let mut data = Vec::new();
    for route in snapshot.routes.values() {
        for model in state.catalogue.models_of(route) {
            data.push(model_object(
                format,
                &format!("{}/{model}", route.name()),
                route.name(),
            ));
        }
    }
    let body = match format {
        Format::OpenAiChat | Format::OpenAiResponses => json!({"object": "list", "data": data}),
        Format::Anthropic => {
            let id = |v: Option<&Value>| v.map_or(Value::Null, |m| m["id"].clone());
            json!({"data": data, "has_more": false, "first_id": id(data.first()), "last_id": id(data.last())})
        }
        Format::Gemini => json!({"models": data}),
    };
    json(StatusCode::OK, &body)
}

pub async fn get(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    let format = format_of(&headers);
    get_as(state, headers, id, format).await
}

async fn get_as(state: Arc<AppState>, headers: HeaderMap, id: String, format: Format) -> Response {
    if let Err(e) = auth::gateway_caller(&state, &headers) {
        return respond::error(format, &e);
    }
    if let Err(e) = crate::pipeline::check_model_id(&id) {
        return respond::error(format, &e);
    }
    let snapshot = state.snapshot.load_full();
    state.ensure_models(&snapshot, Need::Missing, None).await;
    let found = match state.catalogue.resolve(&snapshot, &id) {
        Ok(Some(found)) => found,
        Ok(None) => {
            return respond::error(format, &state.catalogue.unknown_model(&snapshot, &id));
        }
        Err(e) => return respond::error(format, &e),
    };
    json(
        StatusCode::OK,
        &model_object(format, &id, found.route.name()),
    )
}

fn model_object(format: Format, id: &str, owner: &str) -> Value {
    match format {
        Format::OpenAiChat | Format::OpenAiResponses => {
            json!({"id": id, "object": "model", "created": 0, "owned_by": owner})
        }
        Format::Anthropic => json!({
            "type": "model", "id": id, "display_name": id, "created_at": "1970-01-01T00:00:00Z"
        }),
        Format::Gemini => json!({
            "name": format!("models/{id}"), "displayName": id, "description": format!("{id} on endpoint {owner}"),
            "supportedGenerationMethods": ["generateContent", "streamGenerateContent", "countTokens"]
        }),
    }
}
