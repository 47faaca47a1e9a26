//! Everything the handlers share.

use std::sync::Arc;
use std::time::Duration;

use arc_swap::ArcSwap;
use modelgate_config::ConfigFile;
use modelgate_protocol::GatewayError;
use modelgate_store::{Store, StoreError};
use modelgate_upstream::KeyCooldowns;

use crate::catalogue::{Catalogue, Need};
use crate::open_streams::OpenStreams;
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
    /// The configuration file as last (re)loaded.
    pub file: ArcSwap<ConfigFile>,
    pub store: Arc<dyn Store>,
    pub snapshot: ArcSwap<Snapshot>,
    pub catalogue: Catalogue,
    pub cooldowns: KeyCooldowns,
    pub usage: UsageRecorder,
    /// Held by every admin change from its store write through the rebuild
    /// of the snapshot: two changes at once could otherwise install an
    /// older snapshot last (and bring back a revoked key).
    pub changes: tokio::sync::Mutex<()>,
    /// Streams being forwarded (cut properly at a forced shutdown).
    pub streams: OpenStreams,
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
            file: ArcSwap::from_pointee(file),
            store,
            snapshot: ArcSwap::from_pointee(Snapshot::default()),
            catalogue: Catalogue::new(),
            cooldowns: KeyCooldowns::new(),
            usage,
            changes: tokio::sync::Mutex::new(()),
            streams: OpenStreams::default(),
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
        let file = self.file.load();
        let mut snapshot = Snapshot::build(&file.endpoints, stored.endpoints, &keys, file.timeouts);
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
        let previous = self.snapshot.swap(Arc::new(snapshot));
        self.catalogue
            .forget_changed(&previous, &self.snapshot.load());
        Ok(())
    }

    /// Fetches the model lists `need` asks for (of one endpoint, or all)
    /// before a reader looks at the catalogue; see [`Catalogue::ensure`].
    pub async fn ensure_models(&self, snapshot: &Snapshot, need: Need, only: Option<&str>) {
        self.catalogue
            .ensure(snapshot, &self.cooldowns, self.catalogue_ttl(), need, only)
            .await;
    }

    pub fn catalogue_ttl(&self) -> Duration {
        self.file.load().catalogue.ttl.0
    }

    /// Reads the configuration file again and routes by it (SIGHUP, or
    /// `POST /api/config/reload`). A file that does not load changes
    /// nothing. The endpoints, timeouts and catalogue take effect at once;
    /// `server.*` and `auth.*` are read at start only, and the answer says
    /// when they changed.
    pub async fn reload(&self) -> Result<String, String> {
        let Some(path) = self.settings.config_path.as_deref() else {
            return Err("the gateway was started without a configuration file: there is nothing to reload (start it with --config FILE)".to_owned());
        };
        let loaded = modelgate_config::load_file(std::path::Path::new(path))
            .map_err(|e| format!("{e}; the previous configuration stays in use"))?;
        let _change = self.changes.lock().await;
        let previous = self.file.swap(Arc::new(loaded.file));
        if let Err(e) = self.rebuild().await {
            self.file.store(previous);
            return Err(format!("{e}; the previous configuration stays in use"));
        }
        let current = self.file.load();
        let mut message = format!(
            "reloaded {path}: {} endpoint(s) declared in the file",
            current.endpoints.len()
        );
        if current.server != previous.server || current.auth != previous.auth {
            message.push_str("; changes to `server` and `auth` take effect after a restart");
        }
        Ok(message)
    }
}

#[cfg(test)]
#[path = "state_tests.rs"]
mod tests;
