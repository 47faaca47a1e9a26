#![allow(clippy::unwrap_used)]

use modelgate_config::EndpointConfig;
use modelgate_store::{
    EndpointEdit, EndpointListing, GatewayKey, NewGatewayKey, UnreadableEndpoint, UsageRecord,
    UsageSummaryRow,
};
use serde_json::json;

use super::*;

fn endpoint(name: &str) -> EndpointConfig {
    serde_json::from_value(json!({
        "name": name,
        "spec": "openai-chat-completions",
        "base_url": "http://127.0.0.1:9/v1",
        "api_key": "sk-test-0123456789",
    }))
    .unwrap()
}

/// A store holding one good endpoint and one whose secrets do not open.
struct OneBadRow;

#[async_trait::async_trait]
impl Store for OneBadRow {
    async fn list_endpoints(&self) -> Result<EndpointListing, StoreError> {
        let mut bad = endpoint("tampered");
        bad.api_key = None;
        Ok(EndpointListing {
            endpoints: vec![endpoint("good")],
            unreadable: vec![UnreadableEndpoint {
                name: "tampered".into(),
                config: Some(bad),
                error: StoreError::Crypto("endpoint `tampered`: its secrets do not decrypt".into()),
            }],
        })
    }
    async fn get_endpoint(&self, _: &str) -> Result<Option<EndpointConfig>, StoreError> {
        Ok(None)
    }
    async fn create_endpoint(&self, _: &EndpointConfig) -> Result<(), StoreError> {
        Ok(())
    }
    async fn update_endpoint(&self, _: &EndpointConfig) -> Result<(), StoreError> {
        Ok(())
    }
    async fn update_endpoint_with(
        &self,
        name: &str,
        _: EndpointEdit,
    ) -> Result<EndpointConfig, StoreError> {
        Ok(endpoint(name))
    }
    async fn delete_endpoint(&self, _: &str) -> Result<bool, StoreError> {
        Ok(false)
    }
    async fn create_gateway_key(&self, name: &str) -> Result<NewGatewayKey, StoreError> {
        Err(StoreError::Database(format!("not in this test: {name}")))
    }
    async fn list_gateway_keys(&self) -> Result<Vec<GatewayKey>, StoreError> {
        Ok(Vec::new())
    }
    async fn revoke_gateway_key(&self, _: &str) -> Result<bool, StoreError> {
        Ok(false)
    }
    async fn record_usage(&self, _: &[UsageRecord]) -> Result<(), StoreError> {
        Ok(())
    }
    async fn usage_summary(&self) -> Result<Vec<UsageSummaryRow>, StoreError> {
        Ok(Vec::new())
    }
    async fn recent_usage(&self, _: u32) -> Result<Vec<UsageRecord>, StoreError> {
        Ok(Vec::new())
    }
}

#[tokio::test]
async fn an_unreadable_stored_endpoint_is_unusable_not_fatal() {
    let settings = Settings {
        require_keys: false,
        admin_token: "admin".into(),
        config_path: None,
    };
    let state = AppState::new(settings, ConfigFile::default(), Arc::new(OneBadRow))
        .await
        .expect("the gateway starts");
    let snapshot = state.snapshot.load();
    assert!(snapshot.routes["good"].ready().is_ok());
    let bad = &snapshot.routes["tampered"];
    assert_eq!(bad.source, Source::Store);
    let err = bad.ready().expect_err("unusable");
    assert_eq!(err.code.as_deref(), Some("endpoint_secrets_unreadable"));
    assert!(err.message.contains("do not decrypt"), "{}", err.message);
}
