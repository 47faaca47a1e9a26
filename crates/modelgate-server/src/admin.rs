//! The admin API (JSON, bearer admin token): endpoints and gateway keys.
//!
//! Responses never carry a secret in clear: keys are masked (`sk-…wxyz`),
//! and so are header values whose names suggest credentials.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::response::Response;
use bytes::Bytes;
use http::StatusCode;
use modelgate_config::EndpointConfig;
use modelgate_protocol::secret::mask_secret;
use modelgate_protocol::{ErrorKind, GatewayError};
use modelgate_store::{EndpointEdit, GatewayKey, StoreError};
use serde_json::{Value, json};

use crate::catalogue::Need;
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

/// An admin request's JSON body.
fn json_body(body: &[u8]) -> Result<Value> {
    serde_json::from_slice(body).map_err(|e| {
        invalid(format!(
            "the body is not valid JSON ({e}); send a JSON object with `content-type: application/json`"
        ))
    })
}

/// A secret as listings show it: a `${VAR}` reference as written (it names
/// where the value comes from, and is no secret itself), anything else masked.
fn shown_secret(value: &str) -> String {
    let trimmed = value.trim();
    let is_reference =
        trimmed.starts_with("${") && trimmed.ends_with('}') && trimmed.matches("${").count() == 1;
    if is_reference {
        trimmed.to_owned()
    } else {
        mask_secret(value)
    }
}

/// An endpoint as the admin API shows it.
pub fn endpoint_view(route: &Route) -> Value {
    let config = &route.config;
    let mut view = serde_json::to_value(config).unwrap_or_default();
    if let Value::Object(map) = &mut view {
        map.remove("api_key");
        let keys: Vec<String> = config.keys().into_iter().map(shown_secret).collect();
        map.insert("api_keys".into(), json!(keys));
        map.insert(
            "base_url".into(),
            json!(modelgate_upstream::endpoint::redact_url(&config.base_url)),
        );
        if let Some(credentials) = &config.credentials {
            // A path or a `${VAR}` says where the service account is; the
            // JSON itself holds a private key and is never shown.
            let shown = if credentials.trim_start().starts_with('{') {
                "(inline service-account JSON)".to_owned()
            } else {
                credentials.clone()
            };
            map.insert("credentials".into(), json!(shown));
        }
        if let Some(Value::Object(headers)) = map.get_mut("headers") {
            for (name, value) in headers.iter_mut() {
                if is_sensitive_header(name)
                    && let Some(s) = value.as_str()
                {
                    *value = json!(shown_secret(s));
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
    refuse_variables(&config)?;
    Ok(config)
}

/// Stored endpoints are never expanded (see `snapshot::prepare`): a `${`
/// in one would be sent literally, which is never what was meant.
fn refuse_variables(config: &EndpointConfig) -> Result<()> {
    // Resolving against an empty environment fails exactly where a
    // reference (or a malformed one) is written.
    match config.resolve(&|_| None) {
        Ok(_) => Ok(()),
        Err(e) => Err(invalid(format!(
            "endpoints.{}.{}: `${{…}}` variables are expanded only in the config file, and an endpoint created here keeps its values as written; pass the value itself (e.g. --api-key \"$MY_KEY\" in your shell), or declare the endpoint in the config file",
            config.name, e.field
        ))
        .with_param(e.field)),
    }
}

pub async fn list_endpoints(State(state): State<Arc<AppState>>) -> Response {
    let snapshot = state.snapshot.load();
    let list: Vec<Value> = snapshot.routes.values().map(|r| endpoint_view(r)).collect();
    json(StatusCode::OK, &json!({ "endpoints": list }))
}

pub async fn get_endpoint(
    State(state): State<Arc<AppState>>,
    Path(name): Path<String>,
) -> Response {
    done(route(&state, &name).map(|r| (StatusCode::OK, endpoint_view(&r))))
}

pub async fn create_endpoint(State(state): State<Arc<AppState>>, body: Bytes) -> Response {
    done(create(&state, body).await)
}

async fn create(state: &AppState, body: Bytes) -> Result<(StatusCode, Value)> {
    let body = json_body(&body)?;
    let config = checked(body)?;
    let _change = state.changes.lock().await;
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
    Path(name): Path<String>,
    body: Bytes,
) -> Response {
    done(update(&state, &name, body).await)
}

/// Applies a partial update: given fields replace the stored ones, `null`
/// resets a field. A new `api_key` or `api_keys` replaces every key (rotation).
/// The merge runs inside the store's transaction, so concurrent updates
/// cannot overwrite each other's fields.
async fn update(state: &AppState, name: &str, patch: Bytes) -> Result<(StatusCode, Value)> {
    let patch = json_body(&patch)?;
    let _change = state.changes.lock().await;
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
    Path(name): Path<String>,
) -> Response {
    done(delete(&state, &name).await)
}

/// Deletes the endpoint from the store; the upstream is never contacted.
async fn delete(state: &AppState, name: &str) -> Result<(StatusCode, Value)> {
    let _change = state.changes.lock().await;
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
    Path(name): Path<String>,
) -> Response {
    done(test(&state, &name).await)
}

async fn test(state: &AppState, name: &str) -> Result<(StatusCode, Value)> {
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
    Path(name): Path<String>,
) -> Response {
    done(models(&state, &name).await)
}

/// The endpoint's models from the one catalogue (what `/v1/models` and
/// routing see): its own list, fetched if it never was, plus the configured
/// ids; or only the configured ones with a note saying why.
async fn models(state: &AppState, name: &str) -> Result<(StatusCode, Value)> {
    let route = route(state, name)?;
    let snapshot = state.snapshot.load_full();
    state
        .ensure_models(&snapshot, Need::Missing, Some(name))
        .await;
    let listing = state.catalogue.listing(&route);
    let mut body = json!({
        "endpoint": name,
        "source": if listing.fetched { "upstream" } else { "default" },
        "models": listing.models,
    });
    let note = match (&route.endpoint, listing.failure) {
        (Err(e), _) => Some(format!("the endpoint cannot be used: {}", e.message)),
        (Ok(_), Some(why)) if listing.fetched => Some(format!(
            "the last fetch of its list failed, showing the list fetched before: {why}"
        )),
        (Ok(_), Some(why)) => Some(format!(
            "could not fetch the list from the endpoint, showing the configured models: {why}"
        )),
        (Ok(ep), None) if ep.vertex.is_some() && route.config.models.fetch.is_none() => Some(
            "Vertex AI has no model list per location: showing the configured models".to_owned(),
        ),
        (Ok(_), None) if !route.config.fetches_models() => {
            Some("`models.fetch` is off: showing the configured models".to_owned())
        }
        (Ok(_), None) => None,
    };
    if let Some(note) = note {
        body["note"] = json!(note);
    }
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

pub async fn create_key(State(state): State<Arc<AppState>>, body: Bytes) -> Response {
    done(
        async {
            let body: NewKey = serde_json::from_value(json_body(&body)?).map_err(|e| {
                GatewayError::invalid_request(format!("{e}; send {{\"name\": \"laptop\"}}"))
            })?;
            let name = body.name.trim();
            if name.is_empty() {
                return Err(GatewayError::invalid_request(
                    "a key needs a name, e.g. {\"name\": \"laptop\"}",
                ));
            }
            let _change = state.changes.lock().await;
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

pub async fn list_keys(State(state): State<Arc<AppState>>) -> Response {
    done(
        async {
            let keys = state.store.list_gateway_keys().await.map_err(store_error)?;
            let list: Vec<Value> = keys.iter().map(key_view).collect();
            Ok((StatusCode::OK, json!({ "keys": list })))
        }
        .await,
    )
}

pub async fn revoke_key(State(state): State<Arc<AppState>>, Path(id): Path<String>) -> Response {
    done(
        async {
            let _change = state.changes.lock().await;
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

/// `POST /api/config/reload`: the configuration file read again, as SIGHUP does.
pub async fn reload_config(State(state): State<Arc<AppState>>) -> Response {
    done(match state.reload().await {
        Ok(message) => Ok((
            StatusCode::OK,
            json!({ "reloaded": true, "message": message }),
        )),
        Err(e) => Err(GatewayError::invalid_request(e).with_code("config_invalid")),
    })
}

#[cfg(test)]
#[path = "admin_tests.rs"]
mod tests;
