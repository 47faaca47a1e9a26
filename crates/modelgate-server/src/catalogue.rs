//! Which endpoint serves a model id, and the one catalogue of model lists.
//!
//! `/v1/models`, bare model ids, `modelgate models` and the admin API all
//! read the same lists from here, so they always agree. An endpoint's own
//! list (`models.fetch`, on by default) is fetched when the gateway starts,
//! when the endpoint changes, and again in the background once it is older
//! than `catalogue.ttl`; a reader finds the last known list and never
//! changes what routes where by reading.
//!
//! Fetching is shared and bounded: concurrent readers of an endpoint that
//! needs a fetch wait for one request ([`Catalogue::ensure`] holds a
//! per-endpoint lock, then looks again), and a failed fetch is not retried
//! for [`RETRY_AFTER_FAILURE`], so an endpoint that is down is not asked
//! for its list on every request.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use modelgate_protocol::GatewayError;
use modelgate_upstream::KeyCooldowns;

use crate::snapshot::{Route, Snapshot};

/// How often the background refresher looks for lists that are due.
const REFRESH_TICK: Duration = Duration::from_secs(5);

/// How long a failed fetch is remembered before the list is asked for again.
pub const RETRY_AFTER_FAILURE: Duration = Duration::from_secs(30);

/// What is known of one endpoint's own list.
#[derive(Debug, Default)]
struct Known {
    /// The last list fetched, kept when a later fetch fails (a known list
    /// beats none), with when it was fetched.
    list: Option<(Instant, Arc<Vec<String>>)>,
    /// The last failure since that list, and why.
    failure: Option<(Instant, String)>,
    /// Held while a fetch is under way: others wait, then read its result.
    fetching: Arc<tokio::sync::Mutex<()>>,
}

impl Known {
    /// Whether the list should be fetched (again) now.
    fn due(&self, ttl: Duration) -> bool {
        if let Some((at, _)) = &self.failure
            && at.elapsed() < RETRY_AFTER_FAILURE
        {
            return false;
        }
        self.list.as_ref().is_none_or(|(at, _)| at.elapsed() >= ttl)
    }
}

/// Which lists a reader needs fetched before it reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Need {
    /// Lists never fetched (listings: a stale list is served, the
    /// background refresher renews it).
    Missing,
    /// Lists never fetched or older than the TTL (an unknown model id may
    /// be new upstream).
    Fresh,
}

/// The model lists of every endpoint that fetches one.
#[derive(Debug, Default)]
pub struct Catalogue {
    known: Mutex<HashMap<String, Known>>,
}

/// An endpoint's models as listings show them.
pub struct Listing {
    /// Declared ones first (`models.default`, `model_map`), then fetched ones.
    pub models: Vec<String>,
    /// A list was fetched.
    pub fetched: bool,
    /// Why the last fetch failed, when it did.
    pub failure: Option<String>,
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

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Known>> {
        self.known.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Every model id of a route: the declared ones, then its fetched list.
    pub fn models_of(&self, route: &Route) -> Vec<String> {
        self.listing(route).models
    }

    /// The route's models and where they came from.
    pub fn listing(&self, route: &Route) -> Listing {
        let (fetched, failure) = {
            let known = self.lock();
            match known.get(route.name()) {
                Some(k) => (
                    k.list.as_ref().map(|(_, list)| list.clone()),
                    k.failure.as_ref().map(|(_, why)| why.clone()),
                ),
                None => (None, None),
            }
        };
        let mut models: Vec<String> = route
            .declared_models()
            .into_iter()
            .map(str::to_owned)
            .collect();
        for m in fetched.iter().flat_map(|list| list.iter()) {
            if !models.contains(m) {
                models.push(m.clone());
            }
        }
        Listing {
            models,
            fetched: fetched.is_some(),
            failure,
        }
    }

    /// Forgets what was fetched for endpoints that are gone or changed in
    /// `next` (their lists are fetched anew).
    pub fn forget_changed(&self, previous: &Snapshot, next: &Snapshot) {
        let mut known = self.lock();
        known.retain(|name, _| {
            let before = previous.routes.get(name);
            let after = next.routes.get(name);
            matches!((before, after), (Some(b), Some(a)) if b.config == a.config)
        });
    }

    /// Fetches, one request at a time per endpoint, the lists `need`
    /// asks for among the snapshot's fetching endpoints (`only`: one of
    /// them); returns once each is fetched or has failed. A list that
    /// failed within [`RETRY_AFTER_FAILURE`] is not asked for again.
    pub async fn ensure(
        &self,
        snapshot: &Snapshot,
        cooldowns: &KeyCooldowns,
        ttl: Duration,
        need: Need,
        only: Option<&str>,
    ) {
        let ttl = match need {
            Need::Missing => Duration::MAX,
            Need::Fresh => ttl,
        };
        let due: Vec<&Arc<Route>> = snapshot
            .routes
            .values()
            .filter(|r| only.is_none_or(|name| r.name() == name))
            .filter(|r| r.config.fetches_models() && r.endpoint.is_ok())
            .filter(|r| self.lock().get(r.name()).is_none_or(|k| k.due(ttl)))
            .collect();
        let fetches = due
            .into_iter()
            .map(|route| self.fetch_one(route, cooldowns, ttl));
        futures_util::future::join_all(fetches).await;
    }

    async fn fetch_one(&self, route: &Route, cooldowns: &KeyCooldowns, ttl: Duration) {
        let Ok(endpoint) = route.endpoint.as_ref() else {
            return;
        };
        let gate = self
            .lock()
            .entry(route.name().to_owned())
            .or_default()
            .fetching
            .clone();
        let _fetching = gate.lock().await;
        // Someone else may have fetched (or failed) while this waited.
        if self.lock().get(route.name()).is_some_and(|k| !k.due(ttl)) {
            return;
        }
        let result = modelgate_upstream::models::fetch_models(endpoint, cooldowns).await;
        let mut known = self.lock();
        let entry = known.entry(route.name().to_owned()).or_default();
        match result {
            Ok(list) => {
                let ids = list.into_iter().map(|m| m.id).collect();
                entry.list = Some((Instant::now(), Arc::new(ids)));
                entry.failure = None;
            }
            Err(e) => {
                tracing::warn!(endpoint = %route.name(), "could not fetch the model list: {}", e.message);
                entry.failure = Some((Instant::now(), e.message));
            }
        }
    }

    /// Keeps the lists fresh: every few seconds, fetches those that are due.
    /// Runs until the state is dropped.
    pub fn spawn_refresher(state: std::sync::Weak<crate::AppState>) {
        tokio::spawn(async move {
            loop {
                let Some(state) = state.upgrade() else { return };
                let ttl = state.catalogue_ttl();
                let snapshot = state.snapshot.load_full();
                state
                    .catalogue
                    .ensure(&snapshot, &state.cooldowns, ttl, Need::Fresh, None)
                    .await;
                drop(state);
                tokio::time::sleep(REFRESH_TICK).await;
            }
        });
    }

    /// Resolves `ENDPOINT/MODEL` or a bare id against the snapshot.
    /// `Ok(None)` means a bare id no endpoint lists (the caller may refresh
    /// fetched lists and ask again).
    pub fn resolve(
        &self,
        snapshot: &Snapshot,
        model: &str,
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
            .filter(|r| self.models_of(r).iter().any(|m| m == model))
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
    pub fn unknown_model(&self, snapshot: &Snapshot, model: &str) -> GatewayError {
        let mut known: Vec<String> = Vec::new();
        for route in snapshot.routes.values() {
            for m in self.models_of(route) {
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
        Catalogue::new()
            .resolve(s, model)
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
        let unknown = Catalogue::new().unknown_model(&s, "qwn");
        assert!(unknown.message.contains("`qwen`"), "{}", unknown.message);
    }
}
