//! A test double of the [`Store`]: a real in-memory SQLite store with hooks
//! for what tests need to provoke (a slow read, failing writes).

#![allow(clippy::unwrap_used)]

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use modelgate_config::EndpointConfig;
use modelgate_store::{
    EndpointEdit, EndpointListing, GatewayKey, MasterKey, NewGatewayKey, SqliteStore, Store,
    StoreError, UsageRecord, UsageSummaryRow,
};
use tokio::sync::Notify;

use crate::{AppState, Settings};

pub struct HookedStore {
    inner: SqliteStore,
    reads: AtomicUsize,
    /// The `list_endpoints` call with this number (from 1) waits for
    /// `release` after it has read: its caller carries what was stored then.
    held_read: usize,
    pub holding: Notify,
    pub release: Notify,
    /// This many `record_usage` calls fail before they work again.
    pub failing_usage_writes: AtomicUsize,
}

impl HookedStore {
    pub async fn new() -> Arc<Self> {
        let inner = SqliteStore::open_in_memory(MasterKey::from_bytes([7; 32]))
            .await
            .unwrap();
        Arc::new(Self {
            inner,
            reads: AtomicUsize::new(0),
            held_read: 0,
            holding: Notify::new(),
            release: Notify::new(),
            failing_usage_writes: AtomicUsize::new(0),
        })
    }

    pub fn holding_read(self: Arc<Self>, n: usize) -> Arc<Self> {
        let mut this = Arc::into_inner(self).unwrap();
        this.held_read = n;
        Arc::new(this)
    }

    /// A gateway state over this store and an empty config file.
    pub async fn state(self: &Arc<Self>) -> Arc<AppState> {
        let settings = Settings {
            require_keys: false,
            admin_token: "admin-token-for-this-test-0123456789".into(),
            config_path: None,
        };
        AppState::new(settings, Default::default(), self.clone())
            .await
            .unwrap()
    }
}

#[async_trait::async_trait]
impl Store for HookedStore {
    async fn list_endpoints(&self) -> Result<EndpointListing, StoreError> {
        let listing = self.inner.list_endpoints().await;
        if self.reads.fetch_add(1, Ordering::SeqCst) + 1 == self.held_read {
            self.holding.notify_one();
            self.release.notified().await;
        }
        listing
    }
    async fn get_endpoint(&self, name: &str) -> Result<Option<EndpointConfig>, StoreError> {
        self.inner.get_endpoint(name).await
    }
    async fn create_endpoint(&self, ep: &EndpointConfig) -> Result<(), StoreError> {
        self.inner.create_endpoint(ep).await
    }
    async fn update_endpoint(&self, ep: &EndpointConfig) -> Result<(), StoreError> {
        self.inner.update_endpoint(ep).await
    }
    async fn update_endpoint_with(
        &self,
        name: &str,
        edit: EndpointEdit,
    ) -> Result<EndpointConfig, StoreError> {
        self.inner.update_endpoint_with(name, edit).await
    }
    async fn delete_endpoint(&self, name: &str) -> Result<bool, StoreError> {
        self.inner.delete_endpoint(name).await
    }
    async fn create_gateway_key(&self, name: &str) -> Result<NewGatewayKey, StoreError> {
        self.inner.create_gateway_key(name).await
    }
    async fn list_gateway_keys(&self) -> Result<Vec<GatewayKey>, StoreError> {
        self.inner.list_gateway_keys().await
    }
    async fn revoke_gateway_key(&self, id: &str) -> Result<bool, StoreError> {
        self.inner.revoke_gateway_key(id).await
    }
    async fn record_usage(&self, batch: &[UsageRecord]) -> Result<(), StoreError> {
        let failing =
            self.failing_usage_writes
                .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1));
        if failing.is_ok() {
            return Err(StoreError::Database("database is locked".into()));
        }
        self.inner.record_usage(batch).await
    }
    async fn usage_summary(&self) -> Result<Vec<UsageSummaryRow>, StoreError> {
        self.inner.usage_summary().await
    }
    async fn recent_usage(&self, limit: u32) -> Result<Vec<UsageRecord>, StoreError> {
        self.inner.recent_usage(limit).await
    }
}
