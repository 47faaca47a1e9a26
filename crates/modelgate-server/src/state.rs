//! Everything the handlers share.

use std::sync::Arc;
use std::time::Duration;

use arc_swap::ArcSwap;
use modelgate_config::ConfigFile;
use modelgate_protocol::GatewayError;
use modelgate_store::{Store, StoreError};
use modelgate_upstream::KeyCooldowns;

use crate::catalogue::Catalogue;
use crate::snapshot::{Route, Snapshot, Source};
use crate::usage::UsageRecorder;

/// How the gateway was started.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Callers must present a gateway key.
    pub require_keys: bool,
    /// Bearer token of the admin API.
    pub admin_token: String,
    /// Where the config file was read from, for messages.
    pub config_path: Option<String>,
}

pub struct AppState {
    pub settings: Settings,
    pub file: ConfigFile,
    pub store: Arc<dyn Store>,
    pub snapshot: ArcSwap<Snapshot>,
    pub catalogue: Catalogue,
    pub cooldowns: KeyCooldowns,
    pub usage: UsageRecorder,
}

impl AppState {
    pub async fn new(
        settings: Settings,
        file: ConfigFile,
        store: Arc<dyn Store>,
    ) -> Result<Arc<Self>, StoreError> {
        let usage = UsageRecorder::start(store.clone());
        let state = Arc::new(Self {
            settings,
            file,
            store,
            snapshot: ArcSwap::from_pointee(Snapshot::default()),
            catalogue: Catalogue::new(),
            cooldowns: KeyCooldowns::new(),
            usage,
        });
        state.rebuild().await?;
        Ok(state)
    }

    /// Rebuilds the routing snapshot from the file and the store.
    ///
    /// A stored endpoint the store cannot read (its secrets do not decrypt:
    /// the row was changed outside modelgate) is routed as unusable, with
    /// the store's explanation, instead of failing the whole rebuild.
    pub async fn rebuild(&self) -> Result<(), StoreError> {
        let stored = self.store.list_endpoints().await?;
        let keys = self.store.list_gateway_keys().await?;
        let mut snapshot = Snapshot::build(
            &self.file.endpoints,
            stored.endpoints,
            &keys,
            self.file.timeouts,
        );
        for bad in stored.unreadable {
            tracing::error!(endpoint = %bad.name, "stored endpoint is unusable: {}", bad.error);
            let Some(config) = bad.config else { continue };
            if snapshot.routes.contains_key(&bad.name) {
                continue; // the file's endpoint of that name wins, as in `build`
            }
            let error = GatewayError::internal(bad.error.to_string())
                .with_code("endpoint_secrets_unreadable");
            snapshot.routes.insert(
                bad.name,
                Arc::new(Route {
                    config,
                    source: Source::Store,
                    endpoint: Err(error),
                }),
            );
        }
        self.snapshot.store(Arc::new(snapshot));
        Ok(())
    }

    pub fn catalogue_ttl(&self) -> Duration {
        self.file.catalogue.ttl.0
    }
}

#[cfg(test)]
#[path = "state_tests.rs"]
mod tests;
