//! Which endpoint serves a model id, and the cache of fetched model lists.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use modelgate_protocol::GatewayError;
use modelgate_upstream::KeyCooldowns;

use crate::snapshot::{Route, Snapshot};

/// A fetched model list and when it was fetched.
type FetchedList = (Instant, Arc<Vec<String>>);

/// Model lists fetched from endpoints with `models.fetch: true`.
#[derive(Debug, Default)]
pub struct Catalogue {
    fetched: Mutex<HashMap<String, FetchedList>>,
}

/// A resolved model: the route and the model id as the client knows it
/// (the endpoint prefix removed, before `model_map`).
pub struct Resolved {
    pub route: Arc<Route>,
    pub model: String,
}

impl Catalogue {
    pub fn new() -> Self {
        Self::default()
    }

    /// The fetched list of an endpoint, if fetched within `ttl`.
    pub fn fresh(&self, endpoint: &str, ttl: Duration) -> Option<Arc<Vec<String>>> {
        let fetched = self.fetched.lock().unwrap_or_else(|p| p.into_inner());
        fetched
            .get(endpoint)
            .filter(|(at, _)| at.elapsed() < ttl)
            .map(|(_, list)| list.clone())
    }

    pub fn store(&self, endpoint: &str, models: Vec<String>) {
        let mut fetched = self.fetched.lock().unwrap_or_else(|p| p.into_inner());
        fetched.insert(endpoint.to_owned(), (Instant::now(), Arc::new(models)));
    }

    /// Every model id of a route: declared ones, then fetched ones.
    pub fn models_of(&self, route: &Route, ttl: Duration) -> Vec<String> {
        let mut models: Vec<String> = route
            .declared_models()
            .into_iter()
            .map(str::to_owned)
            .collect();
        if let Some(fetched) = self.fresh(route.name(), ttl) {
            for m in fetched.iter() {
                if !models.contains(m) {
                    models.push(m.clone());
                }
            }
        }
        models
    }

    /// Fetches the lists of every `fetch: true` endpoint whose list is stale.
    /// Failures are logged and leave the endpoint with its declared models.
    pub async fn refresh_stale(
        &self,
        snapshot: &Snapshot,
        cooldowns: &KeyCooldowns,
        ttl: Duration,
    ) {
        let stale: Vec<_> = snapshot
            .routes
            .values()
            .filter(|r| r.config.fetches_models() && self.fresh(r.name(), ttl).is_none())
            .filter_map(|r| r.endpoint.as_ref().ok())
            .collect();
        let fetches = stale.iter().map(|ep| async move {
            let result = modelgate_upstream::models::fetch_models(ep, cooldowns).await;
            (ep.name.clone(), result)
        });
        for (name, result) in futures_util::future::join_all(fetches).await {
            match result {
                Ok(list) => self.store(&name, list.into_iter().map(|m| m.id).collect()),
                Err(e) => {
                    tracing::warn!(endpoint = %name, "could not fetch the model list: {}", e.message)
                }
            }
        }
    }

    /// Resolves `ENDPOINT/MODEL` or a bare id against the snapshot.
    /// `Ok(None)` means a bare id no endpoint lists (the caller may refresh
    /// fetched lists and ask again).
    pub fn resolve(
        &self,
        snapshot: &Snapshot,
        model: &str,
        ttl: Duration,
    ) -> Result<Option<Resolved>, GatewayError> {
        if let Some((prefix, rest)) = model.split_once('/')
            && let Some(route) = snapshot.routes.get(prefix)
        {
            if rest.is_empty() {
                return Err(GatewayError::invalid_request(format!(
                    "`{model}` names endpoint `{prefix}` but no model; write `{prefix}/MODEL`"
                ))
                .with_param("model"));
            }
            return Ok(Some(Resolved {
                route: route.clone(),
                model: rest.to_owned(),
            }));
        }
        let candidates: Vec<&Arc<Route>> = snapshot
            .routes
            .values()
            .filter(|r| self.models_of(r, ttl).iter().any(|m| m == model))
            .collect();
        match candidates.as_slice() {
            [] => Ok(None),
            [route] => Ok(Some(Resolved {
                route: (*route).clone(),
                model: model.to_owned(),
            })),
            many => {
                let names: Vec<String> = many
                    .iter()
                    .map(|r| format!("`{}/{model}`", r.name()))
                    .collect();
                Err(GatewayError::invalid_request(format!(
                    "model `{model}` is offered by several endpoints; name one: {}",
                    names.join(", ")
                ))
                .with_param("model")
                .with_code("ambiguous_model"))
            }
        }
    }

    /// The error for a model no endpoint offers, with the nearest names.
    pub fn unknown_model(&self, snapshot: &Snapshot, model: &str, ttl: Duration) -> GatewayError {
        let mut known: Vec<String> = Vec::new();
        for route in snapshot.routes.values() {
            for m in self.models_of(route, ttl) {
                known.push(format!("{}/{m}", route.name()));
                known.push(m);
            }
        }
        let near = modelgate_config::nearest(model, known.iter().map(String::as_str), 3);
        let mut message = format!("model `{model}` is not offered by any endpoint");
        if snapshot.routes.is_empty() {
            message.push_str(
                "; no endpoints are configured yet: add one with `modelgate endpoints add`",
            );
        } else if near.is_empty() {
            let names: Vec<&str> = snapshot.routes.keys().map(String::as_str).collect();
            message.push_str(&format!(
                "; address a model as ENDPOINT/MODEL (endpoints: {}), or list models with `GET /v1/models`",
                names.join(", ")
            ));
        } else {
            let near: Vec<String> = near.iter().map(|n| format!("`{n}`")).collect();
            message.push_str(&format!("; did you mean {}?", near.join(" or ")));
        }
        GatewayError::not_found(message)
            .with_param("model")
            .with_code("model_not_found")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use modelgate_config::{EndpointConfig, TimeoutSettings};

    fn endpoint(name: &str, models: &[&str], map: &[(&str, &str)]) -> EndpointConfig {
        let yaml = format!(
            "endpoints:\n  - name: {name}\n    spec: openai-chat-completions\n    base_url: http://127.0.0.1:9/v1\n"
        );
        let mut ep = modelgate_config::parse_str(&yaml, "t")
            .unwrap()
            .endpoints
            .remove(0);
        ep.models.default = models.iter().map(|m| m.to_string()).collect();
        ep.model_map = map
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        ep
    }

    fn snapshot(endpoints: &[EndpointConfig]) -> Snapshot {
        Snapshot::build(endpoints, vec![], &[], TimeoutSettings::default())
    }

    fn resolve(s: &Snapshot, model: &str) -> Result<Option<(String, String)>, GatewayError> {
        let ttl = Duration::from_secs(60);
        Catalogue::new()
            .resolve(s, model, ttl)
            .map(|r| r.map(|r| (r.route.name().to_owned(), r.model)))
    }

    #[test]
    fn prefixed_ids_route_to_their_endpoint_and_keep_inner_slashes() {
        let s = snapshot(&[endpoint("vllm", &[], &[])]);
        assert_eq!(
            resolve(&s, "vllm/meta-llama/Llama-3.1-8B").unwrap(),
            Some(("vllm".into(), "meta-llama/Llama-3.1-8B".into()))
        );
        assert!(resolve(&s, "vllm/").is_err());
    }

    #[test]
    fn a_prefix_that_is_no_endpoint_is_part_of_a_bare_id() {
        let s = snapshot(&[endpoint("hf", &["meta-llama/Llama-3.1-8B"], &[])]);
        assert_eq!(
            resolve(&s, "meta-llama/Llama-3.1-8B").unwrap(),
            Some(("hf".into(), "meta-llama/Llama-3.1-8B".into()))
        );
        assert_eq!(resolve(&s, "other/model").unwrap(), None);
    }

    #[test]
    fn bare_ids_use_defaults_and_public_map_ids() {
        let s = snapshot(&[
            endpoint("a", &["llama3"], &[("claude-sonnet-4-6", "claude-v2")]),
            endpoint("b", &["llama3", "qwen"], &[]),
        ]);
        assert_eq!(
            resolve(&s, "qwen").unwrap(),
            Some(("b".into(), "qwen".into()))
        );
        assert_eq!(
            resolve(&s, "claude-sonnet-4-6").unwrap(),
            Some(("a".into(), "claude-sonnet-4-6".into()))
        );
        let err = resolve(&s, "llama3").unwrap_err();
        assert_eq!(err.code.as_deref(), Some("ambiguous_model"));
        let unknown = Catalogue::new().unknown_model(&s, "qwn", Duration::from_secs(60));
        assert!(unknown.message.contains("`qwen`"), "{}", unknown.message);
    }
}
