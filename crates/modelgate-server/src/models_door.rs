//! `GET /v1/models` and `GET /v1/models/{id}` in OpenAI's shape.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::response::Response;
use http::{HeaderMap, StatusCode};
use serde_json::json;

use crate::auth;
use crate::respond::{json, openai_error};
use crate::state::AppState;

/// Every model of every endpoint, as `ENDPOINT/MODEL` (unambiguous ids).
pub async fn list(State(state): State<Arc<AppState>>, headers: HeaderMap) -> Response {
    if let Err(e) = auth::gateway_caller(&state, &headers) {
        return openai_error(&e);
    }
    let ttl = state.catalogue_ttl();
    let snapshot = state.snapshot.load_full();
    state
        .catalogue
        .refresh_stale(&snapshot, &state.cooldowns, ttl)
        .await;
    let mut data = Vec::new();
    for route in snapshot.routes.values() {
        for model in state.catalogue.models_of(route, ttl) {
            data.push(model_object(
                &format!("{}/{model}", route.name()),
                route.name(),
            ));
        }
    }
    json(StatusCode::OK, &json!({"object": "list", "data": data}))
}

pub async fn get(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    if let Err(e) = auth::gateway_caller(&state, &headers) {
        return openai_error(&e);
    }
    let ttl = state.catalogue_ttl();
    let snapshot = state.snapshot.load_full();
    let found = match state.catalogue.resolve(&snapshot, &id, ttl) {
        Ok(Some(found)) => found,
        Ok(None) => return openai_error(&state.catalogue.unknown_model(&snapshot, &id, ttl)),
        Err(e) => return openai_error(&e),
    };
    json(StatusCode::OK, &model_object(&id, found.route.name()))
}

fn model_object(id: &str, owner: &str) -> serde_json::Value {
    json!({"id": id, "object": "model", "created": 0, "owned_by": owner})
}
