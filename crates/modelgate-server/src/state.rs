//! Everything the handlers share.

use std::sync::Arc;
use std::time::Duration;

use arc_swap::ArcSwap;
use modelgate_config::ConfigFile;
use modelgate_store::{Store, StoreError};
use modelgate_upstream::KeyCooldowns;

use crate::catalogue::Catalogue;
use crate::snapshot::Snapshot;
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
    /// Held by every admin change from its store write through the rebuild
    /// of the snapshot: two changes at once could otherwise install an
    /// older snapshot last (and bring back a revoked key).
    pub changes: tokio::sync::Mutex<()>,
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
            changes: tokio::sync::Mutex::new(()),
        });
        state.rebuild().await?;
        Ok(state)
    }

    /// Rebuilds the routing snapshot from the file and the store.
    pub async fn rebuild(&self) -> Result<(), StoreError> {
        let stored = self.store.list_endpoints().await?;
        let keys = self.store.list_gateway_keys().await?;
        let snapshot = Snapshot::build(&self.file.endpoints, stored, &keys, self.file.timeouts);
        let previous = self.snapshot.swap(Arc::new(snapshot));
        self.catalogue
            .forget_changed(&previous, &self.snapshot.load());
        Ok(())
    }

    pub fn catalogue_ttl(&self) -> Duration {
        self.file.catalogue.ttl.0
    }
}
