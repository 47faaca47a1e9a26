use std::sync::Arc;

use serde_json::json;

use super::migrate::{self, MIGRATIONS};
use super::*;
use crate::suite;
use crate::test_support::TempDir;

fn key(b: u8) -> MasterKey {
    MasterKey::from_bytes([b; 32])
}

async fn memory() -> SqliteStore {
    SqliteStore::open_in_memory(key(1))
        .await
        .expect("in-memory store")
}

async fn on_disk(dir: &TempDir, master: MasterKey) -> Result<SqliteStore, StoreError> {
    SqliteStore::open(&DataDir::open(dir.path()).expect("data dir"), master).await
}

/// Runs each case of the shared suite on a fresh in-memory database (used
/// as a trait object, as the server does) and on a fresh file (WAL, pool).
macro_rules! suite_cases {
    ($($case:ident),* $(,)?) => {$(
        #[tokio::test]
        async fn $case() {
            let store: Arc<dyn Store> = Arc::new(memory().await);
            suite::$case(store.as_ref()).await;
            let dir = TempDir::new(stringify!($case));
            let store = on_disk(&dir, key(1)).await.expect("open");
            suite::$case(&store).await;
            store.close().await;
        }
    )*};
}

suite_cases!(
    endpoint_crud,
    endpoint_round_trip_normalizes_keys,
    endpoints_listed_sorted,
    gateway_keys,
    usage_summary,
);

#[tokio::test]
async fn database_files_hold_no_plaintext_secrets() {
    let dir = TempDir::new("plaintext");
    let store = on_disk(&dir, key(1)).await.expect("open");
    let ep = suite::endpoint(json!({
        "name": "secretive",
        "spec": "openai-chat-completions",
        "base_url": "http://visible-base-url.example/v1",
        "api_keys": ["sk-live-PLAINTEXT-KEY-0001", "sk-live-PLAINTEXT-KEY-0002"],
        "headers": { "authorization": "Bearer HEADER-SECRET-0003" },
    }));
    store.create_endpoint(&ep).await.expect("create");
    let token = store.create_gateway_key("ci").await.expect("key").token;

    let mut bytes = Vec::new();
    for suffix in ["", "-wal"] {
        let path = dir.path().join(format!("modelgate.db{suffix}"));
        bytes.extend(std::fs::read(&path).unwrap_or_default());
    }
    let contains = |needle: &str| bytes.windows(needle.len()).any(|w| w == needle.as_bytes());
    // The search works: non-secret settings are stored in clear.
    assert!(
        contains("visible-base-url.example"),
        "search found nothing at all"
    );
    for secret in [
        "PLAINTEXT-KEY-0001",
        "PLAINTEXT-KEY-0002",
        "HEADER-SECRET-0003",
        &token,
    ] {
        assert!(!contains(secret), "`{secret}` found in the database files");
    }
    // And they are still readable through the store.
    let got = store
        .get_endpoint("secretive")
        .await
        .expect("get")
        .expect("exists");
    assert_eq!(got.api_keys, ep.api_keys);
    assert_eq!(got.headers, ep.headers);
    store.close().await;
}

#[tokio::test]
async fn sealed_secrets_cannot_move_to_another_row() {
    let store = memory().await;
    store
        .create_endpoint(&suite::simple("a", "sk-a-aaaaaaaaaaaa"))
        .await
        .expect("a");
    store
        .create_endpoint(&suite::simple("b", "sk-b-bbbbbbbbbbbb"))
        .await
        .expect("b");
    sqlx::query("UPDATE endpoints SET secrets = (SELECT secrets FROM endpoints WHERE name = 'a') WHERE name = 'b'")
        .execute(&store.pool)
        .await
        .expect("swap");
    let err = store
        .get_endpoint("b")
        .await
        .expect_err("moved secret")
        .to_string();
    assert!(
        err.contains("endpoint `b`") && err.contains("decryption failed"),
        "{err}"
    );
    assert!(!err.contains("sk-a-"), "{err}");
    let a = store
        .get_endpoint("a")
        .await
        .expect("a still fine")
        .expect("exists");
    assert_eq!(a.api_keys, vec!["sk-a-aaaaaaaaaaaa"]);
}

#[tokio::test]
async fn reopening_with_another_master_key_says_so() {
    let dir = TempDir::new("wrongkey");
    let store = on_disk(&dir, key(1)).await.expect("open");
    store
        .create_endpoint(&suite::simple("e", "sk-e-eeeeeeeeeeee"))
        .await
        .expect("create");
    store.close().await;
    let store = on_disk(&dir, key(2)).await.expect("reopen");
    let err = store
        .list_endpoints()
        .await
        .expect_err("wrong key")
        .to_string();
    assert!(
        err.contains(&format!("encrypted with master key {}", key(1).key_id())),
        "{err}"
    );
    assert!(
        err.contains(&format!("current master key is {}", key(2).key_id())),
        "{err}"
    );
    store.close().await;
}

#[tokio::test]
async fn migrations_apply_once_and_survive_reopen() {
    let dir = TempDir::new("migrate");
    let store = on_disk(&dir, key(1)).await.expect("open");
    store
        .create_endpoint(&suite::simple("kept", "sk-k-kkkkkkkkkkkk"))
        .await
        .expect("create");
    store.close().await;
    let store = on_disk(&dir, key(1)).await.expect("reopen");
    assert_eq!(
        migrate::current_version(&store.pool)
            .await
            .expect("version"),
        migrate::latest()
    );
    let applied: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM schema_migrations")
        .fetch_one(&store.pool)
        .await
        .expect("count");
    assert_eq!(applied, i64::try_from(MIGRATIONS.len()).expect("len"));
    assert!(store.get_endpoint("kept").await.expect("get").is_some());
    store.close().await;
}

#[tokio::test]
async fn database_from_a_newer_binary_is_refused() {
    let dir = TempDir::new("newer");
    let store = on_disk(&dir, key(1)).await.expect("open");
    sqlx::query("INSERT INTO schema_migrations (version, applied_at) VALUES (?, 0)")
        .bind(migrate::latest() + 1)
        .execute(&store.pool)
        .await
        .expect("insert");
    store.close().await;
    let err = on_disk(&dir, key(1)).await.expect_err("newer schema");
    assert!(
        matches!(err, StoreError::SchemaTooNew { found, known } if found == known + 1),
        "{err}"
    );
    assert!(
        err.to_string().contains("written by a newer modelgate"),
        "{err}"
    );
}

#[test]
fn migrations_are_ordered_and_unique() {
    assert!(MIGRATIONS.windows(2).all(|w| w[0].0 < w[1].0));
    assert_eq!(MIGRATIONS[0].0, 1);
}
