//! The routing snapshot: every endpoint made ready, and the gateway keys.
//!
//! Built whole from the config file and the store, then swapped in with one
//! atomic store (`ArcSwap`), so a request reads one consistent view without
//! locks and an admin change never shows half-applied.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use modelgate_config::{EndpointConfig, TimeoutSettings};
use modelgate_protocol::{ErrorKind, GatewayError};
use modelgate_store::GatewayKey;
use modelgate_upstream::Endpoint;

/// Where an endpoint was declared. File endpoints are read-only.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Source {
    File,
    Store,
}

/// One endpoint as the gateway routes to it.
#[derive(Debug)]
pub struct Route {
    /// As declared, `${VAR}`s unresolved: what listings show.
    pub config: EndpointConfig,
    pub source: Source,
    /// Ready to use, or why not (a missing variable, a bad header).
    pub endpoint: Result<Endpoint, GatewayError>,
}

impl Route {
    pub fn name(&self) -> &str {
        &self.config.name
    }

    /// The endpoint, or the error that explains why it cannot be used.
    pub fn ready(&self) -> Result<&Endpoint, GatewayError> {
        self.endpoint.as_ref().map_err(Clone::clone)
    }

    /// The ids clients may use for this endpoint's models without fetching:
    /// `models.default` and the public side of `model_map`, each once.
    pub fn declared_models(&self) -> Vec<&str> {
        let mut ids: Vec<&str> = Vec::new();
        let declared = self
            .config
            .models
            .default
            .iter()
            .chain(self.config.model_map.keys());
        for id in declared {
            if !ids.contains(&id.as_str()) {
                ids.push(id);
            }
        }
        ids
    }
}

#[derive(Debug, Default)]
pub struct Snapshot {
    pub routes: BTreeMap<String, Arc<Route>>,
    /// Active gateway keys by token hash → key id.
    pub gateway_keys: HashMap<String, String>,
}

impl Snapshot {
    pub fn build(
        file_endpoints: &[EndpointConfig],
        store_endpoints: Vec<EndpointConfig>,
        keys: &[GatewayKey],
        timeouts: TimeoutSettings,
    ) -> Self {
        let mut routes = BTreeMap::new();
        let declared = file_endpoints
            .iter()
            .cloned()
            .map(|c| (c, Source::File))
            .chain(store_endpoints.into_iter().map(|c| (c, Source::Store)));
        for (config, source) in declared {
            if routes.contains_key(&config.name) {
                // The file wins: the admin API refuses such names, but a file
                // edited later may introduce one.
                tracing::warn!(endpoint = %config.name, "endpoint in the store has the same name as one in the config file; the file's is used");
                continue;
            }
            let endpoint = prepare(&config, source, timeouts);
            if let Err(e) = &endpoint {
                // Messages name URLs only in their redacted form.
                tracing::warn!(endpoint = %config.name, "endpoint is not usable: {}", e.message);
            }
            routes.insert(
                config.name.clone(),
                Arc::new(Route {
                    config,
                    source,
                    endpoint,
                }),
            );
        }
        let gateway_keys = keys
            .iter()
            .filter(|k| k.is_active())
            .map(|k| (k.hash.clone(), k.id.clone()))
            .collect();
        Self {
            routes,
            gateway_keys,
        }
    }
}

/// An endpoint that cannot be used as configured: a fault of the
/// gateway's configuration, not of the caller's request.
fn misconfigured(message: String) -> GatewayError {
    GatewayError::new(ErrorKind::Internal, message).with_code("endpoint_misconfigured")
}

fn prepare(
    config: &EndpointConfig,
    source: Source,
    timeouts: TimeoutSettings,
) -> Result<Endpoint, GatewayError> {
    // `${VAR}` is expanded only in the operator's own file: an endpoint made
    // through the admin API must not be able to read the server's
    // environment (the master key, cloud credentials) into a URL or header.
    let resolved;
    let config = match source {
        Source::File => {
            resolved = config
                .resolve(&modelgate_config::env_lookup)
                .map_err(|e| misconfigured(e.to_string()))?;
            &resolved
        }
        Source::Store => config,
    };
    let endpoint = Endpoint::build(config, timeouts).map_err(|e| misconfigured(e.to_string()))?;
    if !endpoint.spec.is_supported() {
        return Err(GatewayError::new(
            ErrorKind::NotSupported,
            format!(
                "endpoint `{}` uses spec `{}`, which this version of modelgate cannot send requests to yet (supported: {})",
                config.name,
                config.spec,
                modelgate_protocol::Spec::ALL
                    .iter()
                    .filter(|s| s.is_supported())
                    .map(|s| s.id())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        )
        .with_code("spec_not_supported"));
    }
    Ok(endpoint)
}
