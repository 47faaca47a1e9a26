#![allow(clippy::unwrap_used)]

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use modelgate_store::{
    EndpointEdit, EndpointListing, MasterKey, NewGatewayKey, SqliteStore, Store, UsageRecord,
    UsageSummaryRow,
};
use tokio::sync::Notify;

use super::*;
use crate::Settings;

/// A real store whose `list_endpoints` (the read every rebuild of the
/// routing snapshot starts with) can be held *after* it has read: that
/// rebuild then carries what was stored at the time, as a slow one would.
struct SlowReads {
    inner: SqliteStore,
    reads: AtomicUsize,
    /// The read with this number waits for `release` after reading.
    held_read: usize,
    holding: Notify,
    release: Notify,
}

#[async_trait::async_trait]
impl Store for SlowReads {
    async fn list_endpoints(&self) -> std::result::Result<EndpointListing, StoreError> {
        let listing = self.inner.list_endpoints().await;
        if self.reads.fetch_add(1, Ordering::SeqCst) + 1 == self.held_read {
            self.holding.notify_one();
            self.release.notified().await;
        }
        listing
    }
    async fn get_endpoint(
        &self,
        name: &str,
    ) -> std::result::Result<Option<EndpointConfig>, StoreError> {
        self.inner.get_endpoint(name).await
    }
    async fn create_endpoint(&self, ep: &EndpointConfig) -> std::result::Result<(), StoreError> {
        self.inner.create_endpoint(ep).await
    }
    async fn update_endpoint(&self, ep: &EndpointConfig) -> std::result::Result<(), StoreError> {
        self.inner.update_endpoint(ep).await
    }
    async fn update_endpoint_with(
        &self,
        name: &str,
        edit: EndpointEdit,
    ) -> std::result::Result<EndpointConfig, StoreError> {
        self.inner.update_endpoint_with(name, edit).await
    }
    async fn delete_endpoint(&self, name: &str) -> std::result::Result<bool, StoreError> {
        self.inner.delete_endpoint(name).await
    }
    async fn create_gateway_key(
        &self,
        name: &str,
    ) -> std::result::Result<NewGatewayKey, StoreError> {
        self.inner.create_gateway_key(name).await
    }
    async fn list_gateway_keys(&self) -> std::result::Result<Vec<GatewayKey>, StoreError> {
        self.inner.list_gateway_keys().await
    }
    async fn revoke_gateway_key(&self, id: &str) -> std::result::Result<bool, StoreError> {
        self.inner.revoke_gateway_key(id).await
    }
    async fn record_usage(&self, batch: &[UsageRecord]) -> std::result::Result<(), StoreError> {
        self.inner.record_usage(batch).await
    }
    async fn usage_summary(&self) -> std::result::Result<Vec<UsageSummaryRow>, StoreError> {
        self.inner.usage_summary().await
    }
    async fn recent_usage(&self, limit: u32) -> std::result::Result<Vec<UsageRecord>, StoreError> {
        self.inner.recent_usage(limit).await
    }
}

fn endpoint_body(name: &str) -> Bytes {
    Bytes::from(
        json!({"name": name, "spec": "openai-chat-completions", "base_url": "http://127.0.0.1:9/v1"})
            .to_string(),
    )
}

/// Change A's rebuild read the store before change B was written and is
/// slow to install its snapshot. Were B's rebuild allowed to run meanwhile,
/// A's older snapshot would be installed last and B's endpoint would be
/// missing from routing though it is in the store.
#[tokio::test(flavor = "multi_thread")]
async fn a_slow_rebuild_never_installs_an_older_snapshot_last() {
    let inner = SqliteStore::open_in_memory(MasterKey::from_bytes([7; 32]))
        .await
        .unwrap();
    let store = Arc::new(SlowReads {
        inner,
        reads: AtomicUsize::new(0),
        // Read 1 is the start-up rebuild; read 2 is change A's.
        held_read: 2,
        holding: Notify::new(),
        release: Notify::new(),
    });
    let settings = Settings {
        require_keys: false,
        admin_token: "admin-token-for-this-test-0123456789".into(),
        config_path: None,
    };
    let state = AppState::new(settings, Default::default(), store.clone())
        .await
        .unwrap();
    let a = tokio::spawn({
        let state = state.clone();
        async move { create(&state, endpoint_body("a")).await.map(|(s, _)| s) }
    });
    store.holding.notified().await;
    let mut b = tokio::spawn({
        let state = state.clone();
        async move { create(&state, endpoint_body("b")).await.map(|(s, _)| s) }
    });
    // B either finishes now (nothing orders the two changes) or waits for A
    // (changes are serialised); waiting a moment tells which, and is never
    // what makes this test pass.
    let b_done_early = tokio::time::timeout(Duration::from_millis(300), &mut b)
        .await
        .ok();
    store.release.notify_one();
    assert_eq!(a.await.unwrap().unwrap(), StatusCode::CREATED);
    let b_status = match b_done_early {
        Some(done) => done.unwrap(),
        None => b.await.unwrap(),
    };
    assert_eq!(b_status.unwrap(), StatusCode::CREATED);
    let routes: Vec<String> = state.snapshot.load().routes.keys().cloned().collect();
    assert_eq!(routes, ["a", "b"]);
}
