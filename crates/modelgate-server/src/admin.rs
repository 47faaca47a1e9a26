//! The admin API (JSON, bearer admin token): endpoints and gateway keys.
//!
//! Responses never carry a secret in clear: keys are masked (`sk-…wxyz`),
//! and so are header values whose names suggest credentials.

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, State};
use axum::response::Response;
use http::{HeaderMap, StatusCode};
use modelgate_config::EndpointConfig;
use modelgate_protocol::secret::mask_secret;
use modelgate_protocol::{ErrorKind, GatewayError};
use modelgate_store::{EndpointEdit, GatewayKey, StoreError};
use serde_json::{Value, json};

use crate::auth::check_admin;
use crate::respond::{json, openai_error};
use crate::snapshot::{Route, Source};
use crate::state::AppState;

type Result<T> = std::result::Result<T, GatewayError>;

fn done(result: Result<(StatusCode, Value)>) -> Response {
    match result {
        Ok((status, body)) => json(status, &body),
        Err(e) => openai_error(&e),
    }
}

fn store_error(e: StoreError) -> GatewayError {
    if let StoreError::Rejected(message) = e {
        // An edit refused inside the store's transaction: an invalid patch.
        return invalid(message);
    }
    let kind = match &e {
        StoreError::AlreadyExists { .. } => ErrorKind::InvalidRequest,
        StoreError::NotFound { .. } => ErrorKind::NotFound,
        _ => ErrorKind::Internal,
    };
    let status = if matches!(e, StoreError::AlreadyExists { .. }) {
        409
    } else {
        kind.default_status()
    };
    GatewayError::new(kind, e.to_string()).with_status(status)
}

/// An endpoint as the admin API shows it.
pub fn endpoint_view(route: &Route) -> Value {
    let config = &route.config;
    let mut view = serde_json::to_value(config).unwrap_or_default();
    if let Value::Object(map) = &mut view {
        map.remove("api_key");
        let keys: Vec<String> = config.keys().into_iter().map(mask_secret).collect();
        map.insert("api_keys".into(), json!(keys));
        if let Some(Value::Object(headers)) = map.get_mut("headers") {
            for (name, value) in headers.iter_mut() {
                if is_sensitive_header(name)
                    && let Some(s) = value.as_str()
                {
                    *value = json!(mask_secret(s));
                }
            }
        }
        map.insert("source".into(), json!(route.source));
        let status = match &route.endpoint {
            Ok(_) => json!("ready"),
            Err(e) => json!(format!("unusable: {}", e.message)),
        };
        map.insert("status".into(), status);
    }
    view
}

fn is_sensitive_header(name: &str) -> bool {
    let n = name.to_ascii_lowercase();
    [
        "authorization",
        "key",
        "token",
        "secret",
        "cookie",
        "password",
    ]
    .iter()
    .any(|s| n.contains(s))
}

fn route(state: &AppState, name: &str) -> Result<Arc<Route>> {
    state
        .snapshot
        .load()
        .routes
        .get(name)
        .cloned()
        .ok_or_else(|| {
            GatewayError::not_found(format!(
                "no endpoint named `{name}`; `modelgate endpoints list` shows them"
            ))
            .with_code("endpoint_not_found")
        })
}

fn read_only(state: &AppState, name: &str) -> GatewayError {
    let file = state
        .settings
        .config_path
        .as_deref()
        .unwrap_or("the config file");
    GatewayError::invalid_request(format!(
        "endpoint `{name}` is declared in {file} and is read-only here; edit the file instead"
    ))
    .with_status(409)
    .with_code("endpoint_read_only")
}

fn invalid(e: impl std::fmt::Display) -> GatewayError {
    GatewayError::invalid_request(e.to_string()).with_code("invalid_endpoint")
}

/// Normalizes and validates an endpoint that arrived as JSON.
fn checked(value: Value) -> Result<EndpointConfig> {
    let mut config: EndpointConfig = serde_json::from_value(value).map_err(|e| {
        invalid(format!(
            "{e}; see `modelgate config schema` for the fields an endpoint has"
        ))
    })?;
    modelgate_config::normalize_endpoint(&mut config);
    modelgate_config::validate_endpoint(&config).map_err(invalid)?;
    Ok(config)
}

pub async fn list_endpoints(State(state): State<Arc<AppState>>, headers: HeaderMap) -> Response {
    done((|| -> Result<(StatusCode, Value)> {
        check_admin(&state, &headers)?;
        let snapshot = state.snapshot.load();
        let list: Vec<Value> = snapshot.routes.values().map(|r| endpoint_view(r)).collect();
        Ok((StatusCode::OK, json!({ "endpoints": list })))
    })())
}

pub async fn get_endpoint(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Path(name): Path<String>,
) -> Response {
    done((|| -> Result<(StatusCode, Value)> {
        check_admin(&state, &headers)?;
        Ok((
            StatusCode::OK,
            endpoint_view(route(&state, &name)?.as_ref()),
        ))
    })())
}

pub async fn create_endpoint(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Response {
    done(create(&state, &headers, body).await)
}

async fn create(state: &AppState, headers: &HeaderMap, body: Value) -> Result<(StatusCode, Value)> {
    check_admin(state, headers)?;
    let config = checked(body)?;
    if let Some(existing) = state.snapshot.load().routes.get(&config.name) {
        return Err(match existing.source {
            Source::File => read_only(state, &config.name),
            Source::Store => GatewayError::invalid_request(format!(
                "an endpoint named `{}` already exists; update it or pick another name",
                config.name
            ))
            .with_status(409)
            .with_code("endpoint_exists"),
        });
    }
    state
        .store
        .create_endpoint(&config)
        .await
        .map_err(store_error)?;
    state.rebuild().await.map_err(store_error)?;
    Ok((
        StatusCode::CREATED,
        endpoint_view(route(state, &config.name)?.as_ref()),
    ))
}

pub async fn update_endpoint(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Path(name): Path<String>,
    Json(patch): Json<Value>,
) -> Response {
    done(update(&state, &headers, &name, patch).await)
}

/// Applies a partial update: given fields replace the stored ones, `null`
/// resets a field. A new `api_key` or `api_keys` replaces every key (rotation).
/// The merge runs inside the store's transaction, so concurrent updates
/// cannot overwrite each other's fields.
async fn update(
    state: &AppState,
    headers: &HeaderMap,
    name: &str,
    patch: Value,
) -> Result<(StatusCode, Value)> {
    check_admin(state, headers)?;
    let existing = route(state, name)?;
    if existing.source == Source::File {
        return Err(read_only(state, name));
    }
    let Value::Object(patch) = patch else {
        return Err(invalid("send a JSON object with the fields to change"));
    };
    let owned_name = name.to_owned();
    let edit: EndpointEdit =
        Box::new(move |stored| merge_patch(&owned_name, stored, patch).map_err(|e| e.message));
    state
        .store
        .update_endpoint_with(name, edit)
        .await
        .map_err(store_error)?;
    state.rebuild().await.map_err(store_error)?;
    Ok((StatusCode::OK, endpoint_view(route(state, name)?.as_ref())))
}

/// The stored endpoint with `patch` applied, normalized and validated.
fn merge_patch(
    name: &str,
    stored: EndpointConfig,
    patch: serde_json::Map<String, Value>,
) -> Result<EndpointConfig> {
    let mut merged =
        serde_json::to_value(&stored).map_err(|e| GatewayError::internal(e.to_string()))?;
    let Value::Object(fields) = &mut merged else {
        return Err(GatewayError::internal("stored endpoint is not an object"));
    };
    if patch.contains_key("api_key") || patch.contains_key("api_keys") {
        fields.remove("api_key");
        fields.remove("api_keys");
    }
    for (key, value) in patch {
        if key == "name" && value.as_str() != Some(name) {
            return Err(invalid(
                "an endpoint cannot be renamed; create one with the new name and delete this one",
            ));
        }
        if value.is_null() {
            fields.remove(&key);
        } else {
            fields.insert(key, value);
        }
    }
    checked(merged)
}

pub async fn delete_endpoint(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Path(name): Path<String>,
) -> Response {
    done(delete(&state, &headers, &name).await)
}

/// Deletes the endpoint from the store; the upstream is never contacted.
async fn delete(state: &AppState, headers: &HeaderMap, name: &str) -> Result<(StatusCode, Value)> {
    check_admin(state, headers)?;
    if route(state, name)?.source == Source::File {
        return Err(read_only(state, name));
    }
    state
        .store
        .delete_endpoint(name)
        .await
        .map_err(store_error)?;
    state.rebuild().await.map_err(store_error)?;
    Ok((StatusCode::OK, json!({ "deleted": name })))
}

pub async fn test_endpoint(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Path(name): Path<String>,
) -> Response {
    done(test(&state, &headers, &name).await)
}

async fn test(state: &AppState, headers: &HeaderMap, name: &str) -> Result<(StatusCode, Value)> {
    check_admin(state, headers)?;
    let route = route(state, name)?;
    let endpoint = route.endpoint.as_ref().map_err(Clone::clone)?;
    let results = modelgate_upstream::keytest::test_keys(endpoint).await;
    let ok = results
        .iter()
        .all(|r| r.verdict == modelgate_upstream::keytest::Verdict::Ok);
    Ok((
        StatusCode::OK,
        json!({ "endpoint": name, "ok": ok, "results": results }),
    ))
}

pub async fn endpoint_models(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Path(name): Path<String>,
) -> Response {
    done(models(&state, &headers, &name).await)
}

/// The endpoint's own list plus the configured ids (`models.default`,
/// `model_map`), or only the configured ones with a note saying why.
async fn models(state: &AppState, headers: &HeaderMap, name: &str) -> Result<(StatusCode, Value)> {
    check_admin(state, headers)?;
    let route = route(state, name)?;
    let declared = route.declared_models();
    let fetched = match &route.endpoint {
        Ok(ep) => modelgate_upstream::models::fetch_models(ep, &state.cooldowns).await,
        Err(e) => Err(e.clone()),
    };
    let body = match fetched {
        Ok(list) => {
            let ids: Vec<String> = list.into_iter().map(|m| m.id).collect();
            state.catalogue.store(name, ids.clone());
            let mut all = ids;
            for m in declared {
                if !all.iter().any(|id| id == m) {
                    all.push(m.to_owned());
                }
            }
            json!({ "endpoint": name, "source": "upstream", "models": all })
        }
        Err(e) => json!({
            "endpoint": name,
            "source": "default",
            "models": declared,
            "note": format!("could not fetch the list from the endpoint, showing the configured models: {}", e.message),
        }),
    };
    Ok((StatusCode::OK, body))
}

fn key_view(key: &GatewayKey) -> Value {
    json!({
        "id": key.id,
        "name": key.name,
        "prefix": key.prefix,
        "created_at": key.created_at,
        "revoked_at": key.revoked_at,
        "active": key.is_active(),
    })
}

#[derive(serde::Deserialize)]
pub struct NewKey {
    name: String,
}

pub async fn create_key(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Json(body): Json<NewKey>,
) -> Response {
    done(
        async {
            check_admin(&state, &headers)?;
            let name = body.name.trim();
            if name.is_empty() {
                return Err(GatewayError::invalid_request(
                    "a key needs a name, e.g. {\"name\": \"laptop\"}",
                ));
            }
            let created = state
                .store
                .create_gateway_key(name)
                .await
                .map_err(store_error)?;
            state.rebuild().await.map_err(store_error)?;
            let mut view = key_view(&created.key);
            view["token"] = json!(created.token);
            // Whether callers must present a key right now: a key created on
            // an open loopback gateway is only used for attribution.
            view["keys_required"] = json!(state.settings.require_keys);
            Ok((StatusCode::CREATED, view))
        }
        .await,
    )
}

pub async fn list_keys(State(state): State<Arc<AppState>>, headers: HeaderMap) -> Response {
    done(
        async {
            check_admin(&state, &headers)?;
            let keys = state.store.list_gateway_keys().await.map_err(store_error)?;
            let list: Vec<Value> = keys.iter().map(key_view).collect();
            Ok((StatusCode::OK, json!({ "keys": list })))
        }
        .await,
    )
}

pub async fn revoke_key(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    done(
        async {
            check_admin(&state, &headers)?;
            if !state
                .store
                .revoke_gateway_key(&id)
                .await
                .map_err(store_error)?
            {
                return Err(GatewayError::not_found(format!(
                    "no active gateway key with id or name `{id}`"
                )));
            }
            state.rebuild().await.map_err(store_error)?;
            Ok((StatusCode::OK, json!({ "revoked": id })))
        }
        .await,
    )
}
